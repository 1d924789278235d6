/*
 * rpc: oslo.messaging RPC semantics on top of amqp-conn.  See rpc.h.
 *
 * Calls wait in 'calls', a hash map keyed by their _msg_id, until their
 * final reply, their timeout, or the loss of the connection.  A finished
 * call moves to 'completed' and its callback runs from the next
 * rpc_run(): callbacks never run inside rpc_call(), rpc_cast() or
 * rpc_cancel(), so callers need not be reentrant.
 *
 * Requests from the server arrive on the queues rpc_listen() adds; each
 * queue maps to the listener of its topic.  Whatever arrives malformed is
 * logged (rate-limited), counted and dropped; amqp-conn acknowledges it
 * either way, so it never comes back.
 */
#include <config.h>
#include "log-safe.h"
#include "oslo/rpc.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "coverage.h"
#include "hash.h"
#include "oslo/amqp-conn.h"
#include "oslo/oslo-msg.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rpc);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same from the session's own counters. */
COVERAGE_DEFINE(rpc_call);
COVERAGE_DEFINE(rpc_cast);
COVERAGE_DEFINE(rpc_timeout);
COVERAGE_DEFINE(rpc_failure);
COVERAGE_DEFINE(rpc_request);
COVERAGE_DEFINE(rpc_dropped);
COVERAGE_DEFINE(rpc_duplicate);
COVERAGE_DEFINE(rpc_stray_reply);
COVERAGE_DEFINE(rpc_reconnect);

/* Everything logged above debug here is caused by a peer. */
static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* How many _unique_ids of requests to remember for duplicate detection:
 * oslo's listeners remember 16 (docs/wire.md §3.6). */
#define N_UNIQUE_IDS 16

/* A call waiting for its reply ('calls') or for its callback to run
 * ('completed'). */
struct pending_call {
    struct hmap_node hmap_node; /* In 'calls', by hash of 'msg_id'. */
    struct ovs_list list_node;  /* In 'completed'. */
    uint64_t id;                /* What rpc_call() returned. */
    char *msg_id;
    char *method;               /* For log messages. */
    long long int deadline;
    rpc_reply_cb *cb;           /* NULL once cancelled. */
    void *aux;
    struct json *result;        /* Last non-null result, owned. */
    char *error;                /* Set once failed, owned. */
};

/* The consumer of one topic. */
struct listener {
    char *topic;
    rpc_request_cb *cb;
    void *aux;
};

struct rpc {
    char *host;
    struct amqp_url url;
    struct amqp_conn *conn;     /* NULL if transport_url is unusable. */
    char *reply_q;

    struct hmap calls;          /* Waiting for a reply. */
    struct ovs_list completed;  /* To report at the next rpc_run(). */
    uint64_t next_id;

    struct listener **listeners;
    size_t n_listeners;
    struct shash queues;        /* Queue name -> struct listener *. */

    char *unique_ids[N_UNIQUE_IDS]; /* Recent requests, a ring. */
    size_t unique_idx;

    unsigned int reconnect_seqno;
    unsigned int last_connects;
    bool was_ready;

    unsigned long long int n_calls, n_casts, n_requests, n_bad;
    unsigned long long int n_timeouts, n_failures, n_duplicates;
    unsigned long long int n_stray_replies;

    bool offline;               /* See struct rpc_settings. */
};

static void rpc_deliver(void *rpc_, const char *queue, const void *body,
                        size_t size);
static void rpc_returned(void *rpc_, const void *body, size_t size);

struct rpc *
rpc_create(const struct agent_config *cfg)
{
    return rpc_create_with(cfg, NULL);
}

