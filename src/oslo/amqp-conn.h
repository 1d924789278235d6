/*
 * amqp-conn: one AMQP 0-9-1 connection to RabbitMQ on rabbitmq-c, driven
 * from the OVS poll loop.
 *
 * Layer: sessions.  Owns the socket (TCP or TLS), the failover list of
 * brokers from transport_url, reconnection with back-off, AMQP heartbeats,
 * and the declarations of the control exchange and of the queues the
 * session consumes (re-made after every reconnection).  It knows nothing
 * of oslo.messaging's message format: it hands up message bodies and
 * publishes bodies it is given.
 *
 * Receiving never blocks: a readable socket, or frames already buffered
 * inside rabbitmq-c, is read one frame at a time with zero-timeout calls,
 * and message bodies that span many frames are reassembled here.
 * rabbitmq-c sends heartbeats only from inside its own calls, so this
 * module sends them itself and declares the broker dead after a heartbeat
 * timeout of silence.
 *
 * Nothing here waits for the broker in the loop.  Connection set-up (TCP
 * connect, TLS handshake, login, channel open and the declarations) uses
 * rabbitmq-c's synchronous calls, bounded by short timeouts, in a thread of
 * its own per attempt; the loop waits on a latch for its outcome and
 * meanwhile serves OpenFlow, OVSDB and everything else.  A queue added while connected
 * is declared, bound and consumed without waiting for the answers (a refusal
 * comes back as a channel close, and the connection is made again).
 *
 * What still waits: at a clean exit, the goodbye and the deletion of the
 * fanout queues (2 s at most); and a publish to a broker that has stopped
 * reading.  A publish that finds the kernel's send buffer full fails at
 * once, as if not connected, and the heartbeat then finds the broker dead;
 * only a message larger than the room left waits for the broker to read.
 *
 * The state machine:
 *
 *     BACKOFF --(retry time reached: a set-up thread starts)--> CONNECTING
 *        ^  ^                                                     |  |
 *        |  +---------(set-up fails: next host, longer delay)-----+  |
 *        |                                                           |
 *        |                     (set-up succeeds) READY <-------------+
 *        |                                         |
 *        +--(socket error, heartbeat timeout, broker closes)---------+
 */
#ifndef OVSAGENT_AMQP_CONN_H
#define OVSAGENT_AMQP_CONN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

/* transport_url. */

/* One broker of a transport_url.  All strings are malloc'd and owned by
 * the struct amqp_url that holds it. */
struct amqp_host {
    char *user;                 /* URL-decoded; "guest" if absent. */
    char *password;             /* URL-decoded; "guest" if absent. */
    char *host;                 /* Without the brackets of an IPv6 address. */
    int port;                   /* 5672 if absent. */
};

struct amqp_url {
    struct amqp_host *hosts;    /* In URL order. */
    size_t n_hosts;
    char *vhost;                /* URL-decoded; "/" for an empty path. */
};

/* Parses "rabbit://user:pass@host:port[,user:pass@host:port...]/vhost"
 * (docs/wire.md §2.1) into 'u'.  Returns NULL, and 'u' must be released with
 * amqp_url_destroy(), or a malloc'd error, which never contains a
 * password, and 'u' is left empty. */
char *amqp_url_parse(const char *url, struct amqp_url *u);
void amqp_url_destroy(struct amqp_url *);

/* Options. */

/* The [oslo_messaging_rabbit] options that shape the connection and the
 * declarations (docs/wire.md §3.3). */
struct amqp_options {
    bool durable;               /* amqp_durable_queues. */
    bool auto_delete;           /* amqp_auto_delete. */
    bool quorum;                /* rabbit_quorum_queue. */
    bool ha;                    /* rabbit_ha_queues. */
    int quorum_delivery_limit;  /* 0: none. */
    int quorum_max_memory_length;
    int quorum_max_memory_bytes;
    int transient_ttl;          /* rabbit_transient_queues_ttl, s. */
    int heartbeat;              /* heartbeat_timeout_threshold, s; 0: off. */
    int heartbeat_rate;         /* heartbeat_rate. */
    int retry_interval;         /* rabbit_retry_interval, s. */
    int retry_backoff;          /* rabbit_retry_backoff, s. */
    int interval_max;           /* rabbit_interval_max, s. */
    bool ssl;
    const char *ssl_ca_file;    /* NULL or "": no peer verification. */
    const char *ssl_cert_file;
    const char *ssl_key_file;
    bool keep_host_order;       /* Do not shuffle the broker list. */
};

/* Fills 'opts' with oslo.messaging's defaults. */
void amqp_options_init(struct amqp_options *opts);

/* Declarations (docs/wire.md §3.1-3.3). */

enum amqp_decl_kind {
    AMQP_DECL_CONTROL_EXCHANGE, /* "neutron", topic. */
    AMQP_DECL_FANOUT_EXCHANGE,  /* "<topic>_fanout". */
    AMQP_DECL_TOPIC_QUEUE,      /* "<topic>" or "<topic>.<host>". */
    AMQP_DECL_FANOUT_QUEUE,     /* "<topic>_fanout_<uuid>". */
    AMQP_DECL_REPLY_QUEUE,      /* "reply_<uuid>". */
};

#define AMQP_DECL_MAX_ARGS 5

/* One entry of the arguments table of a declaration. */
struct amqp_decl_arg {
    const char *key;            /* A static string. */
    bool is_int;                /* A signed 32-bit integer, or a string. */
    int32_t i;
    const char *s;              /* A static string. */
};

