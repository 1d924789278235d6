/*
 * local-vlan: the integration bridge's local VLAN per network.
 *
 * Layer: Neutron logic (pure bookkeeping, no I/O).  Each (network id,
 * segmentation id) pair that has ports on this host gets one VLAN in 1..4094
 * (4095 is the dead VLAN).  Allocation is next-fit with wrap-around, the
 * order the reference's Python set happens to give, so that a fresh start
 * hands out 1, 2, 3... as the reference does.
 *
 * After an agent restart the VLANs found on existing ports (Port tag with
 * other_config net_uuid/segmentation_id) are offered as hints: a network
 * provisioned again gets its old VLAN back, so traffic keeps flowing.
 */
#ifndef OVSAGENT_LOCAL_VLAN_H
#define OVSAGENT_LOCAL_VLAN_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct local_vlans;

#define LOCAL_VLAN_DEAD 4095

struct local_vlans *local_vlans_create(void);
void local_vlans_destroy(struct local_vlans *);

/* Records that 'vlan' was in use for (net_id, segmentation_id) before a
 * restart ('segmentation_id' NULL or "None" for flat and local networks).
 * The first hint for a network wins; the VLAN leaves the free pool. */
void local_vlans_add_hint(struct local_vlans *, const char *net_id,
                          const char *segmentation_id, int vlan);

/* Returns the VLAN of (net_id, segid), allocating one (a hint first) if
 * needed; 'segid' < 0 means none.  Returns -1 if the pool is exhausted.
 * '*is_new' tells whether the network was just provisioned. */
int local_vlans_get(struct local_vlans *, const char *net_id, int64_t segid,
                    bool *is_new);

/* The VLAN of (net_id, segid), or -1; never allocates. */
int local_vlans_lookup(const struct local_vlans *, const char *net_id,
                       int64_t segid);

/* Releases the VLAN of (net_id, segid). */
void local_vlans_release(struct local_vlans *, const char *net_id,
                         int64_t segid);

/* Returns the hints nobody claimed to the free pool (after the first full
 * pass over the ports). */
void local_vlans_drop_hints(struct local_vlans *);

void local_vlans_format(const struct local_vlans *, struct ds *);

#endif /* local-vlan.h */
