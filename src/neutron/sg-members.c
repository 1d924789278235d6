/*
 * sg-members: member addresses of remote security groups.  See
 * sg-members.h.
 */
#include <config.h>
#include "neutron/sg-members.h"

#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "neutron/ovo.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "sset.h"
#include "util.h"

/* A port kept because it is in at least one watched group. */
struct member_port {
    char *id;
    long long int revision;
    struct sset groups;         /* All its security_group_ids. */
    char **ips, **macs;         /* Its member addresses. */
    size_t n;
};

struct sg_members {
    struct shash watched;       /* Group id -> struct sset of port ids. */
    struct shash ports;         /* Port id -> struct member_port. */
    struct sset deleted;        /* Ids of ports deleted on the server. */
};

struct sg_members *
sg_members_create(void)
{
    struct sg_members *m = xzalloc(sizeof *m);
    shash_init(&m->watched);
    shash_init(&m->ports);
    sset_init(&m->deleted);
    return m;
}

static void
port_free(struct member_port *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->ips[i]);
        free(p->macs[i]);
    }
    free(p->ips);
    free(p->macs);
    sset_destroy(&p->groups);
    free(p->id);
    free(p);
}

/* Removes port 'p' from the member sets, adding the watched groups it
 * was in to 'changed', and frees it. */
static void
port_drop(struct sg_members *m, struct member_port *p, struct sset *changed)
{
    const char *sg;
    SSET_FOR_EACH (sg, &p->groups) {
        struct sset *ports = shash_find_data(&m->watched, sg);
        if (ports && sset_find_and_delete(ports, p->id)) {
            sset_add(changed, sg);
        }
    }
    shash_find_and_delete(&m->ports, p->id);
    port_free(p);
}

void
sg_members_clear(struct sg_members *m)
{
    struct sset ignored = SSET_INITIALIZER(&ignored);
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &m->ports) {
        port_drop(m, node->data, &ignored);
    }
    sset_destroy(&ignored);
    sset_clear(&m->deleted);
}

void
sg_members_destroy(struct sg_members *m)
{
    if (!m) {
        return;
    }
    sg_members_clear(m);
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &m->watched) {
        struct sset *ports = node->data;
        sset_destroy(ports);
        free(ports);
    }
    shash_destroy(&m->watched);
    shash_destroy(&m->ports);
    sset_destroy(&m->deleted);
    free(m);
}

void
sg_members_watch(struct sg_members *m, const char *sg_id)
{
    if (shash_find(&m->watched, sg_id)) {
        return;
    }
    struct sset *ports = xmalloc(sizeof *ports);
    sset_init(ports);
    shash_add(&m->watched, sg_id, ports);
    /* Ports already kept for another group may be in this one too. */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &m->ports) {
        struct member_port *p = node->data;
        if (sset_contains(&p->groups, sg_id)) {
            sset_add(ports, p->id);
        }
    }
}

/* True if 'p' is in some watched group. */
static bool
port_wanted(const struct sg_members *m, const struct sset *groups)
{
    const char *sg;
    SSET_FOR_EACH (sg, groups) {
        if (shash_find(&m->watched, sg)) {
            return true;
        }
    }
    return false;
}

void
sg_members_unwatch(struct sg_members *m, const char *sg_id)
{
    struct sset *ports = shash_find_and_delete(&m->watched, sg_id);
    if (!ports) {
        return;
    }
    const char *id;
    SSET_FOR_EACH (id, ports) {
        struct member_port *p = shash_find_data(&m->ports, id);
        if (p && !port_wanted(m, &p->groups)) {
            shash_find_and_delete(&m->ports, p->id);
            port_free(p);
        }
    }
    sset_destroy(ports);
    free(ports);
}

bool
sg_members_is_watched(const struct sg_members *m, const char *sg_id)
{
    return shash_find(&m->watched, sg_id) != NULL;
}

size_t
sg_members_n_ports(const struct sg_members *m)
{
    return shash_count(&m->ports);
}

/* Decoding. */

/* Adds 'ip' with 'mac' to 'p'.  The firewall writes the MAC of a member
 * into its flows as it is (the address it normalizes first), so a 'mac'
 * that is not exactly a MAC, which could add to those flows, counts as
 * none. */
static void
port_add_address(struct member_port *p, const char *ip, const char *mac)
{
    struct eth_addr ea;
    if (mac && !eth_addr_from_string(mac, &ea)) {
        mac = NULL;
    }
    p->ips = xrealloc(p->ips, (p->n + 1) * sizeof *p->ips);
    p->macs = xrealloc(p->macs, (p->n + 1) * sizeof *p->macs);
    p->ips[p->n] = xstrdup(ip);
    p->macs[p->n] = xstrdup(mac ? mac : "");
    p->n++;
}

