/*
 * rpc: oslo.messaging RPC semantics on top of amqp-conn.  See rpc.h.
 *
 * Calls wait in 'pending', keyed by _msg_id, until their reply, their
 * timeout or a lost connection.  Callbacks never run inside rpc_call() or
 * rpc_cast(): completions that are known at once (not connected) are queued
 * and delivered by the next rpc_run(), so callers need not be reentrant.
 */
#include <config.h>
#include "oslo/rpc.h"

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "oslo/amqp-conn.h"
#include "oslo/oslo-msg.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rpc);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct pending_call {
    struct ovs_list node;       /* In 'calls' or 'completed'. */
    uint64_t id;
    char *msg_id;
    long long int deadline;
    rpc_reply_cb *cb;
    void *aux;
    struct json *result;        /* Latest non-null result (legacy form). */
    char *error;                /* For 'completed' entries. */
};

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

    struct ovs_list calls;      /* Waiting for a reply. */
    struct ovs_list completed;  /* To report at the next rpc_run(). */
    uint64_t next_id;

    struct listener *listeners;
    size_t n_listeners;

    unsigned int reconnect_seqno;
    unsigned int last_connects;

    unsigned long long n_calls, n_casts, n_requests, n_bad;
};

static void rpc_deliver(void *rpc_, const char *queue, const void *body,
                        size_t size);
static void rpc_returned(void *rpc_, const void *body, size_t size);
static void complete(struct rpc *, struct pending_call *, const char *error);
static void run_completions(struct rpc *);

struct rpc *
rpc_create(const struct agent_config *cfg)
{
    struct rpc *rpc = xzalloc(sizeof *rpc);
    rpc->host = xstrdup(cfg->host);
    ovs_list_init(&rpc->calls);
    ovs_list_init(&rpc->completed);
    rpc->next_id = 1;

    char *error = amqp_url_parse(cfg->transport_url, &rpc->url);
    if (error) {
        /* The configuration layer checks the URL; this is a safety net. */
        VLOG_ERR("transport_url: %s", error);
        free(error);
        return rpc;
    }
    struct amqp_options opts = {
        .durable = cfg->amqp_durable_queues,
        .auto_delete = cfg->amqp_auto_delete,
        .quorum = cfg->rabbit_quorum_queue,
        .ha = cfg->rabbit_ha_queues,
        .transient_ttl = cfg->rabbit_transient_queues_ttl,
        .heartbeat = cfg->heartbeat_timeout_threshold,
        .ssl = cfg->rabbit_ssl,
        .ssl_ca_file = cfg->rabbit_ssl_ca_file,
        .ssl_cert_file = cfg->rabbit_ssl_cert_file,
        .ssl_key_file = cfg->rabbit_ssl_key_file,
    };
    rpc->conn = amqp_conn_create(&rpc->url, &opts, cfg->control_exchange,
                                 rpc_deliver, rpc_returned, rpc);

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
    free(pc->error);
    free(pc);
}

void
rpc_destroy(struct rpc *rpc)
{
    if (!rpc) {
        return;
    }
    if (rpc->conn) {
        amqp_conn_delete_fanout_queues(rpc->conn);
        amqp_conn_destroy(rpc->conn);
    }
    /* Every call reports once, even now, so that callers free what they
     * attached to it. */
    struct pending_call *pc;
    LIST_FOR_EACH_SAFE (pc, node, &rpc->calls) {
        complete(rpc, pc, "shutting down");
    }
    run_completions(rpc);
    for (size_t i = 0; i < rpc->n_listeners; i++) {
        free(rpc->listeners[i].topic);
    }
    free(rpc->listeners);
    amqp_url_destroy(&rpc->url);
    free(rpc->reply_q);
    free(rpc->host);
    free(rpc);
}

/* Moves 'pc' to the completed list with 'error' (or its result). */
static void
complete(struct rpc *rpc, struct pending_call *pc, const char *error)
{
    ovs_list_remove(&pc->node);
    free(pc->error);
    pc->error = error ? xstrdup(error) : NULL;
    ovs_list_push_back(&rpc->completed, &pc->node);
}

static void
run_completions(struct rpc *rpc)
{
    struct pending_call *pc;
    LIST_FOR_EACH_POP (pc, node, &rpc->completed) {
        if (pc->cb) {
            struct json *null = json_null_create();
            pc->cb(pc->aux, pc->error ? NULL
                            : pc->result ? pc->result : null,
                   pc->error);
            json_destroy(null);
        }
        pending_free(pc);
    }
}

static void
handle_reply(struct rpc *rpc, const struct json *msg)
{
    struct oslo_reply reply;
    char *error = oslo_msg_parse_reply(msg, &reply);
    if (error) {
        VLOG_WARN_RL(&rl, "dropping a malformed reply: %s", error);
        free(error);
        rpc->n_bad++;
        return;
    }
    struct pending_call *pc;
    LIST_FOR_EACH (pc, node, &rpc->calls) {
        if (!strcmp(pc->msg_id, reply.msg_id)) {
            if (reply.result) {
                json_destroy(pc->result);
                pc->result = json_clone(reply.result);
            }
            if (reply.failure) {
                complete(rpc, pc, reply.failure);
            } else if (reply.ending) {
                complete(rpc, pc, NULL);
            }
            oslo_reply_destroy(&reply);
            return;
        }
    }
    VLOG_DBG_RL(&rl, "reply for unknown call %s dropped", reply.msg_id);
    oslo_reply_destroy(&reply);
}

