/*
 * tunnels: tunnel ports and the forwarding database.  See tunnels.h.
 */
#include <config.h>
#include "agent/tunnels.h"
#include "agent/ports.h"

#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/tun-flows.h"
#include "coverage.h"
#include "json-util.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "ovsdb-idl.h"
#include "packets.h"
#include "simap.h"
#include "smap.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(tunnels);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same. */
COVERAGE_DEFINE(tunnels_fdb_add);
COVERAGE_DEFINE(tunnels_fdb_remove);
COVERAGE_DEFINE(tunnels_fdb_update);
COVERAGE_DEFINE(tunnels_refresh_removed);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

#define FLOOD_MAC "00:00:00:00:00:00"
#define FLOOD_IP "0.0.0.0"

/* How long after the server answered a report that asked for forwarding
 * databases (refresh_tunnels) their casts may still be on their way.  The
 * server sends them while it handles the report, before it answers, but
 * on another queue: they can arrive a little after the answer. */
#define FDB_GRACE_MS 5000

struct tunnel {
    char *name;
    char *type;
    char *remote_ip;
    int ofport;                 /* -1 until the switch gives it one. */
    bool mesh;                  /* From tunnel_sync/tunnel_update. */
};

/* The FDB is held in binary and once per entry: with l2population a host
 * may hold hundreds of thousands of entries, each with a unicast and an ARP
 * responder flow. */

/* A remote endpoint of a network's FDB, while the network floods to it or
 * a MAC is behind it: one per network and remote host. */
struct fdb_remote {
    struct hmap_node node;      /* In 'tnet->remotes', by hash_string(ip). */
    struct ovs_list macs;       /* Of struct fdb_mac, by 'via_node'. */
    bool flood;                 /* In the network's flood list. */
    bool stale_flood;           /* 'flood' when a refresh began, and not
                                 * named by an add since. */
    char ip[];                  /* Owned, with the struct. */
};

/* A unicast entry: a remote MAC and the endpoint it is behind. */
struct fdb_mac {
    struct hmap_node node;      /* In 'tnet->ucast', by hash_mac(). */
    struct ovs_list via_node;   /* In 'remote->macs'. */
    struct fdb_remote *remote;
    struct eth_addr mac;
    bool stale;                 /* Held when a refresh began, not named by
                                 * an add since. */
};

/* An ARP responder entry: a remote IPv4 address and its MAC. */
struct fdb_arp {
    struct hmap_node node;      /* In 'tnet->arp', by hash_int(ip). */
    ovs_be32 ip;
    struct eth_addr mac;
    bool stale;                 /* As in struct fdb_mac. */
};

/* A tunnel network with a local VLAN here, and its FDB. */
struct tnet {
    char *net_id;
    char *type;
    int64_t segid;
    int lv;
    struct hmap ucast;          /* Of struct fdb_mac. */
    struct hmap remotes;        /* Of struct fdb_remote. */
    size_t n_flood;             /* Remotes with 'flood'. */
    struct hmap arp;            /* Of struct fdb_arp. */
    bool dirty;                 /* Every flow to be written again. */
    bool flood_dirty;           /* Only the flood flow to be written again:
                                 * once for all the changes of a pass. */

    /* br-tun flow owners: "flood:<lv>", and "ucast:<lv>" and "arp:<lv>",
     * each of which holds the network's flows of its table, changed one
     * entry at a time. */
    char *flood_owner;
    char *ucast_owner;
    char *arp_owner;

    /* A refresh (tunnels_refresh_begin()): the entries held when it began
     * that no add has named since ('stale' in each, 'stale_flood' in the
     * remotes).  Once the server has sent the whole database again, those
     * left were removed while its casts were lost, and go
     * (refresh_sweep()). */
    bool refreshing;
    long long int sweep_at;     /* LLONG_MAX until the server answered. */
};

struct tunnels {
    const struct agent_config *cfg;
    struct vswitch *vs;
    struct of_bridge *tun;      /* br-tun's OpenFlow session. */
    struct flow_table *ft;      /* Its flows. */
    struct shash tunnels;       /* Port name -> struct tunnel. */
    struct shash nets;          /* Network id -> struct tnet. */
    unsigned int ports_seqno;   /* of_bridge_ports_seqno() last read. */
    bool ofports_stale;         /* A tunnel was added: read the ofports
                                 * again even if the IDL did not change. */
    bool dirty;                 /* Some network is dirty or flood_dirty. */
    int fdb_grace_ms;           /* FDB_GRACE_MS; tests shorten it. */

    /* Tunnel ports an earlier run left on br-tun: once tunnel_sync has
     * answered and the first pass over the ports is reported (so the
     * forwarding databases that adopt the ports still wanted are on their
     * way), the rest go at 'strays_at'. */
    bool synced_once;           /* tunnel_sync answered. */
    bool ports_settled;         /* The first pass over the ports is done. */
    long long int strays_at;    /* 0 until both; LLONG_MAX once done. */

    unsigned long long n_fdb_add, n_fdb_remove, n_fdb_update;
    unsigned long long n_refresh_removed;   /* Entries refresh_sweep()
                                             * found no longer listed. */
};

