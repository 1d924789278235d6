/*
 * firewall: the openvswitch (conntrack) firewall of the ports of br-int,
 * fed by the server's security groups.
 *
 * The "openvswitch" firewall driver (fw-driver.h).  Layer: Neutron logic.
 * ports hands it each wired port (its ofport, local VLAN and details) and
 * asks, before reporting a port up, which desired-flows seqno covers the
 * port's filter; agent hands it the pushes it follows.  The firewall
 * keeps the server's security groups (sg-cache) and the members of the
 * remote groups its rules name (sg-members), pulls what it lacks with
 * bulk_pull and follows the server's pushes, and writes flows through
 * fw-flows into br-int's flow table:
 *
 *   - "fw:<port id>": a port's base and rule flows;
 *   - "fwm:<local VLAN>:<address>": the remote-group members' side of the
 *     conjunctions on one network, per member address.
 *
 * A change to a group's rules rewrites the flows of the ports in it; a
 * change in a remote group's membership rewrites only the member
 * addresses whose conjunctions changed.  The flow table then sends only
 * the flow_mods that differ, in atomic bundles, so a rule change never
 * leaves a window in which a flow is missing (make-before-break).
 */
#include <config.h>

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/conj-ids.h"
#include "agent/fw-driver.h"
#include "agent/fw-flows.h"
#include "agent/of-tables.h"
#include "coverage.h"
#include "log-safe.h"
#include "neutron/address-groups.h"
#include "neutron/device-details.h"
#include "neutron/plugin-api.h"
#include "neutron/port-cache.h"
#include "neutron/sg-cache.h"
#include "neutron/sg-members.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/list.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "oslo/rpc.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "sset.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(firewall);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same. */
COVERAGE_DEFINE(firewall_port_write);
COVERAGE_DEFINE(firewall_member_write);
COVERAGE_DEFINE(firewall_member_removal);
COVERAGE_DEFINE(firewall_pull);

#define RETRY_MS 1000

/* Objects asked for in one bulk_pull. */
#define PULL_BATCH 100

/* The firewall tables whose conj_id matches seed the id allocator. */
static const uint8_t conj_tables[] = { OFT_OVS_FIREWALL_TABLES };

/* One conjunction a port's rules use: the remote group's members on the
 * port's network complete it. */
struct fw_use {
    bool ingress;
    bool ipv6;
    bool ag;                    /* 'remote' is an address group. */
    char *remote;               /* Remote group id. */
    uint32_t conj_id;           /* Of the "established" flow (even). */
};

struct fw_port_state {
    char *id;
    int ofport;
    int lv;
    int egress_direct;
    struct device_details dd;
    bool filtered;              /* Port security on, not a network: port. */

    bool dirty;                 /* Its flows must be written again. */
    uint64_t seqno;             /* Desired seqno covering them, or 0. */
    struct fw_use *uses;
    size_t n_uses;
};

/* The member addresses of one network whose flows are written. */
struct fw_lv {
    int lv;
    bool dirty;
    struct shash addrs;         /* Normalized address -> signature. */
};

struct firewall {
    struct fw_driver up;
    const struct agent_config *cfg;
    struct of_bridge *integ;
    struct flow_table *ft;

    struct sg_cache *groups;
    struct sg_members *members;
    struct address_groups *ags;
    struct conj_ids *conj;      /* NULL until br-int's flows are read. */

    struct shash ports;         /* Port id -> struct fw_port_state. */
    struct shash lvs;           /* "<lv>" -> struct fw_lv. */

    struct sset used_groups;    /* Groups or remotes of the ports here. */
    struct sset pulled_groups;  /* Asked for once, found or not. */
    struct sset pulled_members; /* Remote groups whose ports were pulled. */
    struct sset pulled_ags;     /* Address groups asked for once. */
    bool pull_busy;
    bool pull_needed;           /* Something may be missing: look. */
    struct ovs_list replays;    /* Of struct fw_replay: the pushes that
                                 * came while the pull was in flight. */
    long long int retry_at;
    bool gc_needed;             /* A group may have lost its last user. */

    /* Counters, for "ovsagent/show" and the benchmark. */
    unsigned long long n_port_writes;
    unsigned long long n_member_writes;    /* Per address and network. */
    unsigned long long n_member_removals;
    unsigned long long n_pulls;
};

static void replays_apply(struct firewall *, bool apply);

static struct firewall *
firewall_create(const struct agent_config *cfg, struct of_bridge *integ)
{
    struct firewall *fw = xzalloc(sizeof *fw);
    fw->cfg = cfg;
    fw->integ = integ;
    fw->ft = of_bridge_flows(integ);
    fw->groups = sg_cache_create();
    fw->members = sg_members_create();
    fw->ags = address_groups_create();
    shash_init(&fw->ports);
    shash_init(&fw->lvs);
    sset_init(&fw->used_groups);
    sset_init(&fw->pulled_groups);
    sset_init(&fw->pulled_members);
    sset_init(&fw->pulled_ags);
    ovs_list_init(&fw->replays);
    return fw;
}

