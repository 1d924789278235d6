/*
 * amqp-conn: an AMQP connection on rabbitmq-c in the poll loop.  See
 * amqp-conn.h for what it owns, its states, and where it may block.
 */
#include <config.h>
#include "log-safe.h"
#include "oslo/amqp-conn.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "latch.h"
#include "ovs-rcu.h"
#include "ovs-thread.h"
#include "random.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(amqp_conn);

/* Process-wide event counts for "coverage/show"; ovsagent/show prints the
 * connection's own. */
COVERAGE_DEFINE(amqp_connect);
COVERAGE_DEFINE(amqp_connect_failed);
COVERAGE_DEFINE(amqp_connection_lost);
COVERAGE_DEFINE(amqp_received);
COVERAGE_DEFINE(amqp_published);
COVERAGE_DEFINE(amqp_returned);
COVERAGE_DEFINE(amqp_discarded);
COVERAGE_DEFINE(amqp_heartbeat_sent);
COVERAGE_DEFINE(amqp_unsent);

/* Everything here that logs above debug can be caused by the broker or by
 * the network, so it is rate-limited. */
static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define CHANNEL 1
#define FRAME_MAX 131072
#define CONNECT_TIMEOUT_S 5     /* TCP connect, TLS and AMQP handshake. */
#define RPC_TIMEOUT_S 10        /* Each synchronous method during set-up. */
#define CLOSE_TIMEOUT_S 2       /* connection.close and deletions at exit. */
#define MAX_FRAMES_PER_RUN 256  /* Then give the rest of the loop a turn. */

/* A body larger than this is read and thrown away: nothing the server
 * sends comes close, and a peer must not make us allocate without bound. */
#define MAX_BODY_SIZE (64 * 1024 * 1024)

/* ------------------------------------------------------------------------
 * transport_url. */

/* Decodes the %XX escapes of 's' in place, as urllib's unquote() does for
 * oslo.messaging.  Returns false if an escape decodes to a NUL byte, which
 * no C string can carry. */
static bool
percent_decode(char *s)
{
    char *d = s;
    for (const char *p = s; *p; p++) {
        if (*p == '%' && isxdigit((unsigned char) p[1])
            && isxdigit((unsigned char) p[2])) {
            char hex[3] = { p[1], p[2], 0 };
            char c = strtol(hex, NULL, 16);
            if (!c) {
                return false;
            }
            *d++ = c;
            p += 2;
        } else {
            *d++ = *p;
        }
    }
    *d = '\0';
    return true;
}

/* Parses one "[user[:password]@]host[:port]" of a transport_url into 'h',
 * modifying 'spec'.  Error messages name the host part only: the
 * credentials before the '@' never appear in them. */
static char *
parse_host(char *spec, struct amqp_host *h)
{
    /* oslo splits at the last '@' and then at the first ':'. */
    char *at = strrchr(spec, '@');
    char *hostport = at ? at + 1 : spec;
    if (at) {
        *at = '\0';
        char *colon = strchr(spec, ':');
        if (colon) {
            *colon = '\0';
            h->password = xstrdup(colon + 1);
        }
        h->user = xstrdup(spec);
        if (!percent_decode(h->user)
            || (h->password && !percent_decode(h->password))) {
            return xasprintf("broker %s: credentials contain %%00",
                             hostport);
        }
    }
    if (!h->user || !h->user[0]) {
        free(h->user);
        h->user = xstrdup("guest");
    }
    if (!h->password) {
        h->password = xstrdup("guest");
    }

    h->port = 5672;
    const char *port = NULL;
    if (hostport[0] == '[') {
        char *end = strchr(hostport, ']');
        if (!end) {
            return xasprintf("bad broker address \"%s\"", hostport);
        }
        if (end[1] == ':') {
            port = end + 2;
        } else if (end[1]) {
            return xasprintf("bad broker address \"%s\"", hostport);
        }
        *end = '\0';
        h->host = xstrdup(hostport + 1);
    } else {
        char *colon = strchr(hostport, ':');
        if (colon) {
            *colon = '\0';
            port = colon + 1;
        }
        h->host = xstrdup(hostport);
    }
    if (!h->host[0]) {
        return xstrdup("broker address without a host");
    }
    if (port) {
        char *end;
        errno = 0;
        long p = strtol(port, &end, 10);
        if (!*port || *end || errno || p <= 0 || p > 65535) {
            return xasprintf("bad port \"%s\" for broker %s", port, h->host);
        }
        h->port = p;
    }
    return NULL;
}

char *
amqp_url_parse(const char *url, struct amqp_url *u)
{
    memset(u, 0, sizeof *u);
    static const char scheme[] = "rabbit://";
    if (strncmp(url, scheme, strlen(scheme))) {
        const char *colon = strchr(url, ':');
        return (colon
                ? xasprintf("transport \"%.*s\" is not supported (ovsagent "
                            "speaks rabbit:// only)",
                            (int) MIN(colon - url, 32), url)
                : xstrdup("transport_url must start with rabbit://"));
    }

    char *copy = xstrdup(url + strlen(scheme));
    char *delim = strpbrk(copy, "/?#");
    if (delim && strchr(delim, '@')) {
        /* oslo would take the host from before the '/' and misread the
         * rest; any message quoting a part of it could quote part of the
         * password. */
        free(copy);
        return xstrdup("a '/', '?' or '#' comes before the last '@': "
                       "percent-encode it in the user name or password");
    }
    char *query = strchr(copy, '?');
    if (query) {
        /* Query parameters are kombu options; none concerns us. */
        *query = '\0';
    }
    char *slash = strchr(copy, '/');
    char *error = NULL;
    if (slash) {
        *slash = '\0';
    }
    u->vhost = xstrdup(slash && slash[1] ? slash + 1 : "/");
    if (!percent_decode(u->vhost)) {
        error = xstrdup("the virtual host contains %00");
    }

    if (!error && !copy[0]) {
        error = xstrdup("transport_url names no broker");
    }
    for (char *spec = copy; spec && !error; ) {
        char *comma = strchr(spec, ',');
        if (comma) {
            *comma = '\0';
        }
        u->hosts = xrealloc(u->hosts, (u->n_hosts + 1) * sizeof *u->hosts);
        struct amqp_host *h = &u->hosts[u->n_hosts++];
        memset(h, 0, sizeof *h);
        error = (spec[0]
                 ? parse_host(spec, h)
                 : xstrdup("an empty broker in the failover list"));
        spec = comma ? comma + 1 : NULL;
    }
    free(copy);
    if (error) {
        amqp_url_destroy(u);
    }
    return error;
}

void
amqp_url_destroy(struct amqp_url *u)
{
    if (!u) {
        return;
    }
    for (size_t i = 0; i < u->n_hosts; i++) {
        free(u->hosts[i].user);
        free(u->hosts[i].password);
        free(u->hosts[i].host);
    }
    free(u->hosts);
    free(u->vhost);
    memset(u, 0, sizeof *u);
}

static void
amqp_url_clone(struct amqp_url *dst, const struct amqp_url *src)
{
    dst->vhost = xstrdup(src->vhost);
    dst->n_hosts = src->n_hosts;
    dst->hosts = xcalloc(src->n_hosts, sizeof *dst->hosts);
    for (size_t i = 0; i < src->n_hosts; i++) {
        dst->hosts[i].user = xstrdup(src->hosts[i].user);
        dst->hosts[i].password = xstrdup(src->hosts[i].password);
        dst->hosts[i].host = xstrdup(src->hosts[i].host);
        dst->hosts[i].port = src->hosts[i].port;
    }
}

/* ------------------------------------------------------------------------
 * Options, declarations, back-off, heartbeats: pure functions. */

