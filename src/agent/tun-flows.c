/*
 * tun-flows: tunnel ports and their br-tun flows.  See tun-flows.h.
 */
#include <config.h>
#include "agent/tun-flows.h"
#include "agent/of-tables.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "sha1.h"
#include "smap.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(tun_flows);


/* The longest name of a network device, without its NUL. */
#define DEVICE_NAME_MAX_LEN 15

static void OVS_PRINTF_FORMAT(3, 4)
add(struct flow_table *ft, const char *owner, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    flow_table_vadd_logged(ft, owner, 0, format, args);
    va_end(args);
}

static void OVS_PRINTF_FORMAT(3, 4)
remove_flow(struct flow_table *ft, const char *owner, const char *format,
            ...)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);
    char *error = flow_table_remove(ft, owner, "%s", text);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: %s", log_safe(owner), log_safe(error));
        free(error);
    }
    free(text);
}

int
tun_in_table(const char *type)
{
    return oft_tun_table(type);
}

static bool
is_v6(const char *ip)
{
    return strchr(ip, ':') != NULL;
}

char *
tun_port_name(const char *type, const char *remote_ip)
{
    int hashlen = DEVICE_NAME_MAX_LEN - (int) strlen(type) - 1;
    if (hashlen <= 0) {
        return NULL;
    }
    if (!is_v6(remote_ip)) {
        struct in_addr a;
        if (inet_pton(AF_INET, remote_ip, &a) != 1) {
            return NULL;
        }
        return xasprintf("%s-%08"PRIx32, type, ntohl(a.s_addr));
    }
    struct in6_addr a6;
    if (inet_pton(AF_INET6, remote_ip, &a6) != 1) {
        return NULL;
    }
    /* Base32 (RFC 4648) of the SHA-1 of the address as written, lower
     * case, as Python's base64.b32encode gives it. */
    uint8_t digest[SHA1_DIGEST_SIZE];
    sha1_bytes(remote_ip, strlen(remote_ip), digest);
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
    char b32[40];
    int n = 0, bits = 0;
    uint32_t acc = 0;
    for (int i = 0; i < SHA1_DIGEST_SIZE && n < (int) sizeof b32 - 1; i++) {
        acc = (acc << 8) | digest[i];
        bits += 8;
        while (bits >= 5) {
            b32[n++] = alphabet[(acc >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    b32[MIN(n, hashlen)] = '\0';
    return xasprintf("%s-%s", type, b32);
}

const char *
tun_iface_type(const char *type, const char *local_ip, const char *remote_ip)
{
    if (!strcmp(type, "gre") && ((local_ip && is_v6(local_ip))
                                 || is_v6(remote_ip))) {
        return "ip6gre";
    }
    return type;
}

void
tun_iface_options(const struct agent_config *cfg, const char *type,
                  const char *remote_ip, bool hw_offload,
                  struct smap *options)
{
    if (!strcmp(type, "vxlan") && cfg->vxlan_udp_port != 4789) {
        smap_add_format(options, "dst_port", "%d", cfg->vxlan_udp_port);
    }
    smap_add(options, "df_default", cfg->dont_fragment ? "true" : "false");
    smap_add(options, "remote_ip", remote_ip);
    smap_add(options, "local_ip", cfg->local_ip ? cfg->local_ip : "");
    smap_add(options, "in_key", "flow");
    smap_add(options, "out_key", "flow");
    if (!hw_offload) {
        smap_add(options, "egress_pkt_mark", "0");
    }
    if (cfg->tunnel_csum) {
        smap_add(options, "csum", "true");
    }
    if (!strcmp(tun_iface_type(type, cfg->local_ip, remote_ip), "ip6gre")) {
        smap_add(options, "packet_type", "legacy_l2");
    }
}

void
tun_flows_port(struct flow_table *ft, const char *owner, const char *type,
               int ofport)
{
    int table = tun_in_table(type);
    if (table >= 0 && ofport > 0) {
        add(ft, owner, "table=%d,priority=1,in_port=%d,"
            "actions=goto_table:%d", OFT_LOCAL_SWITCHING, ofport, table);
    }
}

static int
int_cmp(const void *a_, const void *b_)
{
    int a = *(const int *) a_, b = *(const int *) b_;
    return a < b ? -1 : a > b;
}

void
tun_flows_flood(struct flow_table *ft, const char *owner, int lv,
                int64_t segid, const int *ofports, size_t n)
{
    if (!n) {
        return;
    }
    int *sorted = xmemdup(ofports, n * sizeof *ofports);
    qsort(sorted, n, sizeof *sorted, int_cmp);
    /* One pass: a network of a large cloud floods to thousands of tunnels. */
    struct ds outs = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        if (!i || sorted[i] != sorted[i - 1]) {
            ds_put_format(&outs, ",output:%d", sorted[i]);
        }
    }
    add(ft, owner, "table=%d,priority=1,dl_vlan=%d,actions=pop_vlan,"
        "set_field:%#"PRIx64"->tun_id%s", OFT_FLOOD_TO_TUN, lv,
        (uint64_t) segid, ds_cstr(&outs));
    ds_destroy(&outs);
    free(sorted);
}

void
tun_flows_unicast(struct flow_table *ft, const char *owner, int lv,
                  int64_t segid, const char *mac, int ofport)
{
    add(ft, owner, "table=%d,priority=2,dl_vlan=%d,dl_dst=%s,"
        "actions=pop_vlan,set_field:%#"PRIx64"->tun_id,output:%d",
        OFT_UCAST_TO_TUN, lv, mac, (uint64_t) segid, ofport);
}

void
tun_flows_unicast_remove(struct flow_table *ft, const char *owner, int lv,
                         const char *mac)
{
    remove_flow(ft, owner, "table=%d,priority=2,dl_vlan=%d,dl_dst=%s",
                OFT_UCAST_TO_TUN, lv, mac);
}

void
tun_flows_arp(struct flow_table *ft, const char *owner, int lv,
              const char *mac, const char *ip)
{
    add(ft, owner, "table=%d,priority=1,arp,dl_vlan=%d,arp_tpa=%s,"
        "actions=set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],set_field:%s->arp_sha,"
        "set_field:%s->arp_spa,move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
        "set_field:%s->eth_src,IN_PORT", OFT_ARP_RESPONDER, lv, ip, mac, ip,
        mac);
}

void
tun_flows_arp_remove(struct flow_table *ft, const char *owner, int lv,
                     const char *ip)
{
    remove_flow(ft, owner, "table=%d,priority=1,arp,dl_vlan=%d,arp_tpa=%s",
                OFT_ARP_RESPONDER, lv, ip);
}