static void
handle_request(struct rpc *rpc, const char *queue, const struct json *msg)
{
    struct oslo_request req;
    char *error = oslo_msg_parse_request(msg, &req);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dropping a malformed request: %s", queue,
                     error);
        free(error);
        rpc->n_bad++;
        return;
    }
    for (size_t i = 0; i < rpc->n_listeners; i++) {
        const struct listener *l = &rpc->listeners[i];
        size_t len = strlen(l->topic);
        if (!strncmp(queue, l->topic, len)
            && (!queue[len] || queue[len] == '.' || queue[len] == '_')) {
            rpc->n_requests++;
            l->cb(l->aux, l->topic, req.method, req.args);
            return;
        }
    }
}

/* A message from one of our queues. */
static void
rpc_deliver(void *rpc_, const char *queue, const void *body, size_t size)
{
    struct rpc *rpc = rpc_;
    struct json *msg;
    char *error = oslo_msg_decode(body, size, &msg);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: dropping an undecodable message: %s", queue,
                     error);
        free(error);
        rpc->n_bad++;
        return;
    }
    if (!strcmp(queue, rpc->reply_q)) {
        handle_reply(rpc, msg);
    } else {
        handle_request(rpc, queue, msg);
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
        struct pending_call *pc;
        LIST_FOR_EACH (pc, node, &rpc->calls) {
            if (!strcmp(pc->msg_id, req.msg_id)) {
                VLOG_INFO_RL(&rl, "%s: no server is listening; will retry",
                             req.method);
                complete(rpc, pc, "no server is consuming the topic");
                break;
            }
        }
    }
    free(error);
    json_destroy(msg);
}

void
rpc_run(struct rpc *rpc)
{
    if (rpc->conn) {
        bool was_ready = amqp_conn_is_ready(rpc->conn);
        amqp_conn_run(rpc->conn);
        if (was_ready && !amqp_conn_is_ready(rpc->conn)) {
            /* Replies to calls in flight are lost with the connection. */
            struct pending_call *pc;
            LIST_FOR_EACH_SAFE (pc, node, &rpc->calls) {
                complete(rpc, pc, "connection to the message broker lost");
            }
        }
        unsigned int n = amqp_conn_n_connects(rpc->conn);
        if (n != rpc->last_connects) {
            if (rpc->last_connects) {
                rpc->reconnect_seqno++;
            }
            rpc->last_connects = n;
        }
    }

    long long int now = time_msec();
    struct pending_call *pc;
    LIST_FOR_EACH_SAFE (pc, node, &rpc->calls) {
        if (now >= pc->deadline) {
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
    LIST_FOR_EACH (pc, node, &rpc->calls) {
        poll_timer_wait_until(pc->deadline);
    }
}

bool
rpc_is_ready(const struct rpc *rpc)
{
    return rpc->conn && amqp_conn_is_ready(rpc->conn);
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
    pc->msg_id = oslo_msg_new_id();
    pc->deadline = time_msec() + timeout_s * 1000LL;
    pc->cb = cb;
    pc->aux = aux;
    ovs_list_push_back(&rpc->calls, &pc->node);

    char *body = oslo_msg_encode_request(method, args, version, namespace,
                                         pc->msg_id, rpc->reply_q);
    json_destroy(args);
    rpc->n_calls++;
    if (!rpc->conn || !amqp_conn_publish(rpc->conn, NULL, false, topic, body,
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
    LIST_FOR_EACH (pc, node, &rpc->calls) {
        if (pc->id == id) {
            pc->cb = NULL;
            return;
        }
    }
    LIST_FOR_EACH (pc, node, &rpc->completed) {
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

void
rpc_listen(struct rpc *rpc, const char *topic, rpc_request_cb *cb, void *aux)
{
    rpc->listeners = xrealloc(rpc->listeners, (rpc->n_listeners + 1)
                                              * sizeof *rpc->listeners);
    struct listener *l = &rpc->listeners[rpc->n_listeners++];
    l->topic = xstrdup(topic);
    l->cb = cb;
    l->aux = aux;
    if (!rpc->conn) {
        return;
    }

    /* The three queues an oslo.messaging server declares (rpc-wire §1.3). */
    char *host_q = xasprintf("%s.%s", topic, rpc->host);
    char *id = oslo_msg_new_id();
    char *fanout_q = xasprintf("%s_fanout_%s", topic, id);
    amqp_conn_add_queue(rpc->conn, AMQP_DECL_TOPIC_QUEUE, topic, topic);
    amqp_conn_add_queue(rpc->conn, AMQP_DECL_TOPIC_QUEUE, host_q, host_q);
    amqp_conn_add_queue(rpc->conn, AMQP_DECL_FANOUT_QUEUE, fanout_q, topic);
    free(host_q);
    free(id);
    free(fanout_q);
}

void
rpc_format(const struct rpc *rpc, struct ds *s)
{
    if (!rpc->conn) {
        ds_put_cstr(s, "message broker: unusable transport_url\n");
        return;
    }
    amqp_conn_format(rpc->conn, s);
    ds_put_format(s, "  rpc: calls=%llu (%"PRIuSIZE" waiting) casts=%llu "
                  "requests=%llu dropped=%llu reconnects=%u\n",
                  rpc->n_calls, ovs_list_size(&rpc->calls), rpc->n_casts,
                  rpc->n_requests, rpc->n_bad, rpc->reconnect_seqno);
}
