/*
 * amqp-conn: one AMQP 0-9-1 connection to RabbitMQ on rabbitmq-c, driven
 * from the OVS poll loop.
 *
 * Layer: sessions.  Owns the socket, the failover list of brokers from
 * transport_url, reconnection with back-off, and AMQP heartbeats (which
 * rabbitmq-c only sends from inside its own calls, so this module calls
 * into it at least every heartbeat/2 seconds).  Receiving never blocks: a
 * readable socket, or frames already buffered inside the library, is read
 * with zero-timeout calls.  Connection set-up (TCP connect, login, channel
 * open, the declarations) uses the library's blocking calls bounded by a
 * short timeout; that is the one place where the loop may wait, and only
 * while (re)connecting.
 */
#ifndef OVSAGENT_AMQP_CONN_H
#define OVSAGENT_AMQP_CONN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;

/* One broker of a transport_url. */
struct amqp_host {
    char *user;
    char *password;
    char *host;
    int port;
};

struct amqp_url {
    struct amqp_host *hosts;
    size_t n_hosts;
    char *vhost;
};

/* Parses "rabbit://user:pass@host:port[,user:pass@host:port...]/vhost".
 * Returns NULL or a malloc'd error (which never contains a password). */
char *amqp_url_parse(const char *url, struct amqp_url *);
void amqp_url_destroy(struct amqp_url *);

/* Queue and exchange flags that depend on [oslo_messaging_rabbit]
 * options (rpc-wire §1.4). */
struct amqp_options {
    bool durable;               /* amqp_durable_queues (or quorum). */
    bool auto_delete;           /* amqp_auto_delete. */
    bool quorum;                /* rabbit_quorum_queue. */
    bool ha;                    /* rabbit_ha_queues. */
    int transient_ttl;          /* rabbit_transient_queues_ttl, s. */
    int heartbeat;              /* heartbeat_timeout_threshold, s. */
    bool ssl;
    const char *ssl_ca_file;
    const char *ssl_cert_file;
    const char *ssl_key_file;
};

/* What the session declares after each connection. */
enum amqp_decl_kind {
    AMQP_DECL_TOPIC_QUEUE,      /* Queue bound to the control exchange. */
    AMQP_DECL_FANOUT_QUEUE,     /* Per-process queue on <topic>_fanout. */
    AMQP_DECL_REPLY_QUEUE,      /* reply_<id>, on the default exchange. */
};

/* How a queue of 'kind' is declared under 'opts' (rpc-wire §1.3-1.4):
 * a pure function, so the PRECONDITION_FAILED-sensitive flags are unit
 * tested. */
struct amqp_queue_flags {
    bool durable;
    bool auto_delete;
    size_t n_args;
    struct {
        const char *key;
        const char *string;     /* A string argument, or NULL... */
        int32_t integer;        /* ...for a 32-bit integer one. */
    } args[3];
};
void amqp_queue_flags(const struct amqp_options *, enum amqp_decl_kind,
                      struct amqp_queue_flags *);

struct amqp_conn;

/* A message delivered to one of our consumers.  'body' is only valid
 * during the callback; the message is acknowledged after it returns. */
typedef void amqp_deliver_cb(void *aux, const char *queue,
                             const void *body, size_t size);

/* A mandatory message the broker could not route to any queue, returned
 * to us (a call to a topic nobody consumes right now). */
typedef void amqp_return_cb(void *aux, const void *body, size_t size);

struct amqp_conn *amqp_conn_create(const struct amqp_url *,
                                   const struct amqp_options *,
                                   const char *control_exchange,
                                   amqp_deliver_cb *, amqp_return_cb *,
                                   void *aux);
void amqp_conn_destroy(struct amqp_conn *);

/* Adds a queue to declare and consume on every connection.  For topic
 * queues 'key' is the routing key and the queue name; for fanout queues
 * 'key' is the topic and 'queue' the per-process queue name. */
void amqp_conn_add_queue(struct amqp_conn *, enum amqp_decl_kind,
                         const char *queue, const char *key);

void amqp_conn_run(struct amqp_conn *);
void amqp_conn_wait(struct amqp_conn *);

bool amqp_conn_is_ready(const struct amqp_conn *);

/* Number of times the connection has become ready. */
unsigned int amqp_conn_n_connects(const struct amqp_conn *);

/* Publishes 'body' on 'exchange' ("" for the default exchange; NULL for
 * the control exchange) with 'routing_key'.  'expiration_ms' > 0 sets the
 * message TTL and makes the message mandatory (calls): if no queue takes
 * it, the broker returns it through the return callback.  For a fanout exchange the exchange is declared
 * first.  Returns false if the message could not be sent. */
bool amqp_conn_publish(struct amqp_conn *, const char *exchange,
                       bool fanout, const char *routing_key,
                       const char *body, int expiration_ms);

/* Deletes the per-process fanout queues (clean exit). */
void amqp_conn_delete_fanout_queues(struct amqp_conn *);

void amqp_conn_format(const struct amqp_conn *, struct ds *);

#endif /* amqp-conn.h */
