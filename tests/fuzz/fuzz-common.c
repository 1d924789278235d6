/*
 * fuzz-common: see fuzz-common.h.
 */
#include <config.h>
#include "fuzz-common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
#include "json-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "packets.h"
#include "random.h"
#include "sset.h"
#include "util.h"

/* The sanitizers' defaults for every target, so that a reproduction is
 * just "build/fuzz/fuzz-NAME FILE".  UBSan reports and goes on unless told
 * to halt; a fuzzer must stop at the first report for the input to be
 * saved as a finding.  (Being recoverable, its checks can still be
 * suppressed one by one through UBSAN_OPTIONS=suppressions=FILE.) */
const char *__ubsan_default_options(void);
const char *
__ubsan_default_options(void)
{
    return "halt_on_error=1:print_stacktrace=1:report_error_type=1";
}

/* The log capture. */
static int log_fd = -1;         /* Reads and truncates the capture file. */
static char log_prefix[32];     /* What vlog writes first on every line. */
static size_t log_prefix_len;
static struct sset unchecked = SSET_INITIALIZER(&unchecked);
static char *log_buf;
static size_t log_buf_size;

static const char *
tmp_dir(void)
{
    const char *dir = getenv("TMPDIR");
    return dir && dir[0] ? dir : "/tmp";
}

/* Every module logs at debug level, as it would with "debug = True" and
 * more: rate limits are off too, so that a line a peer's input reaches
 * is written every time and not only when its rate limit allows. */
static void
log_everything(void)
{
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_OFF);
    vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    vlog_set_levels(NULL, VLF_FILE, VLL_DBG);

    /* vlog has no call that lists its modules; its level table names
     * them, one a line after two header lines. */
    char *levels = vlog_get_levels();
    char *save = NULL;
    int line = 0;
    for (char *s = strtok_r(levels, "\n", &save); s;
         s = strtok_r(NULL, "\n", &save)) {
        char name[64];
        if (line++ >= 2 && sscanf(s, "%63s", name) == 1) {
            struct vlog_module *module = vlog_module_from_name(name);
            if (module) {
                module->honor_rate_limits = false;
            }
        }
    }
    free(levels);
}

void
fuzz_init(void)
{
    static bool inited;
    if (inited) {
        return;
    }
    inited = true;
    set_program_name("ovsagent-fuzz");

    /* A prefix a peer cannot guess, so that it cannot forge the start of
     * a line after a newline it got into the log. */
    random_init();
    snprintf(log_prefix, sizeof log_prefix, "fz%08x|", random_uint32());
    log_prefix_len = strlen(log_prefix);
    char *pattern = xasprintf("%s%%c|%%p|%%m", log_prefix);
    vlog_set_pattern(VLF_FILE, pattern);
    free(pattern);
    vlog_set_levels(NULL, VLF_CONSOLE, VLL_OFF);

    char *name = xasprintf("%s/ovsagent-fuzz-log.XXXXXX", tmp_dir());
    int fd = mkstemp(name);
    if (fd < 0) {
        ovs_fatal(errno, "%s: cannot create the log capture", name);
    }
    log_fd = fd;
    int error = vlog_set_log_file(name);
    if (error) {
        ovs_fatal(error, "%s: vlog cannot log there", name);
    }
    unlink(name);
    free(name);
    log_everything();

    const char *list = getenv("FUZZ_LOG_UNCHECKED");
    if (list) {
        char *copy = xstrdup(list);
        char *save = NULL;
        for (char *m = strtok_r(copy, ", \t", &save); m;
             m = strtok_r(NULL, ", \t", &save)) {
            sset_add(&unchecked, m);
        }
        free(copy);
    }
    fuzz_check_log();
}

static void OVS_NO_RETURN
log_fail(const char *line, size_t len, const char *why)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = line[i];
        if (c < 0x20 || c >= 0x7f || c == '\\') {
            ds_put_format(&s, "\\x%02x", c);
        } else {
            ds_put_char(&s, c);
        }
    }
    fprintf(stderr, "\nfuzz: log check: a logged line %s: a peer's bytes "
            "reach the log unescaped.\nfuzz: the line, escaped here: %s\n",
            why, ds_cstr(&s));
    ds_destroy(&s);
    abort();
}

void
fuzz_check_log(void)
{
    struct stat st;
    if (fstat(log_fd, &st) || !st.st_size) {
        return;
    }
    size_t size = st.st_size;
    if (size > log_buf_size) {
        log_buf_size = size;
        log_buf = xrealloc(log_buf, log_buf_size);
    }
    size_t n = 0;
    while (n < size) {
        ssize_t r = pread(log_fd, log_buf + n, size - n, n);
        if (r <= 0) {
            break;
        }
        n += r;
    }

    /* Whether the line being checked belongs to an exempt module: a line
     * without the prefix continues the one before it. */
    bool exempt = false;
    const char *p = log_buf, *end = log_buf + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        size_t len = nl ? nl - p : end - p;
        if (len >= log_prefix_len && !memcmp(p, log_prefix, log_prefix_len)) {
            const char *module = p + log_prefix_len;
            const char *bar = memchr(module, '|', len - log_prefix_len);
            char *name = xmemdup0(module, bar ? bar - module : 0);
            exempt = sset_contains(&unchecked, name);
            free(name);
        } else if (!exempt) {
            log_fail(p, len, "does not start with vlog's prefix (a raw "
                     "newline?)");
        }
        for (size_t i = 0; !exempt && i < len; i++) {
            unsigned char c = p[i];
            if (c < 0x20 || c == 0x7f) {
                char why[64];
                snprintf(why, sizeof why, "holds the raw byte 0x%02x", c);
                log_fail(p, len, why);
            }
        }
        p += len + 1;
    }
    if (ftruncate(log_fd, 0)) {
        ovs_fatal(errno, "cannot empty the log capture");
    }
}

