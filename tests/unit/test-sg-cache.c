/*
 * Unit tests of sg-cache: security groups and rules from the reference's
 * captured bulk_pull answers and pushes (tests/unit/data/wire/), protocol
 * names as the reference's firewall normalizes them, and the order rules
 * of pushes.
 */
#include <config.h>

#include <string.h>

#include "json-util.h"
#include "neutron/sg-cache.h"
#include "openvswitch/json.h"
#include "test-util.h"
#include "util.h"

#define DEFAULT_SG "98f115bd-2e9d-4626-aec4-83d4a1e04e0e"

static int n_changed, n_deleted;

static void
changed(void *aux OVS_UNUSED, const char *id OVS_UNUSED, bool deleted)
{
    n_changed += !deleted;
    n_deleted += deleted;
}

static void
test_protocols(void)
{
    struct json *j;
    /* In an array: the JSON parser wants an object or array on top. */
#define PROTO(TEXT, V6, WANT)                                           \
    j = json_from_string("[" TEXT "]");                                 \
    checkf(j->type == JSON_ARRAY                                        \
           && sg_protocol_number(json_array(j)->elems[0], V6) == WANT,  \
           "protocol %s%s is %d", TEXT, V6 ? " (IPv6)" : "", WANT);     \
    json_destroy(j);
    PROTO("\"tcp\"", false, 6);
    PROTO("\"udp\"", false, 17);
    PROTO("\"icmp\"", false, 1);
    PROTO("\"icmp\"", true, 58);
    PROTO("\"ipv6-icmp\"", true, 58);
    PROTO("\"sctp\"", false, 132);
    PROTO("\"6\"", false, 6);
    PROTO("\"132\"", true, 132);
    PROTO("null", false, -1);
    PROTO("\"bogus\"", false, -2);
    PROTO("\"999\"", false, -2);
#undef PROTO
}

static void
test_groups(void)
{
    struct sg_cache *c = sg_cache_create();
    struct json *reply = capture_message("bulk_pull-SecurityGroup.json",
                                         true);
    const struct json *groups = json_member(reply, "result");
    n_changed = n_deleted = 0;
    check(sg_cache_put_groups(c, groups, false, changed, NULL) == 0,
          "the captured SecurityGroup answer decodes");
    check(sg_cache_has_group(c, DEFAULT_SG), "the default group is cached");
    check(n_changed == 1, "its arrival is reported");

    size_t n;
    const struct sg_rule *const *rules = sg_cache_rules(c, DEFAULT_SG, &n);
    checkf(n == 4, "the default group has its 4 rules (%"PRIuSIZE")", n);
    size_t n_egress = 0, n_remote = 0, n_v6 = 0;
    for (size_t i = 0; i < n; i++) {
        n_egress += !rules[i]->ingress;
        n_remote += rules[i]->remote_group_id
                    && !strcmp(rules[i]->remote_group_id, DEFAULT_SG);
        n_v6 += rules[i]->ipv6;
        check(rules[i]->protocol == -1 && rules[i]->port_min == -1,
              "a default rule has no protocol and no ports");
    }
    check(n_egress == 2 && n_remote == 2 && n_v6 == 2,
          "egress any v4 and v6; ingress v4 and v6 from the group itself");
    for (size_t i = 1; i < n; i++) {
        check(strcmp(rules[i - 1]->id, rules[i]->id) < 0,
              "rules come sorted by id");
    }

    /* The same object again changes nothing. */
    sg_cache_put_groups(c, groups, false, changed, NULL);
    check(n_changed == 1, "the same group again is not reported");

    /* The rules answer holds the same rules. */
    struct json *rr = capture_message("bulk_pull-SecurityGroupRule.json",
                                      true);
    sg_cache_put_rules(c, json_member(rr, "result"), false, changed, NULL);
    check(n_changed == 1 && sg_cache_n_rules(c) == 4,
          "the group's rules pulled again change nothing");
    json_destroy(rr);

    /* A rule push for a group nobody here uses is not kept. */
    struct json *push = capture_message("push-SecurityGroupRule-fanout.json",
                                        false);
    const struct json *list = json_member(json_member(push, "args"),
                                          "resource_list");
    sg_cache_put_rules(c, list, false, changed, NULL);
    check(sg_cache_n_rules(c) == 4, "a rule of an unknown group is dropped");

    /* Once its group is here, it is. */
    struct json *g2 = json_from_string(
        "[{\"versioned_object.name\": \"SecurityGroup\", "
        "\"versioned_object.data\": {\"id\": "
        "\"324e0dee-186b-47ad-8fcb-bd4cb6d589c7\", \"rules\": [], "
        "\"revision_number\": 1}}]");
    sg_cache_put_groups(c, g2, false, changed, NULL);
    sg_cache_put_rules(c, list, false, changed, NULL);
    rules = sg_cache_rules(c, "324e0dee-186b-47ad-8fcb-bd4cb6d589c7", &n);
    check(n == 1 && rules[0]->ingress && rules[0]->protocol == 1
          && !strcmp(rules[0]->remote_prefix, "10.1.0.0/24"),
          "an ICMP rule from 10.1.0.0/24 is added to its group");
    int before = n_changed;

    /* Deleted by a stub that has only the rule's id. */
    struct json *stub = json_from_string(
        "[{\"versioned_object.name\": \"SecurityGroupRule\", "
        "\"versioned_object.data\": {\"id\": "
        "\"8536e04a-1788-4958-9bc0-92c970874ade\"}}]");
    sg_cache_put_rules(c, stub, true, changed, NULL);
    sg_cache_rules(c, "324e0dee-186b-47ad-8fcb-bd4cb6d589c7", &n);
    check(n == 0 && n_changed == before + 1,
          "a rule deleted by id goes, and its group is reported");
    json_destroy(stub);

    /* Deleting a group drops its rules; later updates are stale. */
    struct json *del = json_from_string(
        "[{\"versioned_object.name\": \"SecurityGroup\", "
        "\"versioned_object.data\": {\"id\": \"" DEFAULT_SG "\"}}]");
    sg_cache_put_groups(c, del, true, changed, NULL);
    check(n_deleted == 1 && !sg_cache_has_group(c, DEFAULT_SG)
          && sg_cache_n_rules(c) == 0,
          "a deleted group goes with its rules");
    sg_cache_put_groups(c, groups, false, changed, NULL);
    check(!sg_cache_has_group(c, DEFAULT_SG),
          "an update after the delete is ignored");
    json_destroy(del);

    struct json *bad = json_from_string(
        "[1, {}, {\"versioned_object.name\": \"SecurityGroup\"}]");
    check(sg_cache_put_groups(c, bad, false, changed, NULL) == 3
          && sg_cache_put_rules(c, bad, false, changed, NULL) == 3,
          "what is not an object of the type is counted and dropped");
    json_destroy(bad);

    sg_cache_clear(c);
    check(sg_cache_n_groups(c) == 0, "clear forgets everything");
    json_destroy(g2);
    json_destroy(push);
    json_destroy(reply);
    sg_cache_destroy(c);
}

