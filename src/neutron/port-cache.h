/*
 * port-cache: the agent's copy of the server's Port objects for the ports
 * of this host, and the port details computed from them.
 *
 * The 21.x reference agent does not ask the server for port details: it
 * keeps the server's Port objects in a cache, filled by bulk_pull when a
 * port is first seen and kept current by the neutron-vo-Port pushes the
 * server sends on every change (docs/wire.md §5.4, §6.2), and computes the
 * details from it.  ovsagent does the same, so that wiring a port the
 * server has already announced costs no round trip to the server.
 *
 * Only what details need is kept, per port: the details themselves and
 * the object's revision_number.  A push for a port that is neither in the
 * cache nor bound to this host is of no interest and is not kept, so the
 * cache grows with this host's ports, not with the cloud's.
 *
 * Layer: Neutron state (no I/O, no logging above debug).
 */
#ifndef OVSAGENT_PORT_CACHE_H
#define OVSAGENT_PORT_CACHE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct device_details;
struct json;

/* The Port object version ovsagent parses (the Zed server's own). */
#define PORT_CACHE_PORT_VERSION "1.7"

struct port_cache *port_cache_create(const char *host);
void port_cache_destroy(struct port_cache *);

/* Looks up 'id'.  Returns false if the cache knows nothing of it (pull
 * it), true with '*dd' filled (dd->found false for a port the server does
 * not have, or has not bound here); the caller destroys '*dd'. */
bool port_cache_details(const struct port_cache *, const char *id,
                        struct device_details *dd);

/* Called for each port whose details changed ('deleted': the server
 * deleted it). */
typedef void port_cache_changed_cb(void *aux, const char *id, bool deleted);

/* Applies a neutron-vo-Port push: 'resource_list' is its array of Port
 * primitives, 'deleted' true for event_type "deleted".  Updates older than
 * the cached revision, and updates after a delete, are ignored, as the
 * reference ignores them.  Returns the number of primitives that were not
 * Port objects (dropped). */
size_t port_cache_push(struct port_cache *, const struct json *resource_list,
                       bool deleted, port_cache_changed_cb *, void *aux);

/* Records that the server deleted port 'id', cached or not, and returns
 * true if that is news.  For a port of this host whose details are being
 * pulled: the pull's answer, which the server may have computed before the
 * delete and which may arrive after its push, must not revive it. */
bool port_cache_mark_deleted(struct port_cache *, const char *id);

/* Applies a bulk_pull answer for the ids 'asked': the Port primitives in
 * 'result' are cached, and every asked id absent from it is cached as
 * unknown to the server.  Returns the number of malformed primitives. */
size_t port_cache_pulled(struct port_cache *, const char *const *asked,
                         size_t n_asked, const struct json *result);

/* Forgets every port (after a reconnection: pushes may have been lost). */
void port_cache_clear(struct port_cache *);

/* Forgets the ports of network 'net_id' (its segments may have changed,
 * which the Port objects cached do not show). */
void port_cache_forget_network(struct port_cache *, const char *net_id);

size_t port_cache_count(const struct port_cache *);

/* Codec: the details of one Port primitive as the reference computes them
 * for this 'host' (not found without binding levels, a segment or an
 * ACTIVE binding; "no active binding" for a compute port whose ACTIVE
 * binding is on another host).  Returns NULL and fills '*dd' and
 * '*revision', or a malloc'd error. */
char *port_cache_details_from_ovo(const struct json *primitive,
                                  const char *host, struct device_details *dd,
                                  int64_t *revision);

#endif /* port-cache.h */
