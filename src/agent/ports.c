/*
 * ports: VIF ports from discovery to ACTIVE.  See ports.h for the states.
 */
#include <config.h>
#include "agent/ports.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/fw-driver.h"
#include "agent/fw-flows.h"
#include "agent/local-vlan.h"
#include "agent/port-flows.h"
#include "coverage.h"
#include "json-util.h"
#include "log-safe.h"
#include "neutron/device-details.h"
#include "neutron/ovo.h"
#include "neutron/plugin-api.h"
#include "neutron/port-cache.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "oslo/rpc.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "ovsdb-idl.h"
#include "simap.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(ports);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same. */
COVERAGE_DEFINE(ports_wired);
COVERAGE_DEFINE(ports_reported_up);
COVERAGE_DEFINE(ports_reported_down);

/* How long to wait before retrying a failed call. */
#define RETRY_MS 1000

/* Ports pulled from the server in one bulk_pull. */
#define PULL_BATCH 100

/* update_device_list calls in flight at most.  Reports go out in chunks
 * of PLUGIN_BATCH ports, the reference's rpc_resources_processing_step;
 * the reference waits for each chunk's answer before sending the next,
 * so the last port of a large batch waits for the server to handle all
 * the others first.  ovsagent sends the chunks together, each with a
 * timeout that allows for the chunks ahead of it in the server's queue,
 * so that a server with several RPC workers handles them side by side. */
#define MAX_REPORTS 16

enum report {
    REPORT_NONE,
    REPORT_UP,
    REPORT_DOWN,
};

static const char *
report_name(enum report r)
{
    return r == REPORT_UP ? "up" : r == REPORT_DOWN ? "down" : "none";
}

/* A port's state: what it waits for next (the diagram is in ports.h).
 * Each state's ports are kept in a list of their own, so that fetching,
 * wiring and reporting visit only the ports waiting for them.  Whether a
 * report is in flight ('reporting') and what the server last heard
 * ('reported') are kept beside the state: a report in flight does not
 * stop a port from changing, and its answer only moves the port on if the
 * port is still where the report left it. */
#define PORT_STATES                                                     \
    PORT_STATE(FETCH, "fetch")          /* Details wanted. */           \
    PORT_STATE(FETCHING, "fetching")    /* A pull for it in flight. */  \
    PORT_STATE(WIRING, "wiring")        /* Tag, flows, filter written: \
                                         * waiting until in place. */   \
    PORT_STATE(MARK_UP, "mark-up")      /* To be reported up. */        \
    PORT_STATE(UP, "up")                /* Reported up. */              \
    PORT_STATE(MARK_DOWN, "mark-down")  /* Admin down: to be reported  \
                                         * down. */                     \
    PORT_STATE(DOWN, "down")            /* Reported down. */            \
    PORT_STATE(DEAD, "dead")            /* Not bound here, deleted, or \
                                         * no VLAN left: nothing to     \
                                         * report. */                   \
    PORT_STATE(GONE, "gone")            /* Left the bridge: to be       \
                                         * reported down, then freed. */

enum port_state {
#define PORT_STATE(ENUM, NAME) PORT_##ENUM,
    PORT_STATES
#undef PORT_STATE
    N_PORT_STATES
};

static const char *const port_state_names[N_PORT_STATES] = {
#define PORT_STATE(ENUM, NAME) NAME,
    PORT_STATES
#undef PORT_STATE
};

/* A network with ports on this host. */
struct network {
    char *key;                  /* "<net id>/<segid or None>". */
    char *net_id;
    int64_t segid;
    char *network_type;
    char *physnet;              /* NULL for tunnels. */
    int lv;
    size_t n_ports;
};

struct port {
    char *id;                   /* iface-id: the Neutron port id. */
    char *name;                 /* OVS Port/Interface name. */
    int ofport;
    bool ancillary;             /* On an ancillary bridge: report only. */
    bool seen;                  /* Marker for the current scan. */

    enum port_state state;      /* Only port_set_state() changes it. */
    struct ovs_list state_node; /* In ps->states[state]. */

    bool soft;                  /* Only a push touched it: unchanged
                                 * details need no work... */
    enum port_state resume;     /* ...and it goes back to this state. */
    unsigned int gen;           /* Bumped whenever the port changes. */
    unsigned int fetch_gen;     /* Generation of the details in flight. */

    bool have_details;
    struct device_details details;
    struct network *net;        /* Bound network, or NULL. */

    /* WIRING: the flows' sequence numbers that must be installed. */
    uint64_t seq_int, seq_tun, seq_phys;
    struct of_bridge *phys_bridge;

    bool down_first;            /* Lost its tag while up: report down
                                 * before anything else. */
    bool readded;               /* Back on br-int after it left: the
                                 * extensions hear remove() first. */
    enum report reported;       /* What the server last heard. */
    bool reporting;             /* A report for it in flight. */
};

struct ports {
    const struct agent_config *cfg;
    struct vswitch *vs;
    struct ports_bridges br;

    struct shash ports;         /* Port id -> struct port. */
    struct ovs_list states[N_PORT_STATES];  /* Of struct port, by state. */
    size_t n_in_state[N_PORT_STATES];
    struct sset down_first;     /* Ids of the ports with 'down_first'. */
    struct shash networks;      /* Network key -> struct network. */
    struct local_vlans *vlans;
    struct port_cache *cache;   /* The server's Port objects, for details. */
    struct fw_driver *fw;       /* The firewall driver; agent owns it. */
    struct ports_network_hooks hooks;   /* Tunnel networks; agent's. */
    struct ports_port_hooks port_hooks; /* Agent extensions; agent's. */

