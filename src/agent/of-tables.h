/*
 * of-tables: the OpenFlow table numbers of the agent's pipelines on br-int,
 * br-tun and the physical bridges, in one place.
 *
 * This mirrors the "OpenFlow table IDs" section of neutron-lib 3.1.0's
 * neutron_lib/plugins/ml2/ovs_constants.py (the release neutron 21.0.0,
 * Zed, runs on; Zed's neutron no longer keeps its own copy in
 * neutron/plugins/ml2/drivers/openvswitch/agent/common/constants.py).
 * Each name is the reference's with an OFT_ prefix, each value the
 * reference's, listed in its order, including the tables this agent does
 * not write yet (DVR, DHCP, local IP, packet rate limit, bagpipe), so
 * that the code that will need them finds them here.  Note that the
 * numbering is Zed's: later neutron-lib releases renumber some tables
 * (PACKET_RATE_LIMIT is 58 from Antelope on).
 *
 * Every value is a plain decimal literal, so that OVS_STRINGIZE(OFT_X)
 * gives its digits for string-literal concatenation; flow text is usually
 * built with "table=%d" and the constant as an argument instead.
 *
 * Layer: Neutron logic (the pipeline is Neutron's, not the switch's).
 * Constants only.
 */
#ifndef OVSAGENT_OF_TABLES_H
#define OVSAGENT_OF_TABLES_H 1

#include <string.h>

/* --- Integration bridge (br-int). */

#define OFT_LOCAL_SWITCHING 0

/* DVR. */
#define OFT_DVR_TO_SRC_MAC 1
#define OFT_DVR_TO_SRC_MAC_PHYSICAL 2
#define OFT_ARP_DVR_MAC_TO_DST_MAC 3
#define OFT_ARP_DVR_MAC_TO_DST_MAC_PHYSICAL 4
#define OFT_CANARY_TABLE 23

/* ARP poisoning/spoofing prevention. */
#define OFT_ARP_SPOOF_TABLE 24

/* MAC spoof filtering. */
#define OFT_MAC_SPOOF_TABLE 25

#define OFT_LOCAL_EGRESS_TABLE 30
#define OFT_LOCAL_IP_TABLE 31

/* Packet rate limit (QoS). */
#define OFT_PACKET_RATE_LIMIT 59
/* Decides whether further filtering is needed. */
#define OFT_TRANSIENT_TABLE 60
#define OFT_LOCAL_MAC_DIRECT 61
#define OFT_TRANSIENT_EGRESS_TABLE 62

/* DHCP (the agent's DHCP extension). */
#define OFT_DHCP_IPV4_TABLE 77
#define OFT_DHCP_IPV6_TABLE 78

/* The openvswitch firewall. */
#define OFT_BASE_EGRESS_TABLE 71
#define OFT_RULES_EGRESS_TABLE 72
#define OFT_ACCEPT_OR_INGRESS_TABLE 73
#define OFT_BASE_INGRESS_TABLE 81
#define OFT_RULES_INGRESS_TABLE 82

/* OVS_FIREWALL_TABLES, as an initializer list. */
#define OFT_OVS_FIREWALL_TABLES                                         \
    OFT_BASE_EGRESS_TABLE,                                              \
    OFT_RULES_EGRESS_TABLE,                                             \
    OFT_ACCEPT_OR_INGRESS_TABLE,                                        \
    OFT_BASE_INGRESS_TABLE,                                             \
    OFT_RULES_INGRESS_TABLE

/* The parties interacting with the openvswitch firewall. */
#define OFT_ACCEPTED_EGRESS_TRAFFIC_TABLE 91
#define OFT_ACCEPTED_INGRESS_TRAFFIC_TABLE 92
#define OFT_DROPPED_TRAFFIC_TABLE 93
#define OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE 94

/* INT_BR_ALL_TABLES, as an initializer list, in the reference's order
 * (which leaves out ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE). */
