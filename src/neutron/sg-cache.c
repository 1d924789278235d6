/*
 * sg-cache: security groups and their rules.  See sg-cache.h.
 */
#include <config.h>
#include "neutron/sg-cache.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "json-util.h"
#include "neutron/ovo.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "util.h"

/* Protocol names as neutron-lib's IP_PROTOCOL_MAP has them (21.0). */
static const struct {
    const char *name;
    int number;
} protocols[] = {
    {"ah", 51}, {"dccp", 33}, {"egp", 8}, {"esp", 50}, {"gre", 47},
    {"hopopt", 0}, {"icmp", 1}, {"igmp", 2}, {"ip", 0}, {"ipip", 4},
    {"ipv6-encap", 41}, {"ipv6-frag", 44}, {"ipv6-icmp", 58},
    {"icmpv6", 58}, {"ipv6-nonxt", 59}, {"ipv6-opts", 60},
    {"ipv6-route", 43}, {"ospf", 89}, {"pgm", 113}, {"rsvp", 46},
    {"sctp", 132}, {"tcp", 6}, {"udp", 17}, {"udplite", 136},
    {"vrrp", 112},
};

int
sg_protocol_number(const struct json *protocol, bool ipv6)
{
    if (!protocol || protocol->type == JSON_NULL) {
        return -1;
    }
    if (protocol->type == JSON_INTEGER) {
        return protocol->integer >= 0 && protocol->integer <= 255
               ? protocol->integer : -2;
    }
    if (protocol->type != JSON_STRING) {
        return -2;
    }
    const char *s = json_string(protocol);
    if (s[0] >= '0' && s[0] <= '9') {
        char *end;
        long n = strtol(s, &end, 10);
        return !*end && n <= 255 ? n : -2;
    }
    if (ipv6 && !strcmp(s, "icmp")) {
        return 58;
    }
    for (size_t i = 0; i < ARRAY_SIZE(protocols); i++) {
        if (!strcmp(s, protocols[i].name)) {
            return protocols[i].number;
        }
    }
    return -2;
}

void
sg_rule_destroy(struct sg_rule *r)
{
    if (r) {
        free(r->id);
        free(r->sg_id);
        free(r->remote_prefix);
        free(r->remote_group_id);
        free(r->remote_address_group_id);
        memset(r, 0, sizeof *r);
    }
}

char *
sg_rule_from_ovo(const struct json *primitive, struct sg_rule *r)
{
    memset(r, 0, sizeof *r);
    const struct json *d = ovo_data(primitive, "SecurityGroupRule");
    const char *id = json_member_string(d, "id");
    if (!id) {
        return xstrdup("not a SecurityGroupRule object with an id");
    }
    const char *direction = json_member_string(d, "direction");
    const char *ethertype = json_member_string(d, "ethertype");
    r->ingress = direction && !strcmp(direction, "ingress");
    r->ipv6 = ethertype && !strcmp(ethertype, "IPv6");
    r->protocol = sg_protocol_number(json_member(d, "protocol"), r->ipv6);
    if (r->protocol == -2) {
        return xasprintf("security group rule %s: unknown protocol", id);
    }
    r->id = xstrdup(id);
    r->sg_id = nullable_xstrdup(json_member_string(d, "security_group_id"));
    r->port_min = ovo_member_int(d, "port_range_min", -1);
    r->port_max = ovo_member_int(d, "port_range_max", -1);
    r->remote_prefix = nullable_xstrdup(
        json_member_string(d, "remote_ip_prefix"));
    r->remote_group_id = nullable_xstrdup(
        json_member_string(d, "remote_group_id"));
    r->remote_address_group_id = nullable_xstrdup(
        json_member_string(d, "remote_address_group_id"));
    r->revision = ovo_member_int(d, "revision_number", -1);
    return NULL;
}

static bool
rule_equal(const struct sg_rule *a, const struct sg_rule *b)
{
    return (nullable_string_is_equal(a->id, b->id)
            && nullable_string_is_equal(a->sg_id, b->sg_id)
            && a->ingress == b->ingress && a->ipv6 == b->ipv6
            && a->protocol == b->protocol && a->port_min == b->port_min
            && a->port_max == b->port_max
            && nullable_string_is_equal(a->remote_prefix, b->remote_prefix)
            && nullable_string_is_equal(a->remote_group_id,
                                        b->remote_group_id)
            && nullable_string_is_equal(a->remote_address_group_id,
                                        b->remote_address_group_id));
}

