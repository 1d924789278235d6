/*
 * Unit tests of fw-flows: the openvswitch firewall's flows against the
 * reference's own (tests/unit/data/fw-2ports.flows: br-int's firewall
 * tables as neutron 21.0.0 left them with two bound ports, one on a VXLAN
 * network and one on a VLAN network, in a group with "ingress TCP 22",
 * "egress any" for both families and "ingress IPv4 from the group
 * itself"), and the parts that captures do not show: port-range
 * splitting, the merging of conjunction rules, member flows.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/fw-flows.h"
#include "neutron/device-details.h"
#include "neutron/sg-cache.h"
#include "openvswitch/dynamic-string.h"
#include "ovs/flow-table.h"
#include "sset.h"
#include "test-util.h"
#include "util.h"

#define GOLDEN "tests/unit/data/fw-2ports.flows"

static struct sg_rule
rule(bool ingress, bool ipv6, int protocol, int lo, int hi,
     const char *prefix, const char *remote)
{
    return (struct sg_rule) {
        .id = "r", .sg_id = "sg", .ingress = ingress, .ipv6 = ipv6,
        .protocol = protocol, .port_min = lo, .port_max = hi,
        .remote_prefix = CONST_CAST(char *, prefix),
        .remote_group_id = CONST_CAST(char *, remote),
    };
}

/* Reads a dump ("table=N, [reset_counts ]MATCH actions=ACTS" per line)
 * into a flow table, which formats it as it formats ours. */
static struct flow_table *
read_golden(const char *path)
{
    struct flow_table *ft = flow_table_create("golden", 0, NULL, 0);
    FILE *f = fopen(path, "r");
    if (!f) {
        check(false, "golden file opens");
        return ft;
    }
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        struct ds s = DS_EMPTY_INITIALIZER;
        enum ofputil_flow_mod_flags flags = 0;
        char *p = line;
        char *rc = strstr(p, "reset_counts ");
        if (rc) {
            flags = OFPUTIL_FF_RESET_COUNTS;
            memmove(rc, rc + strlen("reset_counts "),
                    strlen(rc + strlen("reset_counts ")) + 1);
        }
        for (; *p; p++) {
            if (p[0] == ',' && p[1] == ' ') {
                ds_put_char(&s, ',');
                p++;
            } else if (p[0] == ' ') {
                ds_put_char(&s, ',');
            } else {
                ds_put_char(&s, *p);
            }
        }
        char *error = flow_table_add(ft, "golden", flags, "%s", ds_cstr(&s));
        if (error) {
            checkf(false, "golden line parses: %s", error);
            free(error);
        }
        ds_destroy(&s);
    }
    fclose(f);
    return ft;
}

