/*
 * Unit tests for the oslo.messaging codec and the transport_url parser:
 * the captured messages of the reference agent and neutron-server
 * (tests/unit/data/wire/, copied from the reference captures) decode as
 * they should, what we encode decodes back, and malformed input is an
 * error, never a crash.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "oslo/amqp-conn.h"
#include "oslo/oslo-msg.h"
#include "util.h"
#include "test-util.h"

#define WIRE "tests/unit/data/wire/"

/* The AMQP body of 'which' ("request" or the first reply) of a capture. */
static char *
capture_body(const char *file, bool reply)
{
    struct json *j = json_from_file(file);
    if (j->type != JSON_OBJECT) {
        printf("# %s: %s\n", file, json_string(j));
        json_destroy(j);
        return NULL;
    }
    const struct json *part = json_member(j, "request");
    if (reply) {
        const struct json *replies = json_member(j, "replies");
        part = (replies && replies->type == JSON_ARRAY
                && json_array(replies)->n
                ? json_member(json_array(replies)->elems[0], "publish")
                : NULL);
    }
    const struct json *body = json_member(part, "body");
    char *s = body ? json_to_string(body, 0) : NULL;
    json_destroy(j);
    return s;
}

static void
test_captured_requests(void)
{
    static const struct { const char *file, *method; } cases[] = {
        { WIRE "port_update-fanout.json", "port_update" },
        { WIRE "port_delete-fanout.json", "port_delete" },
        { WIRE "tunnel_update-fanout.json", "tunnel_update" },
        { WIRE "report_state-first-call.json", "report_state" },
        { WIRE "update_device_list-up.json", "update_device_list" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *body = capture_body(cases[i].file, false);
        struct json *msg = NULL;
        char *error = body ? oslo_msg_decode(body, strlen(body), &msg)
                           : xstrdup("no body");
        struct oslo_request req;
        char *error2 = error ? NULL : oslo_msg_parse_request(msg, &req);
        char *what = xasprintf("captured %s decodes", cases[i].method);
        check(!error && !error2 && !strcmp(req.method, cases[i].method),
              what);
        free(what);
        free(error);
        free(error2);
        json_destroy(msg);
        free(body);
    }

    char *body = capture_body(WIRE "port_update-fanout.json", false);
    struct json *msg;
    char *error = oslo_msg_decode(body, strlen(body), &msg);
    struct oslo_request req;
    if (!error && !oslo_msg_parse_request(msg, &req)) {
        check(json_member_string(json_member(req.args, "port"), "id") != NULL,
              "port_update carries args.port.id");
        check(!req.msg_id, "a cast has no _msg_id");
    }
    json_destroy(msg);
    free(body);
    free(error);
}

static void
test_captured_replies(void)
{
    static const char *const files[] = {
        WIRE "report_state-first-call.json",
        WIRE "update_device_list-up.json",
        WIRE "has_alive_neutron_server.json",
    };
    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        char *body = capture_body(files[i], true);
        struct json *msg = NULL;
        char *error = body ? oslo_msg_decode(body, strlen(body), &msg)
                           : xstrdup("no reply");
        struct oslo_reply reply;
        char *error2 = error ? NULL : oslo_msg_parse_reply(msg, &reply);
        char *what = xasprintf("captured reply in %s: final, no failure",
                               files[i] + strlen(WIRE));
        check(!error && !error2 && reply.ending && !reply.failure, what);
        free(what);
        if (!error && !error2) {
            oslo_reply_destroy(&reply);
        }
        free(error);
        free(error2);
        json_destroy(msg);
        free(body);
    }
}

