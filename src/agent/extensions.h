/*
 * extensions: the L2 agent extensions of [agent] extensions, shaped like
 * neutron-lib's AgentExtension and L2AgentExtension, and driven as
 * neutron's L2AgentExtensionsManager drives them.
 *
 * Layer: Neutron logic, beside ports and tunnels.  agent creates the
 * manager (struct extensions) once its bridges and RPC session exist, and
 * drives it.  The manager owns one instance of each configured extension,
 * in the configured order, and the bridge handles (struct
 * extension_bridge) it gives them.  Each extension owns its own state,
 * its in-flight calls and the flows it adds through its bridge handles.
 * The bridges, the RPC session and the ports belong to agent and outlive
 * every extension.
 *
 * Which extensions exist is extension-list.h.  agent-config refuses any
 * other name at start, so the manager never meets one.
 *
 * What is called, and when (the reference's order):
 *
 *   start:  for each extension, in order: alloc, consume_api, initialize;
 *           then agent subscribes to the push topic of each resource type
 *           the extensions follow (neutron-vo-<type>-<version>)
 *   ports:  handle_port once a port's details are applied (wired, or
 *           admin down), and again when they change; delete_port when it
 *           leaves br-int, is deleted on the server, or comes back to
 *           br-int (delete, then handle) (ports.h's ports_port_hooks)
 *   server: push, for each push of a resource type it follows
 *   loop:   run, wait (each optional)
 *   stop:   destroy
 *
 * The port calls come from the module that wires ports; this module only
 * passes them on, in order, to every extension.
 */
#ifndef OVSAGENT_EXTENSIONS_H
#define OVSAGENT_EXTENSIONS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "openvswitch/ofp-flow.h"

struct agent_config;
struct device_details;
struct ds;
struct extension_api;
struct extension_class;
struct flow_table;
struct json;
struct of_bridge;
struct rpc;
struct svec;

/* The driver type initialize() gets: the reference's
 * EXTENSION_DRIVER_TYPE, by which an extension picks its backend (the QoS
 * extension loads its "ovs" driver with it). */
#define EXTENSION_DRIVER_TYPE "ovs"

/* One extension instance.  An implementation embeds it in its own struct
 * and gets back to that with CONTAINER_OF().  The manager fills it in
 * after alloc(). */
struct extension {
    const struct extension_class *class;
    const char *name;           /* As configured; the manager's. */
};

/* What initialize() gets: the reference's "connection", which in
 * ovsagent is the agent's RPC session.  Pushes reach the extension through
 * push() (see 'resources'), so the session is for its calls: pulls of the
 * resources it follows, say.  Valid until destroy(). */
struct extension_context {
    const struct agent_config *cfg;
    struct rpc *rpc;            /* NULL without transport_url. */
};

/* A resource type an extension follows: the server's pushes of it, on the
 * fanout neutron-vo-<type>-<version>, go to push().  'version' is the
 * object version the extension decodes, as the reference subscribes with
 * its own version of the object. */
struct extension_resource {
    const char *type;           /* "QosPolicy". */
    const char *version;        /* "1.10". */
};

/* A port as handle_port() and delete_port() see it: the reference's port
 * 'details' with the 'vif_port' and 'local_vlan' it adds.  Only valid
 * during the call. */
struct extension_port {
    const char *port_id;        /* Always set. */

    /* The server's details of the port, or NULL when they are not known
     * (delete_port() of a port that left br-int, as the reference's
     * {'port_id': id}). */
    const struct device_details *details;

    const char *vif_name;       /* Its Interface on br-int, or NULL. */
    int ofport;                 /* Its OpenFlow port, or -1. */
    int local_vlan;             /* Its network's local VLAN, or -1. */
};

/* An extension's view of one bridge: the reference's OVSCookieBridge, a
 * bridge whose flow operations carry the extension's own cookie.  The
 * manager owns it; it stays valid until the extension's destroy() has
 * returned.
 *
 * 'flows' is the bridge's one flow table, shared with the agent and the
 * other extensions.  An extension adds and clears flows only through
 * extension_bridge_add_flow() and extension_bridge_clear_flows(), which
 * keep its flows under owners of its own ("ext-<name>:<key>"), so that it
 * can never clear another module's flows.
 *
 * 'cookie' is the cookie the extension's flows carry on the switch, the
 * one to use in its learn actions: drawn for it on this bridge at start
 * (flow_table_request_cookie()), as the reference's request_cookie()
 * does, and reserved, so that the agent's stale-flow clean-up keeps its
 * flows while a restart's fresh cookies replace those of the run
 * before. */
struct extension_bridge {
    const char *name;           /* "br-int", "br-tun", a physical bridge. */
    const char *physnet;        /* A physical bridge's network, or NULL. */
    struct flow_table *flows;
    uint64_t cookie;
    char *owner_prefix;         /* "ext-<name>:"; extensions.c's. */
};

/* Adds, to the flows of the extension's owner 'key' (a port id, say), the
 * flow that 'format' gives in ovs-ofctl add-flow syntax.  As
 * flow_table_add(): returns NULL or a malloc'd error that the caller
 * frees, in which case nothing was added. */
