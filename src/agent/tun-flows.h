/*
 * tun-flows: tunnel ports and the br-tun flows that lead to them, as the
 * 21.0 reference names and writes them (docs/pipeline.md §1.3, §6).
 *
 * A tunnel port is named after its type and remote address
 * ("vxlan-c0000214"); br-tun sends what arrives on it to the table of its
 * type, floods a network's broadcasts to every tunnel of its flood set
 * (table 22), sends unicast to the tunnel behind a MAC (table 20) and,
 * with arp_responder, answers ARP requests for remote addresses itself
 * (table 21).
 *
 * Layer: Neutron logic, pure: functions name things, fill option maps,
 * or add flows to a flow table under an owner.
 */
#ifndef OVSAGENT_TUN_FLOWS_H
#define OVSAGENT_TUN_FLOWS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_config;
struct flow_table;
struct smap;

/* The br-tun table that takes in a tunnel type's packets: 4 (vxlan), 3
 * (gre), 6 (geneve), or -1; oft_tun_table() of of-tables.h. */
int tun_in_table(const char *type);

/* The port name of the tunnel of 'type' to 'remote_ip': "<type>-<hash>",
 * at most 15 characters; the hash is the IPv4 address in hex, or the
 * start of the base32 SHA-1 of an IPv6 address's text.  Returns a malloc'd
 * string, or NULL if 'remote_ip' is not an address. */
char *tun_port_name(const char *type, const char *remote_ip);

/* The Interface type of such a tunnel: the tunnel type, except "ip6gre"
 * for GRE over IPv6. */
const char *tun_iface_type(const char *type, const char *local_ip,
                           const char *remote_ip);

/* Fills 'options' with the tunnel Interface's options as the reference
 * writes them ('hw_offload': Open_vSwitch other_config:hw-offload). */
void tun_iface_options(const struct agent_config *, const char *type,
                       const char *remote_ip, bool hw_offload,
                       struct smap *options);

/* Table 0: what comes in on tunnel port 'ofport' of 'type'. */
void tun_flows_port(struct flow_table *, const char *owner, const char *type,
                    int ofport);

/* Table 22: a network's flood to 'ofports' (sorted here; none: no flow). */
void tun_flows_flood(struct flow_table *, const char *owner, int lv,
                     int64_t segid, const int *ofports, size_t n);

/* Table 20: unicast to 'mac' through tunnel port 'ofport'.  Added again
 * under the same owner, it replaces the previous one in place; removed,
 * 'owner' no longer has it. */
void tun_flows_unicast(struct flow_table *, const char *owner, int lv,
                       int64_t segid, const char *mac, int ofport);
void tun_flows_unicast_remove(struct flow_table *, const char *owner, int lv,
                              const char *mac);

/* Table 21: the ARP responder's answer for 'ip' at 'mac'; likewise. */
void tun_flows_arp(struct flow_table *, const char *owner, int lv,
                   const char *mac, const char *ip);
void tun_flows_arp_remove(struct flow_table *, const char *owner, int lv,
                          const char *ip);

#endif /* tun-flows.h */
