/*
 * test-util: the few helpers the unit test programs share.  Each program
 * prints "ok - ..." / "not ok - ..." per check and ends with the line
 * "N passed, M failed" that the test runner reads.  The reference's
 * captured messages (tests/unit/data/wire/) are read through the capture_*
 * functions below.
 */
#ifndef OVSAGENT_TEST_UTIL_H
#define OVSAGENT_TEST_UTIL_H 1

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "json-util.h"
#include "openvswitch/json.h"
#include "util.h"

static int test_n_passed, test_n_failed;

static inline void
check(bool ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    if (ok) {
        test_n_passed++;
    } else {
        test_n_failed++;
    }
}

/* check() with a printf-style description. */
static inline void __attribute__((format(printf, 2, 3)))
checkf(bool ok, const char *format, ...)
{
    char what[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    check(ok, what);
}

/* Prints the summary line; returns the program's exit status. */
static inline int
test_summary(void)
{
    printf("%d passed, %d failed\n", test_n_passed, test_n_failed);
    return test_n_failed ? 1 : 0;
}

/* The captures: one JSON file per message exchange between the reference
 * agent and neutron-server, an object whose "request" is the publish
 * record of the request and whose "replies" array holds those of its
 * replies ({"publish": record}); a record's "body" holds the oslo.messaging
 * envelope.  Read relative to the top of the tree, where the test runner
 * starts unit tests. */
#define TEST_CAPTURES "tests/unit/data/wire/"

/* Capture 'name' (a file name in TEST_CAPTURES), or NULL, and a failed
 * check, if it cannot be read as a JSON object.  The caller frees it with
 * json_destroy(). */
static inline struct json *
capture_load(const char *name)
{
    char *path = xasprintf(TEST_CAPTURES "%s", name);
    struct json *j = json_from_file(path);
    free(path);
    if (j->type != JSON_OBJECT) {
        checkf(false, "%s: readable capture (%s)", name,
               j->type == JSON_STRING ? json_string(j) : "not an object");
        json_destroy(j);
        return NULL;
    }
    return j;
}

/* The inner oslo.messaging message of capture 'name': its request's, or
 * with 'reply' its first reply's.  JSON null if the capture has no such
 * message (and a failed check if it cannot be read).  The caller frees it
 * with json_destroy(). */
static inline struct json *
capture_message(const char *name, bool reply)
{
    struct json *cap = capture_load(name);
    const struct json *replies = json_member(cap, "replies");
    const struct json *pub = reply
        ? (replies && replies->type == JSON_ARRAY && json_array(replies)->n
           ? json_member(json_array(replies)->elems[0], "publish") : NULL)
        : json_member(cap, "request");
    const char *inner = json_member_string(json_member(pub, "body"),
                                           "oslo.message");
    struct json *msg = inner ? json_from_string(inner) : json_null_create();
    json_destroy(cap);
    return msg;
}

/* The "result" of the first reply of capture 'name' (a bulk_pull's
 * objects, say), or an empty array if it has none.  The caller frees it
 * with json_destroy(). */
static inline struct json *
capture_result(const char *name)
{
    struct json *msg = capture_message(name, true);
    struct json *result = json_nullable_clone(json_member(msg, "result"));
    json_destroy(msg);
    return result ? result : json_array_create_empty();
}

/* The agent's configuration from the INI text 'ini', through a temporary
 * file as the agent reads its own; aborts if the text is invalid. */
static inline struct agent_config *
test_config_from_string(const char *ini)
{
    const char *dir = getenv("TMPDIR");
    char *name = xasprintf("%s/ovsagent-test.XXXXXX",
                           dir && dir[0] ? dir : "/tmp");
    int fd = mkstemp(name);
    if (fd < 0) {
        ovs_fatal(errno, "%s: cannot create", name);
    }
    size_t len = strlen(ini);
    if (write(fd, ini, len) != (ssize_t) len) {
        ovs_fatal(errno, "%s: cannot write", name);
    }
    close(fd);

    const char *files[] = { name };
    struct agent_config *cfg;
    char *error = agent_config_from_files(CONFIG_PROG_AGENT, files, 1, false,
                                          &cfg);
    unlink(name);
    free(name);
    if (error) {
        ovs_fatal(0, "the test's own configuration is invalid: %s", error);
    }
    return cfg;
}

#endif /* test-util.h */
