/*
 * of-bridge: one bridge's OpenFlow session.  See of-bridge.h for the state
 * diagram and the rules it follows.
 */
#include <config.h>
#include "ovs/of-bridge.h"

#include <string.h>

#include "byte-order.h"
#include "coverage.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-listener.h"
#include "ovs/of-util.h"
#include "simap.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_bridge);

/* Process-wide event counts over every bridge, for "coverage/show";
 * ovsagent/show prints each bridge's own. */
COVERAGE_DEFINE(of_bridge_connect);
COVERAGE_DEFINE(of_bridge_switch_reset);
COVERAGE_DEFINE(of_bridge_bundle);
COVERAGE_DEFINE(of_bridge_flow_mod);
COVERAGE_DEFINE(of_bridge_bundle_failure);
COVERAGE_DEFINE(of_bridge_rejected_flow);
COVERAGE_DEFINE(of_bridge_port_status);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Flow_mods per bundle to start with; halved on each rejected bundle. */
#define MAX_BATCH 2000

#define OF_BRIDGE_STATES                                        \
    OFB_STATE(NO_CONN, "no connection")                         \
    OFB_STATE(READ_FLOWS, "reading installed flows")            \
    OFB_STATE(SYNCING, "connected")

enum of_bridge_state {
#define OFB_STATE(ENUM, NAME) OFB_##ENUM,
    OF_BRIDGE_STATES
#undef OFB_STATE
};

static const char *
state_name(enum of_bridge_state s)
{
    switch (s) {
#define OFB_STATE(ENUM, NAME) case OFB_##ENUM: return NAME;
        OF_BRIDGE_STATES
#undef OFB_STATE
    }
    return "unknown";
}

struct of_bridge {
    char *name;
    uint64_t dpid;                  /* From OVSDB; 0 if unknown. */
    struct rconn *rconn;            /* NULL in NO_CONN. */
    enum of_bridge_state state;
    struct flow_table *ft;

    uint8_t *owned_tables;
    size_t n_owned_tables;
    int canary_table;
    int canary_interval_ms;
    bool drop_flows_pending;        /* drop_flows_on_start not yet done. */
    ovs_be32 drop_barrier_xid;      /* Barrier after the delete-all. */
    int connect_timeout_ms;
    int request_timeout_ms;

    /* Since when the bridge has been without a connection, and whether that
     * has been reported. */
    long long int unconnected_since;
    bool reported_unconnected;

    /* READ_FLOWS. */
    ovs_be32 dump_xid;

    /* SYNCING: the batch in flight, if any. */
    struct flow_batch *batch;
    ovs_be32 batch_first_xid;       /* Bundle open. */
    ovs_be32 batch_barrier_xid;     /* Barrier after the commit. */
    long long int batch_sent;       /* When it went out. */
    bool batch_failed;
    uint32_t next_bundle_id;
    size_t max_batch;

    /* Canary. */
    long long int next_canary;
    bool canary_pending;
    ovs_be32 canary_xid;
    bool canary_found;

    /* The switch's ports, name -> OpenFlow port number (the local port,
     * named like the bridge, included), as the switch last said: its port
     * description at each connection, then its port-status messages.
     *
     * Kept over a disconnection, and until the next connection's
     * description is complete, which then replaces it as a whole (ports
     * deleted meanwhile go then): port numbers rarely change while the
     * switch is away, and callers need not tear their flows down and build
     * them again for a short disconnection.  A stale number cannot reach
     * the switch in the meantime: nothing is sent without a connection, and
     * the description is asked for before the flow dump, which the switch
     * answers in order, so it is complete before the first bundle goes out.
     * (A drop_flows_on_start session sends its first bundle at once; a
     * number changed while away is corrected one round trip later.) */
    struct simap ports;
    unsigned int ports_seqno;       /* Bumped on each change of 'ports'. */
    /* The description being read: its parts go to 'new_ports', which
     * replaces 'ports' once the last part is in.  Port-status messages go to
     * both meanwhile: one that arrives before the description tells a
     * change the description holds already, one after it a newer one.
     * (OVS sends a multipart reply's parts together, never a port-status
     * between them.) */
    bool reading_ports;
    ovs_be32 port_desc_xid;
    struct simap new_ports;

    bool ever_complete;             /* Flows were once all in place. */
    bool ever_read;                 /* A flow dump once completed. */

