/*
 * Unit tests of the pure parts of the AMQP connection
 * (src/oslo/amqp-conn.c): transport_url parsing, the declaration flags
 * for every combination of the [oslo_messaging_rabbit] options of
 * docs/wire.md §3.3, the reconnection back-off schedule and the heartbeat
 * decisions, driven by scripted times.
 */
#include <config.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "oslo/amqp-conn.h"
#include "util.h"
#include "test-util.h"

static bool
host_is(const struct amqp_host *h, const char *user, const char *password,
        const char *host, int port)
{
    return (!strcmp(h->user, user) && !strcmp(h->password, password)
            && !strcmp(h->host, host) && h->port == port);
}

static void
test_urls(void)
{
    struct amqp_url u;
    char *error;

    error = amqp_url_parse("rabbit://u:p@h:5673/", &u);
    check(!error && u.n_hosts == 1 && host_is(&u.hosts[0], "u", "p", "h",
                                              5673)
          && !strcmp(u.vhost, "/"), "one broker; an empty path is vhost /");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://u:p@h", &u);
    check(!error && u.n_hosts == 1 && u.hosts[0].port == 5672
          && !strcmp(u.vhost, "/"), "no path, no port: vhost /, port 5672");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://a:b@h1:1,c:d@h2/openstack", &u);
    check(!error && u.n_hosts == 2 && host_is(&u.hosts[0], "a", "b", "h1", 1)
          && host_is(&u.hosts[1], "c", "d", "h2", 5672)
          && !strcmp(u.vhost, "openstack"),
          "a failover list of two, in order, and a vhost");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://a:b@h1:5672,c:d@h2:5673,e:f@h3:5674/",
                           &u);
    check(!error && u.n_hosts == 3 && host_is(&u.hosts[2], "e", "f", "h3",
                                              5674),
          "a failover list of three");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://us%40r:p%3Ass%2F%25@[2001:db8::1]:5671"
                           "/v%2F1", &u);
    check(!error && host_is(&u.hosts[0], "us@r", "p:ss/%", "2001:db8::1",
                            5671)
          && !strcmp(u.vhost, "v/1"),
          "percent-encoded credentials and vhost, IPv6 address");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://user:pa:ss@w@host/", &u);
    check(!error && host_is(&u.hosts[0], "user", "pa:ss@w", "host", 5672),
          "split at the last '@' and the first ':', as oslo does");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://host1,[::1]/", &u);
    check(!error && u.n_hosts == 2
          && host_is(&u.hosts[0], "guest", "guest", "host1", 5672)
          && host_is(&u.hosts[1], "guest", "guest", "::1", 5672),
          "no credentials: guest/guest; a bare IPv6 address");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://u@h/", &u);
    check(!error && host_is(&u.hosts[0], "u", "guest", "h", 5672),
          "a user without a password");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://u:p@h:5672/vh?ssl=1", &u);
    check(!error && !strcmp(u.vhost, "vh"), "query parameters are ignored");
    amqp_url_destroy(&u);

    error = amqp_url_parse("rabbit://u:p@h:5672//", &u);
    check(!error && !strcmp(u.vhost, "/"), "path \"//\" is vhost \"/\"");
    amqp_url_destroy(&u);

    static const char *const bad[] = {
        "kafka://h", "amqp://u:secret@h/", "rabbit:/h", "rabbit://",
        "rabbit:///vhost", "rabbit://u:secret@h:99999/",
        "rabbit://u:secret@h:0/", "rabbit://u:secret@h:x/",
        "rabbit://u:secret@h:/", "rabbit://u:secret@:5/",
        "rabbit://u:secret@[::1/", "rabbit://u:secret@[::1]x/",
        "rabbit://u:secret@h1,,h2/", "rabbit://u:secret@h1,/",
        "rabbit://u:sec%00ret@h/", "rabbit://u:secret@h/v%00",
        /* A '/', '?' or '#' in the password, not percent-encoded: the
         * part after it would be read as the host and port, and quoted. */
        "rabbit://u:sec/ret@h/", "rabbit://u:sec?ret@h:5672/",
        "rabbit://u:sec#ret@h/", "rabbit://u:s/secret@h/",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        error = amqp_url_parse(bad[i], &u);
        checkf(error && !strstr(error, "sec") && !strstr(error, "ret")
               && !strchr(error, '\n')
               && !u.n_hosts && !u.hosts && !u.vhost,
               "\"%s\" is an error that shows no part of the password "
               "(%s)",
               bad[i], error ? error : "accepted");
        free(error);
        amqp_url_destroy(&u);
    }
}

