/*
 * agent: the main loop's work, one module at a time.  See agent.h.
 */
#include <config.h>
#include "agent/agent.h"

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/base-flows.h"
#include "agent/extensions.h"
#include "agent/fw-driver.h"
#include "agent/ports.h"
#include "agent/tunnels.h"
#include "log-safe.h"
#include "neutron/address-groups.h"
#include "neutron/port-cache.h"
#include "neutron/sg-cache.h"
#include "json-util.h"
#include "neutron/plugin-api.h"
#include "openvswitch/poll-loop.h"
#include "timeval.h"
#include "neutron/agent-state.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "oslo/rpc.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/of-listener.h"
#include "ovs/vswitch.h"
#include "ovsdb-idl.h"
#include "random.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent);

/* A bridge the agent manages: its description (agent-config.h) and its
 * OpenFlow session. */
struct agent_bridge {
    const struct bridge_desc *desc;
    struct of_bridge *ob;

    /* The patch port the base flows were last computed with (br-int's to
     * br-tun, or br-tun's or a physical bridge's to br-int); -2 = never. */
    int flows_port;

    /* br-int only: its patch port to each physical bridge, in
     * bridge_mappings order, as its base flows were last computed with;
     * NULL = never. */
    int *flows_int_phys;

    bool linked;                /* BRIDGE_PHYS: its interconnect is up. */
};

struct agent {
    const struct agent_config *cfg;
    struct vswitch *vswitch;
    struct of_listener *listener;
    struct agent_bridge *bridges;   /* [0] int, then tun, then phys. */
    size_t n_bridges;
    char *fatal;

    /* The control plane: NULL rpc without a transport_url. */
    struct rpc *rpc;
    struct fw_driver *fw;           /* [securitygroup] firewall_driver. */
    struct ports *ports;
    struct tunnels *tunnels;        /* NULL without tunnel_types. */
    struct extensions *extensions;  /* [agent] extensions. */
    struct agent_state *state;
    unsigned int rpc_seqno;         /* Last rpc_reconnect_seqno() seen. */
    unsigned int int_resets;        /* Last br-int switch reset count. */

    /* tunnel_sync, once per tunnel type at start and after each
     * reconnection or OVS restart, until the server has answered. */
    bool tunnel_sync_needed;
    bool tunnel_sync_busy;
    long long int tunnel_sync_retry;
};

/* The server's resource pushes the agent follows, as the reference does
 * (docs/wire.md §6.1): ports and networks, and what the firewall driver
 * follows (fw-driver.h).  The legacy port-update, port-delete and
 * network-update casts carry nothing these do not, and the reference does
 * not consume them either. */
#define PUSH_TOPIC_PREFIX "neutron-vo-"
#define PORT_PUSH_TOPIC PUSH_TOPIC_PREFIX "Port-" PORT_CACHE_PORT_VERSION
#define NETWORK_PUSH_TOPIC PUSH_TOPIC_PREFIX "Network-1.1"
/* Tunnels: the l2population FDB (fanout and this host's queue), and,
 * without l2population, the endpoints the server announces. */
#define L2POP_TOPIC "q-agent-notifier-l2population-update"
#define TUNNEL_UPDATE_TOPIC "q-agent-notifier-tunnel-update"
#define TUNNEL_DELETE_TOPIC "q-agent-notifier-tunnel-delete"

/* A cookie as the reference draws them: uniform in [0, 2**64 - 2], so that
 * it is never the all-ones "no cookie" value. */
static uint64_t
new_cookie(void)
{
    uint64_t c;
    do {
        c = random_uint64();
    } while (c == UINT64_MAX);
    return c;
}