static char *
port_owner(const struct fw_port_state *p)
{
    return xasprintf("fw:%s", p->id);
}

static char *
member_owner(int lv, const char *addr)
{
    return xasprintf("fwm:%d:%s", lv, addr);
}

static void
uses_clear(struct fw_port_state *p)
{
    for (size_t i = 0; i < p->n_uses; i++) {
        free(p->uses[i].remote);
    }
    free(p->uses);
    p->uses = NULL;
    p->n_uses = 0;
}

static void
port_state_free(struct fw_port_state *p)
{
    uses_clear(p);
    device_details_destroy(&p->dd);
    free(p->id);
    free(p);
}

static struct fw_lv *
lv_get(struct firewall *fw, int lv)
{
    char key[16];
    snprintf(key, sizeof key, "%d", lv);
    struct fw_lv *l = shash_find_data(&fw->lvs, key);
    if (!l) {
        l = xzalloc(sizeof *l);
        l->lv = lv;
        shash_init(&l->addrs);
        shash_add(&fw->lvs, key, l);
    }
    return l;
}

static void
firewall_destroy(struct firewall *fw)
{
    if (!fw) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &fw->ports) {
        port_state_free(node->data);
    }
    shash_destroy(&fw->ports);
    SHASH_FOR_EACH_SAFE (node, &fw->lvs) {
        struct fw_lv *l = node->data;
        shash_destroy_free_data(&l->addrs);
        free(l);
    }
    shash_destroy(&fw->lvs);
    sg_cache_destroy(fw->groups);
    sg_members_destroy(fw->members);
    conj_ids_destroy(fw->conj);
    sset_destroy(&fw->used_groups);
    sset_destroy(&fw->pulled_groups);
    sset_destroy(&fw->pulled_members);
    sset_destroy(&fw->pulled_ags);
    address_groups_destroy(fw->ags);
    replays_apply(fw, false);
    free(fw);
}

/* Ports. */

static bool
is_trusted(const struct device_details *dd)
{
    return dd->device_owner && !strncmp(dd->device_owner, "network:", 8);
}

static void
firewall_set_port(struct firewall *fw, const char *id, int ofport, int lv,
                  const struct device_details *dd, int egress_direct)
{
    struct fw_port_state *p = shash_find_data(&fw->ports, id);
    if (!p) {
        p = xzalloc(sizeof *p);
        p->id = xstrdup(id);
        shash_add(&fw->ports, id, p);
    } else {
        if (p->lv != lv) {
            lv_get(fw, p->lv)->dirty = true;
        }
        device_details_destroy(&p->dd);
    }
    p->ofport = ofport;
    p->lv = lv;
    p->egress_direct = egress_direct;
    device_details_clone(&p->dd, dd);
    p->filtered = dd->port_security_enabled && !is_trusted(dd);
    p->dirty = true;
    p->seqno = 0;
    lv_get(fw, lv)->dirty = true;
    fw->gc_needed = true;
    fw->pull_needed = true;
}

static void
firewall_remove_port(struct firewall *fw, const char *id)
{
    struct fw_port_state *p = shash_find_and_delete(&fw->ports, id);
    if (!p) {
        return;
    }
    char *o = port_owner(p);
    flow_table_clear_owner(fw->ft, o);
    free(o);
    lv_get(fw, p->lv)->dirty = true;
    fw->gc_needed = true;
    port_state_free(p);
}

static uint64_t
firewall_port_seqno(const struct firewall *fw, const char *id)
{
    const struct fw_port_state *p = shash_find_data(&fw->ports, id);
    return p && !p->dirty ? p->seqno : 0;
}

/* True if every group of 'p', and every remote group its rules name, is
 * known: the port's flows can be written. */
static bool
port_data_ready(struct firewall *fw, const struct fw_port_state *p)
{
    if (!p->filtered) {
        return true;
    }
    for (size_t i = 0; i < p->dd.n_security_groups; i++) {
        const char *sg = p->dd.security_groups[i];
        if (!sg_cache_has_group(fw->groups, sg)
            && !sset_contains(&fw->pulled_groups, sg)) {
            return false;
        }
        size_t n;
        const struct sg_rule *const *rules = sg_cache_rules(fw->groups, sg,
                                                            &n);
        for (size_t j = 0; j < n; j++) {
            const char *remote = rules[j]->remote_group_id;
            const char *ag = rules[j]->remote_address_group_id;
            if (remote && !sset_contains(&fw->pulled_members, remote)) {
                return false;
            }
            if (!remote && ag && !address_groups_has(fw->ags, ag)
                && !sset_contains(&fw->pulled_ags, ag)) {
                return false;
            }
        }
    }
    return true;
}

