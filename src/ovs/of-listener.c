/*
 * of-listener: accepts OpenFlow connections from ovs-vswitchd and learns
 * each one's datapath id.  See of-listener.h.
 */
#include <config.h>
#include "ovs/of-listener.h"

#include <errno.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovs/of-util.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_listener);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* How long to wait before retrying a listening socket that failed. */
#define LISTEN_RETRY_MS 1000

/* A connection accepted but not yet claimed by a bridge. */
struct pending_conn {
    struct ovs_list node;       /* In of_listener's 'pending'. */
    struct rconn *rconn;
    bool features_sent;
    bool have_dpid;
    uint64_t dpid;
};

struct of_listener {
    char *target;               /* "ptcp:PORT:ADDR". */
    int probe_interval;
    struct pvconn *pvconn;      /* NULL while not listening. */
    long long int next_listen;  /* When to retry opening 'pvconn'. */
    int last_error;
    struct ovs_list pending;    /* Of struct pending_conn. */
};

struct of_listener *
of_listener_create(const char *address, int port, int probe_interval)
{
    struct of_listener *l = xzalloc(sizeof *l);
    l->target = (strchr(address, ':')
                 ? xasprintf("ptcp:%d:[%s]", port, address)
                 : xasprintf("ptcp:%d:%s", port, address));
    l->probe_interval = probe_interval;
    ovs_list_init(&l->pending);
    return l;
}

static void
pending_destroy(struct pending_conn *pc)
{
    ovs_list_remove(&pc->node);
    rconn_destroy(pc->rconn);
    free(pc);
}

void
of_listener_destroy(struct of_listener *l)
{
    if (!l) {
        return;
    }
    struct pending_conn *pc;
    LIST_FOR_EACH_SAFE (pc, node, &l->pending) {
        pending_destroy(pc);
    }
    pvconn_close(l->pvconn);
    free(l->target);
    free(l);
}

static void
of_listener_open(struct of_listener *l)
{
    int error = pvconn_open(l->target, 1u << OFP13_VERSION, 0, &l->pvconn);
    if (error) {
        l->pvconn = NULL;
        if (error != l->last_error) {
            VLOG_ERR("%s: cannot listen for OpenFlow connections (%s); "
                     "retrying", l->target, ovs_strerror(error));
        }
        l->last_error = error;
        l->next_listen = time_msec() + LISTEN_RETRY_MS;
    } else {
        VLOG_INFO("%s: listening for OpenFlow connections", l->target);
        l->last_error = 0;
    }
}

static void
of_listener_accept(struct of_listener *l)
{
    for (int i = 0; i < 16; i++) {
        struct vconn *vconn;
        int error = pvconn_accept(l->pvconn, &vconn);
        if (error) {
            if (error != EAGAIN) {
                VLOG_WARN_RL(&rl, "%s: accept failed (%s)", l->target,
                             ovs_strerror(error));
            }
            return;
        }
        struct pending_conn *pc = xzalloc(sizeof *pc);
        pc->rconn = rconn_create(l->probe_interval, 0, 0,
                                 1u << OFP13_VERSION);
        rconn_connect_unreliably(pc->rconn, vconn, NULL);
        ovs_list_push_back(&l->pending, &pc->node);
        VLOG_DBG("%s: accepted a connection from %s", l->target,
                 rconn_get_name(pc->rconn));
    }
}

static void
pending_run(struct pending_conn *pc)
{
    rconn_run(pc->rconn);
    if (!rconn_is_connected(pc->rconn)) {
        return;
    }
    int version = rconn_get_version(pc->rconn);
    if (version < 0) {
        return;
    }
    if (!pc->features_sent) {
        rconn_send(pc->rconn,
                   ofpraw_alloc(OFPRAW_OFPT_FEATURES_REQUEST, version, 0),
                   NULL);
        pc->features_sent = true;
    }
    for (int i = 0; i < 8 && !pc->have_dpid; i++) {
        struct ofpbuf *msg = rconn_recv(pc->rconn);
        if (!msg) {
            break;
        }
        const struct ofp_header *oh = msg->data;
        enum ofptype type;
        if (!ofptype_decode(&type, oh)) {
            if (type == OFPTYPE_FEATURES_REPLY) {
                struct ofputil_switch_features features;
                struct ofpbuf b = ofpbuf_const_initializer(oh,
                                                           ntohs(oh->length));
                if (!ofputil_pull_switch_features(&b, &features)) {
                    pc->dpid = features.datapath_id;
                    pc->have_dpid = true;
                    VLOG_DBG("%s: datapath id %016"PRIx64,
                             rconn_get_name(pc->rconn), pc->dpid);
                }
            } else {
                of_util_answer_echo(pc->rconn, oh, type);
            }
        }
        ofpbuf_delete(msg);
    }
}

void
of_listener_run(struct of_listener *l)
{
    if (!l->pvconn && time_msec() >= l->next_listen) {
        of_listener_open(l);
    }
    if (l->pvconn) {
        of_listener_accept(l);
    }

    struct pending_conn *pc;
    LIST_FOR_EACH_SAFE (pc, node, &l->pending) {
        pending_run(pc);
        if (!rconn_is_alive(pc->rconn)) {
            VLOG_DBG("%s: connection closed before a bridge claimed it",
                     rconn_get_name(pc->rconn));
            pending_destroy(pc);
        }
    }
}

void
of_listener_wait(struct of_listener *l)
{
    if (l->pvconn) {
        pvconn_wait(l->pvconn);
    } else {
        poll_timer_wait_until(l->next_listen);
    }
    struct pending_conn *pc;
    LIST_FOR_EACH (pc, node, &l->pending) {
        rconn_run_wait(pc->rconn);
        /* A claimed-but-not-yet-taken connection has nothing to read for
         * us; only wait for input until its datapath id is known. */
        if (!pc->have_dpid) {
            rconn_recv_wait(pc->rconn);
        }
    }
}

struct rconn *
of_listener_take(struct of_listener *l, uint64_t dpid)
{
    struct pending_conn *pc;
    LIST_FOR_EACH (pc, node, &l->pending) {
        if (pc->have_dpid && pc->dpid == dpid) {
            struct rconn *rc = pc->rconn;
            ovs_list_remove(&pc->node);
            free(pc);
            return rc;
        }
    }
    return NULL;
}

bool
of_listener_is_listening(const struct of_listener *l)
{
    return l->pvconn != NULL;
}

void
of_listener_format(const struct of_listener *l, struct ds *s)
{
    ds_put_format(s, "OpenFlow listener %s: %s\n", l->target,
                  l->pvconn ? "listening" : "not listening");
    const struct pending_conn *pc;
    LIST_FOR_EACH (pc, node, &l->pending) {
        ds_put_format(s, "  unclaimed connection %s", rconn_get_name(pc->rconn));
        if (pc->have_dpid) {
            ds_put_format(s, " dpid %016"PRIx64, pc->dpid);
        }
        ds_put_char(s, '\n');
    }
}