static void
agent_add_bridge(struct agent *a, const struct bridge_desc *desc)
{
    const struct agent_config *cfg = a->cfg;
    struct agent_bridge *b = &a->bridges[a->n_bridges++];
    b->desc = desc;
    b->flows_port = -2;
    b->flows_int_phys = NULL;

    struct of_bridge_options opts = {
        .canary_table = -1,
        .canary_interval_ms = cfg->polling_interval * 1000,
        .drop_flows_on_start = cfg->drop_flows_on_start,
        .connect_timeout_ms = cfg->of_connect_timeout * 1000,
        .request_timeout_ms = cfg->of_request_timeout * 1000,
    };
    switch (desc->role) {
    case BRIDGE_INT:
        opts.owned_tables = base_flows_int_tables;
        opts.n_owned_tables = base_flows_n_int_tables;
        opts.canary_table = BASE_FLOWS_CANARY_TABLE;
        break;
    case BRIDGE_TUN:
        opts.owned_tables = base_flows_tun_tables;
        opts.n_owned_tables = base_flows_n_tun_tables;
        break;
    case BRIDGE_PHYS:
        opts.owned_tables = base_flows_phys_tables;
        opts.n_owned_tables = base_flows_n_phys_tables;
        break;
    }
    b->ob = of_bridge_create(desc->name, new_cookie(), &opts);
}

/* Whether the firewall driver follows 'type' at 'version'. */
static bool
fw_follows(const struct agent *a, const char *type, const char *version)
{
    const struct fw_resource *r = fw_driver_class(a->fw)->resources;
    for (; r && r->type; r++) {
        if (!strcmp(r->type, type) && !strcmp(r->version, version)) {
            return true;
        }
    }
    return false;
}

/* A push from the server: "push" with a list of objects of the topic's
 * type and an event_type.  The one handler of every push topic
 * ("neutron-vo-<type>-<version>"): each module that follows the type gets
 * the objects, the firewall first (its members must be current before a
 * port it filters is rewired). */
static void
agent_notify(void *a_, const char *topic, const char *method,
             const struct json *args)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct agent *a = a_;

    const char *event = json_member_string(args, "event_type");
    const struct json *list = json_member(args, "resource_list");
    const char *dash = strrchr(topic, '-');
    if (strcmp(method, "push") || !event || !list
        || list->type != JSON_ARRAY || !dash
        || strncmp(topic, PUSH_TOPIC_PREFIX, strlen(PUSH_TOPIC_PREFIX))) {
        VLOG_WARN_RL(&rl, "%s: unexpected %s request; ignored", topic,
                     log_safe(method));
        return;
    }
    const char *version = dash + 1;
    char *type = xmemdup0(topic + strlen(PUSH_TOPIC_PREFIX),
                          dash - topic - strlen(PUSH_TOPIC_PREFIX));
    bool deleted = !strcmp(event, "deleted");
    size_t n_bad = 0;
    if (fw_follows(a, type, version)) {
        n_bad += fw_driver_push(a->fw, type, list, deleted);
    }
    if (!strcmp(topic, PORT_PUSH_TOPIC)) {
        n_bad += ports_push_ports(a->ports, list, deleted);
    } else if (!strcmp(topic, NETWORK_PUSH_TOPIC) && !deleted) {
        /* A network's ports are dropped with it, each with a push of its
         * own; an update may change its segments. */
        for (size_t i = 0; i < json_array(list)->n; i++) {
            const char *id = json_member_string(
                json_member(json_array(list)->elems[i],
                            "versioned_object.data"), "id");
            if (id) {
                ports_network_update(a->ports, id);
            }
        }
    }
    n_bad += extensions_push(a->extensions, type, version, list, event);
    if (n_bad) {
        VLOG_WARN_RL(&rl, "%s: %"PRIuSIZE" malformed objects ignored",
                     topic, n_bad);
    }
    free(type);
}

/* Subscribes agent_notify() to the push topics: ports and networks, the
 * firewall driver's resources and the extensions'. */
static void
agent_listen_pushes(struct agent *a)
{
    struct svec topics = SVEC_EMPTY_INITIALIZER;
    svec_add(&topics, PORT_PUSH_TOPIC);
    svec_add(&topics, NETWORK_PUSH_TOPIC);
    const struct fw_resource *r = fw_driver_class(a->fw)->resources;
    for (; r && r->type; r++) {
        svec_add_nocopy(&topics, xasprintf(PUSH_TOPIC_PREFIX "%s-%s",
                                           r->type, r->version));
    }
    extensions_subscribed_topics(a->extensions, &topics);
    svec_sort_unique(&topics);
    const char *topic;
    size_t i;
    SVEC_FOR_EACH (i, topic, &topics) {
        rpc_listen_fanout(a->rpc, topic, agent_notify, a);
    }
    svec_destroy(&topics);
}

