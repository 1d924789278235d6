/*
 * Unit tests for the Neutron logic that needs no peer: local VLAN
 * allocation, device details decoding, and the per-network and per-port
 * flows compared with the reference agent's captured flows.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/local-vlan.h"
#include "agent/port-flows.h"
#include "neutron/device-details.h"
#include "neutron/plugin-api.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "util.h"
#include "test-util.h"

static void
test_local_vlans(void)
{
    struct local_vlans *lv = local_vlans_create();
    bool is_new;
    int a = local_vlans_get(lv, "net-a", 100, &is_new);
    check(a == 1 && is_new, "first network gets VLAN 1");
    int b = local_vlans_get(lv, "net-b", -1, &is_new);
    int c = local_vlans_get(lv, "net-c", 5, &is_new);
    check(b == 2 && c == 3, "then 2 and 3");
    check(local_vlans_get(lv, "net-a", 100, &is_new) == 1 && !is_new,
          "same network, same VLAN");
    check(local_vlans_get(lv, "net-a", 101, &is_new) == 4,
          "another segment of the same network is another VLAN");
    local_vlans_release(lv, "net-a", 100);
    check(local_vlans_get(lv, "net-d", -1, &is_new) == 5,
          "a freed VLAN is reused only after the cursor wraps (next fit)");
    check(local_vlans_lookup(lv, "net-a", 100) == -1, "released is gone");
    local_vlans_destroy(lv);

    lv = local_vlans_create();
    local_vlans_add_hint(lv, "net-x", "100", 7);
    local_vlans_add_hint(lv, "net-y", "None", 3);
    local_vlans_add_hint(lv, "net-x", "100", 9);
    check(local_vlans_get(lv, "net-x", 100, &is_new) == 7,
          "restart: a network gets its old VLAN back (first hint wins)");
    check(local_vlans_get(lv, "net-y", -1, &is_new) == 3,
          "restart: flat network hint keyed with None");
    check(local_vlans_get(lv, "net-z", 1, &is_new) == 1,
          "new networks skip hinted VLANs");
    local_vlans_add_hint(lv, "net-w", "2", 2);
    local_vlans_drop_hints(lv);
    check(local_vlans_get(lv, "net-v", 1, &is_new) == 2,
          "unclaimed hints return to the pool after the first pass");
    local_vlans_destroy(lv);

    lv = local_vlans_create();
    for (int i = 0; i < 4094; i++) {
        char net[32];
        snprintf(net, sizeof net, "n%d", i);
        local_vlans_get(lv, net, -1, &is_new);
    }
    check(local_vlans_get(lv, "one-too-many", -1, &is_new) == -1,
          "exhaustion is an error, never VLAN 4095");
    local_vlans_destroy(lv);
}

static const char details_json[] =
    "{\"device\": \"5d1c2b7e\", \"port_id\": \"5d1c2b7e\","
    " \"network_id\": \"net-vx\", \"mac_address\": \"fa:16:3e:00:00:05\","
    " \"admin_state_up\": true, \"network_type\": \"vxlan\","
    " \"segmentation_id\": 100, \"physical_network\": null, \"mtu\": 1450,"
    " \"fixed_ips\": [{\"subnet_id\": \"s\", \"ip_address\": \"10.0.0.5\"}],"
    " \"device_owner\": \"compute:nova\","
    " \"allowed_address_pairs\": [], \"port_security_enabled\": true}";

static void
test_details(void)
{
    struct json *j = json_from_string(details_json);
    struct device_details dd;
    char *error = device_details_from_json(j, &dd);
    check(!error && dd.found && dd.segmentation_id == 100
          && !dd.physical_network && dd.n_fixed_ips == 1
          && !strcmp(dd.fixed_ips[0], "10.0.0.5") && dd.mtu == 1450,
          "device details decode");
    struct device_details copy;
    device_details_clone(&copy, &dd);
    check(device_details_equal(&dd, &copy), "clone is equal");
    copy.admin_state_up = false;
    check(!device_details_equal(&dd, &copy), "admin state matters");
    device_details_destroy(&copy);
    device_details_destroy(&dd);
    json_destroy(j);

    j = json_from_string("{\"device\": \"abc\"}");
    error = device_details_from_json(j, &dd);
    check(!error && !dd.found && !strcmp(dd.device, "abc"),
          "unknown device: found=false, no error");
    device_details_destroy(&dd);
    json_destroy(j);

    static const char *const bad[] = {
        "[1,2]", "{\"port_id\": \"x\"}", "{\"device\": 5}",
        "{\"device\": \"x\", \"port_id\": \"x\"}",
        "{\"device\": \"x\", \"port_id\": \"x\", \"network_id\": 1,"
        " \"mac_address\": \"m\", \"network_type\": \"vxlan\"}",
    };
    bool all_errors = true;
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        j = json_from_string(bad[i]);
        error = device_details_from_json(j, &dd);
        all_errors &= error != NULL;
        free(error);
        device_details_destroy(&dd);
        json_destroy(j);
    }
    check(all_errors, "malformed details are errors, not crashes");
}

/* Checks that the desired flows of 'ft' are exactly 'want' (sorted). */
static void
check_flows(struct flow_table *ft, const char *want, const char *what)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(ft, &s);
    bool ok = !strcmp(ds_cstr(&s), want);
    check(ok, what);
    if (!ok) {
        printf("# got:\n%s# want:\n%s", ds_cstr(&s), want);
    }
    ds_destroy(&s);
}

