/*
 * fw-flows: the openvswitch firewall's flows.  See fw-flows.h.
 *
 * Each function follows the reference method of the same purpose in
 * neutron/agent/linux/openvswitch_firewall/{firewall,rules}.py, flow by
 * flow, so that a dump of br-int compares equal.  Flows are written in
 * ovs-ofctl syntax and parsed by OVS's own parser, as the reference's
 * ovs-ofctl does.
 */
#include <config.h>
#include "agent/fw-flows.h"
#include "agent/of-tables.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "log-safe.h"
#include "neutron/device-details.h"
#include "neutron/sg-cache.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "packets.h"
#include "sset.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(fw_flows);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

/* Connection states, as the reference spells them. */
#define CT_EST_NOT_REPLY "+est-rel-rpl"
#define CT_NEW_NOT_EST "+new-est"
#define CT_EST_REPLY "+est-rel+rpl"
#define CT_RELATED "-new-est+rel-inv"

#define ZONE "zone=NXM_NX_REG6[0..15]"

#define PROTO_ICMP 1
#define PROTO_TCP 6
#define PROTO_UDP 17
#define PROTO_ICMPV6 58
#define PROTO_SCTP 132

/* Adds one flow.  A flow built from the server's data may not parse (a
 * malformed address, say): that is logged and the flow left out, as the
 * reference's ovs-ofctl would refuse it. */
static void OVS_PRINTF_FORMAT(4, 5)
add(struct flow_table *ft, const char *owner,
    enum ofputil_flow_mod_flags flags, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    flow_table_vadd_logged(ft, owner, flags, format, args);
    va_end(args);
}

static bool
is_v6(const char *addr)
{
    return strchr(addr, ':') != NULL;
}

/* True if 'addr' is an address of its family with an optional "/N"
 * prefix length in range: OVS's own scanners are more forgiving. */
static bool
cidr_is_valid(const char *addr)
{
    bool v6 = is_v6(addr);
    char buf[INET6_ADDRSTRLEN + 8];
    if (strlen(addr) >= sizeof buf) {
        return false;
    }
    strcpy(buf, addr);
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash++ = '\0';
        char *end;
        long len = strtol(slash, &end, 10);
        if (!*slash || *end || len < 0 || len > (v6 ? 128 : 32)) {
            return false;
        }
    }
    struct in6_addr a;
    return inet_pton(v6 ? AF_INET6 : AF_INET, buf, &a) == 1;
}

char *
fw_normalize_cidr(const char *addr, bool *ipv6)
{
    if (!cidr_is_valid(addr)) {
        return NULL;
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    char *error;
    if (is_v6(addr)) {
        struct in6_addr ip, mask;
        error = ipv6_parse_masked(addr, &ip, &mask);
        if (!error) {
            ip = ipv6_addr_bitand(&ip, &mask);
            ipv6_format_masked(&ip, &mask, &s);
            *ipv6 = true;
        }
    } else {
        ovs_be32 ip, mask;
        error = ip_parse_masked(addr, &ip, &mask);
        if (!error) {
            ip_format_masked(ip & mask, mask, &s);
            *ipv6 = false;
        }
    }
    if (error) {
        free(error);
        ds_destroy(&s);
        return NULL;
    }
    return ds_steal_cstr(&s);
}

char *
fw_link_local(const char *mac_s)
{
    struct eth_addr mac;
    if (!eth_addr_from_string(mac_s, &mac)) {
        return NULL;
    }
    struct in6_addr lla;
    in6_generate_lla(mac, &lla);
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &lla, buf, sizeof buf);
    return xstrdup(buf);
}

size_t
fw_port_masks(int lo, int hi, uint16_t values[32], uint16_t masks[32])
{
    size_t n = 0;
    if (lo < 0 || hi > 65535 || lo > hi) {
        return 0;
    }
    /* The largest aligned block that starts at 'lo' and ends by 'hi', again
     * and again: the smallest set of value/mask pairs, the reference's. */
    while (lo <= hi && n < 32) {
        int size = 1;
        while (size < 65536 && !(lo & size) && lo + 2 * size - 1 <= hi) {
            size *= 2;
        }
        values[n] = lo;
        masks[n] = 0xffff & ~(size - 1);
        n++;
        lo += size;
    }
    return n;
}