/* Writes the flows of 'p' and records the conjunctions it uses.  Returns
 * true if those changed (the member flows of its network must follow). */
static bool
port_write(struct firewall *fw, struct fw_port_state *p)
{
    char *o = port_owner(p);
    flow_table_clear_owner(fw->ft, o);

    const struct device_details *dd = &p->dd;
    struct fw_port fp = {
        .ofport = p->ofport,
        .lv = p->lv,
        .network_type = dd->network_type,
        .segmentation_id = dd->segmentation_id,
        .mac = dd->mac,
        .fixed_ips = dd->fixed_ips,
        .n_fixed_ips = dd->n_fixed_ips,
        .pairs = dd->pairs,
        .n_pairs = dd->n_pairs,
        .egress_direct = p->egress_direct,
    };

    struct fw_use *old = p->uses;
    size_t n_old = p->n_uses;
    p->uses = NULL;
    p->n_uses = 0;

    if (!p->filtered) {
        fw_flows_port_unfiltered(fw->ft, o, &fp);
    } else {
        fw_flows_port_base(fw->ft, o, &fp, fw->cfg->permitted_ethertypes.names,
                           fw->cfg->permitted_ethertypes.n);

        /* The rules of the port's groups, in the order of its groups and
         * of each group's rules. */
        struct fw_rule *rules = NULL;
        size_t n_rules = 0, allocated = 0;
        for (size_t i = 0; i < dd->n_security_groups; i++) {
            const char *sg = dd->security_groups[i];
            size_t n;
            const struct sg_rule *const *rs = sg_cache_rules(fw->groups, sg,
                                                             &n);
            for (size_t j = 0; j < n; j++) {
                const struct sg_rule *r = rs[j];
                if (r->protocol == -2) {
                    static struct vlog_rate_limit rl
                        = VLOG_RATE_LIMIT_INIT(5, 20);
                    VLOG_WARN_RL(&rl, "port %s: rule %s of group %s has a "
                                 "protocol the firewall does not know; "
                                 "skipped", log_safe(p->id),
                                 log_safe(r->id), log_safe(sg));
                    continue;
                }
                if (n_rules >= allocated) {
                    rules = x2nrealloc(rules, &allocated, sizeof *rules);
                }
                uint32_t conj_id = 0;
                const char *remote = (r->remote_group_id
                                      ? r->remote_group_id
                                      : r->remote_address_group_id);
                if (remote) {
                    conj_id = (conj_ids_get(fw->conj, sg, remote, r->ingress,
                                            r->ipv6)
                               + 2 * fw_rule_priority_offset(r, true));
                    p->uses = xrealloc(p->uses,
                                       (p->n_uses + 1) * sizeof *p->uses);
                    p->uses[p->n_uses++] = (struct fw_use) {
                        r->ingress, r->ipv6, !r->remote_group_id,
                        xstrdup(remote), conj_id };
                }
                rules[n_rules++] = (struct fw_rule) { r, conj_id };
            }
        }
        fw_flows_port_rules(fw->ft, o, &fp, rules, n_rules);
        free(rules);
    }
    free(o);
    p->dirty = false;
    fw->n_port_writes++;
    COVERAGE_INC(firewall_port_write);

    bool changed = n_old != p->n_uses;
    for (size_t i = 0; !changed && i < n_old; i++) {
        changed = (old[i].ingress != p->uses[i].ingress
                   || old[i].ag != p->uses[i].ag
                   || old[i].ipv6 != p->uses[i].ipv6
                   || old[i].conj_id != p->uses[i].conj_id
                   || strcmp(old[i].remote, p->uses[i].remote));
    }
    for (size_t i = 0; i < n_old; i++) {
        free(old[i].remote);
    }
    free(old);
    return changed;
}

/* Members. */

/* The conjunction ids of one member address on a network. */
struct addr_ids {
    uint32_t *in, *eg;
    size_t n_in, n_eg;
    struct sset macs;           /* For an "any" address: its MACs. */
};

static void
ids_add(uint32_t **ids, size_t *n, uint32_t id)
{
    for (size_t i = 0; i < *n; i++) {
        if ((*ids)[i] == id) {
            return;
        }
    }
    *ids = xrealloc(*ids, (*n + 1) * sizeof **ids);
    (*ids)[(*n)++] = id;
}

static int
u32_cmp(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_, b = *(const uint32_t *) b_;
    return a < b ? -1 : a > b;
}

static char *
addr_signature(struct addr_ids *a)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    /* An empty list is NULL, which qsort() may not be given even for 0
     * elements. */
    if (a->n_in) {
        qsort(a->in, a->n_in, sizeof *a->in, u32_cmp);
    }
    if (a->n_eg) {
        qsort(a->eg, a->n_eg, sizeof *a->eg, u32_cmp);
    }
    ds_put_cstr(&s, "in");
    for (size_t i = 0; i < a->n_in; i++) {
        ds_put_format(&s, " %"PRIu32, a->in[i]);
    }
    ds_put_cstr(&s, " eg");
    for (size_t i = 0; i < a->n_eg; i++) {
        ds_put_format(&s, " %"PRIu32, a->eg[i]);
    }
    const char *mac;
    SSET_FOR_EACH (mac, &a->macs) {
        ds_put_format(&s, " mac %s", mac);
    }
    return ds_steal_cstr(&s);
}