void
amqp_options_init(struct amqp_options *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->transient_ttl = 1800;
    opts->heartbeat = 60;
    opts->heartbeat_rate = 2;
    opts->retry_interval = 1;
    opts->retry_backoff = 2;
    opts->interval_max = 30;
}

static void
add_int_arg(struct amqp_decl_flags *f, const char *key, int32_t value)
{
    ovs_assert(f->n_args < AMQP_DECL_MAX_ARGS);
    struct amqp_decl_arg *a = &f->args[f->n_args++];
    a->key = key;
    a->is_int = true;
    a->i = value;
    a->s = NULL;
}

static void
add_str_arg(struct amqp_decl_flags *f, const char *key, const char *value)
{
    ovs_assert(f->n_args < AMQP_DECL_MAX_ARGS);
    struct amqp_decl_arg *a = &f->args[f->n_args++];
    a->key = key;
    a->is_int = false;
    a->i = 0;
    a->s = value;
}

static int32_t
clamp_i32(long long int x)
{
    return x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : x;
}

void
amqp_decl_flags(const struct amqp_options *opts, enum amqp_decl_kind kind,
                struct amqp_decl_flags *f)
{
    memset(f, 0, sizeof *f);

    /* docs/wire.md §3.3: quorum queues are durable whatever
     * amqp_durable_queues says, and so is the control exchange then. */
    bool durable = opts->durable || opts->quorum;

    switch (kind) {
    case AMQP_DECL_CONTROL_EXCHANGE:
        f->durable = durable;
        f->auto_delete = opts->auto_delete;
        return;

    case AMQP_DECL_FANOUT_EXCHANGE:
        f->auto_delete = true;
        return;

    case AMQP_DECL_TOPIC_QUEUE:
        f->durable = durable;
        f->auto_delete = opts->auto_delete;
        /* oslo refuses quorum and HA together (and so does our
         * configuration); should both be set anyway, quorum wins. */
        if (opts->ha && !opts->quorum) {
            add_str_arg(f, "x-ha-policy", "all");
        }
        if (opts->quorum) {
            add_str_arg(f, "x-queue-type", "quorum");
            if (opts->quorum_delivery_limit) {
                add_int_arg(f, "x-delivery-limit",
                            opts->quorum_delivery_limit);
            }
            if (opts->quorum_max_memory_length) {
                add_int_arg(f, "x-max-in-memory-length",
                            opts->quorum_max_memory_length);
            }
            if (opts->quorum_max_memory_bytes) {
                add_int_arg(f, "x-max-in-memory-bytes",
                            opts->quorum_max_memory_bytes);
            }
        }
        return;

    case AMQP_DECL_FANOUT_QUEUE:
    case AMQP_DECL_REPLY_QUEUE:
        /* Never durable, never quorum, always expiring (docs/wire.md
         * §3.2). */
        if (opts->ha) {
            add_str_arg(f, "x-ha-policy", "all");
        }
        if (opts->transient_ttl > 0) {
            add_int_arg(f, "x-expires",
                        clamp_i32(opts->transient_ttl * 1000LL));
        }
        return;
    }
    OVS_NOT_REACHED();
}

long long int
amqp_backoff_ms(const struct amqp_options *opts, unsigned int n_failures)
{
    /* oslo passes "rabbit_retry_interval or 1" to kombu. */
    long long int first = opts->retry_interval > 0 ? opts->retry_interval : 1;
    long long int step = MAX(opts->retry_backoff, 0);
    long long int max = MAX(opts->interval_max, first);
    long long int n = n_failures ? n_failures - 1 : 0;
    long long int delay = (step && n > (max - first) / step
                           ? max : MIN(first + n * step, max));
    return delay * 1000;
}

enum amqp_heartbeat_action
amqp_heartbeat_check(int heartbeat, int rate, long long int now,
                     long long int last_rx, long long int last_tx,
                     long long int *next)
{
    if (heartbeat <= 0) {
        *next = LLONG_MAX;
        return AMQP_HB_NONE;
    }
    long long int dead_at = last_rx + heartbeat * 1000LL;
    long long int send_at = last_tx + heartbeat * 1000LL / MAX(rate, 2);
    *next = MIN(dead_at, send_at);
    if (now >= dead_at) {
        return AMQP_HB_DEAD;
    } else if (now >= send_at) {
        return AMQP_HB_SEND;
    }
    return AMQP_HB_NONE;
}

/* ------------------------------------------------------------------------
 * The connection. */

const char *
amqp_conn_state_name(enum amqp_conn_state state)
{
    switch (state) {
    case AMQP_CONN_BACKOFF:
        return "BACKOFF";
    case AMQP_CONN_CONNECTING:
        return "CONNECTING";
    case AMQP_CONN_READY:
        return "READY";
    }
    return "<unknown>";
}

/* A queue declared and consumed on every connection. */
struct amqp_decl {
    enum amqp_decl_kind kind;
    char *queue;
    char *key;                  /* Routing key; the topic for fanout. */
    char *consumer_tag;         /* A small decimal integer, as kombu's. */
    bool declared;              /* On the current connection. */
};

/* A message being reassembled from its method, header and body frames. */
enum inbound_state {
    IN_IDLE,                    /* Between messages. */
    IN_HEADER,                  /* Got basic.deliver or basic.return. */
    IN_BODY,                    /* Got the header; 'received' < 'size'. */
};

struct amqp_inbound {
    enum inbound_state state;
    bool is_return;             /* basic.return, not basic.deliver. */
    uint64_t delivery_tag;
    size_t decl_idx;            /* Consumer's queue; SIZE_MAX if unknown. */
    uint64_t size;              /* From the content header. */
    uint64_t received;
    bool discard;               /* Too big: counted, not stored. */
    struct ds body;
};

struct amqp_conn {
    struct amqp_url url;        /* Hosts possibly shuffled. */
    struct amqp_options opts;   /* Its strings point to the copies below. */
    char *ssl_ca_file, *ssl_cert_file, *ssl_key_file;
    char *exchange;             /* The control exchange. */
    char *connection_name;
    amqp_deliver_cb *deliver_cb;
    amqp_return_cb *return_cb;
    void *aux;

    struct amqp_decl *decls;
    size_t n_decls;
    bool decls_pending;         /* Some are not declared yet. */

    enum amqp_conn_state state;
    struct amqp_setup *setup;   /* CONNECTING: the attempt under way. */
    amqp_connection_state_t conn;   /* NULL unless READY. */
    size_t cur_host;            /* The broker connected, or last tried. */
    size_t next_host;           /* The broker to try next. */
    unsigned int n_failures;    /* Consecutive failed attempts. */
    long long int next_attempt; /* In BACKOFF. */
    int heartbeat;              /* Negotiated, s; 0: none. */
    long long int last_rx;      /* Last time bytes arrived, ms. */
    long long int last_tx;      /* Last time we sent anything, ms. */
    struct amqp_inbound in;

    unsigned int n_connects;
    unsigned long long int n_received, n_published, n_returned;
    unsigned long long int n_heartbeats, n_discarded, n_unsent;
    char *last_error;           /* Never contains credentials. */
};

static void amqp_conn_set_state(struct amqp_conn *, enum amqp_conn_state);
static void setup_abandon(struct amqp_setup *);
static bool declare_fanout_nowait(struct amqp_conn *, const char *name);