/* The cache. */

struct sg_group {
    struct hmap_node node;      /* In 'groups', by hash of 'id'. */
    char *id;
    int64_t revision;
    bool deleted;               /* A tombstone: later updates are stale. */
    struct shash rules;         /* Rule id -> struct sg_rule *. */
    const struct sg_rule **sorted;  /* Cache of sg_cache_rules(). */
    bool sorted_valid;
};

struct sg_cache {
    struct hmap groups;
    struct shash rule_groups;   /* Rule id -> struct sg_group *. */
};

struct sg_cache *
sg_cache_create(void)
{
    struct sg_cache *c = xzalloc(sizeof *c);
    hmap_init(&c->groups);
    shash_init(&c->rule_groups);
    return c;
}

static void
group_clear_rules(struct sg_cache *c, struct sg_group *g)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &g->rules) {
        struct sg_rule *r = node->data;
        if (shash_find_data(&c->rule_groups, r->id) == g) {
            shash_find_and_delete(&c->rule_groups, r->id);
        }
        sg_rule_destroy(r);
        free(r);
        shash_delete(&g->rules, node);
    }
    free(g->sorted);
    g->sorted = NULL;
    g->sorted_valid = false;
}

void
sg_cache_clear(struct sg_cache *c)
{
    struct sg_group *g;
    HMAP_FOR_EACH_POP (g, node, &c->groups) {
        group_clear_rules(c, g);
        shash_destroy(&g->rules);
        free(g->id);
        free(g);
    }
}

void
sg_cache_destroy(struct sg_cache *c)
{
    if (c) {
        sg_cache_clear(c);
        hmap_destroy(&c->groups);
        shash_destroy(&c->rule_groups);
        free(c);
    }
}

static struct sg_group *
group_find(const struct sg_cache *c, const char *id)
{
    struct sg_group *g;
    HMAP_FOR_EACH_WITH_HASH (g, node, hash_string(id, 0), &c->groups) {
        if (!strcmp(g->id, id)) {
            return g;
        }
    }
    return NULL;
}

static struct sg_group *
group_get(struct sg_cache *c, const char *id)
{
    struct sg_group *g = group_find(c, id);
    if (!g) {
        g = xzalloc(sizeof *g);
        g->id = xstrdup(id);
        g->revision = -1;
        shash_init(&g->rules);
        hmap_insert(&c->groups, &g->node, hash_string(id, 0));
    }
    return g;
}

/* Puts rule 'r' (ownership passes) into 'g', replacing a rule of the same
 * id.  Returns true if the group's rules changed. */
static bool
group_put_rule(struct sg_cache *c, struct sg_group *g, struct sg_rule *r)
{
    struct sg_rule *old = shash_find_data(&g->rules, r->id);
    if (old && (rule_equal(old, r) || r->revision < old->revision)) {
        sg_rule_destroy(r);
        free(r);
        return false;
    }
    if (old) {
        shash_find_and_delete(&g->rules, r->id);
        sg_rule_destroy(old);
        free(old);
    }
    shash_replace(&c->rule_groups, r->id, g);
    shash_add(&g->rules, r->id, r);
    g->sorted_valid = false;
    return true;
}

/* Removes rule 'rule_id' from 'g'.  'rule_id' may be the key of the rule's
 * node in 'g->rules' (the caller iterating over them), which the removal
 * frees: it is used only before that.  The index entry goes only if it
 * names 'g', since a hostile push may have put a rule of the same id in
 * another group since. */
static bool
group_del_rule(struct sg_cache *c, struct sg_group *g, const char *rule_id)
{
    struct shash_node *node = shash_find(&g->rules, rule_id);
    if (!node) {
        return false;
    }
    struct sg_rule *old = node->data;
    if (shash_find_data(&c->rule_groups, old->id) == g) {
        shash_find_and_delete(&c->rule_groups, old->id);
    }
    shash_delete(&g->rules, node);
    sg_rule_destroy(old);
    free(old);
    g->sorted_valid = false;
    return true;
}