/* Writes the member flows of network 'l': for each address of each remote
 * group its ports' rules name, the conjunctions the address completes.
 * Only addresses whose conjunctions changed are written again. */
static void
lv_write(struct firewall *fw, struct fw_lv *l)
{
    struct shash now = SHASH_INITIALIZER(&now);   /* addr -> addr_ids. */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        const struct fw_port_state *p = node->data;
        if (p->lv != l->lv || !p->filtered) {
            continue;
        }
        for (size_t i = 0; i < p->n_uses; i++) {
            const struct fw_use *u = &p->uses[i];
            struct sg_member *m;
            size_t n;
            if (u->ag) {
                /* An address group's CIDRs come without MACs. */
                const char **addrs;
                n = address_groups_get(fw->ags, u->remote, u->ipv6, &addrs);
                m = xcalloc(n ? n : 1, sizeof *m);
                for (size_t j = 0; j < n; j++) {
                    m[j].ip = addrs[j];
                }
                free(addrs);
            } else {
                n = sg_members_get(fw->members, u->remote, u->ipv6, &m);
            }
            for (size_t j = 0; j < n; j++) {
                bool v6;
                char *addr = fw_normalize_cidr(m[j].ip, &v6);
                if (!addr || v6 != u->ipv6) {
                    free(addr);
                    continue;
                }
                bool any = !strcmp(addr, "0.0.0.0/0") || !strcmp(addr, "::/0");
                struct addr_ids *a = shash_find_data(&now, addr);
                if (!a) {
                    a = xzalloc(sizeof *a);
                    sset_init(&a->macs);
                    shash_add_nocopy(&now, addr, a);
                } else {
                    free(addr);
                }
                if (u->ingress) {
                    ids_add(&a->in, &a->n_in, u->conj_id);
                } else {
                    ids_add(&a->eg, &a->n_eg, u->conj_id);
                }
                if (m[j].mac && any) {
                    sset_add(&a->macs, m[j].mac);
                }
            }
            free(m);
        }
    }

    /* Addresses gone from the network. */
    SHASH_FOR_EACH_SAFE (node, &l->addrs) {
        if (!shash_find(&now, node->name)) {
            char *o = member_owner(l->lv, node->name);
            flow_table_clear_owner(fw->ft, o);
            free(o);
            free(node->data);
            shash_delete(&l->addrs, node);
            fw->n_member_removals++;
            COVERAGE_INC(firewall_member_removal);
        }
    }
    /* New addresses, and addresses whose conjunctions changed. */
    SHASH_FOR_EACH (node, &now) {
        struct addr_ids *a = node->data;
        char *sig = addr_signature(a);
        struct shash_node *old = shash_find(&l->addrs, node->name);
        if (!old || strcmp(old->data, sig)) {
            char *o = member_owner(l->lv, node->name);
            flow_table_clear_owner(fw->ft, o);
            for (int in = 1; in >= 0; in--) {
                const uint32_t *ids = in ? a->in : a->eg;
                size_t n = in ? a->n_in : a->n_eg;
                if (sset_is_empty(&a->macs)) {
                    fw_flows_member(fw->ft, o, l->lv, in, node->name, NULL,
                                    ids, n);
                } else {
                    const char *mac;
                    SSET_FOR_EACH (mac, &a->macs) {
                        fw_flows_member(fw->ft, o, l->lv, in, node->name,
                                        mac, ids, n);
                    }
                }
            }
            free(o);
            if (old) {
                free(old->data);
                old->data = sig;
            } else {
                shash_add_nocopy(&l->addrs, xstrdup(node->name), sig);
            }
            fw->n_member_writes++;
            COVERAGE_INC(firewall_member_write);
        } else {
            free(sig);
        }
        free(a->in);
        free(a->eg);
        sset_destroy(&a->macs);
        free(a);
    }
    shash_destroy(&now);
    l->dirty = false;
}

/* Marks dirty the networks whose ports' rules name remote group 'sg'. */
static void
members_changed(void *fw_, const char *sg)
{
    struct firewall *fw = fw_;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        const struct fw_port_state *p = node->data;
        for (size_t i = 0; i < p->n_uses; i++) {
            if (!strcmp(p->uses[i].remote, sg)) {
                lv_get(fw, p->lv)->dirty = true;
                break;
            }
        }
    }
}

/* Marks dirty the networks whose ports' rules name address group 'ag'. */
static void
ag_changed(void *fw_, const char *ag)
{
    members_changed(fw_, ag);
}

