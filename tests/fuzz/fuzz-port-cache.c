/*
 * Fuzz target: the caches the server's Port objects feed, with pushes and
 * pull answers in sequence so that updates and deletions of what an
 * earlier message brought run too: the port cache and its details
 * (src/neutron/port-cache.h), and the members of remote security groups
 * (src/neutron/sg-members.h), through the versioned-object accessors of
 * src/neutron/ovo.h.
 *
 * The input is a series of JSON documents (see fuzz_doc_classify()): each
 * push goes to both caches as the agent hands it on (a Network push makes
 * the port cache forget the network's ports, as a network update does);
 * each reply is a bulk_pull answer for the Port ids it holds and one it
 * does not.  After each document, the details of every port it named and
 * the members of every group it named are read back.
 *
 * Seeds: the captured Port and Network pushes and the Port bulk_pull
 * answers of tests/unit/data/wire.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "json-util.h"
#include "neutron/device-details.h"
#include "neutron/ovo.h"
#include "neutron/port-cache.h"
#include "neutron/sg-members.h"
#include "openvswitch/json.h"
#include "sset.h"
#include "util.h"

/* The host the captured ports are bound to. */
#define HOST "compute1"

#define MAX_DOCS 16

/* Ids read back per document at most. */
#define MAX_IDS 32

static void
check_details(const struct device_details *dd)
{
    fuzz_check_string(dd->device);
    if (dd->found) {
        fuzz_check_string(dd->network_id);
        fuzz_check_string(dd->network_type);
        fuzz_check_string(dd->device_owner);
        /* What the port's flows are formatted from. */
        if (!fuzz_is_mac(dd->mac)) {
            abort();
        }
        for (size_t i = 0; i < dd->n_fixed_ips; i++) {
            if (!fuzz_is_ip(dd->fixed_ips[i])) {
                abort();
            }
        }
        for (size_t i = 0; i < dd->n_pairs; i++) {
            if (!fuzz_is_cidr(dd->pairs[i].ip)
                || !fuzz_is_mac(dd->pairs[i].mac)) {
                abort();
            }
        }
        for (size_t i = 0; i < dd->n_security_groups; i++) {
            fuzz_check_string(dd->security_groups[i]);
        }
    }
    struct device_details copy;
    device_details_clone(&copy, dd);
    if (!device_details_equal(&copy, dd)) {
        abort();
    }
    device_details_destroy(&copy);
}

static void
port_changed(void *pc_, const char *id, bool deleted OVS_UNUSED)
{
    struct port_cache *pc = pc_;
    struct device_details dd;
    fuzz_check_string(id);
    if (port_cache_details(pc, id, &dd)) {
        check_details(&dd);
        device_details_destroy(&dd);
    }
}

static void
members_changed(void *aux OVS_UNUSED, const char *sg_id)
{
    fuzz_check_string(sg_id);
}

/* The codec alone on one primitive, and the ids it names: the port's in
 * 'ports', its groups in 'groups', a network's in 'networks'. */
static void
note_primitive(const struct json *primitive, struct sset *ports,
               struct sset *groups, struct sset *networks)
{
    struct device_details dd;
    int64_t revision;
    char *error = port_cache_details_from_ovo(primitive, HOST, &dd,
                                              &revision);
    if (error) {
        free(error);
    } else {
        check_details(&dd);
        device_details_destroy(&dd);
    }

    const char *type;
    const struct json *data = fuzz_ovo_data(primitive, &type);
    const char *id = json_member_string(data, "id");
    if (!type || !id) {
        return;
    }
    if (!strcmp(type, "Network") && sset_count(networks) < MAX_IDS) {
        sset_add(networks, id);
    } else if (!strcmp(type, "Port") && sset_count(ports) < MAX_IDS) {
        sset_add(ports, id);
        const struct json *sgs = json_member(data, "security_group_ids");
        for (size_t i = 0; i < ovo_array_n(sgs)
                           && sset_count(groups) < MAX_IDS; i++) {
            const struct json *sg = ovo_array_at(sgs, i);
            if (sg->type == JSON_STRING) {
                sset_add(groups, json_string(sg));
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    struct port_cache *pc = port_cache_create(HOST);
    struct sg_members *members = sg_members_create();
    struct sset watched = SSET_INITIALIZER(&watched);

    struct json **docs;
    size_t n_docs = fuzz_json_docs(data, size, MAX_DOCS, &docs);
    for (size_t i = 0; i < n_docs; i++) {
        const struct json *list;
        bool deleted;
        enum fuzz_doc_kind kind = fuzz_doc_classify(docs[i], &list,
                                                    &deleted);
        if (kind == FUZZ_DOC_OTHER) {
            continue;
        }

        struct sset ports = SSET_INITIALIZER(&ports);
        struct sset groups = SSET_INITIALIZER(&groups);
        struct sset networks = SSET_INITIALIZER(&networks);
        for (size_t j = 0; j < ovo_array_n(list); j++) {
            note_primitive(ovo_array_at(list, j), &ports, &groups,
                           &networks);
        }

        /* As the firewall does: a group is watched before its members
         * are pulled or pushed. */
        const char *sg;
        SSET_FOR_EACH (sg, &groups) {
            sg_members_watch(members, sg);
            sset_add(&watched, sg);
        }

        if (kind == FUZZ_DOC_PUSH) {
            port_cache_push(pc, list, deleted, port_changed, pc);
        } else {
            size_t n_asked = sset_count(&ports) + 1;
            const char **asked = xcalloc(n_asked, sizeof *asked);
            size_t k = 0;
            const char *id;
            SSET_FOR_EACH (id, &ports) {
                asked[k++] = id;
            }
            asked[k++] = "00000000-0000-0000-0000-000000000000";
            port_cache_pulled(pc, asked, k, list);
            free(asked);
        }
        sg_members_put_ports(members, list, deleted, members_changed, NULL);

        const char *id;
        SSET_FOR_EACH (id, &networks) {
            port_cache_forget_network(pc, id);
        }
        SSET_FOR_EACH (id, &ports) {
            struct device_details dd;
            if (port_cache_details(pc, id, &dd)) {
                check_details(&dd);
                device_details_destroy(&dd);
            }
        }
        SSET_FOR_EACH (sg, &watched) {
            for (int ipv6 = 0; ipv6 < 2; ipv6++) {
                struct sg_member *m;
                size_t n = sg_members_get(members, sg, ipv6, &m);
                for (size_t j = 0; j < n; j++) {
                    /* The firewall normalizes the addresses but writes
                     * the MACs into its member flows as they are ("" is
                     * none). */
                    fuzz_check_string(m[j].ip);
                    if (m[j].mac[0] && !fuzz_is_mac(m[j].mac)) {
                        abort();
                    }
                }
                free(m);
            }
        }
        sset_destroy(&ports);
        sset_destroy(&groups);
        sset_destroy(&networks);
    }
    fuzz_json_docs_free(docs, n_docs);

    /* Unwatching and clearing run what a reconnection and the end of a
     * group's use run. */
    const char *sg;
    SSET_FOR_EACH (sg, &watched) {
        sg_members_unwatch(members, sg);
    }
    sset_destroy(&watched);
    sg_members_clear(members);
    sg_members_destroy(members);
    port_cache_clear(pc);
    port_cache_destroy(pc);

    fuzz_check_log();
    return 0;
}
