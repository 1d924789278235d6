/*
 * Unit tests for of-bridge against a scripted switch: this program listens
 * with of-listener and also plays ovs-vswitchd, over a real TCP connection
 * on 127.0.0.1, with OVS's vconn API.  The switch records the flow_mods it
 * receives and can hold its barrier replies back, which makes the moments
 * between a request and its acknowledgement observable on demand.  It
 * describes its ports from a list and sends port-status messages when told.
 */
#include <config.h>

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "byte-order.h"
#include "flow.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-bundle.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofp-msgs.h"
#include "openvswitch/ofp-port.h"
#include "openvswitch/ofp-switch.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vconn.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/of-listener.h"
#include "timeval.h"
#include "util.h"
#include "test-util.h"

#define DPID 0x0000feedbeef0001ULL
#define COOKIE 0x1234
#define FOREIGN_COOKIE 0xaaaa
#define MAX_FMS 32

/* A port in the switch's port description. */
struct sw_port {
    const char *name;
    ofp_port_t port_no;
};

/* A flow_mod as the switch received it. */
struct fm_seen {
    int conn;                   /* Connection it came on, from 1. */
    uint16_t command;           /* OFPFC_*. */
    uint8_t table_id;
    uint64_t cookie;            /* The new cookie of an add. */
    uint64_t cookie_mask;
    bool match_all;
    bool in_bundle;
    int barriers_before;        /* Barrier requests received before it. */
};

struct fake_switch {
    struct vconn *vconn;        /* NULL while disconnected. */
    int port;
    int conn;                   /* Connections opened so far. */
    bool hold;                  /* Hold barrier replies and what follows. */
    struct ovs_list held;       /* Of struct ofpbuf: held replies. */
    struct ovs_list txq;        /* Of struct ofpbuf: replies to send. */
    const char *dump_flow;      /* Reported by flow stats replies, or NULL. */
    struct fm_seen fms[MAX_FMS];
    int n_fms;
    int n_barriers;
    int n_stats_requests;

    /* The port description, and whether to send it one part per port with
     * the last part held back like a barrier reply (see switch_release()). */
    const struct sw_port *ports;
    size_t n_ports;
    bool hold_port_desc_tail;
    int n_port_desc_requests;
};

static void
switch_connect(struct fake_switch *sw)
{
    char *target = xasprintf("tcp:127.0.0.1:%d", sw->port);
    int error = vconn_open(target, 1u << OFP13_VERSION, 0, &sw->vconn);
    ovs_assert(!error);
    free(target);
    sw->conn++;
}

static void
switch_disconnect(struct fake_switch *sw)
{
    vconn_close(sw->vconn);
    sw->vconn = NULL;
    ofpbuf_list_delete(&sw->held);
    ofpbuf_list_delete(&sw->txq);
}

/* Queues 'msg', a reply, behind any held ones. */
static void
switch_reply(struct fake_switch *sw, struct ofpbuf *msg, bool is_barrier)
{
    bool hold = (sw->hold && is_barrier) || !ovs_list_is_empty(&sw->held);
    ovs_list_push_back(hold ? &sw->held : &sw->txq, &msg->list_node);
}

/* Lets the held replies go; 'hold' says whether to hold the next ones. */
static void
switch_release(struct fake_switch *sw, bool hold)
{
    ovs_list_push_back_all(&sw->txq, &sw->held);
    sw->hold = hold;
}

static void
switch_record_flow_mod(struct fake_switch *sw, const struct ofp_header *oh,
                       bool in_bundle)
{
    struct ofputil_flow_mod fm;
    struct ofpbuf ofpacts;
    ofpbuf_init(&ofpacts, 64);
    enum ofperr error = ofputil_decode_flow_mod(&fm, oh, OFPUTIL_P_OF13_OXM,
                                                NULL, NULL, &ofpacts,
                                                OFPP_MAX, 255);
    if (error) {
        printf("# undecodable flow_mod: %s\n", ofperr_to_string(error));
        test_n_failed++;
    } else if (sw->n_fms < MAX_FMS) {
        sw->fms[sw->n_fms++] = (struct fm_seen) {
            .conn = sw->conn,
            .command = fm.command,
            .table_id = fm.table_id,
            .cookie = ntohll(fm.command == OFPFC_ADD ? fm.new_cookie
                                                     : fm.cookie),
            .cookie_mask = ntohll(fm.cookie_mask),
            .match_all = minimask_is_catchall(fm.match.mask),
            .in_bundle = in_bundle,
            .barriers_before = sw->n_barriers,
        };
        minimatch_destroy(&fm.match);
    }
    ofpbuf_uninit(&ofpacts);
}