/* ports' port hooks, wired to the agent extensions. */
static void
agent_port_handle(void *a_, const char *port_id,
                  const struct device_details *dd, const char *vif_name,
                  int ofport, int lv)
{
    struct agent *a = a_;
    struct extension_port ep = {
        .port_id = port_id, .details = dd, .vif_name = vif_name,
        .ofport = ofport, .local_vlan = lv,
    };
    extensions_handle_port(a->extensions, &ep);
}

static void
agent_port_remove(void *a_, const char *port_id)
{
    struct agent *a = a_;
    struct extension_port ep = {
        .port_id = port_id, .ofport = -1, .local_vlan = -1,
    };
    extensions_delete_port(a->extensions, &ep);
}

/* After a reconnection or a "revived": what the server sent meanwhile may
 * be lost.  Every module that keeps the server's data asks again. */
static void
agent_resync(struct agent *a)
{
    ports_resync(a->ports);
    fw_driver_resync(a->fw);
    if (a->tunnels) {
        tunnels_refresh_begin(a->tunnels);
    }
}

/* The tunnel casts: l2population's FDB, tunnel_update, tunnel_delete. */
static void
agent_tunnel_notify(void *a_, const char *topic, const char *method,
                    const struct json *args)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    struct agent *a = a_;
    size_t n_bad = 0;
    if (!strcmp(method, "add_fdb_entries")) {
        n_bad = tunnels_fdb_add(a->tunnels, json_member(args, "fdb_entries"));
    } else if (!strcmp(method, "remove_fdb_entries")) {
        n_bad = tunnels_fdb_remove(a->tunnels,
                                   json_member(args, "fdb_entries"));
    } else if (!strcmp(method, "update_fdb_entries")) {
        n_bad = tunnels_fdb_update(a->tunnels,
                                   json_member(args, "fdb_entries"));
    } else if (!strcmp(method, "tunnel_update")
               || !strcmp(method, "tunnel_delete")) {
        const char *ip = json_member_string(args, "tunnel_ip");
        const char *type = json_member_string(args, "tunnel_type");
        if (!ip || !type) {
            n_bad = 1;
        } else if (!strcmp(method, "tunnel_update")) {
            tunnels_endpoint_update(a->tunnels, ip, type);
        } else {
            tunnels_endpoint_delete(a->tunnels, ip, type);
        }
    } else {
        VLOG_WARN_RL(&rl, "%s: unknown method %s; ignored", topic,
                     log_safe(method));
        return;
    }
    if (n_bad) {
        VLOG_WARN_RL(&rl, "%s %s: %"PRIuSIZE" malformed entries ignored",
                     topic, log_safe(method), n_bad);
    }
}

/* The agent extensions, created last: the reference initializes them once
 * its bridges and its RPC connection exist. */
static struct extensions *
agent_create_extensions(struct agent *a)
{
    struct of_bridge **phys = xcalloc(a->n_bridges, sizeof *phys);
    struct extensions_bridges eb = { .integ = a->bridges[0].ob,
                                     .phys = phys };
    for (size_t i = 0; i < a->n_bridges; i++) {
        if (a->bridges[i].desc->role == BRIDGE_TUN) {
            eb.tun = a->bridges[i].ob;
        } else if (a->bridges[i].desc->role == BRIDGE_PHYS) {
            phys[eb.n_phys++] = a->bridges[i].ob;
        }
    }
    struct extensions *exts = extensions_create(a->cfg, a->rpc, &eb);
    free(phys);     /* extensions_create() copied the pointers. */
    return exts;
}

