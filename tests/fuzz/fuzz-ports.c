/*
 * Fuzz target: the OVSDB columns the agent reads from Bridge, Port and
 * Interface rows (external_ids iface-id, attached-mac and bridge-id, the
 * Port's tag and other_config net_uuid/segmentation_id, the Interface's
 * ofport), through ports_scan_rows() of src/agent/ports.h, together with
 * what the server says about the ports it finds: Port, Network and
 * security group pushes, and the replies to the pulls the ports and the
 * openvswitch firewall make, on an offline rpc session.  From there the
 * ports are wired: local VLANs, port and firewall flows (which OVS's flow
 * parser reads), the Port rows' wanted tag and other_config.
 *
 * The input is a series of JSON documents:
 *   - {"bridges": [BRIDGE...]}: the database's bridges now, with
 *     BRIDGE = {"name": S, "external_ids": {S: S...}, "ports": [PORT...]},
 *     PORT = {"name": S, "tag": N or [N...], "other_config": {S: S...},
 *     "interfaces": [IFACE...]}, IFACE = {"name": S, "ofport": N or
 *     [N...], "external_ids": {S: S...}}; missing members are empty;
 *   - a push ({"method": "push", "args": {"resource_list": [...],
 *     "event_type": ...}}), handed on as the agent hands on a push on the
 *     topic of its first object's type;
 *   - a reply ({"_msg_id": "offline-N", "result": ...}), delivered on the
 *     reply queue: the calls are numbered in the order they were made.
 * The ports run after each document.
 *
 * Seeds: database states with the captured ports as VIFs, followed by the
 * captured pushes and pull answers of tests/unit/data/wire.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/fw-driver.h"
#include "agent/ports.h"
#include "agent/tunnels.h"
#include "fuzz-common.h"
#include "json-util.h"
#include "neutron/ovo.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "oslo/rpc.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "smap.h"
#include "util.h"
#include "vswitch-idl.h"

#define MAX_DOCS 16

/* Rows of one database state at most. */
#define MAX_BRIDGES 4
#define MAX_PORTS 16
#define MAX_IFACES 4
#define MAX_SET 4

static const char ports_ini[] =
    "[DEFAULT]\n"
    "host = compute1\n"
    "[ovs]\n"
    "local_ip = 192.0.2.1\n"
    "bridge_mappings = physnet1:br-phys\n"
    "[agent]\n"
    "tunnel_types = vxlan\n"
    "l2_population = True\n"
    "arp_responder = True\n"
    "[securitygroup]\n"
    "firewall_driver = openvswitch\n";

/* Rows. */

static char *
row_string(const struct json *obj, const char *name)
{
    const char *s = json_member_string(obj, name);
    return xstrdup(s ? s : "");
}

static void
row_smap(const struct json *obj, const char *name, struct smap *smap)
{
    smap_init(smap);
    const struct json *map = json_member(obj, name);
    if (map && map->type == JSON_OBJECT) {
        struct shash_node *node;
        SHASH_FOR_EACH (node, json_object(map)) {
            const struct json *v = node->data;
            if (v->type == JSON_STRING) {
                smap_replace(smap, node->name, json_string(v));
            }
        }
    }
}

/* An optional integer column: an integer, or a set of them. */
static int64_t *
row_ints(const struct json *obj, const char *name, size_t *n)
{
    const struct json *v = json_member(obj, name);
    int64_t *ints = xcalloc(MAX_SET, sizeof *ints);
    *n = 0;
    if (v && v->type == JSON_INTEGER) {
        ints[(*n)++] = json_integer(v);
    } else {
        for (size_t i = 0; i < ovo_array_n(v) && *n < MAX_SET; i++) {
            const struct json *e = ovo_array_at(v, i);
            if (e->type == JSON_INTEGER) {
                ints[(*n)++] = json_integer(e);
            }
        }
    }
    return ints;
}

static struct ovsrec_interface *
iface_from_json(const struct json *j)
{
    struct ovsrec_interface *iface = xzalloc(sizeof *iface);
    iface->name = row_string(j, "name");
    iface->ofport = row_ints(j, "ofport", &iface->n_ofport);
    row_smap(j, "external_ids", &iface->external_ids);
    return iface;
}

static struct ovsrec_port *
port_from_json(const struct json *j)
{
    struct ovsrec_port *port = xzalloc(sizeof *port);
    port->name = row_string(j, "name");
    port->tag = row_ints(j, "tag", &port->n_tag);
    row_smap(j, "other_config", &port->other_config);
    const struct json *ifaces = json_member(j, "interfaces");
    port->interfaces = xcalloc(MAX_IFACES, sizeof *port->interfaces);
    for (size_t i = 0; i < ovo_array_n(ifaces) && i < MAX_IFACES; i++) {
        port->interfaces[port->n_interfaces++]
            = iface_from_json(ovo_array_at(ifaces, i));
    }
    return port;
}