/* A member_port from Port object data 'd', or NULL if malformed. */
static struct member_port *
port_from_ovo(const struct json *d)
{
    const char *id = json_member_string(d, "id");
    if (!id) {
        return NULL;
    }
    struct member_port *p = xzalloc(sizeof *p);
    p->id = xstrdup(id);
    p->revision = ovo_member_int(d, "revision_number", -1);
    sset_init(&p->groups);
    const struct json *sgs = json_member(d, "security_group_ids");
    for (size_t i = 0; i < ovo_array_n(sgs); i++) {
        const struct json *sg = ovo_array_at(sgs, i);
        if (sg->type == JSON_STRING) {
            sset_add(&p->groups, json_string(sg));
        }
    }
    const char *mac = json_member_string(d, "mac_address");
    const struct json *ips = json_member(d, "fixed_ips");
    for (size_t i = 0; i < ovo_array_n(ips); i++) {
        const char *ip = json_member_string(
            ovo_data(ovo_array_at(ips, i), "IPAllocation"), "ip_address");
        if (ip) {
            port_add_address(p, ip, mac);
        }
    }
    const struct json *pairs = json_member(d, "allowed_address_pairs");
    for (size_t i = 0; i < ovo_array_n(pairs); i++) {
        const struct json *a = ovo_data(ovo_array_at(pairs, i),
                                        "AllowedAddressPair");
        const char *ip = json_member_string(a, "ip_address");
        if (ip) {
            port_add_address(p, ip, json_member_string(a, "mac_address"));
        }
    }
    return p;
}

static bool
same_addresses(const struct member_port *a, const struct member_port *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (strcmp(a->ips[i], b->ips[i]) || strcmp(a->macs[i], b->macs[i])) {
            return false;
        }
    }
    return true;
}

/* Puts 'p' (ownership passes) in place of 'old' (may be NULL), adding to
 * 'changed' the watched groups whose members changed. */
static void
port_replace(struct sg_members *m, struct member_port *old,
             struct member_port *p, struct sset *changed)
{
    bool same = old && same_addresses(old, p);
    if (old) {
        const char *sg;
        SSET_FOR_EACH (sg, &old->groups) {
            struct sset *ports = shash_find_data(&m->watched, sg);
            if (ports && (!same || !sset_contains(&p->groups, sg))) {
                sset_find_and_delete(ports, old->id);
                sset_add(changed, sg);
            }
        }
        shash_find_and_delete(&m->ports, old->id);
        port_free(old);
    }
    if (!port_wanted(m, &p->groups)) {
        port_free(p);
        return;
    }
    const char *sg;
    SSET_FOR_EACH (sg, &p->groups) {
        struct sset *ports = shash_find_data(&m->watched, sg);
        if (ports && sset_add(ports, p->id)) {
            sset_add(changed, sg);
        }
    }
    shash_add(&m->ports, p->id, p);
}

size_t
sg_members_put_ports(struct sg_members *m, const struct json *list,
                     bool deleted, sg_members_changed_cb *cb, void *aux)
{
    struct sset changed = SSET_INITIALIZER(&changed);
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(list); i++) {
        const struct json *d = ovo_data(ovo_array_at(list, i), "Port");
        const char *id = json_member_string(d, "id");
        if (!id) {
            n_bad++;
            continue;
        }
        struct member_port *old = shash_find_data(&m->ports, id);
        if (deleted) {
            /* A tombstone only for a port kept here: the server pushes the
             * deletion of every port of the cloud. */
            if (old) {
                sset_add(&m->deleted, id);
                port_drop(m, old, &changed);
            }
            continue;
        }
        if (sset_contains(&m->deleted, id)) {
            continue;
        }
        struct member_port *p = port_from_ovo(d);
        if (old && p->revision >= 0 && p->revision < old->revision) {
            port_free(p);
            continue;
        }
        port_replace(m, old, p, &changed);
    }
    if (cb) {
        const char *sg;
        SSET_FOR_EACH (sg, &changed) {
            cb(aux, sg);
        }
    }
    sset_destroy(&changed);
    return n_bad;
}

/* Reading. */

static int
compare_members(const void *a_, const void *b_)
{
    const struct sg_member *a = a_, *b = b_;
    int c = strcmp(a->ip, b->ip);
    return c ? c : strcmp(a->mac, b->mac);
}

size_t
sg_members_get(const struct sg_members *m, const char *sg_id, bool ipv6,
               struct sg_member **membersp)
{
    const struct sset *ports = shash_find_data(&m->watched, sg_id);
    size_t n = 0, allocated = 0;
    struct sg_member *members = NULL;
    *membersp = NULL;
    if (!ports) {
        return 0;
    }
    const char *id;
    SSET_FOR_EACH (id, ports) {
        const struct member_port *p = shash_find_data(&m->ports, id);
        for (size_t i = 0; p && i < p->n; i++) {
            if ((strchr(p->ips[i], ':') != NULL) != ipv6) {
                continue;
            }
            if (n >= allocated) {
                members = x2nrealloc(members, &allocated, sizeof *members);
            }
            members[n].ip = p->ips[i];
            members[n].mac = p->macs[i];
            n++;
        }
    }
    if (!n) {
        return 0;
    }
    qsort(members, n, sizeof *members, compare_members);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!k || compare_members(&members[k - 1], &members[i])) {
            members[k++] = members[i];
        }
    }
    *membersp = members;
    return k;
}
