/*
 * Fuzz target: the caches the openvswitch firewall reads, fed pushes and
 * pull answers in sequence so that updates and deletions of what an
 * earlier message brought run too: security groups and their rules
 * (src/neutron/sg-cache.h) and address groups
 * (src/neutron/address-groups.h).
 *
 * The input is a series of JSON documents (see fuzz_doc_classify()).  The
 * list of each push or reply goes to every cache, as a push on any of the
 * three topics could hold any objects; each primitive is also decoded
 * alone as a rule.  After each document the rules of every group it named
 * (its own, its rules' and their remote groups) and the addresses of every
 * address group it named are read back, sorted, as the firewall reads
 * them.
 *
 * Seeds: the captured SecurityGroup and SecurityGroupRule pushes and
 * bulk_pull answers of tests/unit/data/wire, and address groups made in
 * their image.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "json-util.h"
#include "neutron/address-groups.h"
#include "neutron/ovo.h"
#include "neutron/sg-cache.h"
#include "openvswitch/json.h"
#include "sset.h"
#include "util.h"

#define MAX_DOCS 16

/* Ids read back per document at most. */
#define MAX_IDS 32

static void
add_id(struct sset *ids, const struct json *data, const char *name)
{
    const char *id = json_member_string(data, name);
    if (id && sset_count(ids) < MAX_IDS) {
        sset_add(ids, id);
    }
}

static void
sg_changed(void *aux OVS_UNUSED, const char *sg_id, bool deleted OVS_UNUSED)
{
    fuzz_check_string(sg_id);
}

static void
ag_changed(void *aux OVS_UNUSED, const char *ag_id)
{
    fuzz_check_string(ag_id);
}

static void
check_rule(const struct sg_rule *r)
{
    fuzz_check_string(r->id);
    if (r->sg_id) {
        fuzz_check_string(r->sg_id);
    }
    if (r->remote_prefix) {
        fuzz_check_string(r->remote_prefix);
    }
    if (r->remote_group_id) {
        fuzz_check_string(r->remote_group_id);
    }
    if (r->remote_address_group_id) {
        fuzz_check_string(r->remote_address_group_id);
    }
}

/* The rule codec alone on 'primitive', and the ids it names. */
static void
note_primitive(const struct json *primitive, struct sset *groups,
               struct sset *ags)
{
    struct sg_rule r;
    char *error = sg_rule_from_ovo(primitive, &r);
    if (error) {
        free(error);
    } else {
        check_rule(&r);
        sg_rule_destroy(&r);
    }

    const char *type;
    const struct json *data = fuzz_ovo_data(primitive, &type);
    for (int ipv6 = 0; ipv6 < 2; ipv6++) {
        sg_protocol_number(json_member(data, "protocol"), ipv6);
    }
    if (type && !strcmp(type, "AddressGroup")) {
        add_id(ags, data, "id");
    } else {
        add_id(groups, data, "id");
    }
    add_id(groups, data, "security_group_id");
    add_id(groups, data, "remote_group_id");
    add_id(ags, data, "remote_address_group_id");
    const struct json *rules = json_member(data, "rules");
    for (size_t i = 0; i < ovo_array_n(rules); i++) {
        const struct json *rule = json_member(ovo_array_at(rules, i),
                                              "versioned_object.data");
        add_id(groups, rule, "remote_group_id");
        add_id(ags, rule, "remote_address_group_id");
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    struct sg_cache *sgc = sg_cache_create();
    struct address_groups *ags = address_groups_create();

    struct json **docs;
    size_t n_docs = fuzz_json_docs(data, size, MAX_DOCS, &docs);
    for (size_t i = 0; i < n_docs; i++) {
        const struct json *list;
        bool deleted;
        if (fuzz_doc_classify(docs[i], &list, &deleted) == FUZZ_DOC_OTHER) {
            continue;
        }

        struct sset group_ids = SSET_INITIALIZER(&group_ids);
        struct sset ag_ids = SSET_INITIALIZER(&ag_ids);
        for (size_t j = 0; j < ovo_array_n(list); j++) {
            note_primitive(ovo_array_at(list, j), &group_ids, &ag_ids);
        }

        sg_cache_put_groups(sgc, list, deleted, sg_changed, NULL);
        sg_cache_put_rules(sgc, list, deleted, sg_changed, NULL);
        address_groups_put(ags, list, deleted, ag_changed, NULL);

        const char *id;
        SSET_FOR_EACH (id, &group_ids) {
            size_t n;
            const struct sg_rule *const *rules = sg_cache_rules(sgc, id, &n);
            if (n && !sg_cache_has_group(sgc, id)) {
                abort();
            }
            for (size_t j = 0; j < n; j++) {
                check_rule(rules[j]);
                if (j && strcmp(rules[j - 1]->id, rules[j]->id) >= 0) {
                    abort();    /* Not sorted, or a rule twice. */
                }
            }
        }
        SSET_FOR_EACH (id, &ag_ids) {
            for (int ipv6 = 0; ipv6 < 2; ipv6++) {
                const char **addrs;
                size_t n = address_groups_get(ags, id, ipv6, &addrs);
                for (size_t j = 0; j < n; j++) {
                    fuzz_check_string(addrs[j]);
                }
                free(addrs);
            }
            address_groups_has(ags, id);
        }
        sset_destroy(&group_ids);
        sset_destroy(&ag_ids);

        sg_cache_n_groups(sgc);
        sg_cache_n_rules(sgc);
        address_groups_count(ags);
    }
    fuzz_json_docs_free(docs, n_docs);

    sg_cache_clear(sgc);
    sg_cache_destroy(sgc);
    address_groups_clear(ags);
    address_groups_destroy(ags);

    fuzz_check_log();
    return 0;
}
