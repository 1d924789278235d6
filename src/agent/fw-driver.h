/*
 * fw-driver: the interface between the agent and a firewall driver
 * ([securitygroup] firewall_driver), and what the reference lets a driver
 * decide (neutron/agent/firewall.py's FirewallDriver and the attributes
 * ovs_neutron_agent.py reads from it).
 *
 * Layer: Neutron logic.  agent creates the driver the configuration names
 * and owns it; ports hands it each port it wires and each port that goes,
 * and asks, before reporting a port up, whether its filter is in place;
 * agent hands it the server's pushes of the types it follows and tells it
 * to resync after a reconnection.  Implementations:
 *
 *   - "noop" (fw-noop.c): filters nothing;
 *   - "openvswitch" (firewall.c): the conntrack firewall in br-int's
 *     OpenFlow tables.
 *
 * The flags a driver sets change what the agent itself does:
 *
 *   - 'ovs_hybrid_plug': the agent reports ovs_hybrid_plug, so the server
 *     binds its ports for a Linux bridge between the VM and br-int (the
 *     iptables drivers' OVS_HYBRID_PLUG_REQUIRED);
 *   - 'provides_arp_spoofing_protection': otherwise the agent writes
 *     br-int's ARP and MAC spoofing tables (24, 25) for each port;
 *   - 'openflow_based': otherwise, with explicitly_egress_direct, the agent
 *     writes each port's accepted-egress-direct flows (the reference's
 *     direct_for_non_openflow_firewall); an OpenFlow driver writes its own.
 */
#ifndef OVSAGENT_FW_DRIVER_H
#define OVSAGENT_FW_DRIVER_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct device_details;
struct ds;
struct json;
struct of_bridge;
struct rpc;

/* A port to filter, as ports wired it. */
struct fw_driver_port {
    const char *id;             /* The Neutron port id. */
    int ofport;
    int lv;                     /* Its network's local VLAN. */
    const struct device_details *dd;
    int egress_direct;          /* FW_EGRESS_DIRECT_* or a patch ofport
                                 * (fw-flows.h). */
};

/* A server resource type a driver follows through pushes. */
struct fw_resource {
    const char *type;           /* "SecurityGroup", ... */
    const char *version;        /* The object version it is pushed at. */
};

struct fw_driver {
    const struct fw_driver_class *class;
};

struct fw_driver_class {
    const char *name;           /* As firewall_driver names it. */
    bool ovs_hybrid_plug;
    bool provides_arp_spoofing_protection;
    bool openflow_based;

    /* The pushes it follows, {NULL}-terminated; NULL for none. */
    const struct fw_resource *resources;

    struct fw_driver *(*create)(const struct agent_config *,
                                struct of_bridge *integ);
    void (*destroy)(struct fw_driver *);

    /* Prepares or updates the filter of 'port'. */
    void (*set_port)(struct fw_driver *, const struct fw_driver_port *port);
    /* Removes port 'id''s filter. */
    void (*remove_port)(struct fw_driver *, const char *id);
    /* The desired-flows seqno of br-int once port 'id''s filter is
     * written, or 0 while it waits for the server's data.  NULL if the
     * filter is in place as soon as set_port() returns. */
    uint64_t (*port_seqno)(const struct fw_driver *, const char *id);

    /* A push of 'type' objects ('deleted' for event_type "deleted").
     * Returns the number of malformed objects dropped. */
    size_t (*push)(struct fw_driver *, const char *type,
                   const struct json *list, bool deleted);
    /* Forgets the server's data and asks for it again. */
    void (*resync)(struct fw_driver *);

    void (*run)(struct fw_driver *, struct rpc *);      /* May be NULL. */
    void (*wait)(struct fw_driver *);                   /* May be NULL. */
    void (*format)(const struct fw_driver *, struct ds *);

    /* DVR's flows for a port on a distributed router's subnet (the
     * reference's firewall flows for DVR).  NULL until DVR comes. */
    void (*dvr_port)(struct fw_driver *, const struct fw_driver_port *port);
};

extern const struct fw_driver_class fw_driver_noop;
extern const struct fw_driver_class fw_driver_openvswitch;

/* The driver that cfg->firewall_driver names. */
struct fw_driver *fw_driver_create(const struct agent_config *,
                                   struct of_bridge *integ);
void fw_driver_destroy(struct fw_driver *);

static inline const struct fw_driver_class *
fw_driver_class(const struct fw_driver *fw)
{
    return fw->class;
}

void fw_driver_set_port(struct fw_driver *, const struct fw_driver_port *);
void fw_driver_remove_port(struct fw_driver *, const char *id);
uint64_t fw_driver_port_seqno(const struct fw_driver *, const char *id,
                              uint64_t wired_seqno);
size_t fw_driver_push(struct fw_driver *, const char *type,
                      const struct json *list, bool deleted);
void fw_driver_resync(struct fw_driver *);
void fw_driver_run(struct fw_driver *, struct rpc *);
void fw_driver_wait(struct fw_driver *);
void fw_driver_format(const struct fw_driver *, struct ds *);

#endif /* fw-driver.h */
