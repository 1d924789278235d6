/*
 * Fuzz target: the tunnel casts and answers (src/agent/tunnels.h):
 * l2population's add_fdb_entries, remove_fdb_entries and
 * update_fdb_entries, tunnel_update and tunnel_delete, and tunnel_sync
 * answers, dispatched as the agent dispatches them, down to the br-tun
 * flows they make, which OVS's own flow parser reads.
 *
 * The input is a series of JSON documents, each an oslo inner message: a
 * request ({"method": ..., "args": {...}}) or a tunnel_sync reply
 * ({"result": {"tunnels": [...]}}).  Networks named by add_fdb_entries get
 * a local VLAN first, as the ports of those networks would have given
 * them here; at the end every network is removed again, which takes their
 * tunnels with it.  Before that, every br-tun flow must have one of the
 * shapes tun-flows.c gives them: a peer's value must not add to a flow.
 * Each input runs twice: with l2population and the ARP responder, and as
 * a full mesh without them.
 *
 * Seeds: the captured l2population, tunnel_update, tunnel_delete and
 * tunnel_sync messages of tests/unit/data/wire.
 */
#include <config.h>

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/tunnels.h"
#include "fuzz-common.h"
#include "json-util.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "sset.h"
#include "util.h"

#define MAX_DOCS 16

/* Networks given a local VLAN per input at most. */
#define MAX_NETWORKS 64

static const char l2pop_ini[] =
    "[DEFAULT]\n"
    "host = compute1\n"
    "[ovs]\n"
    "local_ip = 192.0.2.1\n"
    "[agent]\n"
    "tunnel_types = vxlan, gre\n"
    "l2_population = True\n"
    "arp_responder = True\n";

static const char mesh_ini[] =
    "[DEFAULT]\n"
    "host = compute1\n"
    "[ovs]\n"
    "local_ip = 192.0.2.1\n"
    "[agent]\n"
    "tunnel_types = vxlan, gre\n";

/* As the agent's ports would: a local VLAN for every network of an
 * add_fdb_entries that has a type and a segment. */
static void
add_networks(struct tunnels *ts, const struct json *fdb_entries,
             struct sset *networks)
{
    if (!fdb_entries || fdb_entries->type != JSON_OBJECT) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH (node, json_object(fdb_entries)) {
        const char *type = json_member_string(node->data, "network_type");
        const struct json *seg = json_member(node->data, "segment_id");
        if (!type || !seg || seg->type != JSON_INTEGER
            || sset_count(networks) >= MAX_NETWORKS) {
            continue;
        }
        sset_add(networks, node->name);
        tunnels_network_add(ts, node->name, type, json_integer(seg),
                            sset_count(networks));
    }
}

/* What agent.c does with a request on a tunnel topic. */
static void
dispatch(struct tunnels *ts, const char *method, const struct json *args,
         struct sset *networks)
{
    const struct json *fdb = json_member(args, "fdb_entries");
    if (!strcmp(method, "add_fdb_entries")) {
        add_networks(ts, fdb, networks);
        tunnels_fdb_add(ts, fdb);
    } else if (!strcmp(method, "remove_fdb_entries")) {
        tunnels_fdb_remove(ts, fdb);
    } else if (!strcmp(method, "update_fdb_entries")) {
        tunnels_fdb_update(ts, fdb);
    } else if (!strcmp(method, "tunnel_update")
               || !strcmp(method, "tunnel_delete")) {
        const char *ip = json_member_string(args, "tunnel_ip");
        const char *type = json_member_string(args, "tunnel_type");
        if (ip && type) {
            if (!strcmp(method, "tunnel_update")) {
                tunnels_endpoint_update(ts, ip, type);
            } else {
                tunnels_endpoint_delete(ts, ip, type);
            }
        }
    }
}

/* The shapes of br-tun's flows that tunnels.c writes (tun-flows.c), as
 * OVS prints them back: a value from a peer that is not exactly a MAC or
 * an address would show as a field or an action more, or as another
 * table or priority. */