/* Marks dirty the ports in group 'sg', and on deletion those whose rules
 * name it as their remote. */
static void
group_changed(void *fw_, const char *sg, bool deleted)
{
    struct firewall *fw = fw_;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        struct fw_port_state *p = node->data;
        bool hit = false;
        for (size_t i = 0; !hit && i < p->dd.n_security_groups; i++) {
            hit = !strcmp(p->dd.security_groups[i], sg);
        }
        for (size_t i = 0; !hit && deleted && i < p->n_uses; i++) {
            hit = !strcmp(p->uses[i].remote, sg);
        }
        if (hit) {
            p->dirty = true;
            p->seqno = 0;
        }
    }
    fw->gc_needed = true;
    fw->pull_needed = true;
}

/* What the filtered ports here use: their security groups, and the
 * remote groups and address groups their groups' rules name. */
static void
firewall_collect(const struct firewall *fw, struct sset *groups,
                 struct sset *remotes, struct sset *ags)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        const struct fw_port_state *p = node->data;
        if (!p->filtered) {
            continue;
        }
        for (size_t i = 0; i < p->dd.n_security_groups; i++) {
            const char *sg = p->dd.security_groups[i];
            sset_add(groups, sg);
            size_t n;
            const struct sg_rule *const *rules = sg_cache_rules(fw->groups,
                                                                sg, &n);
            for (size_t j = 0; j < n; j++) {
                if (rules[j]->remote_group_id) {
                    sset_add(remotes, rules[j]->remote_group_id);
                } else if (rules[j]->remote_address_group_id) {
                    sset_add(ags, rules[j]->remote_address_group_id);
                }
            }
        }
    }
}

/* Forgets the conjunction ids and the members of groups no port here uses
 * any more, as its group or as the remote of one of its rules. */
static void
firewall_gc(struct firewall *fw)
{
    struct sset used = SSET_INITIALIZER(&used);
    struct sset remotes = SSET_INITIALIZER(&remotes);
    struct sset ags = SSET_INITIALIZER(&ags);
    firewall_collect(fw, &used, &remotes, &ags);
    const char *name;
    SSET_FOR_EACH (name, &remotes) {
        sset_add(&used, name);
    }
    SSET_FOR_EACH (name, &ags) {
        sset_add(&used, name);
    }
    sset_destroy(&ags);

    const char *sg;
    SSET_FOR_EACH_SAFE (sg, &fw->pulled_members) {
        if (!sset_contains(&remotes, sg)) {
            sg_members_unwatch(fw->members, sg);
            sset_delete(&fw->pulled_members,
                        SSET_NODE_FROM_NAME(sg));
        }
    }
    SSET_FOR_EACH (sg, &fw->used_groups) {
        if (!sset_contains(&used, sg) && fw->conj) {
            conj_ids_delete_sg(fw->conj, sg);
        }
    }
    SSET_FOR_EACH_SAFE (sg, &fw->pulled_groups) {
        if (!sset_contains(&used, sg)) {
            sset_delete(&fw->pulled_groups, SSET_NODE_FROM_NAME(sg));
        }
    }
    SSET_FOR_EACH_SAFE (sg, &fw->pulled_ags) {
        if (!sset_contains(&used, sg)) {
            sset_delete(&fw->pulled_ags, SSET_NODE_FROM_NAME(sg));
        }
    }
    sset_swap(&fw->used_groups, &used);
    sset_destroy(&used);
    sset_destroy(&remotes);
    fw->gc_needed = false;
}

/* Pulls. */

enum fw_pull_kind {
    PULL_GROUPS,                /* SecurityGroup objects, with rules. */
    PULL_MEMBERS,               /* The Ports of remote groups. */
    PULL_ADDRESS_GROUPS,        /* AddressGroup objects. */
};

static const char *
pull_kind_name(enum fw_pull_kind k)
{
    return (k == PULL_GROUPS ? "security groups"
            : k == PULL_MEMBERS ? "remote group members" : "address groups");
}

struct fw_pull {
    struct firewall *fw;
    enum fw_pull_kind kind;
    struct sset ids;
};

/* A push that came while a pull was in flight.  The pull's answer may have
 * been read on the server before the change the push carries: applied on
 * top of it, it would undo the change (a rule deleted meanwhile would come
 * back, and stay).  So the push is applied again once the answer is in;
 * the caches ignore what they hold already, and revisions keep an older
 * object from replacing a newer one. */
enum fw_replay_kind {
    REPLAY_GROUPS,
    REPLAY_RULES,
    REPLAY_PORTS,
    REPLAY_ADDRESS_GROUPS,
};

struct fw_replay {
    struct ovs_list node;       /* In struct firewall's 'replays'. */
    enum fw_replay_kind kind;
    struct json *list;          /* The push's resource_list, a reference. */
    bool deleted;
};

