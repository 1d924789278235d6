/*
 * Unit tests of port-cache: port details computed from the server's Port
 * objects (the reference's captured bulk_pull answers and pushes in
 * tests/unit/data/wire/), pushes and pulls applied in the reference's
 * order rules, and the cache keeping only this host's ports.
 */
#include <config.h>

#include <stdarg.h>
#include <string.h>

#include "json-util.h"
#include "neutron/device-details.h"
#include "neutron/port-cache.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "test-util.h"
#include "util.h"

static int n_changed, n_deleted;
static char last_id[64];

static void
changed(void *aux OVS_UNUSED, const char *id, bool deleted)
{
    n_changed += !deleted;
    n_deleted += deleted;
    ovs_strlcpy(last_id, id, sizeof last_id);
}

/* A copy of 'primitive' with its revision_number set to 'rev' and,
 * unless NULL, admin_state_up set to 'admin'. */
static struct json *
variant(const struct json *primitive, int rev, const bool *admin)
{
    struct json *copy = json_deep_clone(primitive);
    struct json *data = shash_find_data(json_object(copy),
                                        "versioned_object.data");
    json_object_put(data, "revision_number", json_integer_create(rev));
    if (admin) {
        json_object_put(data, "admin_state_up", json_boolean_create(*admin));
    }
    struct json *list = json_array_create_1(copy);
    return list;
}

static void
test_details_from_pull(void)
{
    struct json *reply = capture_message("bulk_pull-Port-device-details.json",
                                         true);
    const struct json *result = json_member(reply, "result");
    check(result && result->type == JSON_ARRAY && json_array(result)->n > 0,
          "the captured bulk_pull answer holds Port objects");
    if (!result || result->type != JSON_ARRAY || !json_array(result)->n) {
        json_destroy(reply);
        return;
    }
    const struct json *port = json_array(result)->elems[0];

    struct device_details dd;
    int64_t rev;
    char *error = port_cache_details_from_ovo(port, "compute1", &dd, &rev);
    check(!error, "a bound Port object decodes");
    free(error);
    check(dd.found, "it is found on its host");
    check(!strcmp(dd.network_type, "vxlan"), "network_type from the segment");
    check(dd.segmentation_id == 1757, "segmentation_id from the segment");
    check(!dd.physical_network, "no physical_network for VXLAN");
    check(!strcmp(dd.mac, "fa:16:3e:95:85:3c"), "mac_address");
    check(dd.n_fixed_ips == 1 && !strcmp(dd.fixed_ips[0], "10.1.0.208"),
          "fixed_ips");
    check(dd.admin_state_up && dd.port_security_enabled,
          "admin state and port security");
    check(!strcmp(dd.device_owner, "compute:nova"), "device_owner");
    check(rev == 2, "revision_number");
    check(dd.n_security_groups == 1
          && !strcmp(dd.security_groups[0],
                     "98f115bd-2e9d-4626-aec4-83d4a1e04e0e"),
          "security_group_ids");
    device_details_destroy(&dd);

    error = port_cache_details_from_ovo(port, "compute2", &dd, &rev);
    check(!error && !dd.found && dd.no_active_binding,
          "a compute port bound to another host has no active binding here");
    free(error);
    device_details_destroy(&dd);

    error = port_cache_details_from_ovo(json_member(reply, "result"),
                                        "compute1", &dd, &rev);
    check(error != NULL, "a list is not a Port object");
    free(error);

    /* The cache, through a pull. */
    struct port_cache *pc = port_cache_create("compute1");
    const char *id = json_member_string(
        json_member(port, "versioned_object.data"), "id");
    const char *asked[] = { id, "00000000-0000-4000-8000-000000000000" };
    check(!port_cache_details(pc, id, &dd), "an empty cache knows nothing");
    check(port_cache_pulled(pc, asked, 2, result) == 0,
          "a pull answer applies");
    /* Deleted on the server while its pull was in flight: the delete's
     * push came first, and the pull's answer, computed before the delete,
     * must not bring the port back (it once did, and the port was wired
     * and reported up). */
    struct port_cache *racing = port_cache_create("compute1");
    check(port_cache_mark_deleted(racing, id),
          "a delete of a port not cached yet is recorded");
    check(!port_cache_mark_deleted(racing, id), "once");
    check(port_cache_pulled(racing, asked, 2, result) == 0
          && port_cache_details(racing, id, &dd) && !dd.found,
          "a pull answered after the delete does not revive the port");
    device_details_destroy(&dd);
    port_cache_destroy(racing);

    check(port_cache_details(pc, id, &dd) && dd.found,
          "the pulled port's details come from the cache");
    device_details_destroy(&dd);
    check(port_cache_details(pc, asked[1], &dd) && !dd.found,
          "an asked id absent from the answer is known as not found");
    device_details_destroy(&dd);

    /* Pushes: an admin-down update, then an older one, then a delete. */
    bool down = false, up = true;
    n_changed = n_deleted = 0;
    struct json *list = variant(port, 3, &down);
    port_cache_push(pc, list, false, changed, NULL);
    json_destroy(list);
    check(n_changed == 1 && !strcmp(last_id, id),
          "a push that changes the details is reported");
    check(port_cache_details(pc, id, &dd) && !dd.admin_state_up,
          "and its details are the new ones");
    device_details_destroy(&dd);

    list = variant(port, 2, &up);
    port_cache_push(pc, list, false, changed, NULL);
    json_destroy(list);
    check(n_changed == 1, "an older revision is ignored");

    list = variant(port, 4, &down);
    port_cache_push(pc, list, false, changed, NULL);
    json_destroy(list);
    check(n_changed == 1, "a newer revision with the same details "
          "(a status change) is not reported");

    struct json *del = capture_message("push-Port-fanout-deleted.json", false);
    const struct json *dlist = json_member(json_member(del, "args"),
                                           "resource_list");
    port_cache_push(pc, dlist, true, changed, NULL);
    check(n_deleted == 0, "deleting a port the cache does not hold is "
          "not reported");
    json_destroy(del);

    char *text = xasprintf(
        "[{\"versioned_object.name\": \"Port\", \"versioned_object.data\": "
        "{\"id\": \"%s\"}}]", id);
    struct json *stub = json_from_string(text);
    free(text);
    port_cache_push(pc, stub, true, changed, NULL);
    check(n_deleted == 1, "a delete is reported");
    check(port_cache_details(pc, id, &dd) && !dd.found,
          "a deleted port is not found");
    device_details_destroy(&dd);
    list = variant(port, 9, &up);
    port_cache_push(pc, list, false, changed, NULL);
    json_destroy(list);
    check(n_changed == 1, "an update after the delete is ignored");
    json_destroy(stub);

    port_cache_clear(pc);
    check(port_cache_count(pc) == 0, "clear forgets everything");
    port_cache_destroy(pc);
    json_destroy(reply);
}

