/*
 * plugin-api: the server's plugin RPC API.  See plugin-api.h.
 *
 * Each call allocates a small context carrying the caller's callback; the
 * RPC layer's reply callback decodes the result, hands it on and frees the
 * context.  Callers never cancel these calls (a cancelled call would leak
 * its context): they check a late answer against their own state instead
 * and ignore what no longer applies.
 */
#include <config.h>
#include "log-safe.h"
#include "neutron/plugin-api.h"

#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "json-util.h"
#include "neutron/device-details.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "oslo/oslo-msg.h"
#include "oslo/rpc.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(plugin_api);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Timeout of the plugin calls: oslo's rpc_response_timeout default. */
#define CALL_TIMEOUT 60

char *
plugin_agent_id(const char *host)
{
    return xasprintf("ovs-agent-%s", host);
}

static struct json *
string_array(const char *const *items, size_t n)
{
    struct json *a = json_array_create_empty();
    for (size_t i = 0; i < n; i++) {
        json_array_add(a, json_string_create(items[i]));
    }
    return a;
}

/* Adds the "agent_id" and "host" arguments every plugin call carries. */
static void
add_identity(struct json *args, const char *host)
{
    json_object_put(args, "agent_id",
                           json_string_create_nocopy(plugin_agent_id(host)));
    json_object_put_string(args, "host", host);
}

/* Collects the strings of array 'j' into 'out' (pointers into 'j'). */
static size_t
collect_strings(const struct json *j, const char ***out)
{
    size_t n = 0;
    /* Never NULL, even for a reply without the list: callers copy from it
     * and hand it on, and memcpy() from NULL is undefined even for 0 bytes. */
    *out = xcalloc(1, sizeof **out);
    if (j && j->type == JSON_ARRAY) {
        const struct json_array *a = json_array(j);
        free(*out);
        *out = xcalloc(a->n + 1, sizeof **out);
        for (size_t i = 0; i < a->n; i++) {
            if (a->elems[i]->type == JSON_STRING) {
                (*out)[n++] = json_string(a->elems[i]);
            } else if (a->elems[i]->type == JSON_OBJECT) {
                /* devices_down items are {"device": id, "exists": bool}. */
                const struct json *d = shash_find_data(
                    json_object(a->elems[i]), "device");
                if (d && d->type == JSON_STRING) {
                    (*out)[n++] = json_string(d);
                }
            }
        }
    }
    return n;
}

/* get_devices_details_list_and_failed_devices. */

struct details_ctx {
    plugin_details_cb *cb;
    void *aux;
};

static void
details_reply(void *ctx_, const struct json *result, const char *error)
{
    struct details_ctx *ctx = ctx_;
    if (error) {
        ctx->cb(ctx->aux, error, NULL, 0, NULL, 0);
        free(ctx);
        return;
    }
    const struct json *devices = json_member(result, "devices");
    if (!devices || devices->type != JSON_ARRAY) {
        ctx->cb(ctx->aux, "device details: malformed reply", NULL, 0, NULL,
                0);
        free(ctx);
        return;
    }
    const struct json_array *a = json_array(devices);
    struct device_details *dds = xcalloc(a->n + 1, sizeof *dds);
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++) {
        char *err = device_details_from_json(a->elems[i], &dds[n]);
        if (err) {
            VLOG_WARN_RL(&rl, "%s", log_safe(err));
            free(err);
        } else {
            n++;
        }
    }
    const char **failed;
    size_t n_failed = collect_strings(json_member(result, "failed_devices"),
                                      &failed);
    ctx->cb(ctx->aux, NULL, dds, n, failed, n_failed);
    for (size_t i = 0; i < n; i++) {
        device_details_destroy(&dds[i]);
    }
    free(dds);
    free(failed);
    free(ctx);
}

uint64_t
plugin_get_devices_details(struct rpc *rpc, const char *host,
                           const char *const *devices, size_t n,
                           plugin_details_cb *cb, void *aux)
{
    struct json *args = json_object_create();
    json_object_put(args, "devices", string_array(devices, n));
    add_identity(args, host);
    struct details_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->cb = cb;
    ctx->aux = aux;
    return rpc_call(rpc, PLUGIN_TOPIC,
                    "get_devices_details_list_and_failed_devices", args,
                    "1.5", NULL, CALL_TIMEOUT, details_reply, ctx);
}

/* update_device_list. */

struct update_ctx {
    plugin_update_cb *cb;
    void *aux;
};

size_t
plugin_update_failed_devices(const struct json *result,
                             const char ***failedp)
{
    const char **up, **down;
    size_t n_up = collect_strings(json_member(result, "failed_devices_up"),
                                  &up);
    size_t n_down = collect_strings(json_member(result,
                                                "failed_devices_down"),
                                    &down);
    const char **all = xcalloc(n_up + n_down + 1, sizeof *all);
    memcpy(all, up, n_up * sizeof *all);
    memcpy(all + n_up, down, n_down * sizeof *all);
    free(up);
    free(down);
    *failedp = all;
    return n_up + n_down;
}