size_t
sg_cache_put_groups(struct sg_cache *c, const struct json *list,
                    bool deleted, sg_cache_changed_cb *cb, void *aux)
{
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(list); i++) {
        const struct json *d = ovo_data(ovo_array_at(list, i),
                                        "SecurityGroup");
        const char *id = json_member_string(d, "id");
        if (!id) {
            n_bad++;
            continue;
        }
        struct sg_group *g = group_find(c, id);
        if (deleted) {
            if (g && !g->deleted) {
                group_clear_rules(c, g);
                g->deleted = true;
                if (cb) {
                    cb(aux, id, true);
                }
            }
            continue;
        }
        int64_t revision = ovo_member_int(d, "revision_number", -1);
        if (g && (g->deleted || revision < g->revision)) {
            continue;
        }
        g = group_get(c, id);
        g->revision = revision;

        /* The object's rules replace the group's. */
        struct shash seen = SHASH_INITIALIZER(&seen);
        bool changed = false;
        const struct json *rules = json_member(d, "rules");
        for (size_t j = 0; j < ovo_array_n(rules); j++) {
            struct sg_rule *r = xmalloc(sizeof *r);
            char *error = sg_rule_from_ovo(ovo_array_at(rules, j), r);
            if (error) {
                free(error);
                sg_rule_destroy(r);
                free(r);
                n_bad++;
                continue;
            }
            shash_replace(&seen, r->id, NULL);
            changed |= group_put_rule(c, g, r);
        }
        struct shash_node *node;
        SHASH_FOR_EACH_SAFE (node, &g->rules) {
            if (!shash_find(&seen, node->name)) {
                changed |= group_del_rule(c, g, node->name);
            }
        }
        shash_destroy(&seen);
        if (changed && cb) {
            cb(aux, id, false);
        }
    }
    return n_bad;
}

size_t
sg_cache_put_rules(struct sg_cache *c, const struct json *list, bool deleted,
                   sg_cache_changed_cb *cb, void *aux)
{
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(list); i++) {
        const struct json *primitive = ovo_array_at(list, i);
        if (deleted) {
            /* A delete stub may carry only the rule's id. */
            const char *id = json_member_string(
                ovo_data(primitive, "SecurityGroupRule"), "id");
            if (!id) {
                n_bad++;
                continue;
            }
            struct sg_group *g = shash_find_data(&c->rule_groups, id);
            if (g && group_del_rule(c, g, id) && cb) {
                cb(aux, g->id, false);
            }
            continue;
        }
        struct sg_rule *r = xmalloc(sizeof *r);
        char *error = sg_rule_from_ovo(primitive, r);
        struct sg_group *g = (!error && r->sg_id
                              ? group_find(c, r->sg_id) : NULL);
        if (error || !g || g->deleted) {
            /* A rule of a group nobody here uses is of no interest: the
             * group's pull brings it when one is. */
            n_bad += error != NULL;
            free(error);
            sg_rule_destroy(r);
            free(r);
            continue;
        }
        if (group_put_rule(c, g, r) && cb) {
            cb(aux, g->id, false);
        }
    }
    return n_bad;
}

bool
sg_cache_has_group(const struct sg_cache *c, const char *sg_id)
{
    const struct sg_group *g = group_find(c, sg_id);
    return g && !g->deleted;
}

static int
compare_rules(const void *a_, const void *b_)
{
    const struct sg_rule *const *a = a_, *const *b = b_;
    return strcmp((*a)->id, (*b)->id);
}

const struct sg_rule *const *
sg_cache_rules(const struct sg_cache *c, const char *sg_id, size_t *n)
{
    struct sg_group *g = group_find(c, sg_id);
    if (!g) {
        *n = 0;
        return NULL;
    }
    *n = shash_count(&g->rules);
    if (!g->sorted_valid) {
        free(g->sorted);
        g->sorted = xcalloc(*n + 1, sizeof *g->sorted);
        size_t k = 0;
        struct shash_node *node;
        SHASH_FOR_EACH (node, &g->rules) {
            g->sorted[k++] = node->data;
        }
        qsort(g->sorted, k, sizeof *g->sorted, compare_rules);
        g->sorted_valid = true;
    }
    return g->sorted;
}

size_t
sg_cache_n_groups(const struct sg_cache *c)
{
    return hmap_count(&c->groups);
}

size_t
sg_cache_n_rules(const struct sg_cache *c)
{
    return shash_count(&c->rule_groups);
}