struct rpc *
rpc_create_with(const struct agent_config *cfg,
                const struct rpc_settings *settings)
{
    struct rpc *rpc = xzalloc(sizeof *rpc);
    rpc->host = xstrdup(cfg->host);
    hmap_init(&rpc->calls);
    ovs_list_init(&rpc->completed);
    shash_init(&rpc->queues);
    rpc->next_id = 1;

    if (settings && settings->offline) {
        rpc->offline = true;
        rpc->reply_q = xstrdup("reply_offline");
        return rpc;
    }

    char *error = amqp_url_parse(cfg->transport_url
                                 ? cfg->transport_url : "",
                                 &rpc->url);
    if (error) {
        /* main() checks the URL before getting here; a safety net. */
        VLOG_ERR("transport_url: %s", error);
        free(error);
        return rpc;
    }

    struct amqp_options opts;
    amqp_options_init(&opts);
    opts.durable = cfg->amqp_durable_queues;
    opts.auto_delete = cfg->amqp_auto_delete;
    opts.quorum = cfg->rabbit_quorum_queue;
    opts.ha = cfg->rabbit_ha_queues;
    opts.quorum_delivery_limit = cfg->rabbit_quorum_delivery_limit;
    opts.quorum_max_memory_length = cfg->rabbit_quorum_max_memory_length;
    opts.quorum_max_memory_bytes = cfg->rabbit_quorum_max_memory_bytes;
    opts.transient_ttl = cfg->rabbit_transient_queues_ttl;
    opts.heartbeat = cfg->heartbeat_timeout_threshold;
    opts.heartbeat_rate = cfg->heartbeat_rate;
    opts.retry_interval = cfg->rabbit_retry_interval;
    opts.retry_backoff = cfg->rabbit_retry_backoff;
    opts.interval_max = cfg->rabbit_interval_max;
    opts.ssl = cfg->rabbit_ssl;
    opts.ssl_ca_file = cfg->rabbit_ssl_ca_file;
    opts.ssl_cert_file = cfg->rabbit_ssl_cert_file;
    opts.ssl_key_file = cfg->rabbit_ssl_key_file;
    opts.keep_host_order = settings && settings->keep_host_order;

    /* As oslo names its connections: "<program>:<pid>:<uuid>". */
    char *uuid = oslo_msg_new_id();
    char *name = xasprintf("%s:%ld:%s", program_name ? program_name
                           : "ovsagent", (long) getpid(), uuid);
    rpc->conn = amqp_conn_create(&rpc->url, &opts, cfg->control_exchange,
                                 name, rpc_deliver, rpc_returned, rpc);
    free(name);
    free(uuid);

    /* One reply queue for the life of the process, consumed from the
     * start (docs/wire.md §3.2: it expires only without a consumer). */
    char *id = oslo_msg_new_id();
    rpc->reply_q = xasprintf("reply_%s", id);
    free(id);
    amqp_conn_add_queue(rpc->conn, AMQP_DECL_REPLY_QUEUE, rpc->reply_q,
                        NULL);
    return rpc;
}

static void
pending_free(struct pending_call *pc)
{
    json_destroy(pc->result);
    free(pc->msg_id);
    free(pc->method);
    free(pc->error);
    free(pc);
}

/* Moves 'pc' from 'calls' to 'completed', failed with 'error' if it is
 * nonnull. */
static void
complete(struct rpc *rpc, struct pending_call *pc, const char *error)
{
    hmap_remove(&rpc->calls, &pc->hmap_node);
    if (error) {
        free(pc->error);
        pc->error = xstrdup(error);
    }
    if (pc->error) {
        json_destroy(pc->result);
        pc->result = NULL;
    }
    ovs_list_push_back(&rpc->completed, &pc->list_node);
}

static void
run_completions(struct rpc *rpc)
{
    struct pending_call *pc;
    LIST_FOR_EACH_POP (pc, list_node, &rpc->completed) {
        if (pc->cb) {
            struct json *null = NULL;
            const struct json *result = NULL;
            if (!pc->error) {
                result = pc->result ? pc->result
                         : (null = json_null_create());
            }
            pc->cb(pc->aux, result, pc->error);
            json_destroy(null);
        }
        pending_free(pc);
    }
}