    unsigned int idl_seqno;
    bool scanned_once;
    struct sset first_pass;     /* Ids still to process after start. */
    bool first_pass_done;
    bool refresh_tunnels;       /* Next update_device_list asks for FDBs. */
    unsigned int resync_gen;    /* Bumped by ports_resync(): answers to
                                 * reports sent before it do not count for
                                 * the refresh it began. */

    /* One pull and up to MAX_REPORTS report calls in flight. */
    bool details_busy;
    int n_reports;
    long long int retry_at;

    unsigned long long n_wired, n_reported_up, n_reported_down;
};

static struct port *
port_find(const struct ports *ps, const char *id)
{
    return shash_find_data(&ps->ports, id);
}

static char *
owner(const char *kind, const struct port *p)
{
    return xasprintf("%s:%s", kind, p->id);
}

/* The one place a port changes state. */
static void
port_set_state(struct ports *ps, struct port *p, enum port_state new)
{
    if (p->state == new) {
        return;
    }
    VLOG_DBG("port %s (%s): %s -> %s", log_safe(p->id), log_safe(p->name),
             port_state_names[p->state], port_state_names[new]);
    ovs_list_remove(&p->state_node);
    ps->n_in_state[p->state]--;
    ovs_list_push_back(&ps->states[new], &p->state_node);
    ps->n_in_state[new]++;
    p->state = new;
    if (new == PORT_DEAD) {
        /* Nothing more to do for it: the first pass need not wait. */
        sset_find_and_delete(&ps->first_pass, p->id);
    }
}

static struct port *
port_create(struct ports *ps, const char *id, const char *name, int ofport,
            bool ancillary)
{
    struct port *p = xzalloc(sizeof *p);
    p->id = xstrdup(id);
    p->name = xstrdup(name);
    p->ofport = ofport;
    p->ancillary = ancillary;
    p->state = PORT_FETCH;
    ovs_list_push_back(&ps->states[PORT_FETCH], &p->state_node);
    ps->n_in_state[PORT_FETCH]++;
    shash_add(&ps->ports, id, p);
    VLOG_DBG("port %s (%s): new -> %s", log_safe(id), log_safe(name),
             port_state_names[PORT_FETCH]);
    return p;
}

struct ports *
ports_create(const struct agent_config *cfg, struct vswitch *vs,
             const struct ports_bridges *br, struct fw_driver *fw,
             const struct ports_network_hooks *hooks)
{
    struct ports *ps = xzalloc(sizeof *ps);
    ps->cfg = cfg;
    ps->vs = vs;
    ps->br = *br;
    ps->br.phys = xmemdup(br->phys, (cfg->n_bridge_mappings + 1)
                                    * sizeof *br->phys);
    shash_init(&ps->ports);
    for (size_t i = 0; i < N_PORT_STATES; i++) {
        ovs_list_init(&ps->states[i]);
    }
    sset_init(&ps->down_first);
    shash_init(&ps->networks);
    ps->vlans = local_vlans_create();
    ps->cache = port_cache_create(cfg->host);
    ps->fw = fw;
    if (hooks) {
        ps->hooks = *hooks;
    }
    sset_init(&ps->first_pass);
    ps->refresh_tunnels = true;
    return ps;
}

void
ports_set_port_hooks(struct ports *ps, const struct ports_port_hooks *hooks)
{
    ps->port_hooks = *hooks;
}

static void
port_hook_remove(struct ports *ps, const struct port *p)
{
    if (ps->port_hooks.remove && !p->ancillary) {
        ps->port_hooks.remove(ps->port_hooks.aux, p->id);
    }
}

static void
port_free(struct port *p)
{
    device_details_destroy(&p->details);
    free(p->id);
    free(p->name);
    free(p);
}

void
ports_destroy(struct ports *ps)
{
    if (!ps) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &ps->ports) {
        port_free(node->data);
    }
    shash_destroy(&ps->ports);
    sset_destroy(&ps->down_first);
    SHASH_FOR_EACH_SAFE (node, &ps->networks) {
        struct network *net = node->data;
        free(net->key);
        free(net->net_id);
        free(net->network_type);
        free(net->physnet);
        free(net);
    }
    shash_destroy(&ps->networks);
    local_vlans_destroy(ps->vlans);
    port_cache_destroy(ps->cache);
    sset_destroy(&ps->first_pass);
    free(ps->br.phys);
    free(ps);
}

/* The index in bridge_mappings of 'physnet', or -1. */
static int
physnet_index(const struct ports *ps, const char *physnet)
{
    for (size_t i = 0; physnet && i < ps->cfg->n_bridge_mappings; i++) {
        if (!strcmp(ps->cfg->bridge_mappings[i].physnet, physnet)) {
            return i;
        }
    }
    return -1;
}

/* Installs or refreshes the translation flows of 'net'. */
static void
network_install_flows(struct ports *ps, struct network *net)
{
    struct net_wiring w = {
        .network_type = net->network_type,
        .segmentation_id = net->segid,
        .lv = net->lv,
        .int_phys_ofport = -1,
        .phy_int_ofport = -1,
    };
    struct flow_table *phys = NULL;
    int i = physnet_index(ps, net->physnet);
    if (i >= 0) {
        const struct bridge_desc *b = agent_config_phys_bridge(ps->cfg, i);
        w.int_phys_ofport = vswitch_get_ofport(ps->vs,
                                               ps->cfg->integration_bridge,
                                               b->int_patch);
        w.phy_int_ofport = vswitch_get_ofport(ps->vs, b->name,
                                              b->peer_patch);
        phys = of_bridge_flows(ps->br.phys[i]);
    }
    char *o = xasprintf("net:%s", net->key);
    port_flows_network(of_bridge_flows(ps->br.integ),
                       ps->br.tun ? of_bridge_flows(ps->br.tun) : NULL,
                       phys, o, &w);
    free(o);
}

