/*
 * agent-state: report_state.  See agent-state.h.
 */
#include <config.h>
#include "log-safe.h"
#include "coverage.h"
#include "neutron/agent-state.h"

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "neutron/plugin-api.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "oslo/rpc.h"
#include "timeval.h"
#include "util.h"
#include "uuid.h"

VLOG_DEFINE_THIS_MODULE(agent_state);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same. */
COVERAGE_DEFINE(report_state_sent);
COVERAGE_DEFINE(report_state_failed);

struct agent_state {
    const struct agent_config *cfg;
    bool ovs_hybrid_plug;       /* The firewall driver's choice. */
    long long int next_report;
    bool in_flight;
    bool start_flag;            /* Until the first pass is done (again). */
    bool flag_acked;            /* A report carrying start_flag took. */
    bool versions_sent;         /* A report with resource_versions took. */
    bool revived;
    bool blocked;               /* No broker or no OVS: nothing to time. */
    char *last_result;
    unsigned long long n_reports, n_failures;
};

/* The OVO versions the reference agent can consume (Zed). */
static const char *const resource_versions[][2] = {
    {"AddressGroup", "1.2"}, {"Agent", "1.1"}, {"ConntrackHelper", "1.0"},
    {"LocalIPAssociation", "1.0"}, {"Log", "1.0"}, {"NDPProxy", "1.0"},
    {"Network", "1.1"}, {"Port", "1.7"}, {"PortForwarding", "1.3"},
    {"QosPolicy", "1.10"}, {"SecurityGroup", "1.5"},
    {"SecurityGroupRule", "1.2"}, {"SubPort", "1.0"}, {"Subnet", "1.1"},
    {"Trunk", "1.1"},
};

struct agent_state *
agent_state_create(const struct agent_config *cfg, bool ovs_hybrid_plug)
{
    struct agent_state *as = xzalloc(sizeof *as);
    as->cfg = cfg;
    as->ovs_hybrid_plug = ovs_hybrid_plug;
    as->start_flag = true;
    return as;
}

void
agent_state_destroy(struct agent_state *as)
{
    if (as) {
        free(as->last_result);
        free(as);
    }
}

static struct json *
inventory_defaults(void)
{
    struct json *j = json_object_create();
    json_object_put(j, "allocation_ratio", json_real_create(1.0));
    json_object_put(j, "min_unit", json_integer_create(1));
    json_object_put(j, "step_size", json_integer_create(1));
    json_object_put(j, "reserved", json_integer_create(0));
    return j;
}

static struct json *
configurations(const struct agent_state *as, size_t n_devices)
{
    const struct agent_config *cfg = as->cfg;
    struct json *c = json_object_create();
    struct json *mappings = json_object_create();
    struct json *hypervisors = json_object_create();
    for (size_t i = 0; i < cfg->n_bridge_mappings; i++) {
        json_object_put_string(mappings, cfg->bridge_mappings[i].physnet,
                               cfg->bridge_mappings[i].bridge);
        json_object_put_string(hypervisors, cfg->bridge_mappings[i].bridge,
                               cfg->host);
    }
    json_object_put(c, "bridge_mappings", mappings);
    json_object_put_string(c, "integration_bridge", cfg->integration_bridge);
    struct json *types = json_array_create_empty();
    for (size_t i = 0; i < cfg->n_tunnel_types; i++) {
        json_array_add(types, json_string_create(cfg->tunnel_type_names[i]));
    }
    json_object_put(c, "tunnel_types", types);
    json_object_put(c, "tunneling_ip",
                    cfg->local_ip ? json_string_create(cfg->local_ip)
                                  : json_null_create());
    json_object_put(c, "l2_population",
                    json_boolean_create(cfg->l2_population));
    json_object_put(c, "arp_responder_enabled",
                    json_boolean_create(cfg->arp_responder
                                        && cfg->l2_population));
    json_object_put(c, "enable_distributed_routing",
                    json_boolean_create(false));
    json_object_put(c, "in_distributed_mode", json_boolean_create(false));
    json_object_put(c, "ovs_hybrid_plug",
                    json_boolean_create(as->ovs_hybrid_plug));
    json_object_put_string(c, "datapath_type", cfg->datapath_type);

    struct json *caps = json_object_create();
    struct json *dps = json_array_create_empty();
    json_array_add(dps, json_string_create("netdev"));
    json_array_add(dps, json_string_create("system"));
    json_object_put(caps, "datapath_types", dps);
    struct json *ifaces = json_array_create_empty();
    static const char *const iface_types[] = {
        "geneve", "gre", "internal", "ip6gre", "patch", "system", "tap",
        "vxlan",
    };
    for (size_t i = 0; i < ARRAY_SIZE(iface_types); i++) {
        json_array_add(ifaces, json_string_create(iface_types[i]));
    }
    json_object_put(caps, "iface_types", ifaces);
    json_object_put(c, "ovs_capabilities", caps);

    json_object_put_string(c, "vhostuser_socket_dir", "/var/run/openvswitch");
    json_object_put(c, "baremetal_smartnic", json_boolean_create(false));
    json_object_put(c, "resource_provider_bandwidths", json_object_create());
    json_object_put(c, "resource_provider_hypervisors", hypervisors);
    json_object_put(c, "resource_provider_inventory_defaults",
                    inventory_defaults());
    json_object_put(c, "resource_provider_packet_processing_without_direction",
                    json_object_create());
    json_object_put(c, "resource_provider_packet_processing_with_direction",
                    json_object_create());
    json_object_put(c, "resource_provider_packet_processing_inventory_defaults",
                    inventory_defaults());
    json_object_put(c, "extensions", json_array_create_empty());
    json_object_put(c, "log_agent_heartbeats", json_boolean_create(false));
    json_object_put(c, "devices", json_integer_create(n_devices));
    return c;
}