static void
fail_all_calls(struct rpc *rpc, const char *error)
{
    struct pending_call *pc;
    HMAP_FOR_EACH_SAFE (pc, hmap_node, &rpc->calls) {
        complete(rpc, pc, error);
    }
}

void
rpc_destroy(struct rpc *rpc)
{
    if (!rpc) {
        return;
    }
    if (rpc->conn) {
        /* docs/wire.md §3.2: a clean exit takes its fanout queues along, or
         * they would collect broadcasts for half an hour. */
        amqp_conn_delete_fanout_queues(rpc->conn);
        amqp_conn_destroy(rpc->conn);
    }

    /* Every call reports once, even now, so that callers free what they
     * attached to it. */
    fail_all_calls(rpc, "shutting down");
    run_completions(rpc);
    hmap_destroy(&rpc->calls);

    for (size_t i = 0; i < rpc->n_listeners; i++) {
        free(rpc->listeners[i]->topic);
        free(rpc->listeners[i]);
    }
    free(rpc->listeners);
    shash_destroy(&rpc->queues);
    for (size_t i = 0; i < N_UNIQUE_IDS; i++) {
        free(rpc->unique_ids[i]);
    }
    amqp_url_destroy(&rpc->url);
    free(rpc->reply_q);
    free(rpc->host);
    free(rpc);
}

static struct pending_call *
find_call(const struct rpc *rpc, const char *msg_id)
{
    struct pending_call *pc;
    HMAP_FOR_EACH_WITH_HASH (pc, hmap_node, hash_string(msg_id, 0),
                             &rpc->calls) {
        if (!strcmp(pc->msg_id, msg_id)) {
            return pc;
        }
    }
    return NULL;
}

/* One message on the reply queue (docs/wire.md §4.4). */
static void
handle_reply(struct rpc *rpc, const struct json *msg)
{
    struct oslo_reply reply;
    char *error = oslo_msg_parse_reply(msg, &reply);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dropping a malformed reply: %s",
                     rpc->reply_q, log_safe(error));
        free(error);
        rpc->n_bad++;
        COVERAGE_INC(rpc_dropped);
        return;
    }

    struct pending_call *pc = find_call(rpc, reply.msg_id);
    if (!pc) {
        /* A reply after its call timed out or was cancelled, or to a call
         * of an earlier run that used the same queue: harmless. */
        VLOG_DBG_RL(&rl, "reply to unknown call %s dropped",
                    log_safe(reply.msg_id));
        rpc->n_stray_replies++;
        COVERAGE_INC(rpc_stray_reply);
        oslo_reply_destroy(&reply);
        return;
    }

    /* As oslo's ReplyWaiter: the last non-null result or failure is the
     * answer; a message with neither and without "ending" is a
     * call-monitor keep-alive. */
    if (reply.failure) {
        free(pc->error);
        pc->error = reply.failure;
        reply.failure = NULL;
        json_destroy(pc->result);
        pc->result = NULL;
    } else if (reply.result) {
        free(pc->error);
        pc->error = NULL;
        json_destroy(pc->result);
        pc->result = json_clone(reply.result);
    } else if (!reply.ending) {
        VLOG_DBG("%s: keep-alive for call %s", pc->method, pc->msg_id);
    }
    if (reply.ending) {
        if (pc->error) {
            rpc->n_failures++;
            COVERAGE_INC(rpc_failure);
            VLOG_DBG("%s: remote failure: %s", pc->method,
                     log_safe(pc->error));
        }
        complete(rpc, pc, NULL);
    }
    oslo_reply_destroy(&reply);
}

/* True if 'unique_id' was seen among the last N_UNIQUE_IDS requests;
 * otherwise remembers it. */
static bool
is_duplicate(struct rpc *rpc, const char *unique_id)
{
    if (!unique_id) {
        return false;
    }
    for (size_t i = 0; i < N_UNIQUE_IDS; i++) {
        if (rpc->unique_ids[i] && !strcmp(rpc->unique_ids[i], unique_id)) {
            return true;
        }
    }
    free(rpc->unique_ids[rpc->unique_idx]);
    rpc->unique_ids[rpc->unique_idx] = xstrdup(unique_id);
    rpc->unique_idx = (rpc->unique_idx + 1) % N_UNIQUE_IDS;
    return false;
}

