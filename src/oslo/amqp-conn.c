/*
 * amqp-conn: an AMQP connection on rabbitmq-c in the poll loop.  See
 * amqp-conn.h for what it owns and where it may block.
 */
#include <config.h>
#include "oslo/amqp-conn.h"

#include <amqp.h>
#include <amqp_ssl_socket.h>
#include <amqp_tcp_socket.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(amqp_conn);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define CHANNEL 1
#define FRAME_MAX 131072
#define CONNECT_TIMEOUT_S 5     /* TCP connect and AMQP handshake. */
#define RPC_TIMEOUT_S 10        /* Each declaration during set-up. */
#define RETRY_MIN_MS 1000       /* rabbit_retry_interval. */
#define RETRY_MAX_MS 30000      /* rabbit_interval_max. */

/* URL parsing. */

/* Decodes %XX escapes in place. */
static void
percent_decode(char *s)
{
    char *d = s;
    for (const char *p = s; *p; p++) {
        if (*p == '%' && isxdigit((unsigned char) p[1])
            && isxdigit((unsigned char) p[2])) {
            char hex[3] = { p[1], p[2], 0 };
            *d++ = strtol(hex, NULL, 16);
            p += 2;
        } else {
            *d++ = *p;
        }
    }
    *d = '\0';
}

