/*
 * rpc: oslo.messaging RPC over RabbitMQ, as the Neutron agent uses it.
 *
 * Layer: sessions.  Owns the AMQP connection (amqp-conn), its reconnection
 * and failover, the declarations of exchanges and queues, the reply queue
 * of calls, and the consumers of the agent's topics.  Callers above speak
 * only in topics, methods and JSON arguments.
 *
 * Everything runs inside the OVS poll loop: rpc_run() does the work,
 * rpc_wait() registers the socket and timers.  Nothing waits for the
 * broker: connection set-up runs in a thread of amqp-conn's (see
 * amqp-conn.h for the two bounded exceptions, at exit and on a full send
 * buffer).
 */
#ifndef OVSAGENT_RPC_H
#define OVSAGENT_RPC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct ds;
struct json;
struct rpc;

/* Creates the RPC session for cfg->transport_url and the
 * [oslo_messaging_rabbit] options.  Connecting starts in rpc_run(). */
struct rpc *rpc_create(const struct agent_config *);

/* Settings of a session that are not configuration options, for tools and
 * tests.  A zeroed struct gives what rpc_create() does. */
struct rpc_settings {
    bool keep_host_order;       /* Try the brokers in transport_url order
                                 * instead of a random one first. */

    /* No broker at all, for fuzzers and tests: transport_url is not read,
     * nothing is sent, and the names a peer must know are predictable:
     * calls wait for a reply given to rpc_inject() (or their timeout) on
     * queue "reply_offline", their _msg_ids are "offline-1", "offline-2",
     * ... in the order of the calls, and a fanout queue is named
     * "<topic>_fanout_offline".  It is always ready. */
    bool offline;
};

/* Like rpc_create(), with 'settings' (may be NULL; only read during the
 * call).  'cfg' is only read during the call too. */
struct rpc *rpc_create_with(const struct agent_config *cfg,
                            const struct rpc_settings *settings);

/* Deletes the agent's fanout queues (clean exit; waits briefly for the
 * broker), closes, and runs the callback of every pending call with the
 * error "shutting down".  Accepts NULL. */
void rpc_destroy(struct rpc *);

void rpc_run(struct rpc *);
void rpc_wait(struct rpc *);

/* True while connected with every declaration and consumer in place. */
bool rpc_is_ready(const struct rpc *);

/* Grows by one each time the session becomes ready after having been
 * down (not on the first connection): the caller then resyncs, because
 * casts sent meanwhile are lost. */
unsigned int rpc_reconnect_seqno(const struct rpc *);

/* The result of a call: exactly one of 'result' (may be JSON null) and
 * 'error' is non-NULL.  'error' is a one-line description of a failure
 * reply ("RemoteError: ..."), a timeout or a lost connection.  Neither is
 * kept after the callback returns. */
typedef void rpc_reply_cb(void *aux, const struct json *result,
                          const char *error);

/* Calls 'method' on 'topic' (e.g. "q-plugin", "q-reports-plugin") with the
 * JSON object 'args' (ownership passes to rpc), RPC API 'version' and
 * 'namespace' (NULL for none).  'cb' runs exactly once, from rpc_run(),
 * unless the call is cancelled.  Returns a call id (never 0). */
uint64_t rpc_call(struct rpc *, const char *topic, const char *method,
                  struct json *args, const char *version,
                  const char *namespace, int timeout_s,
                  rpc_reply_cb *cb, void *aux);

/* Forgets call 'id': its callback will not run. */
void rpc_cancel(struct rpc *, uint64_t id);

/* Casts (no reply) to 'topic', or to every consumer of it with
 * rpc_fanout_cast().  'args' passes to rpc. */
void rpc_cast(struct rpc *, const char *topic, const char *method,
              struct json *args, const char *version,
              const char *namespace);
void rpc_fanout_cast(struct rpc *, const char *topic, const char *method,
                     struct json *args, const char *version,
                     const char *namespace);

/* A request from the server: 'method' and its 'args' object.  Runs from
 * rpc_run(); must not keep the pointers. */
typedef void rpc_request_cb(void *aux, const char *topic,
                            const char *method, const struct json *args);

/* Consumes 'topic' the way an oslo.messaging RPC server does: the queues
 * '<topic>', '<topic>.<host>' and a fanout queue
 * '<topic>_fanout_<uuid>', as docs/wire.md §3.2 says.  Call before the
 * first rpc_run(); re-declared on every reconnection. */
void rpc_listen(struct rpc *, const char *topic, rpc_request_cb *cb,
                void *aux);

/* Consumes only the fanout of 'topic', through a queue
 * '<topic>_fanout_<uuid>' of this process's own: how the reference
 * follows the server's resource pushes (neutron-vo-<Type>-<version>). */
void rpc_listen_fanout(struct rpc *, const char *topic, rpc_request_cb *cb,
                       void *aux);

/* Handles 'size' bytes of 'body' as if they had been delivered on
 * 'queue': a reply on rpc_reply_queue(), a request on a queue of
 * rpc_listen() ('topic' and '<topic>.<host>') or rpc_listen_fanout().
 * This is where every message from the broker enters; fuzzers and tests
 * call it directly on an offline session. */
void rpc_inject(struct rpc *, const char *queue, const void *body,
                size_t size);

/* The name of this session's reply queue, "reply_<uuid>". */
const char *rpc_reply_queue(const struct rpc *);

/* For ovsagent/show: broker, state, counters. */
void rpc_format(const struct rpc *, struct ds *);

#endif /* rpc.h */
