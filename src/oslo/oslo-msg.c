/*
 * oslo-msg: oslo.messaging envelope and messages.  See oslo-msg.h.
 *
 * What the Python peers send and expect is described field by field in
 * docs/wire.md §4; the comments below name the subsection each rule comes
 * from.  JSON goes only through the OVS JSON API, and every member read
 * from a peer's message is type-checked before use.
 */
#include <config.h>
#include "oslo/oslo-msg.h"

#include <ctype.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "json-util.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(oslo_msg);

/* The longest failure description we produce: the Python traceback is not
 * part of it, but a message can still be long. */
#define FAILURE_MAX_LEN 512

char *
oslo_msg_new_id(void)
{
    struct uuid uuid;
    uuid_generate(&uuid);
    char *s = xasprintf(UUID_FMT, UUID_ARGS(&uuid));
    /* oslo uses uuid4().hex: the same digits without the dashes. */
    char *d = s;
    for (const char *p = s; *p; p++) {
        if (*p != '-') {
            *d++ = *p;
        }
    }
    *d = '\0';
    return s;
}

char *
oslo_msg_utc_time(char sep)
{
    struct timeval tv;
    struct tm tm;
    char date[16], time[16];

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    strftime(time, sizeof time, "%H:%M:%S", &tm);
    return xasprintf("%s%c%s.%06ld", date, sep, time, (long) tv.tv_usec);
}

/* Adds the request context of the reference agent, an admin context
 * without a user (docs/wire.md §4.3), as the flattened "_context_*"
 * members.  Only is_admin matters to the server; the rest is there so
 * that the server logs and traces our requests as it does the
 * reference's. */
static void
add_context(struct json *msg, const struct oslo_msg_ids *ids)
{
    static const char *const null_keys[] = {
        "user", "user_id", "project", "project_id", "tenant_id",
        "tenant_name", "project_name", "user_name", "domain", "user_domain",
        "project_domain", "system_scope", "resource_uuid", "auth_token",
        "global_request_id",
    };
    for (size_t i = 0; i < ARRAY_SIZE(null_keys); i++) {
        json_object_put_nocopy(msg, xasprintf("_context_%s", null_keys[i]),
                               json_null_create());
    }
    json_object_put(msg, "_context_is_admin", json_boolean_create(true));
    json_object_put(msg, "_context_is_admin_project",
                    json_boolean_create(true));
    json_object_put(msg, "_context_read_only", json_boolean_create(false));
    json_object_put(msg, "_context_show_deleted",
                    json_boolean_create(false));
    /* Zed's admin context has no roles; 2023.1 servers accept that too. */
    json_object_put(msg, "_context_roles", json_array_create_empty());
    json_object_put_string(msg, "_context_user_identity", "- - - - -");

    if (ids && ids->request_id) {
        json_object_put_string(msg, "_context_request_id", ids->request_id);
    } else {
        struct uuid uuid;
        uuid_generate(&uuid);
        json_object_put_nocopy(msg, xstrdup("_context_request_id"),
                               json_string_create_nocopy(xasprintf(
                                   "req-"UUID_FMT, UUID_ARGS(&uuid))));
    }
    json_object_put(msg, "_context_timestamp",
                    (ids && ids->timestamp
                     ? json_string_create(ids->timestamp)
                     : json_string_create_nocopy(oslo_msg_utc_time(' '))));
}

struct json *
oslo_msg_request(const char *method, const struct json *args,
                 const char *version, const char *namespace,
                 const char *reply_q, const struct oslo_msg_ids *ids)
{
    struct json *msg = json_object_create();

    json_object_put_string(msg, "method", method);
    json_object_put(msg, "args",
                    args ? json_deep_clone(args) : json_object_create());
    if (version) {
        json_object_put_string(msg, "version", version);
    }
    /* docs/wire.md §4.2: the key is sent only for a non-null namespace. */
    if (namespace) {
        json_object_put_string(msg, "namespace", namespace);
    }
    if (reply_q) {
        json_object_put(msg, "_msg_id",
                        (ids && ids->msg_id
                         ? json_string_create(ids->msg_id)
                         : json_string_create_nocopy(oslo_msg_new_id())));
        json_object_put_string(msg, "_reply_q", reply_q);
        /* No call monitor, as neutron's clients: the server then sends
         * exactly one reply. */
        json_object_put(msg, "_timeout", json_null_create());
    }
    json_object_put(msg, "_unique_id",
                    (ids && ids->unique_id
                     ? json_string_create(ids->unique_id)
                     : json_string_create_nocopy(oslo_msg_new_id())));
    add_context(msg, ids);
    return msg;
}