static void
test_round_trip(void)
{
    struct json *args = json_from_string("{\"devices\": [\"a\"], "
                                         "\"host\": \"hv1\"}");
    char *body = oslo_msg_encode_request("update_device_list", args, "1.9",
                                         NULL, "abc", "reply_x");
    struct json *msg;
    char *error = oslo_msg_decode(body, strlen(body), &msg);
    struct oslo_request req;
    check(!error && !oslo_msg_parse_request(msg, &req)
          && !strcmp(req.method, "update_device_list")
          && !strcmp(req.msg_id, "abc") && !strcmp(req.reply_q, "reply_x")
          && json_equal(req.args, args), "a call encodes and decodes back");
    check(json_member(msg, "_context_is_admin")
          && json_member(msg, "_context_is_admin")->type == JSON_TRUE,
          "calls carry _context_is_admin: true");
    check(!json_member(msg, "namespace"), "no namespace key when none");
    check(strstr(body, "\"oslo.version\":\"2.0\"") != NULL,
          "the body is a 2.0 envelope");
    json_destroy(msg);
    free(body);
    free(error);
    json_destroy(args);

    msg = json_from_string(
        "{\"_msg_id\": \"m\", \"result\": null, \"ending\": true, "
        "\"failure\": \"{\\\"class\\\": \\\"InvalidInput\\\", "
        "\\\"module\\\": \\\"neutron_lib.exceptions\\\", "
        "\\\"message\\\": \\\"Invalid input for operation: bad\\\\nmore\\\", "
        "\\\"tb\\\": [], \\\"args\\\": [], \\\"kwargs\\\": {}}\"}");
    struct oslo_reply reply;
    error = oslo_msg_parse_reply(msg, &reply);
    check(!error && reply.failure
          && !strcmp(reply.failure,
                     "InvalidInput: Invalid input for operation: bad"),
          "a failure reply becomes one clear line");
    oslo_reply_destroy(&reply);
    json_destroy(msg);
}

static void
test_malformed(void)
{
    static const char *const bad[] = {
        "", "not json", "[1,2]", "\"str\"",
        "{\"oslo.version\": \"3.0\", \"oslo.message\": \"{}\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
        "{\"oslo.version\": \"2.0\", \"oslo.message\": \"{bad\"}",
    };
    bool all = true;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct json *msg;
        char *error = oslo_msg_decode(bad[i], strlen(bad[i]), &msg);
        all &= error != NULL;
        free(error);
    }
    check(all, "malformed bodies are errors");

    struct json *msg;
    char *error = oslo_msg_decode("x\0y", 3, &msg);
    check(error != NULL, "a NUL byte in the body is an error");
    free(error);

    struct oslo_request req;
    msg = json_from_string("{\"method\": \"m\", \"args\": 5}");
    error = oslo_msg_parse_request(msg, &req);
    check(error != NULL, "args that are not an object are an error");
    free(error);
    json_destroy(msg);

    /* The pre-envelope form is accepted, as oslo does. */
    const char *bare = "{\"method\": \"port_delete\", \"args\": {}}";
    error = oslo_msg_decode(bare, strlen(bare), &msg);
    check(!error && !oslo_msg_parse_request(msg, &req)
          && !strcmp(req.method, "port_delete"), "a bare message decodes");
    json_destroy(msg);
}

static void
test_urls(void)
{
    struct amqp_url u;
    char *error = amqp_url_parse("rabbit://u:p@h:5673/", &u);
    check(!error && u.n_hosts == 1 && !strcmp(u.hosts[0].user, "u")
          && !strcmp(u.hosts[0].password, "p") && u.hosts[0].port == 5673
          && !strcmp(u.vhost, "/"), "one broker, empty path is vhost /");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://a:b@h1:1,c:d@h2/openstack", &u);
    check(!error && u.n_hosts == 2 && !strcmp(u.hosts[1].host, "h2")
          && u.hosts[1].port == 5672 && !strcmp(u.hosts[1].user, "c")
          && !strcmp(u.vhost, "openstack"), "failover list and vhost");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://us%40r:p%3Ass@[2001:db8::1]:5672/v%2F1",
                           &u);
    check(!error && !strcmp(u.hosts[0].user, "us@r")
          && !strcmp(u.hosts[0].password, "p:ss")
          && !strcmp(u.hosts[0].host, "2001:db8::1")
          && !strcmp(u.vhost, "v/1"), "percent-encoding and IPv6");
    amqp_url_destroy(&u);

    static const char *const bad[] = {
        "kafka://h", "rabbit://", "rabbit://u:p@h:99999/", "rabbit://u:p@:5/",
        "rabbit://u:secret@[::1/",
    };
    bool all = true, no_secret = true;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = amqp_url_parse(bad[i], &u);
        all &= error != NULL;
        no_secret &= !error || !strstr(error, "secret");
        free(error);
    }
    check(all, "bad transport_urls are errors");
    check(no_secret, "errors never show the password");
}