struct amqp_conn *
amqp_conn_create(const struct amqp_url *url, const struct amqp_options *opts,
                 const char *control_exchange, const char *connection_name,
                 amqp_deliver_cb *deliver_cb, amqp_return_cb *return_cb,
                 void *aux)
{
    struct amqp_conn *c = xzalloc(sizeof *c);
    amqp_url_clone(&c->url, url);
    c->opts = *opts;
    c->ssl_ca_file = nullable_xstrdup(opts->ssl_ca_file);
    c->ssl_cert_file = nullable_xstrdup(opts->ssl_cert_file);
    c->ssl_key_file = nullable_xstrdup(opts->ssl_key_file);
    c->opts.ssl_ca_file = c->ssl_ca_file;
    c->opts.ssl_cert_file = c->ssl_cert_file;
    c->opts.ssl_key_file = c->ssl_key_file;
    c->exchange = xstrdup(control_exchange);
    c->connection_name = xstrdup(connection_name);
    c->deliver_cb = deliver_cb;
    c->return_cb = return_cb;
    c->aux = aux;
    c->state = AMQP_CONN_BACKOFF;
    c->next_attempt = LLONG_MIN;
    ds_init(&c->in.body);

    /* As oslo.messaging does, so that the agents of a cloud spread over
     * the brokers of a cluster instead of all choosing the first. */
    if (!opts->keep_host_order) {
        for (size_t i = c->url.n_hosts; i > 1; i--) {
            size_t j = random_range(i);
            struct amqp_host tmp = c->url.hosts[i - 1];
            c->url.hosts[i - 1] = c->url.hosts[j];
            c->url.hosts[j] = tmp;
        }
    }
    return c;
}

static const struct amqp_host *
cur_host(const struct amqp_conn *c)
{
    return &c->url.hosts[c->cur_host];
}

static void
inbound_reset(struct amqp_inbound *in)
{
    in->state = IN_IDLE;
    in->is_return = false;
    in->delivery_tag = 0;
    in->decl_idx = SIZE_MAX;
    in->size = in->received = 0;
    in->discard = false;
    ds_clear(&in->body);
}

/* Drops the library's connection state and socket, without a goodbye to
 * the broker. */
static void
drop_connection(struct amqp_conn *c)
{
    if (c->conn) {
        amqp_destroy_connection(c->conn);
        c->conn = NULL;
    }
    inbound_reset(&c->in);
    for (size_t i = 0; i < c->n_decls; i++) {
        c->decls[i].declared = false;
    }
    c->decls_pending = c->n_decls > 0;
}

static void
set_last_error(struct amqp_conn *c, const char *error)
{
    free(c->last_error);
    c->last_error = xstrdup(log_safe(error));
}

/* The connection failed while READY: 'why' says how.  The first attempt to
 * reconnect is immediate, to the same broker. */
static void
connection_lost(struct amqp_conn *c, const char *why)
{
    const struct amqp_host *h = cur_host(c);
    VLOG_WARN_RL(&rl, "%s:%d: AMQP connection lost (%s)", h->host, h->port,
                 log_safe(why));
    COVERAGE_INC(amqp_connection_lost);
    set_last_error(c, why);
    drop_connection(c);
    c->next_host = c->cur_host;
    c->n_failures = 0;
    c->next_attempt = time_msec();
    amqp_conn_set_state(c, AMQP_CONN_BACKOFF);
}

void
amqp_conn_destroy(struct amqp_conn *c)
{
    if (!c) {
        return;
    }
    if (c->conn) {
        /* A polite goodbye, so that the broker does not log an abrupt
         * close; bounded by a short timeout. */
        struct timeval tv = { CLOSE_TIMEOUT_S, 0 };
        amqp_set_rpc_timeout(c->conn, &tv);
        amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
    }
    if (c->setup) {
        setup_abandon(c->setup);
        c->setup = NULL;
    }
    drop_connection(c);
    for (size_t i = 0; i < c->n_decls; i++) {
        free(c->decls[i].queue);
        free(c->decls[i].key);
        free(c->decls[i].consumer_tag);
    }
    free(c->decls);
    amqp_url_destroy(&c->url);
    free(c->ssl_ca_file);
    free(c->ssl_cert_file);
    free(c->ssl_key_file);
    free(c->exchange);
    free(c->connection_name);
    free(c->last_error);
    ds_destroy(&c->in.body);
    free(c);
}

static void
amqp_conn_set_state(struct amqp_conn *c, enum amqp_conn_state state)
{
    if (c->state != state) {
        VLOG_DBG("%s:%d: %s -> %s", cur_host(c)->host, cur_host(c)->port,
                 amqp_conn_state_name(c->state), amqp_conn_state_name(state));
        c->state = state;
    }
}

void
amqp_conn_add_queue(struct amqp_conn *c, enum amqp_decl_kind kind,
                    const char *queue, const char *key)
{
    ovs_assert(kind == AMQP_DECL_TOPIC_QUEUE
               || kind == AMQP_DECL_FANOUT_QUEUE
               || kind == AMQP_DECL_REPLY_QUEUE);
    c->decls = xrealloc(c->decls, (c->n_decls + 1) * sizeof *c->decls);
    struct amqp_decl *d = &c->decls[c->n_decls];
    d->kind = kind;
    d->queue = xstrdup(queue);
    d->key = xstrdup(key ? key : queue);
    d->consumer_tag = xasprintf("%"PRIuSIZE, c->n_decls + 1);
    d->declared = false;
    c->n_decls++;
    c->decls_pending = true;
}

/* ------------------------------------------------------------------------
 * Set-up, in a thread of its own.
 *
 * rabbitmq-c sets a connection up with synchronous calls: TCP connect, TLS
 * handshake, login, channel open and each declaration wait for the broker's
 * answer.  A broker that accepts TCP and then says nothing would hold the
 * caller for as long as the timeouts allow, and with it OpenFlow echo
 * replies, OVSDB and the rest of the loop.  So each attempt runs in a
 * thread of its own on a struct amqp_setup that holds copies of everything
 * it needs; the thread hands the connected library state back and sets a
 * latch, which the loop waits on like any other file descriptor.  The loop
 * never waits for the thread. */

/* One queue to declare, as it was when the attempt started. */
struct setup_decl {
    enum amqp_decl_kind kind;
    char *queue;
    char *key;
    char *consumer_tag;
};

/* One connection attempt.  Created by the loop, which then touches only
 * 'mutex', 'finished', 'abandoned' and 'done' until the thread has set
 * 'done'; after that the loop owns it all again. */
struct amqp_setup {
    /* Inputs: copies, so that the thread never reads struct amqp_conn,
     * which amqp_conn_destroy() may free first. */
    struct amqp_host host;
    char *vhost;
    struct amqp_options opts;   /* Its strings point to the copies below. */
    char *ssl_ca_file, *ssl_cert_file, *ssl_key_file;
    char *exchange;
    char *connection_name;
    struct setup_decl *decls;
    size_t n_decls;

    /* Outputs, written by the thread before it finishes. */
    amqp_connection_state_t conn;   /* Connected and declared, or NULL. */
    int heartbeat;              /* Negotiated, s. */
    char *error;                /* NULL on success. */
    struct svec notes;          /* For the log: what the broker refused and
                                 * we worked around.  The thread logs
                                 * nothing itself, so that every log line
                                 * comes from the loop's thread. */

    struct ovs_mutex mutex;     /* Guards 'finished' and 'abandoned'. */
    bool finished;              /* The thread is done with this struct. */
    bool abandoned;             /* Nobody waits: the thread frees it. */
    struct latch done;          /* Set by the thread when finished. */
};

/* Takes 'note' (malloc'd) for the loop to log when the attempt ends. */
static void
setup_note(struct amqp_setup *s, char *note)
{
    svec_add_nocopy(&s->notes, note);
}