char *
oslo_msg_envelope(const struct json *msg)
{
    struct json *envelope = json_object_create();
    json_object_put_string(envelope, "oslo.version", "2.0");
    json_object_put(envelope, "oslo.message",
                    json_string_create_nocopy(json_to_string(msg, 0)));
    char *body = json_to_string(envelope, 0);
    json_destroy(envelope);
    return body;
}

char *
oslo_msg_encode_request(const char *method, const struct json *args,
                        const char *version, const char *namespace,
                        const char *msg_id, const char *reply_q)
{
    struct oslo_msg_ids ids = { .msg_id = msg_id };
    struct json *msg = oslo_msg_request(method, args, version, namespace,
                                        msg_id ? reply_q : NULL, &ids);
    char *body = oslo_msg_envelope(msg);
    json_destroy(msg);
    return body;
}

/* Parses 'size' bytes of 'text' (not necessarily null-terminated), which
 * must hold one JSON object.  Returns the object, or NULL with a malloc'd
 * error in '*errorp' that begins with 'what'. */
static struct json *
parse_object(const char *text, size_t size, const char *what, char **errorp)
{
    *errorp = NULL;
    if (memchr(text, '\0', size)) {
        *errorp = xasprintf("%s contains a NUL byte", what);
        return NULL;
    }

    /* json_from_string() returns a parse error as a JSON string, which
     * cannot be told apart from a body that is a string: insisting on an
     * object from the first character on removes the ambiguity. */
    size_t i = 0;
    while (i < size && isspace((unsigned char) text[i])) {
        i++;
    }
    if (i >= size || text[i] != '{') {
        *errorp = xasprintf("%s is not a JSON object", what);
        return NULL;
    }

    char *copy = xmemdup0(text, size);
    struct json *json = json_from_string(copy);
    free(copy);
    if (json->type == JSON_STRING) {
        /* The parser's message quotes the peer's bytes. */
        *errorp = xasprintf("%s is not valid JSON (%s)", what,
                            log_safe(json_string(json)));
        json_destroy(json);
        return NULL;
    } else if (json->type != JSON_OBJECT) {
        *errorp = xasprintf("%s is not a JSON object", what);
        json_destroy(json);
        return NULL;
    }
    return json;
}

/* Returns true if 'version' is an envelope version this side reads:
 * oslo's version_is_compatible("2.0", version), that is major 2 and minor
 * (and revision) 0. */
static bool
envelope_version_ok(const char *version)
{
    char *end;
    long major = strtol(version, &end, 10);
    if (end == version || major != 2) {
        return false;
    }
    while (*end == '.') {
        const char *start = end + 1;
        long part = strtol(start, &end, 10);
        if (end == start || part != 0) {
            return false;
        }
    }
    return *end == '\0';
}

char *
oslo_msg_decode(const void *body, size_t size, struct json **msgp)
{
    char *error;

    *msgp = NULL;
    struct json *outer = parse_object(body, size, "message body", &error);
    if (!outer) {
        return error;
    }

    /* docs/wire.md §4.1: without both envelope keys, the object itself is the
     * message (the pre-envelope form, which oslo still accepts). */
    const struct json *version = json_member(outer, "oslo.version");
    const struct json *inner = json_member(outer, "oslo.message");
    if (!version || !inner) {
        *msgp = outer;
        return NULL;
    }

    if (version->type != JSON_STRING
        || !envelope_version_ok(json_string(version))) {
        char *v = json_to_string(version, 0);
        error = xasprintf("unsupported oslo.version %.32s", log_safe(v));
        free(v);
    } else if (inner->type != JSON_STRING) {
        error = xstrdup("oslo.message is not a string");
    } else {
        const char *text = json_string(inner);
        *msgp = parse_object(text, strlen(text), "oslo.message", &error);
    }
    json_destroy(outer);
    return error;
}