/* Formats the flags of one declaration as "D A args" for comparison. */
static char *
flags_string(const struct amqp_options *o, enum amqp_decl_kind kind)
{
    struct amqp_queue_flags f;
    amqp_queue_flags(o, kind, &f);
    char *s = xasprintf("durable=%d auto_delete=%d", f.durable,
                        f.auto_delete);
    for (size_t i = 0; i < f.n_args; i++) {
        char *t = (f.args[i].string
                   ? xasprintf("%s %s=%s", s, f.args[i].key, f.args[i].string)
                   : xasprintf("%s %s=%d", s, f.args[i].key,
                               f.args[i].integer));
        free(s);
        s = t;
    }
    return s;
}

static void
check_flags(const struct amqp_options *o, enum amqp_decl_kind kind,
            const char *want, const char *what)
{
    char *got = flags_string(o, kind);
    check(!strcmp(got, want), what);
    if (strcmp(got, want)) {
        printf("# got \"%s\", want \"%s\"\n", got, want);
    }
    free(got);
}

/* rpc-wire §1.3-1.4: what each [oslo_messaging_rabbit] option does to the
 * declarations that must match the Python services' exactly. */
static void
test_declarations(void)
{
    struct amqp_options o = { .transient_ttl = 1800, .heartbeat = 60 };
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE, "durable=0 auto_delete=0",
                "defaults: topic queues plain");
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000",
                "defaults: fanout queue expires after 30 min");
    check_flags(&o, AMQP_DECL_REPLY_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000",
                "defaults: reply queue expires after 30 min");

    o.durable = true;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE, "durable=1 auto_delete=0",
                "amqp_durable_queues: topic queues durable");
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000",
                "amqp_durable_queues: fanout queues stay transient");
    o.durable = false;

    o.auto_delete = true;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE, "durable=0 auto_delete=1",
                "amqp_auto_delete: topic queues auto-delete");
    check_flags(&o, AMQP_DECL_REPLY_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000",
                "amqp_auto_delete: not on reply queues");
    o.auto_delete = false;

    o.quorum = true;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=1 auto_delete=0 x-queue-type=quorum",
                "rabbit_quorum_queue: durable quorum topic queues");
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000",
                "rabbit_quorum_queue: fanout queues never quorum");
    o.ha = true;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=1 auto_delete=0 x-queue-type=quorum",
                "quorum and HA are exclusive: quorum wins");
    o.quorum = false;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=0 auto_delete=0 x-ha-policy=all",
                "rabbit_ha_queues: x-ha-policy on topic queues");
    check_flags(&o, AMQP_DECL_REPLY_QUEUE,
                "durable=0 auto_delete=0 x-expires=1800000 x-ha-policy=all",
                "rabbit_ha_queues: and on reply queues");
    o.ha = false;

    o.transient_ttl = 60;
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 x-expires=60000",
                "rabbit_transient_queues_ttl sets x-expires in ms");
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_captured_requests();
    test_captured_replies();
    test_round_trip();
    test_malformed();
    test_urls();
    test_declarations();
    return test_summary();
}