/* Applies the pushes of 'fw->replays' if 'apply', then forgets them. */
static void
replays_apply(struct firewall *fw, bool apply)
{
    struct fw_replay *r;
    LIST_FOR_EACH_POP (r, node, &fw->replays) {
        if (apply) {
            switch (r->kind) {
            case REPLAY_GROUPS:
                sg_cache_put_groups(fw->groups, r->list, r->deleted,
                                    group_changed, fw);
                break;
            case REPLAY_RULES:
                sg_cache_put_rules(fw->groups, r->list, r->deleted,
                                   group_changed, fw);
                break;
            case REPLAY_PORTS:
                sg_members_put_ports(fw->members, r->list, r->deleted,
                                     members_changed, fw);
                break;
            case REPLAY_ADDRESS_GROUPS:
                address_groups_put(fw->ags, r->list, r->deleted, ag_changed,
                                   fw);
                break;
            }
        }
        json_destroy(r->list);
        free(r);
    }
}

/* Keeps a push for replays_apply() if a pull is in flight. */
static void
replay_add(struct firewall *fw, enum fw_replay_kind kind,
           const struct json *list, bool deleted)
{
    if (fw->pull_busy && list) {
        struct fw_replay *r = xmalloc(sizeof *r);
        r->kind = kind;
        r->list = json_clone(list);
        r->deleted = deleted;
        ovs_list_push_back(&fw->replays, &r->node);
    }
}

static void
pull_done(void *pl_, const char *error, const struct json *result)
{
    struct fw_pull *pl = pl_;
    struct firewall *fw = pl->fw;
    fw->pull_busy = false;
    if (error) {
        VLOG_WARN("pulling %s failed: %s", pull_kind_name(pl->kind),
                  log_safe(error));
        fw->retry_at = time_msec() + RETRY_MS;
        replays_apply(fw, false);
    } else {
        size_t n_bad;
        const char *id;
        if (pl->kind == PULL_ADDRESS_GROUPS) {
            n_bad = address_groups_put(fw->ags, result, false, ag_changed,
                                       fw);
            SSET_FOR_EACH (id, &pl->ids) {
                sset_add(&fw->pulled_ags, id);
                ag_changed(fw, id);
            }
        } else if (pl->kind == PULL_MEMBERS) {
            n_bad = sg_members_put_ports(fw->members, result, false,
                                         members_changed, fw);
            SSET_FOR_EACH (id, &pl->ids) {
                if (sg_members_is_watched(fw->members, id)) {
                    sset_add(&fw->pulled_members, id);
                    members_changed(fw, id);
                }
            }
        } else {
            n_bad = sg_cache_put_groups(fw->groups, result, false,
                                        group_changed, fw);
            SSET_FOR_EACH (id, &pl->ids) {
                sset_add(&fw->pulled_groups, id);
                group_changed(fw, id, false);
            }
        }
        if (n_bad) {
            VLOG_WARN("bulk_pull: %"PRIuSIZE" malformed objects ignored",
                      n_bad);
        }
        replays_apply(fw, true);
    }
    sset_destroy(&pl->ids);
    free(pl);
    fw->pull_needed = true;
    poll_immediate_wake();
}

/* Asks for the groups of the ports that are not known yet, then for the
 * members of the remote groups their rules name.  One pull at a time. */
static void
firewall_pull(struct firewall *fw, struct rpc *rpc)
{
    struct sset used_groups = SSET_INITIALIZER(&used_groups);
    struct sset used_remotes = SSET_INITIALIZER(&used_remotes);
    struct sset used_ags = SSET_INITIALIZER(&used_ags);
    firewall_collect(fw, &used_groups, &used_remotes, &used_ags);

    /* What is missing, a batch of each kind at most. */
    struct sset groups = SSET_INITIALIZER(&groups);
    struct sset remotes = SSET_INITIALIZER(&remotes);
    struct sset ags = SSET_INITIALIZER(&ags);
    const char *id;
    SSET_FOR_EACH (id, &used_groups) {
        if (!sg_cache_has_group(fw->groups, id)
            && !sset_contains(&fw->pulled_groups, id)
            && sset_count(&groups) < PULL_BATCH) {
            sset_add(&groups, id);
        }
    }
    SSET_FOR_EACH (id, &used_remotes) {
        if (!sset_contains(&fw->pulled_members, id)
            && sset_count(&remotes) < PULL_BATCH) {
            sset_add(&remotes, id);
        }
    }
    SSET_FOR_EACH (id, &used_ags) {
        if (!address_groups_has(fw->ags, id)
            && !sset_contains(&fw->pulled_ags, id)
            && sset_count(&ags) < PULL_BATCH) {
            sset_add(&ags, id);
        }
    }
    sset_destroy(&used_groups);
    sset_destroy(&used_remotes);
    sset_destroy(&used_ags);

    struct fw_pull *pl = NULL;
    if (!sset_is_empty(&groups)) {
        pl = xzalloc(sizeof *pl);
        pl->fw = fw;
        pl->kind = PULL_GROUPS;
        sset_clone(&pl->ids, &groups);
        const char **ids = sset_array(&groups);
        plugin_bulk_pull(rpc, "SecurityGroup", SG_CACHE_GROUP_VERSION, "id",
                         ids, sset_count(&groups), pull_done, pl);
        free(ids);
    } else if (!sset_is_empty(&remotes)) {
        pl = xzalloc(sizeof *pl);
        pl->fw = fw;
        pl->kind = PULL_MEMBERS;
        sset_clone(&pl->ids, &remotes);
        const char *r;
        SSET_FOR_EACH (r, &remotes) {
            sg_members_watch(fw->members, r);
        }
        const char **ids = sset_array(&remotes);
        plugin_bulk_pull(rpc, "Port", PORT_CACHE_PORT_VERSION,
                         "security_group_ids", ids, sset_count(&remotes),
                         pull_done, pl);
        free(ids);
    } else if (!sset_is_empty(&ags)) {
        pl = xzalloc(sizeof *pl);
        pl->fw = fw;
        pl->kind = PULL_ADDRESS_GROUPS;
        sset_clone(&pl->ids, &ags);
        const char **ids = sset_array(&ags);
        plugin_bulk_pull(rpc, "AddressGroup", ADDRESS_GROUPS_VERSION, "id",
                         ids, sset_count(&ags), pull_done, pl);
        free(ids);
    }
    if (pl) {
        fw->pull_busy = true;
        fw->n_pulls++;
        COVERAGE_INC(firewall_pull);
    } else {
        fw->pull_needed = false;
    }
    sset_destroy(&groups);
    sset_destroy(&remotes);
    sset_destroy(&ags);
}