/* One message on a queue of 'l''s topic. */
static void
handle_request(struct rpc *rpc, const struct listener *l, const char *queue,
               const struct json *msg)
{
    struct oslo_request req;
    char *error = oslo_msg_parse_request(msg, &req);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dropping a malformed request: %s", queue,
                     log_safe(error));
        free(error);
        rpc->n_bad++;
        COVERAGE_INC(rpc_dropped);
        return;
    }
    if (is_duplicate(rpc, req.unique_id)) {
        VLOG_DBG_RL(&rl, "%s: dropping duplicate %s %s", queue,
                    log_safe(req.method), log_safe(req.unique_id));
        rpc->n_duplicates++;
        COVERAGE_INC(rpc_duplicate);
        return;
    }
    if (req.msg_id) {
        /* The server only casts to agents (docs/wire.md §3.6); a caller that
         * waits for us will time out. */
        VLOG_DBG_RL(&rl, "%s: %s is a call; handled as a cast, no reply",
                    queue, log_safe(req.method));
    }
    rpc->n_requests++;
    COVERAGE_INC(rpc_request);
    l->cb(l->aux, l->topic, req.method, req.args);
}

/* A message from one of our queues: amqp-conn acknowledges it after this
 * returns, whatever happened to it here. */
static void
rpc_deliver(void *rpc_, const char *queue, const void *body, size_t size)
{
    struct rpc *rpc = rpc_;
    struct json *msg;
    char *error = oslo_msg_decode(body, size, &msg);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dropping an undecodable message: %s", queue,
                     log_safe(error));
        free(error);
        rpc->n_bad++;
        COVERAGE_INC(rpc_dropped);
        return;
    }
    if (!strcmp(queue, rpc->reply_q)) {
        handle_reply(rpc, msg);
    } else {
        const struct listener *l = shash_find_data(&rpc->queues, queue);
        if (l) {
            handle_request(rpc, l, queue, msg);
        } else {
            VLOG_WARN_RL(&rl, "%s: dropping a message on a queue nobody "
                         "listens to", queue);
            rpc->n_bad++;
            COVERAGE_INC(rpc_dropped);
        }
    }
    json_destroy(msg);
}

/* A call the broker could not route: nobody consumes its topic now (the
 * server is down or still reconnecting).  Failing it at once lets the
 * caller retry in a second instead of waiting for the whole timeout. */
static void
rpc_returned(void *rpc_, const void *body, size_t size)
{
    struct rpc *rpc = rpc_;
    struct json *msg;
    char *error = oslo_msg_decode(body, size, &msg);
    if (error) {
        free(error);
        return;
    }
    struct oslo_request req;
    error = oslo_msg_parse_request(msg, &req);
    if (!error && req.msg_id) {
        struct pending_call *pc = find_call(rpc, req.msg_id);
        if (pc) {
            VLOG_INFO_RL(&rl, "%s: no server is listening; will retry",
                         req.method);
            complete(rpc, pc, "no server is consuming the topic");
        }
    }
    free(error);
    json_destroy(msg);
}

void
rpc_run(struct rpc *rpc)
{
    if (rpc->conn) {
        amqp_conn_run(rpc->conn);
        bool ready = amqp_conn_is_ready(rpc->conn);
        if (rpc->was_ready && !ready) {
            /* The request may never have reached the server, and a broker
             * that restarted has lost the reply queue: fail the calls in
             * flight now so that callers retry after reconnection rather
             * than after their timeouts. */
            fail_all_calls(rpc, "connection to the message broker lost");
        }
        rpc->was_ready = ready;

        unsigned int n = amqp_conn_n_connects(rpc->conn);
        if (n != rpc->last_connects) {
            if (rpc->last_connects) {
                rpc->reconnect_seqno++;
                COVERAGE_INC(rpc_reconnect);
                VLOG_INFO("reconnected to the message broker; consumers "
                          "declared again");
            }
            rpc->last_connects = n;
        }
    }

    long long int now = time_msec();
    struct pending_call *pc;
    HMAP_FOR_EACH_SAFE (pc, hmap_node, &rpc->calls) {
        if (now >= pc->deadline) {
            rpc->n_timeouts++;
            COVERAGE_INC(rpc_timeout);
            complete(rpc, pc, "timed out waiting for a reply");
        }
    }
    run_completions(rpc);
}