/* Answers a flow stats request with 'sw->dump_flow', if any. */
static void
switch_flow_stats(struct fake_switch *sw, const struct ofp_header *oh)
{
    struct ovs_list replies;
    ofpmp_init(&replies, oh);
    if (sw->dump_flow) {
        struct ofputil_flow_mod fm;
        enum ofputil_protocol usable;
        char *error = parse_ofp_flow_mod_str(&fm, sw->dump_flow, NULL, NULL,
                                             OFPFC_ADD, &usable);
        ovs_assert(!error);
        struct ofputil_flow_stats fs;
        memset(&fs, 0, sizeof fs);
        minimatch_expand(&fm.match, &fs.match);
        fs.cookie = htonll(FOREIGN_COOKIE);
        fs.table_id = fm.table_id;
        fs.priority = fm.priority;
        fs.idle_age = fs.hard_age = -1;
        fs.ofpacts = fm.ofpacts;
        fs.ofpacts_len = fm.ofpacts_len;
        ofputil_append_flow_stats_reply(&fs, &replies, NULL);
        minimatch_destroy(&fm.match);
        free(fm.ofpacts);
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &replies) {
        switch_reply(sw, msg, false);
    }
}

static struct ofputil_phy_port
make_phy_port(const char *name, ofp_port_t port_no)
{
    struct ofputil_phy_port pp;
    memset(&pp, 0, sizeof pp);
    pp.port_no = port_no;
    ovs_strlcpy(pp.name, name, sizeof pp.name);
    return pp;
}

/* Answers a port description request with 'sw->ports': in one part, or
 * with 'sw->hold_port_desc_tail' in one part per port, the last held. */
static void
switch_port_desc(struct fake_switch *sw, const struct ofp_header *oh)
{
    struct ovs_list replies;
    ofpmp_init(&replies, oh);
    for (size_t i = 0; i < sw->n_ports; i++) {
        struct ofputil_phy_port pp = make_phy_port(sw->ports[i].name,
                                                   sw->ports[i].port_no);
        if (sw->hold_port_desc_tail && i) {
            /* Ends the part so far, with the "more" flag: the flags of
             * struct ofp11_stats_msg (private to OVS's ofp-msgs.c) follow
             * the header and the stats type. */
            struct ofpbuf *prev = ofpbuf_from_list(ovs_list_back(&replies));
            ovs_be16 *flags = (ovs_be16 *) ((char *) prev->data + 10);
            *flags |= htons(OFPSF_REPLY_MORE);
            ovs_assert(ofpmp_more(prev->data));
            struct ovs_list part;
            ofpmp_init(&part, oh);
            ovs_list_push_back_all(&replies, &part);
        }
        ofputil_append_port_desc_stats_reply(&pp, &replies);
    }
    struct ofpbuf *msg;
    LIST_FOR_EACH_POP (msg, list_node, &replies) {
        if (sw->hold_port_desc_tail && ovs_list_is_empty(&replies)) {
            ovs_list_push_back(&sw->held, &msg->list_node);
        } else {
            switch_reply(sw, msg, false);
        }
    }
}

/* Sends a port-status message about port 'name'. */
static void
switch_port_status(struct fake_switch *sw, enum ofp_port_reason reason,
                   const char *name, ofp_port_t port_no, bool link_down)
{
    struct ofputil_port_status ps = {
        .reason = reason,
        .desc = make_phy_port(name, port_no),
    };
    if (link_down) {
        ps.desc.state = OFPUTIL_PS_LINK_DOWN;
    }
    switch_reply(sw, ofputil_encode_port_status(&ps, OFPUTIL_P_OF13_OXM),
                 false);
}