    /* Counters, shown by ovsagent/show. */
    unsigned int n_connects;
    unsigned int n_switch_resets;
    unsigned long long n_batches;
    unsigned long long n_flow_mods;
    unsigned int n_batch_failures;
    unsigned int n_rejected;
    unsigned int n_port_status;
};

struct of_bridge *
of_bridge_create(const char *name, uint64_t cookie,
                 const struct of_bridge_options *opts)
{
    struct of_bridge *ob = xzalloc(sizeof *ob);
    ob->name = xstrdup(name);
    ob->ft = flow_table_create(name, cookie, opts->owned_tables,
                               opts->n_owned_tables);
    ob->owned_tables = xmemdup(opts->owned_tables, opts->n_owned_tables);
    ob->n_owned_tables = opts->n_owned_tables;
    ob->canary_table = opts->canary_table;
    ob->canary_interval_ms = MAX(opts->canary_interval_ms, 100);
    ob->drop_flows_pending = opts->drop_flows_on_start;
    ob->connect_timeout_ms = opts->connect_timeout_ms;
    ob->request_timeout_ms = opts->request_timeout_ms;
    ob->unconnected_since = time_msec();
    ob->max_batch = MAX_BATCH;
    ob->next_bundle_id = 1;
    simap_init(&ob->ports);
    simap_init(&ob->new_ports);
    return ob;
}

static void
of_bridge_set_state(struct of_bridge *ob, enum of_bridge_state state)
{
    if (ob->state != state) {
        VLOG_DBG("%s: %s -> %s", ob->name, state_name(ob->state),
                 state_name(state));
        ob->state = state;
    }
}

/* Drops the connection and everything that depended on it. */
static void
of_bridge_disconnect(struct of_bridge *ob)
{
    if (ob->rconn) {
        VLOG_INFO("%s: OpenFlow connection closed", ob->name);
        rconn_destroy(ob->rconn);
        ob->rconn = NULL;
    }
    flow_batch_done(ob->ft, ob->batch, false);
    ob->batch = NULL;
    ob->canary_pending = false;
    /* 'ports' stays: see struct of_bridge. */
    ob->reading_ports = false;
    simap_clear(&ob->new_ports);
    flow_table_installed_reset(ob->ft);
    if (ob->state != OFB_NO_CONN) {
        ob->unconnected_since = time_msec();
        ob->reported_unconnected = false;
    }
    of_bridge_set_state(ob, OFB_NO_CONN);
}

void
of_bridge_destroy(struct of_bridge *ob)
{
    if (!ob) {
        return;
    }
    of_bridge_disconnect(ob);
    flow_table_destroy(ob->ft);
    simap_destroy(&ob->ports);
    simap_destroy(&ob->new_ports);
    free(ob->owned_tables);
    free(ob->name);
    free(ob);
}

void
of_bridge_set_dpid(struct of_bridge *ob, uint64_t dpid)
{
    if (ob->dpid != dpid) {
        VLOG_DBG("%s: datapath id %016"PRIx64, ob->name, dpid);
        ob->dpid = dpid;
        if (ob->rconn) {
            of_bridge_disconnect(ob);
        }
    }
}

static ovs_be32
msg_xid(const struct ofpbuf *msg)
{
    return ((const struct ofp_header *) msg->data)->xid;
}

static void
of_bridge_send(struct of_bridge *ob, struct ofpbuf *msg)
{
    rconn_send(ob->rconn, msg, NULL);
}

/* Sends a flow stats request for 'table_id' and returns its xid. */
static ovs_be32
of_bridge_send_flow_stats_request(struct of_bridge *ob, uint8_t table_id)
{
    struct ofputil_flow_stats_request fsr;
    memset(&fsr, 0, sizeof fsr);
    match_init_catchall(&fsr.match);
    fsr.out_port = OFPP_ANY;
    fsr.out_group = OFPG_ANY;
    fsr.table_id = table_id;

    enum ofputil_protocol proto
        = ofputil_protocol_from_ofp_version(rconn_get_version(ob->rconn));
    struct ofpbuf *msg = ofputil_encode_flow_stats_request(&fsr, proto);
    ovs_be32 xid = msg_xid(msg);
    of_bridge_send(ob, msg);
    return xid;
}