void
rpc_wait(struct rpc *rpc)
{
    if (rpc->conn) {
        amqp_conn_wait(rpc->conn);
    }
    if (!ovs_list_is_empty(&rpc->completed)) {
        poll_immediate_wake();
    }
    struct pending_call *pc;
    HMAP_FOR_EACH (pc, hmap_node, &rpc->calls) {
        poll_timer_wait_until(pc->deadline);
    }
}

bool
rpc_is_ready(const struct rpc *rpc)
{
    return rpc->offline || (rpc->conn && amqp_conn_is_ready(rpc->conn));
}

unsigned int
rpc_reconnect_seqno(const struct rpc *rpc)
{
    return rpc->reconnect_seqno;
}

uint64_t
rpc_call(struct rpc *rpc, const char *topic, const char *method,
         struct json *args, const char *version, const char *namespace,
         int timeout_s, rpc_reply_cb *cb, void *aux)
{
    struct pending_call *pc = xzalloc(sizeof *pc);
    pc->id = rpc->next_id++;
    pc->msg_id = (rpc->offline ? xasprintf("offline-%"PRIu64, pc->id)
                  : oslo_msg_new_id());
    pc->method = xstrdup(method);
    timeout_s = MAX(timeout_s, 1);
    pc->deadline = time_msec() + timeout_s * 1000LL;
    pc->cb = cb;
    pc->aux = aux;
    hmap_insert(&rpc->calls, &pc->hmap_node, hash_string(pc->msg_id, 0));

    char *body = oslo_msg_encode_request(method, args, version, namespace,
                                         pc->msg_id, rpc->reply_q);
    json_destroy(args);
    rpc->n_calls++;
    COVERAGE_INC(rpc_call);
    /* The expiration makes the broker drop a request nobody took before
     * the caller gave up on it (docs/wire.md §3.5). */
    if (rpc->offline) {
        /* Waits for rpc_inject(). */
    } else if (!rpc->conn
               || !amqp_conn_publish(rpc->conn, NULL, false, topic, body,
                                     timeout_s * 1000)) {
        complete(rpc, pc, "not connected to the message broker");
    }
    free(body);
    return pc->id;
}

void
rpc_cancel(struct rpc *rpc, uint64_t id)
{
    struct pending_call *pc;
    HMAP_FOR_EACH (pc, hmap_node, &rpc->calls) {
        if (pc->id == id) {
            pc->cb = NULL;
            return;
        }
    }
    LIST_FOR_EACH (pc, list_node, &rpc->completed) {
        if (pc->id == id) {
            pc->cb = NULL;
            return;
        }
    }
}

static void
rpc_cast__(struct rpc *rpc, bool fanout, const char *topic,
           const char *method, struct json *args, const char *version,
           const char *namespace)
{
    char *body = oslo_msg_encode_request(method, args, version, namespace,
                                         NULL, NULL);
    json_destroy(args);
    rpc->n_casts++;
    COVERAGE_INC(rpc_cast);
    if (!rpc->conn || !amqp_conn_publish(rpc->conn, NULL, fanout, topic,
                                         body, 0)) {
        VLOG_WARN_RL(&rl, "%s: cast %s not sent: not connected", topic,
                     method);
    }
    free(body);
}

void
rpc_cast(struct rpc *rpc, const char *topic, const char *method,
         struct json *args, const char *version, const char *namespace)
{
    rpc_cast__(rpc, false, topic, method, args, version, namespace);
}