/* The flags of one declaration as "durable=D auto_delete=A exclusive=E
 * key=value...", for comparison. */
static char *
flags_string(const struct amqp_options *o, enum amqp_decl_kind kind)
{
    struct amqp_decl_flags f;
    struct ds s = DS_EMPTY_INITIALIZER;

    amqp_decl_flags(o, kind, &f);
    ds_put_format(&s, "durable=%d auto_delete=%d exclusive=%d", f.durable,
                  f.auto_delete, f.exclusive);
    for (size_t i = 0; i < f.n_args; i++) {
        if (f.args[i].is_int) {
            ds_put_format(&s, " %s=i%"PRId32, f.args[i].key, f.args[i].i);
        } else {
            ds_put_format(&s, " %s=%s", f.args[i].key, f.args[i].s);
        }
    }
    return ds_steal_cstr(&s);
}

static void
check_flags(const struct amqp_options *o, enum amqp_decl_kind kind,
            const char *want, const char *what)
{
    char *got = flags_string(o, kind);
    checkf(!strcmp(got, want), "%s: %s (got %s)", what, want, got);
    free(got);
}

static const char *const kind_names[] = {
    [AMQP_DECL_CONTROL_EXCHANGE] = "control exchange",
    [AMQP_DECL_FANOUT_EXCHANGE] = "fanout exchange",
    [AMQP_DECL_TOPIC_QUEUE] = "topic queue",
    [AMQP_DECL_FANOUT_QUEUE] = "fanout queue",
    [AMQP_DECL_REPLY_QUEUE] = "reply queue",
};

/* The rules of docs/wire.md §3.1-3.3 as a reference, stated kind by
 * kind. */
static char *
expected_flags(bool d, bool a, bool q, bool h, int ttl,
               enum amqp_decl_kind kind)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    switch (kind) {
    case AMQP_DECL_CONTROL_EXCHANGE:
        ds_put_format(&s, "durable=%d auto_delete=%d exclusive=0", d || q, a);
        break;
    case AMQP_DECL_FANOUT_EXCHANGE:
        ds_put_cstr(&s, "durable=0 auto_delete=1 exclusive=0");
        break;
    case AMQP_DECL_TOPIC_QUEUE:
        ds_put_format(&s, "durable=%d auto_delete=%d exclusive=0", d || q, a);
        if (h && !q) {
            ds_put_cstr(&s, " x-ha-policy=all");
        }
        if (q) {
            ds_put_cstr(&s, " x-queue-type=quorum");
        }
        break;
    case AMQP_DECL_FANOUT_QUEUE:
    case AMQP_DECL_REPLY_QUEUE:
        ds_put_cstr(&s, "durable=0 auto_delete=0 exclusive=0");
        if (h) {
            ds_put_cstr(&s, " x-ha-policy=all");
        }
        ds_put_format(&s, " x-expires=i%d", ttl * 1000);
        break;
    }
    return ds_steal_cstr(&s);
}

