/*
 * vswitch: the agent's bridges in the Open_vSwitch database.  See vswitch.h
 * for what is written and why.
 */
#include <config.h>
#include "ovs/vswitch.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "coverage.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovs/manager-boot.h"
#include "ovs/ovsdb-remote.h"
#include "ovsdb-idl.h"
#include "simap.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(vswitch);

COVERAGE_DEFINE(vswitch_txn);   /* Set-up transactions, for coverage/show. */

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define NONEXISTENT_PEER "nonexistent-peer"

/* What the configuration asks of one bridge. */
struct wanted_bridge {
    char *name;
    bool create;                /* Create it if missing (br-int, br-tun). */
    bool igmp;                  /* Write the IGMP snooping settings. */
    const char *const *protocols;
    char *int_patch;            /* Physical bridges: int-<br>, phy-<br>. */
    char *phy_patch;
    bool phys_linked;           /* Physical bridges: peers may be linked. */
};

/* The agent's wishes for one VIF's Port row. */
struct wanted_port {
    int tag;
    bool clear_trunk;
    struct smap other_config;
};

/* A tunnel port the agent wants on the tunnel bridge (present), or wants
 * gone (!present).  A host may have thousands: the Interface type and
 * options are kept in one allocation, 'spec' (tunnel_spec_pack()). */
struct wanted_tunnel {
    bool present;
    char *spec;
};

struct vswitch {
    const struct agent_config *cfg;
    struct ovsdb_idl *idl;
    struct ovsdb_idl_loop loop;
    char *controller_target;    /* "tcp:127.0.0.1:6633". */
    struct manager_boot *manager_boot;  /* NULL unless tcp:. */

    struct wanted_bridge *bridges;
    size_t n_bridges;           /* [0] br-int, [1] br-tun if tunnelling. */

    struct shash ports;         /* Port name -> struct wanted_port. */
    struct shash tunnels;       /* Port name -> struct wanted_tunnel. */

    bool tunnel_ifaces_dropped; /* vswitch_drop_tunnel_interfaces(). */
    unsigned int n_txns;
    unsigned int last_seqno;    /* IDL seqno last compared. */
    bool recheck;               /* Compare again even if unchanged. */
};

static const char *const int_protocols[] = {
    "OpenFlow10", "OpenFlow13", "OpenFlow14", NULL
};
static const char *const int_protocols_fw[] = {
    "OpenFlow10", "OpenFlow11", "OpenFlow12", "OpenFlow13", "OpenFlow14", NULL
};

static void
register_columns(struct ovsdb_idl *idl)
{
    static const struct ovsdb_idl_column *columns[] = {
        &ovsrec_open_vswitch_col_bridges,
        &ovsrec_open_vswitch_col_next_cfg,
        &ovsrec_open_vswitch_col_cur_cfg,
        &ovsrec_open_vswitch_col_other_config,
        &ovsrec_open_vswitch_col_external_ids,
        &ovsrec_bridge_col_name,
        &ovsrec_bridge_col_ports,
        &ovsrec_bridge_col_controller,
        &ovsrec_bridge_col_datapath_type,
        &ovsrec_bridge_col_datapath_id,
        &ovsrec_bridge_col_fail_mode,
        &ovsrec_bridge_col_protocols,
        &ovsrec_bridge_col_other_config,
        &ovsrec_bridge_col_external_ids,
        &ovsrec_bridge_col_mcast_snooping_enable,
        &ovsrec_port_col_name,
        &ovsrec_port_col_interfaces,
        &ovsrec_port_col_tag,
        &ovsrec_port_col_vlan_mode,
        &ovsrec_port_col_trunks,
        &ovsrec_port_col_other_config,
        &ovsrec_port_col_external_ids,
        &ovsrec_interface_col_name,
        &ovsrec_interface_col_type,
        &ovsrec_interface_col_options,
        &ovsrec_interface_col_ofport,
        &ovsrec_interface_col_external_ids,
        &ovsrec_controller_col_target,
        &ovsrec_controller_col_connection_mode,
        &ovsrec_controller_col_inactivity_probe,
        &ovsrec_controller_col_is_connected,
    };
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        ovsdb_idl_add_column(idl, columns[i]);
    }
    /* Statistics-like columns change all the time; we read them only when
     * something else wakes us. */
    ovsdb_idl_omit_alert(idl, &ovsrec_controller_col_is_connected);
    ovsdb_idl_omit_alert(idl, &ovsrec_open_vswitch_col_cur_cfg);
}