static char *
parse_host(char *spec, struct amqp_host *h)
{
    char *at = strrchr(spec, '@');
    char *hostport = spec;
    h->user = xstrdup("guest");
    h->password = xstrdup("guest");
    if (at) {
        *at = '\0';
        hostport = at + 1;
        char *colon = strchr(spec, ':');
        if (colon) {
            *colon = '\0';
            free(h->password);
            h->password = xstrdup(colon + 1);
            percent_decode(h->password);
        }
        free(h->user);
        h->user = xstrdup(spec);
        percent_decode(h->user);
    }
    h->port = 5672;
    char *port = NULL;
    if (hostport[0] == '[') {
        char *end = strchr(hostport, ']');
        if (!end) {
            return xasprintf("bad broker address \"%s\"", hostport);
        }
        *end = '\0';
        h->host = xstrdup(hostport + 1);
        if (end[1] == ':') {
            port = end + 2;
        }
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
    if (port && *port) {
        char *end;
        long p = strtol(port, &end, 10);
        if (*end || p <= 0 || p > 65535) {
            return xasprintf("bad broker port \"%s\"", port);
        }
        h->port = p;
    }
    return NULL;
}

char *
amqp_url_parse(const char *url, struct amqp_url *u)
{
    memset(u, 0, sizeof *u);
    const char *rest;
    if (!strncmp(url, "rabbit://", 9)) {
        rest = url + 9;
    } else if (!strncmp(url, "amqp://", 7)) {
        rest = url + 7;
    } else {
        return xstrdup("transport_url must start with rabbit://");
    }
    char *copy = xstrdup(rest);
    char *slash = strchr(copy, '/');
    u->vhost = xstrdup(slash && slash[1] ? slash + 1 : "/");
    if (slash) {
        *slash = '\0';
    }
    char *q = strchr(u->vhost, '?');
    if (q) {
        *q = '\0';
    }
    percent_decode(u->vhost);

    char *save = NULL, *error = NULL;
    for (char *spec = strtok_r(copy, ",", &save); spec && !error;
         spec = strtok_r(NULL, ",", &save)) {
        u->hosts = xrealloc(u->hosts, (u->n_hosts + 1) * sizeof *u->hosts);
        struct amqp_host *h = &u->hosts[u->n_hosts++];
        memset(h, 0, sizeof *h);
        error = parse_host(spec, h);
    }
    if (!error && !u->n_hosts) {
        error = xstrdup("transport_url names no broker");
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
    for (size_t i = 0; i < u->n_hosts; i++) {
        free(u->hosts[i].user);
        free(u->hosts[i].password);
        free(u->hosts[i].host);
    }
    free(u->hosts);
    free(u->vhost);
    memset(u, 0, sizeof *u);
}

/* The connection. */

struct amqp_decl {
    enum amqp_decl_kind kind;
    char *queue;
    char *key;
    char *consumer_tag;
};

struct amqp_conn {
    struct amqp_url url;
    struct amqp_options opts;
    char *exchange;             /* The control exchange. */
    amqp_deliver_cb *cb;
    amqp_return_cb *return_cb;
    void *aux;

    struct amqp_decl *decls;
    size_t n_decls;

    amqp_connection_state_t conn;   /* NULL while disconnected. */
    bool ready;
    size_t cur_host;            /* The broker connected or last tried. */
    size_t next_host;           /* Failover: the host to try next. */
    long long int next_attempt;
    int backoff_ms;
    unsigned int n_connects;
    unsigned long long n_received, n_published, n_dropped;
    char *last_error;
};

struct amqp_conn *
amqp_conn_create(const struct amqp_url *url, const struct amqp_options *opts,
                 const char *control_exchange, amqp_deliver_cb *cb,
                 amqp_return_cb *return_cb, void *aux)
{
    struct amqp_conn *c = xzalloc(sizeof *c);
    c->url.vhost = xstrdup(url->vhost);
    c->url.n_hosts = url->n_hosts;
    c->url.hosts = xcalloc(url->n_hosts, sizeof *c->url.hosts);
    for (size_t i = 0; i < url->n_hosts; i++) {
        c->url.hosts[i].user = xstrdup(url->hosts[i].user);
        c->url.hosts[i].password = xstrdup(url->hosts[i].password);
        c->url.hosts[i].host = xstrdup(url->hosts[i].host);
        c->url.hosts[i].port = url->hosts[i].port;
    }
    c->opts = *opts;
    c->exchange = xstrdup(control_exchange);
    c->cb = cb;
    c->return_cb = return_cb;
    c->aux = aux;
    c->backoff_ms = RETRY_MIN_MS;
    return c;
}

static void
amqp_conn_close(struct amqp_conn *c, const char *why)
{
    if (c->conn) {
        if (why) {
            const struct amqp_host *h = &c->url.hosts[c->cur_host];
            VLOG_WARN("%s:%d: AMQP connection lost (%s)", h->host, h->port,
                      why);
            free(c->last_error);
            c->last_error = xstrdup(why);
        }
        amqp_destroy_connection(c->conn);
        c->conn = NULL;
    }
    c->ready = false;
}

void
amqp_conn_destroy(struct amqp_conn *c)
{
    if (!c) {
        return;
    }
    if (c->conn) {
        amqp_channel_close(c->conn, CHANNEL, AMQP_REPLY_SUCCESS);
        amqp_connection_close(c->conn, AMQP_REPLY_SUCCESS);
        amqp_conn_close(c, NULL);
    }
    for (size_t i = 0; i < c->n_decls; i++) {
        free(c->decls[i].queue);
        free(c->decls[i].key);
        free(c->decls[i].consumer_tag);
    }
    free(c->decls);
    amqp_url_destroy(&c->url);
    free(c->exchange);
    free(c->last_error);
    free(c);
}

void
amqp_conn_add_queue(struct amqp_conn *c, enum amqp_decl_kind kind,
                    const char *queue, const char *key)
{
    c->decls = xrealloc(c->decls, (c->n_decls + 1) * sizeof *c->decls);
    struct amqp_decl *d = &c->decls[c->n_decls];
    d->kind = kind;
    d->queue = xstrdup(queue);
    d->key = xstrdup(key ? key : queue);
    d->consumer_tag = xasprintf("%"PRIuSIZE, c->n_decls + 1);
    c->n_decls++;
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
            return xasprintf("%s: broker closed the connection: %d %.*s",
                             what, m->reply_code, (int) m->reply_text.len,
                             (const char *) m->reply_text.bytes);
        } else if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            const amqp_channel_close_t *m = r.reply.decoded;
            return xasprintf("%s: broker closed the channel: %d %.*s",
                             what, m->reply_code, (int) m->reply_text.len,
                             (const char *) m->reply_text.bytes);
        }
        return xasprintf("%s: broker error (method %#x)", what, r.reply.id);
    }
    return xasprintf("%s: unknown error", what);
}