/* A new connection: read what the switch holds, or with drop_flows_on_start
 * (first connection of this run only) delete it all. */
static void
of_bridge_start_session(struct of_bridge *ob)
{
    ob->n_connects++;
    COVERAGE_INC(of_bridge_connect);
    ob->next_canary = time_msec() + ob->canary_interval_ms;
    flow_table_installed_reset(ob->ft);

    /* First, so that the ports are known before the flow dump ends. */
    struct ofpbuf *pdr = ofputil_encode_port_desc_stats_request(
        rconn_get_version(ob->rconn), OFPP_ANY);
    ob->port_desc_xid = msg_xid(pdr);
    ob->reading_ports = true;
    simap_clear(&ob->new_ports);
    of_bridge_send(ob, pdr);

    if (ob->drop_flows_pending) {
        struct ofputil_flow_mod fm;
        memset(&fm, 0, sizeof fm);
        struct match match;
        match_init_catchall(&match);
        minimatch_init(&fm.match, &match);
        fm.table_id = OFPTT_ALL;
        fm.command = OFPFC_DELETE;
        fm.new_cookie = OVS_BE64_MAX;
        fm.buffer_id = UINT32_MAX;
        fm.out_port = OFPP_ANY;
        fm.out_group = OFPG_ANY;
        enum ofputil_protocol proto
            = ofputil_protocol_from_ofp_version(rconn_get_version(ob->rconn));
        of_bridge_send(ob, ofputil_encode_flow_mod(&fm, proto));
        minimatch_destroy(&fm.match);
        /* The delete-all is done only once its barrier comes back: a
         * connection lost before that may have lost it too, and the next
         * one deletes again. */
        struct ofpbuf *barrier = ofputil_encode_barrier_request(
            rconn_get_version(ob->rconn));
        ob->drop_barrier_xid = msg_xid(barrier);
        of_bridge_send(ob, barrier);
        VLOG_INFO("%s: deleting all flows (drop_flows_on_start)", ob->name);
        flow_table_installed_set_empty(ob->ft);
        ob->ever_read = true;   /* What the switch holds is known: none. */
        of_bridge_set_state(ob, OFB_SYNCING);
        return;
    }

    ob->dump_xid = of_bridge_send_flow_stats_request(ob, OFPTT_ALL);
    of_bridge_set_state(ob, OFB_READ_FLOWS);
}

/* Handles one part of a flow stats reply.  Returns the number of flows. */
static size_t
of_bridge_handle_flow_stats(struct of_bridge *ob, const struct ofp_header *oh,
                            bool record)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    uint64_t ofpacts_stub[1024 / 8];
    struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(ofpacts_stub);
    size_t n = 0;

    for (;;) {
        struct ofputil_flow_stats fs;
        int retval = ofputil_decode_flow_stats_reply(&fs, &b, false,
                                                     &ofpacts);
        if (retval) {
            if (retval != EOF) {
                VLOG_WARN_RL(&rl, "%s: bad flow stats reply (%s)", ob->name,
                             ofperr_to_string(retval));
            }
            break;
        }
        if (record) {
            flow_table_installed_add(ob->ft, &fs);
        }
        n++;
    }
    ofpbuf_uninit(&ofpacts);
    return n;
}

static void
of_bridge_dump_done(struct of_bridge *ob)
{
    size_t n = flow_table_n_installed(ob->ft);
    ob->ever_read = true;
    VLOG_INFO("%s: OpenFlow connected (dpid %016"PRIx64"), %"PRIuSIZE
              " flows installed", ob->name, ob->dpid, n);
    if (!n && ob->ever_complete) {
        ob->n_switch_resets++;
        COVERAGE_INC(of_bridge_switch_reset);
        VLOG_WARN("%s: the switch has lost its flows (restarted?); "
                  "reinstalling them", ob->name);
    }
    of_bridge_set_state(ob, OFB_SYNCING);
}

static bool
xid_in_batch(const struct of_bridge *ob, ovs_be32 xid)
{
    uint32_t x = ntohl(xid), first = ntohl(ob->batch_first_xid);
    uint32_t last = ntohl(ob->batch_barrier_xid);
    return x - first <= last - first;
}