struct vswitch *
vswitch_create(const struct agent_config *cfg)
{
    struct vswitch *vs = xzalloc(sizeof *vs);
    vs->cfg = cfg;

    vs->idl = ovsdb_remote_open_vswitch(cfg, false);
    register_columns(vs->idl);
    vs->loop = (struct ovsdb_idl_loop) OVSDB_IDL_LOOP_INITIALIZER(vs->idl);

    const char *addr = cfg->of_listen_address;
    vs->controller_target = (strchr(addr, ':')
                             ? xasprintf("tcp:[%s]:%d", addr,
                                         cfg->of_listen_port)
                             : xasprintf("tcp:%s:%d", addr,
                                         cfg->of_listen_port));
    vs->manager_boot = manager_boot_create(cfg);
    shash_init(&vs->ports);
    shash_init(&vs->tunnels);

    vs->bridges = xcalloc(cfg->n_bridges, sizeof *vs->bridges);
    for (size_t i = 0; i < cfg->n_bridges; i++) {
        const struct bridge_desc *desc = &cfg->bridges[i];
        struct wanted_bridge *wb = &vs->bridges[vs->n_bridges++];
        wb->name = xstrdup(desc->name);
        wb->protocols = int_protocols;
        switch (desc->role) {
        case BRIDGE_INT:
            wb->create = true;
            wb->igmp = true;
            wb->protocols = (cfg->firewall_driver == FW_OPENVSWITCH
                             ? int_protocols_fw : int_protocols);
            break;
        case BRIDGE_TUN:
            wb->create = true;
            break;
        case BRIDGE_PHYS:
            wb->int_patch = xstrdup(desc->int_patch);
            wb->phy_patch = xstrdup(desc->peer_patch);
            break;
        }
    }
    return vs;
}

void
vswitch_destroy(struct vswitch *vs)
{
    if (!vs) {
        return;
    }
    ovsdb_idl_loop_destroy(&vs->loop);      /* Destroys the IDL too. */
    for (size_t i = 0; i < vs->n_bridges; i++) {
        free(vs->bridges[i].name);
        free(vs->bridges[i].int_patch);
        free(vs->bridges[i].phy_patch);
    }
    free(vs->bridges);
    free(vs->controller_target);
    manager_boot_destroy(vs->manager_boot);
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &vs->ports) {
        struct wanted_port *wp = node->data;
        smap_destroy(&wp->other_config);
        free(wp);
    }
    shash_destroy(&vs->ports);
    SHASH_FOR_EACH_SAFE (node, &vs->tunnels) {
        struct wanted_tunnel *wt = node->data;
        free(wt->spec);
        free(wt);
    }
    shash_destroy(&vs->tunnels);
    free(vs);
}

static const struct ovsrec_bridge *
find_bridge(const struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

static const struct ovsrec_port *
find_port(const struct ovsrec_bridge *br, const char *name)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        if (!strcmp(br->ports[i]->name, name)) {
            return br->ports[i];
        }
    }
    return NULL;
}

static const struct ovsrec_interface *
find_iface(const struct ovsrec_bridge *br, const char *name)
{
    const struct ovsrec_port *port = find_port(br, name);
    if (port) {
        for (size_t i = 0; i < port->n_interfaces; i++) {
            if (!strcmp(port->interfaces[i]->name, name)) {
                return port->interfaces[i];
            }
        }
    }
    return NULL;
}

/* A transaction being built: created on the first change. */
struct vs_txn {
    struct ovsdb_idl_txn *txn;
    const struct ovsrec_open_vswitch *ovs;
    bool changed;
};

static void
note_change(struct vs_txn *t, const char *what, const char *name)
{
    if (!t->changed) {
        ovsdb_idl_txn_increment(t->txn, &t->ovs->header_,
                                &ovsrec_open_vswitch_col_next_cfg, true);
        t->changed = true;
    }
    VLOG_DBG("%s: %s", name, what);
}