struct agent *
agent_create(const struct agent_config *cfg)
{
    struct agent *a = xzalloc(sizeof *a);
    a->cfg = cfg;
    a->vswitch = vswitch_create(cfg);
    a->listener = of_listener_create(cfg->of_listen_address,
                                     cfg->of_listen_port,
                                     MAX(cfg->of_inactivity_probe, 5));
    a->bridges = xcalloc(cfg->n_bridges, sizeof *a->bridges);
    for (size_t i = 0; i < cfg->n_bridges; i++) {
        agent_add_bridge(a, &cfg->bridges[i]);
    }

    struct of_bridge **phys = xcalloc(cfg->n_bridge_mappings + 1,
                                      sizeof *phys);
    struct ports_bridges pb = { .integ = a->bridges[0].ob, .phys = phys };
    for (size_t i = 0, n = 0; i < a->n_bridges; i++) {
        if (a->bridges[i].desc->role == BRIDGE_TUN) {
            pb.tun = a->bridges[i].ob;
        } else if (a->bridges[i].desc->role == BRIDGE_PHYS) {
            phys[n++] = a->bridges[i].ob;
        }
    }
    a->fw = fw_driver_create(cfg, pb.integ);
    struct ports_network_hooks hooks;
    if (pb.tun) {
        a->tunnels = tunnels_create(cfg, a->vswitch, pb.tun);
        tunnels_network_hooks(a->tunnels, &hooks);
    }
    a->ports = ports_create(cfg, a->vswitch, &pb, a->fw,
                            a->tunnels ? &hooks : NULL);
    free(phys);     /* ports_create() copied the pointers it needs. */

    a->state = agent_state_create(cfg,
                                  fw_driver_class(a->fw)->ovs_hybrid_plug);
    a->tunnel_sync_needed = true;
    if (cfg->transport_url) {
        a->rpc = rpc_create(cfg);
        if (a->tunnels) {
            if (cfg->l2_population) {
                rpc_listen(a->rpc, L2POP_TOPIC, agent_tunnel_notify, a);
            }
            rpc_listen(a->rpc, TUNNEL_UPDATE_TOPIC, agent_tunnel_notify, a);
            rpc_listen(a->rpc, TUNNEL_DELETE_TOPIC, agent_tunnel_notify, a);
        }
    } else {
        VLOG_INFO("no transport_url: bridges are set up but ports are not "
                  "wired, and the server is not told about this agent");
    }
    a->extensions = agent_create_extensions(a);
    struct ports_port_hooks port_hooks = {
        .aux = a,
        .handle = agent_port_handle,
        .remove = agent_port_remove,
    };
    ports_set_port_hooks(a->ports, &port_hooks);
    if (a->rpc) {
        agent_listen_pushes(a);
    }
    return a;
}

void
agent_destroy(struct agent *a)
{
    if (!a) {
        return;
    }
    extensions_destroy(a->extensions);  /* Before the bridges and rpc. */
    for (size_t i = 0; i < a->n_bridges; i++) {
        struct agent_bridge *b = &a->bridges[i];
        of_bridge_destroy(b->ob);
        free(b->flows_int_phys);
    }
    free(a->bridges);
    rpc_destroy(a->rpc);
    ports_destroy(a->ports);
    fw_driver_destroy(a->fw);
    tunnels_destroy(a->tunnels);
    agent_state_destroy(a->state);
    of_listener_destroy(a->listener);
    vswitch_destroy(a->vswitch);
    free(a->fatal);
    free(a);
}

static struct agent_bridge *
agent_int_bridge(const struct agent *a)
{
    return &a->bridges[0];
}

/* Recomputes the base flows of br-int when the ofports they name change. */
static void
agent_update_int_flows(struct agent *a)
{
    struct agent_bridge *ib = agent_int_bridge(a);
    const struct agent_config *cfg = a->cfg;
    int *int_phys = xcalloc(cfg->n_bridge_mappings + 1, sizeof *int_phys);
    size_t n = 0;

    for (size_t i = 0; i < a->n_bridges; i++) {
        const struct agent_bridge *b = &a->bridges[i];
        if (b->desc->role == BRIDGE_PHYS) {
            int_phys[n++] = vswitch_get_ofport(a->vswitch, ib->desc->name,
                                               b->desc->int_patch);
        }
    }
    int patch_tun = (cfg->tunnel_types
                     ? vswitch_get_ofport(a->vswitch, ib->desc->name,
                                          cfg->int_peer_patch_port)
                     : -1);
    /* The ofports themselves are compared, not a digest of them: a digest
     * that collided would leave flows naming a stale port. */
    if (ib->flows_port != patch_tun || !ib->flows_int_phys
        || memcmp(ib->flows_int_phys, int_phys, n * sizeof *int_phys)) {
        ib->flows_port = patch_tun;
        free(ib->flows_int_phys);
        ib->flows_int_phys = xmemdup(int_phys, n * sizeof *int_phys);
        struct base_flows_ports ports = {
            .patch_tun = patch_tun,
            .patch_int = -1,
            .int_phys = int_phys,
            .n_int_phys = n,
        };
        base_flows_int(of_bridge_flows(ib->ob), cfg, &ports);
    }
    free(int_phys);
}