/* The barrier after a batch came back: the batch is settled. */
static void
of_bridge_batch_settled(struct of_bridge *ob)
{
    struct flow_batch *batch = ob->batch;
    ob->batch = NULL;

    if (!ob->batch_failed) {
        flow_batch_done(ob->ft, batch, true);
        if (flow_table_installed_seqno(ob->ft)) {
            ob->ever_complete = true;
        }
        return;
    }

    ob->n_batch_failures++;
    COVERAGE_INC(of_bridge_bundle_failure);
    if (batch->n == 1) {
        /* The bad flow is alone: leave it out until its owner changes it. */
        const struct ofputil_flow_mod *fm
            = CONTAINER_OF(ovs_list_front(&batch->fms),
                           struct ofputil_flow_mod, list_node);
        flow_table_reject(ob->ft, fm);
        ob->n_rejected++;
        COVERAGE_INC(of_bridge_rejected_flow);
    } else {
        ob->max_batch = MAX(1, batch->n / 2);
        VLOG_INFO("%s: a bundle of %"PRIuSIZE" flow changes was rejected; "
                  "retrying in bundles of %"PRIuSIZE, ob->name, batch->n,
                  ob->max_batch);
    }
    flow_batch_done(ob->ft, batch, false);
}

static void
of_bridge_canary_done(struct of_bridge *ob)
{
    ob->canary_pending = false;
    if (!ob->canary_found && ob->state == OFB_SYNCING && !ob->batch
        && flow_table_installed_seqno(ob->ft)) {
        ob->n_switch_resets++;
        COVERAGE_INC(of_bridge_switch_reset);
        VLOG_WARN("%s: canary flow in table %d is gone: the switch lost its "
                  "flows; reading them back and reinstalling", ob->name,
                  ob->canary_table);
        flow_table_installed_reset(ob->ft);
        ob->dump_xid = of_bridge_send_flow_stats_request(ob, OFPTT_ALL);
        of_bridge_set_state(ob, OFB_READ_FLOWS);
    }
}

/* Sets port 'name' to 'ofport' in 'ports', or deletes it if 'ofport' is
 * OFPP_NONE.  Returns true if that changed 'ports'. */
static bool
ports_set(struct simap *ports, const char *name, ofp_port_t ofport)
{
    struct simap_node *node = simap_find(ports, name);
    if (ofport == OFPP_NONE) {
        if (node) {
            simap_delete(ports, node);
        }
        return node != NULL;
    } else if (node) {
        bool changed = node->data != ofp_to_u16(ofport);
        node->data = ofp_to_u16(ofport);
        return changed;
    }
    simap_put(ports, name, ofp_to_u16(ofport));
    return true;
}

/* Handles one part of the port description asked for at connection. */
static void
of_bridge_handle_port_desc(struct of_bridge *ob, const struct ofp_header *oh)
{
    struct ofpbuf b = ofpbuf_const_initializer(oh, ntohs(oh->length));
    ofpraw_pull_assert(&b);
    for (;;) {
        struct ofputil_phy_port pp;
        int retval = ofputil_pull_phy_port(oh->version, &b, &pp);
        if (retval == EOF) {
            break;
        } else if (retval) {
            /* The rest of this part cannot be read: rather than a map
             * without its ports, the last word stays, as when the request
             * fails, and port-status messages keep it current. */
            VLOG_WARN_RL(&rl, "%s: bad port description (%s)", ob->name,
                         ofperr_to_string(retval));
            ob->reading_ports = false;
            simap_clear(&ob->new_ports);
            return;
        }
        ports_set(&ob->new_ports, pp.name, pp.port_no);
    }
    if (!ofpmp_more(oh)) {
        ob->reading_ports = false;
        if (!simap_equal(&ob->ports, &ob->new_ports)) {
            ob->ports_seqno++;
        }
        simap_swap(&ob->ports, &ob->new_ports);
        simap_clear(&ob->new_ports);
        VLOG_DBG("%s: %"PRIuSIZE" ports", ob->name, simap_count(&ob->ports));
    }
}