static bool
smap_has(const struct smap *smap, const char *key, const char *value)
{
    const char *v = smap_get(smap, key);
    return v && !strcmp(v, value);
}

/* Inserts a Port and Interface 'name' of 'type' into 'br'.  'peer' is the
 * patch peer, or NULL. */
static void
insert_port(struct vs_txn *t, const struct ovsrec_bridge *br,
            const char *name, const char *type, const char *peer)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(t->txn);
    ovsrec_interface_set_name(iface, name);
    ovsrec_interface_set_type(iface, type);
    if (peer) {
        const struct smap options = SMAP_CONST1(&options, "peer", peer);
        ovsrec_interface_set_options(iface, &options);
    }
    struct ovsrec_port *port = ovsrec_port_insert(t->txn);
    ovsrec_port_set_name(port, name);
    ovsrec_port_set_interfaces(port, &iface, 1);
    ovsrec_bridge_update_ports_addvalue(br, port);
    note_change(t, "port added", name);
}

static const char *
py_bool(bool b)
{
    return b ? "True" : "False";
}

static void
ensure_patch_port_mcast(struct vs_txn *t, const struct agent_config *cfg,
                        const struct ovsrec_port *port)
{
    const char *value = py_bool(cfg->igmp_snooping_enable);
    static const char *const keys[] = {
        "mcast-snooping-flood", "mcast-snooping-flood-reports"
    };
    for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
        if (!smap_has(&port->other_config, keys[i], value)) {
            ovsrec_port_update_other_config_setkey(port, keys[i], value);
            note_change(t, "mcast flood setting", port->name);
        }
    }
}

/* Replaces the controllers of 'br' by one pointing at our listener. */
static void
insert_controller(struct vs_txn *t, const struct vswitch *vs,
                  const struct ovsrec_bridge *br)
{
    struct ovsrec_controller *c = ovsrec_controller_insert(t->txn);
    ovsrec_controller_set_target(c, vs->controller_target);
    ovsrec_controller_set_connection_mode(c, "out-of-band");
    int64_t probe = (int64_t) vs->cfg->of_inactivity_probe * 1000;
    ovsrec_controller_set_inactivity_probe(c, &probe, 1);
    ovsrec_bridge_set_controller(br, &c, 1);
}

/* Makes sure 'br' has exactly our controller target among its controllers,
 * and that every controller has the reference's settings. */
static void
ensure_controller(struct vs_txn *t, const struct vswitch *vs,
                  const struct ovsrec_bridge *br)
{
    bool found = false;
    for (size_t i = 0; i < br->n_controller; i++) {
        if (!strcmp(br->controller[i]->target, vs->controller_target)) {
            found = true;
        }
    }
    if (!found) {
        insert_controller(t, vs, br);
        note_change(t, "controller set", br->name);
        return;
    }
    int64_t probe = (int64_t) vs->cfg->of_inactivity_probe * 1000;
    for (size_t i = 0; i < br->n_controller; i++) {
        const struct ovsrec_controller *c = br->controller[i];
        if (!c->connection_mode || strcmp(c->connection_mode, "out-of-band")) {
            ovsrec_controller_set_connection_mode(c, "out-of-band");
            note_change(t, "controller connection mode", br->name);
        }
        if (c->n_inactivity_probe != 1 || c->inactivity_probe[0] != probe) {
            ovsrec_controller_set_inactivity_probe(c, &probe, 1);
            note_change(t, "controller inactivity probe", br->name);
        }
    }
}