/* The flags and arguments of one declaration. */
struct amqp_decl_flags {
    bool durable;
    bool auto_delete;
    bool exclusive;             /* Never set: oslo declares none. */
    size_t n_args;
    struct amqp_decl_arg args[AMQP_DECL_MAX_ARGS];
};

/* Computes what a declaration of 'kind' must carry under 'opts' to be
 * equivalent to the Python services' (so that RabbitMQ never answers
 * PRECONDITION_FAILED).  Pure: no connection needed. */
void amqp_decl_flags(const struct amqp_options *opts,
                     enum amqp_decl_kind kind, struct amqp_decl_flags *);

/* Back-off and heartbeats, as pure functions of time for unit tests. */

/* The delay before reconnection attempt number 'n_failures' + 1 after
 * 'n_failures' consecutive failures (n_failures >= 1), in ms: kombu's
 * schedule, retry_interval, then retry_backoff more per failure, capped at
 * interval_max. */
long long int amqp_backoff_ms(const struct amqp_options *,
                              unsigned int n_failures);

enum amqp_heartbeat_action {
    AMQP_HB_NONE,               /* Nothing to do yet. */
    AMQP_HB_SEND,               /* Send a heartbeat frame now. */
    AMQP_HB_DEAD,               /* Nothing received for too long. */
};

/* With 'heartbeat' (s, negotiated, 0 = off) and heartbeat_rate 'rate',
 * what to do at 'now' when the last bytes were received at 'last_rx' and
 * sent at 'last_tx' (all ms).  The broker is dead after 'heartbeat' s of
 * silence (it sends a heartbeat every heartbeat/2 s); we send one after
 * heartbeat/max(rate, 2) s without sending anything.  '*next' is set to
 * the time when the answer next changes (LLONG_MAX if never). */
enum amqp_heartbeat_action amqp_heartbeat_check(int heartbeat, int rate,
                                                long long int now,
                                                long long int last_rx,
                                                long long int last_tx,
                                                long long int *next);

/* The connection. */

enum amqp_conn_state {
    AMQP_CONN_BACKOFF,          /* Not connected; retrying at a time. */
    AMQP_CONN_CONNECTING,       /* A set-up thread is at work. */
    AMQP_CONN_READY,            /* Connected, everything declared. */
};

const char *amqp_conn_state_name(enum amqp_conn_state);

struct amqp_conn;

/* A message delivered to one of our consumers, on queue 'queue'.  'body'
 * is only valid during the callback; the message is acknowledged after
 * the callback returns.  The callback may publish but must not destroy
 * the connection. */
typedef void amqp_deliver_cb(void *aux, const char *queue,
                             const void *body, size_t size);

/* A mandatory message that the broker could not route to any queue and
 * returned: a call to a topic nobody consumes right now. */
typedef void amqp_return_cb(void *aux, const void *body, size_t size);

/* Creates a connection to the brokers of 'url' with 'opts' and
 * 'control_exchange', all copied (strings included).
 * Connecting starts in amqp_conn_run().  'connection_name' (copied) is
 * what the broker's management shows. */
struct amqp_conn *amqp_conn_create(const struct amqp_url *url,
                                   const struct amqp_options *opts,
                                   const char *control_exchange,
                                   const char *connection_name,
                                   amqp_deliver_cb *, amqp_return_cb *,
                                   void *aux);

/* Closes the connection (without deleting anything on the broker) and
 * frees it.  Accepts NULL. */
void amqp_conn_destroy(struct amqp_conn *);

/* Adds a queue to declare, bind and consume on every connection:
 *   AMQP_DECL_TOPIC_QUEUE:  'queue' bound to the control exchange with
 *                           routing key 'key' (NULL: the queue name);
 *   AMQP_DECL_FANOUT_QUEUE: 'queue' bound to exchange "<key>_fanout",
 *                           which is declared too, with routing key 'key';
 *   AMQP_DECL_REPLY_QUEUE:  'queue', unbound ('key' is ignored).
 * If the connection is up, the queue is declared at the next
 * amqp_conn_run(). */
void amqp_conn_add_queue(struct amqp_conn *, enum amqp_decl_kind,
                         const char *queue, const char *key);

void amqp_conn_run(struct amqp_conn *);
void amqp_conn_wait(struct amqp_conn *);

bool amqp_conn_is_ready(const struct amqp_conn *);

/* Number of times the connection has become ready. */
unsigned int amqp_conn_n_connects(const struct amqp_conn *);

/* Publishes 'body' (a null-terminated string):
 *   fanout:           on exchange "<routing_key>_fanout" (declared first,
 *                     without waiting) with an empty routing key;
 *   exchange NULL:    on the control exchange with 'routing_key';
 *   exchange "":      on the default exchange, routing_key = a queue.
 * 'expiration_ms' > 0 sets the message TTL and makes the publish
 * mandatory: a message no queue takes comes back through the return
 * callback.  Returns false if the message could not be sent (not
 * connected, the broker reads nothing and the send buffer is full, or the
 * connection failed while sending). */
bool amqp_conn_publish(struct amqp_conn *, const char *exchange,
                       bool fanout, const char *routing_key,
                       const char *body, int expiration_ms);

/* Deletes the per-process fanout queues, waiting for the broker's answer
 * (for a clean exit).  Does nothing if not connected. */
void amqp_conn_delete_fanout_queues(struct amqp_conn *);

/* For ovsagent/show: broker, state, counters.  Never shows credentials. */
void amqp_conn_format(const struct amqp_conn *, struct ds *);

#endif /* amqp-conn.h */