struct tunnels *
tunnels_create(const struct agent_config *cfg, struct vswitch *vs,
               struct of_bridge *tun)
{
    struct tunnels *ts = xzalloc(sizeof *ts);
    ts->cfg = cfg;
    ts->vs = vs;
    ts->tun = tun;
    ts->ft = of_bridge_flows(tun);
    ts->fdb_grace_ms = FDB_GRACE_MS;
    shash_init(&ts->tunnels);
    shash_init(&ts->nets);
    return ts;
}

static void
tunnel_free(struct tunnel *t)
{
    free(t->name);
    free(t->type);
    free(t->remote_ip);
    free(t);
}

static void
tnet_free(struct tnet *n)
{
    struct fdb_mac *m;
    HMAP_FOR_EACH_POP (m, node, &n->ucast) {
        free(m);
    }
    hmap_destroy(&n->ucast);
    struct fdb_remote *r;
    HMAP_FOR_EACH_POP (r, node, &n->remotes) {
        free(r);
    }
    hmap_destroy(&n->remotes);
    struct fdb_arp *a;
    HMAP_FOR_EACH_POP (a, node, &n->arp) {
        free(a);
    }
    hmap_destroy(&n->arp);
    free(n->flood_owner);
    free(n->ucast_owner);
    free(n->arp_owner);
    free(n->net_id);
    free(n->type);
    free(n);
}

void
tunnels_destroy(struct tunnels *ts)
{
    if (!ts) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &ts->tunnels) {
        tunnel_free(node->data);
    }
    shash_destroy(&ts->tunnels);
    SHASH_FOR_EACH_SAFE (node, &ts->nets) {
        tnet_free(node->data);
    }
    shash_destroy(&ts->nets);
    free(ts);
}

/* True if this agent runs tunnels of 'type'. */
static bool
type_enabled(const struct tunnels *ts, const char *type)
{
    for (size_t i = 0; i < ts->cfg->n_tunnel_types; i++) {
        if (!strcmp(ts->cfg->tunnel_type_names[i], type)) {
            return true;
        }
    }
    return false;
}

static bool
is_local_ip(const struct tunnels *ts, const char *ip)
{
    return ts->cfg->local_ip && !strcmp(ts->cfg->local_ip, ip);
}

static struct tunnel *
tunnel_find(const struct tunnels *ts, const char *type, const char *ip)
{
    char *name = tun_port_name(type, ip);
    struct tunnel *t = name ? shash_find_data(&ts->tunnels, name) : NULL;
    free(name);
    return t;
}

/* The tunnel of 'type' to 'ip', created if need be.  NULL if 'ip' is not
 * an address, or of the other IP version than local_ip (the reference
 * refuses those too). */
static struct tunnel *
tunnel_ensure(struct tunnels *ts, const char *type, const char *ip)
{
    char *name = tun_port_name(type, ip);
    if (!name) {
        VLOG_WARN_RL(&rl, "%s tunnel to \"%s\": not an address", type,
                     log_safe(ip));
        return NULL;
    }
    struct tunnel *t = shash_find_data(&ts->tunnels, name);
    if (t) {
        free(name);
        return t;
    }
    const char *local = ts->cfg->local_ip ? ts->cfg->local_ip : "";
    if ((strchr(local, ':') != NULL) != (strchr(ip, ':') != NULL)) {
        VLOG_WARN_RL(&rl, "%s tunnel to %s: local_ip %s is of the other IP "
                     "version; not created", type, log_safe(ip), local);
        free(name);
        return NULL;
    }
    t = xzalloc(sizeof *t);
    t->name = name;
    t->type = xstrdup(type);
    t->remote_ip = xstrdup(ip);
    t->ofport = -1;
    shash_add(&ts->tunnels, name, t);
    /* The port may be on br-tun already, from before a restart: then
     * nothing changes in the database and only a new read of the ofports
     * finds its own. */
    ts->ofports_stale = true;

    struct smap options = SMAP_INITIALIZER(&options);
    tun_iface_options(ts->cfg, type, ip, vswitch_hw_offload(ts->vs),
                      &options);
    vswitch_set_tunnel(ts->vs, name, tun_iface_type(type, local, ip),
                       &options);
    smap_destroy(&options);
    VLOG_INFO("tunnel %s: to %s", name, log_safe(ip));
    return t;
}

static void
tunnel_delete(struct tunnels *ts, struct tunnel *t)
{
    VLOG_INFO("tunnel %s: deleted", t->name);
    char *o = xasprintf("tunport:%s", t->name);
    flow_table_clear_owner(ts->ft, o);
    free(o);
    vswitch_remove_tunnel(ts->vs, t->name);
    shash_find_and_delete(&ts->tunnels, t->name);
    tunnel_free(t);
}

/* A network's remote endpoints: its flood list, and which of its unicast
 * entries each tunnel carries. */

static struct fdb_remote *
remote_find(const struct tnet *n, const char *ip)
{
    struct fdb_remote *r;
    HMAP_FOR_EACH_WITH_HASH (r, node, hash_string(ip, 0), &n->remotes) {
        if (!strcmp(r->ip, ip)) {
            return r;
        }
    }
    return NULL;
}

static struct fdb_remote *
remote_get(struct tnet *n, const char *ip)
{
    struct fdb_remote *r = remote_find(n, ip);
    if (!r) {
        size_t len = strlen(ip);
        r = xzalloc(sizeof *r + len + 1);
        memcpy(r->ip, ip, len + 1);
        ovs_list_init(&r->macs);
        hmap_insert(&n->remotes, &r->node, hash_string(ip, 0));
    }
    return r;
}

