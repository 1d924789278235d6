/*
 * Unit tests of the oslo.messaging codec (src/oslo/oslo-msg.c):
 *
 *  - every message of the reference captures (tests/unit/data/wire/, the
 *    messages neutron-server and the Python agent exchanged) decodes to
 *    exactly what Python decoded, and every reply to what its caller got;
 *  - the requests we encode are, member for member, the reference
 *    agent's, when given the same ids;
 *  - the reply forms of docs/wire.md §4.4 and failures of §4.5;
 *  - malformed input of every kind is an error, never a crash (including
 *    every truncation and many corruptions of a real message).
 *
 * The data files are read relative to the top of the tree, where the test
 * runner starts unit tests.
 */
#include <config.h>

#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "oslo/oslo-msg.h"
#include "util.h"
#include "test-util.h"

/* Decodes 'body_raw' of 'record' (a publish record of a capture).  Returns
 * the inner message or NULL, with the decoder's error in '*errorp'. */
static struct json *
decode_record(const struct json *record, char **errorp)
{
    const char *raw = json_member_string(record, "body_raw");
    struct json *msg = NULL;
    *errorp = (raw ? oslo_msg_decode(raw, strlen(raw), &msg)
               : xstrdup("no body_raw"));
    return msg;
}

static int
compare_names(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

/* The file names of every capture, sorted. */
static size_t
list_captures(char ***namesp)
{
    DIR *dir = opendir(TEST_CAPTURES);
    char **names = NULL;
    size_t n = 0;
    if (!dir) {
        check(false, "the directory " TEST_CAPTURES " exists");
        *namesp = NULL;
        return 0;
    }
    for (struct dirent *de; (de = readdir(dir)) != NULL; ) {
        size_t len = strlen(de->d_name);
        if (len > 5 && !strcmp(de->d_name + len - 5, ".json")) {
            names = xrealloc(names, (n + 1) * sizeof *names);
            names[n++] = xstrdup(de->d_name);
        }
    }
    closedir(dir);
    if (n) {
        qsort(names, n, sizeof *names, compare_names);
    }
    *namesp = names;
    return n;
}

/* Every captured request and reply decodes as Python decoded it. */
static void
test_captures(void)
{
    char **names;
    size_t n = list_captures(&names);
    checkf(n >= 20, "%"PRIuSIZE" captures found (at least 20)", n);

    for (size_t i = 0; i < n; i++) {
        struct json *cap = capture_load(names[i]);
        if (!cap) {
            free(names[i]);
            continue;
        }
        const struct json *request = json_member(cap, "request");
        const struct json *python = json_member(request, "oslo_message");
        char *error;
        struct json *msg = decode_record(request, &error);
        checkf(!error && msg && json_equal(msg, python),
               "%s: the request decodes as in Python%s%s", names[i],
               error ? ": " : "", error ? error : "");
        free(error);

        struct oslo_request req;
        error = msg ? oslo_msg_parse_request(msg, &req) : xstrdup("none");
        const char *kind = json_member_string(cap, "kind");
        bool is_call = kind && strstr(kind, "call");
        checkf(!error
               && !strcmp(req.method, json_member_string(python, "method"))
               && req.args && req.args->type == JSON_OBJECT
               && (is_call ? req.msg_id && req.reply_q
                           && !strncmp(req.reply_q, "reply_", 6)
                           : !req.msg_id && !req.reply_q)
               && req.unique_id && strlen(req.unique_id) == 32
               && !req.namespace,
               "%s: a %s to %s, without namespace", names[i],
               is_call ? "call" : "cast", error ? "?" : req.method);
        free(error);

        /* The reply of a call: the caller's msg_id, a final message. */
        const struct json *replies = json_member(cap, "replies");
        if (is_call && replies && replies->type == JSON_ARRAY
            && json_array(replies)->n && msg) {
            const struct json *rec
                = json_member(json_array(replies)->elems[0], "publish");
            const struct json *py_reply = json_member(rec, "oslo_message");
            struct json *rmsg = decode_record(rec, &error);
            struct oslo_reply reply;
            char *error2 = rmsg ? oslo_msg_parse_reply(rmsg, &reply) : NULL;
            const struct json *py_result = json_member(py_reply, "result");
            checkf(!error && !error2 && reply.ending && !reply.failure
                   && !strcmp(reply.msg_id, req.msg_id)
                   && (!py_result || py_result->type == JSON_NULL
                       ? !reply.result
                       : json_equal(reply.result, py_result)),
                   "%s: its reply is final, for the same _msg_id, with "
                   "Python's result", names[i]);
            if (!error2 && rmsg) {
                oslo_reply_destroy(&reply);
            }
            free(error);
            free(error2);
            json_destroy(rmsg);
        }
        json_destroy(msg);
        json_destroy(cap);
        free(names[i]);
    }
    free(names);
}

/* The requests of the reference agent, re-encoded from their method,
 * args and ids, are identical to the captured ones: same members, same
 * context, nothing more. */
static void
test_encode_like_reference(void)
{
    static const char *const agent_calls[] = {
        "has_alive_neutron_server.json", "report_state-first-call.json",
        "report_state-periodic.json", "tunnel_sync-compute1.json",
        "bulk_pull-Port-device-details.json", "bulk_pull-Network.json",
        "get_network_details.json", "update_device_list-up.json",
        "update_device_list-down.json", "update_device_down.json",
    };
    for (size_t i = 0; i < ARRAY_SIZE(agent_calls); i++) {
        struct json *cap = capture_load(agent_calls[i]);
        if (!cap) {
            continue;
        }
        const struct json *ref
            = json_member(json_member(cap, "request"), "oslo_message");
        struct oslo_msg_ids ids = {
            .msg_id = json_member_string(ref, "_msg_id"),
            .unique_id = json_member_string(ref, "_unique_id"),
            .request_id = json_member_string(ref, "_context_request_id"),
            .timestamp = json_member_string(ref, "_context_timestamp"),
        };
        struct json *msg = oslo_msg_request(
            json_member_string(ref, "method"), json_member(ref, "args"),
            json_member_string(ref, "version"), NULL,
            json_member_string(ref, "_reply_q"), &ids);
        bool same = json_equal(msg, ref);
        checkf(same, "%s: we encode the reference agent's request",
               agent_calls[i]);
        if (!same) {
            /* Say which member differs. */
            struct shash_node *node;
            SHASH_FOR_EACH (node, json_object(ref)) {
                const struct json *ours = json_member(msg, node->name);
                if (!ours || !json_equal(ours, node->data)) {
                    printf("# member %s differs or is missing\n",
                           node->name);
                }
            }
            SHASH_FOR_EACH (node, json_object(msg)) {
                if (!json_member(ref, node->name)) {
                    printf("# member %s is extra\n", node->name);
                }
            }
        }

        /* Through the envelope and back. */
        char *body = oslo_msg_envelope(msg);
        struct json *back;
        char *error = oslo_msg_decode(body, strlen(body), &back);
        struct json *outer = json_from_string(body);
        checkf(!error && json_equal(back, msg)
               && outer->type == JSON_OBJECT
               && shash_count(json_object(outer)) == 2
               && !strcmp(json_member_string(outer, "oslo.version"), "2.0")
               && json_member_string(outer, "oslo.message"),
               "%s: the envelope has exactly oslo.version 2.0 and the "
               "message as a string", agent_calls[i]);
        free(error);
        json_destroy(back);
        json_destroy(outer);
        free(body);
        json_destroy(msg);
        json_destroy(cap);
    }
}

static void
test_encode(void)
{
    struct json *args = json_from_string("{\"devices\": [\"a\"], "
                                         "\"host\": \"hv1\"}");
    char *body = oslo_msg_encode_request("update_device_list", args, "1.9",
                                         NULL, "abc", "reply_x");
    struct json *msg;
    char *error = oslo_msg_decode(body, strlen(body), &msg);
    struct oslo_request req;
    char *error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
    check(!error && !error2 && !strcmp(req.method, "update_device_list")
          && !strcmp(req.msg_id, "abc") && !strcmp(req.reply_q, "reply_x")
          && !strcmp(req.version, "1.9") && json_equal(req.args, args),
          "a call encodes and decodes back");
    const struct json *t = json_member(msg, "_timeout");
    check(t && t->type == JSON_NULL, "a call has _timeout null");
    const struct json *admin = json_member(msg, "_context_is_admin");
    check(admin && admin->type == JSON_TRUE,
          "requests carry _context_is_admin true");
    check(!json_member(msg, "namespace"), "no namespace key when none");
    const char *ts = json_member_string(msg, "_context_timestamp");
    check(ts && strlen(ts) == 26 && ts[10] == ' ' && ts[19] == '.',
          "the context timestamp is \"YYYY-MM-DD HH:MM:SS.ffffff\"");
    const char *rid = json_member_string(msg, "_context_request_id");
    check(rid && !strncmp(rid, "req-", 4) && strlen(rid) == 40,
          "the request id is \"req-<uuid>\"");
    json_destroy(msg);
    free(body);
    free(error);
    free(error2);

    char *now = oslo_msg_utc_time('T');
    check(strlen(now) == 26 && now[10] == 'T' && now[19] == '.',
          "oslo_msg_utc_time('T') is \"YYYY-MM-DDTHH:MM:SS.ffffff\"");
    free(now);

    body = oslo_msg_encode_request("update_subport_bindings", args, "1.0",
                                   "trunk", NULL, NULL);
    error = oslo_msg_decode(body, strlen(body), &msg);
    error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
    check(!error && !error2 && req.namespace
          && !strcmp(req.namespace, "trunk") && !req.msg_id
          && !json_member(msg, "_reply_q") && !json_member(msg, "_timeout"),
          "a cast with a namespace: namespace, no call members");
    json_destroy(msg);
    free(body);
    free(error);
    free(error2);

    /* Two requests never share ids. */
    struct json *a = oslo_msg_request("m", args, "1.0", NULL, "reply_q",
                                      NULL);
    struct json *b = oslo_msg_request("m", args, "1.0", NULL, "reply_q",
                                      NULL);
    check(strcmp(json_member_string(a, "_msg_id"),
                 json_member_string(b, "_msg_id"))
          && strcmp(json_member_string(a, "_unique_id"),
                    json_member_string(b, "_unique_id"))
          && strlen(json_member_string(a, "_msg_id")) == 32,
          "fresh 32-digit _msg_id and _unique_id per request");
    json_destroy(a);
    json_destroy(b);
    json_destroy(args);

    /* Non-ASCII arguments survive the double encoding. */
    args = json_from_string("{\"name\": \"caf\\u00e9 \\ud83d\\ude00\"}");
    body = oslo_msg_encode_request("m", args, NULL, NULL, NULL, NULL);
    error = oslo_msg_decode(body, strlen(body), &msg);
    error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
    check(!error && !error2
          && !strcmp(json_member_string(req.args, "name"),
                     "caf\xc3\xa9 \xf0\x9f\x98\x80"),
          "non-ASCII and surrogate pairs survive the round trip");
    json_destroy(msg);
    json_destroy(args);
    free(body);
    free(error);
    free(error2);

    /* What Python writes: \u escapes, surrogate pairs, inside the
     * escaped inner string. */
    const char *py = "{\"oslo.version\": \"2.0\", \"oslo.message\": "
        "\"{\\\"method\\\": \\\"m\\\", \\\"args\\\": {\\\"s\\\": "
        "\\\"\\\\u00e9\\\\ud83d\\\\ude00\\\"}}\"}";
    error = oslo_msg_decode(py, strlen(py), &msg);
    error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
    check(!error && !error2
          && !strcmp(json_member_string(req.args, "s"),
                     "\xc3\xa9\xf0\x9f\x98\x80"),
          "Python's \\u escapes and surrogate pairs decode to UTF-8");
    json_destroy(msg);
    free(error);
    free(error2);
}

/* Parses reply 'text' (an inner message). */
static char *
parse_reply_text(const char *text, struct oslo_reply *reply,
                 struct json **msgp)
{
    *msgp = json_from_string(text);
    return oslo_msg_parse_reply(*msgp, reply);
}

static void
test_replies(void)
{
    struct oslo_reply r;
    struct json *msg;
    char *error;

    error = parse_reply_text("{\"result\": true, \"failure\": null, "
                             "\"ending\": true, \"_msg_id\": \"m1\", "
                             "\"_unique_id\": \"u\"}", &r, &msg);
    check(!error && r.ending && !r.failure && r.result
          && r.result->type == JSON_TRUE && !strcmp(r.msg_id, "m1"),
          "single reply: result, final");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"result\": null, \"failure\": null, "
                             "\"ending\": true, \"_msg_id\": \"m\"}",
                             &r, &msg);
    check(!error && r.ending && !r.failure && !r.result,
          "single reply with a null result");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"result\": null, \"failure\": null, "
                             "\"ending\": false, \"_msg_id\": \"m\"}",
                             &r, &msg);
    check(!error && !r.ending && !r.failure && !r.result,
          "call-monitor keep-alive: not final, nothing in it");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"result\": {\"a\": 1}, \"failure\": null, "
                             "\"_msg_id\": \"m\"}", &r, &msg);
    check(!error && !r.ending && r.result && r.result->type == JSON_OBJECT,
          "legacy first part: a result, not final");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"ending\": true, \"_msg_id\": \"m\"}",
                             &r, &msg);
    check(!error && r.ending && !r.result && !r.failure,
          "legacy second part: final, no result");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    /* docs/wire.md §4.5: a ValueError as the server sends it. */
    error = parse_reply_text(
        "{\"result\": null, \"failure\": \"{\\\"class\\\": \\\"ValueError\\\","
        " \\\"module\\\": \\\"builtins\\\", \\\"message\\\": \\\"bad thing\\\","
        " \\\"tb\\\": [\\\"Traceback (most recent call last):\\\\n\\\", "
        "\\\"...\\\"], \\\"args\\\": [\\\"bad thing\\\"], \\\"kwargs\\\": {}}\","
        " \"ending\": true, \"_msg_id\": \"d68c0bc8bd69403d9e1a6dc02defd93f\","
        " \"_unique_id\": \"617fc6f62c5a4c209ab0b30652b2f101\"}", &r, &msg);
    check(!error && r.ending && r.failure && !r.result
          && !strcmp(r.failure, "ValueError: bad thing"),
          "failure reply: \"ValueError: bad thing\"");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"failure\": 5, \"ending\": true, "
                             "\"_msg_id\": \"m\"}", &r, &msg);
    check(!error && r.failure && strstr(r.failure, "RemoteError"),
          "a failure that is not a string is still a failure");
    oslo_reply_destroy(&r);
    json_destroy(msg);

    error = parse_reply_text("{\"result\": 1, \"ending\": true}", &r, &msg);
    check(error != NULL, "a reply without _msg_id is an error");
    free(error);
    json_destroy(msg);

    error = parse_reply_text("{\"_msg_id\": 7, \"ending\": true}", &r, &msg);
    check(error != NULL, "a reply with a non-string _msg_id is an error");
    free(error);
    json_destroy(msg);

    error = oslo_msg_parse_reply(NULL, &r);
    check(error != NULL, "no reply at all is an error");
    free(error);
}