static void
of_bridge_handle_port_status(struct of_bridge *ob,
                             const struct ofp_header *oh)
{
    struct ofputil_port_status ps;
    enum ofperr error = ofputil_decode_port_status(oh, &ps);

    ob->n_port_status++;
    COVERAGE_INC(of_bridge_port_status);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: bad port status (%s)", ob->name,
                     ofperr_to_string(error));
        return;
    }
    ofp_port_t ofport = (ps.reason == OFPPR_DELETE ? OFPP_NONE
                         : ps.desc.port_no);
    VLOG_DBG("%s: port %s: %s %"PRIu16, ob->name, ps.desc.name,
             (ps.reason == OFPPR_ADD ? "add"
              : ps.reason == OFPPR_DELETE ? "delete" : "modify"),
             ofp_to_u16(ps.desc.port_no));
    if (ports_set(&ob->ports, ps.desc.name, ofport)) {
        ob->ports_seqno++;
    }
    if (ob->reading_ports) {
        ports_set(&ob->new_ports, ps.desc.name, ofport);
    }
}

static void
of_bridge_handle_msg(struct of_bridge *ob, const struct ofp_header *oh)
{
    enum ofptype type;
    if (ofptype_decode(&type, oh)) {
        VLOG_DBG_RL(&rl, "%s: undecodable OpenFlow message", ob->name);
        return;
    }
    if (of_util_answer_echo(ob->rconn, oh, type)) {
        return;
    }

    switch (type) {
    case OFPTYPE_FLOW_STATS_REPLY:
        if (ob->state == OFB_READ_FLOWS && oh->xid == ob->dump_xid) {
            of_bridge_handle_flow_stats(ob, oh, true);
            if (!ofpmp_more(oh)) {
                of_bridge_dump_done(ob);
            }
        } else if (ob->canary_pending && oh->xid == ob->canary_xid) {
            if (of_bridge_handle_flow_stats(ob, oh, false)) {
                ob->canary_found = true;
            }
            if (!ofpmp_more(oh)) {
                of_bridge_canary_done(ob);
            }
        }
        break;

    case OFPTYPE_PORT_DESC_STATS_REPLY:
        if (ob->reading_ports && oh->xid == ob->port_desc_xid) {
            of_bridge_handle_port_desc(ob, oh);
        }
        break;

    case OFPTYPE_PORT_STATUS:
        of_bridge_handle_port_status(ob, oh);
        break;

    case OFPTYPE_BARRIER_REPLY:
        if (ob->batch && oh->xid == ob->batch_barrier_xid) {
            of_bridge_batch_settled(ob);
        } else if (ob->drop_flows_pending
                   && oh->xid == ob->drop_barrier_xid) {
            ob->drop_flows_pending = false;
            VLOG_INFO("%s: deleted all flows (drop_flows_on_start)",
                      ob->name);
        }
        break;

    case OFPTYPE_ERROR:
        if (ob->batch && xid_in_batch(ob, oh->xid)) {
            ob->batch_failed = true;
            if (ob->batch->n == 1) {
                of_util_log_error(ob->name, oh);
            }
        } else {
            of_util_log_error(ob->name, oh);
            if (ob->canary_pending && oh->xid == ob->canary_xid) {
                ob->canary_pending = false;
            } else if (ob->reading_ports && oh->xid == ob->port_desc_xid) {
                /* The last word stays, as over a disconnection, and
                 * port-status messages keep it current. */
                ob->reading_ports = false;
                simap_clear(&ob->new_ports);
            }
        }
        break;

    default:
        /* Bundle replies and the like need no action. */
        break;
    }
}