void
amqp_queue_flags(const struct amqp_options *opts, enum amqp_decl_kind kind,
                 struct amqp_queue_flags *f)
{
    memset(f, 0, sizeof *f);
    if (kind == AMQP_DECL_TOPIC_QUEUE) {
        /* Quorum queues are durable by nature; fanout and reply queues are
         * never quorum in these releases. */
        f->durable = opts->durable || opts->quorum;
        f->auto_delete = opts->auto_delete;
        if (opts->quorum) {
            f->args[f->n_args].key = "x-queue-type";
            f->args[f->n_args++].string = "quorum";
        }
    } else {
        f->args[f->n_args].key = "x-expires";
        f->args[f->n_args++].integer = opts->transient_ttl * 1000;
    }
    if (opts->ha && !opts->quorum) {
        f->args[f->n_args].key = "x-ha-policy";
        f->args[f->n_args++].string = "all";
    }
}

/* 'f' as an AMQP table; 'entries' must have room for 3. */
static amqp_table_t
flags_table(const struct amqp_queue_flags *f, amqp_table_entry_t *entries)
{
    for (size_t i = 0; i < f->n_args; i++) {
        entries[i].key = amqp_cstring_bytes(f->args[i].key);
        if (f->args[i].string) {
            entries[i].value.kind = AMQP_FIELD_KIND_UTF8;
            entries[i].value.value.bytes
                = amqp_cstring_bytes(f->args[i].string);
        } else {
            entries[i].value.kind = AMQP_FIELD_KIND_I32;
            entries[i].value.value.i32 = f->args[i].integer;
        }
    }
    return (amqp_table_t) { .num_entries = f->n_args, .entries = entries };
}

static char *
declare_fanout_exchange(struct amqp_conn *c, const char *topic)
{
    char *name = xasprintf("%s_fanout", topic);
    amqp_exchange_declare(c->conn, CHANNEL, amqp_cstring_bytes(name),
                          amqp_cstring_bytes("fanout"), 0, 0, 1, 0,
                          amqp_empty_table);
    char *error = reply_error(amqp_get_rpc_reply(c->conn),
                              "declaring the fanout exchange");
    free(name);
    return error;
}

/* Declares, binds and consumes one queue. */
static char *
declare_queue(struct amqp_conn *c, const struct amqp_decl *d)
{
    struct amqp_queue_flags f;
    amqp_queue_flags(&c->opts, d->kind, &f);
    amqp_table_entry_t entries[3];
    amqp_table_t args = flags_table(&f, entries);
    char *error;

    if (d->kind == AMQP_DECL_FANOUT_QUEUE) {
        error = declare_fanout_exchange(c, d->key);
        if (error) {
            return error;
        }
    }
    amqp_queue_declare(c->conn, CHANNEL, amqp_cstring_bytes(d->queue), 0,
                       f.durable, 0, f.auto_delete, args);
    error = reply_error(amqp_get_rpc_reply(c->conn), "declaring a queue");
    if (error) {
        return error;
    }
    if (d->kind != AMQP_DECL_REPLY_QUEUE) {
        char *exchange = (d->kind == AMQP_DECL_TOPIC_QUEUE
                          ? xstrdup(c->exchange)
                          : xasprintf("%s_fanout", d->key));
        amqp_queue_bind(c->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                        amqp_cstring_bytes(exchange),
                        amqp_cstring_bytes(d->key), amqp_empty_table);
        free(exchange);
        error = reply_error(amqp_get_rpc_reply(c->conn), "binding a queue");
        if (error) {
            return error;
        }
    }
    amqp_basic_consume(c->conn, CHANNEL, amqp_cstring_bytes(d->queue),
                       amqp_cstring_bytes(d->consumer_tag), 0, 0, 0,
                       amqp_empty_table);
    return reply_error(amqp_get_rpc_reply(c->conn), "consuming a queue");
}

