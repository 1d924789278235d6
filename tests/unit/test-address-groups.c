/*
 * Unit tests of address-groups: AddressGroup 1.2 objects as the Zed server
 * pushes them (fields as neutron/objects/address_group.py defines them),
 * revisions, deletions and malformed objects.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "neutron/address-groups.h"
#include "openvswitch/json.h"
#include "sset.h"
#include "test-util.h"
#include "util.h"

#define AG "5d6f0f0e-6f2b-4d8e-9a1c-0a1b2c3d4e5f"

/* A resource_list holding one AddressGroup with 'addrs' (comma-separated,
 * may be empty) at 'revision'. */
static struct json *
ag_list(const char *id, int revision, const char *addrs)
{
    char *assocs = xstrdup("");
    char *copy = xstrdup(addrs), *save, *a;
    for (a = strtok_r(copy, ",", &save); a; a = strtok_r(NULL, ",", &save)) {
        char *next = xasprintf(
            "%s%s{\"versioned_object.name\": \"AddressAssociation\", "
            "\"versioned_object.namespace\": \"versionedobjects\", "
            "\"versioned_object.version\": \"1.0\", "
            "\"versioned_object.data\": {\"address\": \"%s\", "
            "\"address_group_id\": \"%s\"}}", assocs, *assocs ? ", " : "",
            a, id);
        free(assocs);
        assocs = next;
    }
    free(copy);
    char *s = xasprintf(
        "[{\"versioned_object.name\": \"AddressGroup\", "
        "\"versioned_object.namespace\": \"versionedobjects\", "
        "\"versioned_object.version\": \"1.2\", "
        "\"versioned_object.data\": {\"id\": \"%s\", \"name\": \"ag\", "
        "\"project_id\": \"p\", \"description\": \"\", "
        "\"revision_number\": %d, \"addresses\": [%s], "
        "\"shared\": false}}]", id, revision, assocs);
    free(assocs);
    struct json *j = json_from_string(s);
    free(s);
    return j;
}

static int n_changed;
static void
changed(void *aux, const char *id)
{
    n_changed++;
    strcpy(aux, id);
}

static char *
joined(const struct address_groups *ags, const char *id, bool ipv6)
{
    const char **addrs;
    size_t n = address_groups_get(ags, id, ipv6, &addrs);
    char *s = xstrdup("");
    for (size_t i = 0; i < n; i++) {
        char *t = xasprintf("%s%s%s", s, i ? " " : "", addrs[i]);
        free(s);
        s = t;
    }
    free(addrs);
    return s;
}

int
main(void)
{
    struct address_groups *ags = address_groups_create();
    char last[64] = "";
    struct json *l = ag_list(AG, 1, "10.0.0.0/24,fd00::/64,192.0.2.7/32");
    check(!address_groups_put(ags, l, false, changed, last),
          "an AddressGroup object is read");
    json_destroy(l);
    check(n_changed == 1 && !strcmp(last, AG), "its change is reported");
    check(address_groups_has(ags, AG), "the group is held");
    char *v4 = joined(ags, AG, false), *v6 = joined(ags, AG, true);
    checkf(!strcmp(v4, "10.0.0.0/24 192.0.2.7/32") && !strcmp(v6,
           "fd00::/64"), "addresses split by family, sorted (%s | %s)", v4,
           v6);
    free(v4);
    free(v6);

    l = ag_list(AG, 1, "10.0.0.0/24,fd00::/64,192.0.2.7/32");
    address_groups_put(ags, l, false, changed, last);
    json_destroy(l);
    check(n_changed == 1, "the same addresses again: no change reported");

    l = ag_list(AG, 3, "10.0.0.0/24");
    address_groups_put(ags, l, false, changed, last);
    json_destroy(l);
    v4 = joined(ags, AG, false);
    check(n_changed == 2 && !strcmp(v4, "10.0.0.0/24"),
          "an update replaces the addresses");
    free(v4);

    l = ag_list(AG, 2, "198.51.100.0/24");
    address_groups_put(ags, l, false, changed, last);
    json_destroy(l);
    v4 = joined(ags, AG, false);
    check(n_changed == 2 && !strcmp(v4, "10.0.0.0/24"),
          "an older revision arriving late is ignored");
    free(v4);

    l = ag_list(AG, 4, "");
    address_groups_put(ags, l, false, changed, last);
    json_destroy(l);
    v4 = joined(ags, AG, false);
    check(n_changed == 3 && !*v4 && address_groups_has(ags, AG),
          "a group emptied of addresses is held, empty");
    free(v4);

    struct json *bad = json_from_string(
        "[{\"versioned_object.name\": \"AddressGroup\", "
        "\"versioned_object.data\": {\"name\": \"no id\"}}, 7, "
        "{\"versioned_object.name\": \"AddressGroup\", "
        "\"versioned_object.data\": {\"id\": \"x\", \"addresses\": [1]}}]");
    checkf(address_groups_put(ags, bad, false, changed, last) == 3,
           "malformed objects are counted and dropped");
    json_destroy(bad);
    check(!address_groups_has(ags, "x"), "and not held");

    l = ag_list(AG, 5, "");
    address_groups_put(ags, l, true, changed, last);
    json_destroy(l);
    check(n_changed == 4 && !address_groups_has(ags, AG),
          "a deletion drops the group and is reported");
    check(address_groups_count(ags) == 0, "nothing left");
    address_groups_destroy(ags);
    return test_summary();
}