static void
test_failures(void)
{
    static const struct {
        const char *failure;
        const char *want;
    } cases[] = {
        { "{\"class\": \"InvalidInput\", \"module\": "
          "\"neutron_lib.exceptions\", \"message\": \"Invalid input for "
          "operation: bad\\nmore\", \"tb\": [], \"args\": [], "
          "\"kwargs\": {}}",
          "InvalidInput: Invalid input for operation: bad more" },
        { "{\"class\": \"NoSuchMethod\", \"message\": \"Endpoint does not "
          "support RPC method x\"}",
          "NoSuchMethod: Endpoint does not support RPC method x" },
        { "{\"message\": \"no class\"}", "RemoteError: no class" },
        { "{\"class\": \"E\"}", "E: (no message)" },
        { "not json at all", "RemoteError: not json at all" },
        { "{\"class\": 5, \"message\": [1]}", "RemoteError: {\"class\": 5, "
          "\"message\": [1]}" },
        { "line1\nline2\ttab\x01", "RemoteError: line1 line2 tab" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = oslo_msg_describe_failure(cases[i].failure);
        checkf(!strcmp(got, cases[i].want) && !strchr(got, '\n'),
               "failure %"PRIuSIZE" reads \"%s\" (got \"%s\")", i,
               cases[i].want, got);
        free(got);
    }

    struct ds big = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&big, "{\"class\": \"E\", \"message\": \"");
    for (int i = 0; i < 5000; i++) {
        ds_put_cstr(&big, "x\\n");
    }
    ds_put_cstr(&big, "\"}");
    char *got = oslo_msg_describe_failure(ds_cstr(&big));
    check(strlen(got) < 600 && !strchr(got, '\n'),
          "a huge multi-line message is cut to one short line");
    free(got);
    ds_destroy(&big);
}