/* Sends 'batch' as one atomic, ordered bundle followed by a barrier. */
static void
of_bridge_send_batch(struct of_bridge *ob, struct flow_batch *batch)
{
    int version = rconn_get_version(ob->rconn);
    enum ofputil_protocol proto = ofputil_protocol_from_ofp_version(version);
    uint16_t flags = OFPBF_ATOMIC | OFPBF_ORDERED;
    struct ofputil_bundle_ctrl_msg bc = {
        .bundle_id = ob->next_bundle_id++,
        .type = OFPBCT_OPEN_REQUEST,
        .flags = flags,
    };

    struct ofpbuf *msg = ofputil_encode_bundle_ctrl_request(version, &bc);
    ob->batch_first_xid = msg_xid(msg);
    of_bridge_send(ob, msg);

    const struct ofputil_flow_mod *fm;
    LIST_FOR_EACH (fm, list_node, &batch->fms) {
        struct ofpbuf *inner = ofputil_encode_flow_mod(fm, proto);
        if (VLOG_IS_DBG_ENABLED()) {
            struct ds s = DS_EMPTY_INITIALIZER;
            ofputil_flow_mod_format(&s, inner->data, NULL, NULL, 1);
            VLOG_DBG("%s: bundle %"PRIu32": %s", ob->name, bc.bundle_id,
                     ds_cstr(&s));
            ds_destroy(&s);
        }
        struct ofputil_bundle_add_msg bam = {
            .bundle_id = bc.bundle_id,
            .flags = flags,
            .msg = inner->data,
        };
        of_bridge_send(ob, ofputil_encode_bundle_add(version, &bam));
        ofpbuf_delete(inner);
    }

    bc.type = OFPBCT_COMMIT_REQUEST;
    of_bridge_send(ob, ofputil_encode_bundle_ctrl_request(version, &bc));

    msg = ofputil_encode_barrier_request(version);
    ob->batch_barrier_xid = msg_xid(msg);
    of_bridge_send(ob, msg);

    ob->batch = batch;
    ob->batch_sent = time_msec();
    ob->batch_failed = false;
    ob->n_batches++;
    COVERAGE_INC(of_bridge_bundle);
    ob->n_flow_mods += batch->n;
    COVERAGE_ADD(of_bridge_flow_mod, batch->n);
}

void
of_bridge_run(struct of_bridge *ob, struct of_listener *listener)
{
    if (!ob->rconn) {
        ob->rconn = ob->dpid ? of_listener_take(listener, ob->dpid) : NULL;
        if (!ob->rconn) {
            /* The reference gives up (and exits) after of_connect_timeout;
             * we say so loudly and keep waiting: the switch may come. */
            if (!ob->reported_unconnected && ob->connect_timeout_ms > 0
                && time_msec() - ob->unconnected_since
                   >= ob->connect_timeout_ms) {
                VLOG_ERR("%s: the switch has not connected to us for %d s "
                         "(of_connect_timeout); still waiting", ob->name,
                         ob->connect_timeout_ms / 1000);
                ob->reported_unconnected = true;
            }
            return;
        }
        of_bridge_start_session(ob);
    }

    rconn_run(ob->rconn);
    if (!rconn_is_alive(ob->rconn) || !rconn_is_connected(ob->rconn)) {
        of_bridge_disconnect(ob);
        return;
    }

    for (int i = 0; i < 256 && ob->rconn; i++) {
        struct ofpbuf *msg = rconn_recv(ob->rconn);
        if (!msg) {
            break;
        }
        of_bridge_handle_msg(ob, msg->data);
        ofpbuf_delete(msg);
    }

    if (ob->batch && ob->request_timeout_ms > 0
        && time_msec() - ob->batch_sent >= ob->request_timeout_ms) {
        VLOG_ERR("%s: no barrier reply within %d s (of_request_timeout); "
                 "reconnecting", ob->name, ob->request_timeout_ms / 1000);
        of_bridge_disconnect(ob);
        return;
    }
    if (ob->state != OFB_SYNCING) {
        return;
    }
    if (ob->canary_table >= 0 && !ob->canary_pending
        && time_msec() >= ob->next_canary) {
        ob->next_canary = time_msec() + ob->canary_interval_ms;
        ob->canary_found = false;
        ob->canary_pending = true;
        ob->canary_xid = of_bridge_send_flow_stats_request(ob,
                                                           ob->canary_table);
    }
}

void
of_bridge_put(struct of_bridge *ob)
{
    if (!ob->rconn || ob->state != OFB_SYNCING || ob->batch) {
        return;
    }
    uint64_t installed = flow_table_installed_seqno(ob->ft);
    struct flow_batch *batch = flow_table_diff(ob->ft, ob->max_batch);
    if (batch) {
        of_bridge_send_batch(ob, batch);
    } else if (flow_table_installed_seqno(ob->ft)) {
        ob->ever_complete = true;
        if (flow_table_installed_seqno(ob->ft) != installed) {
            /* Nothing to send made the switch current: whoever waits for
             * these flows (a port's report, a bridge's link) ran earlier
             * in this iteration and must look again now. */
            poll_immediate_wake();
        }
    }
}