/* Connects to the next broker of the list and declares everything.
 * Blocks for at most a few seconds (see the file comment). */
static char *
amqp_conn_connect(struct amqp_conn *c, const struct amqp_host *h)
{
    c->conn = amqp_new_connection();
    amqp_socket_t *sock;
    if (c->opts.ssl) {
        sock = amqp_ssl_socket_new(c->conn);
        if (!sock) {
            return xstrdup("cannot create a TLS socket");
        }
        if (c->opts.ssl_ca_file
            && amqp_ssl_socket_set_cacert(sock, c->opts.ssl_ca_file)) {
            return xasprintf("cannot load ssl_ca_file %s",
                             c->opts.ssl_ca_file);
        }
        amqp_ssl_socket_set_verify_peer(sock, c->opts.ssl_ca_file != NULL);
        amqp_ssl_socket_set_verify_hostname(sock, false);
        if (c->opts.ssl_cert_file && c->opts.ssl_key_file
            && amqp_ssl_socket_set_key(sock, c->opts.ssl_cert_file,
                                       c->opts.ssl_key_file)) {
            return xasprintf("cannot load ssl_cert_file/ssl_key_file");
        }
    } else {
        sock = amqp_tcp_socket_new(c->conn);
    }
    struct timeval connect_tv = { CONNECT_TIMEOUT_S, 0 };
    struct timeval rpc_tv = { RPC_TIMEOUT_S, 0 };
    amqp_set_handshake_timeout(c->conn, &connect_tv);
    amqp_set_rpc_timeout(c->conn, &rpc_tv);
    int status = amqp_socket_open_noblock(sock, h->host, h->port,
                                          &connect_tv);
    if (status) {
        return xasprintf("cannot connect: %s", amqp_error_string2(status));
    }
    char *error = reply_error(
        amqp_login(c->conn, c->url.vhost, 0, FRAME_MAX, c->opts.heartbeat,
                   AMQP_SASL_METHOD_PLAIN, h->user, h->password),
        "logging in");
    if (error) {
        return error;
    }
    amqp_channel_open(c->conn, CHANNEL);
    error = reply_error(amqp_get_rpc_reply(c->conn), "opening a channel");
    if (error) {
        return error;
    }
    amqp_exchange_declare(c->conn, CHANNEL, amqp_cstring_bytes(c->exchange),
                          amqp_cstring_bytes("topic"), 0,
                          c->opts.durable || c->opts.quorum,
                          c->opts.auto_delete, 0, amqp_empty_table);
    error = reply_error(amqp_get_rpc_reply(c->conn),
                        "declaring the control exchange");
    for (size_t i = 0; !error && i < c->n_decls; i++) {
        error = declare_queue(c, &c->decls[i]);
    }
    return error;
}

static void
amqp_conn_try_connect(struct amqp_conn *c)
{
    c->cur_host = c->next_host;
    const struct amqp_host *h = &c->url.hosts[c->cur_host];
    c->next_host = (c->next_host + 1) % c->url.n_hosts;

    char *error = amqp_conn_connect(c, h);
    if (error) {
        VLOG_WARN_RL(&rl, "%s:%d: %s; retrying in %d ms", h->host, h->port,
                     error, c->backoff_ms);
        free(c->last_error);
        c->last_error = error;
        amqp_conn_close(c, NULL);
        c->next_attempt = time_msec() + c->backoff_ms;
        c->backoff_ms = MIN(c->backoff_ms * 2, RETRY_MAX_MS);
        return;
    }
    /* After a failure, try the same broker first again. */
    c->next_host = c->cur_host;
    c->ready = true;
    c->backoff_ms = RETRY_MIN_MS;
    c->n_connects++;
    VLOG_INFO("%s:%d: connected to the message broker (vhost %s)", h->host,
              h->port, c->url.vhost);
}