static void
test_requests(void)
{
    static const struct {
        const char *msg;
        bool ok;
        const char *what;
    } cases[] = {
        { "{\"method\": \"m\", \"args\": {}}", true, "minimal cast" },
        { "{\"args\": {}}", false, "no method" },
        { "{\"method\": 5, \"args\": {}}", false, "method not a string" },
        { "{\"method\": \"\", \"args\": {}}", false, "empty method" },
        { "{\"method\": \"m\"}", false, "no args" },
        { "{\"method\": \"m\", \"args\": 5}", false, "args a number" },
        { "{\"method\": \"m\", \"args\": [1]}", false, "args an array" },
        { "{\"method\": \"m\", \"args\": {}, \"_msg_id\": \"x\"}", false,
          "a call without _reply_q" },
        { "{\"method\": \"m\", \"args\": {}, \"version\": 1}", true,
          "a non-string version is ignored" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct json *msg = json_from_string(cases[i].msg);
        struct oslo_request req;
        char *error = oslo_msg_parse_request(msg, &req);
        checkf(!error == cases[i].ok, "request: %s %s", cases[i].what,
               cases[i].ok ? "parses" : "is an error");
        free(error);
        json_destroy(msg);
    }
    struct oslo_request req;
    char *error = oslo_msg_parse_request(NULL, &req);
    check(error != NULL, "request: no message is an error");
    free(error);
}

static void
test_malformed(void)
{
    static const char *const bad[] = {
        "", " ", "not json", "[1,2]", "\"str\"", "5", "null", "{",
        "{\"a\": }", "{\"a\": 1} trailing",
        "{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": \"2.1\", \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": \"2.x\", \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": 2.0, \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": {}}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": null}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{bad\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"\\\"s\\\"\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"a\\\": "
        "\\\"\\\\ud800\\\"}\"}",
        "{\"a\": \"\\u0000\"}",
        "{\"a\": \"\\ud83d\"}",
        "{\"a\": NaN}",
    };
    bool all = true;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct json *msg;
        char *error = oslo_msg_decode(bad[i], strlen(bad[i]), &msg);
        if (!error || msg) {
            printf("# accepted: %s\n", bad[i]);
            all = false;
        }
        free(error);
        json_destroy(msg);
    }
    check(all, "malformed bodies are errors, with no message returned");

    struct json *msg;
    char *error = oslo_msg_decode("{\"a\":\0 1}", 9, &msg);
    check(error && !msg, "a NUL byte in the body is an error");
    free(error);

    static const char *const good_versions[] = { "2.0", "2", "2.0.0" };
    bool ok = true;
    for (size_t i = 0; i < ARRAY_SIZE(good_versions); i++) {
        char *body = xasprintf("{\"oslo.version\": \"%s\", \"oslo.message\":"
                               " \"{}\"}", good_versions[i]);
        error = oslo_msg_decode(body, strlen(body), &msg);
        ok &= !error && msg;
        free(error);
        json_destroy(msg);
        free(body);
    }
    check(ok, "envelope versions 2, 2.0 and 2.0.0 are accepted");

    /* The pre-envelope form is accepted, as oslo does. */
    const char *bare = "{\"method\": \"port_delete\", \"args\": {}}";
    error = oslo_msg_decode(bare, strlen(bare), &msg);
    struct oslo_request req;
    char *error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
    check(!error && !error2 && !strcmp(req.method, "port_delete"),
          "a bare message (no envelope) decodes");
    json_destroy(msg);
    free(error);
    free(error2);

    const char *half = "{\"oslo.version\": \"2.0\", \"method\": \"m\", "
                       "\"args\": {}}";
    error = oslo_msg_decode(half, strlen(half), &msg);
    check(!error && msg && json_member_string(msg, "method"),
          "an object with only one envelope key is a bare message");
    json_destroy(msg);
    free(error);

    /* Deep nesting is refused by the parser, not by the stack. */
    struct ds deep = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&deep, "{\"a\": ");
    for (int i = 0; i < 100000; i++) {
        ds_put_char(&deep, '[');
    }
    error = oslo_msg_decode(deep.string, deep.length, &msg);
    check(error && !msg, "100000 nested arrays are an error");
    free(error);
    ds_destroy(&deep);
}