static struct ovsrec_bridge *
bridge_from_json(const struct json *j)
{
    struct ovsrec_bridge *br = xzalloc(sizeof *br);
    br->name = row_string(j, "name");
    row_smap(j, "external_ids", &br->external_ids);
    const struct json *ports = json_member(j, "ports");
    br->ports = xcalloc(MAX_PORTS, sizeof *br->ports);
    for (size_t i = 0; i < ovo_array_n(ports) && i < MAX_PORTS; i++) {
        br->ports[br->n_ports++] = port_from_json(ovo_array_at(ports, i));
    }
    return br;
}

static void
bridge_free(struct ovsrec_bridge *br)
{
    for (size_t i = 0; i < br->n_ports; i++) {
        struct ovsrec_port *port = br->ports[i];
        for (size_t j = 0; j < port->n_interfaces; j++) {
            struct ovsrec_interface *iface = port->interfaces[j];
            free(iface->name);
            free(iface->ofport);
            smap_destroy(&iface->external_ids);
            free(iface);
        }
        free(port->interfaces);
        free(port->name);
        free(port->tag);
        smap_destroy(&port->other_config);
        free(port);
    }
    free(br->ports);
    free(br->name);
    smap_destroy(&br->external_ids);
    free(br);
}

static void
scan(struct ports *ps, const struct json *bridges)
{
    struct ovsrec_bridge *brs[MAX_BRIDGES];
    size_t n = 0;
    for (size_t i = 0; i < ovo_array_n(bridges) && n < MAX_BRIDGES; i++) {
        brs[n++] = bridge_from_json(ovo_array_at(bridges, i));
    }
    ports_scan_rows(ps, (const struct ovsrec_bridge *const *) brs, n);
    for (size_t i = 0; i < n; i++) {
        bridge_free(brs[i]);
    }
}

/* A push, handed on as agent.c hands on the push of its topic. */
static void
push(struct ports *ps, struct fw_driver *fw, const struct json *list,
     bool deleted)
{
    if (!ovo_array_n(list)) {
        return;
    }
    const char *type;
    fuzz_ovo_data(ovo_array_at(list, 0), &type);
    if (!type) {
        return;
    }
    fw_driver_push(fw, type, list, deleted);
    if (!strcmp(type, "Port")) {
        ports_push_ports(ps, list, deleted);
    } else if (!strcmp(type, "Network") && !deleted) {
        for (size_t i = 0; i < ovo_array_n(list); i++) {
            const char *id = json_member_string(
                fuzz_ovo_data(ovo_array_at(list, i), &type), "id");
            if (id) {
                ports_network_update(ps, id);
            }
        }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static struct agent_config *cfg;
    if (!cfg) {
        cfg = fuzz_config(ports_ini);
    }

    struct vswitch *vs = vswitch_create(cfg);
    struct of_bridge_options opts = { .canary_table = -1 };
    struct of_bridge *integ = of_bridge_create(cfg->integration_bridge, 1,
                                               &opts);
    struct of_bridge *tun = of_bridge_create(cfg->tunnel_bridge, 2, &opts);
    struct of_bridge *phys[2] = {
        of_bridge_create(cfg->bridge_mappings[0].bridge, 3, &opts), NULL,
    };
    struct tunnels *ts = tunnels_create(cfg, vs, tun);
    struct ports_bridges pb = { .integ = integ, .tun = tun, .phys = phys };
    struct ports_network_hooks hooks;
    tunnels_network_hooks(ts, &hooks);
    struct fw_driver *fw = fw_driver_create(cfg, integ);
    struct ports *ps = ports_create(cfg, vs, &pb, fw, &hooks);
    struct rpc_settings settings = { .offline = true };
    struct rpc *rpc = rpc_create_with(cfg, &settings);

    struct json **docs;
    size_t n_docs = fuzz_json_docs(data, size, MAX_DOCS, &docs);
    for (size_t i = 0; i < n_docs; i++) {
        const struct json *doc = docs[i];
        const struct json *bridges = json_member(doc, "bridges");
        const struct json *list;
        bool deleted;
        enum fuzz_doc_kind kind = fuzz_doc_classify(doc, &list, &deleted);
        if (bridges) {
            scan(ps, bridges);
        } else if (kind == FUZZ_DOC_PUSH) {
            push(ps, fw, list, deleted);
        } else if (json_member(doc, "_msg_id")) {
            char *body = json_to_string(doc, 0);
            rpc_inject(rpc, rpc_reply_queue(rpc), body, strlen(body));
            free(body);
        }
        rpc_run(rpc);
        fw_driver_run(fw, rpc);
        ports_run(ps, rpc);
        tunnels_run(ts);
    }
    fuzz_json_docs_free(docs, n_docs);

    struct ds s = DS_EMPTY_INITIALIZER;
    ports_format(ps, &s);
    flow_table_format_desired(of_bridge_flows(integ), &s);
    ds_destroy(&s);

    /* As agent_destroy() does: the calls in flight report "shutting
     * down" to the ports before they go. */
    rpc_destroy(rpc);
    ports_destroy(ps);
    fw_driver_destroy(fw);
    tunnels_destroy(ts);
    of_bridge_destroy(integ);
    of_bridge_destroy(tun);
    of_bridge_destroy(phys[0]);
    vswitch_destroy(vs);

    fuzz_check_log();
    return 0;
}