/* Frees 'r' if nothing holds it any more. */
static void
remote_gc(struct tnet *n, struct fdb_remote *r)
{
    if (!r->flood && ovs_list_is_empty(&r->macs)) {
        hmap_remove(&n->remotes, &r->node);
        free(r);
    }
}

static bool
flood_contains(const struct tnet *n, const char *ip)
{
    const struct fdb_remote *r = remote_find(n, ip);
    return r && r->flood;
}

/* Puts 'ip' into the flood list of 'n' or takes it out: true if that
 * changed the list. */
static bool
flood_set(struct tnet *n, const char *ip, bool flood)
{
    struct fdb_remote *r = flood ? remote_get(n, ip) : remote_find(n, ip);
    if (!r || r->flood == flood) {
        return false;
    }
    r->flood = flood;
    r->stale_flood = false;
    n->n_flood += flood ? 1 : -1;
    remote_gc(n, r);
    return true;
}

/* With l2population, a tunnel goes once no network floods to it; a
 * tunnel of the full mesh stays until the server deletes its endpoint. */
static void
tunnel_gc(struct tunnels *ts, const char *type, const char *ip)
{
    struct tunnel *t = tunnel_find(ts, type, ip);
    if (!t || t->mesh) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->nets) {
        const struct tnet *n = node->data;
        if (!strcmp(n->type, type) && flood_contains(n, ip)) {
            return;
        }
    }
    tunnel_delete(ts, t);
}

/* A network's unicast entries. */

static struct fdb_mac *
ucast_find(const struct tnet *n, struct eth_addr mac)
{
    struct fdb_mac *m;
    HMAP_FOR_EACH_WITH_HASH (m, node, hash_mac(mac, 0, 0), &n->ucast) {
        if (eth_addr_equals(m->mac, mac)) {
            return m;
        }
    }
    return NULL;
}

static void
ucast_unset(struct tnet *n, struct eth_addr mac)
{
    struct fdb_mac *m = ucast_find(n, mac);
    if (!m) {
        return;
    }
    hmap_remove(&n->ucast, &m->node);
    ovs_list_remove(&m->via_node);
    remote_gc(n, m->remote);
    free(m);
}

static void
ucast_set(struct tnet *n, struct eth_addr mac, const char *remote)
{
    struct fdb_mac *m = ucast_find(n, mac);
    if (m && !strcmp(m->remote->ip, remote)) {
        m->stale = false;
        return;
    }
    ucast_unset(n, mac);
    struct fdb_remote *r = remote_get(n, remote);
    m = xmalloc(sizeof *m);
    m->mac = mac;
    m->remote = r;
    m->stale = false;
    ovs_list_push_back(&r->macs, &m->via_node);
    hmap_insert(&n->ucast, &m->node, hash_mac(mac, 0, 0));
}

/* A network's ARP responder entries. */

static struct fdb_arp *
arp_find(const struct tnet *n, ovs_be32 ip)
{
    struct fdb_arp *a;
    HMAP_FOR_EACH_WITH_HASH (a, node, hash_int((OVS_FORCE uint32_t) ip, 0),
                             &n->arp) {
        if (a->ip == ip) {
            return a;
        }
    }
    return NULL;
}

static void
arp_set(struct tnet *n, ovs_be32 ip, struct eth_addr mac)
{
    struct fdb_arp *a = arp_find(n, ip);
    if (!a) {
        a = xmalloc(sizeof *a);
        a->ip = ip;
        hmap_insert(&n->arp, &a->node, hash_int((OVS_FORCE uint32_t) ip, 0));
    }
    a->mac = mac;
    a->stale = false;
}

static void
arp_unset(struct tnet *n, ovs_be32 ip)
{
    struct fdb_arp *a = arp_find(n, ip);
    if (a) {
        hmap_remove(&n->arp, &a->node);
        free(a);
    }
}

/* Flows. */

static void
write_flood(struct tunnels *ts, struct tnet *n)
{
    const char *o = n->flood_owner;
    flow_table_clear_owner(ts->ft, o);
    int *ofports;
    size_t k = 0;
    if (ts->cfg->l2_population) {
        /* The network's own flood list: work in proportion to it, not to
         * every tunnel of the host. */
        ofports = xcalloc(n->n_flood + 1, sizeof *ofports);
        const struct fdb_remote *r;
        HMAP_FOR_EACH (r, node, &n->remotes) {
            const struct tunnel *t = (r->flood
                                      ? tunnel_find(ts, n->type, r->ip)
                                      : NULL);
            if (t && t->ofport > 0) {
                ofports[k++] = t->ofport;
            }
        }
    } else {
        ofports = xcalloc(shash_count(&ts->tunnels) + 1, sizeof *ofports);
        struct shash_node *node;
        SHASH_FOR_EACH (node, &ts->tunnels) {
            const struct tunnel *t = node->data;
            if (t->ofport > 0 && t->mesh && !strcmp(t->type, n->type)) {
                ofports[k++] = t->ofport;
            }
        }
    }
    tun_flows_flood(ts->ft, o, n->lv, n->segid, ofports, k);
    free(ofports);
}

