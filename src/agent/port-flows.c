/*
 * port-flows: per-network and per-port flows.  See port-flows.h.
 */
#include <config.h>
#include "agent/port-flows.h"
#include "agent/of-tables.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "neutron/device-details.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "packets.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(port_flows);


/* Adds one flow.  A flow built from the server's data may not parse (a
 * malformed address, say): that is logged and the flow left out. */
static void OVS_PRINTF_FORMAT(3, 4)
add(struct flow_table *ft, const char *owner, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    flow_table_vadd_logged(ft, owner, 0, format, args);
    va_end(args);
}

void
port_flows_network(struct flow_table *integ, struct flow_table *tun,
                   struct flow_table *phys, const char *owner,
                   const struct net_wiring *w)
{
    flow_table_clear_owner(integ, owner);
    if (tun) {
        flow_table_clear_owner(tun, owner);
    }
    if (phys) {
        flow_table_clear_owner(phys, owner);
    }

    int table = oft_tun_table(w->network_type);
    if (table >= 0) {
        if (tun && w->segmentation_id >= 0) {
            add(tun, owner, "table=%d,priority=1,tun_id=%#"PRIx64","
                "actions=push_vlan:0x8100,set_field:%d->vlan_vid,"
                "goto_table:%d", table, (uint64_t) w->segmentation_id,
                w->lv | 0x1000, OFT_LEARN_FROM_TUN);
        }
        return;
    }

    bool flat = !strcmp(w->network_type, "flat");
    bool vlan = !strcmp(w->network_type, "vlan");
    if ((!flat && !vlan) || !phys || w->int_phys_ofport <= 0
        || w->phy_int_ofport <= 0) {
        return;                 /* "local", or the physnet is not here. */
    }
    if (flat) {
        add(integ, owner, "table=%d,priority=3,in_port=%d,"
            "vlan_tci=0x0000/0x1fff,actions=push_vlan:0x8100,"
            "set_field:%d->vlan_vid,goto_table:%d", OFT_LOCAL_SWITCHING,
            w->int_phys_ofport, w->lv | 0x1000, OFT_PACKET_RATE_LIMIT);
        add(phys, owner, "table=%d,priority=4,in_port=%d,dl_vlan=%d,"
            "actions=pop_vlan,NORMAL", OFT_LOCAL_SWITCHING,
            w->phy_int_ofport, w->lv);
    } else if (w->segmentation_id >= 0) {
        add(integ, owner, "table=%d,priority=3,in_port=%d,"
            "dl_vlan=%"PRId64",actions=set_field:%d->vlan_vid,goto_table:%d",
            OFT_LOCAL_SWITCHING, w->int_phys_ofport, w->segmentation_id,
            w->lv | 0x1000, OFT_PACKET_RATE_LIMIT);
        add(phys, owner, "table=%d,priority=4,in_port=%d,dl_vlan=%d,"
            "actions=set_field:%"PRId64"->vlan_vid,NORMAL",
            OFT_LOCAL_SWITCHING, w->phy_int_ofport, w->lv,
            w->segmentation_id | 0x1000);
    }
}

/* The EUI-64 link-local address of 'mac' into 'buf'.  Returns false if the
 * MAC does not parse. */
static bool
link_local_of(const char *mac, char *buf, size_t size)
{
    struct eth_addr ea;
    if (!eth_addr_from_string(mac, &ea)) {
        return false;
    }
    struct in6_addr lla;
    in6_generate_lla(ea, &lla);
    return inet_ntop(AF_INET6, &lla, buf, size) != NULL;
}