static void
network_remove_flows(struct ports *ps, struct network *net)
{
    char *o = xasprintf("net:%s", net->key);
    flow_table_clear_owner(of_bridge_flows(ps->br.integ), o);
    if (ps->br.tun) {
        flow_table_clear_owner(of_bridge_flows(ps->br.tun), o);
    }
    int i = physnet_index(ps, net->physnet);
    if (i >= 0) {
        flow_table_clear_owner(of_bridge_flows(ps->br.phys[i]), o);
    }
    free(o);
}

/* Binds 'p' to the network of 'dd', provisioning it if it is new here.
 * Returns NULL if no local VLAN is left. */
static struct network *
network_bind(struct ports *ps, const struct device_details *dd)
{
    char *key = (dd->segmentation_id < 0
                 ? xasprintf("%s/None", dd->network_id)
                 : xasprintf("%s/%"PRId64, dd->network_id,
                             dd->segmentation_id));
    struct network *net = shash_find_data(&ps->networks, key);
    if (net) {
        free(key);
        net->n_ports++;
        return net;
    }
    bool is_new;
    int lv = local_vlans_get(ps->vlans, dd->network_id, dd->segmentation_id,
                             &is_new);
    if (lv < 0) {
        free(key);
        return NULL;
    }
    net = xzalloc(sizeof *net);
    net->key = key;
    net->net_id = xstrdup(dd->network_id);
    net->segid = dd->segmentation_id;
    net->network_type = xstrdup(dd->network_type);
    net->physnet = nullable_xstrdup(dd->physical_network);
    net->lv = lv;
    net->n_ports = 1;
    shash_add(&ps->networks, key, net);
    network_install_flows(ps, net);
    if (ps->hooks.bound && !net->physnet && net->segid >= 0) {
        ps->hooks.bound(ps->hooks.aux, net->net_id, net->network_type,
                        net->segid, net->lv, !ps->first_pass_done);
    }
    return net;
}

/* Drops 'p's hold on its network; the last port releases it. */
static void
network_unbind(struct ports *ps, struct port *p)
{
    struct network *net = p->net;
    p->net = NULL;
    if (!net) {
        return;
    }
    ovs_assert(net->n_ports > 0);
    if (--net->n_ports) {
        return;
    }
    network_remove_flows(ps, net);
    if (ps->hooks.released && !net->physnet && net->segid >= 0) {
        ps->hooks.released(ps->hooks.aux, net->net_id);
    }
    local_vlans_release(ps->vlans, net->net_id, net->segid);
    shash_find_and_delete(&ps->networks, net->key);
    free(net->key);
    free(net->net_id);
    free(net->network_type);
    free(net->physnet);
    free(net);
}

/* The reference's port_dead: the dead VLAN and a drop, unless the port has
 * no tag at all (then nothing).  The caller moves it to DEAD or MARK_DOWN. */
static void
port_dead(struct ports *ps, struct port *p)
{
    if (p->ancillary) {
        return;
    }
    int tag = vswitch_port_tag(ps->vs, p->name);
    if (tag > 0 && tag != LOCAL_VLAN_DEAD) {
        vswitch_set_port(ps->vs, p->name, LOCAL_VLAN_DEAD, false, NULL);
        char *o = owner("dead", p);
        port_flows_dead(of_bridge_flows(ps->br.integ), o, p->ofport);
        free(o);
    }
}

/* Where the firewall's egress-direct flows send a port's traffic that is
 * not for a local port (fw-flows.h). */
static int
egress_direct_ofport(const struct ports *ps, const struct device_details *dd)
{
    const struct agent_config *cfg = ps->cfg;
    if (!cfg->explicitly_egress_direct) {
        return FW_EGRESS_DIRECT_OFF;
    }
    int ofport = -1;
    const char *t = dd->network_type;
    if (!strcmp(t, "vxlan") || !strcmp(t, "gre") || !strcmp(t, "geneve")) {
        ofport = vswitch_get_ofport(ps->vs, cfg->integration_bridge,
                                    cfg->int_peer_patch_port);
    } else if (!strcmp(t, "vlan")) {
        int i = physnet_index(ps, dd->physical_network);
        if (i >= 0) {
            ofport = vswitch_get_ofport(ps->vs, cfg->integration_bridge,
                                        agent_config_phys_bridge(cfg, i)
                                        ->int_patch);
        }
    }
    return ofport > 0 ? ofport : FW_EGRESS_DIRECT_NO_PATCH;
}

