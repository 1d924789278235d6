/*
 * Unit tests of sg-members: remote-group member addresses from the
 * reference's captured Port objects (tests/unit/data/wire/) and from
 * pushes that move ports between groups, change their addresses or delete
 * them; only watched groups are kept.
 */
#include <config.h>

#include <string.h>

#include "json-util.h"
#include "neutron/sg-members.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "test-util.h"
#include "util.h"

#define SG "98f115bd-2e9d-4626-aec4-83d4a1e04e0e"
#define SG2 "11111111-2222-4333-8444-555555555555"

static struct shash changed_groups;

static void
changed(void *aux OVS_UNUSED, const char *sg_id)
{
    shash_replace(&changed_groups, sg_id, NULL);
}

/* A Port primitive with the given groups (a JSON array text), one fixed
 * IP and one allowed address pair, at 'revision'. */
static struct json *
port(const char *id, const char *groups, const char *ip,
     const char *pair_ip, int revision)
{
    char *text = xasprintf(
        "[{\"versioned_object.name\": \"Port\", \"versioned_object.data\": {"
        "\"id\": \"%s\", \"mac_address\": \"fa:16:3e:00:00:01\", "
        "\"revision_number\": %d, \"security_group_ids\": %s, "
        "\"fixed_ips\": [{\"versioned_object.name\": \"IPAllocation\", "
        "\"versioned_object.data\": {\"ip_address\": \"%s\"}}], "
        "\"allowed_address_pairs\": [{\"versioned_object.name\": "
        "\"AllowedAddressPair\", \"versioned_object.data\": {"
        "\"ip_address\": \"%s\", \"mac_address\": \"fa:16:3e:00:00:99\"}}]"
        "}}]", id, revision, groups, ip, pair_ip);
    struct json *j = json_from_string(text);
    free(text);
    return j;
}

static bool
members_are(struct sg_members *m, const char *sg, bool ipv6,
            const char *expected)
{
    struct sg_member *members;
    size_t n = sg_members_get(m, sg, ipv6, &members);
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        ds_put_format(&s, "%s%s/%s", i ? " " : "", members[i].ip,
                      members[i].mac);
    }
    bool ok = !strcmp(ds_cstr(&s), expected);
    if (!ok) {
        printf("# members of %s: \"%s\", expected \"%s\"\n", sg, ds_cstr(&s),
               expected);
    }
    ds_destroy(&s);
    free(members);
    return ok;
}

int
main(void)
{
    shash_init(&changed_groups);
    struct sg_members *m = sg_members_create();

    struct json *r = capture_result("bulk_pull-Port-device-details.json");
    sg_members_put_ports(m, r, false, changed, NULL);
    check(sg_members_n_ports(m) == 0,
          "ports of a group nobody watches are not kept");

    sg_members_watch(m, SG);
    check(sg_members_put_ports(m, r, false, changed, NULL) == 0
          && sg_members_n_ports(m) == 1,
          "the captured pull of a watched group's ports is kept");
    check(shash_find(&changed_groups, SG) != NULL,
          "the group's change is reported");
    check(members_are(m, SG, false, "10.1.0.208/fa:16:3e:95:85:3c"),
          "a member is its fixed IP with the port's MAC");
    check(members_are(m, SG, true, ""), "no IPv6 member");
    json_destroy(r);

    r = capture_result("bulk_pull-Port-device-details-2.json");
    sg_members_put_ports(m, r, false, changed, NULL);
    check(members_are(m, SG, false, "10.1.0.208/fa:16:3e:95:85:3c "
                      "10.3.0.102/fa:16:3e:fc:e6:2e"),
          "a second port of the group adds its address, sorted");
    json_destroy(r);

    /* Allowed address pairs, a move to another group, an older update. */
    sg_members_watch(m, SG2);
    struct json *p = port("p1", "[\"" SG "\"]", "10.0.0.1",
                          "10.0.0.100", 1);
    sg_members_put_ports(m, p, false, changed, NULL);
    json_destroy(p);
    check(members_are(m, SG, false, "10.0.0.1/fa:16:3e:00:00:01 "
                      "10.0.0.100/fa:16:3e:00:00:99 "
                      "10.1.0.208/fa:16:3e:95:85:3c "
                      "10.3.0.102/fa:16:3e:fc:e6:2e"),
          "allowed address pairs are members with their own MAC");

    shash_clear(&changed_groups);
    p = port("p1", "[\"" SG2 "\"]", "10.0.0.1", "10.0.0.100", 2);
    sg_members_put_ports(m, p, false, changed, NULL);
    json_destroy(p);
    check(shash_count(&changed_groups) == 2,
          "a port moving between groups changes both");
    check(members_are(m, SG2, false, "10.0.0.1/fa:16:3e:00:00:01 "
                      "10.0.0.100/fa:16:3e:00:00:99"),
          "it is a member of the new group");

    shash_clear(&changed_groups);
    p = port("p1", "[\"" SG "\"]", "10.0.0.1", "10.0.0.100", 1);
    sg_members_put_ports(m, p, false, changed, NULL);
    json_destroy(p);
    check(shash_count(&changed_groups) == 0,
          "an update older than the port's revision is ignored");

    p = port("p1", "[\"" SG2 "\"]", "10.0.0.1", "10.0.0.100", 3);
    sg_members_put_ports(m, p, false, changed, NULL);
    json_destroy(p);
    check(shash_count(&changed_groups) == 0,
          "a newer update that changes nothing is not reported");

    p = port("p1", "[\"" SG2 "\"]", "fd00::1", "10.0.0.100", 4);
    shash_clear(&changed_groups);
    struct json *p4 = p;
    sg_members_put_ports(m, p4, false, changed, NULL);
    check(shash_count(&changed_groups) == 1
          && members_are(m, SG2, true, "fd00::1/fa:16:3e:00:00:01"),
          "an address change is reported; IPv6 members apart");

    shash_clear(&changed_groups);
    sg_members_put_ports(m, p4, true, changed, NULL);
    check(shash_find(&changed_groups, SG2)
          && members_are(m, SG2, false, "") && members_are(m, SG2, true, ""),
          "a deleted port leaves its group");
    sg_members_put_ports(m, p4, false, changed, NULL);
    check(members_are(m, SG2, true, ""),
          "an update after the delete is ignored");
    json_destroy(p4);

    sg_members_unwatch(m, SG);
    check(sg_members_n_ports(m) == 0 && !sg_members_is_watched(m, SG),
          "unwatching a group forgets the ports kept only for it");

    struct json *bad = json_from_string("[1, {}, {\"versioned_object.name\":"
                                        " \"Port\"}]");
    check(sg_members_put_ports(m, bad, false, changed, NULL) == 3,
          "what is not a Port object is counted and dropped");
    json_destroy(bad);

    sg_members_destroy(m);
    shash_destroy(&changed_groups);
    return test_summary();
}