/* A readable description of a failed synchronous library call. */
static char *
reply_error(amqp_rpc_reply_t r, const char *what)
{
    switch (r.reply_type) {
    case AMQP_RESPONSE_NORMAL:
        return NULL;
    case AMQP_RESPONSE_NONE:
        return xasprintf("%s: no reply", what);
    case AMQP_RESPONSE_LIBRARY_EXCEPTION:
        return xasprintf("%s: %s", what, amqp_error_string2(r.library_error));
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            const amqp_connection_close_t *m = r.reply.decoded;
            return xasprintf("%s: the broker closed the connection: %d %s",
                             what, m->reply_code,
                             log_safe_len(m->reply_text.bytes,
                                          m->reply_text.len));
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = r.reply.decoded;
            return xasprintf("%s: the broker closed the channel: %d %s",
                             what, m->reply_code,
                             log_safe_len(m->reply_text.bytes,
                                          m->reply_text.len));
        }
        return xasprintf("%s: broker error (method %#x)", what, r.reply.id);
    }
    return xasprintf("%s: unknown error", what);
}

/* True if 'r' is the broker closing our channel with PRECONDITION_FAILED:
 * an entity exists with other flags than we declared. */
static bool
is_precondition_failed(amqp_rpc_reply_t r)
{
    return (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION
            && r.reply.id == AMQP_CHANNEL_CLOSE_METHOD
            && ((const amqp_channel_close_t *) r.reply.decoded)->reply_code
               == AMQP_PRECONDITION_FAILED);
}

/* After the broker closed the channel: acknowledges the close and opens
 * the channel again. */
static char *
reopen_channel(amqp_connection_state_t conn)
{
    amqp_channel_close_ok_t close_ok = { 0 };
    int status = amqp_send_method(conn, CHANNEL,
                                  AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
    if (status != AMQP_STATUS_OK) {
        return xasprintf("reopening the channel: %s",
                         amqp_error_string2(status));
    }
    amqp_channel_open(conn, CHANNEL);
    return reply_error(amqp_get_rpc_reply(conn), "reopening the channel");
}

/* Fills 'entries' and returns the AMQP table for 'f''s arguments.  The
 * table points into 'f' and 'entries'. */
static amqp_table_t
decl_table(const struct amqp_decl_flags *f,
           amqp_table_entry_t entries[AMQP_DECL_MAX_ARGS])
{
    for (size_t i = 0; i < f->n_args; i++) {
        const struct amqp_decl_arg *a = &f->args[i];
        entries[i].key = amqp_cstring_bytes(a->key);
        if (a->is_int) {
            entries[i].value.kind = AMQP_FIELD_KIND_I32;
            entries[i].value.value.i32 = a->i;
        } else {
            entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
            entries[i].value.value.bytes = amqp_cstring_bytes(a->s);
        }
    }
    return (amqp_table_t) { .num_entries = f->n_args, .entries = entries };
}

static char *
declare_exchange(struct amqp_setup *s, const char *name,
                 enum amqp_decl_kind kind)
{
    struct amqp_decl_flags f;
    amqp_table_entry_t entries[AMQP_DECL_MAX_ARGS];
    amqp_decl_flags(&s->opts, kind, &f);
    const char *type = kind == AMQP_DECL_CONTROL_EXCHANGE ? "topic" : "fanout";

    amqp_exchange_declare(s->conn, CHANNEL, amqp_cstring_bytes(name),
                          amqp_cstring_bytes(type), 0, f.durable,
                          f.auto_delete, 0, decl_table(&f, entries));
    amqp_rpc_reply_t r = amqp_get_rpc_reply(s->conn);
    if (kind == AMQP_DECL_CONTROL_EXCHANGE && is_precondition_failed(r)) {
        /* docs/wire.md §3.4: the services that declared it first win; use it
         * as it is rather than never connecting. */
        setup_note(s, xasprintf("exchange %s exists with other flags than "
                                "[oslo_messaging_rabbit] asks for "
                                "(durable=%s, auto_delete=%s): using it as "
                                "it is; check amqp_durable_queues, "
                                "rabbit_quorum_queue and amqp_auto_delete",
                                name, f.durable ? "true" : "false",
                                f.auto_delete ? "true" : "false"));
        char *error = reopen_channel(s->conn);
        if (error) {
            return error;
        }
        amqp_exchange_declare(s->conn, CHANNEL, amqp_cstring_bytes(name),
                              amqp_cstring_bytes(type), 1, 0, 0, 0,
                              amqp_empty_table);
        r = amqp_get_rpc_reply(s->conn);
    }
    char *what = xasprintf("declaring exchange %s", name);
    char *error = reply_error(r, what);
    free(what);
    return error;
}

static char *
declare_queue(struct amqp_setup *s, const struct setup_decl *d)
{
    struct amqp_decl_flags f;
    amqp_table_entry_t entries[AMQP_DECL_MAX_ARGS];
    amqp_decl_flags(&s->opts, d->kind, &f);

    amqp_queue_declare(s->conn, CHANNEL, amqp_cstring_bytes(d->queue), 0,
                       f.durable, f.exclusive, f.auto_delete,
                       decl_table(&f, entries));
    amqp_rpc_reply_t r = amqp_get_rpc_reply(s->conn);
    if (d->kind == AMQP_DECL_TOPIC_QUEUE && is_precondition_failed(r)) {
        /* A queue shared with Python services (or left by a Python agent
         * on this host) with other flags: see declare_exchange(). */
        setup_note(s, xasprintf("queue %s exists with other flags than "
                                "[oslo_messaging_rabbit] asks for: using it "
                                "as it is", d->queue));
        char *error = reopen_channel(s->conn);
        if (error) {
            return error;
        }
        amqp_queue_declare(s->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                           1, 0, 0, 0, amqp_empty_table);
        r = amqp_get_rpc_reply(s->conn);
    }
    char *what = xasprintf("declaring queue %s", d->queue);
    char *error = reply_error(r, what);
    free(what);
    return error;
}

/* Declares, binds and consumes the queue of 'd', waiting for each
 * answer. */
static char *
declare_decl(struct amqp_setup *s, const struct setup_decl *d)
{
    char *error = NULL;
    char *exchange = NULL;

    if (d->kind == AMQP_DECL_FANOUT_QUEUE) {
        exchange = xasprintf("%s_fanout", d->key);
        error = declare_exchange(s, exchange, AMQP_DECL_FANOUT_EXCHANGE);
    } else if (d->kind == AMQP_DECL_TOPIC_QUEUE) {
        exchange = xstrdup(s->exchange);
    }
    if (!error) {
        error = declare_queue(s, d);
    }
    if (!error && exchange) {
        amqp_queue_bind(s->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                        amqp_cstring_bytes(exchange),
                        amqp_cstring_bytes(d->key), amqp_empty_table);
        char *what = xasprintf("binding queue %s to %s", d->queue, exchange);
        error = reply_error(amqp_get_rpc_reply(s->conn), what);
        free(what);
    }
    if (!error) {
        /* no_local 0, no_ack 0, exclusive 0: as oslo consumes. */
        amqp_basic_consume(s->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                           amqp_cstring_bytes(d->consumer_tag), 0, 0, 0,
                           amqp_empty_table);
        char *what = xasprintf("consuming queue %s", d->queue);
        error = reply_error(amqp_get_rpc_reply(s->conn), what);
        free(what);
    }
    free(exchange);
    return error;
}

/* The client properties oslo.messaging sends (docs/wire.md §2.2): the
 * capabilities make the broker tell us when a consumed queue is deleted
 * (basic.cancel) and when it blocks publishers. */
static char *
login(struct amqp_setup *s)
{
    amqp_table_entry_t caps[3];
    static const char *const cap_names[] = {
        "authentication_failure_close", "connection.blocked",
        "consumer_cancel_notify",
    };
    for (size_t i = 0; i < ARRAY_SIZE(caps); i++) {
        caps[i].key = amqp_cstring_bytes(cap_names[i]);
        caps[i].value.kind = AMQP_FIELD_KIND_BOOLEAN;
        caps[i].value.value.boolean = 1;
    }
    amqp_table_entry_t props[2];
    props[0].key = amqp_cstring_bytes("capabilities");
    props[0].value.kind = AMQP_FIELD_KIND_TABLE;
    props[0].value.value.table = (amqp_table_t) { ARRAY_SIZE(caps), caps };
    props[1].key = amqp_cstring_bytes("connection_name");
    props[1].value.kind = AMQP_FIELD_KIND_UTF8;
    props[1].value.value.bytes = amqp_cstring_bytes(s->connection_name);
    amqp_table_t table = { ARRAY_SIZE(props), props };

    /* PLAIN rather than the reference's AMQPLAIN: RabbitMQ accepts both
     * and the peers cannot tell. */
    const struct amqp_host *h = &s->host;
    amqp_rpc_reply_t r = amqp_login_with_properties(
        s->conn, s->vhost, 0, FRAME_MAX, MAX(s->opts.heartbeat, 0),
        &table, AMQP_SASL_METHOD_PLAIN, h->user, h->password);
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION
        && r.library_error == AMQP_STATUS_CONNECTION_CLOSED) {
        /* What RabbitMQ does to bad credentials or an unknown vhost. */
        return xasprintf("logging in as %s: the broker closed the "
                         "connection (bad credentials or vhost?)", h->user);
    }
    char *what = xasprintf("logging in as %s", h->user);
    char *error = reply_error(r, what);
    free(what);
    return error;
}

