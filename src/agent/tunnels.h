/*
 * tunnels: the tunnel ports of br-tun and what goes through them: with
 * l2population, the forwarding database the server sends (remote MACs and
 * addresses, and each network's flood list); without it, a full mesh to
 * every endpoint the server lists.
 *
 * Layer: Neutron logic.  ports tells it which tunnel networks have a local
 * VLAN here, through the hooks agent wires (tunnels_network_hooks()); agent hands it the server's casts and tunnel_sync answers.
 * It asks vswitch for the tunnel ports (named and configured as the
 * reference does, tun-flows.h) and writes br-tun's flows, under owners
 * "tunport:<name>", "flood:<lv>", "ucast:<lv>" and "arp:<lv>", one flow
 * of which each FDB change adds again or removes, so that it touches only
 * the flows it is about.
 */
#ifndef OVSAGENT_TUNNELS_H
#define OVSAGENT_TUNNELS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct ds;
struct json;
struct of_bridge;
struct ports_network_hooks;
struct simap;
struct vswitch;

struct tunnels *tunnels_create(const struct agent_config *, struct vswitch *,
                               struct of_bridge *tun);
void tunnels_destroy(struct tunnels *);

/* A tunnel network has a local VLAN here ('lv'), or no longer has one:
 * its FDB flows go, and with l2population its tunnels if no other network
 * floods to them. */
void tunnels_network_add(struct tunnels *, const char *net_id,
                         const char *type, int64_t segid, int lv);
void tunnels_network_remove(struct tunnels *, const char *net_id);

/* Whether the tunnel network 'net_id' floods to any tunnel yet.  A port
 * reported up on a network that does not asks the server for the
 * network's whole forwarding database (refresh_tunnels), as the
 * reference asks. */
bool tunnels_network_has_tunnels(const struct tunnels *, const char *net_id);

/* l2population casts: the "fdb_entries" argument of add_fdb_entries,
 * remove_fdb_entries and update_fdb_entries.  Entries for this host's own
 * tunnel address and for networks without a local VLAN are ignored.
 * Return the number of malformed entries dropped. */
size_t tunnels_fdb_add(struct tunnels *, const struct json *fdb_entries);
size_t tunnels_fdb_remove(struct tunnels *, const struct json *fdb_entries);
size_t tunnels_fdb_update(struct tunnels *, const struct json *fdb_entries);

/* Without l2population: the endpoints of a tunnel_sync answer, and the
 * tunnel_update and tunnel_delete casts. */
void tunnels_sync_result(struct tunnels *, const char *type,
                         const struct json *result);
void tunnels_endpoint_update(struct tunnels *, const char *ip,
                             const char *type);
void tunnels_endpoint_delete(struct tunnels *, const char *ip,
                             const char *type);

/* Forwarding-database refresh, with l2population.  Casts sent while this
 * agent could not hear them (the broker or its connection restarted) are
 * lost, and the server's answer to a refresh_tunnels report only adds: an
 * endpoint or MAC removed meanwhile would stay for good.  So when ports
 * resync, tunnels_refresh_begin() notes every entry held; adds confirm
 * entries again; when the server has answered a refresh_tunnels report
 * for a port of the network (tunnels_refresh_answered()) and the casts
 * it sent meanwhile have had time to arrive, what was not confirmed goes.
 * Entries added after the refresh began are never removed by it.
 * tunnels_network_refreshing() says a port of the network should still
 * ask for refresh_tunnels.  tunnels_refresh_network() does the same for
 * one network: one bound during the first pass after a start, so that its
 * ports ask for its whole database even if a cast about it arrived
 * first (the reference asks for it in its first iteration).  A network none of whose ports here goes up
 * gets no database from the server and is answered by the caller with
 * nothing: everything it held before the refresh goes. */
void tunnels_refresh_begin(struct tunnels *);
void tunnels_refresh_network(struct tunnels *, const char *net_id);
bool tunnels_network_refreshing(const struct tunnels *, const char *net_id);
bool tunnels_refresh_pending(const struct tunnels *);   /* Any network. */
void tunnels_refresh_answered(struct tunnels *, const char *net_id);
void tunnels_set_fdb_grace(struct tunnels *, int ms);   /* For tests. */

/* The first pass over the ports has been reported: together with a
 * tunnel_sync answer, this lets the tunnel ports an earlier run left on
 * br-tun, and that no forwarding entry of this run names, go (the
 * reference leaves them). */
void tunnels_ports_settled(struct tunnels *);

/* Fills 'hooks' so that ports tells 'ts' of its tunnel networks and asks
 * it whether to ask for their forwarding databases (ports.h). */
void tunnels_network_hooks(struct tunnels *, struct ports_network_hooks *);

void tunnels_run(struct tunnels *);
void tunnels_wait(const struct tunnels *);

size_t tunnels_count(const struct tunnels *);
/* Adds to 'usage' (memory/show) what 'ts' holds: tunnels, networks and
 * forwarding entries. */
void tunnels_get_memory_usage(const struct tunnels *, struct simap *usage);
void tunnels_format(const struct tunnels *, struct ds *);

#endif /* tunnels.h */