void
fw_flows_init(struct flow_table *ft, const char *owner)
{
    /* These go out as single OpenFlow 1.0 flow_mods in the reference,
     * which carry the reset_counts flag (docs/pipeline.md §7.7). */
    enum ofputil_flow_mod_flags rc = OFPUTIL_FF_RESET_COUNTS;
    static const int drops[] = { OFT_OVS_FIREWALL_TABLES };
    for (size_t i = 0; i < ARRAY_SIZE(drops); i++) {
        add(ft, owner, rc, "table=%d,priority=0,actions=drop", drops[i]);
    }
    add(ft, owner, rc, "table=%d,priority=110,ct_state=+trk,"
        "actions=ct_clear,resubmit(,%d)", OFT_BASE_EGRESS_TABLE,
        OFT_BASE_EGRESS_TABLE);
    add(ft, owner, rc, "table=%d,priority=1,actions=NORMAL",
        OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
    add(ft, owner, rc, "table=%d,priority=1,actions=resubmit(,%d)",
        OFT_ACCEPTED_EGRESS_TRAFFIC_TABLE,
        OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
    add(ft, owner, rc, "table=%d,priority=0,actions=drop",
        OFT_ACCEPTED_INGRESS_TRAFFIC_TABLE);
    add(ft, owner, rc, "table=%d,priority=0,actions=drop",
        OFT_DROPPED_TRAFFIC_TABLE);
}

/* An allowed (MAC, address) pair of a port. */
struct pair {
    const char *mac;
    const char *ip;
};

/* The port's pairs of one family: its allowed address pairs and its fixed
 * IPs with its own MAC (and, for IPv6, its link-local address), without
 * repeats.  The caller frees the array. */
static size_t
port_pairs(const struct fw_port *p, bool v6, const char *lla,
           struct pair **pairsp)
{
    size_t n = 0, max = p->n_pairs + p->n_fixed_ips + 1;
    struct pair *pairs = xcalloc(max, sizeof *pairs);
    struct sset seen = SSET_INITIALIZER(&seen);

#define PUSH(MAC, IP)                                           \
    do {                                                        \
        char *key_ = xasprintf("%s %s", MAC, IP);               \
        if (sset_add(&seen, key_)) {                            \
            pairs[n].mac = (MAC);                               \
            pairs[n].ip = (IP);                                 \
            n++;                                                \
        }                                                       \
        free(key_);                                             \
    } while (0)

    for (size_t i = 0; i < p->n_pairs; i++) {
        if (is_v6(p->pairs[i].ip) == v6) {
            PUSH(p->pairs[i].mac, p->pairs[i].ip);
        }
    }
    if (v6 && lla) {
        PUSH(p->mac, lla);
    }
    for (size_t i = 0; i < p->n_fixed_ips; i++) {
        if (is_v6(p->fixed_ips[i]) == v6) {
            PUSH(p->mac, p->fixed_ips[i]);
        }
    }
#undef PUSH
    sset_destroy(&seen);
    *pairsp = pairs;
    return n;
}

/* The port's MAC and its allowed pairs' MACs, without repeats. */
static void
port_macs(const struct fw_port *p, struct sset *macs)
{
    sset_add(macs, p->mac);
    for (size_t i = 0; i < p->n_pairs; i++) {
        sset_add(macs, p->pairs[i].mac);
    }
}

/* Table 94's flows under explicitly_egress_direct. */
static void
egress_direct(struct flow_table *ft, const char *owner,
              const struct fw_port *p)
{
    if (p->egress_direct == FW_EGRESS_DIRECT_OFF) {
        return;
    }
    add(ft, owner, 0, "table=%d,priority=12,reg6=%d,dl_dst=%s,"
        "actions=output:%d", OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE, p->lv,
        p->mac, p->ofport);
    if (p->egress_direct >= 0) {
        /* mod_vlan_vid in a bundle: push_vlan and set_field
         * (docs/pipeline.md §7.7). */
        add(ft, owner, 0, "table=%d,priority=10,reg6=%d,dl_src=%s,"
            "dl_dst=00:00:00:00:00:00/01:00:00:00:00:00,"
            "actions=push_vlan:0x8100,set_field:%d->vlan_vid,output:%d",
            OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE, p->lv, p->mac,
            p->lv | 0x1000, p->egress_direct);
    }
}

/* Table 60: what enters from the port, and what is addressed to one of
 * its MACs on its network (tagged with the local VLAN, or as it arrives
 * from a physical bridge). */
static void
base_transient(struct flow_table *ft, const char *owner,
               const struct fw_port *p, const struct sset *macs)
{
    add(ft, owner, 0, "table=%d,priority=100,in_port=%d,"
        "actions=set_field:%#x->reg5,set_field:%#x->reg6,resubmit(,%d)",
        OFT_TRANSIENT_TABLE, p->ofport, p->ofport, p->lv,
        OFT_BASE_EGRESS_TABLE);
    const char *mac;
    SSET_FOR_EACH (mac, macs) {
        if (!strcmp(p->network_type, "vlan") && p->segmentation_id >= 0) {
            add(ft, owner, 0, "table=%d,priority=90,dl_vlan=%"PRId64","
                "dl_dst=%s,actions=set_field:%#x->reg5,set_field:%#x->reg6,"
                "pop_vlan,resubmit(,%d)", OFT_TRANSIENT_TABLE,
                p->segmentation_id, mac, p->ofport, p->lv,
                OFT_BASE_INGRESS_TABLE);
        } else if (!strcmp(p->network_type, "flat")) {
            add(ft, owner, 0, "table=%d,priority=90,vlan_tci=0x0000/0x1fff,"
                "dl_dst=%s,actions=set_field:%#x->reg5,set_field:%#x->reg6,"
                "resubmit(,%d)", OFT_TRANSIENT_TABLE, mac, p->ofport, p->lv,
                OFT_BASE_INGRESS_TABLE);
        }
        /* The reference writes strip_vlan over OpenFlow 1.0; the switch
         * holds, and dumps, the OpenFlow 1.1+ pop_vlan that it is. */
        add(ft, owner, 0, "table=%d,priority=90,dl_vlan=%d,dl_dst=%s,"
            "actions=set_field:%#x->reg5,set_field:%#x->reg6,pop_vlan,"
            "resubmit(,%d)", OFT_TRANSIENT_TABLE, p->lv, mac, p->ofport, p->lv,
            OFT_BASE_INGRESS_TABLE);
    }
}

/* Table 71, and table 73's flows for the port (_initialize_egress). */
static void
base_egress(struct flow_table *ft, const char *owner,
            const struct fw_port *p, const struct sset *macs,
            const char *lla, char *const *ethertypes, size_t n_ethertypes)
{
    int of = p->ofport;
    struct pair *v4, *v6;
    size_t n4 = port_pairs(p, false, NULL, &v4);
    size_t n6 = port_pairs(p, true, lla, &v6);

    for (size_t i = 0; i < n4; i++) {
        add(ft, owner, 0, "table=%d,priority=95,arp,reg5=%#x,in_port=%d,"
            "dl_src=%s,arp_spa=%s,actions=resubmit(,%d)",
            OFT_BASE_EGRESS_TABLE, of, of, v4[i].mac, v4[i].ip,
            OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
        add(ft, owner, 0, "table=%d,priority=65,ip,reg5=%#x,in_port=%d,"
            "dl_src=%s,nw_src=%s,actions=ct(table=%d,"ZONE")",
            OFT_BASE_EGRESS_TABLE, of, of, v4[i].mac, v4[i].ip,
            OFT_RULES_EGRESS_TABLE);
    }

    /* ICMPv6: MLD query, router and neighbour solicitations from the
     * port's addresses; advertisements only for its own addresses. */
    static const int allowed_icmp6[] = { 130, 133, 135 };
    for (size_t i = 0; i < n6; i++) {
        for (size_t j = 0; j < ARRAY_SIZE(allowed_icmp6); j++) {
            add(ft, owner, 0, "table=%d,priority=95,icmp6,reg5=%#x,"
                "in_port=%d,dl_src=%s,ipv6_src=%s,icmp_type=%d,"
                "actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE, of, of,
                v6[i].mac, v6[i].ip, allowed_icmp6[j],
                OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
        }
        add(ft, owner, 0, "table=%d,priority=95,icmp6,reg5=%#x,in_port=%d,"
            "icmp_type=136,nd_target=%s,actions=resubmit(,%d)",
            OFT_BASE_EGRESS_TABLE, of, of, v6[i].ip,
            OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
    }
    for (size_t i = 0; i < n6; i++) {
        add(ft, owner, 0, "table=%d,priority=65,ipv6,reg5=%#x,in_port=%d,"
            "dl_src=%s,ipv6_src=%s,actions=ct(table=%d,"ZONE")",
            OFT_BASE_EGRESS_TABLE, of, of, v6[i].mac, v6[i].ip,
            OFT_RULES_EGRESS_TABLE);
    }

    /* DHCP from the client side skips conntrack. */
    for (size_t i = 0; i < n4; i++) {
        add(ft, owner, 0, "table=%d,priority=80,udp,reg5=%#x,in_port=%d,"
            "dl_src=%s,nw_src=%s,tp_src=68,tp_dst=67,actions=resubmit(,%d)",
            OFT_BASE_EGRESS_TABLE, of, of, v4[i].mac, v4[i].ip,
            OFT_ACCEPT_OR_INGRESS_TABLE);
    }
    add(ft, owner, 0, "table=%d,priority=80,udp,reg5=%#x,in_port=%d,"
        "dl_src=%s,nw_src=0.0.0.0,tp_src=68,tp_dst=67,"
        "actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE, of, of, p->mac,
        OFT_ACCEPT_OR_INGRESS_TABLE);
    for (size_t i = 0; i < n6; i++) {
        add(ft, owner, 0, "table=%d,priority=80,udp6,reg5=%#x,in_port=%d,"
            "dl_src=%s,ipv6_src=%s,tp_src=546,tp_dst=547,"
            "actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE, of, of,
            v6[i].mac, v6[i].ip, OFT_ACCEPT_OR_INGRESS_TABLE);
    }

    /* No DHCP servers and no router advertisements from VMs. */
    add(ft, owner, 0, "table=%d,priority=70,udp,reg5=%#x,in_port=%d,"
        "tp_src=67,tp_dst=68,actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE,
        of, of, OFT_DROPPED_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=70,udp6,reg5=%#x,in_port=%d,"
        "tp_src=547,tp_dst=546,actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE,
        of, of, OFT_DROPPED_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=70,icmp6,reg5=%#x,in_port=%d,"
        "icmp_type=134,actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE, of, of,
        OFT_DROPPED_TRAFFIC_TABLE);

    for (size_t i = 0; i < n_ethertypes; i++) {
        const char *e = ethertypes[i];
        char *end;
        unsigned long v = strncmp(e, "0x", 2) ? 0 : strtoul(e, &end, 16);
        if (!strncmp(e, "0x", 2) && e[2] && !*end && v <= 0xffff) {
            add(ft, owner, 0, "table=%d,priority=95,dl_type=%#lx,reg5=%#x,"
                "actions=resubmit(,%d)", OFT_BASE_EGRESS_TABLE, v, of,
                OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
        } else {
            VLOG_WARN_RL(&rl, "custom ethertype %s is not a hexadecimal "
                         "number", log_safe(e));
        }
    }

    add(ft, owner, 0, "table=%d,priority=10,reg5=%#x,in_port=%d,"
        "actions=ct_clear,resubmit(,%d)", OFT_BASE_EGRESS_TABLE, of, of,
        OFT_DROPPED_TRAFFIC_TABLE);

    /* Table 73: to a local port of the same network, or out. */
    const char *mac;
    SSET_FOR_EACH (mac, macs) {
        add(ft, owner, 0, "table=%d,priority=100,reg6=%#x,dl_dst=%s,"
            "actions=set_field:%#x->reg5,resubmit(,%d)",
            OFT_ACCEPT_OR_INGRESS_TABLE, p->lv, mac, of,
            OFT_BASE_INGRESS_TABLE);
    }
    add(ft, owner, 0, "table=%d,priority=90,ct_state="CT_NEW_NOT_EST",ip,"
        "reg5=%#x,actions=ct(commit,"ZONE"),resubmit(,%d)",
        OFT_ACCEPT_OR_INGRESS_TABLE, of, OFT_ACCEPTED_EGRESS_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=90,ct_state="CT_NEW_NOT_EST",ipv6,"
        "reg5=%#x,actions=ct(commit,"ZONE"),resubmit(,%d)",
        OFT_ACCEPT_OR_INGRESS_TABLE, of, OFT_ACCEPTED_EGRESS_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=80,reg5=%#x,actions=resubmit(,%d)",
        OFT_ACCEPT_OR_INGRESS_TABLE, of,
        OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);

    egress_direct(ft, owner, p);
    free(v4);
    free(v6);
}

/* Table 81 (_initialize_ingress). */
static void
base_ingress(struct flow_table *ft, const char *owner,
             const struct fw_port *p)
{
    int of = p->ofport;
    add(ft, owner, 0, "table=%d,priority=100,arp,reg5=%#x,actions=output:%d",
        OFT_BASE_INGRESS_TABLE, of, of);
    static const int icmp6[] = { 130, 135, 136, 134 };
    for (size_t i = 0; i < ARRAY_SIZE(icmp6); i++) {
        add(ft, owner, 0, "table=%d,priority=100,icmp6,reg5=%#x,"
            "icmp_type=%d,actions=output:%d", OFT_BASE_INGRESS_TABLE, of,
            icmp6[i], of);
    }
    add(ft, owner, 0, "table=%d,priority=95,udp,reg5=%#x,tp_src=67,"
        "tp_dst=68,actions=output:%d", OFT_BASE_INGRESS_TABLE, of, of);
    add(ft, owner, 0, "table=%d,priority=95,udp6,reg5=%#x,tp_src=547,"
        "tp_dst=546,actions=output:%d", OFT_BASE_INGRESS_TABLE, of, of);
    add(ft, owner, 0, "table=%d,priority=90,ct_state=-trk,ip,reg5=%#x,"
        "actions=ct(table=%d,"ZONE")", OFT_BASE_INGRESS_TABLE, of,
        OFT_RULES_INGRESS_TABLE);
    add(ft, owner, 0, "table=%d,priority=90,ct_state=-trk,ipv6,reg5=%#x,"
        "actions=ct(table=%d,"ZONE")", OFT_BASE_INGRESS_TABLE, of,
        OFT_RULES_INGRESS_TABLE);
    add(ft, owner, 0, "table=%d,priority=80,ct_state=+trk,reg5=%#x,"
        "actions=resubmit(,%d)", OFT_BASE_INGRESS_TABLE, of,
        OFT_RULES_INGRESS_TABLE);
}

/* The tracked bases of table 72 or 82: drop invalid and invalidated
 * connections, accept replies and related packets, drop what is not
 * established and mark as invalidated what no longer matches a rule. */
static void
base_tracked(struct flow_table *ft, const char *owner,
             const struct fw_port *p, bool ingress)
{
    int of = p->ofport;
    int table = ingress ? OFT_RULES_INGRESS_TABLE : OFT_RULES_EGRESS_TABLE;
    char *out = (ingress ? xasprintf("output:%d", of)
                 : xasprintf("resubmit(,%d)",
                             OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE));

    add(ft, owner, 0, "table=%d,priority=50,ct_state=+inv+trk,"
        "actions=resubmit(,%d)", table, OFT_DROPPED_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=50,ct_mark=0x1,reg5=%#x,"
        "actions=resubmit(,%d)", table, of, OFT_DROPPED_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=50,ct_state="CT_EST_REPLY","
        "ct_zone=%d,ct_mark=0,reg5=%#x,actions=%s", table, p->lv, of, out);
    add(ft, owner, 0, "table=%d,priority=50,ct_state="CT_RELATED","
        "ct_zone=%d,ct_mark=0,reg5=%#x,actions=%s", table, p->lv, of, out);
    add(ft, owner, 0, "table=%d,priority=40,ct_state=-est,reg5=%#x,"
        "actions=resubmit(,%d)", table, of, OFT_DROPPED_TRAFFIC_TABLE);
    add(ft, owner, 0, "table=%d,priority=40,ct_state=+est,ip,reg5=%#x,"
        "actions=ct(commit,"ZONE",exec(set_field:0x1->ct_mark))", table, of);
    add(ft, owner, 0, "table=%d,priority=40,ct_state=+est,ipv6,reg5=%#x,"
        "actions=ct(commit,"ZONE",exec(set_field:0x1->ct_mark))", table, of);
    free(out);
}

void
fw_flows_port_base(struct flow_table *ft, const char *owner,
                   const struct fw_port *p,
                   char *const *ethertypes, size_t n_ethertypes)
{
    struct sset macs = SSET_INITIALIZER(&macs);
    port_macs(p, &macs);
    char *lla = fw_link_local(p->mac);

    base_transient(ft, owner, p, &macs);
    base_egress(ft, owner, p, &macs, lla, ethertypes, n_ethertypes);
    base_ingress(ft, owner, p);
    base_tracked(ft, owner, p, true);
    base_tracked(ft, owner, p, false);

    free(lla);
    sset_destroy(&macs);
}

void
fw_flows_port_unfiltered(struct flow_table *ft, const char *owner,
                         const struct fw_port *p)
{
    add(ft, owner, 0, "table=%d,priority=100,in_port=%d,"
        "actions=set_field:%#x->reg5,set_field:%#x->reg6,resubmit(,%d)",
        OFT_TRANSIENT_TABLE, p->ofport, p->ofport, p->lv,
        OFT_ACCEPT_OR_INGRESS_TABLE);
    add(ft, owner, 0, "table=%d,priority=80,reg5=%#x,actions=resubmit(,%d)",
        OFT_ACCEPT_OR_INGRESS_TABLE, p->ofport,
        OFT_ACCEPTED_EGRESS_TRAFFIC_NORMAL_TABLE);
    egress_direct(ft, owner, p);
}

/* Rules. */

static bool
has_ports(int protocol)
{
    return (protocol == PROTO_TCP || protocol == PROTO_UDP
            || protocol == PROTO_SCTP);
}

static bool
is_icmp(int protocol)
{
    return protocol == PROTO_ICMP || protocol == PROTO_ICMPV6;
}

static const char *
port_field(int protocol)
{
    return (protocol == PROTO_TCP ? "tcp_dst"
            : protocol == PROTO_UDP ? "udp_dst" : "sctp_dst");
}

int
fw_rule_priority_offset(const struct sg_rule *r, bool conjunction)
{
    int base = (conjunction || r->remote_group_id
                || r->remote_address_group_id) ? 0 : 4;
    if (r->protocol < 0) {
        return base;
    }
    if (is_icmp(r->protocol)) {
        if (r->port_min < 0) {
            return base + 1;
        } else if (r->port_max < 0) {
            return base + 2;
        }
    }
    return base + 3;
}

/* The matches of a rule on a port, without ct_state, one per element of
 * 'matches' (create_flows_from_rule_and_port): the priority, the
 * protocol, the remote prefix and the destination port blocks.  'lo' and
 * 'hi' override the rule's port range (-1: the rule's own). */
static void
rule_matches(const struct fw_port *p, const struct sg_rule *r,
             bool conjunction, int lo, int hi, struct sset *matches)
{
    int table = r->ingress ? OFT_RULES_INGRESS_TABLE : OFT_RULES_EGRESS_TABLE;
    struct ds m = DS_EMPTY_INITIALIZER;
    ds_put_format(&m, "table=%d,priority=%d,dl_type=%s,reg5=%#x", table,
                  70 + fw_rule_priority_offset(r, conjunction),
                  r->ipv6 ? "0x86dd" : "0x0800", p->ofport);

    /* The remote prefix, unless it is "any" (is_valid_prefix). */
    if (!conjunction && r->remote_prefix) {
        bool v6;
        char *cidr = fw_normalize_cidr(r->remote_prefix, &v6);
        if (cidr && strcmp(cidr, "0.0.0.0/0") && strcmp(cidr, "::/0")) {
            ds_put_format(&m, ",%s_%s=%s", v6 ? "ipv6" : "nw",
                          r->ingress ? "src" : "dst", cidr);
        }
        free(cidr);
    }
    if (r->protocol >= 0) {
        ds_put_format(&m, ",nw_proto=%d", r->protocol);
    }

    if (is_icmp(r->protocol)) {
        if (r->port_min >= 0) {
            ds_put_format(&m, ",icmp_type=%d", r->port_min);
            if (r->port_max >= 0) {
                ds_put_format(&m, ",icmp_code=%d", r->port_max);
            }
        }
        sset_add(matches, ds_cstr(&m));
    } else if (has_ports(r->protocol) && lo > 0 && hi > 0) {
        uint16_t values[32], masks[32];
        size_t n = fw_port_masks(lo, hi, values, masks);
        for (size_t i = 0; i < n; i++) {
            char *f = (masks[i] == 0xffff
                       ? xasprintf("%s,%s=%#06"PRIx16, ds_cstr(&m),
                                   port_field(r->protocol), values[i])
                       : xasprintf("%s,%s=%#06"PRIx16"/%#06"PRIx16,
                                   ds_cstr(&m), port_field(r->protocol),
                                   values[i], masks[i]));
            sset_add(matches, f);
            free(f);
        }
    } else {
        sset_add(matches, ds_cstr(&m));
    }
    ds_destroy(&m);
}

/* The accept actions of table 72 or 82 (create_accept_flows): 'est' for
 * the "+est-rel-rpl" flow, else for the "+new-est" one. */
static char *
accept_actions(const struct fw_port *p, bool ingress, bool est)
{
    if (!ingress) {
        return xasprintf("resubmit(,%d)", OFT_ACCEPT_OR_INGRESS_TABLE);
    }
    return (est ? xasprintf("output:%d", p->ofport)
            : xasprintf("ct(commit,"ZONE"),output:%d,resubmit(,%d)",
                        p->ofport, OFT_ACCEPTED_INGRESS_TRAFFIC_TABLE));
}

/* A plain rule: each match accepts, in both connection states. */
static void
plain_rule(struct flow_table *ft, const char *owner, const struct fw_port *p,
           const struct sg_rule *r)
{
    struct sset matches = SSET_INITIALIZER(&matches);
    int lo = r->port_min >= 0 && r->port_max >= 0 ? r->port_min : -1;
    int hi = lo > 0 ? r->port_max : -1;
    rule_matches(p, r, false, lo, hi, &matches);
    char *est = accept_actions(p, r->ingress, true);
    char *new = accept_actions(p, r->ingress, false);
    const char *m;
    SSET_FOR_EACH (m, &matches) {
        add(ft, owner, 0, "%s,ct_state="CT_EST_NOT_REPLY",actions=%s", m,
            est);
        add(ft, owner, 0, "%s,ct_state="CT_NEW_NOT_EST",actions=%s", m, new);
    }
    free(est);
    free(new);
    sset_destroy(&matches);
}

/* One piece of a merged group of conjunction rules: a port range (or the
 * rule's own) and the conjunction ids that cover it, in order. */
struct piece {
    const struct sg_rule *rule;     /* The template. */
    int lo, hi;                     /* -1: none. */
    uint32_t *ids;
    size_t n_ids;
};

static void
piece_add_id(struct piece *pc, uint32_t id)
{
    pc->ids = xrealloc(pc->ids, (pc->n_ids + 1) * sizeof *pc->ids);
    pc->ids[pc->n_ids++] = id;
}

/* merge_common_rules: rules that differ only in their port range (an ICMP
 * type and code) share flows, one per distinct range, listing every
 * conjunction id of that range in the order of the rules. */
static size_t
merge_common(const struct fw_rule *rules, const size_t *idx, size_t n,
             struct piece **piecesp)
{
    struct piece *pieces = xcalloc(n, sizeof *pieces);
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        const struct sg_rule *r = rules[idx[i]].rule;
        size_t j;
        for (j = 0; j < np; j++) {
            if (pieces[j].lo == r->port_min && pieces[j].hi == r->port_max) {
                break;
            }
        }
        if (j == np) {
            pieces[np].rule = r;
            pieces[np].lo = r->port_min;
            pieces[np].hi = r->port_max;
            np++;
        }
        piece_add_id(&pieces[j], rules[idx[i]].conj_id);
    }
    *piecesp = pieces;
    return np;
}

struct range_event {
    int port;
    bool is_min;
    uint32_t conj_id;
    size_t seq;                     /* For a stable sort. */
};

static int
range_event_cmp(const void *a_, const void *b_)
{
    const struct range_event *a = a_, *b = b_;
    int ka = a->port * 2 + !a->is_min, kb = b->port * 2 + !b->is_min;
    return ka != kb ? (ka < kb ? -1 : 1) : (a->seq < b->seq ? -1 : 1);
}

/* The conjunction ids active in merge_port_ranges, in insertion order,
 * with their counts. */
struct active {
    uint32_t id;
    int count;
};

/* merge_port_ranges: TCP, UDP and SCTP rules are cut into pieces that do
 * not overlap, each listing the conjunction ids of every rule covering it
 * (in the order they became active).  A single piece covering every port
 * loses its range. */
static size_t
merge_ranges(const struct fw_rule *rules, const size_t *idx, size_t n,
             struct piece **piecesp)
{
    struct range_event *ev = xcalloc(2 * n, sizeof *ev);
    for (size_t i = 0; i < n; i++) {
        const struct sg_rule *r = rules[idx[i]].rule;
        ev[2 * i] = (struct range_event) {
            r->port_min >= 0 ? r->port_min : 1, true, rules[idx[i]].conj_id,
            2 * i };
        ev[2 * i + 1] = (struct range_event) {
            r->port_max >= 0 ? r->port_max : 65535, false,
            rules[idx[i]].conj_id, 2 * i + 1 };
    }
    qsort(ev, 2 * n, sizeof *ev, range_event_cmp);

    const struct sg_rule *tmpl = rules[idx[0]].rule;
    struct piece *pieces = NULL;
    size_t np = 0, allocated = 0;
    struct active *act = xcalloc(n, sizeof *act);
    size_t n_act = 0;
    int cur_min = 0;

#define EMIT(LO, HI)                                                    \
    do {                                                                \
        if (np >= allocated) {                                          \
            pieces = x2nrealloc(pieces, &allocated, sizeof *pieces);    \
        }                                                               \
        pieces[np] = (struct piece) { tmpl, (LO), (HI), NULL, 0 };      \
        for (size_t k_ = 0; k_ < n_act; k_++) {                         \
            piece_add_id(&pieces[np], act[k_].id);                      \
        }                                                               \
        np++;                                                           \
    } while (0)

    for (size_t i = 0; i < 2 * n; i++) {
        size_t k;
        for (k = 0; k < n_act && act[k].id != ev[i].conj_id; k++) {
            continue;
        }
        if (ev[i].is_min) {
            if (k < n_act) {
                act[k].count++;
                continue;
            }
            if (n_act && cur_min != ev[i].port) {
                EMIT(cur_min, ev[i].port - 1);
            }
            cur_min = ev[i].port;
            act[n_act++] = (struct active) { ev[i].conj_id, 1 };
        } else {
            if (k == n_act) {
                continue;       /* Cannot happen: a max follows its min. */
            }
            if (act[k].count > 1) {
                act[k].count--;
                continue;
            }
            if (cur_min <= ev[i].port) {
                EMIT(cur_min, ev[i].port);
                cur_min = ev[i].port + 1;
            }
            memmove(&act[k], &act[k + 1], (n_act - k - 1) * sizeof *act);
            n_act--;
        }
    }
#undef EMIT
    if (np == 1 && pieces[0].lo == 1 && pieces[0].hi == 65535) {
        pieces[0].lo = pieces[0].hi = -1;
    }
    free(act);
    free(ev);
    *piecesp = pieces;
    return np;
}

/* The conjunction rules of one (direction, ethertype, protocol): clause 2
 * flows for each merged piece, then the accept flow of each id. */
static void
conj_rules(struct flow_table *ft, const char *owner, const struct fw_port *p,
           const struct fw_rule *rules, const size_t *idx, size_t n)
{
    const struct sg_rule *tmpl = rules[idx[0]].rule;
    struct piece *pieces;
    size_t np;
    if (n == 1) {
        pieces = xzalloc(sizeof *pieces);
        pieces[0] = (struct piece) { tmpl, tmpl->port_min, tmpl->port_max,
                                     NULL, 0 };
        piece_add_id(&pieces[0], rules[idx[0]].conj_id);
        np = 1;
    } else if (has_ports(tmpl->protocol)) {
        np = merge_ranges(rules, idx, n, &pieces);
    } else {
        np = merge_common(rules, idx, n, &pieces);
    }

    for (size_t i = 0; i < np; i++) {
        struct piece *pc = &pieces[i];
        /* create_port_range_flows needs both ends; ICMP reads them as
         * type and code. */
        struct sg_rule r = *pc->rule;
        r.port_min = pc->lo;
        r.port_max = pc->hi;
        int lo = r.port_min > 0 && r.port_max > 0 ? r.port_min : -1;
        int hi = lo > 0 ? r.port_max : -1;
        struct sset matches = SSET_INITIALIZER(&matches);
        rule_matches(p, &r, true, lo, hi, &matches);
        for (int est = 1; est >= 0; est--) {
            struct ds acts = DS_EMPTY_INITIALIZER;
            for (size_t k = 0; k < pc->n_ids; k++) {
                ds_put_format(&acts, "%sconjunction(%"PRIu32",2/2)",
                              k ? "," : "", pc->ids[k] + !est);
            }
            const char *m;
            SSET_FOR_EACH (m, &matches) {
                add(ft, owner, 0, "%s,ct_state=%s,actions=%s", m,
                    est ? CT_EST_NOT_REPLY : CT_NEW_NOT_EST, ds_cstr(&acts));
            }
            ds_destroy(&acts);
        }
        sset_destroy(&matches);
        free(pc->ids);
    }
    free(pieces);

    /* The accept flows, once per conjunction id (create_conj_flows). */
    int table = (tmpl->ingress ? OFT_RULES_INGRESS_TABLE
                 : OFT_RULES_EGRESS_TABLE);
    for (size_t i = 0; i < n; i++) {
        uint32_t id = rules[idx[i]].conj_id;
        bool dup = false;
        for (size_t j = 0; j < i && !dup; j++) {
            dup = rules[idx[j]].conj_id == id;
        }
        if (dup) {
            continue;
        }
        for (int est = 1; est >= 0; est--) {
            uint32_t cid = id + !est;
            char *acts = accept_actions(p, tmpl->ingress, est);
            add(ft, owner, 0, "table=%d,priority=%d,conj_id=%"PRIu32","
                "ct_state=%s,dl_type=%s,reg5=%#x,"
                "actions=set_field:%#"PRIx32"->reg7,%s", table,
                70 + (int) (id % 8) / 2, cid,
                est ? CT_EST_NOT_REPLY : CT_NEW_NOT_EST,
                tmpl->ipv6 ? "0x86dd" : "0x0800", p->ofport, cid, acts);
            free(acts);
        }
    }
}

void
fw_flows_port_rules(struct flow_table *ft, const char *owner,
                    const struct fw_port *p,
                    const struct fw_rule *rules, size_t n)
{
    /* The tracked bases come with the port's base flows; here, the plain
     * rules first, then the conjunction rules grouped by (direction,
     * ethertype, protocol) in the order each group first appears. */
    size_t *idx = xcalloc(n ? n : 1, sizeof *idx);
    bool *done = xcalloc(n ? n : 1, sizeof *done);
    for (size_t i = 0; i < n; i++) {
        const struct sg_rule *r = rules[i].rule;
        if (!r->remote_group_id && !r->remote_address_group_id) {
            plain_rule(ft, owner, p, r);
            done[i] = true;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (done[i]) {
            continue;
        }
        const struct sg_rule *a = rules[i].rule;
        size_t m = 0;
        for (size_t j = i; j < n; j++) {
            const struct sg_rule *b = rules[j].rule;
            if (!done[j] && a->ingress == b->ingress && a->ipv6 == b->ipv6
                && a->protocol == b->protocol) {
                idx[m++] = j;
                done[j] = true;
            }
        }
        conj_rules(ft, owner, p, rules, idx, m);
    }
    free(done);
    free(idx);
}

static int
uint32_cmp(const void *a_, const void *b_)
{
    uint32_t a = *(const uint32_t *) a_, b = *(const uint32_t *) b_;
    return a < b ? -1 : a > b;
}

void
fw_flows_member(struct flow_table *ft, const char *owner, int lv,
                bool ingress, const char *addr, const char *mac,
                const uint32_t *conj_ids, size_t n)
{
    bool v6;
    char *cidr = fw_normalize_cidr(addr, &v6);
    if (!cidr || !n) {
        free(cidr);
        return;
    }
    uint32_t *ids = xmemdup(conj_ids, n * sizeof *ids);
    qsort(ids, n, sizeof *ids, uint32_cmp);

    struct ds m = DS_EMPTY_INITIALIZER;
    ds_put_format(&m, "table=%d,dl_type=%s,reg6=%#x,%s_%s=%s",
                  ingress ? OFT_RULES_INGRESS_TABLE : OFT_RULES_EGRESS_TABLE,
                  v6 ? "0x86dd" : "0x0800", lv, v6 ? "ipv6" : "nw",
                  ingress ? "src" : "dst", cidr);
    if (mac && (!strcmp(cidr, "0.0.0.0/0") || !strcmp(cidr, "::/0"))) {
        ds_put_format(&m, ",dl_src=%s", mac);
    }
    for (int offset = 0; offset < 4; offset++) {
        for (int est = 1; est >= 0; est--) {
            struct ds acts = DS_EMPTY_INITIALIZER;
            uint32_t last = UINT32_MAX;
            for (size_t i = 0; i < n; i++) {
                if ((int) (ids[i] % 8) / 2 == offset && ids[i] != last) {
                    ds_put_format(&acts, "%sconjunction(%"PRIu32",1/2)",
                                  acts.length ? "," : "", ids[i] + !est);
                    last = ids[i];
                }
            }
            if (acts.length) {
                add(ft, owner, 0, "%s,priority=%d,ct_state=%s,actions=%s",
                    ds_cstr(&m), 70 + offset,
                    est ? CT_EST_NOT_REPLY : CT_NEW_NOT_EST, ds_cstr(&acts));
            }
            ds_destroy(&acts);
        }
    }
    ds_destroy(&m);
    free(ids);
    free(cidr);
}