char *
oslo_msg_parse_request(const struct json *msg, struct oslo_request *req)
{
    memset(req, 0, sizeof *req);
    if (!msg || msg->type != JSON_OBJECT) {
        return xstrdup("request is not a JSON object");
    }
    req->method = json_member_string(msg, "method");
    if (!req->method || !req->method[0]) {
        return xstrdup("request without a method");
    }
    req->args = json_member(msg, "args");
    if (!req->args || req->args->type != JSON_OBJECT) {
        return xasprintf("request %.64s: args is not an object",
                         log_safe(req->method));
    }
    req->version = json_member_string(msg, "version");
    req->namespace = json_member_string(msg, "namespace");
    req->msg_id = json_member_string(msg, "_msg_id");
    req->reply_q = json_member_string(msg, "_reply_q");
    req->unique_id = json_member_string(msg, "_unique_id");
    if (req->msg_id && !req->reply_q) {
        return xasprintf("request %.64s: a call without a reply queue",
                         log_safe(req->method));
    }
    return NULL;
}

/* Appends 's' to 'out' on one line: runs of white space (newlines of a
 * multi-line message included) become one space, other control characters
 * are dropped, and the whole is cut at FAILURE_MAX_LEN bytes. */
static void
put_one_line(struct ds *out, const char *s)
{
    bool space = false;
    for (; *s && out->length < FAILURE_MAX_LEN; s++) {
        unsigned char c = *s;
        if (isspace(c)) {
            space = true;
        } else if (c >= 0x20 && c != 0x7f) {
            if (space && out->length && out->string[out->length - 1] != ' ') {
                ds_put_char(out, ' ');
            }
            space = false;
            ds_put_char(out, c);
        }
    }
    if (*s) {
        ds_put_cstr(out, "...");
    }
}

char *
oslo_msg_describe_failure(const char *failure)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    char *error;
    struct json *f = parse_object(failure, strlen(failure), "failure",
                                  &error);
    const char *cls = json_member_string(f, "class");
    const char *message = json_member_string(f, "message");

    if (f && (cls || message)) {
        put_one_line(&out, cls && cls[0] ? cls : "RemoteError");
        ds_put_cstr(&out, ": ");
        put_one_line(&out, message && message[0] ? message : "(no message)");
    } else {
        /* Python would raise a generic RemoteError with whatever it got. */
        ds_put_cstr(&out, "RemoteError: ");
        put_one_line(&out, failure);
    }
    json_destroy(f);
    free(error);
    return ds_steal_cstr(&out);
}

/* Python's truth value of a JSON value, as "if data['failure']" and
 * "data.get('ending', False)" test them in oslo's reply waiter. */
static bool
json_truthy(const struct json *j)
{
    if (!j) {
        return false;
    }
    switch (j->type) {
    case JSON_NULL:
    case JSON_FALSE:
        return false;
    case JSON_TRUE:
        return true;
    case JSON_INTEGER:
        return json_integer(j) != 0;
    case JSON_REAL:
        return json_real(j) != 0.0;
    case JSON_STRING:
        return json_string(j)[0] != '\0';
    case JSON_ARRAY:
        return json_array(j)->n != 0;
    case JSON_OBJECT:
        return !shash_is_empty(json_object(j));
    case JSON_SERIALIZED_OBJECT:
    case JSON_N_TYPES:
    default:
        return true;
    }
}

char *
oslo_msg_parse_reply(const struct json *msg, struct oslo_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    if (!msg || msg->type != JSON_OBJECT) {
        return xstrdup("reply is not a JSON object");
    }
    reply->msg_id = json_member_string(msg, "_msg_id");
    if (!reply->msg_id) {
        return xstrdup("reply without a _msg_id");
    }

    const struct json *failure = json_member(msg, "failure");
    if (json_truthy(failure)) {
        if (failure->type == JSON_STRING) {
            reply->failure = oslo_msg_describe_failure(json_string(failure));
        } else {
            reply->failure = xstrdup("RemoteError: malformed failure");
        }
    } else {
        const struct json *result = json_member(msg, "result");
        reply->result = result && result->type != JSON_NULL ? result : NULL;
    }

    /* docs/wire.md §4.4: exactly what oslo's ReplyWaiter does.  A message
     * without "ending" is not the last one: either the first half of the
     * legacy two-part reply or a call-monitor keep-alive. */
    reply->ending = json_truthy(json_member(msg, "ending"));
    VLOG_DBG("reply %s:%s%s%s", log_safe(reply->msg_id),
             reply->failure ? " failure" : "",
             reply->result ? " result" : "",
             reply->ending ? " ending" : "");
    return NULL;
}

void
oslo_reply_destroy(struct oslo_reply *reply)
{
    if (reply) {
        free(reply->failure);
        reply->failure = NULL;
    }
}