static void
ensure_bridge_settings(struct vs_txn *t, const struct vswitch *vs,
                       const struct wanted_bridge *wb,
                       const struct ovsrec_bridge *br)
{
    const struct agent_config *cfg = vs->cfg;

    if (strcmp(br->datapath_type, cfg->datapath_type)) {
        ovsrec_bridge_set_datapath_type(br, cfg->datapath_type);
        note_change(t, "datapath type", br->name);
    }
    for (const char *const *p = wb->protocols; *p; p++) {
        bool have = false;
        for (size_t i = 0; i < br->n_protocols; i++) {
            if (!strcmp(br->protocols[i], *p)) {
                have = true;
            }
        }
        if (!have) {
            ovsrec_bridge_update_protocols_addvalue(br, *p);
            note_change(t, "protocols", br->name);
        }
    }
    char *size = xasprintf("%d", cfg->bridge_mac_table_size);
    if (!smap_has(&br->other_config, "mac-table-size", size)) {
        ovsrec_bridge_update_other_config_setkey(br, "mac-table-size", size);
        note_change(t, "mac-table-size", br->name);
    }
    free(size);
    if (!br->fail_mode || strcmp(br->fail_mode, "secure")) {
        ovsrec_bridge_set_fail_mode(br, "secure");
        note_change(t, "fail mode", br->name);
    }
    ensure_controller(t, vs, br);
    if (wb->igmp) {
        if (br->mcast_snooping_enable != cfg->igmp_snooping_enable) {
            ovsrec_bridge_set_mcast_snooping_enable(br,
                                                    cfg->igmp_snooping_enable);
            note_change(t, "mcast snooping", br->name);
        }
        /* The reference always writes "false" here, whatever the option. */
        const char *key = "mcast-snooping-disable-flood-unregistered";
        if (!smap_has(&br->other_config, key, "false")) {
            ovsrec_bridge_update_other_config_setkey(br, key, "false");
            note_change(t, "mcast flood unregistered", br->name);
        }
    }
}

static void
create_bridge(struct vs_txn *t, const struct vswitch *vs,
              const struct wanted_bridge *wb)
{
    struct ovsrec_interface *iface = ovsrec_interface_insert(t->txn);
    ovsrec_interface_set_name(iface, wb->name);
    ovsrec_interface_set_type(iface, "internal");
    struct ovsrec_port *port = ovsrec_port_insert(t->txn);
    ovsrec_port_set_name(port, wb->name);
    ovsrec_port_set_interfaces(port, &iface, 1);

    struct ovsrec_bridge *br = ovsrec_bridge_insert(t->txn);
    ovsrec_bridge_set_name(br, wb->name);
    ovsrec_bridge_set_ports(br, &port, 1);
    ovsrec_open_vswitch_update_bridges_addvalue(t->ovs, br);
    note_change(t, "bridge created", wb->name);
    VLOG_INFO("%s: creating bridge", wb->name);

    /* Everything the bridge needs goes into the same transaction, so the
     * bridge never exists in standalone fail mode, flooding. */
    const struct agent_config *cfg = vs->cfg;
    ovsrec_bridge_set_datapath_type(br, cfg->datapath_type);
    ovsrec_bridge_set_fail_mode(br, "secure");
    size_t n = 0;
    while (wb->protocols[n]) {
        n++;
    }
    ovsrec_bridge_set_protocols(br, CONST_CAST(const char **, wb->protocols),
                                n);
    struct smap oc = SMAP_INITIALIZER(&oc);
    smap_add_format(&oc, "mac-table-size", "%d", cfg->bridge_mac_table_size);
    if (wb->igmp) {
        smap_add(&oc, "mcast-snooping-disable-flood-unregistered", "false");
        ovsrec_bridge_set_mcast_snooping_enable(br,
                                                cfg->igmp_snooping_enable);
    }
    ovsrec_bridge_set_other_config(br, &oc);
    smap_destroy(&oc);
    insert_controller(t, vs, br);
}

/* Makes sure patch port 'name' with peer 'peer' exists on 'br'.  An
 * existing port keeps its peer unless 'fix_peer'. */
static const struct ovsrec_port *
ensure_patch(struct vs_txn *t, const struct ovsrec_bridge *br,
             const char *name, const char *peer, bool fix_peer)
{
    const struct ovsrec_port *port = find_port(br, name);
    if (!port) {
        insert_port(t, br, name, "patch", peer);
        return NULL;
    }
    const struct ovsrec_interface *iface = find_iface(br, name);
    if (iface && fix_peer && !smap_has(&iface->options, "peer", peer)) {
        ovsrec_interface_update_options_setkey(iface, "peer", peer);
        note_change(t, "patch peer", name);
    }
    return port;
}