static void
switch_handle(struct fake_switch *sw, const struct ofp_header *oh)
{
    enum ofptype type;
    if (ofptype_decode(&type, oh)) {
        printf("# the switch got an undecodable message\n");
        test_n_failed++;
        return;
    }
    switch (type) {
    case OFPTYPE_ECHO_REQUEST:
        switch_reply(sw, ofputil_encode_echo_reply(oh), false);
        break;
    case OFPTYPE_FEATURES_REQUEST: {
        struct ofputil_switch_features sf = { .datapath_id = DPID,
                                              .n_tables = 254 };
        switch_reply(sw, ofputil_encode_switch_features(
                         &sf, OFPUTIL_P_OF13_OXM, oh->xid), false);
        break;
    }
    case OFPTYPE_FLOW_MOD:
        switch_record_flow_mod(sw, oh, false);
        break;
    case OFPTYPE_FLOW_STATS_REQUEST:
        sw->n_stats_requests++;
        switch_flow_stats(sw, oh);
        break;
    case OFPTYPE_PORT_DESC_STATS_REQUEST:
        sw->n_port_desc_requests++;
        switch_port_desc(sw, oh);
        break;
    case OFPTYPE_BUNDLE_CONTROL: {
        struct ofputil_bundle_ctrl_msg bc;
        ovs_assert(!ofputil_decode_bundle_ctrl(oh, &bc));
        /* Each *_REQUEST is answered by the *_REPLY that follows it. */
        bc.type = (bc.type == OFPBCT_OPEN_REQUEST ? OFPBCT_OPEN_REPLY
                   : bc.type == OFPBCT_CLOSE_REQUEST ? OFPBCT_CLOSE_REPLY
                   : bc.type == OFPBCT_COMMIT_REQUEST ? OFPBCT_COMMIT_REPLY
                   : OFPBCT_DISCARD_REPLY);
        switch_reply(sw, ofputil_encode_bundle_ctrl_reply(oh, &bc), false);
        break;
    }
    case OFPTYPE_BUNDLE_ADD_MESSAGE: {
        struct ofputil_bundle_add_msg bam;
        enum ofptype inner;
        ovs_assert(!ofputil_decode_bundle_add(oh, &bam, &inner));
        ovs_assert(inner == OFPTYPE_FLOW_MOD);
        switch_record_flow_mod(sw, bam.msg, true);
        break;
    }
    case OFPTYPE_BARRIER_REQUEST:
        sw->n_barriers++;
        switch_reply(sw, ofpraw_alloc_reply(OFPRAW_OFPT11_BARRIER_REPLY,
                                            oh, 0), true);
        break;
    default:
        printf("# the switch ignores %s\n", ofptype_get_name(type));
        break;
    }
}

static void
switch_step(struct fake_switch *sw)
{
    if (!sw->vconn) {
        return;
    }
    vconn_run(sw->vconn);
    for (int i = 0; i < 64; i++) {
        struct ofpbuf *msg;
        if (vconn_recv(sw->vconn, &msg)) {
            break;
        }
        switch_handle(sw, msg->data);
        ofpbuf_delete(msg);
    }
    while (!ovs_list_is_empty(&sw->txq)) {
        struct ofpbuf *msg = CONTAINER_OF(ovs_list_pop_front(&sw->txq),
                                          struct ofpbuf, list_node);
        if (vconn_send(sw->vconn, msg)) {
            ovs_list_push_front(&sw->txq, &msg->list_node);
            break;
        }
    }
}

/* The listener, the bridge and the switch of one case. */
struct env {
    struct of_listener *listener;
    struct of_bridge *ob;
    struct fake_switch sw;
    int barriers_wanted;        /* For run_to_barrier(). */
};