void
rpc_fanout_cast(struct rpc *rpc, const char *topic, const char *method,
                struct json *args, const char *version,
                const char *namespace)
{
    rpc_cast__(rpc, true, topic, method, args, version, namespace);
}

static struct listener *
listener_add(struct rpc *rpc, const char *topic, rpc_request_cb *cb,
             void *aux)
{
    struct listener *l = xmalloc(sizeof *l);
    l->topic = xstrdup(topic);
    l->cb = cb;
    l->aux = aux;
    rpc->listeners = xrealloc(rpc->listeners, (rpc->n_listeners + 1)
                                              * sizeof *rpc->listeners);
    rpc->listeners[rpc->n_listeners++] = l;
    return l;
}

void
rpc_listen(struct rpc *rpc, const char *topic, rpc_request_cb *cb, void *aux)
{
    struct listener *l = listener_add(rpc, topic, cb, aux);
    if (!rpc->conn && !rpc->offline) {
        return;
    }

    /* The three queues an oslo.messaging server declares for a topic
     * (docs/wire.md §3.2), as the reference agent does: the shared queue
     * (nothing is sent there for agent topics, declared for parity), the
     * host queue (l2pop's targeted casts) and a fanout queue of this
     * process's own. */
    char *id = rpc->offline ? xstrdup("offline") : oslo_msg_new_id();
    char *queues[3] = {
        xstrdup(topic),
        xasprintf("%s.%s", topic, rpc->host),
        xasprintf("%s_fanout_%s", topic, id),
    };
    free(id);
    if (rpc->conn) {
        amqp_conn_add_queue(rpc->conn, AMQP_DECL_TOPIC_QUEUE, queues[0],
                            queues[0]);
        amqp_conn_add_queue(rpc->conn, AMQP_DECL_TOPIC_QUEUE, queues[1],
                            queues[1]);
        amqp_conn_add_queue(rpc->conn, AMQP_DECL_FANOUT_QUEUE, queues[2],
                            topic);
    }
    for (size_t i = 0; i < ARRAY_SIZE(queues); i++) {
        shash_replace(&rpc->queues, queues[i], l);
        free(queues[i]);
    }
}

void
rpc_listen_fanout(struct rpc *rpc, const char *topic, rpc_request_cb *cb,
                  void *aux)
{
    struct listener *l = listener_add(rpc, topic, cb, aux);
    if (!rpc->conn && !rpc->offline) {
        return;
    }
    char *id = rpc->offline ? xstrdup("offline") : oslo_msg_new_id();
    char *queue = xasprintf("%s_fanout_%s", topic, id);
    free(id);
    if (rpc->conn) {
        amqp_conn_add_queue(rpc->conn, AMQP_DECL_FANOUT_QUEUE, queue, topic);
    }
    shash_replace(&rpc->queues, queue, l);
    free(queue);
}

void
rpc_inject(struct rpc *rpc, const char *queue, const void *body, size_t size)
{
    rpc_deliver(rpc, queue, body, size);
}

const char *
rpc_reply_queue(const struct rpc *rpc)
{
    return rpc->reply_q;
}

void
rpc_format(const struct rpc *rpc, struct ds *s)
{
    if (!rpc->conn) {
        ds_put_cstr(s, "message broker: unusable transport_url\n");
        return;
    }
    amqp_conn_format(rpc->conn, s);
    ds_put_format(s, "  rpc: calls=%llu (%"PRIuSIZE" waiting) timeouts=%llu "
                  "failures=%llu casts=%llu requests=%llu dropped=%llu "
                  "duplicates=%llu stray_replies=%llu reconnects=%u\n",
                  rpc->n_calls, hmap_count(&rpc->calls), rpc->n_timeouts,
                  rpc->n_failures, rpc->n_casts, rpc->n_requests, rpc->n_bad,
                  rpc->n_duplicates, rpc->n_stray_replies,
                  rpc->reconnect_seqno);
}
