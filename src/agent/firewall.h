/*
 * firewall: the openvswitch (conntrack) firewall of the ports of br-int,
 * fed by the server's security groups.
 *
 * Layer: Neutron logic.  ports owns it: it hands over each wired port
 * (its ofport, local VLAN and details) and asks, before reporting a port
 * up, which desired-flows seqno covers the port's filter.  The firewall
 * keeps the server's security groups (sg-cache) and the members of the
 * remote groups its rules name (sg-members), pulls what it lacks with
 * bulk_pull and follows the server's pushes, and writes flows through
 * fw-flows into br-int's flow table:
 *
 *   - "fw:<port id>": a port's base and rule flows;
 *   - "fwm:<local VLAN>:<address>": the remote-group members' side of the
 *     conjunctions on one network, per member address.
 *
 * A change to a group's rules rewrites the flows of the ports in it; a
 * change in a remote group's membership rewrites only the member
 * addresses whose conjunctions changed.  The flow table then sends only
 * the flow_mods that differ, in atomic bundles, so a rule change never
 * leaves a window in which a flow is missing (make-before-break).
 */
#ifndef OVSAGENT_FIREWALL_H
#define OVSAGENT_FIREWALL_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct device_details;
struct ds;
struct json;
struct of_bridge;
struct rpc;

struct firewall *firewall_create(const struct agent_config *,
                                 struct of_bridge *integ);
void firewall_destroy(struct firewall *);

/* Filters port 'id' (or replaces its filter) as its details say:
 * 'egress_direct' is one of FW_EGRESS_DIRECT_* or the patch ofport of its
 * network (fw-flows.h). */
void firewall_set_port(struct firewall *, const char *id, int ofport, int lv,
                       const struct device_details *, int egress_direct);

/* Removes port 'id''s filter. */
void firewall_remove_port(struct firewall *, const char *id);

/* The desired-flows seqno of br-int once port 'id''s filter is written,
 * or 0 while it waits for the server's data. */
uint64_t firewall_port_seqno(const struct firewall *, const char *id);

void firewall_run(struct firewall *, struct rpc *);
void firewall_wait(struct firewall *);

/* The server's pushes (neutron-vo-SecurityGroup, -SecurityGroupRule and
 * -Port; 'deleted' for event_type "deleted").  Return the number of
 * malformed objects dropped. */
size_t firewall_push_groups(struct firewall *, const struct json *list,
                            bool deleted);
size_t firewall_push_rules(struct firewall *, const struct json *list,
                           bool deleted);
size_t firewall_push_address_groups(struct firewall *,
                                    const struct json *list, bool deleted);
size_t firewall_push_ports(struct firewall *, const struct json *list,
                           bool deleted);

/* Forgets the server's data and pulls it again (after a reconnection). */
void firewall_resync(struct firewall *);

void firewall_format(const struct firewall *, struct ds *);

#endif /* firewall.h */