/* Returns a TCP port on 127.0.0.1 that was free a moment ago. */
static int
free_port(void)
{
    struct sockaddr_in sin = { .sin_family = AF_INET,
                               .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof sin;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ovs_assert(fd >= 0);
    ovs_assert(!bind(fd, (struct sockaddr *) &sin, sizeof sin));
    ovs_assert(!getsockname(fd, (struct sockaddr *) &sin, &len));
    close(fd);
    return ntohs(sin.sin_port);
}

/* of-listener accepts port 0, but a pvconn does not tell which port it got,
 * so the test picks a free one, and another if it is taken meanwhile. */
static void
env_init(struct env *e, bool drop_flows_on_start, const char *dump_flow)
{
    static const uint8_t owned[] = { 0 };
    memset(e, 0, sizeof *e);
    for (int i = 0; i < 5 && !e->listener; i++) {
        e->sw.port = free_port();
        e->listener = of_listener_create("127.0.0.1", e->sw.port, 0);
        of_listener_run(e->listener);
        if (!of_listener_is_listening(e->listener)) {
            of_listener_destroy(e->listener);
            e->listener = NULL;
        }
    }
    ovs_assert(e->listener);
    struct of_bridge_options opts = {
        .owned_tables = owned,
        .n_owned_tables = ARRAY_SIZE(owned),
        .canary_table = -1,
        .drop_flows_on_start = drop_flows_on_start,
    };
    e->ob = of_bridge_create("br-test", COOKIE, &opts);
    of_bridge_set_dpid(e->ob, DPID);
    ovs_list_init(&e->sw.held);
    ovs_list_init(&e->sw.txq);
    e->sw.dump_flow = dump_flow;
    e->sw.hold = true;
    switch_connect(&e->sw);
}

static void
env_destroy(struct env *e)
{
    switch_disconnect(&e->sw);
    of_bridge_destroy(e->ob);
    of_listener_destroy(e->listener);
}

static void
env_run(struct env *e)
{
    of_listener_run(e->listener);
    of_bridge_run(e->ob, e->listener);
    of_bridge_put(e->ob);
    switch_step(&e->sw);
}

/* Runs everything until 'cond' holds, waiting in poll_block() between
 * rounds, also for at most 'tick_ms' if nonzero.  Returns false if 'cond'
 * does not hold within 5 s. */
static bool
run_until(struct env *e, bool (*cond)(const struct env *), int tick_ms)
{
    long long int deadline = time_msec() + 5000;
    for (int i = 0; i < 10000; i++) {
        env_run(e);
        if (cond(e)) {
            return true;
        }
        if (time_msec() >= deadline) {
            break;
        }
        of_listener_wait(e->listener);
        of_bridge_wait(e->ob);
        if (e->sw.vconn) {
            vconn_run_wait(e->sw.vconn);
            vconn_recv_wait(e->sw.vconn);
            if (!ovs_list_is_empty(&e->sw.txq)) {
                vconn_send_wait(e->sw.vconn);
            }
        }
        poll_timer_wait_until(deadline);
        if (tick_ms) {
            poll_timer_wait(tick_ms);
        }
        poll_block();
    }
    return false;
}

/* A few more rounds, without waiting: whatever the bridge would do with
 * what it has received, it has done. */
static void
run_rounds(struct env *e)
{
    for (int i = 0; i < 20; i++) {
        env_run(e);
    }
}

static bool
enough_barriers(const struct env *e)
{
    return e->sw.n_barriers >= e->barriers_wanted;
}

/* Runs until the switch has received 'n' barrier requests in all, then a
 * few rounds more. */
static bool
run_to_barrier(struct env *e, int n)
{
    e->barriers_wanted = n;
    bool ok = run_until(e, enough_barriers, 0);
    run_rounds(e);
    return ok;
}

static bool
in_sync(const struct env *e)
{
    return of_bridge_in_sync(e->ob);
}

static bool
disconnected(const struct env *e)
{
    return !of_bridge_is_connected(e->ob);
}

static bool
is_delete_all(const struct fm_seen *f)
{
    return (f->command == OFPFC_DELETE && f->table_id == OFPTT_ALL
            && f->match_all && !f->cookie_mask && !f->in_bundle);
}

static bool
is_our_add(const struct fm_seen *f)
{
    return (f->command == OFPFC_ADD && f->table_id == 0 && f->in_bundle
            && f->cookie == COOKIE);
}

static void
add_flow(struct env *e)
{
    char *error = flow_table_add(of_bridge_flows(e->ob), "base", 0,
                                 "table=0,priority=0,actions=NORMAL");
    ovs_assert(!error);
}

/* drop_flows_on_start: "in sync" waits for the delete-all's barrier. */
static void
test_drop_flows_barrier(void)
{
    struct env e;
    env_init(&e, true, NULL);
    check(run_to_barrier(&e, 1), "drop: the switch gets a barrier");
    const struct fm_seen *f = &e.sw.fms[0];
    check(e.sw.n_fms == 1 && is_delete_all(f) && !f->barriers_before
          && !e.sw.n_stats_requests, "drop: the first flow_mod is a "
          "delete-all (all tables, match all) before it, no flow dump");
    check(of_bridge_is_connected(e.ob) && !of_bridge_in_sync(e.ob),
          "drop: not in sync while the delete-all's barrier reply is held");

    add_flow(&e);
    check(run_to_barrier(&e, 2), "drop: a desired flow, a second barrier");
    check(!of_bridge_in_sync(e.ob), "drop: still not in sync while held");

    switch_release(&e.sw, false);
    check(run_until(&e, in_sync, 0), "drop: in sync once the replies come");
    f = &e.sw.fms[1];
    check(e.sw.n_fms == 2 && is_our_add(f) && f->barriers_before == 1,
          "drop: the desired flow was added after the delete-all's barrier");
    env_destroy(&e);
}

/* No drop_flows_on_start: read back, add ours, delete the foreign cookie. */
static void
test_read_back(void)
{
    struct env e;
    env_init(&e, false, "table=0,priority=5,in_port=9,actions=drop");
    add_flow(&e);
    check(run_to_barrier(&e, 1), "read: the switch gets a barrier");
    check(e.sw.n_stats_requests == 1 && e.sw.n_fms == 1
          && is_our_add(&e.sw.fms[0]),
          "read: one flow dump, then the desired flow added in a bundle");
    check(!of_bridge_in_sync(e.ob), "read: not in sync before its barrier");

    switch_release(&e.sw, true);
    check(run_to_barrier(&e, 2), "read: a second bundle and barrier follow");
    const struct fm_seen *f = &e.sw.fms[1];
    check(e.sw.n_fms == 2 && f->command == OFPFC_DELETE && f->in_bundle
          && f->table_id == OFPTT_ALL && f->cookie == FOREIGN_COOKIE
          && f->cookie_mask == UINT64_MAX && f->barriers_before == 1,
          "read: then the foreign flow is deleted by its cookie");
    check(!of_bridge_in_sync(e.ob),
          "read: not in sync before the delete's barrier");

    switch_release(&e.sw, false);
    check(run_until(&e, in_sync, 0), "read: in sync after both barriers");
    check(e.sw.n_fms == 2 && e.sw.n_barriers == 2, "read: nothing else sent");
    env_destroy(&e);
}

/* A connection lost before the delete-all's barrier deletes again. */
static void
test_drop_flows_reconnect(void)
{
    struct env e;
    env_init(&e, true, NULL);
    add_flow(&e);
    check(run_to_barrier(&e, 2) && e.sw.n_fms == 2
          && is_delete_all(&e.sw.fms[0]) && is_our_add(&e.sw.fms[1]),
          "reconnect: delete-all, then the add, barriers held");

    switch_disconnect(&e.sw);
    /* No tick: of_bridge_wait() itself wakes the loop once the connection
     * it read from has ended. */
    check(run_until(&e, disconnected, 0) && !of_bridge_in_sync(e.ob),
          "reconnect: the bridge sees the connection drop");

    switch_connect(&e.sw);
    e.sw.hold = true;
    check(run_to_barrier(&e, 3), "reconnect: the switch connects again");
    const struct fm_seen *f = &e.sw.fms[2];
    check(e.sw.n_fms >= 3 && f->conn == 2 && is_delete_all(f)
          && f->barriers_before == 2,
          "reconnect: the second connection starts with a delete-all");
    check(!of_bridge_in_sync(e.ob), "reconnect: not in sync while held");

    switch_release(&e.sw, false);
    check(run_until(&e, in_sync, 0), "reconnect: in sync once released");
    f = &e.sw.fms[3];
    check(e.sw.n_fms == 4 && f->conn == 2 && is_our_add(f),
          "reconnect: the desired flow is added again after it");
    env_destroy(&e);
}

#define VXLAN2 "vxlan-0a000002"
#define VXLAN3 "vxlan-0a000003"
#define VXLAN4 "vxlan-0a000004"

static int
ofport(const struct env *e, const char *name)
{
    return of_bridge_get_ofport(e->ob, name);
}

static bool
vxlan2_known(const struct env *e)
{
    return ofport(e, VXLAN2) >= 0;
}

static bool
vxlan3_known(const struct env *e)
{
    return ofport(e, VXLAN3) >= 0;
}

static bool
vxlan2_gone(const struct env *e)
{
    return ofport(e, VXLAN2) < 0;
}

static bool
vxlan4_known(const struct env *e)
{
    return ofport(e, VXLAN4) >= 0;
}

static bool
two_port_desc_requests(const struct env *e)
{
    return e->sw.n_port_desc_requests >= 2;
}

/* True if of_bridge_format() says that 2 port-status messages came. */
static bool
two_port_status(const struct env *e)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    of_bridge_format(e->ob, &s);
    bool found = strstr(ds_cstr(&s), "port_status=2\n") != NULL;
    ds_destroy(&s);
    return found;
}