/* Gives physical bridges that share a datapath id distinct ones, as the
 * reference does: dpid + (n << 48) for the n-th duplicate. */
static void
ensure_distinct_dpids(struct vs_txn *t, const struct vswitch *vs)
{
    struct sset seen = SSET_INITIALIZER(&seen);
    int n = 0;
    for (size_t i = 0; i < vs->n_bridges; i++) {
        const struct wanted_bridge *wb = &vs->bridges[i];
        const struct ovsrec_bridge *br = wb->int_patch
                                         ? find_bridge(vs->idl, wb->name)
                                         : NULL;
        if (!br || !br->datapath_id) {
            continue;
        }
        if (sset_contains(&seen, br->datapath_id)) {
            uint64_t dpid = strtoull(br->datapath_id, NULL, 16);
            char *new = xasprintf("%016"PRIx64,
                                  dpid + ((uint64_t) ++n << 48));
            if (!smap_has(&br->other_config, "datapath-id", new)) {
                ovsrec_bridge_update_other_config_setkey(br, "datapath-id",
                                                         new);
                note_change(t, "datapath-id made distinct", br->name);
            }
            free(new);
        } else {
            sset_add(&seen, br->datapath_id);
        }
    }
    sset_destroy(&seen);
}

/* A tunnel's Interface type and options, packed: the type, then each key
 * and its value, each string followed by its NUL, then one more NUL.  A
 * few dozen bytes in one allocation where an smap takes two per option and
 * a node each. */
static char *
tunnel_spec_pack(const char *type, const struct smap *options)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_cstr(&s, type);
    ds_put_char(&s, '\0');
    const struct smap_node *sn;
    SMAP_FOR_EACH (sn, options) {
        ds_put_cstr(&s, sn->key);
        ds_put_char(&s, '\0');
        ds_put_cstr(&s, sn->value);
        ds_put_char(&s, '\0');
    }
    ds_put_char(&s, '\0');
    return ds_steal_cstr(&s);
}

/* The next key and value of a packed spec after 'p' (the type, or the
 * value before), or NULL at the end. */
static const char *
tunnel_spec_next(const char *p, const char **value)
{
    const char *key = p + strlen(p) + 1;
    if (!*key) {
        return NULL;
    }
    *value = key + strlen(key) + 1;
    return key;
}

#define TUNNEL_SPEC_FOR_EACH(KEY, VALUE, SPEC)                  \
    for ((KEY) = tunnel_spec_next(SPEC, &(VALUE)); (KEY);     \
         (KEY) = tunnel_spec_next(VALUE, &(VALUE)))

/* Creates the wanted tunnel ports of 'tun_br' and merges their options
 * (keys named are written, others stay, as the reference's may_exist
 * does); deletes those wanted gone, and forgets them once they are. */
static void
ensure_tunnels(struct vs_txn *t, struct vswitch *vs,
               const struct ovsrec_bridge *tun_br)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &vs->tunnels) {
        struct wanted_tunnel *wt = node->data;
        const struct ovsrec_port *port = find_port(tun_br, node->name);
        if (!wt->present) {
            if (port) {
                ovsrec_bridge_update_ports_delvalue(tun_br, port);
                note_change(t, "tunnel port deleted", node->name);
            } else {
                free(wt->spec);
                free(wt);
                shash_delete(&vs->tunnels, node);
            }
            continue;
        }
        const char *type = wt->spec;
        const char *key, *value;
        if (!port) {
            struct smap options = SMAP_INITIALIZER(&options);
            TUNNEL_SPEC_FOR_EACH (key, value, wt->spec) {
                smap_add(&options, key, value);
            }
            struct ovsrec_interface *iface = ovsrec_interface_insert(t->txn);
            ovsrec_interface_set_name(iface, node->name);
            ovsrec_interface_set_type(iface, type);
            ovsrec_interface_set_options(iface, &options);
            smap_destroy(&options);
            struct ovsrec_port *np = ovsrec_port_insert(t->txn);
            ovsrec_port_set_name(np, node->name);
            ovsrec_port_set_interfaces(np, &iface, 1);
            ovsrec_bridge_update_ports_addvalue(tun_br, np);
            note_change(t, "tunnel port added", node->name);
            continue;
        }
        /* Once vswitch_drop_tunnel_interfaces() was called, the replica
         * has no tunnel Interface: every port an earlier run left has been
         * merged by then, and this run's were inserted whole. */
        const struct ovsrec_interface *iface = find_iface(tun_br, node->name);
        if (!iface) {
            continue;
        }
        if (strcmp(iface->type, type)) {
            ovsrec_interface_set_type(iface, type);
            note_change(t, "tunnel type", node->name);
        }
        TUNNEL_SPEC_FOR_EACH (key, value, wt->spec) {
            if (!smap_has(&iface->options, key, value)) {
                ovsrec_interface_update_options_setkey(iface, key, value);
                note_change(t, "tunnel options", node->name);
            }
        }
    }
}