/* Writes the unicast flow of 'mac' as its entry now is: added again (which
 * replaces it), or removed if it has no entry or its tunnel no ofport. */
static void
write_ucast(struct tunnels *ts, struct tnet *n, struct eth_addr mac)
{
    char s[ETH_ADDR_STRLEN + 1];
    snprintf(s, sizeof s, ETH_ADDR_FMT, ETH_ADDR_ARGS(mac));
    const struct fdb_mac *m = ucast_find(n, mac);
    const struct tunnel *t = m ? tunnel_find(ts, n->type, m->remote->ip)
                               : NULL;
    if (t && t->ofport > 0) {
        tun_flows_unicast(ts->ft, n->ucast_owner, n->lv, n->segid, s,
                          t->ofport);
    } else {
        tun_flows_unicast_remove(ts->ft, n->ucast_owner, n->lv, s);
    }
}

/* Writes the ARP responder flow of 'ip' as its entry now is. */
static void
write_arp(struct tunnels *ts, struct tnet *n, ovs_be32 ip)
{
    char ip_s[INET_ADDRSTRLEN];
    snprintf(ip_s, sizeof ip_s, IP_FMT, IP_ARGS(ip));
    const struct fdb_arp *a = arp_find(n, ip);
    if (a) {
        char mac_s[ETH_ADDR_STRLEN + 1];
        snprintf(mac_s, sizeof mac_s, ETH_ADDR_FMT, ETH_ADDR_ARGS(a->mac));
        tun_flows_arp(ts->ft, n->arp_owner, n->lv, mac_s, ip_s);
    } else {
        tun_flows_arp_remove(ts->ft, n->arp_owner, n->lv, ip_s);
    }
}

static void
write_all(struct tunnels *ts, struct tnet *n)
{
    write_flood(ts, n);
    const struct fdb_mac *m;
    HMAP_FOR_EACH (m, node, &n->ucast) {
        write_ucast(ts, n, m->mac);
    }
    const struct fdb_arp *a;
    HMAP_FOR_EACH (a, node, &n->arp) {
        write_arp(ts, n, a->ip);
    }
    n->dirty = false;
    n->flood_dirty = false;
}

/* The flood flow of 'n' is written again at the end of tunnels_run(). */
static void
mark_flood(struct tunnels *ts, struct tnet *n)
{
    n->flood_dirty = true;
    ts->dirty = true;
}

/* Removes every flow of 'n'. */
static void
clear_all(struct tunnels *ts, struct tnet *n)
{
    flow_table_clear_owner(ts->ft, n->flood_owner);
    flow_table_clear_owner(ts->ft, n->ucast_owner);
    flow_table_clear_owner(ts->ft, n->arp_owner);
}

/* Networks. */

void
tunnels_network_add(struct tunnels *ts, const char *net_id, const char *type,
                    int64_t segid, int lv)
{
    struct tnet *n = shash_find_data(&ts->nets, net_id);
    if (n && n->lv == lv && n->segid == segid) {
        return;
    }
    if (n) {
        tunnels_network_remove(ts, net_id);
    }
    n = xzalloc(sizeof *n);
    n->net_id = xstrdup(net_id);
    n->type = xstrdup(type);
    n->segid = segid;
    n->lv = lv;
    hmap_init(&n->ucast);
    hmap_init(&n->remotes);
    hmap_init(&n->arp);
    n->flood_owner = xasprintf("flood:%d", lv);
    n->ucast_owner = xasprintf("ucast:%d", lv);
    n->arp_owner = xasprintf("arp:%d", lv);
    n->sweep_at = LLONG_MAX;
    n->dirty = true;
    ts->dirty = true;
    shash_add(&ts->nets, net_id, n);
}

void
tunnels_network_remove(struct tunnels *ts, const char *net_id)
{
    struct tnet *n = shash_find_and_delete(&ts->nets, net_id);
    if (!n) {
        return;
    }
    clear_all(ts, n);
    struct sset flood = SSET_INITIALIZER(&flood);
    const struct fdb_remote *r;
    HMAP_FOR_EACH (r, node, &n->remotes) {
        if (r->flood) {
            sset_add(&flood, r->ip);
        }
    }
    char *type = xstrdup(n->type);
    tnet_free(n);
    const char *ip;
    SSET_FOR_EACH (ip, &flood) {
        tunnel_gc(ts, type, ip);
    }
    sset_destroy(&flood);
    free(type);
}

bool
tunnels_network_has_tunnels(const struct tunnels *ts, const char *net_id)
{
    const struct tnet *n = shash_find_data(&ts->nets, net_id);
    if (!n) {
        return false;
    }
    if (ts->cfg->l2_population) {
        return n->n_flood > 0;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->tunnels) {
        const struct tunnel *t = node->data;
        if (t->mesh && !strcmp(t->type, n->type)) {
            return true;
        }
    }
    return false;
}

/* l2population. */

/* One [mac, ip] pair: true if it parses.  Both are written into br-tun's
 * flows as they are, so each must be exactly a MAC and an address: a MAC
 * "fa:16:3e:00:00:01->arp_sha,output:9,..." would add actions to the ARP
 * responder's flow, and an address with a prefix would make it answer
 * for a whole subnet. */