#define OFT_INT_BR_ALL_TABLES                                           \
    OFT_LOCAL_SWITCHING,                                                \
    OFT_DVR_TO_SRC_MAC,                                                 \
    OFT_DVR_TO_SRC_MAC_PHYSICAL,                                        \
    OFT_CANARY_TABLE,                                                   \
    OFT_ARP_SPOOF_TABLE,                                                \
    OFT_MAC_SPOOF_TABLE,                                                \
    OFT_LOCAL_MAC_DIRECT,                                               \
    OFT_LOCAL_EGRESS_TABLE,                                             \
    OFT_LOCAL_IP_TABLE,                                                 \
    OFT_PACKET_RATE_LIMIT,                                              \
    OFT_TRANSIENT_TABLE,                                                \
    OFT_TRANSIENT_EGRESS_TABLE,                                         \
    OFT_BASE_EGRESS_TABLE,                                              \
    OFT_RULES_EGRESS_TABLE,                                             \
    OFT_ACCEPT_OR_INGRESS_TABLE,                                        \
    OFT_DHCP_IPV4_TABLE,                                                \
    OFT_DHCP_IPV6_TABLE,                                                \
    OFT_BASE_INGRESS_TABLE,                                             \
    OFT_RULES_INGRESS_TABLE,                                            \
    OFT_ACCEPTED_EGRESS_TRAFFIC_TABLE,                                  \
    OFT_ACCEPTED_INGRESS_TRAFFIC_TABLE,                                 \
    OFT_DROPPED_TRAFFIC_TABLE

/* --- Tunnel bridge (br-tun).  Table 0 is OFT_LOCAL_SWITCHING. */

#define OFT_DVR_PROCESS 1
#define OFT_PATCH_LV_TO_TUN 2
#define OFT_GRE_TUN_TO_LV 3
#define OFT_VXLAN_TUN_TO_LV 4
#define OFT_GENEVE_TUN_TO_LV 6

#define OFT_DVR_NOT_LEARN 9
#define OFT_LEARN_FROM_TUN 10
#define OFT_UCAST_TO_TUN 20
#define OFT_ARP_RESPONDER 21
#define OFT_FLOOD_TO_TUN 22
/* Transit table of networking-bagpipe, which mirrors traffic to EVPN and
 * standard tunnels to gateway nodes. */
#define OFT_BAGPIPE_FLOOD_TO_TUN_BROADCAST 222

/* TUN_BR_ALL_TABLES, as an initializer list. */
#define OFT_TUN_BR_ALL_TABLES                                           \
    OFT_LOCAL_SWITCHING,                                                \
    OFT_DVR_PROCESS,                                                    \
    OFT_PATCH_LV_TO_TUN,                                                \
    OFT_GRE_TUN_TO_LV,                                                  \
    OFT_VXLAN_TUN_TO_LV,                                                \
    OFT_GENEVE_TUN_TO_LV,                                               \
    OFT_DVR_NOT_LEARN,                                                  \
    OFT_LEARN_FROM_TUN,                                                 \
    OFT_UCAST_TO_TUN,                                                   \
    OFT_ARP_RESPONDER,                                                  \
    OFT_FLOOD_TO_TUN

/* --- Physical bridges.  Table 0 is OFT_LOCAL_SWITCHING. */

#define OFT_DVR_PROCESS_PHYSICAL 1
#define OFT_LOCAL_VLAN_TRANSLATION 2
#define OFT_DVR_NOT_LEARN_PHYSICAL 3

/* PHY_BR_ALL_TABLES, as an initializer list. */
#define OFT_PHY_BR_ALL_TABLES                                           \
    OFT_LOCAL_SWITCHING,                                                \
    OFT_DVR_PROCESS_PHYSICAL,                                           \
    OFT_LOCAL_VLAN_TRANSLATION,                                         \
    OFT_DVR_NOT_LEARN_PHYSICAL

/* TUN_TABLE: the br-tun table that takes in the packets of a tunnel
 * network type ("gre", "vxlan", "geneve"), or -1 for any other type. */
static inline int
oft_tun_table(const char *network_type)
{
    return (!strcmp(network_type, "gre") ? OFT_GRE_TUN_TO_LV
            : !strcmp(network_type, "vxlan") ? OFT_VXLAN_TUN_TO_LV
            : !strcmp(network_type, "geneve") ? OFT_GENEVE_TUN_TO_LV
            : -1);
}

#endif /* of-tables.h */
