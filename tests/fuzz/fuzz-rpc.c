/*
 * Fuzz target: what arrives on the agent's queues as rpc sees it
 * (rpc_inject() of src/oslo/rpc.h on an offline session), down to the
 * plugin API's decoding of each reply (src/neutron/plugin-api.h) and the
 * device details in them.
 *
 * Each input starts a session with the agent's listeners and the agent's
 * calls in flight: get_devices_details_list_and_failed_devices
 * ("offline-1"), update_device_list ("offline-2"), report_state
 * ("offline-3"), tunnel_sync ("offline-4"), bulk_pull ("offline-5"), a
 * plain call ("offline-6") and a cancelled one ("offline-7").  The input
 * is a series of deliveries separated by lines "----": the first line of
 * each names the queue ("reply_offline" for replies, a queue of a topic
 * for requests), the rest is the message body.  The broker delivers only
 * on the queues the session declared, so any other name means the reply
 * queue.  rpc runs after each delivery.
 *
 * Every callback must run exactly once (the cancelled call's never), with
 * exactly one of a result and an error.
 *
 * Seeds: the captured replies of tests/unit/data/wire with their _msg_id
 * changed to the offline call's, and the captured casts on their topics.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "fuzz-common.h"
#include "neutron/device-details.h"
#include "neutron/plugin-api.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "oslo/rpc.h"
#include "util.h"

#define MAX_DELIVERIES 16

enum call {
    CALL_DETAILS,
    CALL_UPDATE,
    CALL_REPORT,
    CALL_TUNNEL_SYNC,
    CALL_PULL,
    CALL_PLAIN,
    CALL_CANCELLED,
    N_CALLS
};

/* The agent's topics: those of rpc_listen() and rpc_listen_fanout(). */
static const char *const topics[] = {
    "q-agent-notifier-l2population-update",
    "q-agent-notifier-tunnel-update",
    "q-agent-notifier-tunnel-delete",
};
static const char *const push_topics[] = {
    "neutron-vo-Port-1.7", "neutron-vo-Network-1.1",
    "neutron-vo-SecurityGroup-1.5", "neutron-vo-SecurityGroupRule-1.2",
    "neutron-vo-AddressGroup-1.2",
};

/* How many times each call's callback ran during the current input. */
static int n_done[N_CALLS];

static void
details_cb(void *aux OVS_UNUSED, const char *error,
           const struct device_details *details, size_t n_details,
           const char *const *failed, size_t n_failed)
{
    n_done[CALL_DETAILS]++;
    if (error) {
        fuzz_check_string(error);
        return;
    }
    for (size_t i = 0; i < n_details; i++) {
        const struct device_details *dd = &details[i];
        fuzz_check_string(dd->device);
        if (dd->found) {
            fuzz_check_string(dd->network_id);
            fuzz_check_string(dd->mac);
            fuzz_check_string(dd->network_type);
            for (size_t j = 0; j < dd->n_fixed_ips; j++) {
                fuzz_check_string(dd->fixed_ips[j]);
            }
        }
    }
    for (size_t i = 0; i < n_failed; i++) {
        fuzz_check_string(failed[i]);
    }
}

static void
update_cb(void *aux OVS_UNUSED, const char *error,
          const char *const *failed, size_t n_failed)
{
    n_done[CALL_UPDATE]++;
    if (error) {
        fuzz_check_string(error);
    }
    for (size_t i = 0; i < n_failed; i++) {
        fuzz_check_string(failed[i]);
    }
}

static void
report_cb(void *aux OVS_UNUSED, const char *error, const char *result)
{
    n_done[CALL_REPORT]++;
    if (error && result) {
        abort();
    }
    if (result) {
        fuzz_check_string(result);
    }
}

/* Both tunnel_sync and bulk_pull hand on JSON. */
static void
json_cb(void *aux, const char *error, const struct json *result)
{
    n_done[(intptr_t) aux]++;
    if (!error == !result) {
        abort();
    }
    if (result) {
        free(json_to_string(result, 0));
    }
}

static void
plain_cb(void *aux, const struct json *result, const char *error)
{
    n_done[(intptr_t) aux]++;
    if (!error == !result) {
        abort();
    }
}

