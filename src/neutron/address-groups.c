/*
 * address-groups: the server's address groups.  See address-groups.h.
 */
#include <config.h>
#include "neutron/address-groups.h"

#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "neutron/ovo.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "sset.h"
#include "util.h"

struct address_group {
    int64_t revision;
    struct sset addrs;
};

struct address_groups {
    struct shash groups;        /* Id -> struct address_group. */
};

struct address_groups *
address_groups_create(void)
{
    struct address_groups *ags = xzalloc(sizeof *ags);
    shash_init(&ags->groups);
    return ags;
}

static void
group_free(struct address_group *g)
{
    sset_destroy(&g->addrs);
    free(g);
}

void
address_groups_clear(struct address_groups *ags)
{
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &ags->groups) {
        group_free(node->data);
        shash_delete(&ags->groups, node);
    }
}

void
address_groups_destroy(struct address_groups *ags)
{
    if (ags) {
        address_groups_clear(ags);
        shash_destroy(&ags->groups);
        free(ags);
    }
}

size_t
address_groups_put(struct address_groups *ags, const struct json *list,
                   bool deleted, address_groups_changed_cb *cb, void *aux)
{
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(list); i++) {
        const struct json *data = ovo_data(ovo_array_at(list, i),
                                           "AddressGroup");
        const char *ag_id = json_member_string(data, "id");
        if (!ag_id) {
            n_bad++;
            continue;
        }
        struct address_group *old = shash_find_data(&ags->groups, ag_id);
        if (deleted) {
            if (old) {
                shash_find_and_delete(&ags->groups, ag_id);
                group_free(old);
                cb(aux, ag_id);
            }
            continue;
        }
        int64_t revision = ovo_member_int(data, "revision_number", -1);
        if (old && revision >= 0 && revision < old->revision) {
            continue;           /* An older copy, overtaken. */
        }

        struct address_group *g = xzalloc(sizeof *g);
        g->revision = revision;
        sset_init(&g->addrs);
        const struct json *addrs = json_member(data, "addresses");
        bool bad = addrs && addrs->type != JSON_ARRAY;
        for (size_t j = 0; !bad && j < ovo_array_n(addrs); j++) {
            const struct json *a = ovo_data(ovo_array_at(addrs, j),
                                            "AddressAssociation");
            const char *addr = json_member_string(a, "address");
            if (!addr) {
                bad = true;
            } else {
                sset_add(&g->addrs, addr);
            }
        }
        if (bad) {
            group_free(g);
            n_bad++;
            continue;
        }
        bool changed = !old || !sset_equals(&old->addrs, &g->addrs);
        if (old) {
            shash_replace(&ags->groups, ag_id, g);
            group_free(old);
        } else {
            shash_add(&ags->groups, ag_id, g);
        }
        if (changed) {
            cb(aux, ag_id);
        }
    }
    return n_bad;
}

bool
address_groups_has(const struct address_groups *ags, const char *ag_id)
{
    return shash_find(&ags->groups, ag_id) != NULL;
}

size_t
address_groups_get(const struct address_groups *ags, const char *ag_id,
                   bool ipv6, const char ***addrsp)
{
    const struct address_group *g = shash_find_data(&ags->groups, ag_id);
    *addrsp = NULL;
    if (!g) {
        return 0;
    }
    const char **all = sset_sort(&g->addrs);
    size_t n = 0;
    for (size_t i = 0; i < sset_count(&g->addrs); i++) {
        if ((strchr(all[i], ':') != NULL) == ipv6) {
            all[n++] = all[i];
        }
    }
    *addrsp = all;
    return n;
}

size_t
address_groups_count(const struct address_groups *ags)
{
    return shash_count(&ags->groups);
}
