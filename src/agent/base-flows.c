/*
 * base-flows: the bridges' fixed flows.  See base-flows.h.
 *
 * Table numbers are neutron-lib 3.1.0's (Zed): the packet-rate-limit table
 * is 59 there (58 from Antelope on).
 */
#include <config.h>
#include "agent/base-flows.h"
#include "agent/fw-flows.h"

#include <stdarg.h>
#include <stdlib.h>

#include "agent-config.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(base_flows);

#define OWNER "base"

/* br-int tables. */
enum {
    LOCAL_SWITCHING = 0,
    CANARY_TABLE = BASE_FLOWS_CANARY_TABLE,
    ARP_SPOOF_TABLE = 24,
    LOCAL_EGRESS_TABLE = 30,
    LOCAL_IP_TABLE = 31,
    PACKET_RATE_LIMIT = 59,
    TRANSIENT_TABLE = 60,
    LOCAL_MAC_DIRECT = 61,
    TRANSIENT_EGRESS_TABLE = 62,
    BASE_EGRESS_TABLE = 71,
    RULES_EGRESS_TABLE = 72,
    ACCEPT_OR_INGRESS_TABLE = 73,
    BASE_INGRESS_TABLE = 81,
    RULES_INGRESS_TABLE = 82,
    ACCEPTED_EGRESS_TRAFFIC_TABLE = 91,
    ACCEPTED_INGRESS_TRAFFIC_TABLE = 92,
    DROPPED_TRAFFIC_TABLE = 93,
    ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE = 94,
};

/* br-tun tables. */
enum {
    PATCH_LV_TO_TUN = 2,
    GRE_TUN_TO_LV = 3,
    VXLAN_TUN_TO_LV = 4,
    GENEVE_TUN_TO_LV = 6,
    LEARN_FROM_TUN = 10,
    UCAST_TO_TUN = 20,
    ARP_RESPONDER = 21,
    FLOOD_TO_TUN = 22,
};

const unsigned char base_flows_int_tables[] = {
    0, 1, 2, 23, 24, 25, 61, 30, 31, 59, 60, 62, 71, 72, 73, 77, 78, 81, 82,
    91, 92, 93,
};
const size_t base_flows_n_int_tables = ARRAY_SIZE(base_flows_int_tables);
const unsigned char base_flows_tun_tables[] = {
    0, 1, 2, 3, 4, 6, 9, 10, 20, 21, 22,
};
const size_t base_flows_n_tun_tables = ARRAY_SIZE(base_flows_tun_tables);
const unsigned char base_flows_phys_tables[] = { 0, 1, 2, 3 };
const size_t base_flows_n_phys_tables = ARRAY_SIZE(base_flows_phys_tables);

/* Adds one base flow.  A flow this module writes always parses; a failure
 * is a bug, so it is logged loudly rather than returned. */
static void OVS_PRINTF_FORMAT(3, 4)
add(struct flow_table *ft, enum ofputil_flow_mod_flags flags,
    const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);

    char *error = flow_table_add(ft, OWNER, flags, "%s", text);
    if (error) {
        VLOG_ERR("%s", error);
        free(error);
    }
    free(text);
}