/* Wires 'p' as its (found, admin-up) details say. */
static void
port_wire(struct ports *ps, struct port *p)
{
    const struct device_details *dd = &p->details;
    /* A port that stays on the same network keeps its hold on it (and the
     * network its VLAN), as across an admin down and up. */
    if (p->net && (strcmp(p->net->net_id, dd->network_id)
                   || p->net->segid != dd->segmentation_id)) {
        network_unbind(ps, p);
    }
    if (!p->net) {
        p->net = network_bind(ps, dd);
    }
    if (!p->net) {
        port_dead(ps, p);
        port_set_state(ps, p, PORT_DEAD);
        return;
    }
    int lv = p->net->lv;

    struct smap oc = SMAP_INITIALIZER(&oc);
    smap_add(&oc, "net_uuid", dd->network_id);
    smap_add(&oc, "network_type", dd->network_type);
    smap_add(&oc, "physical_network",
             dd->physical_network ? dd->physical_network : "None");
    smap_add_format(&oc, "tag", "%d", lv);
    if (dd->segmentation_id >= 0) {
        smap_add_format(&oc, "segmentation_id", "%"PRId64,
                        dd->segmentation_id);
    }
    vswitch_set_port(ps->vs, p->name, lv, true, &oc);
    smap_destroy(&oc);

    struct flow_table *integ = of_bridge_flows(ps->br.integ);
    char *dead = owner("dead", p);
    flow_table_clear_owner(integ, dead);
    free(dead);
    /* The port's own flows: the anti-spoofing, unless its firewall
     * provides it, and the accepted-egress-direct flows, unless its
     * firewall is an OpenFlow one and writes its own. */
    const struct fw_driver_class *fwc = fw_driver_class(ps->fw);
    char *o = owner("port", p);
    flow_table_clear_owner(integ, o);
    if (!fwc->provides_arp_spoofing_protection) {
        port_flows_antispoof(integ, o, p->ofport, dd);
    }
    int egress_direct = egress_direct_ofport(ps, dd);
    if (!fwc->openflow_based && egress_direct != FW_EGRESS_DIRECT_OFF) {
        port_flows_egress_direct(integ, o, p->ofport, lv, dd->mac,
                                 egress_direct);
    }
    free(o);
    /* The port is reported up once its filter is in place too
     * (ports_check_wiring()). */
    struct fw_driver_port fwp = {
        .id = p->id, .ofport = p->ofport, .lv = lv, .dd = dd,
        .egress_direct = egress_direct,
    };
    fw_driver_set_port(ps->fw, &fwp);

    port_set_state(ps, p, PORT_WIRING);
    p->seq_int = flow_table_desired_seqno(integ);
    p->seq_tun = ps->br.tun ? flow_table_desired_seqno(
                                  of_bridge_flows(ps->br.tun)) : 0;
    int i = physnet_index(ps, dd->physical_network);
    p->phys_bridge = i >= 0 ? ps->br.phys[i] : NULL;
    p->seq_phys = p->phys_bridge ? flow_table_desired_seqno(
                                       of_bridge_flows(p->phys_bridge)) : 0;
    ps->n_wired++;
    COVERAGE_INC(ports_wired);
}

/* Applies freshly fetched details to 'p'. */
static void
port_apply_details(struct ports *ps, struct port *p,
                   const struct device_details *dd)
{
    device_details_destroy(&p->details);
    device_details_clone(&p->details, dd);
    p->have_details = true;

    if (!dd->found || dd->no_active_binding) {
        VLOG_INFO("port %s (%s): not bound to this host on the server",
                  log_safe(p->id), log_safe(p->name));
        port_dead(ps, p);
        if (p->net) {
            network_unbind(ps, p);
        }
        fw_driver_remove_port(ps->fw, p->id);
        sset_find_and_delete(&ps->first_pass, p->id);
        port_set_state(ps, p, PORT_DEAD);
        return;
    }
    if (p->ancillary) {
        /* Ports of ancillary bridges (br-ex and the like) are reported,
         * never wired, as the reference does. */
        port_set_state(ps, p, PORT_MARK_UP);
        return;
    }
    if (p->readded) {
        p->readded = false;
        port_hook_remove(ps, p);
    }
    if (!dd->admin_state_up) {
        VLOG_INFO("port %s (%s): administratively down",
                  log_safe(p->id), log_safe(p->name));
        port_dead(ps, p);
        port_set_state(ps, p, PORT_MARK_DOWN);
    } else {
        port_wire(ps, p);
    }
    if (ps->port_hooks.handle) {
        ps->port_hooks.handle(ps->port_hooks.aux, p->id, &p->details,
                              p->name, p->ofport, p->net ? p->net->lv : -1);
    }
}

/* 'p' changed: its details are fetched again.  A pull already in flight
 * for it brings them (its answer lands in the cache). */
static void
port_touch(struct ports *ps, struct port *p)
{
    p->soft = false;
    p->gen++;
    if (p->state != PORT_FETCHING) {
        port_set_state(ps, p, PORT_FETCH);
    }
}

/* True if 'br' is an ancillary bridge: one the agent does not manage whose
 * external_ids:bridge-id names it (br-ex, say). */
static bool
is_ancillary(const struct ports *ps, const struct ovsrec_bridge *br)
{
    const struct agent_config *cfg = ps->cfg;
    const char *bridge_id = smap_get(&br->external_ids, "bridge-id");
    if (!bridge_id || strcmp(bridge_id, br->name)
        || !strcmp(br->name, cfg->integration_bridge)
        || (cfg->tunnel_types && !strcmp(br->name, cfg->tunnel_bridge))
        || agent_config_find_bridge(cfg, br->name)) {
        return false;
    }
    return true;
}

