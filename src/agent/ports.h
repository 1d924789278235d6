/*
 * ports: the VIF ports of the integration bridge and their life cycle,
 * from the Interface row nova/os-vif creates to the port reported ACTIVE.
 *
 * Layer: Neutron logic.  Reads br-int's Interfaces from the OVSDB IDL (a
 * VIF has both external_ids:iface-id and attached-mac), asks the server for
 * each port's details in batches, gives each network a local VLAN, writes
 * the Port's tag and other_config (through vswitch) and its flows (through
 * the bridges' flow tables), and reports the port up once the barrier
 * covering those flows has come back and the tag is in the database.
 *
 * A port's states (ports.c's enum port_state; port_set_state() is the one
 * place that changes them, and logs "old -> new" at debug level):
 *
 *                 new VIF, ofport changed, lost its tag, pushed, resync
 *                                      |
 *                                      v
 *          +---- cache has it ----- FETCH <---- pull answered ----+
 *          |                           |                          |
 *          |                           +--- not in the cache --> FETCHING
 *          v
 *   details applied:
 *     admin up ------------> WIRING --tag, flows, filter in place--> MARK_UP
 *     (ancillary bridge) ------------------------------------------> MARK_UP
 *     admin down ----------> MARK_DOWN (dead VLAN)
 *     not bound here, no VLAN left, deleted on the server --> DEAD (dead
 *                            VLAN; nothing to report)
 *
 *   MARK_UP --update_device_list answered--> UP
 *   MARK_DOWN --answered--> DOWN
 *   any state --left br-int--> GONE --reported down--> freed
 *   GONE --back on br-int--> FETCH
 *
 * A push that reaches a port and changes nothing it is wired by sends it
 * back to the state it left (the port cache drops the Port pushes that
 * change nothing before they get here; a Network push reaches each of its
 * ports).  A port plugged again under another name or ofport, or back
 * while it was GONE, goes through FETCH again as what it is now.
 * A port whose tag was lost while UP is reported down first ("down
 * first"), then goes through FETCH again.  A report in flight is a flag
 * beside the state: a port never has two, and the answer moves the port
 * on only if it is still in the state the report was for.  In-flight
 * pulls are owned by generation number: an answer for an older generation
 * (the port changed or went away meanwhile) moves nothing.
 */
#ifndef OVSAGENT_PORTS_H
#define OVSAGENT_PORTS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json;
struct agent_config;
struct device_details;
struct ds;
struct fw_driver;
struct of_bridge;
struct ovsrec_bridge;
struct rpc;
struct simap;
struct vswitch;

/* The bridges the ports are wired through.  'phys[i]' belongs to
 * cfg->bridge_mappings[i]; 'tun' is NULL without tunnel_types. */
struct ports_bridges {
    struct of_bridge *integ;
    struct of_bridge *tun;
    struct of_bridge **phys;
};

/* What ports tells the owner of the tunnel networks' forwarding databases
 * (agent wires it to tunnels), and asks it.  All NULL without tunnels. */
struct ports_network_hooks {
    void *aux;
    /* A tunnel network got a local VLAN here ('first_pass': while the
     * ports present at start are processed), or lost it. */
    void (*bound)(void *aux, const char *net_id, const char *type,
                  int64_t segid, int lv, bool first_pass);
    void (*released)(void *aux, const char *net_id);
    /* Why a port reported up on 'net_id' should ask for the network's
     * whole forwarding database (refresh_tunnels), or NULL. */
    const char *(*wants_fdb)(void *aux, const char *net_id);
    /* Whether 'net_id' (any network, if NULL) waits for fdb_answered(). */
    bool (*fdb_pending)(void *aux, const char *net_id);
    /* The server answered a refresh_tunnels report for a port of
     * 'net_id', or no port of it here is on its way up. */
    void (*fdb_answered)(void *aux, const char *net_id);
};

/* What ports tells the agent extensions of its ports (agent wires it to
 * extensions.h), where the reference calls its extension manager: handle()
 * once a port's details are applied (wired, or admin down), remove() when
 * it leaves br-int, is deleted on the server, or comes back to br-int
 * (before its handle()). */
struct ports_port_hooks {
    void *aux;
    void (*handle)(void *aux, const char *port_id,
                   const struct device_details *, const char *vif_name,
                   int ofport, int lv);
    void (*remove)(void *aux, const char *port_id);
};

/* 'fw' is the firewall driver (agent owns it); 'hooks' may be NULL. */
struct ports *ports_create(const struct agent_config *, struct vswitch *,
                           const struct ports_bridges *, struct fw_driver *,
                           const struct ports_network_hooks *hooks);
void ports_destroy(struct ports *);
void ports_set_port_hooks(struct ports *, const struct ports_port_hooks *);

/* 'rpc' may be NULL (no transport_url) or not ready: ports are then found
 * and remembered but not wired. */
void ports_run(struct ports *, struct rpc *);
void ports_wait(struct ports *);

/* Reconciles the port set with the 'n' Bridge rows 'bridges' (with their
 * Ports and Interfaces), as ports_run() does with the IDL's rows after
 * each change of the database: the VIFs of the integration bridge and of
 * ancillary bridges are added, changed or found gone.  Fuzzers and tests
 * call it with rows they build themselves. */
void ports_scan_rows(struct ports *,
                     const struct ovsrec_bridge *const *bridges, size_t n);

/* Server notification: a network changed. */
void ports_network_update(struct ports *, const char *network_id);

/* A neutron-vo-Port push: the Port objects of 'resource_list' ('deleted':
 * event_type "deleted") go into the port cache, and the ports whose
 * details changed are processed again.  Returns the number of malformed
 * objects dropped. */
size_t ports_push_ports(struct ports *, const struct json *resource_list,
                        bool deleted);

/* Fetches every port's details again (reconnection, "revived").  The
 * firewall and the forwarding databases are agent's to resync. */
void ports_resync(struct ports *);

/* True once every port present at start has been processed once. */
bool ports_first_pass_done(const struct ports *);

size_t ports_count(const struct ports *);
void ports_get_memory_usage(const struct ports *, struct simap *usage);
void ports_format(const struct ports *, struct ds *);

#endif /* ports.h */