char *extension_bridge_add_flow(struct extension_bridge *, const char *key,
                                enum ofputil_flow_mod_flags flags,
                                const char *format, ...)
    OVS_PRINTF_FORMAT(4, 5) OVS_WARN_UNUSED_RESULT;

/* Removes every flow the extension added under 'key'. */
void extension_bridge_clear_flows(struct extension_bridge *,
                                  const char *key);

/* What consume_api() gets: the reference's OVSAgentExtensionAPI.  Each
 * extension has its own.  Asking twice for a bridge gives the same
 * handle. */

/* The integration bridge. */
struct extension_bridge *extension_api_request_int_br(
    struct extension_api *);

/* The tunnel bridge, or NULL without tunnel_types. */
struct extension_bridge *extension_api_request_tun_br(
    struct extension_api *);

/* Every physical bridge of bridge_mappings, in its order: stores their
 * number in '*n' and returns an array of them that the api owns. */
struct extension_bridge *const *extension_api_request_phys_brs(
    struct extension_api *, size_t *n);

/* An extension's implementation.  Every member is required unless it
 * says "optional". */
struct extension_class {
    /* The resource types it follows, ended by an entry with a NULL type.
     * Optional (NULL: none). */
    const struct extension_resource *resources;

    /* Allocates the instance (the reference's constructor); the manager
     * then fills in its struct extension. */
    struct extension *(*alloc)(void);

    /* Frees the instance and everything it owns.  It cancels its
     * in-flight RPC calls (rpc_cancel()): their callbacks must not run
     * afterwards.  Its flows may be left in the tables: destroy() only
     * happens when the agent stops. */
    void (*destroy)(struct extension *);

    /* Gives the instance its agent API, before initialize(), as the
     * reference does.  'api' stays valid until destroy().  Optional. */
    void (*consume_api)(struct extension *, struct extension_api *api);

    /* Starts the instance.  'ctx' stays valid until destroy();
     * 'driver_type' is EXTENSION_DRIVER_TYPE. */
    void (*initialize)(struct extension *, const struct extension_context *,
                       const char *driver_type);

    /* A port was wired or its details changed.  This is called for every
     * change, so the extension works out what changed for it. */
    void (*handle_port)(struct extension *, const struct extension_port *);

    /* A port is gone from this host's point of view. */
    void (*delete_port)(struct extension *, const struct extension_port *);

    /* The server pushed 'objects', a JSON array of versioned-object
     * primitives of 'type' (one of 'resources'), with 'event_type'
     * "created", "updated" or "deleted" as the server sent it (the event
     * is not checked).  Returns the number of malformed objects, which it
     * ignored.  Required if 'resources' is not empty. */
    size_t (*push)(struct extension *, const char *type,
                   const struct json *objects, const char *event_type);

    /* The main loop: work, then what to wake up for.  Optional. */
    void (*run)(struct extension *);
    void (*wait)(struct extension *);

    /* Appends the extension's state for ovsagent/show, each line indented
     * by four spaces.  Optional. */
    void (*format)(const struct extension *, struct ds *);
};

/* The manager. */

struct extensions;

/* The bridges the agent manages, which the extensions may request. */
struct extensions_bridges {
    struct of_bridge *integ;
    struct of_bridge *tun;          /* NULL without tunnel_types. */
    struct of_bridge *const *phys;  /* Each of bridge_mappings, in order. */
    size_t n_phys;
};

/* Creates every extension that cfg->extensions names and initializes it;
 * with 'rpc' (NULL without transport_url) also consumes the pushes of the
 * resource types they follow, so it is called before the first
 * rpc_run().  'cfg', 'rpc' and the bridges must outlive the manager;
 * 'bridges' itself is only read during the call. */
struct extensions *extensions_create(const struct agent_config *cfg,
                                     struct rpc *rpc,
                                     const struct extensions_bridges *);

/* Destroys every extension, last first, then the manager.  Call before
 * destroying the bridges and the RPC session.  Accepts NULL. */
void extensions_destroy(struct extensions *);

void extensions_run(struct extensions *);
void extensions_wait(struct extensions *);

/* Passes a port event on to every extension, in the configured order. */
void extensions_handle_port(struct extensions *,
                            const struct extension_port *);
void extensions_delete_port(struct extensions *,
                            const struct extension_port *);

/* Appends to 'topics' the fanout topic (neutron-vo-<type>-<version>) of
 * each resource type some extension follows, each once. */
void extensions_subscribed_topics(const struct extensions *,
                                  struct svec *topics);

/* Routes a push of 'objects' (a JSON array) of 'type' at 'version' to
 * every extension that follows it.  Returns the number of malformed
 * objects they reported.  agent calls this for each push on a topic of
 * extensions_subscribed_topics(); so may tests. */
size_t extensions_push(struct extensions *, const char *type,
                       const char *version, const struct json *objects,
                       const char *event_type);

/* Appends the extensions and their state, for ovsagent/show. */
void extensions_format(const struct extensions *, struct ds *);

#endif /* extensions.h */