/* Reconciles the VIFs of 'br' with the port set. */
static void
ports_scan_bridge(struct ports *ps, const struct ovsrec_bridge *br,
                  bool ancillary)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        const struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            const struct ovsrec_interface *iface = port->interfaces[j];
            const char *id = smap_get(&iface->external_ids, "iface-id");
            const char *mac = smap_get(&iface->external_ids, "attached-mac");
            if (!id || !mac || iface->n_ofport != 1
                || iface->ofport[0] <= 0) {
                continue;       /* Not a VIF, or no ofport yet. */
            }
            if (!ancillary && !ps->scanned_once && port->n_tag == 1
                && port->tag[0] != LOCAL_VLAN_DEAD) {
                const char *net = smap_get(&port->other_config, "net_uuid");
                if (net) {
                    local_vlans_add_hint(
                        ps->vlans, net,
                        smap_get(&port->other_config, "segmentation_id"),
                        port->tag[0]);
                }
            }
            struct port *p = port_find(ps, id);
            if (!p) {
                p = port_create(ps, id, port->name, iface->ofport[0],
                                ancillary);
                if (!ps->first_pass_done) {
                    sset_add(&ps->first_pass, id);
                }
                VLOG_INFO("port %s (%s): added, ofport %d",
                          log_safe(id), log_safe(p->name),
                          p->ofport);
            } else if (p->state == PORT_GONE
                       || strcmp(p->name, port->name)
                       || p->ofport != iface->ofport[0]) {
                /* Came back while its removal was being reported, or the
                 * VIF was plugged again under another name or ofport: the
                 * port is wired again as what it is now. */
                if (strcmp(p->name, port->name)) {
                    VLOG_INFO("port %s (%s): now %s", log_safe(id),
                              log_safe(p->name), log_safe(port->name));
                    if (p->state != PORT_GONE) {
                        vswitch_forget_port(ps->vs, p->name);
                    }
                    free(p->name);
                    p->name = xstrdup(port->name);
                }
                if (p->ofport != iface->ofport[0]) {
                    VLOG_INFO("port %s (%s): ofport %d -> %"PRId64,
                              log_safe(id), log_safe(p->name),
                              p->ofport, iface->ofport[0]);
                    p->ofport = iface->ofport[0];
                }
                if (p->state == PORT_GONE) {
                    p->readded = true;
                }
                port_touch(ps, p);
            } else if (!ancillary && p->state == PORT_UP && p->net
                       && (port->n_tag != 1
                           || port->tag[0] != p->net->lv)) {
                /* As the reference does: report it down, then process it
                 * again, which reports it up once rewired. */
                VLOG_INFO("port %s (%s): lost its VLAN tag; rewiring",
                          log_safe(id),
                          log_safe(p->name));
                p->down_first = true;
                sset_add(&ps->down_first, p->id);
                port_touch(ps, p);
            }
            p->seen = true;
        }
    }
}

/* Reads the VIFs of br-int and of the ancillary bridges from the IDL and
 * reconciles the port set. */
static void
ports_scan(struct ports *ps)
{
    struct ovsdb_idl *idl = vswitch_idl(ps->vs);
    unsigned int seqno = ovsdb_idl_get_seqno(idl);
    if (seqno == ps->idl_seqno || !vswitch_is_synced(ps->vs)) {
        return;
    }
    ps->idl_seqno = seqno;

    const struct ovsrec_bridge **brs = NULL;
    size_t n = 0, allocated = 0;
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (n >= allocated) {
            brs = x2nrealloc(brs, &allocated, sizeof *brs);
        }
        brs[n++] = br;
    }
    ports_scan_rows(ps, brs, n);
    free(brs);
}

void
ports_scan_rows(struct ports *ps, const struct ovsrec_bridge *const *brs,
                size_t n_brs)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ps->ports) {
        ((struct port *) node->data)->seen = false;
    }
    for (size_t i = 0; i < n_brs; i++) {
        const struct ovsrec_bridge *br = brs[i];
        if (!strcmp(br->name, ps->cfg->integration_bridge)) {
            ports_scan_bridge(ps, br, false);
        } else if (is_ancillary(ps, br)) {
            ports_scan_bridge(ps, br, true);
        }
    }
    ps->scanned_once = true;

    SHASH_FOR_EACH (node, &ps->ports) {
        struct port *p = node->data;
        if (!p->seen && p->state != PORT_GONE) {
            VLOG_INFO("port %s (%s): removed from %s",
                      log_safe(p->id), log_safe(p->name),
                      ps->cfg->integration_bridge);
            p->gen++;
            port_set_state(ps, p, PORT_GONE);
            p->down_first = false;      /* Its down report covers it. */
            sset_find_and_delete(&ps->down_first, p->id);
            port_hook_remove(ps, p);
            char *o = owner("port", p);
            flow_table_clear_owner(of_bridge_flows(ps->br.integ), o);
            free(o);
            o = owner("dead", p);
            flow_table_clear_owner(of_bridge_flows(ps->br.integ), o);
            free(o);
            vswitch_forget_port(ps->vs, p->name);
            network_unbind(ps, p);
            fw_driver_remove_port(ps->fw, p->id);
            sset_find_and_delete(&ps->first_pass, p->id);
        }
    }
}

/* A port whose flows and tag are in place is ready to be reported up. */
static void
ports_check_wiring(struct ports *ps)
{
    struct port *p;
    LIST_FOR_EACH_SAFE (p, state_node, &ps->states[PORT_WIRING]) {
        if (!p->net) {
            continue;
        }
        /* Its filter, too, must be in place: the port is open to nothing
         * until then, as with the reference. */
        uint64_t seq_int = fw_driver_port_seqno(ps->fw, p->id, p->seq_int);
        if (!seq_int) {
            continue;
        }
        if (vswitch_port_tag(ps->vs, p->name) != p->net->lv
            || !of_bridge_flows_installed(ps->br.integ, seq_int)
            || (ps->br.tun && !of_bridge_flows_installed(ps->br.tun,
                                                         p->seq_tun))
            || (p->phys_bridge && !of_bridge_flows_installed(p->phys_bridge,
                                                             p->seq_phys))) {
            continue;
        }
        port_set_state(ps, p, PORT_MARK_UP);
    }
}

/* Details.
 *
 * Details come from the port cache, as the reference computes them: at
 * once for a port the server has already pushed (nova creates the port,
 * so the push comes before the VIF), after one bulk_pull otherwise. */

struct pull_batch {
    struct ports *ps;
    char **ids;
    unsigned int *gens;
    size_t n;
};