static bool
fdb_pair(const struct json *pair, const char **mac, const char **ip)
{
    if (!pair || pair->type != JSON_ARRAY || json_array(pair)->n < 2
        || json_array(pair)->elems[0]->type != JSON_STRING
        || json_array(pair)->elems[1]->type != JSON_STRING) {
        return false;
    }
    *mac = json_string(json_array(pair)->elems[0]);
    *ip = json_string(json_array(pair)->elems[1]);

    struct eth_addr ea;
    ovs_be32 ip4;
    struct in6_addr ip6;
    return (eth_addr_from_string(*mac, &ea)
            && (ip_parse(*ip, &ip4) || ipv6_parse(*ip, &ip6)));
}

/* The local network an FDB entry is about, or NULL to ignore it. */
static struct tnet *
fdb_network(struct tunnels *ts, const char *net_id, const struct json *v)
{
    struct tnet *n = shash_find_data(&ts->nets, net_id);
    if (!n) {
        return NULL;
    }
    const struct json *seg = json_member(v, "segment_id");
    if (seg && seg->type == JSON_INTEGER && seg->integer != n->segid) {
        return NULL;
    }
    return n;
}

static size_t
fdb_apply(struct tunnels *ts, const struct json *entries, bool add)
{
    size_t n_bad = 0;
    if (!entries || entries->type != JSON_OBJECT) {
        return 1;
    }
    struct shash_node *nn;
    SHASH_FOR_EACH (nn, json_object(entries)) {
        const struct json *v = nn->data;
        const struct json *ports = json_member(v, "ports");
        if (!ports || ports->type != JSON_OBJECT) {
            n_bad++;
            continue;
        }
        struct tnet *n = fdb_network(ts, nn->name, v);
        if (!n) {
            continue;
        }
        /* The network's flood flow is written once, after all its
         * endpoints: it lists every tunnel it floods to. */
        bool flood_changed = false;
        struct sset gone = SSET_INITIALIZER(&gone);
        struct shash_node *pn;
        SHASH_FOR_EACH (pn, json_object(ports)) {
            const char *remote = pn->name;
            const struct json *list = pn->data;
            if (is_local_ip(ts, remote) || !type_enabled(ts, n->type)) {
                continue;
            }
            if (list->type != JSON_ARRAY) {
                n_bad++;
                continue;
            }
            struct tunnel *t = add ? tunnel_ensure(ts, n->type, remote)
                                   : NULL;
            if (add && !t) {
                continue;
            }
            for (size_t i = 0; i < json_array(list)->n; i++) {
                const char *mac, *ip;
                if (!fdb_pair(json_array(list)->elems[i], &mac, &ip)) {
                    n_bad++;
                    continue;
                }
                if (!strcmp(mac, FLOOD_MAC) && !strcmp(ip, FLOOD_IP)) {
                    struct fdb_remote *r = remote_find(n, remote);
                    if (add && r) {
                        r->stale_flood = false;
                    }
                    bool changed = flood_set(n, remote, add);
                    flood_changed |= changed;
                    if (changed && !add) {
                        sset_add(&gone, remote);
                    }
                    continue;
                }
                struct eth_addr ea;
                eth_addr_from_string(mac, &ea);
                if (add) {
                    ucast_set(n, ea, remote);
                } else {
                    ucast_unset(n, ea);
                }
                write_ucast(ts, n, ea);
                ovs_be32 ip4;
                if (ts->cfg->arp_responder && ip_parse(ip, &ip4)) {
                    if (add) {
                        arp_set(n, ip4, ea);
                    } else {
                        arp_unset(n, ip4);
                    }
                    write_arp(ts, n, ip4);
                }
            }
        }
        if (flood_changed) {
            write_flood(ts, n);
        }
        const char *ip;
        SSET_FOR_EACH (ip, &gone) {
            tunnel_gc(ts, n->type, ip);
        }
        sset_destroy(&gone);
    }
    return n_bad;
}

size_t
tunnels_fdb_add(struct tunnels *ts, const struct json *fdb_entries)
{
    ts->n_fdb_add++;
    COVERAGE_INC(tunnels_fdb_add);
    return fdb_apply(ts, fdb_entries, true);
}

size_t
tunnels_fdb_remove(struct tunnels *ts, const struct json *fdb_entries)
{
    ts->n_fdb_remove++;
    COVERAGE_INC(tunnels_fdb_remove);
    return fdb_apply(ts, fdb_entries, false);
}

size_t
tunnels_fdb_update(struct tunnels *ts, const struct json *fdb_entries)
{
    ts->n_fdb_update++;
    COVERAGE_INC(tunnels_fdb_update);
    const struct json *chg = json_member(fdb_entries, "chg_ip");
    if (!chg || chg->type != JSON_OBJECT) {
        return 1;
    }
    if (!ts->cfg->arp_responder) {
        return 0;               /* Only ARP responder entries change. */
    }
    size_t n_bad = 0;
    struct shash_node *nn;
    SHASH_FOR_EACH (nn, json_object(chg)) {
        struct tnet *n = shash_find_data(&ts->nets, nn->name);
        const struct json *agents = nn->data;
        if (!n || agents->type != JSON_OBJECT) {
            n_bad += !n ? 0 : 1;
            continue;
        }
        struct shash_node *an;
        SHASH_FOR_EACH (an, json_object(agents)) {
            if (is_local_ip(ts, an->name)) {
                continue;
            }
            for (int after = 0; after < 2; after++) {
                const struct json *list = json_member(an->data, after
                                                      ? "after" : "before");
                for (size_t i = 0; list && list->type == JSON_ARRAY
                                   && i < json_array(list)->n; i++) {
                    const char *mac, *ip;
                    if (!fdb_pair(json_array(list)->elems[i], &mac, &ip)) {
                        n_bad++;
                        continue;
                    }
                    ovs_be32 ip4;
                    if (!ip_parse(ip, &ip4)) {
                        continue;       /* IPv6: no ARP. */
                    }
                    if (after) {
                        struct eth_addr ea;
                        eth_addr_from_string(mac, &ea);
                        arp_set(n, ip4, ea);
                    } else {
                        arp_unset(n, ip4);
                    }
                    write_arp(ts, n, ip4);
                }
            }
        }
    }
    return n_bad;
}