static char *
open_socket(struct amqp_setup *s)
{
    const struct amqp_options *opts = &s->opts;
    amqp_socket_t *sock;

    if (opts->ssl) {
        sock = amqp_ssl_socket_new(s->conn);
        if (!sock) {
            return xstrdup("cannot create a TLS socket");
        }
        /* oslo verifies the broker's certificate chain only when given a
         * CA, and never its host name (Zed's behaviour). */
        bool have_ca = opts->ssl_ca_file && opts->ssl_ca_file[0];
        if (have_ca && amqp_ssl_socket_set_cacert(sock, opts->ssl_ca_file)) {
            return xasprintf("cannot load ssl_ca_file %s",
                             opts->ssl_ca_file);
        }
        amqp_ssl_socket_set_verify_peer(sock, have_ca);
        amqp_ssl_socket_set_verify_hostname(sock, false);
        bool have_cert = opts->ssl_cert_file && opts->ssl_cert_file[0];
        bool have_key = opts->ssl_key_file && opts->ssl_key_file[0];
        if (have_cert || have_key) {
            if (!have_cert || !have_key) {
                return xstrdup("ssl_cert_file and ssl_key_file must be set "
                               "together");
            }
            if (amqp_ssl_socket_set_key(sock, opts->ssl_cert_file,
                                        opts->ssl_key_file)) {
                return xasprintf("cannot load ssl_cert_file %s or "
                                 "ssl_key_file %s", opts->ssl_cert_file,
                                 opts->ssl_key_file);
            }
        }
    } else {
        sock = amqp_tcp_socket_new(s->conn);
        if (!sock) {
            return xstrdup("cannot create a socket");
        }
    }

    struct timeval tv = { CONNECT_TIMEOUT_S, 0 };
    errno = 0;
    int status = amqp_socket_open_noblock(sock, s->host.host, s->host.port,
                                          &tv);
    if (status) {
        /* rabbitmq-c connects without blocking: when the connection then
         * fails (refused, unreachable), it reads the error with SO_ERROR
         * and closes the socket, leaving errno at connect()'s
         * EINPROGRESS, which says nothing. */
        int error = errno == EINPROGRESS ? 0 : errno;
        return (status == AMQP_STATUS_SOCKET_ERROR && error
                ? xasprintf("cannot connect: %s", ovs_strerror(error))
                : xasprintf("cannot connect: %s",
                            amqp_error_string2(status)));
    }
    return NULL;
}

/* Connects to the broker of 's' and declares everything, each step bounded
 * by a timeout.  In the set-up thread. */
static char *
setup_run(struct amqp_setup *s)
{
    s->conn = amqp_new_connection();
    struct timeval handshake_tv = { CONNECT_TIMEOUT_S, 0 };
    struct timeval rpc_tv = { RPC_TIMEOUT_S, 0 };
    amqp_set_handshake_timeout(s->conn, &handshake_tv);
    amqp_set_rpc_timeout(s->conn, &rpc_tv);

    char *error = open_socket(s);
    if (!error) {
        error = login(s);
    }
    if (!error) {
        s->heartbeat = amqp_get_heartbeat(s->conn);
        amqp_channel_open(s->conn, CHANNEL);
        error = reply_error(amqp_get_rpc_reply(s->conn), "opening a channel");
    }
    if (!error) {
        error = declare_exchange(s, s->exchange, AMQP_DECL_CONTROL_EXCHANGE);
    }
    for (size_t i = 0; !error && i < s->n_decls; i++) {
        error = declare_decl(s, &s->decls[i]);
    }
    if (error) {
        amqp_destroy_connection(s->conn);
        s->conn = NULL;
    }
    return error;
}

static void
setup_destroy(struct amqp_setup *s)
{
    if (s->conn) {
        amqp_destroy_connection(s->conn);
    }
    free(s->host.user);
    free(s->host.password);
    free(s->host.host);
    free(s->vhost);
    free(s->ssl_ca_file);
    free(s->ssl_cert_file);
    free(s->ssl_key_file);
    free(s->exchange);
    free(s->connection_name);
    for (size_t i = 0; i < s->n_decls; i++) {
        free(s->decls[i].queue);
        free(s->decls[i].key);
        free(s->decls[i].consumer_tag);
    }
    free(s->decls);
    free(s->error);
    svec_destroy(&s->notes);
    latch_destroy(&s->done);
    ovs_mutex_destroy(&s->mutex);
    free(s);
}

static void *
setup_main(void *s_)
{
    struct amqp_setup *s = s_;

    /* This thread reads no RCU-protected data: never hold up the
     * others' grace periods while it waits for the broker. */
    ovsrcu_quiesce_start();

    s->error = setup_run(s);

    /* The latch is set under the mutex, so that setup_abandon() never
     * frees it between our two steps. */
    ovs_mutex_lock(&s->mutex);
    s->finished = true;
    bool abandoned = s->abandoned;
    if (!abandoned) {
        latch_set(&s->done);
    }
    ovs_mutex_unlock(&s->mutex);
    if (abandoned) {
        setup_destroy(s);
    }
    return NULL;
}

/* Starts an attempt to connect to broker 'h' and declare every queue of
 * 'c', in a thread. */
static struct amqp_setup *
setup_start(const struct amqp_conn *c, const struct amqp_host *h)
{
    struct amqp_setup *s = xzalloc(sizeof *s);
    s->host.user = xstrdup(h->user);
    s->host.password = xstrdup(h->password);
    s->host.host = xstrdup(h->host);
    s->host.port = h->port;
    s->vhost = xstrdup(c->url.vhost);
    s->opts = c->opts;
    s->ssl_ca_file = nullable_xstrdup(c->opts.ssl_ca_file);
    s->ssl_cert_file = nullable_xstrdup(c->opts.ssl_cert_file);
    s->ssl_key_file = nullable_xstrdup(c->opts.ssl_key_file);
    s->opts.ssl_ca_file = s->ssl_ca_file;
    s->opts.ssl_cert_file = s->ssl_cert_file;
    s->opts.ssl_key_file = s->ssl_key_file;
    s->exchange = xstrdup(c->exchange);
    s->connection_name = xstrdup(c->connection_name);
    s->decls = xcalloc(MAX(c->n_decls, 1), sizeof *s->decls);
    for (size_t i = 0; i < c->n_decls; i++) {
        s->decls[i].kind = c->decls[i].kind;
        s->decls[i].queue = xstrdup(c->decls[i].queue);
        s->decls[i].key = xstrdup(c->decls[i].key);
        s->decls[i].consumer_tag = xstrdup(c->decls[i].consumer_tag);
    }
    s->n_decls = c->n_decls;
    svec_init(&s->notes);
    ovs_mutex_init(&s->mutex);
    latch_init(&s->done);

    pthread_t thread = ovs_thread_create("amqp_setup", setup_main, s);
    int error = pthread_detach(thread);
    if (error) {
        ovs_abort(error, "pthread_detach failed");
    }
    return s;
}