static void
request_cb(void *aux OVS_UNUSED, const char *topic, const char *method,
           const struct json *args)
{
    fuzz_check_string(topic);
    fuzz_check_string(method);
    if (!args || args->type != JSON_OBJECT) {
        abort();
    }
}

/* 'name' if it is one of the queues of 'rpc''s listeners, else the reply
 * queue. */
static const char *
known_queue(const struct rpc *rpc, const char *name)
{
    static const char *const suffixes[] = {
        "", ".compute1", "_fanout_offline",
    };
    for (size_t i = 0; i < ARRAY_SIZE(topics); i++) {
        for (size_t j = 0; j < ARRAY_SIZE(suffixes); j++) {
            size_t len = strlen(topics[i]);
            if (!strncmp(name, topics[i], len)
                && !strcmp(name + len, suffixes[j])) {
                return name;
            }
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(push_topics); i++) {
        size_t len = strlen(push_topics[i]);
        if (!strncmp(name, push_topics[i], len)
            && !strcmp(name + len, "_fanout_offline")) {
            return name;
        }
    }
    return rpc_reply_queue(rpc);
}

static const struct agent_config *
get_config(void)
{
    static struct agent_config *cfg;
    if (!cfg) {
        cfg = fuzz_config("[DEFAULT]\n"
                          "host = compute1\n"
                          "transport_url = rabbit://guest:guest@127.0.0.1/\n");
    }
    return cfg;
}

/* The agent's calls, in the order of their offline _msg_ids. */
static void
start_calls(struct rpc *rpc)
{
    static const char *const devices[] = {
        "553355f4-890a-44e2-8d6e-63ffd8b9166c",
        "c5e3a3b6-0d1f-4a5e-9a36-7a1c2f0c8b11",
    };
    plugin_get_devices_details(rpc, "compute1", devices,
                               ARRAY_SIZE(devices), details_cb, NULL);
    plugin_update_device_list(rpc, "compute1", devices, 1, devices + 1, 1,
                              true, 0, update_cb, NULL);
    struct json *state = json_object_create();
    json_object_put_string(state, "binary", "neutron-openvswitch-agent");
    plugin_report_state(rpc, state, 30, report_cb, NULL);
    plugin_tunnel_sync(rpc, "compute1", "192.0.2.1", "vxlan", json_cb,
                       (void *) (intptr_t) CALL_TUNNEL_SYNC);
    plugin_bulk_pull(rpc, "Port", "1.7", "id", devices, ARRAY_SIZE(devices),
                     json_cb, (void *) (intptr_t) CALL_PULL);
    rpc_call(rpc, PLUGIN_TOPIC, "has_alive_neutron_server",
             json_object_create(), "1.0", NULL, 60, plain_cb,
             (void *) (intptr_t) CALL_PLAIN);
    uint64_t id = rpc_call(rpc, PLUGIN_TOPIC, "has_alive_neutron_server",
                           json_object_create(), "1.0", NULL, 60, plain_cb,
                           (void *) (intptr_t) CALL_CANCELLED);
    rpc_cancel(rpc, id);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    struct rpc_settings settings = { .offline = true };
    struct rpc *rpc = rpc_create_with(get_config(), &settings);
    for (size_t i = 0; i < ARRAY_SIZE(topics); i++) {
        rpc_listen(rpc, topics[i], request_cb, NULL);
    }
    for (size_t i = 0; i < ARRAY_SIZE(push_topics); i++) {
        rpc_listen_fanout(rpc, push_topics[i], request_cb, NULL);
    }
    memset(n_done, 0, sizeof n_done);
    start_calls(rpc);

    char *parts[MAX_DELIVERIES];
    size_t n_parts = fuzz_split(data, size, "----", parts, MAX_DELIVERIES);
    for (size_t i = 0; i < n_parts; i++) {
        char *queue = parts[i];
        char *body = strchr(queue, '\n');
        if (body) {
            *body++ = '\0';
            rpc_inject(rpc, known_queue(rpc, queue), body, strlen(body));
        }
        rpc_run(rpc);
        free(parts[i]);
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    rpc_format(rpc, &s);
    ds_destroy(&s);
    rpc_destroy(rpc);

    for (size_t i = 0; i < N_CALLS; i++) {
        if (n_done[i] != (i == CALL_CANCELLED ? 0 : 1)) {
            abort();
        }
    }

    fuzz_check_log();
    return 0;
}