/* Every prefix, and many corruptions, of a real body: errors or messages,
 * never a crash (AddressSanitizer builds check the "never"). */
static void
test_fuzz(void)
{
    struct json *cap = capture_load("report_state-first-call.json");
    if (!cap) {
        return;
    }
    const char *raw = json_member_string(json_member(cap, "request"),
                                         "body_raw");
    size_t len = strlen(raw);
    size_t n_ok = 0, n_err = 0;

    for (size_t i = 0; i <= len; i++) {
        struct json *msg;
        char *error = oslo_msg_decode(raw, i, &msg);
        if (error) {
            n_err++;
        } else {
            struct oslo_request req;
            free(oslo_msg_parse_request(msg, &req));
            n_ok++;
        }
        free(error);
        json_destroy(msg);
    }
    checkf(n_ok == 1 && n_err == len,
           "every truncation of a body is an error, the whole one is not "
           "(%"PRIuSIZE" ok, %"PRIuSIZE" errors)", n_ok, n_err);

    static const char subst[] = "\"\\{}[],:0 \x80\xff\nu";
    char *copy = xstrdup(raw);
    uint32_t seed = 12345;
    n_ok = n_err = 0;
    for (int i = 0; i < 20000; i++) {
        strcpy(copy, raw);
        for (int j = 0; j < 1 + i % 4; j++) {
            seed = seed * 1103515245 + 12345;
            size_t pos = (seed >> 8) % len;
            seed = seed * 1103515245 + 12345;
            copy[pos] = subst[(seed >> 8) % (sizeof subst - 1)];
        }
        struct json *msg;
        char *error = oslo_msg_decode(copy, len, &msg);
        if (error) {
            n_err++;
        } else {
            struct oslo_request req;
            struct oslo_reply reply;
            free(oslo_msg_parse_request(msg, &req));
            char *e = oslo_msg_parse_reply(msg, &reply);
            if (!e) {
                oslo_reply_destroy(&reply);
            }
            free(e);
            n_ok++;
        }
        free(error);
        json_destroy(msg);
    }
    checkf(n_ok + n_err == 20000, "20000 corrupted bodies handled "
           "(%"PRIuSIZE" decoded, %"PRIuSIZE" errors)", n_ok, n_err);
    free(copy);
    json_destroy(cap);
}