/* Without l2population: a full mesh. */

static void
mesh_add(struct tunnels *ts, const char *ip, const char *type)
{
    if (ts->cfg->l2_population || is_local_ip(ts, ip)
        || !type_enabled(ts, type)) {
        return;
    }
    struct tunnel *t = tunnel_ensure(ts, type, ip);
    if (t && !t->mesh) {
        t->mesh = true;
        struct shash_node *node;
        SHASH_FOR_EACH (node, &ts->nets) {
            struct tnet *n = node->data;
            if (!strcmp(n->type, type)) {
                mark_flood(ts, n);
            }
        }
    }
}

void
tunnels_sync_result(struct tunnels *ts, const char *type,
                    const struct json *result)
{
    ts->synced_once = true;
    const struct json *list = json_member(result, "tunnels");
    for (size_t i = 0; list && list->type == JSON_ARRAY
                       && i < json_array(list)->n; i++) {
        const char *ip = json_member_string(json_array(list)->elems[i],
                                            "ip_address");
        if (ip) {
            mesh_add(ts, ip, type);
        }
    }
}

void
tunnels_endpoint_update(struct tunnels *ts, const char *ip, const char *type)
{
    mesh_add(ts, ip, type);
}

void
tunnels_endpoint_delete(struct tunnels *ts, const char *ip, const char *type)
{
    struct tunnel *t = tunnel_find(ts, type, ip);
    if (!t) {
        return;
    }
    t->mesh = false;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->nets) {
        struct tnet *n = node->data;
        flood_set(n, ip, false);
        if (!strcmp(n->type, type)) {
            mark_flood(ts, n);
        }
    }
    tunnel_delete(ts, t);
}

/* 't' has a new ofport (or none): the flows that output to it are written
 * again, and only those: the flood flows of the networks that flood to it
 * and the unicast flows of the MACs behind it.  A new tunnel costs work in
 * proportion to what goes through it, not to the whole forwarding
 * database. */
static void
tunnel_rewrite(struct tunnels *ts, const struct tunnel *t)
{
    struct shash_node *nn;
    SHASH_FOR_EACH (nn, &ts->nets) {
        struct tnet *n = nn->data;
        if (strcmp(n->type, t->type)) {
            continue;
        }
        const struct fdb_remote *r = remote_find(n, t->remote_ip);
        if (!ts->cfg->l2_population || (r && r->flood)) {
            mark_flood(ts, n);
        }
        if (r) {
            const struct fdb_mac *m;
            LIST_FOR_EACH (m, via_node, &r->macs) {
                write_ucast(ts, n, m->mac);
            }
        }
    }
}

/* Deletes the tunnel ports of br-tun that an earlier run made and that no
 * tunnel of this run names: the peers behind them went away while no
 * agent ran, so no forwarding entry names them any more and, without
 * this, they would stay for good.  Called once this run's flows alone are
 * on br-tun (no flow uses such a port then) and the forwarding database
 * has had time to name the ports still wanted, which this run adopts. */
static void
sweep_strays(struct tunnels *ts)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, vswitch_idl(ts->vs)) {
        if (strcmp(br->name, ts->cfg->tunnel_bridge)) {
            continue;
        }
        for (size_t i = 0; i < br->n_ports; i++) {
            const struct ovsrec_port *port = br->ports[i];
            for (size_t j = 0; j < port->n_interfaces; j++) {
                const struct ovsrec_interface *iface = port->interfaces[j];
                const char *dash = strchr(iface->name, '-');
                if (!dash || shash_find(&ts->tunnels, iface->name)) {
                    continue;
                }
                /* Only names and types this agent gives its tunnels. */
                char *type = xmemdup0(iface->name, dash - iface->name);
                if (type_enabled(ts, type)
                    && (!strcmp(iface->type, type)
                        || (!strcmp(type, "gre")
                            && !strcmp(iface->type, "ip6gre")))) {
                    VLOG_INFO("tunnel %s: left by an earlier run, named by "
                              "no forwarding entry; deleted", iface->name);
                    vswitch_remove_tunnel(ts->vs, iface->name);
                }
                free(type);
            }
        }
    }
}

/* Forwarding-database refresh. */

