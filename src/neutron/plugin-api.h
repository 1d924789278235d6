/*
 * plugin-api: the Neutron server's plugin RPC API as the agent uses it
 * (docs/wire.md §5): device details, device up/down reports, tunnel sync,
 * resource pulls and the agent heartbeat.
 *
 * Layer: Neutron wire API, above the RPC session (rpc.h), below the agent
 * logic.  Builds the arguments exactly as the reference sends them and
 * decodes the results into C values; each call reports once through its
 * callback.
 */
#ifndef OVSAGENT_PLUGIN_API_H
#define OVSAGENT_PLUGIN_API_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device_details;
struct json;
struct rpc;

#define PLUGIN_TOPIC "q-plugin"
#define REPORTS_TOPIC "q-reports-plugin"

/* Chunk size of the reference's rpc_resources_processing_step. */
#define PLUGIN_BATCH 20

/* Details of 'n' devices.  On success 'error' is NULL, 'details' holds the
 * decoded details of the devices the server answered for and 'failed' the
 * ids it failed on; the callee keeps none of them after returning. */
typedef void plugin_details_cb(void *aux, const char *error,
                               const struct device_details *details,
                               size_t n_details,
                               const char *const *failed, size_t n_failed);
uint64_t plugin_get_devices_details(struct rpc *, const char *host,
                                    const char *const *devices, size_t n,
                                    plugin_details_cb *, void *aux);

/* Reports devices up and down, with a timeout of 'timeout_s'.  'failed'
 * lists the ids (up or down) the server could not handle, to be
 * retried. */
typedef void plugin_update_cb(void *aux, const char *error,
                              const char *const *failed, size_t n_failed);
uint64_t plugin_update_device_list(struct rpc *, const char *host,
                                   const char *const *up, size_t n_up,
                                   const char *const *down, size_t n_down,
                                   bool refresh_tunnels, int timeout_s,
                                   plugin_update_cb *, void *aux);

/* Decodes an update_device_list 'result' (any JSON, NULL included): stores
 * in '*failedp' a malloc'd array, never NULL, of the ids in its
 * failed_devices_up and failed_devices_down lists (pointers into 'result';
 * the caller frees the array only) and returns how many there are. */
size_t plugin_update_failed_devices(const struct json *result,
                                    const char ***failedp);

/* report_state: 'state' is the agent_state dict (ownership passes).  The
 * result is "new", "alive", "revived" or NULL. */
typedef void plugin_report_cb(void *aux, const char *error,
                              const char *result);
uint64_t plugin_report_state(struct rpc *, struct json *state, int timeout_s,
                             plugin_report_cb *, void *aux);

/* tunnel_sync for one tunnel type.  On success 'result' is the answer
 * ({"tunnels": [{"ip_address": ..., ...}, ...]}); the callee keeps
 * nothing of it. */
typedef void plugin_tunnel_sync_cb(void *aux, const char *error,
                                   const struct json *result);
uint64_t plugin_tunnel_sync(struct rpc *, const char *host,
                            const char *tunnel_ip, const char *tunnel_type,
                            plugin_tunnel_sync_cb *, void *aux);

/* bulk_pull (docs/wire.md §5.4) of the objects of 'resource_type' (at
 * 'version') whose 'field' is one of 'values'.  On success 'result' is the
 * array of object primitives; the callee keeps nothing of it. */
typedef void plugin_pull_cb(void *aux, const char *error,
                            const struct json *result);
uint64_t plugin_bulk_pull(struct rpc *, const char *resource_type,
                          const char *version, const char *field,
                          const char *const *values, size_t n,
                          plugin_pull_cb *, void *aux);

/* "ovs-agent-<host>", as the reference names itself in calls. */
char *plugin_agent_id(const char *host);

#endif /* plugin-api.h */