static void
pull_done(void *b_, const char *error, const struct json *result)
{
    struct pull_batch *b = b_;
    struct ports *ps = b->ps;
    ps->details_busy = false;

    if (error) {
        VLOG_WARN("getting port details failed: %s", log_safe(error));
        ps->retry_at = time_msec() + RETRY_MS;
    } else {
        size_t n_bad = port_cache_pulled(ps->cache,
                                         (const char *const *) b->ids, b->n,
                                         result);
        if (n_bad) {
            VLOG_WARN("bulk_pull: %"PRIuSIZE" malformed Port objects "
                      "ignored", n_bad);
        }
    }
    for (size_t i = 0; i < b->n; i++) {
        struct port *p = port_find(ps, b->ids[i]);
        if (p && p->state == PORT_FETCHING && p->fetch_gen == b->gens[i]) {
            /* The cache answers now (or the pull is retried). */
            port_set_state(ps, p, PORT_FETCH);
        }
        free(b->ids[i]);
    }
    free(b->ids);
    free(b->gens);
    free(b);
    poll_immediate_wake();
}

static void
ports_fetch(struct ports *ps, struct rpc *rpc)
{
    struct pull_batch *b = NULL;
    struct port *p;
    LIST_FOR_EACH_SAFE (p, state_node, &ps->states[PORT_FETCH]) {
        struct device_details dd;
        if (port_cache_details(ps->cache, p->id, &dd)) {
            bool soft = p->soft;
            p->soft = false;
            if (soft && p->have_details
                && p->details.no_active_binding == dd.no_active_binding
                && device_details_equal(&p->details, &dd)) {
                VLOG_DBG("port %s: pushed again, unchanged", log_safe(p->id));
                port_set_state(ps, p, p->resume);
            } else {
                port_apply_details(ps, p, &dd);
            }
            device_details_destroy(&dd);
        } else if (!ps->details_busy) {
            if (!b) {
                b = xzalloc(sizeof *b);
                b->ps = ps;
                b->ids = xcalloc(PULL_BATCH, sizeof *b->ids);
                b->gens = xcalloc(PULL_BATCH, sizeof *b->gens);
            }
            if (b->n < PULL_BATCH) {
                port_set_state(ps, p, PORT_FETCHING);
                p->fetch_gen = p->gen;
                b->ids[b->n] = xstrdup(p->id);
                b->gens[b->n] = p->gen;
                b->n++;
            }
        }
    }
    if (b) {
        ps->details_busy = true;
        plugin_bulk_pull(rpc, "Port", PORT_CACHE_PORT_VERSION, "id",
                         (const char *const *) b->ids, b->n, pull_done, b);
    }
}

/* Reports. */

struct report_batch {
    struct ports *ps;
    char **ids;
    enum report *what;
    size_t n;
    bool refresh;               /* Asked for forwarding databases. */
    unsigned int resync_gen;    /* ps->resync_gen when it was sent. */
};

/* True if 'b' reported no port up: the server sends forwarding
 * databases only for ports reported up, so such a batch cannot answer a
 * refresh. */
static bool
batch_reports_no_up(const struct report_batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        if (b->what[i] == REPORT_UP) {
            return false;
        }
    }
    return true;
}

static void
report_done(void *b_, const char *error, const char *const *failed,
            size_t n_failed)
{
    struct report_batch *b = b_;
    struct ports *ps = b->ps;
    ovs_assert(ps->n_reports > 0);
    ps->n_reports--;
    if (error) {
        VLOG_WARN("reporting ports failed: %s", log_safe(error));
        ps->retry_at = time_msec() + RETRY_MS;
    } else if (b->refresh && b->resync_gen == ps->resync_gen
               && !batch_reports_no_up(b)) {
        ps->refresh_tunnels = false;
    }
    bool refreshed = !error && b->refresh && b->resync_gen == ps->resync_gen;
    for (size_t i = 0; i < b->n; i++) {
        struct port *p = port_find(ps, b->ids[i]);
        bool ok = !error;
        for (size_t j = 0; ok && j < n_failed; j++) {
            ok = strcmp(failed[j], b->ids[i]) != 0;
        }
        if (p) {
            p->reporting = false;
            if (ok) {
                enum report what = b->what[i];
                VLOG_INFO("port %s (%s): reported %s",
                          log_safe(p->id), log_safe(p->name),
                          report_name(what));
                p->reported = what;
                /* The port moves on only if it is still where the report
                 * left it: it may have changed while the call was out. */
                if (what == REPORT_DOWN && p->down_first) {
                    p->down_first = false;
                    sset_find_and_delete(&ps->down_first, p->id);
                } else if (what == REPORT_UP && p->state == PORT_MARK_UP) {
                    port_set_state(ps, p, PORT_UP);
                } else if (what == REPORT_DOWN
                           && p->state == PORT_MARK_DOWN) {
                    port_set_state(ps, p, PORT_DOWN);
                }
                if (what == REPORT_UP) {
                    if (refreshed && p->net && ps->hooks.fdb_answered) {
                        ps->hooks.fdb_answered(ps->hooks.aux,
                                               p->net->net_id);
                    }
                    ps->n_reported_up++;
                    COVERAGE_INC(ports_reported_up);
                    sset_find_and_delete(&ps->first_pass, p->id);
                } else {
                    ps->n_reported_down++;
                    COVERAGE_INC(ports_reported_down);
                    sset_find_and_delete(&ps->first_pass, p->id);
                }
                if (what == REPORT_DOWN && p->state == PORT_GONE
                    && !p->down_first) {
                    ovs_list_remove(&p->state_node);
                    ps->n_in_state[PORT_GONE]--;
                    VLOG_DBG("port %s (%s): %s -> freed", log_safe(p->id),
                             log_safe(p->name), port_state_names[p->state]);
                    shash_find_and_delete(&ps->ports, p->id);
                    port_free(p);
                }
            }
        }
        free(b->ids[i]);
    }
    free(b->ids);
    free(b->what);
    free(b);
}