static void
test_pushes(void)
{
    struct json *msg = capture_message("push-Port-fanout.json", false);
    const struct json *list = json_member(json_member(msg, "args"),
                                          "resource_list");
    check(list && list->type == JSON_ARRAY, "the captured push has a list");

    /* Kept only on the host the port is bound to. */
    struct port_cache *other = port_cache_create("elsewhere");
    check(port_cache_push(other, list, false, changed, NULL) == 0,
          "a push decodes");
    check(port_cache_count(other) == 0,
          "a push for another host's port is not kept");
    port_cache_destroy(other);

    struct port_cache *pc = port_cache_create("compute1");
    port_cache_push(pc, list, false, changed, NULL);
    checkf(port_cache_count(pc) == 1,
           "a push for this host's port is kept (%"PRIuSIZE")",
           port_cache_count(pc));

    struct json *bad = json_from_string(
        "[1, {\"versioned_object.name\": \"Network\"}, {}]");
    check(port_cache_push(pc, bad, false, changed, NULL) == 3,
          "what is not a Port object is counted and dropped");
    check(port_cache_push(pc, bad, true, changed, NULL) == 3,
          "also in a delete");
    json_destroy(bad);
    port_cache_destroy(pc);
    json_destroy(msg);
}

int
main(void)
{
    test_details_from_pull();
    test_pushes();
    return test_summary();
}
