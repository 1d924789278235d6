/*
 * base-flows: the bridges' fixed flows.  See base-flows.h.
 *
 * Table numbers come from of-tables.h (neutron-lib 3.1.0's, Zed's).
 */
#include <config.h>
#include "agent/base-flows.h"
#include "agent/fw-flows.h"
#include "agent/of-tables.h"

#include <stdarg.h>
#include <stdlib.h>

#include "agent-config.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(base_flows);

#define OWNER "base"

const unsigned char base_flows_int_tables[] = { OFT_INT_BR_ALL_TABLES };
const size_t base_flows_n_int_tables = ARRAY_SIZE(base_flows_int_tables);
const unsigned char base_flows_tun_tables[] = { OFT_TUN_BR_ALL_TABLES };
const size_t base_flows_n_tun_tables = ARRAY_SIZE(base_flows_tun_tables);
const unsigned char base_flows_phys_tables[] = { OFT_PHY_BR_ALL_TABLES };
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

    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_CANARY_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        OFT_LOCAL_SWITCHING, OFT_PACKET_RATE_LIMIT);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        OFT_PACKET_RATE_LIMIT, OFT_TRANSIENT_TABLE);
    add(ft, 0, "table=%d,priority=3,actions=NORMAL", OFT_TRANSIENT_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_ARP_SPOOF_TABLE);
    add(ft, 0, "table=%d,priority=65535,dl_vlan=4095,actions=drop",
        OFT_LOCAL_SWITCHING);
    add(ft, 0, "table=%d,priority=3,actions=NORMAL",
        OFT_TRANSIENT_EGRESS_TABLE);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        OFT_LOCAL_EGRESS_TABLE, OFT_PACKET_RATE_LIMIT);
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        OFT_LOCAL_IP_TABLE, OFT_PACKET_RATE_LIMIT);

    for (size_t i = 0; i < ports->n_int_phys; i++) {
        if (ports->int_phys[i] > 0) {
            add(ft, 0, "table=%d,priority=2,in_port=%d,actions=drop",
                OFT_LOCAL_SWITCHING, ports->int_phys[i]);
        }
    }

    if (cfg->explicitly_egress_direct) {
        for (size_t i = 0; i < ports->n_int_phys; i++) {
            if (ports->int_phys[i] > 0) {
                add(ft, 0, "table=%d,priority=4,in_port=%d,"
                    "actions=goto_table:%d", OFT_TRANSIENT_TABLE,
                    ports->int_phys[i], OFT_LOCAL_MAC_DIRECT);
            }
        }
        if (cfg->tunnel_types && ports->patch_tun > 0) {
            add(ft, 0, "table=%d,priority=4,in_port=%d,actions=goto_table:%d",
                OFT_TRANSIENT_TABLE, ports->patch_tun, OFT_LOCAL_MAC_DIRECT);
        }
        add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
            OFT_LOCAL_MAC_DIRECT, OFT_TRANSIENT_EGRESS_TABLE);
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
        add(ft, 0, "table=%d,priority=1,in_port=%d,actions=goto_table:%d",
            OFT_LOCAL_SWITCHING, pint, OFT_PATCH_LV_TO_TUN);
    }
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_LOCAL_SWITCHING);
    if (arp_responder) {
        add(ft, 0, "table=%d,priority=1,arp,dl_dst=ff:ff:ff:ff:ff:ff,"
            "actions=goto_table:%d", OFT_PATCH_LV_TO_TUN, OFT_ARP_RESPONDER);
    }
    add(ft, 0, "table=%d,priority=0,dl_dst=00:00:00:00:00:00/"
        "01:00:00:00:00:00,actions=goto_table:%d", OFT_PATCH_LV_TO_TUN,
        OFT_UCAST_TO_TUN);
    add(ft, 0, "table=%d,priority=0,dl_dst=01:00:00:00:00:00/"
        "01:00:00:00:00:00,actions=goto_table:%d", OFT_PATCH_LV_TO_TUN,
        OFT_FLOOD_TO_TUN);
    /* All three tunnel types, whatever tunnel_types says, as the reference
     * does. */
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_GRE_TUN_TO_LV);
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_VXLAN_TUN_TO_LV);
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_GENEVE_TUN_TO_LV);
    if (pint > 0) {
        add(ft, 0, "table=%d,priority=1,actions=learn(table=%d,"
            "hard_timeout=300,priority=1,cookie=%#"PRIx64","
            "NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],"
            "load:0->NXM_OF_VLAN_TCI[],"
            "load:NXM_NX_TUN_ID[]->NXM_NX_TUN_ID[],"
            "output:OXM_OF_IN_PORT[]),output:%d",
            OFT_LEARN_FROM_TUN, OFT_UCAST_TO_TUN, flow_table_get_cookie(ft),
            pint);
    }
    add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
        OFT_UCAST_TO_TUN, OFT_FLOOD_TO_TUN);
    if (arp_responder) {
        add(ft, 0, "table=%d,priority=0,actions=goto_table:%d",
            OFT_ARP_RESPONDER, OFT_FLOOD_TO_TUN);
    }
    add(ft, 0, "table=%d,priority=0,actions=drop", OFT_FLOOD_TO_TUN);
}

void
base_flows_phys(struct flow_table *ft, const struct agent_config *cfg,
                int phy_int)
{
    flow_table_clear_owner(ft, OWNER);
    add(ft, 0, "table=%d,priority=0,actions=NORMAL", OFT_LOCAL_SWITCHING);
    if (phy_int > 0) {
        add(ft, 0, "table=%d,priority=2,in_port=%d,actions=drop",
            OFT_LOCAL_SWITCHING, phy_int);
    }
}