static void
test_port_flows(void)
{
    static const uint8_t owned[] = { 0 };
    struct flow_table *integ = flow_table_create("br-int", 1, owned, 1);
    struct flow_table *tun = flow_table_create("br-tun", 1, owned, 1);
    struct flow_table *phys = flow_table_create("br-phys", 1, owned, 1);

    struct json *j = json_from_string(details_json);
    struct device_details dd;
    char *error = device_details_from_json(j, &dd);
    ovs_assert(!error);

    /* The reference's capture for tapvx-a (ofport 5 here). */
    port_flows_antispoof(integ, "port:a", 5, &dd);
    check_flows(integ,
        "table=0, priority=10,arp,in_port=5 actions=goto_table:24\n"
        "table=0, priority=10,icmp6,in_port=5,icmp_type=136 actions=goto_table:24\n"
        "table=0, priority=9,in_port=5 actions=goto_table:25\n"
        "table=24, priority=2,arp,in_port=5,arp_spa=10.0.0.5 actions=goto_table:25\n"
        "table=24, priority=2,icmp6,in_port=5,icmp_type=136,nd_target=fe80::f816:3eff:fe00:5 actions=goto_table:59\n"
        "table=25, priority=2,in_port=5,dl_src=fa:16:3e:00:00:05 actions=goto_table:30\n",
        "anti-spoofing flows as the reference's");
    dd.port_security_enabled = false;
    port_flows_antispoof(integ, "port:a", 5, &dd);
    check(flow_table_n_desired(integ) == 0,
          "no anti-spoofing without port security");
    device_details_destroy(&dd);
    json_destroy(j);

    struct net_wiring w = { .network_type = "vxlan", .segmentation_id = 100,
                            .lv = 1, .int_phys_ofport = 1,
                            .phy_int_ofport = 1 };
    port_flows_network(integ, tun, phys, "net:vx", &w);
    check_flows(tun, "table=4, priority=1,tun_id=0x64 actions=push_vlan:0x8100,set_field:4097->vlan_vid,goto_table:10\n",
                "VXLAN network: the reference's br-tun table 4 flow");

    w = (struct net_wiring) { .network_type = "vlan", .segmentation_id = 1000,
                              .lv = 2, .int_phys_ofport = 1,
                              .phy_int_ofport = 1 };
    port_flows_network(integ, tun, phys, "net:vl", &w);
    check_flows(integ, "table=0, priority=3,in_port=1,dl_vlan=1000 actions=set_field:4098->vlan_vid,goto_table:59\n",
                "VLAN network: br-int inbound translation");
    check_flows(phys, "table=0, priority=4,in_port=1,dl_vlan=2 actions=set_field:5096->vlan_vid,NORMAL\n",
                "VLAN network: br-phys outbound translation");
    flow_table_clear_owner(integ, "net:vl");
    flow_table_clear_owner(phys, "net:vl");

    w = (struct net_wiring) { .network_type = "flat", .segmentation_id = -1,
                              .lv = 2, .int_phys_ofport = 1,
                              .phy_int_ofport = 1 };
    port_flows_network(integ, tun, phys, "net:fl", &w);
    check_flows(integ, "table=0, priority=3,in_port=1,vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,set_field:4098->vlan_vid,goto_table:59\n",
                "flat network: br-int inbound translation");
    check_flows(phys, "table=0, priority=4,in_port=1,dl_vlan=2 actions=pop_vlan,NORMAL\n",
                "flat network: br-phys outbound translation");
    flow_table_clear_owner(integ, "net:fl");

    port_flows_dead(integ, "dead:a", 7);
    check_flows(integ, "table=0, priority=2,in_port=7 actions=drop\n",
                "dead port drop");
    flow_table_clear_owner(integ, "dead:a");

    /* A port of a non-OpenFlow firewall under explicitly_egress_direct, as
     * the reference's install_accepted_egress_direct_flow() writes it:
     * local VLAN 3, the network's patch port 2, and without one. */
    port_flows_egress_direct(integ, "port:e", 5, 3, "fa:16:3e:00:00:05", 2);
    check_flows(integ,
        "table=60, priority=9,in_port=5,dl_src=fa:16:3e:00:00:05 actions=set_field:0x3->reg6,resubmit(,61)\n"
        "table=61, priority=12,dl_vlan=3,dl_dst=fa:16:3e:00:00:05 actions=strip_vlan,output:5\n"
        "table=61, priority=12,reg6=0x3,dl_dst=fa:16:3e:00:00:05 actions=output:5\n"
        "table=62, priority=10,in_port=5,dl_src=fa:16:3e:00:00:05,dl_dst=00:00:00:00:00:00/01:00:00:00:00:00 actions=mod_vlan_vid:3,output:2\n",
        "accepted egress direct flows as the reference writes them");
    flow_table_clear_owner(integ, "port:e");
    port_flows_egress_direct(integ, "port:e", 5, 3, "fa:16:3e:00:00:05", -1);
    check(flow_table_n_desired(integ) == 3,
          "no table 62 flow without a patch port");

    flow_table_destroy(integ);
    flow_table_destroy(tun);
    flow_table_destroy(phys);
}