void
base_flows_int(struct flow_table *ft, const struct agent_config *cfg,
               const struct base_flows_ports *ports)
{
    flow_table_clear_owner(ft, OWNER);

    add(ft, 0, "table=%d,priority=0,actions=drop", CANARY_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d", LOCAL_SWITCHING,
        PACKET_RATE_LIMIT);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d", PACKET_RATE_LIMIT,
        TRANSIENT_TABLE);
    add(ft, 0, "table=%d,priority=3,actions=NORMAL", TRANSIENT_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=drop", ARP_SPOOF_TABLE);
    add(ft, 0, "table=%d,priority=65535,dl_vlan=4095,actions=drop",
        LOCAL_SWITCHING);
    add(ft, 0, "table=%d,priority=3,actions=NORMAL", TRANSIENT_EGRESS_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        LOCAL_EGRESS_TABLE, PACKET_RATE_LIMIT);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d", LOCAL_IP_TABLE,
        PACKET_RATE_LIMIT);

    for (size_t i = 0; i < ports->n_int_phys; i++) {
        if (ports->int_phys[i] > 0) {
            add(ft, 0, "table=%d,priority=2,in_port=%d,actions=drop",
                LOCAL_SWITCHING, ports->int_phys[i]);
        }
    }

    if (cfg->explicitly_egress_direct) {
        for (size_t i = 0; i < ports->n_int_phys; i++) {
            if (ports->int_phys[i] > 0) {
                add(ft, 0, "table=%d,priority=4,in_port=%d,"
                    "actions=goto_table:%d", TRANSIENT_TABLE,
                    ports->int_phys[i], LOCAL_MAC_DIRECT);
            }
        }
        if (cfg->tunnel_types && ports->patch_tun > 0) {
            add(ft, 0, "table=%d,priority=4,in_port=%d,actions=goto_table:%d",
                TRANSIENT_TABLE, ports->patch_tun, LOCAL_MAC_DIRECT);
        }
        add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
            LOCAL_MAC_DIRECT, TRANSIENT_EGRESS_TABLE);
    }

    if (cfg->firewall_driver == FW_OPENVSWITCH) {
        fw_flows_init(ft, OWNER);
    }
}

void
base_flows_tun(struct flow_table *ft, const struct agent_config *cfg,
               const struct base_flows_ports *ports)
{
    flow_table_clear_owner(ft, OWNER);
    /* The ARP responder needs l2population to know the answers. */
    bool arp_responder = cfg->arp_responder && cfg->l2_population;
    int pint = ports->patch_int;

    if (pint > 0) {
        add(ft, 0, "table=0,priority=1,in_port=%d,actions=goto_table:%d",
            pint, PATCH_LV_TO_TUN);
    }
    add(ft, 0, "table=0,priority=0,actions=drop");
    if (arp_responder) {
        add(ft, 0, "table=%d,priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff,"
            "actions=goto_table:%d", PATCH_LV_TO_TUN, ARP_RESPONDER);
    }
    add(ft, 0, "table=%d,priority=0,dl_dst=00:00:00:00:00:00/"
        "01:00:00:00:00:00,actions=goto_table:%d", PATCH_LV_TO_TUN,
        UCAST_TO_TUN);
    add(ft, 0, "table=%d,priority=0,dl_dst=01:00:00:00:00:00/"
        "01:00:00:00:00:00,actions=goto_table:%d", PATCH_LV_TO_TUN,
        FLOOD_TO_TUN);
    /* All three tunnel types, whatever tunnel_types says, as the reference
     * does. */
    add(ft, 0, "table=%d,priority=0,actions=drop", GRE_TUN_TO_LV);
    add(ft, 0, "table=%d,priority=0,actions=drop", VXLAN_TUN_TO_LV);
    add(ft, 0, "table=%d,priority=0,actions=drop", GENEVE_TUN_TO_LV);
    if (pint > 0) {
        add(ft, 0, "table=%d,priority=1,actions=learn(table=%d,"
            "hard_timeout=300,priority=1,cookie=%#"PRIx64","
            "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
            "load:0->NXM_OF_VLAN_TCI[],"
            "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
            "output:OXM_OF_IN_PORT[]),output:%d",
            LEARN_FROM_TUN, UCAST_TO_TUN, flow_table_get_cookie(ft), pint);
    }
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d", UCAST_TO_TUN,
        FLOOD_TO_TUN);
    if (arp_responder) {
        add(ft, 0, "table=%d,priority=0,actions=goto_table:%d", ARP_RESPONDER,
            FLOOD_TO_TUN);
    }
    add(ft, 0, "table=%d,priority=0,actions=drop", FLOOD_TO_TUN);
}

void
base_flows_phys(struct flow_table *ft, const struct agent_config *cfg,
                int phy_int)
{
    flow_table_clear_owner(ft, OWNER);
    add(ft, 0, "table=0,priority=0,actions=NORMAL");
    if (phy_int > 0) {
        add(ft, 0, "table=0,priority=2,in_port=%d,actions=drop", phy_int);
    }
}
