/*
 * fuzz-common: what the libFuzzer targets (tests/fuzz/fuzz-*.c) share.
 *
 * Every target calls fuzz_init() first and fuzz_check_log() last in its
 * LLVMFuzzerTestOneInput(), and feeds the input to the project's own
 * decoders in between.  The log check is what makes every target enforce
 * that nothing a peer sends reaches a log line raw: all vlog modules log at
 * debug level, without rate limits, into a capture file, and after each
 * input every line written must start with vlog's prefix (a newline from a
 * peer starts a line without it) and hold no byte below 0x20 nor 0x7f.
 *
 * Known findings that are being fixed elsewhere may be exempted from the
 * log check by vlog module, with the environment variable
 * FUZZ_LOG_UNCHECKED="module1,module2" (scripts/fuzz sets it from its own
 * list).
 */
#ifndef OVSAGENT_FUZZ_COMMON_H
#define OVSAGENT_FUZZ_COMMON_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct json;

/* The entry point libFuzzer calls, defined by each target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sets up logging and the log check, once per process; later calls do
 * nothing. */
void fuzz_init(void);

/* Checks and empties what the input logged; abort()s, after printing the
 * offending line escaped, on a line with a raw byte. */
void fuzz_check_log(void);

/* Parses 'data' as a sequence of up to 'max' JSON objects or arrays,
 * separated by optional white space, up to the first one that does not
 * parse.  Stores a malloc'd array of them in '*docsp' (free it with
 * fuzz_json_docs_free()) and returns how many there are. */
size_t fuzz_json_docs(const uint8_t *data, size_t size, size_t max,
                      struct json ***docsp);
void fuzz_json_docs_free(struct json **docs, size_t n);

/* What one document of such an input stands for, as the oslo inner
 * message it is written as: a resource push ({"method": "push", "args":
 * {"resource_list": [...], "event_type": "updated"}}), the reply to a
 * call ({"result": ..., ...}), or anything else.  For a push, '*listp' is
 * its resource_list and '*deletedp' whether event_type is "deleted"; for a
 * reply, '*listp' is its result (not necessarily an array). */
enum fuzz_doc_kind {
    FUZZ_DOC_PUSH,
    FUZZ_DOC_RESULT,
    FUZZ_DOC_OTHER,
};
enum fuzz_doc_kind fuzz_doc_classify(const struct json *doc,
                                     const struct json **listp,
                                     bool *deletedp);

/* The "versioned_object.data" of 'primitive' whatever its type, and its
 * type; NULL if it has none. */
const struct json *fuzz_ovo_data(const struct json *primitive,
                                 const char **typep);

/* Whether 's' is, to OVS's own parsers, a MAC address, an IPv4 or IPv6
 * address, or either with an optional "/N" prefix length.  Decoders must
 * hand on only such values where flows are formatted from them: anything
 * else could change the flow it is written into (a MAC
 * "fa:16:3e:00:00:01,table=0" moves a flow to another table, an address
 * with a mask widens a match). */
bool fuzz_is_mac(const char *s);
bool fuzz_is_ip(const char *s);
bool fuzz_is_cidr(const char *s);

/* Aborts if 's' is NULL; reads each of its bytes otherwise, for ASan. */
void fuzz_check_string(const char *s);

/* Splits 'data' at each occurrence of the line 'sep' (e.g. "----", which
 * must then stand alone on its line) into at most 'max' parts, stored as
 * malloc'd null-terminated strings in 'parts'.  Returns the number of
 * parts.  The caller frees each part. */
size_t fuzz_split(const uint8_t *data, size_t size, const char *sep,
                  char **parts, size_t max);

/* Writes 'size' bytes of 'data' to a fresh temporary file (unlinked by
 * fuzz_tmpfile_remove()) and returns its malloc'd name. */
char *fuzz_tmpfile(const void *data, size_t size);
void fuzz_tmpfile_remove(char *name);

/* Returns the configuration that 'ini' (oslo.config INI text) gives, read
 * through agent-config as a config file would be, without looking at this
 * host.  Aborts if it is invalid: the targets' own configurations must
 * be.  The caller frees it with agent_config_destroy(). */
struct agent_config *fuzz_config(const char *ini);

#endif /* fuzz-common.h */
