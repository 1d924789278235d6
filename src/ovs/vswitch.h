/*
 * vswitch: the agent's bridges and interconnect ports in the Open_vSwitch
 * database, kept as the reference agent configures them.
 *
 * Layer: OVS model.  Owns the OVSDB IDL connection to [ovs] ovsdb_connection
 * and every write the agent makes to the database.  Each vswitch_run()
 * compares the database with what the configuration asks for and, when they
 * differ, sends one transaction that adds what is missing:
 *
 *   - the integration bridge and, with tunnel_types, the tunnel bridge
 *     (created if absent, adopted as they are otherwise), and the physical
 *     bridges of bridge_mappings (which must exist already);
 *   - on each: datapath_type, fail_mode=secure, OpenFlow versions,
 *     other_config:mac-table-size, one Controller pointing at our OpenFlow
 *     listener (out-of-band, with the inactivity probe);
 *   - the patch ports br-int <-> br-tun and br-int <-> each physical bridge;
 *   - the Manager record derived from a tcp: ovsdb_connection.
 *
 * Map columns are merged key by key and sets only grow, so keys and values
 * that others wrote are never removed.  Physical interconnect ports are
 * created unlinked (peer "nonexistent-peer") and only linked once the caller
 * says the drop flows guarding them are installed
 * (vswitch_set_phys_linked()), as the reference does.
 */
#ifndef OVSAGENT_VSWITCH_H
#define OVSAGENT_VSWITCH_H 1

#include <stdbool.h>
#include <stdint.h>

struct agent_config;
struct ds;
struct ovsdb_idl;
struct simap;
struct smap;
struct vswitch;

struct vswitch *vswitch_create(const struct agent_config *);
void vswitch_destroy(struct vswitch *);

void vswitch_run(struct vswitch *);
void vswitch_wait(struct vswitch *);

/* True once the IDL holds a complete copy of the database. */
bool vswitch_is_synced(const struct vswitch *);

/* If a physical bridge of bridge_mappings is missing from a synced
 * database, returns its name (the agent exits, as the reference does);
 * otherwise NULL. */
const char *vswitch_missing_phys_bridge(const struct vswitch *);

/* The datapath id of 'bridge', or 0 if unknown. */
uint64_t vswitch_get_dpid(const struct vswitch *, const char *bridge);

/* Adds to 'usage' (memory/show) the database replica's cells and the
 * agent's wishes for ports and tunnels. */
void vswitch_get_memory_usage(const struct vswitch *, struct simap *usage);

/* The OpenFlow port number of interface 'iface' on 'bridge', or -1. */
int vswitch_get_ofport(const struct vswitch *, const char *bridge,
                       const char *iface);


/* Allows (or not yet) the interconnect ports of physical bridge 'bridge'
 * to be linked to each other. */
void vswitch_set_phys_linked(struct vswitch *, const char *bridge, bool);

/* What the agent wants on a VIF's Port row (the reference's port_bound and
 * port_dead writes).  'tag' 0 means "no wish": the row is left alone.
 * With 'clear_trunk' the Port's vlan_mode and trunks are emptied when the
 * tag is written.  'other_config' keys are merged in, never removed. */
void vswitch_set_port(struct vswitch *, const char *port_name, int tag,
                      bool clear_trunk, const struct smap *other_config);

/* Wants tunnel port 'name' on the tunnel bridge, with Interface 'type'
 * and 'options' (merged into an existing port's options). */
void vswitch_set_tunnel(struct vswitch *, const char *name, const char *type,
                        const struct smap *options);

/* Wants tunnel port 'name' gone from the tunnel bridge. */
void vswitch_remove_tunnel(struct vswitch *, const char *name);

/* Stops replicating the Interface rows of the agent's tunnel ports, some
 * 4 KB each in the replica, where the Port rows stay (they are what a
 * deletion names).  For the caller that owns the tunnels to call once the
 * tunnel ports an earlier run left have each been adopted (their options
 * merged by vswitch_set_tunnel()) or deleted: tunnel ports inserted after
 * that are written whole, and their ofports come over OpenFlow
 * (of_bridge_get_ofport()).  Until then, and if never called, everything
 * is replicated. */
void vswitch_drop_tunnel_interfaces(struct vswitch *);

/* True if Open_vSwitch other_config:hw-offload is "true". */
bool vswitch_hw_offload(const struct vswitch *);

/* Forgets the wishes for 'port_name' (the port is gone). */
void vswitch_forget_port(struct vswitch *, const char *port_name);

/* The tag of Port 'port_name' on the integration bridge as the database
 * has it now: the tag, 0 if none, -1 if there is no such port. */
int vswitch_port_tag(const struct vswitch *, const char *port_name);

/* The IDL, for modules above that read ports (read only). */
struct ovsdb_idl *vswitch_idl(const struct vswitch *);

void vswitch_format(const struct vswitch *, struct ds *);

#endif /* vswitch.h */