static void
firewall_run(struct firewall *fw, struct rpc *rpc)
{
    if (!fw->conj) {
        if (!of_bridge_flows_read(fw->integ)) {
            return;
        }
        /* Conjunction ids go on above those of a previous run, as the
         * reference's do, so that its flows stay valid until replaced. */
        uint32_t max = flow_table_installed_max_conj_id(
            fw->ft, conj_tables, ARRAY_SIZE(conj_tables));
        fw->conj = conj_ids_create(max);
    }
    if (rpc && rpc_is_ready(rpc) && fw->pull_needed && !fw->pull_busy
        && time_msec() >= fw->retry_at) {
        firewall_pull(fw, rpc);
    }

    bool wrote = false;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        struct fw_port_state *p = node->data;
        if (p->dirty && port_data_ready(fw, p)) {
            if (port_write(fw, p)) {
                lv_get(fw, p->lv)->dirty = true;
            }
            p->seqno = UINT64_MAX;      /* Set below. */
            wrote = true;
        }
    }
    SHASH_FOR_EACH_SAFE (node, &fw->lvs) {
        struct fw_lv *l = node->data;
        if (l->dirty) {
            lv_write(fw, l);
            if (shash_is_empty(&l->addrs)) {
                /* No member flows left: the network's last filtered port
                 * has gone (the reference leaves them behind). */
                shash_destroy(&l->addrs);
                shash_delete(&fw->lvs, node);
                free(l);
            }
        }
    }
    if (wrote) {
        uint64_t seqno = flow_table_desired_seqno(fw->ft);
        SHASH_FOR_EACH (node, &fw->ports) {
            struct fw_port_state *p = node->data;
            if (p->seqno == UINT64_MAX) {
                p->seqno = seqno;
            }
        }
    }
    if (fw->gc_needed) {
        firewall_gc(fw);
    }
}

static void
firewall_wait(struct firewall *fw)
{
    if (fw->retry_at > time_msec()) {
        poll_timer_wait_until(fw->retry_at);
    }
}

static size_t
firewall_push_groups(struct firewall *fw, const struct json *list,
                     bool deleted)
{
    replay_add(fw, REPLAY_GROUPS, list, deleted);
    return sg_cache_put_groups(fw->groups, list, deleted, group_changed, fw);
}

static size_t
firewall_push_rules(struct firewall *fw, const struct json *list,
                    bool deleted)
{
    replay_add(fw, REPLAY_RULES, list, deleted);
    return sg_cache_put_rules(fw->groups, list, deleted, group_changed, fw);
}

static size_t
firewall_push_address_groups(struct firewall *fw, const struct json *list,
                             bool deleted)
{
    replay_add(fw, REPLAY_ADDRESS_GROUPS, list, deleted);
    return address_groups_put(fw->ags, list, deleted, ag_changed, fw);
}

static size_t
firewall_push_ports(struct firewall *fw, const struct json *list,
                    bool deleted)
{
    replay_add(fw, REPLAY_PORTS, list, deleted);
    return sg_members_put_ports(fw->members, list, deleted, members_changed,
                                fw);
}