#define MAC "[0-9a-f]{2}(:[0-9a-f]{2}){5}"
#define IP4 "[0-9]{1,3}(\\.[0-9]{1,3}){3}"
#define TUN_ID "set_field:(0|0x[0-9a-f]+)->tun_id"
static const char *const flow_shapes[] = {
    "^table=0, priority=1,in_port=[0-9]+ actions=goto_table:[0-9]+$",
    "^table=20, priority=2,dl_vlan=[0-9]+,dl_dst=" MAC " actions=pop_vlan,"
    TUN_ID ",output:[0-9]+$",
    "^table=21, priority=1,arp,dl_vlan=[0-9]+,arp_tpa=" IP4 " actions="
    "set_field:2->arp_op,move:NXM_NX_ARP_SHA\\[\\]->NXM_NX_ARP_THA\\[\\],"
    "move:NXM_OF_ARP_SPA\\[\\]->NXM_OF_ARP_TPA\\[\\],set_field:" MAC
    "->arp_sha,set_field:" IP4 "->arp_spa,"
    "move:NXM_OF_ETH_SRC\\[\\]->NXM_OF_ETH_DST\\[\\],set_field:" MAC
    "->eth_src,IN_PORT$",
    "^table=22, priority=1,dl_vlan=[0-9]+ actions=pop_vlan," TUN_ID
    "(,output:[0-9]+)+$",
};

/* Aborts, after printing it, on a desired flow of 'ft' of no known
 * shape. */
static void
check_flow_shapes(const struct flow_table *ft)
{
    static regex_t res[ARRAY_SIZE(flow_shapes)];
    static bool compiled;
    if (!compiled) {
        for (size_t i = 0; i < ARRAY_SIZE(flow_shapes); i++) {
            if (regcomp(&res[i], flow_shapes[i], REG_EXTENDED | REG_NOSUB)) {
                abort();
            }
        }
        compiled = true;
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(ft, &s);
    char *save = NULL;
    for (char *line = strtok_r(ds_cstr(&s), "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        size_t i;
        for (i = 0; i < ARRAY_SIZE(res); i++) {
            if (!regexec(&res[i], line, 0, NULL, 0)) {
                break;
            }
        }
        if (i == ARRAY_SIZE(res)) {
            fprintf(stderr, "fuzz: a br-tun flow of no known shape: %s\n",
                    line);
            abort();
        }
    }
    ds_destroy(&s);
}

static void
run_one(const struct agent_config *cfg, struct json **docs, size_t n_docs)
{
    struct vswitch *vs = vswitch_create(cfg);
    struct of_bridge_options opts = { .canary_table = -1 };
    struct of_bridge *ob = of_bridge_create(cfg->tunnel_bridge, 1, &opts);
    struct tunnels *ts = tunnels_create(cfg, vs, ob);
    struct sset networks = SSET_INITIALIZER(&networks);

    for (size_t i = 0; i < n_docs; i++) {
        const struct json *doc = docs[i];
        const char *method = json_member_string(doc, "method");
        const struct json *args = json_member(doc, "args");
        const struct json *result = json_member(doc, "result");
        if (method && args && args->type == JSON_OBJECT) {
            dispatch(ts, method, args, &networks);
        } else if (result) {
            tunnels_sync_result(ts, "vxlan", result);
            tunnels_sync_result(ts, "gre", result);
        }
        tunnels_run(ts);
    }

    struct ds s = DS_EMPTY_INITIALIZER;
    tunnels_format(ts, &s);
    ds_destroy(&s);
    check_flow_shapes(of_bridge_flows(ob));

    const char *net;
    SSET_FOR_EACH (net, &networks) {
        tunnels_network_has_tunnels(ts, net);
        tunnels_network_remove(ts, net);
    }
    tunnels_run(ts);
    tunnels_count(ts);
    sset_destroy(&networks);
    tunnels_destroy(ts);
    of_bridge_destroy(ob);
    vswitch_destroy(vs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static struct agent_config *l2pop, *mesh;
    if (!l2pop) {
        l2pop = fuzz_config(l2pop_ini);
        mesh = fuzz_config(mesh_ini);
    }

    struct json **docs;
    size_t n_docs = fuzz_json_docs(data, size, MAX_DOCS, &docs);
    run_one(l2pop, docs, n_docs);
    run_one(mesh, docs, n_docs);
    fuzz_json_docs_free(docs, n_docs);

    fuzz_check_log();
    return 0;
}