static void
update_reply(void *ctx_, const struct json *result, const char *error)
{
    struct update_ctx *ctx = ctx_;
    if (error) {
        ctx->cb(ctx->aux, error, NULL, 0);
    } else {
        const char **failed;
        size_t n = plugin_update_failed_devices(result, &failed);
        ctx->cb(ctx->aux, NULL, failed, n);
        free(failed);
    }
    free(ctx);
}

uint64_t
plugin_update_device_list(struct rpc *rpc, const char *host,
                          const char *const *up, size_t n_up,
                          const char *const *down, size_t n_down,
                          bool refresh_tunnels, int timeout_s,
                          plugin_update_cb *cb, void *aux)
{
    struct json *args = json_object_create();
    json_object_put(args, "devices_up", string_array(up, n_up));
    json_object_put(args, "devices_down", string_array(down, n_down));
    add_identity(args, host);
    json_object_put(args, "refresh_tunnels",
                    json_boolean_create(refresh_tunnels));
    struct update_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->cb = cb;
    ctx->aux = aux;
    return rpc_call(rpc, PLUGIN_TOPIC, "update_device_list", args, "1.9",
                    NULL, timeout_s > 0 ? timeout_s : CALL_TIMEOUT, update_reply, ctx);
}

/* report_state. */

struct report_ctx {
    plugin_report_cb *cb;
    void *aux;
};

static void
report_reply(void *ctx_, const struct json *result, const char *error)
{
    struct report_ctx *ctx = ctx_;
    ctx->cb(ctx->aux, error,
            !error && result && result->type == JSON_STRING
            ? json_string(result) : NULL);
    free(ctx);
}

uint64_t
plugin_report_state(struct rpc *rpc, struct json *state, int timeout_s,
                    plugin_report_cb *cb, void *aux)
{
    /* The state travels nested twice: args.agent_state.agent_state. */
    struct json *outer = json_object_create();
    json_object_put(outer, "agent_state", state);
    struct json *args = json_object_create();
    json_object_put(args, "agent_state", outer);

    /* UTC with microseconds, the only format the server parses. */
    json_object_put(args, "time",
                    json_string_create_nocopy(oslo_msg_utc_time('T')));

    struct report_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->cb = cb;
    ctx->aux = aux;
    return rpc_call(rpc, REPORTS_TOPIC, "report_state", args, "1.2", NULL,
                    timeout_s, report_reply, ctx);
}

/* tunnel_sync. */

struct tunnel_sync_ctx {
    plugin_tunnel_sync_cb *cb;
    void *aux;
};

static void
tunnel_sync_reply(void *ctx_, const struct json *result, const char *error)
{
    struct tunnel_sync_ctx *ctx = ctx_;
    ctx->cb(ctx->aux, error, error ? NULL : result);
    free(ctx);
}

uint64_t
plugin_tunnel_sync(struct rpc *rpc, const char *host, const char *tunnel_ip,
                   const char *tunnel_type, plugin_tunnel_sync_cb *cb,
                   void *aux)
{
    struct json *args = json_object_create();
    json_object_put_string(args, "tunnel_ip", tunnel_ip);
    json_object_put_string(args, "tunnel_type", tunnel_type);
    json_object_put_string(args, "host", host);
    struct tunnel_sync_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->cb = cb;
    ctx->aux = aux;
    return rpc_call(rpc, PLUGIN_TOPIC, "tunnel_sync", args, "1.4", NULL,
                    CALL_TIMEOUT, tunnel_sync_reply, ctx);
}

/* bulk_pull. */

struct pull_ctx {
    plugin_pull_cb *cb;
    void *aux;
};

static void
pull_reply(void *ctx_, const struct json *result, const char *error)
{
    struct pull_ctx *ctx = ctx_;
    if (!error && (!result || result->type != JSON_ARRAY)) {
        error = "bulk_pull: the result is not a list";
    }
    ctx->cb(ctx->aux, error, error ? NULL : result);
    free(ctx);
}

uint64_t
plugin_bulk_pull(struct rpc *rpc, const char *resource_type,
                 const char *version, const char *field,
                 const char *const *values, size_t n,
                 plugin_pull_cb *cb, void *aux)
{
    struct json *args = json_object_create();
    json_object_put_string(args, "resource_type", resource_type);
    json_object_put_string(args, "version", version);
    struct json *filter = json_object_create();
    json_object_put(filter, field, string_array(values, n));
    json_object_put(args, "filter_kwargs", filter);
    struct pull_ctx *ctx = xmalloc(sizeof *ctx);
    ctx->cb = cb;
    ctx->aux = aux;
    return rpc_call(rpc, PLUGIN_TOPIC, "bulk_pull", args, "1.1", NULL,
                    CALL_TIMEOUT, pull_reply, ctx);
}