static const char *
queue_of_tag(const struct amqp_conn *c, amqp_bytes_t tag)
{
    for (size_t i = 0; i < c->n_decls; i++) {
        const char *t = c->decls[i].consumer_tag;
        if (strlen(t) == tag.len && !memcmp(t, tag.bytes, tag.len)) {
            return c->decls[i].queue;
        }
    }
    return NULL;
}

/* Handles a frame that is not a delivery: returned messages, cancelled
 * consumers, closed channels.  Returns false if the connection is done. */
static bool
amqp_conn_handle_frame(struct amqp_conn *c)
{
    amqp_frame_t frame;
    struct timeval zero = { 0, 0 };
    int status = amqp_simple_wait_frame_noblock(c->conn, &frame, &zero);
    if (status == AMQP_STATUS_TIMEOUT) {
        return true;
    } else if (status != AMQP_STATUS_OK) {
        amqp_conn_close(c, amqp_error_string2(status));
        return false;
    }
    if (frame.frame_type != AMQP_FRAME_METHOD) {
        return true;
    }
    switch (frame.payload.method.id) {
    case AMQP_BASIC_RETURN_METHOD: {
        /* A mandatory publish nobody took: hand it back to the caller. */
        amqp_message_t message;
        amqp_rpc_reply_t r = amqp_read_message(c->conn, frame.channel,
                                               &message, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            c->n_dropped++;
            if (c->return_cb) {
                c->return_cb(c->aux, message.body.bytes, message.body.len);
            }
            amqp_destroy_message(&message);
        }
        return true;
    }
    case AMQP_BASIC_CANCEL_METHOD:
        amqp_conn_close(c, "the broker cancelled a consumer");
        return false;
    case AMQP_CHANNEL_CLOSE_METHOD: {
        const amqp_channel_close_t *m = frame.payload.method.decoded;
        char *why = xasprintf("channel closed by the broker: %d %.*s",
                              m->reply_code, (int) m->reply_text.len,
                              (const char *) m->reply_text.bytes);
        amqp_conn_close(c, why);
        free(why);
        return false;
    }
    case AMQP_CONNECTION_CLOSE_METHOD:
        amqp_conn_close(c, "connection closed by the broker");
        return false;
    default:
        return true;
    }
}

void
amqp_conn_run(struct amqp_conn *c)
{
    if (!c->ready) {
        if (time_msec() >= c->next_attempt) {
            amqp_conn_try_connect(c);
        }
        if (!c->ready) {
            return;
        }
    }

    for (int i = 0; i < 64 && c->ready; i++) {
        amqp_envelope_t env;
        struct timeval zero = { 0, 0 };
        amqp_maybe_release_buffers(c->conn);
        amqp_rpc_reply_t r = amqp_consume_message(c->conn, &env, &zero, 0);
        if (r.reply_type == AMQP_RESPONSE_NORMAL) {
            const char *queue = queue_of_tag(c, env.consumer_tag);
            c->n_received++;
            if (queue) {
                c->cb(c->aux, queue, env.message.body.bytes,
                      env.message.body.len);
            }
            /* The callback may not close us; acknowledge as oslo does,
             * whatever the message held. */
            if (c->conn) {
                amqp_basic_ack(c->conn, CHANNEL, env.delivery_tag, 0);
            }
            amqp_destroy_envelope(&env);
            continue;
        }
        if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION) {
            if (r.library_error == AMQP_STATUS_TIMEOUT) {
                break;
            } else if (r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
                if (!amqp_conn_handle_frame(c)) {
                    break;
                }
                continue;
            }
            amqp_conn_close(c, amqp_error_string2(r.library_error));
        } else {
            char *error = reply_error(r, "receiving");
            amqp_conn_close(c, error);
            free(error);
        }
    }
    if (!c->ready) {
        c->next_attempt = time_msec() + c->backoff_ms;
    }
}