/* Applies the wishes of the port manager to the Port rows of br-int. */
static void
ensure_ports(struct vs_txn *t, const struct vswitch *vs,
             const struct ovsrec_bridge *int_br)
{
    if (shash_is_empty(&vs->ports)) {
        return;
    }
    for (size_t i = 0; i < int_br->n_ports; i++) {
        const struct ovsrec_port *port = int_br->ports[i];
        const struct wanted_port *wp = shash_find_data(&vs->ports,
                                                       port->name);
        if (!wp) {
            continue;
        }
        if (wp->tag && (port->n_tag != 1 || port->tag[0] != wp->tag)) {
            int64_t tag = wp->tag;
            ovsrec_port_set_tag(port, &tag, 1);
            if (wp->clear_trunk) {
                ovsrec_port_set_vlan_mode(port, NULL);
                ovsrec_port_set_trunks(port, NULL, 0);
            }
            note_change(t, "tag", port->name);
        }
        const struct smap_node *sn;
        SMAP_FOR_EACH (sn, &wp->other_config) {
            if (!smap_has(&port->other_config, sn->key, sn->value)) {
                ovsrec_port_update_other_config_setkey(port, sn->key,
                                                       sn->value);
                note_change(t, "other_config", port->name);
            }
        }
    }
}

static void
vswitch_reconcile(struct vswitch *vs, struct ovsdb_idl_txn *txn)
{
    const struct agent_config *cfg = vs->cfg;
    struct vs_txn t = { .txn = txn,
                        .ovs = ovsrec_open_vswitch_first(vs->idl) };
    if (!t.ovs) {
        /* ovs-vsctl init has not run; the daemons' own start-up does it. */
        VLOG_WARN_RL(&rl, "the Open_vSwitch table is empty");
        return;
    }

    const struct ovsrec_bridge *int_br = NULL;
    for (size_t i = 0; i < vs->n_bridges; i++) {
        const struct wanted_bridge *wb = &vs->bridges[i];
        const struct ovsrec_bridge *br = find_bridge(vs->idl, wb->name);
        if (!br) {
            if (wb->create) {
                create_bridge(&t, vs, wb);
                vs->recheck = true;     /* Ports next time round. */
            }
            continue;
        }
        if (i == 0) {
            int_br = br;
        }
        ensure_bridge_settings(&t, vs, wb, br);
    }
    if (!int_br) {
        return;
    }

    if (cfg->tunnel_types) {
        const struct ovsrec_bridge *tun_br = find_bridge(vs->idl,
                                                         cfg->tunnel_bridge);
        const struct ovsrec_port *p
            = ensure_patch(&t, int_br, cfg->int_peer_patch_port,
                           cfg->tun_peer_patch_port, false);
        if (p) {
            ensure_patch_port_mcast(&t, cfg, p);
        }
        if (tun_br) {
            ensure_patch(&t, tun_br, cfg->tun_peer_patch_port,
                         cfg->int_peer_patch_port, false);
            ensure_tunnels(&t, vs, tun_br);
        }
    }

    for (size_t i = 0; i < vs->n_bridges; i++) {
        const struct wanted_bridge *wb = &vs->bridges[i];
        if (!wb->int_patch) {
            continue;
        }
        const struct ovsrec_bridge *br = find_bridge(vs->idl, wb->name);
        if (!br) {
            continue;
        }
        const char *int_peer = wb->phys_linked ? wb->phy_patch
                                               : NONEXISTENT_PEER;
        const char *phy_peer = wb->phys_linked ? wb->int_patch
                                               : NONEXISTENT_PEER;
        const struct ovsrec_port *p = ensure_patch(&t, int_br, wb->int_patch,
                                                   int_peer, wb->phys_linked);
        if (p) {
            ensure_patch_port_mcast(&t, cfg, p);
        }
        ensure_patch(&t, br, wb->phy_patch, phy_peer, wb->phys_linked);
    }
    ensure_distinct_dpids(&t, vs);
    ensure_ports(&t, vs, int_br);

    if (t.changed) {
        vs->n_txns++;
        COVERAGE_INC(vswitch_txn);
    }
}