static void
agent_update_bridge_flows(struct agent *a, struct agent_bridge *b)
{
    const struct agent_config *cfg = a->cfg;
    struct flow_table *ft = of_bridge_flows(b->ob);

    if (b->desc->role == BRIDGE_TUN) {
        int pint = vswitch_get_ofport(a->vswitch, b->desc->name,
                                      cfg->tun_peer_patch_port);
        if (b->flows_port != pint) {
            b->flows_port = pint;
            struct base_flows_ports ports = { .patch_int = pint,
                                              .patch_tun = -1 };
            base_flows_tun(ft, cfg, &ports);
        }
    } else if (b->desc->role == BRIDGE_PHYS) {
        int phy_int = vswitch_get_ofport(a->vswitch, b->desc->name, b->desc->peer_patch);
        if (b->flows_port != phy_int) {
            b->flows_port = phy_int;
            base_flows_phys(ft, cfg, phy_int);
        }
    }
}

/* Links a physical bridge's interconnect ports once the drop flows on both
 * of their ends are installed, so that no packet crosses unfiltered. */
static void
agent_link_phys(struct agent *a, struct agent_bridge *b)
{
    if (b->linked) {
        return;
    }
    struct agent_bridge *ib = agent_int_bridge(a);
    int int_of = vswitch_get_ofport(a->vswitch, ib->desc->name, b->desc->int_patch);
    int phy_of = vswitch_get_ofport(a->vswitch, b->desc->name, b->desc->peer_patch);
    if (int_of <= 0 || phy_of <= 0) {
        return;
    }
    /* The base flows were recomputed with these ofports earlier in this
     * run, so "in sync" covers the drop flows. */
    if (of_bridge_in_sync(ib->ob) && of_bridge_in_sync(b->ob)) {
        b->linked = true;
        vswitch_set_phys_linked(a->vswitch, b->desc->name, true);
    }
}

struct tunnel_sync_ctx {
    struct agent *a;
    size_t remaining;
    bool failed;
};

/* One tunnel_sync call, for one tunnel type. */
struct tunnel_sync_call {
    struct tunnel_sync_ctx *ctx;
    char *type;
};

static void
tunnel_sync_done(void *call_, const char *error, const struct json *result)
{
    struct tunnel_sync_call *call = call_;
    struct tunnel_sync_ctx *ctx = call->ctx;
    if (error) {
        VLOG_WARN("tunnel_sync (%s) failed: %s", call->type,
                  log_safe(error));
        ctx->failed = true;
    } else if (ctx->a->tunnels) {
        /* Without l2population, a tunnel to every endpoint listed. */
        tunnels_sync_result(ctx->a->tunnels, call->type, result);
    }
    free(call->type);
    free(call);
    ovs_assert(ctx->remaining > 0);
    if (--ctx->remaining) {
        return;
    }
    struct agent *a = ctx->a;
    a->tunnel_sync_busy = false;
    if (ctx->failed) {
        a->tunnel_sync_needed = true;
        a->tunnel_sync_retry = time_msec() + 2000;
    }
    free(ctx);
}

/* Registers this host's tunnel endpoint for each tunnel type.  With
 * l2population the answer's endpoint list is not used (tunnels follow the
 * FDB); the call still makes the server record and announce us. */
