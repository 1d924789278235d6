/*
 * of-bridge: the OpenFlow session with one bridge, which keeps the bridge's
 * installed flows equal to its desired flows.
 *
 * Layer: OVS model.  Owns the bridge's flow_table and, once the switch has
 * connected, its rconn.  Callers above put desired flows into the table
 * (of_bridge_flows()) and ask whether they are in place
 * (of_bridge_flows_installed()); this module does the rest:
 *
 *     NO_CONN --switch connects--> READ_FLOWS --dump done--> SYNCING
 *        ^                                                    |  ^
 *        +------------- connection lost (any state) ----------+  |
 *                                  SYNCING: bundle + barrier ----+
 *
 * On entering READ_FLOWS the installed flows are read back with a flow dump,
 * never cleared: a restarted agent replaces its predecessor's flows one by
 * one (an add with the same key replaces the old flow) and deletes the ones
 * left over by their cookie afterwards.  Changes go out as OpenFlow bundles
 * (atomic, ordered) each followed by a barrier; one batch is in flight at a
 * time; a batch the switch rejects is retried in halves until the bad flow
 * is alone, and that flow is then logged and left out.
 *
 * A bridge with a canary table (br-int: table 23) is checked every polling
 * interval: if the canary flow has vanished while the connection stayed up,
 * the switch lost its flows, and they are read back and reinstalled.
 *
 * The module also learns the bridge's port numbers by OpenFlow (a port
 * description at each connection, port-status messages after), so that
 * callers need not replicate the ports' Interface rows from OVSDB for them.
 */
#ifndef OVSAGENT_OF_BRIDGE_H
#define OVSAGENT_OF_BRIDGE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ds;
struct flow_table;
struct of_listener;

struct of_bridge_options {
    const uint8_t *owned_tables;    /* Scanned for foreign cookies. */
    size_t n_owned_tables;
    int canary_table;               /* -1: none. */
    int canary_interval_ms;         /* polling_interval. */
    bool drop_flows_on_start;       /* Delete every flow on first connect. */
    int connect_timeout_ms;         /* of_connect_timeout: complain after. */
    int request_timeout_ms;         /* of_request_timeout: reconnect after. */
};

struct of_bridge *of_bridge_create(const char *name, uint64_t cookie,
                                   const struct of_bridge_options *);
void of_bridge_destroy(struct of_bridge *);

/* Sets the datapath id that identifies the bridge's connection, as read
 * from OVSDB (0: unknown).  A connection to another datapath is dropped. */
void of_bridge_set_dpid(struct of_bridge *, uint64_t dpid);

/* Reads the switch's messages, follows timeouts and the canary. */
void of_bridge_run(struct of_bridge *, struct of_listener *);
/* Sends the next batch of the flow table's changes, if none is in flight:
 * called last in a loop iteration, once every module has computed its
 * flows, so that they leave in the iteration that computed them
 * (ovn-controller's ofctrl_run() ... engine_run() ... ofctrl_put()). */
void of_bridge_put(struct of_bridge *);
void of_bridge_wait(struct of_bridge *);

/* The bridge's flows; the caller adds and clears owners' flows in it. */
struct flow_table *of_bridge_flows(struct of_bridge *);

const char *of_bridge_name(const struct of_bridge *);
bool of_bridge_is_connected(const struct of_bridge *);

/* True if the switch holds every desired flow as of desired seqno
 * 'seqno' (see flow_table_desired_seqno()), confirmed by a barrier. */
bool of_bridge_flows_installed(const struct of_bridge *, uint64_t seqno);

/* True once the flows the switch held when the agent first connected have
 * been read (the installed flows of of_bridge_flows() are then known). */
bool of_bridge_flows_read(const struct of_bridge *);

/* True if the switch holds every flow desired right now. */
bool of_bridge_in_sync(const struct of_bridge *);

/* Number of times the switch was found without our flows after having had
 * them (a new connection to an empty switch, or a missing canary). */
unsigned int of_bridge_n_switch_resets(const struct of_bridge *);

/* The OpenFlow port number of the bridge's port 'name', as the switch last
 * said (its port description at each connection, then its port-status
 * messages), or -1 if it has no such port or has not said yet.  The
 * bridge's local port is named like the bridge and has number OFPP_LOCAL.
 * Over a disconnection the last answers stay; the next connection's port
 * description, once complete, replaces them all. */
int of_bridge_get_ofport(const struct of_bridge *, const char *name);

/* Changes whenever an answer of of_bridge_get_ofport() may have changed:
 * only in of_bridge_run(), so a caller that compares it after each
 * of_bridge_run() needs no wake-up of its own. */
unsigned int of_bridge_ports_seqno(const struct of_bridge *);

void of_bridge_format(const struct of_bridge *, struct ds *);

#endif /* of-bridge.h */