/* The loop no longer wants the attempt 's' (the connection is being
 * destroyed): frees it now if its thread is done, or else lets the thread
 * free it when it is.  Never waits for the broker. */
static void
setup_abandon(struct amqp_setup *s)
{
    ovs_mutex_lock(&s->mutex);
    bool finished = s->finished;
    s->abandoned = true;
    ovs_mutex_unlock(&s->mutex);
    if (finished) {
        setup_destroy(s);
    }
}

static void
try_connect(struct amqp_conn *c)
{
    c->cur_host = c->next_host;
    inbound_reset(&c->in);
    for (size_t i = 0; i < c->n_decls; i++) {
        c->decls[i].declared = false;
    }
    c->setup = setup_start(c, cur_host(c));
    amqp_conn_set_state(c, AMQP_CONN_CONNECTING);
}

/* The attempt's thread is done: takes its connection, or backs off. */
static void
setup_finish(struct amqp_conn *c)
{
    struct amqp_setup *s = c->setup;
    const struct amqp_host *h = cur_host(c);
    c->setup = NULL;

    /* The thread sets the latch while it holds the mutex: taking it here
     * waits the few instructions until it lets go, so that the mutex is
     * free when setup_destroy() destroys it. */
    ovs_mutex_lock(&s->mutex);
    ovs_assert(s->finished);
    ovs_mutex_unlock(&s->mutex);

    const char *note;
    size_t i;
    SVEC_FOR_EACH (i, note, &s->notes) {
        VLOG_ERR_RL(&rl, "%s:%d: %s", h->host, h->port, log_safe(note));
    }

    if (s->error) {
        c->n_failures++;
        COVERAGE_INC(amqp_connect_failed);
        long long int delay = amqp_backoff_ms(&c->opts, c->n_failures);
        VLOG_WARN_RL(&rl, "%s:%d: %s; retrying in %lld ms%s", h->host,
                     h->port, log_safe(s->error), delay,
                     c->url.n_hosts > 1 ? " with the next broker" : "");
        set_last_error(c, s->error);
        c->next_host = (c->cur_host + 1) % c->url.n_hosts;
        c->next_attempt = time_msec() + delay;
        amqp_conn_set_state(c, AMQP_CONN_BACKOFF);
        setup_destroy(s);
        return;
    }

    c->conn = s->conn;
    s->conn = NULL;
    c->heartbeat = s->heartbeat;
    /* Queues added while the thread worked are declared without waiting,
     * from amqp_conn_run(). */
    for (size_t i = 0; i < s->n_decls; i++) {
        c->decls[i].declared = true;
    }
    c->decls_pending = s->n_decls < c->n_decls;
    setup_destroy(s);

    c->n_failures = 0;
    c->n_connects++;
    COVERAGE_INC(amqp_connect);
    c->last_rx = c->last_tx = time_msec();
    amqp_conn_set_state(c, AMQP_CONN_READY);
    VLOG_INFO("%s:%d: connected to the message broker (vhost %s, "
              "heartbeat %d s%s)", h->host, h->port, c->url.vhost,
              c->heartbeat, c->opts.ssl ? ", TLS" : "");
}

/* Declares, binds and consumes the queues added while connected, without
 * waiting for the broker's answers (nowait): a refusal comes back later as
 * a channel close, which makes the next connection declare them the
 * patient way.  Returns false if the connection was lost. */
static bool
declare_pending_nowait(struct amqp_conn *c)
{
    for (size_t i = 0; i < c->n_decls; i++) {
        struct amqp_decl *d = &c->decls[i];
        if (d->declared) {
            continue;
        }

        char *exchange = NULL;
        if (d->kind == AMQP_DECL_FANOUT_QUEUE) {
            exchange = xasprintf("%s_fanout", d->key);
            if (!declare_fanout_nowait(c, exchange)) {
                free(exchange);
                return false;
            }
        } else if (d->kind == AMQP_DECL_TOPIC_QUEUE) {
            exchange = xstrdup(c->exchange);
        }

        struct amqp_decl_flags f;
        amqp_table_entry_t entries[AMQP_DECL_MAX_ARGS];
        amqp_decl_flags(&c->opts, d->kind, &f);
        amqp_queue_declare_t declare = {
            .queue = amqp_cstring_bytes(d->queue),
            .durable = f.durable,
            .exclusive = f.exclusive,
            .auto_delete = f.auto_delete,
            .nowait = 1,
            .arguments = decl_table(&f, entries),
        };
        int status = amqp_send_method(c->conn, CHANNEL,
                                      AMQP_QUEUE_DECLARE_METHOD, &declare);
        if (status == AMQP_STATUS_OK && exchange) {
            amqp_queue_bind_t bind = {
                .queue = amqp_cstring_bytes(d->queue),
                .exchange = amqp_cstring_bytes(exchange),
                .routing_key = amqp_cstring_bytes(d->key),
                .nowait = 1,
                .arguments = amqp_empty_table,
            };
            status = amqp_send_method(c->conn, CHANNEL,
                                      AMQP_QUEUE_BIND_METHOD, &bind);
        }
        if (status == AMQP_STATUS_OK) {
            amqp_basic_consume_t consume = {
                .queue = amqp_cstring_bytes(d->queue),
                .consumer_tag = amqp_cstring_bytes(d->consumer_tag),
                .nowait = 1,
                .arguments = amqp_empty_table,
            };
            status = amqp_send_method(c->conn, CHANNEL,
                                      AMQP_BASIC_CONSUME_METHOD, &consume);
        }
        free(exchange);
        c->last_tx = time_msec();
        if (status != AMQP_STATUS_OK) {
            connection_lost(c, amqp_error_string2(status));
            return false;
        }
        d->declared = true;
        VLOG_DBG("declared and consuming %s (without waiting)", d->queue);
    }
    c->decls_pending = false;
    return true;
}

/* ------------------------------------------------------------------------
 * Receiving: one frame at a time, never blocking. */

static bool
bytes_eq(amqp_bytes_t b, const char *s)
{
    return b.len == strlen(s) && !memcmp(b.bytes, s, b.len);
}