/* True if 's' holds only printable ASCII. */
static bool
printable(const char *s)
{
    for (; *s; s++) {
        if ((unsigned char) *s < 0x20 || (unsigned char) *s >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* The JSON parser quotes the byte after a backslash in its "bad escape"
 * message, raw: a peer could put a newline (a forged log line) or an
 * escape sequence into the agent's log through the decoder's error, which
 * the caller logs.  The error now carries it escaped. */
static void
test_error_escaped(void)
{
    static const char *const bodies[] = {
        /* "\\" then ESC, a newline, DEL, and a byte of UTF-8, inside the
         * inner message's quoted string. */
        "{\"oslo.version\": \"2.0\", "
        "\"oslo.message\": \"{\\\"a\\\": \\\"\\\\\\u001b[31m\\\"}\"}",
        "{\"oslo.version\": \"2.0\", "
        "\"oslo.message\": \"{\\\"a\\\": \\\"\\\\\\nERR|forged\\\"}\"}",
        "{\"oslo.version\": \"2.0\", "
        "\"oslo.message\": \"{\\\"a\\\": \\\"\\\\\\u007f\\\"}\"}",
        "{\"oslo.version\": \"2.0\", "
        "\"oslo.message\": \"{\\\"a\\\": \\\"\\\\\\u009b\\\"}\"}",
        /* The same in the outer body. */
        "{\"a\": \"\\\x1b[31m\"}",
        "{\"oslo.version\": \"\\u001b[2J\", \"oslo.message\": \"{}\"}",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bodies); i++) {
        struct json *msg;
        char *error = oslo_msg_decode(bodies[i], strlen(bodies[i]), &msg);
        checkf(!msg && error && printable(error),
               "body %"PRIuSIZE": an error in printable ASCII (%s)", i + 1,
               error ? error : "none");
        free(error);
        json_destroy(msg);
    }
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_error_escaped();
    test_captures();
    test_encode_like_reference();
    test_encode();
    test_replies();
    test_failures();
    test_requests();
    test_malformed();
    test_fuzz();
    return test_summary();
}