static void
agent_tunnel_sync(struct agent *a)
{
    const struct agent_config *cfg = a->cfg;
    if (!a->tunnel_sync_needed || a->tunnel_sync_busy || !cfg->n_tunnel_types
        || !cfg->local_ip || time_msec() < a->tunnel_sync_retry) {
        return;
    }
    a->tunnel_sync_needed = false;
    a->tunnel_sync_busy = true;
    struct tunnel_sync_ctx *ctx = xzalloc(sizeof *ctx);
    ctx->a = a;
    ctx->remaining = cfg->n_tunnel_types;
    for (size_t i = 0; i < cfg->n_tunnel_types; i++) {
        struct tunnel_sync_call *call = xmalloc(sizeof *call);
        call->ctx = ctx;
        call->type = xstrdup(cfg->tunnel_type_names[i]);
        plugin_tunnel_sync(a->rpc, cfg->host, cfg->local_ip,
                           cfg->tunnel_type_names[i], tunnel_sync_done,
                           call);
    }
}

/* Ports, heartbeats and the server's notifications. */
static void
agent_run_control_plane(struct agent *a)
{
    if (a->rpc) {
        rpc_run(a->rpc);
        unsigned int seqno = rpc_reconnect_seqno(a->rpc);
        if (seqno != a->rpc_seqno) {
            /* Casts sent while we were away are lost: ask again. */
            a->rpc_seqno = seqno;
            VLOG_INFO("reconnected to the message broker; resyncing ports");
            agent_resync(a);
            a->tunnel_sync_needed = true;
        }
        if (rpc_is_ready(a->rpc)) {
            agent_tunnel_sync(a);
        }
    }

    struct of_bridge *integ = agent_int_bridge(a)->ob;
    unsigned int resets = of_bridge_n_switch_resets(integ);
    if (resets != a->int_resets) {
        /* The flows come back by themselves; the server hears start_flag
         * again, as it does from the reference. */
        a->int_resets = resets;
        agent_state_restart(a->state);
        a->tunnel_sync_needed = true;
    }

    fw_driver_run(a->fw, a->rpc);
    ports_run(a->ports, a->rpc);
    if (a->tunnels) {
        if (ports_first_pass_done(a->ports)) {
            tunnels_ports_settled(a->tunnels);
        }
        tunnels_run(a->tunnels);
    }
    bool ovs_ok = vswitch_is_synced(a->vswitch)
                  && of_bridge_is_connected(integ);
    agent_state_run(a->state, a->rpc, ovs_ok, ports_count(a->ports),
                    ports_first_pass_done(a->ports));
    if (agent_state_take_revived(a->state)) {
        agent_resync(a);
    }
}

void
agent_run(struct agent *a)
{
    vswitch_run(a->vswitch);
    if (!a->fatal) {
        const char *missing = vswitch_missing_phys_bridge(a->vswitch);
        if (missing) {
            for (size_t i = 0; i < a->n_bridges; i++) {
                if (!strcmp(a->bridges[i].desc->name, missing)) {
                    a->fatal = xasprintf("Bridge %s for physical network %s "
                                         "does not exist. Agent terminated!",
                                         missing, a->bridges[i].desc->physnet);
                }
            }
        }
    }

    of_listener_run(a->listener);

    agent_update_int_flows(a);
    for (size_t i = 0; i < a->n_bridges; i++) {
        struct agent_bridge *b = &a->bridges[i];
        agent_update_bridge_flows(a, b);
        of_bridge_set_dpid(b->ob, vswitch_get_dpid(a->vswitch, b->desc->name));
        of_bridge_run(b->ob, a->listener);
    }

    agent_run_control_plane(a);
    extensions_run(a->extensions);

    /* Last: the flows computed above leave now, not an iteration later. */
    for (size_t i = 0; i < a->n_bridges; i++) {
        of_bridge_put(a->bridges[i].ob);
    }

    /* After of_bridge_put(), which is where a bridge whose acknowledged
     * flows are all it wants becomes "in sync": checked before it, the
     * link would wait for whatever next woke the loop. */
    for (size_t i = 0; i < a->n_bridges; i++) {
        if (a->bridges[i].desc->role == BRIDGE_PHYS) {
            agent_link_phys(a, &a->bridges[i]);
        }
    }
}

