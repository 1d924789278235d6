/*
 * flow-mem: the heap a bridge's flows cost, per flow, measured offline.
 *
 *   flow-mem [HOSTS [NETS [PORTS]]]       (default 1000 10 2)
 *
 * Builds br-tun's flows for the forwarding database of HOSTS remote hosts,
 * each with PORTS ports on each of NETS networks, as tunnels writes them
 * (tun-flows.h, under tunnels.h's owners): per network a flood flow, per
 * remote port a unicast flow and an ARP responder flow.  It prints the
 * heap (glibc's mallinfo2(), chunk headers included) the flow table holds
 * per flow: with the desired flows only, then once they are all installed
 * (diffed and acknowledged as a switch would).  Then the same FDB goes
 * through tunnels itself, offline (tunnels_fdb_add() on a switch-less
 * br-tun, so no tunnel gets an ofport and only the ARP responder's flows
 * are written): the heap per remote port of its FDB and those flows.
 *
 * The last line, "bytes/flow: N", is the desired-and-installed figure,
 * what bench/fdb-growth's slope compares with the reference's.  Under a
 * sanitizer, whose allocator mallinfo2() does not see, it prints "n/a".
 */
#include <config.h>

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "agent/tun-flows.h"
#include "agent/tunnels.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "util.h"
#include "../unit/test-util.h"

static size_t
heap_used(void)
{
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

/* Remote port 'n' of network 'net': its MAC and its address, as
 * bench/fdb-growth numbers them ('n' below 62,500). */
static void
mac_of(char mac[24], int net, int n)
{
    snprintf(mac, 24, "fa:16:3e:%02x:%02x:%02x", net & 0xff, (n >> 8) & 0xff,
             n & 0xff);
}

static void
ip_of(char ip[24], int n)
{
    snprintf(ip, 24, "172.%d.%d.%d", 16 + n / 62500, n / 250 % 250,
             n % 250 + 1);
}

/* The flow table alone, filled as tunnels fills it; returns the flows. */
static size_t
measure_table(int hosts, int nets, int ports, double *desired,
              double *both)
{
    size_t base = heap_used();
    struct flow_table *ft = flow_table_create("br-tun", 1, NULL, 0);
    int *ofports = xmalloc(hosts * sizeof *ofports);
    for (int h = 0; h < hosts; h++) {
        ofports[h] = h + 10;
    }
    for (int net = 0; net < nets; net++) {
        int lv = net + 1;
        char *flood = xasprintf("flood:%d", lv);
        char *ucast = xasprintf("ucast:%d", lv);
        char *arp = xasprintf("arp:%d", lv);
        tun_flows_flood(ft, flood, lv, 1000 + net, ofports, hosts);
        for (int h = 0; h < hosts; h++) {
            for (int p = 0; p < ports; p++) {
                char mac[24], ip[24];
                mac_of(mac, net, h * ports + p);
                ip_of(ip, h * ports + p);
                tun_flows_unicast(ft, ucast, lv, 1000 + net, mac, ofports[h]);
                tun_flows_arp(ft, arp, lv, mac, ip);
            }
        }
        free(flood);
        free(ucast);
        free(arp);
    }
    free(ofports);
    size_t n = flow_table_n_desired(ft);
    *desired = (double) (heap_used() - base) / n;

    flow_table_installed_set_empty(ft);
    struct flow_batch *b;
    while ((b = flow_table_diff(ft, 2000)) != NULL) {
        flow_batch_done(ft, b, true);
    }
    if (flow_table_n_installed(ft) != n) {
        ovs_fatal(0, "%"PRIuSIZE" flows installed of %"PRIuSIZE,
                  flow_table_n_installed(ft), n);
    }
    *both = (double) (heap_used() - base) / n;
    flow_table_destroy(ft);
    return n;
}

/* The same FDB through tunnels, offline; returns bytes per remote port. */
static double
measure_tunnels(int hosts, int nets, int ports)
{
    static const char ini[] =
        "[DEFAULT]\nhost = compute1\n[ovs]\nlocal_ip = 192.0.2.1\n"
        "[agent]\ntunnel_types = vxlan\nl2_population = True\n"
        "arp_responder = True\n";
    struct agent_config *cfg = test_config_from_string(ini);
    struct of_bridge_options opts = { .canary_table = -1 };
    struct vswitch *vs = vswitch_create(cfg);
    struct of_bridge *ob = of_bridge_create(cfg->tunnel_bridge, 1, &opts);
    struct tunnels *ts = tunnels_create(cfg, vs, ob);
    for (int net = 0; net < nets; net++) {
        char *id = xasprintf("net-%d", net);
        tunnels_network_add(ts, id, "vxlan", 1000 + net, net + 1);
        free(id);
    }

    size_t base = heap_used();
    for (int lo = 0; lo < hosts; lo += 100) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_char(&s, '{');
        for (int net = 0; net < nets; net++) {
            ds_put_format(&s, "%s\"net-%d\": {\"segment_id\": %d, "
                          "\"network_type\": \"vxlan\", \"ports\": {",
                          net ? ", " : "", net, 1000 + net);
            for (int h = lo; h < hosts && h < lo + 100; h++) {
                ds_put_format(&s, "%s\"100.64.%d.%d\": [[\"00:00:00:00:00:00"
                              "\", \"0.0.0.0\"]", h > lo ? ", " : "",
                              h / 250, h % 250 + 1);
                for (int p = 0; p < ports; p++) {
                    char mac[24], ip[24];
                    mac_of(mac, net, h * ports + p);
                    ip_of(ip, h * ports + p);
                    ds_put_format(&s, ", [\"%s\", \"%s\"]", mac, ip);
                }
                ds_put_char(&s, ']');
            }
            ds_put_cstr(&s, "}}");
        }
        ds_put_char(&s, '}');
        struct json *json = json_from_string(ds_cstr(&s));
        ds_destroy(&s);
        if (tunnels_fdb_add(ts, json)) {
            ovs_fatal(0, "entries dropped");
        }
        json_destroy(json);
    }
    double per_port = (double) (heap_used() - base) / (hosts * nets * ports);
    tunnels_destroy(ts);
    of_bridge_destroy(ob);
    vswitch_destroy(vs);
    agent_config_destroy(cfg);
    return per_port;
}

int
main(int argc, char *argv[])
{
    int hosts = argc > 1 ? atoi(argv[1]) : 1000;
    int nets = argc > 2 ? atoi(argv[2]) : 10;
    int ports = argc > 3 ? atoi(argv[3]) : 2;
    if (hosts <= 0 || nets <= 0 || nets > 250 || ports <= 0
        || hosts * ports > 60000) {
        ovs_fatal(0, "usage: flow-mem [HOSTS [NETS [PORTS]]]");
    }
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);

    double desired, both;
    size_t n = measure_table(hosts, nets, ports, &desired, &both);
    double tun = measure_tunnels(hosts, nets, ports);
    bool seen = heap_used() > 0;
    printf("%d hosts x %d networks x %d ports: %"PRIuSIZE" br-tun flows\n",
           hosts, nets, ports, n);
    if (!seen) {
        printf("bytes/flow: n/a (the allocator is not glibc's)\n");
        return 0;
    }
    printf("flow table, desired flows only: %.0f bytes/flow\n", desired);
    printf("flow table, desired and installed: %.0f bytes/flow\n", both);
    printf("tunnels, FDB and ARP responder flows (desired): %.0f bytes per "
           "remote port\n", tun);
    printf("bytes/flow: %.0f\n", both);
    return 0;
}