static size_t
decl_of_tag(const struct amqp_conn *c, amqp_bytes_t tag)
{
    for (size_t i = 0; i < c->n_decls; i++) {
        if (bytes_eq(tag, c->decls[i].consumer_tag)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/* A whole message has arrived: hands it up and acknowledges it. */
static void
inbound_complete(struct amqp_conn *c)
{
    struct amqp_inbound *in = &c->in;
    const struct amqp_host *h = cur_host(c);

    if (in->discard) {
        VLOG_WARN_RL(&rl, "%s:%d: dropping a message of %"PRIu64" bytes "
                     "(more than %d)", h->host, h->port, in->size,
                     MAX_BODY_SIZE);
        c->n_discarded++;
        COVERAGE_INC(amqp_discarded);
    } else if (in->is_return) {
        c->n_returned++;
        COVERAGE_INC(amqp_returned);
        if (c->return_cb) {
            c->return_cb(c->aux, in->body.string, in->body.length);
        }
    } else if (in->decl_idx == SIZE_MAX) {
        VLOG_WARN_RL(&rl, "%s:%d: dropping a message for an unknown "
                     "consumer", h->host, h->port);
        c->n_discarded++;
        COVERAGE_INC(amqp_discarded);
    } else {
        c->n_received++;
        COVERAGE_INC(amqp_received);
        /* The callback may publish, and a publish may fail and drop the
         * connection: check the state afterwards. */
        char *queue = xstrdup(c->decls[in->decl_idx].queue);
        c->deliver_cb(c->aux, queue, in->body.string, in->body.length);
        free(queue);
    }

    if (!in->is_return && c->state == AMQP_CONN_READY) {
        /* Acknowledged whatever it held, as oslo does (docs/wire.md §3.6): a
         * message we cannot use must not come back again and again. */
        int status = amqp_basic_ack(c->conn, CHANNEL, in->delivery_tag, 0);
        c->last_tx = time_msec();
        if (status != AMQP_STATUS_OK) {
            inbound_reset(in);
            connection_lost(c, amqp_error_string2(status));
            return;
        }
    }
    inbound_reset(in);
}

static void
inbound_start(struct amqp_conn *c, bool is_return, uint64_t delivery_tag,
              size_t decl_idx)
{
    struct amqp_inbound *in = &c->in;
    inbound_reset(in);
    in->state = IN_HEADER;
    in->is_return = is_return;
    in->delivery_tag = delivery_tag;
    in->decl_idx = decl_idx;
}

/* Handles one method frame.  Returns false if the connection was
 * dropped. */
static bool
handle_method(struct amqp_conn *c, const amqp_frame_t *frame)
{
    const amqp_method_t *m = &frame->payload.method;
    const struct amqp_host *h = cur_host(c);
    char *why;

    /* Only channel 0 (the connection's) may interleave with the frames
     * of a message on our channel. */
    if (c->in.state != IN_IDLE && frame->channel == CHANNEL) {
        connection_lost(c, "protocol error: a method frame inside a message");
        return false;
    }

    switch (m->id) {
    case AMQP_BASIC_DELIVER_METHOD: {
        const amqp_basic_deliver_t *d = m->decoded;
        inbound_start(c, false, d->delivery_tag,
                      decl_of_tag(c, d->consumer_tag));
        return true;
    }

    case AMQP_BASIC_RETURN_METHOD: {
        const amqp_basic_return_t *r = m->decoded;
        VLOG_DBG("%s:%d: the broker returned a message for %s: %d %s",
                 h->host, h->port,
                 log_safe_len(r->routing_key.bytes, r->routing_key.len),
                 r->reply_code,
                 log_safe_len(r->reply_text.bytes, r->reply_text.len));
        inbound_start(c, true, 0, SIZE_MAX);
        return true;
    }

    case AMQP_BASIC_CANCEL_METHOD: {
        /* The broker cancelled one of our consumers, because its queue was
         * deleted or its node went down: declare everything again. */
        const amqp_basic_cancel_t *cancel = m->decoded;
        size_t i = decl_of_tag(c, cancel->consumer_tag);
        why = xasprintf("the broker cancelled the consumer of %s",
                        i != SIZE_MAX ? c->decls[i].queue : "a queue");
        connection_lost(c, why);
        free(why);
        return false;
    }

    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *close = m->decoded;
        why = xasprintf("the broker closed the channel: %d %s",
                        close->reply_code,
                        log_safe_len(close->reply_text.bytes,
                                     close->reply_text.len));
        connection_lost(c, why);
        free(why);
        return false;
    }

    case AMQP_CONNECTION_CLOSE_METHOD: {
        const amqp_connection_close_t *close = m->decoded;
        why = xasprintf("the broker closed the connection: %d %s",
                        close->reply_code,
                        log_safe_len(close->reply_text.bytes,
                                     close->reply_text.len));
        amqp_connection_close_ok_t close_ok = { 0 };
        amqp_send_method(c->conn, 0, AMQP_CONNECTION_CLOSE_OK_METHOD,
                         &close_ok);
        connection_lost(c, why);
        free(why);
        return false;
    }

    case AMQP_CONNECTION_BLOCKED_METHOD: {
        const amqp_connection_blocked_t *b = m->decoded;
        VLOG_WARN_RL(&rl, "%s:%d: the broker blocks publishing (%s)",
                     h->host, h->port,
                     log_safe_len(b->reason.bytes, b->reason.len));
        return true;
    }

    case AMQP_CONNECTION_UNBLOCKED_METHOD:
        VLOG_INFO_RL(&rl, "%s:%d: the broker unblocks publishing", h->host,
                     h->port);
        return true;

    default:
        VLOG_DBG("%s:%d: ignoring method %#x on channel %d", h->host,
                 h->port, m->id, frame->channel);
        return true;
    }
}

/* Handles one frame.  Returns false if the connection was dropped. */
static bool
handle_frame(struct amqp_conn *c, const amqp_frame_t *frame)
{
    struct amqp_inbound *in = &c->in;

    switch (frame->frame_type) {
    case AMQP_FRAME_METHOD:
        return handle_method(c, frame);

    case AMQP_FRAME_HEADER:
        if (in->state != IN_HEADER) {
            connection_lost(c, "protocol error: an unexpected content "
                            "header");
            return false;
        }
        in->size = frame->payload.properties.body_size;
        in->discard = in->size > MAX_BODY_SIZE;
        in->state = IN_BODY;
        if (!in->size) {
            inbound_complete(c);
        }
        return c->state == AMQP_CONN_READY;

    case AMQP_FRAME_BODY: {
        amqp_bytes_t frag = frame->payload.body_fragment;
        if (in->state != IN_BODY || in->received + frag.len > in->size) {
            connection_lost(c, "protocol error: an unexpected body frame");
            return false;
        }
        if (!in->discard) {
            ds_put_buffer(&in->body, frag.bytes, frag.len);
        }
        in->received += frag.len;
        if (in->received == in->size) {
            inbound_complete(c);
        }
        return c->state == AMQP_CONN_READY;
    }

    case AMQP_FRAME_HEARTBEAT:
    default:
        return true;
    }
}

/* True if the socket has bytes for us now (a zero-timeout poll: it never
 * waits). */
static bool
socket_readable(const struct amqp_conn *c)
{
    struct pollfd pfd = { .fd = amqp_get_sockfd(c->conn), .events = POLLIN };
    return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0;
}

static void
receive(struct amqp_conn *c)
{
    long long int now = time_msec();

    /* rabbitmq-c swallows the broker's heartbeat frames, so the socket
     * itself is what says that the broker is alive. */
    if (amqp_data_in_buffer(c->conn) || amqp_frames_enqueued(c->conn)
        || socket_readable(c)) {
        c->last_rx = now;
    }

    for (int i = 0; i < MAX_FRAMES_PER_RUN; i++) {
        amqp_frame_t frame;
        struct timeval zero = { 0, 0 };
        int status = amqp_simple_wait_frame_noblock(c->conn, &frame, &zero);
        if (status == AMQP_STATUS_TIMEOUT) {
            break;
        } else if (status != AMQP_STATUS_OK) {
            connection_lost(c, amqp_error_string2(status));
            return;
        }
        c->last_rx = now;
        if (!handle_frame(c, &frame)) {
            return;
        }
        /* Everything of the frame has been copied out. */
        amqp_maybe_release_buffers(c->conn);
    }
}

/* True if the kernel has room for more of what we send (a zero-timeout
 * poll). */
static bool
socket_writable(const struct amqp_conn *c)
{
    struct pollfd pfd = { .fd = amqp_get_sockfd(c->conn), .events = POLLOUT };
    return pfd.fd >= 0 && poll(&pfd, 1, 0) > 0 && pfd.revents & POLLOUT;
}

static bool
send_heartbeat(struct amqp_conn *c)
{
    amqp_frame_t hb;
    memset(&hb, 0, sizeof hb);
    hb.frame_type = AMQP_FRAME_HEARTBEAT;
    hb.channel = 0;
    int status = amqp_send_frame(c->conn, &hb);
    if (status != AMQP_STATUS_OK) {
        connection_lost(c, amqp_error_string2(status));
        return false;
    }
    c->n_heartbeats++;
    COVERAGE_INC(amqp_heartbeat_sent);
    c->last_tx = time_msec();
    return true;
}

void
amqp_conn_run(struct amqp_conn *c)
{
    if (c->state == AMQP_CONN_BACKOFF) {
        if (time_msec() < c->next_attempt) {
            return;
        }
        try_connect(c);
    }
    if (c->state == AMQP_CONN_CONNECTING) {
        if (!latch_poll(&c->setup->done)) {
            return;
        }
        setup_finish(c);
        if (c->state != AMQP_CONN_READY) {
            return;
        }
    }

    receive(c);
    if (c->state != AMQP_CONN_READY) {
        return;
    }

    long long int next;
    switch (amqp_heartbeat_check(c->heartbeat, c->opts.heartbeat_rate,
                                 time_msec(), c->last_rx, c->last_tx,
                                 &next)) {
    case AMQP_HB_DEAD: {
        char *why = xasprintf("no heartbeat from the broker for %d s",
                              c->heartbeat);
        connection_lost(c, why);
        free(why);
        return;
    }
    case AMQP_HB_SEND:
        if (!send_heartbeat(c)) {
            return;
        }
        break;
    case AMQP_HB_NONE:
        break;
    }

    if (c->decls_pending) {
        declare_pending_nowait(c);
    }
}

void
amqp_conn_wait(struct amqp_conn *c)
{
    if (c->state == AMQP_CONN_BACKOFF) {
        poll_timer_wait_until(c->next_attempt);
        return;
    } else if (c->state == AMQP_CONN_CONNECTING) {
        latch_wait(&c->setup->done);
        return;
    }

    /* Frames rabbitmq-c has already read from the socket do not make it
     * readable again. */
    if (amqp_data_in_buffer(c->conn) || amqp_frames_enqueued(c->conn)
        || c->decls_pending) {
        poll_immediate_wake();
        return;
    }
    poll_fd_wait(amqp_get_sockfd(c->conn), POLLIN);

    long long int next;
    amqp_heartbeat_check(c->heartbeat, c->opts.heartbeat_rate, time_msec(),
                         c->last_rx, c->last_tx, &next);
    if (next != LLONG_MAX) {
        poll_timer_wait_until(next);
    }
}

bool
amqp_conn_is_ready(const struct amqp_conn *c)
{
    return c->state == AMQP_CONN_READY;
}

unsigned int
amqp_conn_n_connects(const struct amqp_conn *c)
{
    return c->n_connects;
}

/* ------------------------------------------------------------------------
 * Sending. */

/* Declares fanout exchange 'name' without waiting for the answer (nowait):
 * an error comes back later as a channel close, like any other. */
static bool
declare_fanout_nowait(struct amqp_conn *c, const char *name)
{
    struct amqp_decl_flags f;
    amqp_table_entry_t entries[AMQP_DECL_MAX_ARGS];
    amqp_decl_flags(&c->opts, AMQP_DECL_FANOUT_EXCHANGE, &f);

    amqp_exchange_declare_t decl = {
        .exchange = amqp_cstring_bytes(name),
        .type = amqp_cstring_bytes("fanout"),
        .durable = f.durable,
        .auto_delete = f.auto_delete,
        .nowait = 1,
        .arguments = decl_table(&f, entries),
    };
    int status = amqp_send_method(c->conn, CHANNEL,
                                  AMQP_EXCHANGE_DECLARE_METHOD, &decl);
    if (status != AMQP_STATUS_OK) {
        connection_lost(c, amqp_error_string2(status));
        return false;
    }
    return true;
}

bool
amqp_conn_publish(struct amqp_conn *c, const char *exchange, bool fanout,
                  const char *routing_key, const char *body,
                  int expiration_ms)
{
    if (c->state != AMQP_CONN_READY) {
        return false;
    }
    if (!socket_writable(c)) {
        /* rabbitmq-c would wait for room without a limit, and the loop
         * with it (see amqp-conn.h). */
        VLOG_WARN_RL(&rl, "%s:%d: the broker reads nothing and the send "
                     "buffer is full: not sending", cur_host(c)->host,
                     cur_host(c)->port);
        c->n_unsent++;
        COVERAGE_INC(amqp_unsent);
        return false;
    }

    char *fanout_exchange = NULL;
    if (fanout) {
        fanout_exchange = xasprintf("%s_fanout", routing_key);
        if (!declare_fanout_nowait(c, fanout_exchange)) {
            free(fanout_exchange);
            return false;
        }
    }

    /* docs/wire.md §3.5: exactly what kombu sends. */
    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = (AMQP_BASIC_CONTENT_TYPE_FLAG
                    | AMQP_BASIC_CONTENT_ENCODING_FLAG
                    | AMQP_BASIC_DELIVERY_MODE_FLAG
                    | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_HEADERS_FLAG);
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
    props.priority = 0;
    props.headers = amqp_empty_table;
    char expiration[16];
    if (expiration_ms > 0) {
        snprintf(expiration, sizeof expiration, "%d", expiration_ms);
        props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        props.expiration = amqp_cstring_bytes(expiration);
    }

    const char *ex = (fanout ? fanout_exchange
                      : exchange ? exchange : c->exchange);
    int status = amqp_basic_publish(c->conn, CHANNEL, amqp_cstring_bytes(ex),
                                    amqp_cstring_bytes(fanout ? ""
                                                       : routing_key),
                                    expiration_ms > 0, 0, &props,
                                    amqp_cstring_bytes(body));
    free(fanout_exchange);
    c->last_tx = time_msec();
    if (status != AMQP_STATUS_OK) {
        connection_lost(c, amqp_error_string2(status));
        return false;
    }
    c->n_published++;
    COVERAGE_INC(amqp_published);
    return true;
}

void
amqp_conn_delete_fanout_queues(struct amqp_conn *c)
{
    if (c->state != AMQP_CONN_READY) {
        return;
    }
    struct timeval tv = { CLOSE_TIMEOUT_S, 0 };
    amqp_set_rpc_timeout(c->conn, &tv);
    for (size_t i = 0; i < c->n_decls; i++) {
        const struct amqp_decl *d = &c->decls[i];
        if (d->kind != AMQP_DECL_FANOUT_QUEUE) {
            continue;
        }
        amqp_queue_delete(c->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                          0, 0);
        char *what = xasprintf("deleting queue %s", d->queue);
        char *error = reply_error(amqp_get_rpc_reply(c->conn), what);
        free(what);
        if (error) {
            VLOG_WARN_RL(&rl, "%s", log_safe(error));
            free(error);
            return;
        }
        VLOG_DBG("deleted queue %s", d->queue);
    }
}

void
amqp_conn_format(const struct amqp_conn *c, struct ds *s)
{
    const struct amqp_host *h = cur_host(c);
    ds_put_format(s, "message broker %s:%d (vhost %s, %"PRIuSIZE" in the "
                  "failover list): %s\n", h->host, h->port, c->url.vhost,
                  c->url.n_hosts,
                  c->state == AMQP_CONN_READY ? "connected" : "connecting");
    ds_put_format(s, "  amqp: state=%s heartbeat=%d connects=%u "
                  "received=%llu published=%llu returned=%llu "
                  "discarded=%llu heartbeats_sent=%llu unsent=%llu",
                  amqp_conn_state_name(c->state), c->heartbeat,
                  c->n_connects, c->n_received, c->n_published,
                  c->n_returned, c->n_discarded, c->n_heartbeats,
                  c->n_unsent);
    if (c->last_error) {
        ds_put_format(s, " last_error=\"%s\"", c->last_error);
    }
    ds_put_char(s, '\n');
}