/* update_device_list's answer: the failed ids of both lists, and none for
 * an answer without them.  Such an answer once had the decoder copy from a
 * NULL array (undefined; the sanitizer build aborts on it). */
static void
test_update_reply(void)
{
    static const struct {
        const char *json;
        size_t n;
    } replies[] = {
        { "{\"devices_up\": [\"a\"], \"devices_down\": [], "
          "\"failed_devices_up\": [\"a\"], "
          "\"failed_devices_down\": [{\"device\": \"b\", "
          "\"exists\": true}, 7]}", 2 },
        { "{\"devices_up\": [\"a\"], \"devices_down\": []}", 0 },
        { "{\"failed_devices_up\": \"a\"}", 0 },
        { "[]", 0 },
    };
    for (size_t i = 0; i < ARRAY_SIZE(replies); i++) {
        struct json *j = json_from_string(replies[i].json);
        const char **failed;
        size_t n = plugin_update_failed_devices(j, &failed);
        checkf(failed && n == replies[i].n
               && (n != 2 || (!strcmp(failed[0], "a")
                              && !strcmp(failed[1], "b"))),
               "update_device_list answer %"PRIuSIZE": %"PRIuSIZE
               " failed devices", i + 1, replies[i].n);
        free(failed);
        json_destroy(j);
    }
    const char **failed;
    check(plugin_update_failed_devices(NULL, &failed) == 0 && failed,
          "a null answer: no failed devices");
    free(failed);
}

int
main(void)
{
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_local_vlans();
    test_details();
    test_port_flows();
    test_update_reply();
    return test_summary();
}
