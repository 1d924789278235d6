/*
 * oslo-msg: oslo.messaging envelope and messages.  See oslo-msg.h.
 */
#include <config.h>
#include "oslo/oslo-msg.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "json-util.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"
#include "uuid.h"

char *
oslo_msg_new_id(void)
{
    struct uuid uuid;
    uuid_generate(&uuid);
    char *s = xasprintf(UUID_FMT, UUID_ARGS(&uuid));
    /* Drop the dashes: oslo uses uuid4().hex. */
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
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char date[16], time[16];
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    strftime(time, sizeof time, "%H:%M:%S", &tm);
    return xasprintf("%s%c%s.%06ld", date, sep, time, (long) tv.tv_usec);
}

/* The request context of an agent: an admin context (rpc-wire §2.3). */
static void
add_context(struct json *msg)
{
    struct uuid uuid;
    uuid_generate(&uuid);
    json_object_put(msg, "_context_is_admin", json_boolean_create(true));
    json_object_put(msg, "_context_request_id",
                           json_string_create_nocopy(
                               xasprintf("req-"UUID_FMT, UUID_ARGS(&uuid))));
    json_object_put(msg, "_context_timestamp",
                    json_string_create_nocopy(oslo_msg_utc_time(' ')));
    json_object_put(msg, "_context_roles", json_array_create_1(
                        json_string_create("admin")));
    json_object_put(msg, "_context_read_only", json_boolean_create(false));
    json_object_put(msg, "_context_show_deleted", json_boolean_create(false));
    json_object_put(msg, "_context_is_admin_project",
                    json_boolean_create(true));
}

char *
oslo_msg_encode_request(const char *method, const struct json *args,
                        const char *version, const char *namespace,
                        const char *msg_id, const char *reply_q)
{
    struct json *msg = json_object_create();
    json_object_put_string(msg, "method", method);
    json_object_put(msg, "args", json_clone(args));
    if (version) {
        json_object_put_string(msg, "version", version);
    }
    if (namespace) {
        json_object_put_string(msg, "namespace", namespace);
    }
    if (msg_id) {
        json_object_put_string(msg, "_msg_id", msg_id);
        json_object_put_string(msg, "_reply_q", reply_q);
        json_object_put(msg, "_timeout", json_null_create());
    }
    json_object_put(msg, "_unique_id",
                           json_string_create_nocopy(oslo_msg_new_id()));
    add_context(msg);

    struct json *envelope = json_object_create();
    json_object_put_string(envelope, "oslo.version", "2.0");
    json_object_put(envelope, "oslo.message",
                           json_string_create_nocopy(json_to_string(msg, 0)));
    char *body = json_to_string(envelope, 0);
    json_destroy(msg);
    json_destroy(envelope);
    return body;
}

char *
oslo_msg_decode(const void *body, size_t size, struct json **msgp)
{
    *msgp = NULL;
    if (memchr(body, '\0', size)) {
        return xstrdup("message body contains a NUL byte");
    }
    char *text = xmemdup0(body, size);
    struct json *outer = json_from_string(text);
    free(text);
    if (outer->type == JSON_STRING) {
        char *error = xasprintf("message body is not JSON: %s",
                                json_string(outer));
        json_destroy(outer);
        return error;
    }
    if (outer->type != JSON_OBJECT) {
        json_destroy(outer);
        return xstrdup("message body is not a JSON object");
    }

    const char *version = json_member_string(outer, "oslo.version");
    const char *inner = json_member_string(outer, "oslo.message");
    if (!version || !inner) {
        /* The pre-envelope form: the object is the message. */
        *msgp = outer;
        return NULL;
    }
    if (strncmp(version, "2.", 2) || strcmp(version + 2, "0")) {
        char *error = xasprintf("unsupported oslo.version %s", version);
        json_destroy(outer);
        return error;
    }
    struct json *msg = json_from_string(inner);
    json_destroy(outer);
    if (msg->type != JSON_OBJECT) {
        char *error = (msg->type == JSON_STRING
                       ? xasprintf("oslo.message is not JSON: %s",
                                   json_string(msg))
                       : xstrdup("oslo.message is not a JSON object"));
        json_destroy(msg);
        return error;
    }
    *msgp = msg;
    return NULL;
}

char *
oslo_msg_parse_request(const struct json *msg, struct oslo_request *req)
{
    memset(req, 0, sizeof *req);
    req->method = json_member_string(msg, "method");
    if (!req->method) {
        return xstrdup("request without a method");
    }
    req->args = json_member(msg, "args");
    if (!req->args || req->args->type != JSON_OBJECT) {
        return xasprintf("request %s: args is not an object", req->method);
    }
    req->msg_id = json_member_string(msg, "_msg_id");
    req->reply_q = json_member_string(msg, "_reply_q");
    return NULL;
}

/* "class: message" from oslo's serialized failure (rpc-wire §2.5). */
static char *
describe_failure(const char *failure)
{
    struct json *f = json_from_string(failure);
    char *s;
    const char *cls = json_member_string(f, "class");
    const char *message = json_member_string(f, "message");
    if (cls || message) {
        s = xasprintf("%s: %s", cls ? cls : "RemoteError",
                      message ? message : "(no message)");
    } else {
        s = xasprintf("RemoteError: %s", failure);
    }
    json_destroy(f);
    /* One line: tracebacks and multi-line messages are cut. */
    char *nl = strchr(s, '\n');
    if (nl) {
        *nl = '\0';
    }
    return s;
}

char *
oslo_msg_parse_reply(const struct json *msg, struct oslo_reply *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->msg_id = json_member_string(msg, "_msg_id");
    if (!reply->msg_id) {
        return xstrdup("reply without a _msg_id");
    }
    const struct json *result = json_member(msg, "result");
    reply->result = result && result->type != JSON_NULL ? result : NULL;
    const struct json *failure = json_member(msg, "failure");
    if (failure && failure->type == JSON_STRING) {
        reply->failure = describe_failure(json_string(failure));
    } else if (failure && failure->type != JSON_NULL) {
        reply->failure = xstrdup("RemoteError: malformed failure");
    }
    /* A reply without "ending" is the first half of the legacy two-part
     * form when it carries a result, and the end otherwise. */
    const struct json *ending = json_member(msg, "ending");
    reply->ending = (ending ? ending->type == JSON_TRUE
                     : !reply->result || reply->failure);
    if (reply->failure) {
        reply->ending = true;
    }
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
