/*
 * base-flows: the flows every bridge carries whatever ports exist, as the
 * reference agent installs them at start (br-int default flows and canary,
 * the openvswitch firewall's fixed tables, br-tun's pipeline skeleton with
 * its learn flow, the physical bridges' NORMAL and interconnect drops).
 *
 * Layer: Neutron logic.  Writes desired flows (owner "base") into the
 * bridges' flow tables; never talks to a switch.
 */
#ifndef OVSAGENT_BASE_FLOWS_H
#define OVSAGENT_BASE_FLOWS_H 1

#include <stddef.h>

#include "agent/of-tables.h"

struct agent_config;
struct flow_table;

/* The tables each kind of bridge owns: the reference's stale-flow cleanup
 * lists (OFT_INT_BR_ALL_TABLES, OFT_TUN_BR_ALL_TABLES,
 * OFT_PHY_BR_ALL_TABLES), scanned for flows left by a previous run. */
extern const unsigned char base_flows_int_tables[];
extern const size_t base_flows_n_int_tables;
extern const unsigned char base_flows_tun_tables[];
extern const size_t base_flows_n_tun_tables;
extern const unsigned char base_flows_phys_tables[];
extern const size_t base_flows_n_phys_tables;

/* The br-int table of the canary flow, whose loss tells of a switch
 * restart.  Kept for callers; new code uses OFT_CANARY_TABLE. */
#define BASE_FLOWS_CANARY_TABLE OFT_CANARY_TABLE

/* Ports the base flows refer to; -1 where the ofport is not known yet, in
 * which case the flows that need it are left out for now. */
struct base_flows_ports {
    int patch_tun;              /* br-int's end of the br-tun patch. */
    int patch_int;              /* br-tun's end. */
    const int *int_phys;        /* br-int's end, per bridge_mappings entry. */
    size_t n_int_phys;
};

void base_flows_int(struct flow_table *, const struct agent_config *,
                    const struct base_flows_ports *);
void base_flows_tun(struct flow_table *, const struct agent_config *,
                    const struct base_flows_ports *);
/* 'phy_int' is the physical bridge's end of its interconnect patch. */
void base_flows_phys(struct flow_table *, const struct agent_config *,
                     int phy_int);

#endif /* base-flows.h */