/* Whether one of the 'n' ports about to be reported up is on a tunnel
 * network that floods to no tunnel yet: the server then sends the
 * network's whole forwarding database, which a missed or not yet sent
 * notification would otherwise leave out (the reference's rule).  Also
 * while the network's refresh after a resync has not been answered
 * (tunnels.h): its database must come again before what it no longer
 * lists can go. */
static const char *
ports_tunnels_missing(const struct ports *ps, const char **ids, size_t n)
{
    if (!ps->hooks.wants_fdb) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const struct port *p = port_find(ps, ids[i]);
        const struct network *net = p ? p->net : NULL;
        if (!net || net->physnet || net->segid < 0) {
            continue;
        }
        const char *why = ps->hooks.wants_fdb(ps->hooks.aux, net->net_id);
        if (why) {
            return why;
        }
    }
    return NULL;
}

static void
report_batch_add(struct report_batch *b, struct port *p, enum report what)
{
    p->reporting = true;
    b->ids[b->n] = xstrdup(p->id);
    b->what[b->n] = what;
    b->n++;
}

/* Sends one update_device_list for up to PLUGIN_BATCH ports up and as
 * many down.  Returns false if there was nothing to report. */
static bool
ports_report_one(struct ports *ps, struct rpc *rpc)
{
    const char **up = xcalloc(PLUGIN_BATCH, sizeof *up);
    const char **down = xcalloc(PLUGIN_BATCH, sizeof *down);
    size_t n_up = 0, n_down = 0;
    struct report_batch *b = xzalloc(sizeof *b);
    b->ps = ps;
    b->ids = xcalloc(2 * PLUGIN_BATCH, sizeof *b->ids);
    b->what = xcalloc(2 * PLUGIN_BATCH, sizeof *b->what);

    /* Only the ports waiting for a report: those to report down first,
     * then each state's. */
    const char *id;
    SSET_FOR_EACH (id, &ps->down_first) {
        struct port *p = port_find(ps, id);
        if (p && !p->reporting && n_down < PLUGIN_BATCH) {
            down[n_down++] = p->id;
            report_batch_add(b, p, REPORT_DOWN);
        }
    }
    static const enum port_state report_states[] = {
        PORT_MARK_UP, PORT_MARK_DOWN, PORT_GONE,
    };
    for (size_t k = 0; k < ARRAY_SIZE(report_states); k++) {
        enum report what = (report_states[k] == PORT_MARK_UP
                            ? REPORT_UP : REPORT_DOWN);
        size_t *n = what == REPORT_UP ? &n_up : &n_down;
        const char **ids = what == REPORT_UP ? up : down;
        struct port *p;
        LIST_FOR_EACH (p, state_node, &ps->states[report_states[k]]) {
            if (*n >= PLUGIN_BATCH) {
                break;
            }
            if (p->reporting || p->down_first) {
                continue;
            }
            ids[(*n)++] = p->id;
            report_batch_add(b, p, what);
        }
    }
    bool sent = b->n > 0;
    if (sent) {
        int timeout = ps->cfg->rpc_response_timeout * (1 + ps->n_reports);
        ps->n_reports++;
        bool refresh = ps->refresh_tunnels;
        const char *why = refresh ? NULL : ports_tunnels_missing(ps, up,
                                                                 n_up);
        if (why) {
            VLOG_INFO("a port goes up on a tunnel network with %s: asking "
                      "for its forwarding database (refresh_tunnels)", why);
            refresh = true;
        }
        b->refresh = refresh;
        b->resync_gen = ps->resync_gen;
        plugin_update_device_list(rpc, ps->cfg->host, up, n_up, down, n_down,
                                  refresh, timeout, report_done, b);
    } else {
        free(b->ids);
        free(b->what);
        free(b);
    }
    free(up);
    free(down);
    return sent;
}

/* A network being refreshed (tunnels.h) none of whose ports here is on
 * its way up will get no forwarding database: the server sends one only
 * for a port reported up.  A freshly started agent would hold none for it
 * either, so its refresh counts as answered, with nothing. */
static void
ports_refresh_idle_networks(struct ports *ps)
{
    if (!ps->hooks.fdb_pending
        || !ps->hooks.fdb_pending(ps->hooks.aux, NULL)) {
        return;
    }
    struct sset going_up = SSET_INITIALIZER(&going_up);
    static const enum port_state on_the_way_up[] = {
        PORT_FETCH, PORT_FETCHING, PORT_WIRING, PORT_MARK_UP,
    };
    for (size_t k = 0; k < ARRAY_SIZE(on_the_way_up); k++) {
        const struct port *p;
        LIST_FOR_EACH (p, state_node, &ps->states[on_the_way_up[k]]) {
            if (!p->net && (p->state == PORT_FETCH
                            || p->state == PORT_FETCHING)) {
                /* Its network is not known yet: wait for it. */
                sset_destroy(&going_up);
                return;
            }
            if (p->net) {
                sset_add(&going_up, p->net->net_id);
            }
        }
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ps->networks) {
        const struct network *net = node->data;
        if (!net->physnet && !sset_contains(&going_up, net->net_id)
            && ps->hooks.fdb_pending(ps->hooks.aux, net->net_id)) {
            ps->hooks.fdb_answered(ps->hooks.aux, net->net_id);
        }
    }
    sset_destroy(&going_up);
}

static void
ports_report(struct ports *ps, struct rpc *rpc)
{
    while (ps->n_reports < MAX_REPORTS && ports_report_one(ps, rpc)) {
        continue;
    }
}