/* Notes the entries 'n' holds, for refresh_sweep(). */
static void
refresh_start(struct tnet *n)
{
    struct fdb_remote *r;
    HMAP_FOR_EACH (r, node, &n->remotes) {
        r->stale_flood = r->flood;
    }
    struct fdb_mac *m;
    HMAP_FOR_EACH (m, node, &n->ucast) {
        m->stale = true;
    }
    struct fdb_arp *a;
    HMAP_FOR_EACH (a, node, &n->arp) {
        a->stale = true;
    }
    n->refreshing = true;
    n->sweep_at = LLONG_MAX;
}

void
tunnels_refresh_begin(struct tunnels *ts)
{
    if (!ts->cfg->l2_population) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->nets) {
        refresh_start(node->data);
    }
}

void
tunnels_refresh_network(struct tunnels *ts, const char *net_id)
{
    struct tnet *n = shash_find_data(&ts->nets, net_id);
    if (ts->cfg->l2_population && n) {
        refresh_start(n);
    }
}

bool
tunnels_network_refreshing(const struct tunnels *ts, const char *net_id)
{
    const struct tnet *n = shash_find_data(&ts->nets, net_id);
    return n && n->refreshing && n->sweep_at == LLONG_MAX;
}

bool
tunnels_refresh_pending(const struct tunnels *ts)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->nets) {
        const struct tnet *n = node->data;
        if (n->refreshing && n->sweep_at == LLONG_MAX) {
            return true;
        }
    }
    return false;
}

void
tunnels_refresh_answered(struct tunnels *ts, const char *net_id)
{
    struct tnet *n = shash_find_data(&ts->nets, net_id);
    if (n && n->refreshing && n->sweep_at == LLONG_MAX) {
        n->sweep_at = time_msec() + ts->fdb_grace_ms;
    }
}

void
tunnels_set_fdb_grace(struct tunnels *ts, int ms)
{
    ts->fdb_grace_ms = ms;
}

/* Removes the entries of 'n' that were there when its refresh began and
 * that the database the server sent since does not name: their removal
 * was cast while this agent could not hear it. */
static void
refresh_sweep(struct tunnels *ts, struct tnet *n)
{
    size_t n_flood = 0, n_ucast = 0, n_arp = 0;
    struct sset gone = SSET_INITIALIZER(&gone);
    struct fdb_remote *r;
    HMAP_FOR_EACH_SAFE (r, node, &n->remotes) {
        if (r->stale_flood) {
            sset_add(&gone, r->ip);
            flood_set(n, r->ip, false);     /* May free 'r'. */
            n_flood++;
        }
    }
    struct fdb_mac *m;
    HMAP_FOR_EACH_SAFE (m, node, &n->ucast) {
        if (m->stale) {
            struct eth_addr mac = m->mac;
            ucast_unset(n, mac);
            write_ucast(ts, n, mac);
            n_ucast++;
        }
    }
    struct fdb_arp *a;
    HMAP_FOR_EACH_SAFE (a, node, &n->arp) {
        if (a->stale) {
            ovs_be32 ip = a->ip;
            arp_unset(n, ip);
            write_arp(ts, n, ip);
            n_arp++;
        }
    }
    if (n_flood) {
        write_flood(ts, n);
    }
    const char *key;
    SSET_FOR_EACH (key, &gone) {
        tunnel_gc(ts, n->type, key);
    }
    sset_destroy(&gone);
    if (n_flood || n_ucast || n_arp) {
        VLOG_INFO("network %s: the server's forwarding database no longer "
                  "lists %"PRIuSIZE" flood, %"PRIuSIZE" unicast and %"PRIuSIZE
                  " ARP entries held here; removed",
                  log_safe(n->net_id), n_flood, n_ucast, n_arp);
        ts->n_refresh_removed += n_flood + n_ucast + n_arp;
        COVERAGE_ADD(tunnels_refresh_removed, n_flood + n_ucast + n_arp);
    }
    n->refreshing = false;
    n->sweep_at = LLONG_MAX;
}

void
tunnels_ports_settled(struct tunnels *ts)
{
    ts->ports_settled = true;
}

void
tunnels_run(struct tunnels *ts)
{
    long long int now = time_msec();
    struct shash_node *nn;
    SHASH_FOR_EACH (nn, &ts->nets) {
        struct tnet *n = nn->data;
        if (n->refreshing && now >= n->sweep_at) {
            refresh_sweep(ts, n);
        }
    }

    if (!ts->strays_at && ts->synced_once && ts->ports_settled) {
        ts->strays_at = now + ts->fdb_grace_ms;
    }
    if (ts->strays_at && ts->strays_at != LLONG_MAX && now >= ts->strays_at
        && vswitch_is_synced(ts->vs)
        && flow_table_installed_seqno(ts->ft)) {
        ts->strays_at = LLONG_MAX;
        sweep_strays(ts);
        /* Every tunnel port of an earlier run is now adopted (its options
         * merged) or on its way out: the replica need not hold them. */
        vswitch_drop_tunnel_interfaces(ts->vs);
    }
    /* The tunnels' ofports, as br-tun's OpenFlow session learns them: the
     * database replica does not keep tunnel Interface rows for long. */
    unsigned int seqno = of_bridge_ports_seqno(ts->tun);
    if (seqno != ts->ports_seqno || ts->ofports_stale) {
        ts->ports_seqno = seqno;
        ts->ofports_stale = false;
        struct shash_node *node;
        SHASH_FOR_EACH (node, &ts->tunnels) {
            struct tunnel *t = node->data;
            int ofport = of_bridge_get_ofport(ts->tun, t->name);
            if (ofport == t->ofport) {
                continue;
            }
            t->ofport = ofport;
            char *o = xasprintf("tunport:%s", t->name);
            flow_table_clear_owner(ts->ft, o);
            tun_flows_port(ts->ft, o, t->type, ofport);
            free(o);
            tunnel_rewrite(ts, t);
        }
    }
    if (ts->dirty) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, &ts->nets) {
            struct tnet *n = node->data;
            if (n->dirty) {
                write_all(ts, n);
            } else if (n->flood_dirty) {
                n->flood_dirty = false;
                write_flood(ts, n);
            }
        }
        ts->dirty = false;
    }
}