void
vswitch_run(struct vswitch *vs)
{
    struct ovsdb_idl_txn *txn = ovsdb_idl_loop_run(&vs->loop);
    unsigned int seqno = ovsdb_idl_get_seqno(vs->idl);

    if (txn && ovsdb_idl_has_ever_connected(vs->idl)
        && (seqno != vs->last_seqno || vs->recheck)) {
        vs->last_seqno = seqno;
        vs->recheck = false;
        ovsdb_idl_txn_add_comment(txn, "ovsagent: bridge set-up");
        vswitch_reconcile(vs, txn);
    }
    int status = ovsdb_idl_loop_commit_and_wait(&vs->loop);
    manager_boot_run(vs->manager_boot, ovsdb_idl_is_connected(vs->idl));
    if (status == 0) {
        /* Failed or aborted: look again once the IDL has caught up. */
        vs->recheck = true;
        VLOG_DBG("bridge set-up transaction did not commit; retrying");
    }
}

void
vswitch_wait(struct vswitch *vs)
{
    ovsdb_idl_wait(vs->idl);
    manager_boot_wait(vs->manager_boot);
    if (vs->recheck) {
        poll_timer_wait(100);
    }
}

bool
vswitch_is_synced(const struct vswitch *vs)
{
    return ovsdb_idl_has_ever_connected(vs->idl)
           && ovsdb_idl_is_connected(vs->idl);
}

const char *
vswitch_missing_phys_bridge(const struct vswitch *vs)
{
    if (!ovsdb_idl_has_ever_connected(vs->idl)) {
        return NULL;
    }
    for (size_t i = 0; i < vs->n_bridges; i++) {
        const struct wanted_bridge *wb = &vs->bridges[i];
        if (wb->int_patch && !find_bridge(vs->idl, wb->name)) {
            return wb->name;
        }
    }
    return NULL;
}

void
vswitch_get_memory_usage(const struct vswitch *vs, struct simap *usage)
{
    ovsdb_idl_get_memory_usage(vs->idl, usage);
    simap_increase(usage, "wanted-ports", shash_count(&vs->ports));
    simap_increase(usage, "wanted-tunnels", shash_count(&vs->tunnels));
}

uint64_t
vswitch_get_dpid(const struct vswitch *vs, const char *bridge)
{
    const struct ovsrec_bridge *br = find_bridge(vs->idl, bridge);
    if (!br || !br->datapath_id) {
        return 0;
    }
    return strtoull(br->datapath_id, NULL, 16);
}

int
vswitch_get_ofport(const struct vswitch *vs, const char *bridge,
                   const char *iface_name)
{
    const struct ovsrec_bridge *br = find_bridge(vs->idl, bridge);
    const struct ovsrec_interface *iface = br ? find_iface(br, iface_name)
                                              : NULL;
    if (!iface || iface->n_ofport != 1 || iface->ofport[0] <= 0) {
        return -1;
    }
    return iface->ofport[0];
}

void
vswitch_set_phys_linked(struct vswitch *vs, const char *bridge, bool linked)
{
    for (size_t i = 0; i < vs->n_bridges; i++) {
        struct wanted_bridge *wb = &vs->bridges[i];
        if (wb->int_patch && !strcmp(wb->name, bridge)
            && wb->phys_linked != linked) {
            wb->phys_linked = linked;
            vs->recheck = true;
            /* Now, not at vswitch_wait()'s next recheck. */
            poll_immediate_wake();
            if (linked) {
                VLOG_INFO("%s: drop flows in place; linking %s and %s",
                          bridge, wb->int_patch, wb->phy_patch);
            }
        }
    }
}