/* A group push that no longer lists a rule removes it from the group and
 * from the index of rules by id.  The removal once freed the rule's name
 * and then looked it up in the index (use after free): the index kept the
 * stale entry, which ASan reports and which shows as a count that does not
 * drop.  A rule id that a hostile push moves to another group stays that
 * group's when the first group lets it go. */
static void
test_rule_dropped_by_group_push(void)
{
#define GROUP(ID, REV, RULES)                                           \
    "[{\"versioned_object.name\": \"SecurityGroup\", "                  \
    "\"versioned_object.data\": {\"id\": \"" ID "\", "                  \
    "\"revision_number\": " #REV ", \"rules\": [" RULES "]}}]"
#define RULE(ID, SG)                                                    \
    "{\"versioned_object.name\": \"SecurityGroupRule\", "               \
    "\"versioned_object.data\": {\"id\": \"" ID "\", "                  \
    "\"security_group_id\": \"" SG "\", \"direction\": \"ingress\", "   \
    "\"ethertype\": \"IPv4\"}}"
    static const char *pushes[] = {
        GROUP("g1", 1, RULE("r1", "g1") "," RULE("r2", "g1")),
        GROUP("g1", 2, RULE("r1", "g1")),
        GROUP("g2", 1, RULE("r1", "g2")),
        GROUP("g1", 3, ""),
    };
    static const size_t want[] = { 2, 1, 1, 1 };
#undef GROUP
#undef RULE
    struct sg_cache *c = sg_cache_create();
    for (size_t i = 0; i < ARRAY_SIZE(pushes); i++) {
        struct json *j = json_from_string(pushes[i]);
        sg_cache_put_groups(c, j, false, NULL, NULL);
        json_destroy(j);
        checkf(sg_cache_n_rules(c) == want[i],
               "group push %"PRIuSIZE": %"PRIuSIZE" rules indexed (%"
               PRIuSIZE")", i + 1, want[i], sg_cache_n_rules(c));
    }
    struct json *stub = json_from_string(
        "[{\"versioned_object.name\": \"SecurityGroupRule\", "
        "\"versioned_object.data\": {\"id\": \"r1\"}}]");
    sg_cache_put_rules(c, stub, true, NULL, NULL);
    size_t n;
    sg_cache_rules(c, "g2", &n);
    check(n == 0 && sg_cache_n_rules(c) == 0,
          "the moved rule is still found by id and deleted from its group");
    json_destroy(stub);
    sg_cache_destroy(c);
}

int
main(void)
{
    test_protocols();
    test_groups();
    test_rule_dropped_by_group_push();
    return test_summary();
}