size_t
fuzz_json_docs(const uint8_t *data, size_t size, size_t max,
               struct json ***docsp)
{
    const char *p = (const char *) data;
    struct json **docs = xcalloc(max + 1, sizeof *docs);
    size_t n = 0;
    while (n < max) {
        while (size && isspace((unsigned char) *p)) {
            p++;
            size--;
        }
        if (!size) {
            break;
        }
        struct json_parser *parser = json_parser_create(0);
        size_t used = json_parser_feed(parser, p, size);
        struct json *doc = json_parser_finish(parser);
        if (doc->type == JSON_STRING) {
            /* The parser's error. */
            json_destroy(doc);
            break;
        }
        docs[n++] = doc;
        p += used;
        size -= used;
    }
    *docsp = docs;
    return n;
}

void
fuzz_json_docs_free(struct json **docs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        json_destroy(docs[i]);
    }
    free(docs);
}

enum fuzz_doc_kind
fuzz_doc_classify(const struct json *doc, const struct json **listp,
                  bool *deletedp)
{
    *listp = NULL;
    *deletedp = false;
    const char *method = json_member_string(doc, "method");
    if (method && !strcmp(method, "push")) {
        const struct json *args = json_member(doc, "args");
        const char *event = json_member_string(args, "event_type");
        *listp = json_member(args, "resource_list");
        *deletedp = event && !strcmp(event, "deleted");
        return FUZZ_DOC_PUSH;
    }
    const struct json *result = json_member(doc, "result");
    if (result) {
        *listp = result;
        return FUZZ_DOC_RESULT;
    }
    return FUZZ_DOC_OTHER;
}

const struct json *
fuzz_ovo_data(const struct json *primitive, const char **typep)
{
    *typep = json_member_string(primitive, "versioned_object.name");
    return json_member(primitive, "versioned_object.data");
}

bool
fuzz_is_mac(const char *s)
{
    struct eth_addr ea;
    return eth_addr_from_string(s, &ea);
}

bool
fuzz_is_ip(const char *s)
{
    ovs_be32 ip;
    struct in6_addr ip6;
    return ip_parse(s, &ip) || ipv6_parse(s, &ip6);
}

bool
fuzz_is_cidr(const char *s)
{
    ovs_be32 ip;
    struct in6_addr ip6;
    unsigned int plen;
    char *error = ip_parse_cidr(s, &ip, &plen);
    if (error) {
        free(error);
        error = ipv6_parse_cidr(s, &ip6, &plen);
    }
    free(error);
    return !error;
}

void
fuzz_check_string(const char *s)
{
    if (!s) {
        abort();
    }
    free(xstrdup(s));
}

size_t
fuzz_split(const uint8_t *data, size_t size, const char *sep, char **parts,
           size_t max)
{
    size_t sep_len = strlen(sep);
    const char *p = (const char *) data, *end = p + size;
    const char *start = p;
    size_t n = 0;
    while (p < end && n + 1 < max) {
        const char *nl = memchr(p, '\n', end - p);
        const char *line_end = nl ? nl : end;
        if (line_end - p == sep_len && !memcmp(p, sep, sep_len)) {
            parts[n++] = xmemdup0(start, p - start);
            start = nl ? nl + 1 : end;
        }
        p = nl ? nl + 1 : end;
    }
    parts[n++] = xmemdup0(start, end - start);
    return n;
}

char *
fuzz_tmpfile(const void *data, size_t size)
{
    char *name = xasprintf("%s/ovsagent-fuzz.XXXXXX", tmp_dir());
    int fd = mkstemp(name);
    if (fd < 0) {
        ovs_fatal(errno, "%s: cannot create", name);
    }
    const char *p = data;
    while (size) {
        ssize_t r = write(fd, p, size);
        if (r <= 0) {
            ovs_fatal(errno, "%s: cannot write", name);
        }
        p += r;
        size -= r;
    }
    close(fd);
    return name;
}

void
fuzz_tmpfile_remove(char *name)
{
    if (name) {
        unlink(name);
        free(name);
    }
}

struct agent_config *
fuzz_config(const char *ini)
{
    char *file = fuzz_tmpfile(ini, strlen(ini));
    const char *files[] = { file };
    struct agent_config *cfg;
    char *error = agent_config_from_files(CONFIG_PROG_AGENT, files, 1,
                                          false, &cfg);
    fuzz_tmpfile_remove(file);
    if (error) {
        ovs_fatal(0, "a fuzz target's own configuration is invalid: %s",
                  error);
    }
    return cfg;
}