/* Port numbers: the port description at connection, port-status messages
 * after, and a new connection's description replacing them all. */
static void
test_ports(void)
{
    static const struct sw_port ports1[] = {
        { VXLAN2, OFP_PORT_C(5) },
        { "br-test", OFPP_LOCAL },
    };
    static const struct sw_port ports2[] = {
        { "br-test", OFPP_LOCAL },
        { VXLAN2, OFP_PORT_C(8) },
        { VXLAN4, OFP_PORT_C(7) },
    };
    struct env e;
    env_init(&e, false, NULL);
    e.sw.hold = false;
    e.sw.ports = ports1;
    e.sw.n_ports = ARRAY_SIZE(ports1);

    unsigned int seqno = of_bridge_ports_seqno(e.ob);
    check(ofport(&e, VXLAN2) == -1 && ofport(&e, "br-test") == -1,
          "ports: none before the switch says");
    check(run_until(&e, vxlan2_known, 0) && e.sw.n_port_desc_requests == 1,
          "ports: the bridge asks for the port description");
    check(ofport(&e, VXLAN2) == 5
          && ofport(&e, "br-test") == ofp_to_u16(OFPP_LOCAL)
          && ofport(&e, VXLAN3) == -1,
          "ports: the description's ports, the local one included");
    check(of_bridge_ports_seqno(e.ob) != seqno,
          "ports: the seqno moved with the description");

    seqno = of_bridge_ports_seqno(e.ob);
    switch_port_status(&e.sw, OFPPR_ADD, VXLAN3, OFP_PORT_C(6), false);
    check(run_until(&e, vxlan3_known, 0) && ofport(&e, VXLAN3) == 6
          && ofport(&e, VXLAN2) == 5,
          "ports: a port-status ADD adds a port");
    check(of_bridge_ports_seqno(e.ob) != seqno,
          "ports: the seqno moved with the ADD");

    seqno = of_bridge_ports_seqno(e.ob);
    switch_port_status(&e.sw, OFPPR_MODIFY, VXLAN3, OFP_PORT_C(6), true);
    check(run_until(&e, two_port_status, 0) && ofport(&e, VXLAN3) == 6,
          "ports: a MODIFY (link down) keeps the port number");
    check(of_bridge_ports_seqno(e.ob) == seqno,
          "ports: the seqno stays when no number changed");

    switch_port_status(&e.sw, OFPPR_DELETE, VXLAN2, OFP_PORT_C(5), false);
    check(run_until(&e, vxlan2_gone, 0) && ofport(&e, VXLAN3) == 6,
          "ports: a port-status DELETE removes the port");
    check(of_bridge_ports_seqno(e.ob) != seqno,
          "ports: the seqno moved with the DELETE");

    /* VXLAN3 is deleted, VXLAN2 comes back under another number and VXLAN4
     * is new while the bridge is away. */
    switch_disconnect(&e.sw);
    check(run_until(&e, disconnected, 0) && ofport(&e, VXLAN3) == 6,
          "ports: kept over the disconnection");
    seqno = of_bridge_ports_seqno(e.ob);
    e.sw.ports = ports2;
    e.sw.n_ports = ARRAY_SIZE(ports2);
    e.sw.hold_port_desc_tail = true;
    switch_connect(&e.sw);
    check(run_until(&e, two_port_desc_requests, 0),
          "ports: the new connection asks for the description again");
    run_rounds(&e);
    check(ofport(&e, VXLAN3) == 6 && ofport(&e, VXLAN2) == -1
          && ofport(&e, VXLAN4) == -1
          && of_bridge_ports_seqno(e.ob) == seqno,
          "ports: the old ones answer until the description is complete");

    switch_release(&e.sw, false);
    check(run_until(&e, vxlan4_known, 0) && ofport(&e, VXLAN4) == 7
          && ofport(&e, VXLAN2) == 8
          && ofport(&e, "br-test") == ofp_to_u16(OFPP_LOCAL),
          "ports: the multipart description, once complete, is the answer");
    check(ofport(&e, VXLAN3) == -1,
          "ports: a port deleted while disconnected is gone");
    check(of_bridge_ports_seqno(e.ob) != seqno,
          "ports: the seqno moved with the new description");
    env_destroy(&e);
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_WARN);
    test_drop_flows_barrier();
    test_read_back();
    test_drop_flows_reconnect();
    test_ports();
    return test_summary();
}