void
vswitch_set_port(struct vswitch *vs, const char *port_name, int tag,
                 bool clear_trunk, const struct smap *other_config)
{
    struct wanted_port *wp = shash_find_data(&vs->ports, port_name);
    if (!wp) {
        wp = xzalloc(sizeof *wp);
        smap_init(&wp->other_config);
        shash_add(&vs->ports, port_name, wp);
    }
    wp->tag = tag;
    wp->clear_trunk = clear_trunk;
    if (other_config) {
        const struct smap_node *sn;
        SMAP_FOR_EACH (sn, other_config) {
            smap_replace(&wp->other_config, sn->key, sn->value);
        }
    }
    vs->recheck = true;
}

void
vswitch_set_tunnel(struct vswitch *vs, const char *name, const char *type,
                   const struct smap *options)
{
    struct wanted_tunnel *wt = shash_find_data(&vs->tunnels, name);
    if (!wt) {
        wt = xzalloc(sizeof *wt);
        shash_add(&vs->tunnels, name, wt);
    }
    wt->present = true;
    free(wt->spec);
    wt->spec = tunnel_spec_pack(type, options);
    vs->recheck = true;
}

void
vswitch_remove_tunnel(struct vswitch *vs, const char *name)
{
    struct wanted_tunnel *wt = shash_find_data(&vs->tunnels, name);
    if (!wt) {
        wt = xzalloc(sizeof *wt);
        wt->spec = xmemdup("\0", 2);
        shash_add(&vs->tunnels, name, wt);
    }
    wt->present = false;
    vs->recheck = true;
}

bool
vswitch_hw_offload(const struct vswitch *vs)
{
    const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(vs->idl);
    return ovs && smap_get_bool(&ovs->other_config, "hw-offload", false);
}

void
vswitch_forget_port(struct vswitch *vs, const char *port_name)
{
    struct wanted_port *wp = shash_find_and_delete(&vs->ports, port_name);
    if (wp) {
        smap_destroy(&wp->other_config);
        free(wp);
    }
}

int
vswitch_port_tag(const struct vswitch *vs, const char *port_name)
{
    const struct ovsrec_bridge *br = find_bridge(vs->idl,
                                                 vs->cfg->integration_bridge);
    const struct ovsrec_port *port = br ? find_port(br, port_name) : NULL;
    if (!port) {
        return -1;
    }
    return port->n_tag == 1 ? port->tag[0] : 0;
}

void
vswitch_drop_tunnel_interfaces(struct vswitch *vs)
{
    if (vs->tunnel_ifaces_dropped) {
        return;
    }
    vs->tunnel_ifaces_dropped = true;
    /* Every tunnel port the agent makes has options:in_key=flow; no VIF
     * and no patch port has.  (A condition's clauses are alternatives, so
     * "not one of these types" cannot be said in one; this can.) */
    struct smap key = SMAP_INITIALIZER(&key);
    smap_add(&key, "in_key", "flow");
    struct ovsdb_idl_condition cond = OVSDB_IDL_CONDITION_INIT(&cond);
    ovsrec_interface_add_clause_options(&cond, OVSDB_F_EXCLUDES, &key);
    ovsrec_interface_set_condition(vs->idl, &cond);
    ovsdb_idl_condition_destroy(&cond);
    smap_destroy(&key);
    VLOG_INFO("tunnel ports settled: their Interface rows are no longer "
              "replicated");
}

struct ovsdb_idl *
vswitch_idl(const struct vswitch *vs)
{
    return vs->idl;
}

void
vswitch_format(const struct vswitch *vs, struct ds *s)
{
    ds_put_format(s, "OVSDB %s: %s", vs->cfg->ovsdb_connection,
                  ovsdb_idl_is_connected(vs->idl) ? "connected"
                  : ovsdb_idl_has_ever_connected(vs->idl) ? "reconnecting"
                  : "connecting");
    ds_put_format(s, " (%u set-up transactions)\n", vs->n_txns);
}