static void
firewall_resync(struct firewall *fw)
{
    sg_cache_clear(fw->groups);
    sg_members_clear(fw->members);
    sset_clear(&fw->pulled_groups);
    sset_clear(&fw->pulled_members);
    address_groups_clear(fw->ags);
    sset_clear(&fw->pulled_ags);
    fw->pull_needed = true;
    /* Flows stay as they are until the data is back; then every port is
     * written again and only what changed meanwhile is sent. */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->ports) {
        struct fw_port_state *p = node->data;
        p->dirty = true;
    }
}

static void
firewall_format(const struct firewall *fw, struct ds *s)
{
    size_t n_addrs = 0;
    struct shash_node *node;
    SHASH_FOR_EACH (node, &fw->lvs) {
        n_addrs += shash_count(&((struct fw_lv *) node->data)->addrs);
    }
    ds_put_format(s, "firewall: openvswitch, %"PRIuSIZE" ports, %"PRIuSIZE
                  " security groups (%"PRIuSIZE" rules), %"PRIuSIZE
                  " member ports, %"PRIuSIZE" address groups, %"PRIuSIZE
                  " member addresses on %"PRIuSIZE" networks, %"PRIuSIZE
                  " conjunction keys\n",
                  shash_count(&fw->ports), sg_cache_n_groups(fw->groups),
                  sg_cache_n_rules(fw->groups),
                  sg_members_n_ports(fw->members),
                  address_groups_count(fw->ags), n_addrs,
                  shash_count(&fw->lvs),
                  fw->conj ? conj_ids_count(fw->conj) : 0);
    ds_put_format(s, "firewall counters: port writes %llu, member address "
                  "writes %llu, member address removals %llu, pulls %llu\n",
                  fw->n_port_writes, fw->n_member_writes,
                  fw->n_member_removals, fw->n_pulls);
}

/* The driver's interface (fw-driver.h). */

static struct firewall *
firewall_cast(const struct fw_driver *fw)
{
    return CONTAINER_OF(fw, struct firewall, up);
}

static struct fw_driver *
ovs_create(const struct agent_config *cfg, struct of_bridge *integ)
{
    return &firewall_create(cfg, integ)->up;
}

static void
ovs_destroy(struct fw_driver *fw)
{
    firewall_destroy(firewall_cast(fw));
}

static void
ovs_set_port(struct fw_driver *fw, const struct fw_driver_port *port)
{
    firewall_set_port(firewall_cast(fw), port->id, port->ofport, port->lv,
                      port->dd, port->egress_direct);
}

static void
ovs_remove_port(struct fw_driver *fw, const char *id)
{
    firewall_remove_port(firewall_cast(fw), id);
}

static uint64_t
ovs_port_seqno(const struct fw_driver *fw, const char *id)
{
    return firewall_port_seqno(firewall_cast(fw), id);
}

static size_t
ovs_push(struct fw_driver *fw_, const char *type, const struct json *list,
         bool deleted)
{
    struct firewall *fw = firewall_cast(fw_);
    return (!strcmp(type, "SecurityGroup")
            ? firewall_push_groups(fw, list, deleted)
            : !strcmp(type, "SecurityGroupRule")
            ? firewall_push_rules(fw, list, deleted)
            : !strcmp(type, "AddressGroup")
            ? firewall_push_address_groups(fw, list, deleted)
            : !strcmp(type, "Port")
            ? firewall_push_ports(fw, list, deleted)
            : 0);
}

static void
ovs_resync(struct fw_driver *fw)
{
    firewall_resync(firewall_cast(fw));
}

static void
ovs_run(struct fw_driver *fw, struct rpc *rpc)
{
    firewall_run(firewall_cast(fw), rpc);
}

static void
ovs_wait(struct fw_driver *fw)
{
    firewall_wait(firewall_cast(fw));
}

static void
ovs_format(const struct fw_driver *fw, struct ds *s)
{
    firewall_format(firewall_cast(fw), s);
}

/* Security groups, their rules and address groups, and every Port of the
 * cloud: the members of the remote groups the rules name. */
static const struct fw_resource ovs_resources[] = {
    { "SecurityGroup", SG_CACHE_GROUP_VERSION },
    { "SecurityGroupRule", SG_CACHE_RULE_VERSION },
    { "AddressGroup", ADDRESS_GROUPS_VERSION },
    { "Port", PORT_CACHE_PORT_VERSION },
    { NULL, NULL },
};

const struct fw_driver_class fw_driver_openvswitch = {
    .name = "openvswitch",
    .ovs_hybrid_plug = false,
    .provides_arp_spoofing_protection = true,
    .openflow_based = true,
    .resources = ovs_resources,
    .create = ovs_create,
    .destroy = ovs_destroy,
    .set_port = ovs_set_port,
    .remove_port = ovs_remove_port,
    .port_seqno = ovs_port_seqno,
    .push = ovs_push,
    .resync = ovs_resync,
    .run = ovs_run,
    .wait = ovs_wait,
    .format = ovs_format,
};