void
agent_wait(struct agent *a)
{
    vswitch_wait(a->vswitch);
    of_listener_wait(a->listener);
    for (size_t i = 0; i < a->n_bridges; i++) {
        of_bridge_wait(a->bridges[i].ob);
    }
    if (a->rpc) {
        rpc_wait(a->rpc);
        if (a->tunnels && a->cfg->local_ip && a->tunnel_sync_needed
            && !a->tunnel_sync_busy
            && rpc_is_ready(a->rpc)) {
            poll_timer_wait_until(a->tunnel_sync_retry);
        }
    }
    fw_driver_wait(a->fw);
    ports_wait(a->ports);
    if (a->tunnels) {
        tunnels_wait(a->tunnels);
    }
    agent_state_wait(a->state);
    extensions_wait(a->extensions);
}

void
agent_get_memory_usage(const struct agent *a, struct simap *usage)
{
    vswitch_get_memory_usage(a->vswitch, usage);
    for (size_t i = 0; i < a->n_bridges; i++) {
        flow_table_get_memory_usage(of_bridge_flows(a->bridges[i].ob),
                                    a->bridges[i].desc->name, usage);
    }
    ports_get_memory_usage(a->ports, usage);
    if (a->tunnels) {
        tunnels_get_memory_usage(a->tunnels, usage);
    }
}

uint64_t
agent_activity(const struct agent *a)
{
    uint64_t activity = ovsdb_idl_get_seqno(vswitch_idl(a->vswitch));
    for (size_t i = 0; i < a->n_bridges; i++) {
        activity += flow_table_desired_seqno(of_bridge_flows(a->bridges[i].ob));
    }
    return activity;
}

const char *
agent_fatal_error(const struct agent *a)
{
    return a->fatal;
}

static const char *
role_name(const struct agent_bridge *b)
{
    switch (b->desc->role) {
    case BRIDGE_INT: return "integration bridge";
    case BRIDGE_TUN: return "tunnel bridge";
    case BRIDGE_PHYS: return "physical bridge";
    }
    return "bridge";
}

void
agent_format(const struct agent *a, struct ds *s)
{
    const struct agent_config *cfg = a->cfg;
    ds_put_format(s, "ovsagent %s on host %s\n", OVSAGENT_VERSION, cfg->host);
    ds_put_format(s, "datapath_type: %s\n", cfg->datapath_type);
    ds_put_format(s, "firewall_driver: %s\n",
                  fw_driver_name(cfg->firewall_driver));
    vswitch_format(a->vswitch, s);
    of_listener_format(a->listener, s);
    for (size_t i = 0; i < a->n_bridges; i++) {
        const struct agent_bridge *b = &a->bridges[i];
        ds_put_format(s, "bridge %s (%s", b->desc->name, role_name(b));
        if (b->desc->physnet) {
            ds_put_format(s, " for %s", b->desc->physnet);
        }
        ds_put_cstr(s, ")\n");
        ds_put_format(s, "  datapath_type: %s\n", cfg->datapath_type);
        of_bridge_format(b->ob, s);
        if (b->desc->role == BRIDGE_PHYS) {
            ds_put_format(s, "  interconnect: %s <-> %s, %s\n", b->desc->int_patch,
                          b->desc->peer_patch, b->linked ? "linked" : "not linked");
        }
    }
    if (a->rpc) {
        rpc_format(a->rpc, s);
    } else {
        ds_put_cstr(s, "message broker: none (no transport_url)\n");
    }
    agent_state_format(a->state, s);
    ports_format(a->ports, s);
    if (a->tunnels) {
        tunnels_format(a->tunnels, s);
    }
    extensions_format(a->extensions, s);
}

bool
agent_format_desired_flows(const struct agent *a, const char *bridge,
                           struct ds *s)
{
    for (size_t i = 0; i < a->n_bridges; i++) {
        if (!strcmp(a->bridges[i].desc->name, bridge)) {
            flow_table_format_desired(of_bridge_flows(a->bridges[i].ob), s);
            return true;
        }
    }
    return false;
}

bool
agent_flows_in_sync(const struct agent *a)
{
    for (size_t i = 0; i < a->n_bridges; i++) {
        if (!of_bridge_in_sync(a->bridges[i].ob)) {
            return false;
        }
    }
    return true;
}