static struct json *
state_json(const struct agent_state *as, size_t n_devices)
{
    const struct agent_config *cfg = as->cfg;
    struct json *s = json_object_create();
    json_object_put_string(s, "binary", "neutron-openvswitch-agent");
    json_object_put_string(s, "host", cfg->host);
    json_object_put_string(s, "topic", "N/A");
    json_object_put_string(s, "agent_type", "Open vSwitch agent");
    if (as->start_flag) {
        json_object_put(s, "start_flag", json_boolean_create(true));
    }
    struct uuid uuid;
    uuid_generate(&uuid);
    json_object_put(s, "uuid", json_string_create_nocopy(
                               xasprintf(UUID_FMT, UUID_ARGS(&uuid))));
    if (!as->versions_sent) {
        struct json *rv = json_object_create();
        for (size_t i = 0; i < ARRAY_SIZE(resource_versions); i++) {
            json_object_put_string(rv, resource_versions[i][0],
                                   resource_versions[i][1]);
        }
        json_object_put(s, "resource_versions", rv);
    }
    json_object_put(s, "configurations", configurations(as, n_devices));
    return s;
}

struct report_ctx {
    struct agent_state *as;
    bool had_versions;
    bool had_flag;
};

static void
report_done(void *ctx_, const char *error, const char *result)
{
    struct report_ctx *ctx = ctx_;
    struct agent_state *as = ctx->as;
    as->in_flight = false;
    if (error) {
        as->n_failures++;
        COVERAGE_INC(report_state_failed);
        VLOG_WARN("report_state failed: %s", log_safe(error));
    } else {
        as->n_reports++;
        COVERAGE_INC(report_state_sent);
        if (ctx->had_versions) {
            as->versions_sent = true;
        }
        if (ctx->had_flag && as->start_flag) {
            as->flag_acked = true;
        }
        if (result && !strcmp(result, "revived")) {
            VLOG_INFO("the server had considered this agent dead; "
                      "resyncing");
            as->revived = true;
        }
        if (!as->last_result
            || !nullable_string_is_equal(as->last_result, result)) {
            VLOG_INFO("report_state: %s", log_safe(result));
        }
        free(as->last_result);
        as->last_result = nullable_xstrdup(result);
    }
    free(ctx);
}

void
agent_state_run(struct agent_state *as, struct rpc *rpc, bool ovs_ok,
                size_t n_devices, bool started)
{
    if (started && as->start_flag && as->flag_acked) {
        /* The report after the first full pass goes without the flag. */
        as->start_flag = false;
    }
    /* Without the broker or OVS there is nothing to report; their own
     * modules wake the loop when they come back. */
    as->blocked = !rpc || !rpc_is_ready(rpc) || !ovs_ok;
    if (as->blocked || as->in_flight || time_msec() < as->next_report) {
        return;
    }
    as->next_report = time_msec() + as->cfg->report_interval * 1000LL;
    struct report_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->as = as;
    ctx->had_versions = !as->versions_sent;
    ctx->had_flag = as->start_flag;
    as->in_flight = true;
    plugin_report_state(rpc, state_json(as, n_devices),
                        MAX(as->cfg->report_interval, 1), report_done, ctx);
}

void
agent_state_wait(struct agent_state *as)
{
    if (!as->in_flight && !as->blocked) {
        poll_timer_wait_until(as->next_report);
    }
}

void
agent_state_restart(struct agent_state *as)
{
    as->start_flag = true;
    as->flag_acked = false;
    as->next_report = 0;
}

bool
agent_state_take_revived(struct agent_state *as)
{
    bool r = as->revived;
    as->revived = false;
    return r;
}

void
agent_state_format(const struct agent_state *as, struct ds *s)
{
    ds_put_format(s, "report_state: %llu sent, %llu failed, last answer %s%s\n",
                  as->n_reports, as->n_failures,
                  as->last_result ? log_safe(as->last_result) : "(none)",
                  as->start_flag ? ", start_flag on" : "");
}