/* Compares two tables' desired flows, printing the differences. */
static bool
same_flows(const struct flow_table *a, const struct flow_table *b)
{
    struct ds da = DS_EMPTY_INITIALIZER, db = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(a, &da);
    flow_table_format_desired(b, &db);
    struct sset la = SSET_INITIALIZER(&la), lb = SSET_INITIALIZER(&lb);
    char *save, *line;
    for (line = strtok_r(ds_cstr(&da), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        sset_add(&la, line);
    }
    for (line = strtok_r(ds_cstr(&db), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        sset_add(&lb, line);
    }
    bool same = true;
    const char *l;
    SSET_FOR_EACH (l, &la) {
        if (!sset_contains(&lb, l)) {
            printf("# only ours:      %s\n", l);
            same = false;
        }
    }
    SSET_FOR_EACH (l, &lb) {
        if (!sset_contains(&la, l)) {
            printf("# only reference: %s\n", l);
            same = false;
        }
    }
    sset_destroy(&la);
    sset_destroy(&lb);
    ds_destroy(&da);
    ds_destroy(&db);
    return same;
}

static size_t
count_matching(const struct flow_table *ft, const char *needle)
{
    struct ds d = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(ft, &d);
    size_t n = 0;
    for (const char *p = ds_cstr(&d); (p = strstr(p, needle)); p++) {
        n++;
    }
    ds_destroy(&d);
    return n;
}

static bool
has_flow(const struct flow_table *ft, const char *needle)
{
    return count_matching(ft, needle) > 0;
}

static void
test_golden(void)
{
    struct flow_table *ft = flow_table_create("br-int", 0, NULL, 0);
    fw_flows_init(ft, "init");

    char *ips_a[] = { "10.0.0.5" }, *ips_b[] = { "10.1.0.5" };
    struct fw_port a = {
        .ofport = 3, .lv = 1, .network_type = "vxlan",
        .segmentation_id = 100, .mac = "fa:16:3e:00:00:05",
        .fixed_ips = ips_a, .n_fixed_ips = 1,
        .egress_direct = FW_EGRESS_DIRECT_OFF,
    };
    struct fw_port b = {
        .ofport = 4, .lv = 2, .network_type = "vlan",
        .segmentation_id = 1000, .mac = "fa:16:3e:00:01:05",
        .fixed_ips = ips_b, .n_fixed_ips = 1,
        .egress_direct = FW_EGRESS_DIRECT_OFF,
    };
    struct sg_rule r[] = {
        rule(true, false, 6, 22, 22, "0.0.0.0/0", NULL),
        rule(false, false, -1, -1, -1, NULL, NULL),
        rule(false, true, -1, -1, -1, NULL, NULL),
        rule(true, false, -1, -1, -1, NULL, "sg"),
    };
    struct fw_rule fr[ARRAY_SIZE(r)];
    for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
        fr[i] = (struct fw_rule) { &r[i], r[i].remote_group_id ? 16 : 0 };
    }
    const struct fw_port *ports[] = { &a, &b };
    for (size_t i = 0; i < 2; i++) {
        char *o = xasprintf("fw:%d", ports[i]->ofport);
        fw_flows_port_base(ft, o, ports[i], NULL, 0);
        fw_flows_port_rules(ft, o, ports[i], fr, ARRAY_SIZE(fr));
        free(o);
    }
    /* The group's members, wherever they are, on both local VLANs. */
    const char *members[] = { "10.0.0.5", "10.0.0.6", "10.1.0.5" };
    uint32_t id = 16;
    for (int lv = 1; lv <= 2; lv++) {
        for (size_t i = 0; i < ARRAY_SIZE(members); i++) {
            char *o = xasprintf("fwm:%d:%s", lv, members[i]);
            fw_flows_member(ft, o, lv, true, members[i], "fa:16:3e:00:00:99",
                            &id, 1);
            free(o);
        }
    }

    struct flow_table *golden = read_golden(GOLDEN);
    checkf(flow_table_n_desired(golden) == 129,
           "the golden dump has 129 firewall flows (%zu)",
           flow_table_n_desired(golden));
    check(same_flows(ft, golden), "two ports, the default-like group: "
          "every flow as the reference's, and no other");
    flow_table_destroy(golden);

    /* Replacing a port's flows: clearing its owner leaves the shared
     * flows (the invalid-state drops) to the other port. */
    flow_table_clear_owner(ft, "fw:3");
    check(!has_flow(ft, "reg5=0x3") && !has_flow(ft, "in_port=3"),
          "clearing a port's owner removes its flows");
    check(has_flow(ft, "table=82, priority=50,ct_state=+inv+trk"),
          "the shared invalid-state drop stays for the other port");
    flow_table_destroy(ft);
}

static void
test_port_masks(void)
{
    uint16_t v[32], m[32];
    size_t n = fw_port_masks(40, 105, v, m);
    check(n == 5
          && v[0] == 0x28 && m[0] == 0xfff8 && v[1] == 0x30 && m[1] == 0xfff0
          && v[2] == 0x40 && m[2] == 0xffe0 && v[3] == 0x60 && m[3] == 0xfff8
          && v[4] == 0x68 && m[4] == 0xfffe,
          "[40,105]: the reference's five blocks");
    n = fw_port_masks(22, 22, v, m);
    check(n == 1 && v[0] == 22 && m[0] == 0xffff, "[22,22]: one value");
    n = fw_port_masks(1000, 1999, v, m);
    check(n == 7, "[1000,1999]: seven blocks");
    n = fw_port_masks(1, 65535, v, m);
    check(n == 16, "[1,65535]: sixteen blocks");
    n = fw_port_masks(0, 65535, v, m);
    check(n == 1 && m[0] == 0, "[0,65535]: one block matching anything");
    check(fw_port_masks(10, 9, v, m) == 0, "an empty range: nothing");

    /* Every port in [lo, hi] is covered once, and nothing else. */
    static const int ranges[][2] = { {1, 1}, {1, 2}, {3, 1024}, {1023, 1025},
                                     {5000, 6000}, {65534, 65535} };
    bool ok = true;
    for (size_t r = 0; r < ARRAY_SIZE(ranges); r++) {
        int lo = ranges[r][0], hi = ranges[r][1];
        n = fw_port_masks(lo, hi, v, m);
        for (int port = 0; port < 65536; port++) {
            int hits = 0;
            for (size_t i = 0; i < n; i++) {
                hits += (port & m[i]) == v[i];
            }
            if (hits != (port >= lo && port <= hi)) {
                ok = false;
            }
        }
    }
    check(ok, "blocks cover exactly their range, each port once");
}

static void
test_rules(void)
{
    struct flow_table *ft = flow_table_create("br-int", 0, NULL, 0);
    char *ips[] = { "10.0.0.5", "fd00::5" };
    struct fw_port p = {
        .ofport = 7, .lv = 3, .network_type = "flat",
        .segmentation_id = -1, .mac = "fa:16:3e:00:00:07",
        .fixed_ips = ips, .n_fixed_ips = 2,
        .egress_direct = FW_EGRESS_DIRECT_OFF,
    };

    /* Plain rules: priorities, prefixes, ICMP type and code. */
    struct sg_rule r[] = {
        rule(true, false, 1, -1, -1, "192.0.2.0/24", NULL),
        rule(true, false, 1, 8, -1, NULL, NULL),
        rule(true, false, 1, 8, 0, NULL, NULL),
        rule(false, true, 58, -1, -1, "2001:db8::/32", NULL),
        rule(true, false, 17, 40, 105, NULL, NULL),
        rule(true, false, 6, 80, -1, NULL, NULL),
    };
    struct fw_rule fr[ARRAY_SIZE(r)];
    for (size_t i = 0; i < ARRAY_SIZE(r); i++) {
        fr[i] = (struct fw_rule) { &r[i], 0 };
    }
    fw_flows_port_rules(ft, "p", &p, fr, ARRAY_SIZE(fr));
    check(has_flow(ft, "table=82, priority=75,ct_state=+new-est,icmp,"
                   "reg5=0x7,nw_src=192.0.2.0/24 actions=ct(commit,"
                   "zone=NXM_NX_REG6[0..15]),output:7,resubmit(,92)"),
          "ICMP from a CIDR: priority 75, committed and output");
    check(has_flow(ft, "priority=76,ct_state=+est-rel-rpl,icmp,reg5=0x7,"
                   "icmp_type=8 actions=output:7"),
          "ICMP type without code: priority 76");
    check(has_flow(ft, "priority=77,ct_state=+est-rel-rpl,icmp,reg5=0x7,"
                   "icmp_type=8,icmp_code=0 actions"),
          "ICMP type and code: priority 77");
    check(has_flow(ft, "table=72, priority=75,ct_state=+new-est,icmp6,"
                   "reg5=0x7,ipv6_dst=2001:db8::/32 actions=resubmit(,73)"),
          "egress ICMPv6 to a prefix: table 72, on to 73");
    checkf(count_matching(ft, "udp,reg5=0x7,tp_dst=") == 10,
           "UDP 40-105: five blocks, two states each (%zu)",
           count_matching(ft, "udp,reg5=0x7,tp_dst="));
    check(has_flow(ft, "priority=77,ct_state=+new-est,tcp,reg5=0x7 actions"),
          "TCP with only a minimum port: every TCP port, as the reference");
    flow_table_destroy(ft);

    /* Conjunction rules: merged port ranges, several ids per piece. */
    ft = flow_table_create("br-int", 0, NULL, 0);
    struct sg_rule c[] = {
        rule(true, false, 6, 20, 30, NULL, "g1"),
        rule(true, false, 6, 25, 40, NULL, "g2"),
        rule(true, false, -1, -1, -1, NULL, "g1"),
        rule(true, false, -1, -1, -1, NULL, "g2"),
    };
    struct fw_rule fc[] = { { &c[0], 22 }, { &c[1], 30 }, { &c[2], 16 },
                            { &c[3], 24 } };
    fw_flows_port_rules(ft, "p", &p, fc, ARRAY_SIZE(fc));
    check(has_flow(ft, "priority=73,ct_state=+est-rel-rpl,tcp,reg5=0x7,"
                   "tp_dst=0x14/0xfffc actions=conjunction(22,2/2)"),
          "TCP 20-24: only the first group's id");
    check(has_flow(ft, "priority=73,ct_state=+new-est,tcp,reg5=0x7,"
                   "tp_dst=30 actions=conjunction(23,2/2),"
                   "conjunction(31,2/2)"),
          "TCP 30 (in both ranges): both ids, for +new the odd ones");
    check(has_flow(ft, "tp_dst=40 actions=conjunction(30,2/2)"),
          "TCP 40: only the second group's id");
    check(has_flow(ft, "priority=70,ct_state=+est-rel-rpl,ip,reg5=0x7 "
                   "actions=conjunction(16,2/2),conjunction(24,2/2)"),
          "identical rules of two groups share a flow listing both ids");
    check(has_flow(ft, "priority=73,conj_id=23,ct_state=+new-est,ip,"
                   "reg5=0x7 actions=set_field:0x17->reg7,ct(commit,"
                   "zone=NXM_NX_REG6[0..15]),output:7,resubmit(,92)"),
          "each id has its accept flow, at its id's priority");
    flow_table_destroy(ft);

    /* A single conjunction rule over every port keeps its 16 blocks, as
     * the reference's merge only drops the range when it merged. */
    ft = flow_table_create("br-int", 0, NULL, 0);
    struct sg_rule all = rule(false, false, 17, 1, 65535, NULL, "g1");
    struct fw_rule fa = { &all, 22 };
    fw_flows_port_rules(ft, "p", &p, &fa, 1);
    checkf(count_matching(ft, "conjunction(22,2/2)") == 16,
           "one UDP 1-65535 conjunction rule: 16 blocks (%zu)",
           count_matching(ft, "conjunction(22,2/2)"));
    flow_table_destroy(ft);
}

static void
test_members(void)
{
    struct flow_table *ft = flow_table_create("br-int", 0, NULL, 0);
    uint32_t ids[] = { 40, 16, 22 };
    fw_flows_member(ft, "m", 5, true, "10.0.0.9", "fa:16:3e:00:00:09", ids,
                    3);
    check(has_flow(ft, "table=82, priority=70,ct_state=+est-rel-rpl,ip,"
                   "reg6=0x5,nw_src=10.0.0.9 actions=conjunction(16,1/2),"
                   "conjunction(40,1/2)"),
          "ids of one priority share a flow, sorted");
    check(has_flow(ft, "priority=73,ct_state=+new-est,ip,reg6=0x5,"
                   "nw_src=10.0.0.9 actions=conjunction(23,1/2)"),
          "an id of offset 3 goes at priority 73");
    flow_table_destroy(ft);

    ft = flow_table_create("br-int", 0, NULL, 0);
    uint32_t id = 16;
    fw_flows_member(ft, "m", 5, false, "0.0.0.0/0", "fa:16:3e:00:00:09", &id,
                    1);
    fw_flows_member(ft, "m", 5, false, "fd00::7/64", NULL, &id, 1);
    check(has_flow(ft, "ip,reg6=0x5,dl_src=fa:16:3e:00:00:09"),
          "an any-address member with a MAC matches its MAC");
    check(has_flow(ft, "table=72, priority=70,ct_state=+new-est,ipv6,"
                   "reg6=0x5,ipv6_dst=fd00::/64 actions=conjunction(17,1/2)"),
          "egress: the destination, normalized to its network");
    flow_table_destroy(ft);
}

static void
test_unfiltered(void)
{
    struct flow_table *ft = flow_table_create("br-int", 0, NULL, 0);
    struct fw_port p = {
        .ofport = 9, .lv = 4, .network_type = "vxlan",
        .segmentation_id = 7, .mac = "fa:16:3e:00:00:0a",
        .egress_direct = 2,
    };
    fw_flows_port_unfiltered(ft, "u", &p);
    struct flow_table *et = flow_table_create("br-int", 0, NULL, 0);
    char *ethertypes[] = { "0x4008", "lldp", "0x88CC" };
    fw_flows_port_base(et, "e", &p, ethertypes, ARRAY_SIZE(ethertypes));
    check(has_flow(et, "table=71, priority=95,reg5=0x9,dl_type=0x4008 "
                   "actions=resubmit(,94)")
          && has_flow(et, "reg5=0x9,dl_type=0x88cc actions=resubmit(,94)")
          && count_matching(et, "dl_type=") == 2,
          "permitted ethertypes pass egress; one not in hex is skipped");
    flow_table_destroy(et);
    check(has_flow(ft, "table=60, priority=100,in_port=9 actions=set_field:"
                   "0x9->reg5,set_field:0x4->reg6,resubmit(,73)"),
          "no port security: straight to table 73");
    check(has_flow(ft, "table=73, priority=80,reg5=0x9 actions=resubmit(,94)"),
          "and on to NORMAL");
    check(has_flow(ft, "table=94, priority=10,reg6=0x4,dl_src=fa:16:3e:00:00:"
                   "0a,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions="
                   "push_vlan:0x8100,set_field:4100->vlan_vid,output:2"),
          "egress direct: unicast out of the patch port, tagged");
    check(flow_table_n_desired(ft) == 4, "four flows in all");
    flow_table_destroy(ft);

    char *lla = fw_link_local("fa:16:3e:00:01:05");
    check(lla && !strcmp(lla, "fe80::f816:3eff:fe00:105"),
          "the EUI-64 link-local address");
    free(lla);
    bool v6;
    char *c = fw_normalize_cidr("10.0.0.7/24", &v6);
    check(c && !strcmp(c, "10.0.0.0/24") && !v6, "CIDRs are normalized");
    free(c);
    check(!fw_normalize_cidr("10.0.0.300", &v6), "a bad address: NULL");
}

int
main(void)
{
    test_golden();
    test_port_masks();
    test_rules();
    test_members();
    test_unfiltered();
    return test_summary();
}
