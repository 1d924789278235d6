/*
 * port-flows: the flows the reference writes for a network with ports on
 * this host (local VLAN <-> segment translation) and for each bound port
 * (ARP/MAC anti-spoofing when the firewall does not provide it, the drop
 * of a dead port).
 *
 * Layer: Neutron logic.  Each function replaces the flows of one owner in
 * the bridges' flow tables; clearing the owner removes them.
 */
#ifndef OVSAGENT_PORT_FLOWS_H
#define OVSAGENT_PORT_FLOWS_H 1

#include <stdbool.h>
#include <stdint.h>

struct device_details;
struct flow_table;

/* A network as wired on this host. */
struct net_wiring {
    const char *network_type;   /* "vxlan", "gre", "geneve", "vlan", ... */
    int64_t segmentation_id;    /* -1: none. */
    int lv;                     /* Local VLAN. */
    int int_phys_ofport;        /* br-int end of the physnet patch, or -1. */
    int phy_int_ofport;         /* Physical bridge end, or -1. */
};

/* Installs the network's translation flows under 'owner': br-tun's tunnel
 * id -> VLAN flow for tunnel networks ('tun' may be NULL without tunnels),
 * br-int's inbound and the physical bridge's outbound translation for
 * flat and VLAN networks ('phys' NULL if the physnet is not mapped). */
void port_flows_network(struct flow_table *integ, struct flow_table *tun,
                        struct flow_table *phys, const char *owner,
                        const struct net_wiring *);

/* Installs the ARP/MAC anti-spoofing flows of a bound port (noop
 * firewall), or nothing if its port security is off or it is a network:*
 * port. */
void port_flows_antispoof(struct flow_table *integ, const char *owner,
                          int ofport, const struct device_details *);

/* The accepted-egress-direct flows of a port whose firewall is not an
 * OpenFlow one, under explicitly_egress_direct (the reference's
 * install_accepted_egress_direct_flow()): its traffic to local ports goes
 * straight out through table 61, and the rest to its network's patch port
 * 'patch_ofport' (none if negative). */
void port_flows_egress_direct(struct flow_table *integ, const char *owner,
                              int ofport, int lv, const char *mac,
                              int patch_ofport);

/* Installs the drop of a dead port (admin down, deleted, unknown). */
void port_flows_dead(struct flow_table *integ, const char *owner, int ofport);

#endif /* port-flows.h */