static bool
is_ipv6(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

/* "10.0.0.0/0" and "::/0" allow any address: the reference then skips the
 * protection of that family. */
static bool
is_any(const char *ip)
{
    const char *slash = strchr(ip, '/');
    return slash && !strcmp(slash, "/0");
}

void
port_flows_antispoof(struct flow_table *integ, const char *owner, int ofport,
                     const struct device_details *dd)
{
    flow_table_clear_owner(integ, owner);
    if (ofport <= 0 || !dd->found || !dd->port_security_enabled
        || !strncmp(dd->device_owner, "network:", 8)) {
        return;
    }

    /* Allowed MACs: the port's own and those of its address pairs. */
    add(integ, owner, "table=%d,priority=2,in_port=%d,dl_src=%s,"
        "actions=goto_table:%d", OFT_MAC_SPOOF_TABLE, ofport, dd->mac,
        OFT_LOCAL_EGRESS_TABLE);
    for (size_t i = 0; i < dd->n_pairs; i++) {
        if (strcasecmp(dd->pairs[i].mac, dd->mac)) {
            add(integ, owner, "table=%d,priority=2,in_port=%d,dl_src=%s,"
                "actions=goto_table:%d", OFT_MAC_SPOOF_TABLE, ofport,
                dd->pairs[i].mac, OFT_LOCAL_EGRESS_TABLE);
        }
    }
    add(integ, owner, "table=%d,priority=9,in_port=%d,actions=goto_table:%d",
        OFT_LOCAL_SWITCHING, ofport, OFT_MAC_SPOOF_TABLE);

    /* Collect the addresses of each family. */
    size_t n = dd->n_fixed_ips + dd->n_pairs;
    const char **v4 = xcalloc(n + 1, sizeof *v4);
    const char **v6 = xcalloc(n + 1, sizeof *v6);
    size_t n4 = 0, n6 = 0;
    bool any4 = false, any6 = false;
    for (size_t i = 0; i < n; i++) {
        const char *ip = (i < dd->n_fixed_ips ? dd->fixed_ips[i]
                          : dd->pairs[i - dd->n_fixed_ips].ip);
        if (is_ipv6(ip)) {
            any6 |= is_any(ip);
            v6[n6++] = ip;
        } else {
            any4 |= is_any(ip);
            v4[n4++] = ip;
        }
    }

    if (!any6) {
        char lla[INET6_ADDRSTRLEN];
        for (size_t i = 0; i <= dd->n_pairs; i++) {
            const char *mac = i ? dd->pairs[i - 1].mac : dd->mac;
            if ((!i || strcasecmp(mac, dd->mac))
                && link_local_of(mac, lla, sizeof lla)) {
                add(integ, owner, "table=%d,priority=2,icmp6,in_port=%d,"
                    "icmp_type=136,nd_target=%s,actions=goto_table:%d",
                    OFT_ARP_SPOOF_TABLE, ofport, lla, OFT_PACKET_RATE_LIMIT);
            }
        }
        for (size_t i = 0; i < n6; i++) {
            add(integ, owner, "table=%d,priority=2,icmp6,in_port=%d,"
                "icmp_type=136,nd_target=%s,actions=goto_table:%d",
                OFT_ARP_SPOOF_TABLE, ofport, v6[i], OFT_PACKET_RATE_LIMIT);
        }
        add(integ, owner, "table=%d,priority=10,icmp6,in_port=%d,"
            "icmp_type=136,actions=goto_table:%d", OFT_LOCAL_SWITCHING,
            ofport, OFT_ARP_SPOOF_TABLE);
    }
    if (!any4) {
        for (size_t i = 0; i < n4; i++) {
            add(integ, owner, "table=%d,priority=2,arp,in_port=%d,"
                "arp_spa=%s,actions=goto_table:%d", OFT_ARP_SPOOF_TABLE,
                ofport, v4[i], OFT_MAC_SPOOF_TABLE);
        }
        add(integ, owner, "table=%d,priority=10,arp,in_port=%d,"
            "actions=goto_table:%d", OFT_LOCAL_SWITCHING, ofport,
            OFT_ARP_SPOOF_TABLE);
    }
    free(v4);
    free(v6);
}

void
port_flows_dead(struct flow_table *integ, const char *owner, int ofport)
{
    flow_table_clear_owner(integ, owner);
    if (ofport > 0) {
        add(integ, owner, "table=%d,priority=2,in_port=%d,actions=drop",
            OFT_LOCAL_SWITCHING, ofport);
    }
}

void
port_flows_egress_direct(struct flow_table *integ, const char *owner,
                         int ofport, int lv, const char *mac,
                         int patch_ofport)
{
    /* The local VLAN goes into reg6: the same MAC may be on two
     * networks. */
    add(integ, owner, "table=%d,priority=9,in_port=%d,dl_src=%s,"
        "actions=set_field:%d->reg6,resubmit(,%d)", OFT_TRANSIENT_TABLE,
        ofport, mac, lv, OFT_LOCAL_MAC_DIRECT);
    /* From the patch ports, tagged. */
    add(integ, owner, "table=%d,priority=12,dl_vlan=%d,dl_dst=%s,"
        "actions=strip_vlan,output:%d", OFT_LOCAL_MAC_DIRECT, lv, mac,
        ofport);
    /* From internal or VM ports. */
    add(integ, owner, "table=%d,priority=12,reg6=%d,dl_dst=%s,"
        "actions=output:%d", OFT_LOCAL_MAC_DIRECT, lv, mac, ofport);
    if (patch_ofport >= 0) {
        add(integ, owner, "table=%d,priority=10,in_port=%d,dl_src=%s,"
            "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00,"
            "actions=mod_vlan_vid:%d,output:%d", OFT_TRANSIENT_EGRESS_TABLE,
            ofport, mac, lv, patch_ofport);
    }
}