void
amqp_conn_wait(struct amqp_conn *c)
{
    if (!c->ready) {
        poll_timer_wait_until(c->next_attempt);
        return;
    }
    if (amqp_data_in_buffer(c->conn) || amqp_frames_enqueued(c->conn)) {
        poll_immediate_wake();
        return;
    }
    poll_fd_wait(amqp_get_sockfd(c->conn), POLLIN);
    /* rabbitmq-c sends heartbeats only from inside its calls: come back
     * often enough for it to do so. */
    int hb = c->opts.heartbeat > 0 ? c->opts.heartbeat : 60;
    poll_timer_wait(MIN(hb * 1000 / 2, 15000));
}

bool
amqp_conn_is_ready(const struct amqp_conn *c)
{
    return c->ready;
}

unsigned int
amqp_conn_n_connects(const struct amqp_conn *c)
{
    return c->n_connects;
}

bool
amqp_conn_publish(struct amqp_conn *c, const char *exchange, bool fanout,
                  const char *routing_key, const char *body,
                  int expiration_ms)
{
    if (!c->ready) {
        return false;
    }
    char *fanout_exchange = NULL;
    if (fanout) {
        char *error = declare_fanout_exchange(c, routing_key);
        if (error) {
            amqp_conn_close(c, error);
            free(error);
            return false;
        }
        fanout_exchange = xasprintf("%s_fanout", routing_key);
    }

    amqp_basic_properties_t props;
    memset(&props, 0, sizeof props);
    props._flags = (AMQP_BASIC_CONTENT_TYPE_FLAG
                    | AMQP_BASIC_CONTENT_ENCODING_FLAG
                    | AMQP_BASIC_DELIVERY_MODE_FLAG
                    | AMQP_BASIC_PRIORITY_FLAG | AMQP_BASIC_HEADERS_FLAG);
    props.content_type = amqp_cstring_bytes("application/json");
    props.content_encoding = amqp_cstring_bytes("utf-8");
    props.delivery_mode = 2;
    props.priority = 0;
    props.headers = amqp_empty_table;
    char expiration[16];
    if (expiration_ms > 0) {
        snprintf(expiration, sizeof expiration, "%d", expiration_ms);
        props._flags |= AMQP_BASIC_EXPIRATION_FLAG;
        props.expiration = amqp_cstring_bytes(expiration);
    }

    const char *ex = fanout ? fanout_exchange
                     : exchange ? exchange : c->exchange;
    int status = amqp_basic_publish(c->conn, CHANNEL, amqp_cstring_bytes(ex),
                                    amqp_cstring_bytes(fanout ? ""
                                                       : routing_key),
                                    expiration_ms > 0, 0, &props,
                                    amqp_cstring_bytes(body));
    free(fanout_exchange);
    if (status != AMQP_STATUS_OK) {
        amqp_conn_close(c, amqp_error_string2(status));
        c->next_attempt = time_msec() + c->backoff_ms;
        return false;
    }
    c->n_published++;
    return true;
}

void
amqp_conn_delete_fanout_queues(struct amqp_conn *c)
{
    if (!c->ready) {
        return;
    }
    for (size_t i = 0; i < c->n_decls; i++) {
        if (c->decls[i].kind == AMQP_DECL_FANOUT_QUEUE) {
            amqp_queue_delete(c->conn, CHANNEL,
                              amqp_cstring_bytes(c->decls[i].queue), 0, 0);
            char *error = reply_error(amqp_get_rpc_reply(c->conn),
                                      "deleting a fanout queue");
            if (error) {
                VLOG_WARN("%s: %s", c->decls[i].queue, error);
                free(error);
                return;
            }
        }
    }
}

void
amqp_conn_format(const struct amqp_conn *c, struct ds *s)
{
    const struct amqp_host *h = &c->url.hosts[c->cur_host];
    ds_put_format(s, "message broker %s:%d (vhost %s, %"PRIuSIZE" in the "
                  "failover list): %s\n", h->host, h->port, c->url.vhost,
                  c->url.n_hosts, c->ready ? "connected" : "connecting");
    ds_put_format(s, "  connects=%u received=%llu published=%llu "
                  "returned=%llu%s%s\n", c->n_connects, c->n_received,
                  c->n_published, c->n_dropped,
                  c->last_error ? " last error: " : "",
                  c->last_error ? c->last_error : "");
}
