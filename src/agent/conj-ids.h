/*
 * conj-ids: conjunction ids of the openvswitch firewall, allocated as the
 * reference allocates them, so that the flows compare equal.
 *
 * A rule whose remote is a security group (or an address group) is matched
 * by a conjunction of the port's flow and the remote members' flows.  Each
 * key (security group, remote group, direction, ethertype) gets a base id,
 * a multiple of 8: a rule uses base + 2 * offset and base + 2 * offset + 1
 * (offset 0 to 3, its priority offset), for its "established" and "new"
 * flows.  Bases are handed out in steps of 8 above the highest id already
 * on the bridge when the agent starts (so 16 on a clean bridge), freed ids
 * are used again first, oldest first, and ids wrap to 0 past 2^32 - 8.
 *
 * Layer: agent logic, pure (no I/O).
 */
#ifndef OVSAGENT_CONJ_IDS_H
#define OVSAGENT_CONJ_IDS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* 'highest_seen' is the highest conj_id matched by a flow of the firewall
 * tables (71, 72, 73, 81, 82) of br-int when the agent starts, 0 for
 * none. */
struct conj_ids *conj_ids_create(uint32_t highest_seen);
void conj_ids_destroy(struct conj_ids *);

/* The base id of a key, allocated if it has none. */
uint32_t conj_ids_get(struct conj_ids *, const char *sg_id,
                      const char *remote_id, bool ingress, bool ipv6);

/* Frees the ids of every key that names 'sg_id' as its group or as its
 * remote.  Returns how many. */
size_t conj_ids_delete_sg(struct conj_ids *, const char *sg_id);

size_t conj_ids_count(const struct conj_ids *);

#endif /* conj-ids.h */