void
tunnels_wait(const struct tunnels *ts)
{
    struct shash_node *nn;
    SHASH_FOR_EACH (nn, &ts->nets) {
        const struct tnet *n = nn->data;
        if (n->refreshing && n->sweep_at != LLONG_MAX) {
            poll_timer_wait_until(n->sweep_at);
        }
    }
    if (!ts->strays_at && ts->synced_once && ts->ports_settled) {
        poll_immediate_wake();
    } else if (ts->strays_at && ts->strays_at != LLONG_MAX) {
        /* Also waits for the IDL and the barrier: both wake the loop. */
        poll_timer_wait_until(ts->strays_at);
    }
}

size_t
tunnels_count(const struct tunnels *ts)
{
    return shash_count(&ts->tunnels);
}

void
tunnels_get_memory_usage(const struct tunnels *ts, struct simap *usage)
{
    size_t n_macs = 0, n_arps = 0, n_remotes = 0;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ts->nets) {
        const struct tnet *n = node->data;
        n_macs += hmap_count(&n->ucast);
        n_arps += hmap_count(&n->arp);
        n_remotes += n->n_flood;
    }
    simap_increase(usage, "tunnels", shash_count(&ts->tunnels));
    simap_increase(usage, "tunnel-networks", shash_count(&ts->nets));
    simap_increase(usage, "fdb-flood-entries", n_remotes);
    simap_increase(usage, "fdb-macs", n_macs);
    simap_increase(usage, "fdb-arp-entries", n_arps);
}

void
tunnels_format(const struct tunnels *ts, struct ds *s)
{
    ds_put_format(s, "tunnels: %"PRIuSIZE" (fdb add %llu, remove %llu, "
                  "update %llu, removed by refresh %llu)\n",
                  shash_count(&ts->tunnels), ts->n_fdb_add, ts->n_fdb_remove,
                  ts->n_fdb_update, ts->n_refresh_removed);
    const struct shash_node **nodes = shash_sort(&ts->tunnels);
    for (size_t i = 0; i < shash_count(&ts->tunnels); i++) {
        const struct tunnel *t = nodes[i]->data;
        ds_put_format(s, "  %s to %s ofport=%d%s\n", t->name,
                      log_safe(t->remote_ip), t->ofport,
                      t->mesh ? " mesh" : "");
    }
    free(nodes);
    nodes = shash_sort(&ts->nets);
    for (size_t i = 0; i < shash_count(&ts->nets); i++) {
        const struct tnet *n = nodes[i]->data;
        ds_put_format(s, "  network %s %s %"PRId64" vlan=%d: flood %"PRIuSIZE
                      ", unicast %"PRIuSIZE", arp %"PRIuSIZE"\n",
                      log_safe(n->net_id),
                      n->type, n->segid, n->lv, n->n_flood,
                      hmap_count(&n->ucast), hmap_count(&n->arp));
        if (n->refreshing) {
            ds_put_cstr(s, n->sweep_at == LLONG_MAX
                           ? "    refreshing: waiting for the server\n"
                           : "    refreshing: the server answered\n");
        }
    }
    free(nodes);
}

/* ports' tunnel-network hooks (ports.h). */

static void
hook_bound(void *ts, const char *net_id, const char *type, int64_t segid,
           int lv, bool first_pass)
{
    tunnels_network_add(ts, net_id, type, segid, lv);
    if (first_pass) {
        /* Its first report after a start asks for its database, whatever
         * casts arrived before. */
        tunnels_refresh_network(ts, net_id);
    }
}

static void
hook_released(void *ts, const char *net_id)
{
    tunnels_network_remove(ts, net_id);
}

static const char *
hook_wants_fdb(void *ts, const char *net_id)
{
    return (!tunnels_network_has_tunnels(ts, net_id) ? "no tunnel yet"
            : tunnels_network_refreshing(ts, net_id)
            ? "its refresh not answered yet"
            : NULL);
}

static bool
hook_fdb_pending(void *ts, const char *net_id)
{
    return (net_id ? tunnels_network_refreshing(ts, net_id)
                   : tunnels_refresh_pending(ts));
}

static void
hook_fdb_answered(void *ts, const char *net_id)
{
    tunnels_refresh_answered(ts, net_id);
}

void
tunnels_network_hooks(struct tunnels *ts, struct ports_network_hooks *hooks)
{
    *hooks = (struct ports_network_hooks) {
        .aux = ts,
        .bound = hook_bound,
        .released = hook_released,
        .wants_fdb = hook_wants_fdb,
        .fdb_pending = hook_fdb_pending,
        .fdb_answered = hook_fdb_answered,
    };
}