void
ports_run(struct ports *ps, struct rpc *rpc)
{
    ports_scan(ps);
    ports_check_wiring(ps);

    if (!ps->first_pass_done && ps->scanned_once
        && sset_is_empty(&ps->first_pass)) {
        ps->first_pass_done = true;
        local_vlans_drop_hints(ps->vlans);
        VLOG_INFO("first pass over the ports done (%"PRIuSIZE" ports)",
                  shash_count(&ps->ports));
    }

    if (!rpc || !rpc_is_ready(rpc) || time_msec() < ps->retry_at) {
        return;
    }
    ports_fetch(ps, rpc);
    ports_report(ps, rpc);
    ports_refresh_idle_networks(ps);
}

void
ports_wait(struct ports *ps)
{
    if (ps->retry_at > time_msec()) {
        poll_timer_wait_until(ps->retry_at);
    }
    /* Wiring completes when a barrier comes back (of-bridge wakes us) or
     * when the IDL shows the tag (the IDL wakes us). */
}

/* A push changed the details of port 'port_id'. */
static void
port_update_soft(struct ports *ps, const char *port_id)
{
    struct port *p = port_find(ps, port_id);
    if (p && p->state != PORT_GONE) {
        VLOG_DBG("port %s: updated on the server", log_safe(port_id));
        enum port_state was = p->state;
        bool pending = was == PORT_FETCH || was == PORT_FETCHING;
        port_touch(ps, p);
        p->soft = !pending;
        p->resume = was;
    }
}

/* The server deleted port 'port_id': it goes dead here, its flows and
 * filter with it. */
static void
port_server_delete(struct ports *ps, const char *port_id)
{
    struct port *p = port_find(ps, port_id);
    if (p && p->state != PORT_GONE) {
        VLOG_INFO("port %s (%s): deleted on the server",
                  log_safe(port_id), log_safe(p->name));
        p->gen++;
        port_dead(ps, p);
        network_unbind(ps, p);
        fw_driver_remove_port(ps->fw, p->id);
        port_set_state(ps, p, PORT_DEAD);
        port_hook_remove(ps, p);
    }
}

void
ports_network_update(struct ports *ps, const char *network_id)
{
    /* The segments of the network may have changed, which the cached Port
     * objects do not show: its ports are pulled again. */
    port_cache_forget_network(ps->cache, network_id);
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ps->ports) {
        struct port *p = node->data;
        if (p->state != PORT_GONE && p->net
            && !strcmp(p->net->net_id, network_id)) {
            port_update_soft(ps, p->id);
        }
    }
}

static void
port_pushed(void *ps_, const char *id, bool deleted)
{
    if (deleted) {
        port_server_delete(ps_, id);
    } else {
        port_update_soft(ps_, id);
    }
}

size_t
ports_push_ports(struct ports *ps, const struct json *resource_list,
                 bool deleted)
{
    size_t n_bad = port_cache_push(ps->cache, resource_list, deleted,
                                   port_pushed, ps);
    if (deleted) {
        /* A port on the bridge whose details are still being pulled has no
         * entry in the cache yet: the delete must still win over the
         * pull's answer, which may come after it. */
        for (size_t i = 0; i < ovo_array_n(resource_list); i++) {
            const char *id = json_member_string(
                ovo_data(ovo_array_at(resource_list, i), "Port"), "id");
            if (id && port_find(ps, id)
                && port_cache_mark_deleted(ps->cache, id)) {
                port_server_delete(ps, id);
            }
        }
    }
    return n_bad;
}

void
ports_resync(struct ports *ps)
{
    /* Pushes sent while the session was down are lost: pull again. */
    port_cache_clear(ps->cache);
    ps->resync_gen++;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ps->ports) {
        struct port *p = node->data;
        if (p->state != PORT_GONE) {
            port_touch(ps, p);
            p->reported = REPORT_NONE;
        }
    }
    ps->refresh_tunnels = true;
}

bool
ports_first_pass_done(const struct ports *ps)
{
    return ps->first_pass_done;
}

size_t
ports_count(const struct ports *ps)
{
    return shash_count(&ps->ports);
}

void
ports_get_memory_usage(const struct ports *ps, struct simap *usage)
{
    simap_increase(usage, "ports", shash_count(&ps->ports));
}

void
ports_format(const struct ports *ps, struct ds *s)
{
    ds_put_format(s, "ports: %"PRIuSIZE" (wired %llu, reported up %llu, "
                  "down %llu)\n", shash_count(&ps->ports), ps->n_wired,
                  ps->n_reported_up, ps->n_reported_down);
    ds_put_cstr(s, "port states:");
    for (size_t i = 0; i < N_PORT_STATES; i++) {
        ds_put_format(s, " %s=%"PRIuSIZE, port_state_names[i],
                      ps->n_in_state[i]);
    }
    ds_put_char(s, '\n');
    const struct shash_node **nodes = shash_sort(&ps->ports);
    for (size_t i = 0; i < shash_count(&ps->ports); i++) {
        const struct port *p = nodes[i]->data;
        ds_put_format(s, "  %s %s ofport=%d", log_safe(p->id),
                      log_safe(p->name), p->ofport);
        if (p->net) {
            ds_put_format(s, " network=%s vlan=%d", log_safe(p->net->key),
                          p->net->lv);
        }
        ds_put_format(s, " state=%s%s%s reported=%s\n",
                      port_state_names[p->state],
                      p->down_first ? " (down first)" : "",
                      p->reporting ? " (reporting)" : "",
                      report_name(p->reported));
    }
    free(nodes);
    fw_driver_format(ps->fw, s);
    ds_put_cstr(s, "local VLANs:\n");
    local_vlans_format(ps->vlans, s);
}
