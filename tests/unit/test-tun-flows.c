/*
 * Unit tests of tun-flows: tunnel port names, Interface options and the
 * br-tun l2population flows, against the reference's (docs/pipeline.md
 * §1.3 and §6, and the dump taken after an FDB add for remote 192.0.2.20
 * on VXLAN network 100, local VLAN 1, tunnel ofport 2).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/tun-flows.h"
#include "openvswitch/dynamic-string.h"
#include "ovs/flow-table.h"
#include "smap.h"
#include "test-util.h"
#include "util.h"

static bool
has_flow(const struct flow_table *ft, const char *needle)
{
    struct ds d = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(ft, &d);
    bool found = strstr(ds_cstr(&d), needle) != NULL;
    if (!found) {
        printf("# not in:\n%s", ds_cstr(&d));
    }
    ds_destroy(&d);
    return found;
}

static void
check_name(const char *type, const char *ip, const char *want)
{
    char *name = tun_port_name(type, ip);
    checkf(name && !strcmp(name, want), "%s to %s: %s (%s)", type, ip, want,
           name ? name : "NULL");
    free(name);
}

int
main(void)
{
    check_name("vxlan", "192.0.2.20", "vxlan-c0000214");
    check_name("gre", "192.0.2.20", "gre-c0000214");
    check_name("geneve", "192.0.2.20", "geneve-c0000214");
    check_name("vxlan", "2001:db8::20", "vxlan-jqjlscgdv");
    check_name("gre", "2001:db8::20", "gre-jqjlscgdvth");
    check_name("geneve", "2001:db8::20", "geneve-jqjlscgd");
    check(!tun_port_name("vxlan", "192.0.2.300"), "a bad address: no name");

    check(!strcmp(tun_iface_type("gre", "192.0.2.10", "2001:db8::20"),
                  "ip6gre"), "GRE to IPv6: ip6gre");
    check(!strcmp(tun_iface_type("vxlan", "2001:db8::1", "2001:db8::20"),
                  "vxlan"), "VXLAN over IPv6: vxlan");

    struct agent_config cfg = {
        .local_ip = "192.0.2.10", .vxlan_udp_port = 4789,
        .dont_fragment = true,
    };
    struct smap o = SMAP_INITIALIZER(&o);
    tun_iface_options(&cfg, "vxlan", "192.0.2.20", false, &o);
    struct ds d = DS_EMPTY_INITIALIZER;
    const struct smap_node **nodes = smap_sort(&o);
    for (size_t i = 0; i < smap_count(&o); i++) {
        ds_put_format(&d, "%s=%s ", nodes[i]->key, nodes[i]->value);
    }
    free(nodes);
    checkf(!strcmp(ds_cstr(&d), "df_default=true egress_pkt_mark=0 "
                   "in_key=flow local_ip=192.0.2.10 out_key=flow "
                   "remote_ip=192.0.2.20 "),
           "VXLAN options as the reference's (%s)", ds_cstr(&d));
    ds_destroy(&d);
    smap_clear(&o);
    cfg.vxlan_udp_port = 4790;
    cfg.tunnel_csum = true;
    tun_iface_options(&cfg, "vxlan", "192.0.2.20", true, &o);
    check(!strcmp(smap_get_def(&o, "dst_port", ""), "4790")
          && smap_get(&o, "csum") && !smap_get(&o, "egress_pkt_mark"),
          "dst_port off 4789, csum, no egress_pkt_mark with hw-offload");
    smap_clear(&o);
    tun_iface_options(&cfg, "gre", "2001:db8::20", false, &o);
    check(!strcmp(smap_get_def(&o, "packet_type", ""), "legacy_l2")
          && !smap_get(&o, "dst_port"), "ip6gre: packet_type legacy_l2");
    smap_destroy(&o);

    struct flow_table *ft = flow_table_create("br-tun", 0, NULL, 0);
    tun_flows_port(ft, "t", "vxlan", 2);
    check(has_flow(ft, "table=0, priority=1,in_port=2 actions=goto_table:4"),
          "a VXLAN tunnel's packets go to table 4");
    int ofports[] = { 5, 2, 5 };
    tun_flows_flood(ft, "f", 1, 100, ofports, 3);
    check(has_flow(ft, "table=22, priority=1,dl_vlan=1 actions=pop_vlan,"
                   "set_field:0x64->tun_id,output:2,output:5\n"),
          "the flood lists each tunnel once, in ascending ofport");
    tun_flows_unicast(ft, "u", 1, 100, "fa:16:3e:00:00:06", 2);
    check(has_flow(ft, "table=20, priority=2,dl_vlan=1,"
                   "dl_dst=fa:16:3e:00:00:06 actions=pop_vlan,"
                   "set_field:0x64->tun_id,output:2"),
          "unicast to the remote MAC");
    tun_flows_arp(ft, "a", 1, "fa:16:3e:00:00:06", "10.0.0.6");
    check(has_flow(ft, "table=21, priority=1,arp,dl_vlan=1,arp_tpa=10.0.0.6 "
                   "actions=set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->"
                   "NXM_NX_ARP_THA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
                   "set_field:fa:16:3e:00:00:06->arp_sha,set_field:10.0.0.6->"
                   "arp_spa,move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
                   "set_field:fa:16:3e:00:00:06->eth_src,IN_PORT"),
          "the ARP responder's answer, action for action");
    flow_table_destroy(ft);
    return test_summary();
}
