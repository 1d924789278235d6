/*
 * fw-flows: the flows of the openvswitch (conntrack) firewall, as the
 * 21.0 reference writes them on br-int (docs/pipeline.md §7).
 *
 * The tables: 60 sorts a packet into a port's egress (71) or ingress (81)
 * pipeline and loads reg5 (the port's ofport) and reg6 (the network's
 * local VLAN, whose low 16 bits are the conntrack zone); 71 and 81 hold
 * the port's anti-spoofing, ARP, ICMPv6 and DHCP flows and send IP
 * through conntrack to 72 (egress rules) and 82 (ingress rules); 73
 * decides whether accepted egress goes to a local port or out.
 *
 * A rule whose remote is a group is split in two clauses of a
 * conjunction: the port's side (protocol and ports, clause 2) is written
 * with the port's flows; the remote side (one flow per member address
 * and local VLAN, clause 1) is written by fw_flows_member().
 *
 * Layer: Neutron logic, pure: each function adds flows to a flow table
 * under an owner and does nothing else.  The caller clears the owner
 * first when it replaces them.
 */
#ifndef OVSAGENT_FW_FLOWS_H
#define OVSAGENT_FW_FLOWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct address_pair;
struct flow_table;
struct sg_rule;

/* Table 94's "egress direct" flows (explicitly_egress_direct): off, or
 * on with the patch port that leads off this host, if there is one. */
#define FW_EGRESS_DIRECT_OFF (-2)
#define FW_EGRESS_DIRECT_NO_PATCH (-1)

/* A port as the firewall sees it. */
struct fw_port {
    int ofport;
    int lv;                         /* Local VLAN: reg6 and the ct zone. */
    const char *network_type;       /* "vxlan", "vlan", "flat", ... */
    int64_t segmentation_id;        /* -1: none. */
    const char *mac;
    char *const *fixed_ips;
    size_t n_fixed_ips;
    const struct address_pair *pairs;   /* Allowed address pairs. */
    size_t n_pairs;
    int egress_direct;              /* FW_EGRESS_DIRECT_* or an ofport. */
};

/* A rule applied to a port.  'conj_id', for a rule whose remote is a
 * group, is the id of its "established" flow: the key's base plus twice
 * the rule's priority offset. */
struct fw_rule {
    const struct sg_rule *rule;
    uint32_t conj_id;
};

/* The firewall's flows that belong to no port (docs/pipeline.md §7.2):
 * the drops at the bottom of each table and the accept chain.  Installed
 * once. */
void fw_flows_init(struct flow_table *, const char *owner);

/* The base flows of a filtered port (docs/pipeline.md §7.3): tables 60,
 * 71, 73, 81, 94 and the tracked bases of 72 and 82.  'ethertypes' are
 * the permitted ethertypes of [securitygroup] ("0x..." strings; others
 * are skipped). */
void fw_flows_port_base(struct flow_table *, const char *owner,
                        const struct fw_port *,
                        char *const *ethertypes, size_t n_ethertypes);

/* The pass-through of a port without port security, or of a trusted
 * (network:*) port (docs/pipeline.md §7.6). */
void fw_flows_port_unfiltered(struct flow_table *, const char *owner,
                              const struct fw_port *);

/* The rule flows of a port (docs/pipeline.md §7.4, and the port's side
 * of §7.5), for its rules in the order of its groups and of each group's
 * rules. */
void fw_flows_port_rules(struct flow_table *, const char *owner,
                         const struct fw_port *,
                         const struct fw_rule *, size_t n_rules);

/* The remote side of the conjunctions on local VLAN 'lv' for member
 * address 'addr' (an address or a CIDR; 'mac' may be NULL): one pair of
 * flows per priority, listing 'conj_ids' (the "established" ids of every
 * rule whose remote group holds the address, in any order). */
void fw_flows_member(struct flow_table *, const char *owner, int lv,
                     bool ingress, const char *addr, const char *mac,
                     const uint32_t *conj_ids, size_t n_conj_ids);

/* The priority offset (0 to 3) of a rule, as a plain rule (plus 4) or as
 * one half of a conjunction. */
int fw_rule_priority_offset(const struct sg_rule *, bool conjunction);

/* Normalizes an address or CIDR as the reference does before matching on
 * it ("10.0.0.7/24" -> "10.0.0.0/24", "10.0.0.5/32" -> "10.0.0.5").
 * Returns a malloc'd string, or NULL if 'addr' does not parse; '*ipv6' is
 * set to its family. */
char *fw_normalize_cidr(const char *addr, bool *ipv6);

/* The EUI-64 link-local address of 'mac' ("fe80::f816:3eff:fe00:5"),
 * malloc'd, or NULL if 'mac' does not parse. */
char *fw_link_local(const char *mac);

/* The value/mask blocks covering [lo, hi], as the reference splits a port
 * range.  Returns their number (at most 32). */
size_t fw_port_masks(int lo, int hi, uint16_t values[32],
                     uint16_t masks[32]);

#endif /* fw-flows.h */