static void
test_declarations(void)
{
    struct amqp_options o;

    /* The default deployment, as the reference captured it. */
    amqp_options_init(&o);
    check_flags(&o, AMQP_DECL_CONTROL_EXCHANGE,
                "durable=0 auto_delete=0 exclusive=0",
                "defaults: exchange neutron");
    check_flags(&o, AMQP_DECL_FANOUT_EXCHANGE,
                "durable=0 auto_delete=1 exclusive=0",
                "defaults: fanout exchanges");
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=0 auto_delete=0 exclusive=0",
                "defaults: topic and host queues, no arguments");
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 exclusive=0 x-expires=i1800000",
                "defaults: fanout queues expire after 30 min");
    check_flags(&o, AMQP_DECL_REPLY_QUEUE,
                "durable=0 auto_delete=0 exclusive=0 x-expires=i1800000",
                "defaults: the reply queue expires after 30 min");

    /* Every combination of the four boolean options, for every kind. */
    for (int bits = 0; bits < 16; bits++) {
        bool d = bits & 1, a = bits & 2, q = bits & 4, h = bits & 8;
        amqp_options_init(&o);
        o.durable = d;
        o.auto_delete = a;
        o.quorum = q;
        o.ha = h;
        o.transient_ttl = 60 + bits;
        for (int kind = 0; kind < ARRAY_SIZE(kind_names); kind++) {
            char *want = expected_flags(d, a, q, h, o.transient_ttl, kind);
            char *what = xasprintf("durable_queues=%d auto_delete=%d "
                                   "quorum=%d ha=%d ttl=%d: %s", d, a, q, h,
                                   o.transient_ttl, kind_names[kind]);
            check_flags(&o, kind, want, what);
            free(what);
            free(want);
        }
    }

    /* The quorum limits, only when non-zero, and only on topic queues. */
    amqp_options_init(&o);
    o.quorum = true;
    o.quorum_delivery_limit = 5;
    o.quorum_max_memory_length = 1000;
    o.quorum_max_memory_bytes = 2000000;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=1 auto_delete=0 exclusive=0 x-queue-type=quorum "
                "x-delivery-limit=i5 x-max-in-memory-length=i1000 "
                "x-max-in-memory-bytes=i2000000",
                "quorum limits on topic queues");
    check_flags(&o, AMQP_DECL_FANOUT_QUEUE,
                "durable=0 auto_delete=0 exclusive=0 x-expires=i1800000",
                "quorum limits: never on fanout queues");
    o.quorum_delivery_limit = 0;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=1 auto_delete=0 exclusive=0 x-queue-type=quorum "
                "x-max-in-memory-length=i1000 x-max-in-memory-bytes=i2000000",
                "a zero delivery limit is left out");
    o.quorum = false;
    check_flags(&o, AMQP_DECL_TOPIC_QUEUE,
                "durable=0 auto_delete=0 exclusive=0",
                "quorum limits without quorum queues: nothing");

    amqp_options_init(&o);
    o.transient_ttl = 3000000;
    check_flags(&o, AMQP_DECL_REPLY_QUEUE,
                "durable=0 auto_delete=0 exclusive=0 x-expires=i2147483647",
                "a huge TTL is clamped to 32 bits, never wrapped");
}

static void
test_backoff(void)
{
    struct amqp_options o;
    amqp_options_init(&o);

    /* kombu's schedule with oslo's defaults: 1 s, then 2 s more per
     * failure, at most 30 s. */
    static const long long int want[] = {
        1000, 3000, 5000, 7000, 9000, 11000, 13000, 15000, 17000, 19000,
        21000, 23000, 25000, 27000, 29000, 30000, 30000, 30000,
    };
    bool ok = true;
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        ok &= amqp_backoff_ms(&o, i + 1) == want[i];
    }
    check(ok, "default back-off: 1, 3, 5, ... 29, 30, 30 s");
    check(amqp_backoff_ms(&o, UINT_MAX) == 30000,
          "back-off after very many failures: 30 s, no overflow");

    o.retry_interval = 0;
    o.retry_backoff = 0;
    check(amqp_backoff_ms(&o, 1) == 1000 && amqp_backoff_ms(&o, 50) == 1000,
          "rabbit_retry_interval 0 means 1 s, as in oslo");

    o.retry_interval = 5;
    o.retry_backoff = 10;
    o.interval_max = 12;
    check(amqp_backoff_ms(&o, 1) == 5000 && amqp_backoff_ms(&o, 2) == 12000
          && amqp_backoff_ms(&o, 3) == 12000,
          "custom back-off: 5 s, then capped at rabbit_interval_max");

    o.retry_interval = 40;
    check(amqp_backoff_ms(&o, 1) == 40000,
          "an interval above the maximum is used as is");
}

