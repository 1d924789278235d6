/*
 * flow-table: the desired and the installed OpenFlow flows of one bridge,
 * and the difference between them as flow_mods.
 *
 * Layer: OVS model.  This module never touches a socket: of-bridge sends
 * the batches it computes and reports back which ones the switch accepted.
 *
 * Desired flows are grouped by owner (a string: "base", a port id, ...), so
 * an owner can replace its flows without recomputing the others.  A flow is
 * identified by (table, priority, match); two owners asking for the same key
 * share one flow, whose actions are those of the first owner.  An owner
 * with many flows changes one of them by adding it again (new actions
 * replace the old) or by removing it (flow_table_remove()).
 *
 * Every flow carries a cookie: the table's own (the agent's), or one that
 * flow_table_request_cookie() reserved for the owners whose names start
 * with a given prefix (an extension's, as the reference's OVSCookieBridge
 * gives each extension a cookie of its own).  A flow takes the cookie of
 * the owner that gave it its actions.
 *
 * Installed flows are what the switch holds, as far as we know: read with a
 * flow dump when a connection comes up, then kept up to date as batches are
 * acknowledged.  Of an installed flow the table keeps no more than the diff
 * needs: its key (shared with the desired flow of that key), its cookie,
 * and a hash of its actions, flags and timeouts.  Flows whose cookie is
 * neither the table's nor a reserved
 * one are "foreign": those found in the tables the agent owns are deleted,
 * by cookie, once every desired flow is in place, which is how a restart
 * (which draws every cookie afresh) replaces the previous run's flows
 * without a window where none are installed.
 */
#ifndef OVSAGENT_FLOW_TABLE_H
#define OVSAGENT_FLOW_TABLE_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "compiler.h"
#include "openvswitch/list.h"
#include "openvswitch/ofp-flow.h"

struct ds;
struct flow_table;
struct simap;

/* Creates an empty table whose flows carry 'cookie'.  'owned_tables' lists
 * the tables scanned for foreign cookies (the reference's cleanup list). */
struct flow_table *flow_table_create(const char *name, uint64_t cookie,
                                     const uint8_t *owned_tables,
                                     size_t n_owned_tables);
void flow_table_destroy(struct flow_table *);

uint64_t flow_table_get_cookie(const struct flow_table *);

/* Reserves a cookie for every owner whose name starts with 'owner_prefix'
 * (the longest reserved prefix wins) and returns it: a random value that is
 * neither 0, nor all-ones, nor the table's cookie, nor reserved already.
 * Asking again for the same prefix returns the same cookie.  Call it before
 * adding flows under the prefix: an owner's cookie is looked up when the
 * owner is first seen (owners seen before are moved to the new cookie, and
 * their flows re-added).  Flows with a reserved cookie are never foreign. */
uint64_t flow_table_request_cookie(struct flow_table *,
                                   const char *owner_prefix);

/* Appends the reserved cookies as "0x... (prefix), ...", or nothing. */
void flow_table_format_reserved(const struct flow_table *, struct ds *);
size_t flow_table_n_reserved(const struct flow_table *);

/* Desired state. */

/* Parses 'format' in ovs-ofctl add-flow syntax ("table=0,priority=2,
 * in_port=1,actions=drop") and adds it to the flows of 'owner', with the
 * extra flow_mod 'flags' (e.g. OFPUTIL_FF_RESET_COUNTS).  Returns NULL, or a
 * malloc'd error message that the caller frees, in which case nothing is
 * added. */
char *flow_table_add(struct flow_table *, const char *owner,
                     enum ofputil_flow_mod_flags flags,
                     const char *format, ...)
    OVS_PRINTF_FORMAT(4, 5) OVS_WARN_UNUSED_RESULT;

/* For flows built from the server's data, which may not parse (a malformed
 * address, say): adds the flow formatted from 'format' and 'args', or logs
 * the error (rate-limited, naming 'owner') and leaves the flow out. */
void flow_table_vadd_logged(struct flow_table *, const char *owner,
                            enum ofputil_flow_mod_flags flags,
                            const char *format, va_list args)
    OVS_PRINTF_FORMAT(4, 0);

/* Forgets the flow of 'owner' whose key is given by 'format', in the syntax
 * of flow_table_add() but without actions ("table=20,priority=2,dl_vlan=1,
 * dl_dst=fa:16:3e:00:00:01"): the flow goes once no other owner wants it.
 * A key that 'owner' has no flow of is no error.  Returns NULL, or a
 * malloc'd error message that the caller frees. */
char *flow_table_remove(struct flow_table *, const char *owner,
                        const char *format, ...)
    OVS_PRINTF_FORMAT(3, 4) OVS_WARN_UNUSED_RESULT;

/* Forgets every flow of 'owner'. */
void flow_table_clear_owner(struct flow_table *, const char *owner);

/* Returns a number that grows each time the desired flows change. */
uint64_t flow_table_desired_seqno(const struct flow_table *);

size_t flow_table_n_desired(const struct flow_table *);

/* Installed state. */

/* Forgets what is installed: the switch is gone or is being re-read. */
void flow_table_installed_reset(struct flow_table *);

/* Records one flow read back from the switch. */
void flow_table_installed_add(struct flow_table *,
                              const struct ofputil_flow_stats *);

/* Records that the switch holds nothing, e.g. after deleting every flow. */
void flow_table_installed_set_empty(struct flow_table *);

size_t flow_table_n_installed(const struct flow_table *);

/* Adds to 'usage' (memory/show) the desired and installed flows of 'ft',
 * as BRIDGE-desired-flows and BRIDGE-installed-flows. */
void flow_table_get_memory_usage(const struct flow_table *,
                                 const char *bridge, struct simap *usage);

/* The highest conj_id that an installed flow of one of 'tables' matches,
 * or 0: where the openvswitch firewall resumes its conjunction ids. */
uint32_t flow_table_installed_max_conj_id(const struct flow_table *,
                                          const uint8_t *tables,
                                          size_t n_tables);

/* Seqno of the desired state that is fully installed, or 0. */
uint64_t flow_table_installed_seqno(const struct flow_table *);

/* The difference. */

/* A batch of flow_mods that moves the switch towards the desired state. */
struct flow_batch {
    struct ovs_list fms;        /* Of struct ofputil_flow_mod. */
    size_t n;
    uint64_t seqno;             /* Desired seqno it was computed from. */
    bool last;                  /* Installing it makes the switch complete. */
};

/* Computes at most 'max' flow_mods that bring the installed flows closer to
 * the desired ones: adds of missing or changed flows (a flow whose cookie
 * is not its owner's counts as changed), deletes of our own stale flows
 * (the table's or a reserved cookie, with no desired flow of that key) and,
 * only when nothing else remains, deletes of foreign cookies.  Returns
 * NULL if the installed flows are already complete.  The caller sends the
 * batch and then calls flow_batch_done(). */
struct flow_batch *flow_table_diff(struct flow_table *, size_t max);

/* Reports the fate of 'batch' and frees it.  On success the installed state
 * takes its changes; on failure nothing changes. */
void flow_batch_done(struct flow_table *, struct flow_batch *, bool success);

/* Marks the flow_mod with this table, priority and text as rejected by the
 * switch, so that it is not sent again until its owner changes it. */
void flow_table_reject(struct flow_table *, const struct ofputil_flow_mod *);

/* Appends the desired flows, one per line in ovs-ofctl syntax, sorted. */
void flow_table_format_desired(const struct flow_table *, struct ds *);

#endif /* flow-table.h */