void
of_bridge_wait(struct of_bridge *ob)
{
    if (!ob->rconn) {
        if (!ob->reported_unconnected && ob->connect_timeout_ms > 0) {
            poll_timer_wait_until(ob->unconnected_since
                                  + ob->connect_timeout_ms);
        }
        return;
    }
    if (ob->batch && ob->request_timeout_ms > 0) {
        poll_timer_wait_until(ob->batch_sent + ob->request_timeout_ms);
    }
    if (!rconn_is_alive(ob->rconn) || !rconn_is_connected(ob->rconn)) {
        /* The connection ended while of_bridge_run() read from it; the next
         * run drops it, and nothing else would wake us for that. */
        poll_immediate_wake();
        return;
    }
    rconn_run_wait(ob->rconn);
    rconn_recv_wait(ob->rconn);
    if (ob->state == OFB_SYNCING) {
        if (!ob->batch && flow_table_installed_seqno(ob->ft)
                          != flow_table_desired_seqno(ob->ft)) {
            poll_immediate_wake();
        }
        if (ob->canary_table >= 0 && !ob->canary_pending) {
            poll_timer_wait_until(ob->next_canary);
        }
    }
}

struct flow_table *
of_bridge_flows(struct of_bridge *ob)
{
    return ob->ft;
}

const char *
of_bridge_name(const struct of_bridge *ob)
{
    return ob->name;
}

bool
of_bridge_flows_read(const struct of_bridge *ob)
{
    return ob->ever_read;
}

bool
of_bridge_is_connected(const struct of_bridge *ob)
{
    return ob->rconn && ob->state == OFB_SYNCING;
}

/* With drop_flows_on_start, nothing counts as installed before the
 * delete-all's barrier is back: until then the switch may still hold
 * flows the agent never wanted.  (When the desired flows are few, the
 * installed side catches up with them at once, and "in sync" was once
 * claimed while a foreign flow was still on the switch.) */
bool
of_bridge_flows_installed(const struct of_bridge *ob, uint64_t seqno)
{
    return (of_bridge_is_connected(ob) && !ob->drop_flows_pending
            && flow_table_installed_seqno(ob->ft) >= seqno);
}

bool
of_bridge_in_sync(const struct of_bridge *ob)
{
    return of_bridge_flows_installed(ob, flow_table_desired_seqno(ob->ft));
}

int
of_bridge_get_ofport(const struct of_bridge *ob, const char *name)
{
    const struct simap_node *node = simap_find(&ob->ports, name);
    return node ? node->data : -1;
}

unsigned int
of_bridge_ports_seqno(const struct of_bridge *ob)
{
    return ob->ports_seqno;
}

unsigned int
of_bridge_n_switch_resets(const struct of_bridge *ob)
{
    return ob->n_switch_resets;
}

void
of_bridge_format(const struct of_bridge *ob, struct ds *s)
{
    ds_put_format(s, "  openflow: %s", state_name(ob->state));
    if (ob->rconn) {
        ds_put_format(s, " (%s, OpenFlow 1.%d)", rconn_get_name(ob->rconn),
                      rconn_get_version(ob->rconn) - 1);
    }
    ds_put_char(s, '\n');
    ds_put_format(s, "  dpid: %016"PRIx64"\n", ob->dpid);
    ds_put_format(s, "  cookie: %#"PRIx64"\n", flow_table_get_cookie(ob->ft));
    if (flow_table_n_reserved(ob->ft)) {
        ds_put_cstr(s, "  extension cookies: ");
        flow_table_format_reserved(ob->ft, s);
        ds_put_char(s, '\n');
    }
    ds_put_format(s, "  flows: %"PRIuSIZE" desired, %"PRIuSIZE" installed, "
                  "%s\n", flow_table_n_desired(ob->ft),
                  flow_table_n_installed(ob->ft),
                  of_bridge_in_sync(ob) ? "in sync" : "pending");
    ds_put_format(s, "  counters: connects=%u switch_resets=%u bundles=%llu "
                  "flow_mods=%llu bundle_failures=%u rejected_flows=%u\n",
                  ob->n_connects, ob->n_switch_resets, ob->n_batches,
                  ob->n_flow_mods, ob->n_batch_failures, ob->n_rejected);
    ds_put_format(s, "  ports: %"PRIuSIZE" by OpenFlow%s, port_status=%u\n",
                  simap_count(&ob->ports),
                  ob->reading_ports ? " (reading the description)" : "",
                  ob->n_port_status);
}