static void
test_heartbeat(void)
{
    long long int next;
    enum amqp_heartbeat_action a;

    a = amqp_heartbeat_check(0, 2, 1000000, 0, 0, &next);
    check(a == AMQP_HB_NONE && next == LLONG_MAX,
          "heartbeat 0: never sends, never dead, no timer");

    /* Heartbeat 60 s: send after 30 s without sending, dead after 60 s
     * without receiving. */
    a = amqp_heartbeat_check(60, 2, 10000, 0, 0, &next);
    check(a == AMQP_HB_NONE && next == 30000,
          "10 s after the last traffic: nothing to do, wake at 30 s");
    a = amqp_heartbeat_check(60, 2, 30000, 0, 0, &next);
    check(a == AMQP_HB_SEND, "30 s without sending: send a heartbeat");
    a = amqp_heartbeat_check(60, 2, 30001, 29000, 30000, &next);
    check(a == AMQP_HB_NONE && next == 60000,
          "heartbeat sent at 30 s: next send at 60 s");
    a = amqp_heartbeat_check(60, 2, 59999, 0, 30000, &next);
    check(a == AMQP_HB_NONE && next == 60000,
          "59.999 s without receiving: still alive");
    a = amqp_heartbeat_check(60, 2, 60000, 0, 59000, &next);
    check(a == AMQP_HB_DEAD, "60 s without receiving anything: dead");
    a = amqp_heartbeat_check(60, 2, 60000, 59000, 0, &next);
    check(a == AMQP_HB_SEND,
          "received recently, sent nothing for 60 s: send");

    a = amqp_heartbeat_check(60, 4, 15000, 0, 0, &next);
    check(a == AMQP_HB_SEND, "heartbeat_rate 4: send after 15 s");
    a = amqp_heartbeat_check(60, 1, 29000, 0, 0, &next);
    check(a == AMQP_HB_NONE && next == 30000,
          "heartbeat_rate below 2: still every 30 s");

    /* A scripted minute and a half: the broker answers for 40 s, then
     * goes silent; we keep sending. */
    long long int last_rx = 0, last_tx = 0;
    int n_sent = 0;
    long long int dead_at = -1;
    for (long long int now = 0; now <= 120000 && dead_at < 0; now += 500) {
        if (now <= 40000 && now % 5000 == 0) {
            last_rx = now;
        }
        a = amqp_heartbeat_check(60, 2, now, last_rx, last_tx, &next);
        if (a == AMQP_HB_SEND) {
            last_tx = now;
            n_sent++;
        } else if (a == AMQP_HB_DEAD) {
            dead_at = now;
        }
    }
    checkf(dead_at == 100000 && n_sent == 3,
           "a broker silent from 40 s is dead at 100 s, after 3 "
           "heartbeats sent (dead at %lld, %d sent)", dead_at, n_sent);
}

static void
test_state_names(void)
{
    check(!strcmp(amqp_conn_state_name(AMQP_CONN_BACKOFF), "BACKOFF")
          && !strcmp(amqp_conn_state_name(AMQP_CONN_CONNECTING),
                     "CONNECTING")
          && !strcmp(amqp_conn_state_name(AMQP_CONN_READY), "READY"),
          "state names");
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_urls();
    test_declarations();
    test_backoff();
    test_heartbeat();
    test_state_names();
    return test_summary();
}
