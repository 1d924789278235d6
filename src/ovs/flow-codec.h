/*
 * flow-codec: compact, canonical encodings of a flow's match and actions,
 * for a table that holds tens of thousands of flows (flow-table.h).
 *
 * A match is kept as its NXM encoding: a few dozen bytes where a minimatch
 * takes a hundred, and the same bytes for any two matches of the same
 * packets, so that bytes compare and hash as keys.  Actions are kept as
 * OpenFlow 1.3 encodes them (which is what the switch is sent: the agent
 * speaks OpenFlow 1.3 only), about two thirds of the size of struct ofpact
 * arrays, and also canonical, where two parses of the same text may differ
 * in padding bytes.  Actions whose encoding would not decode back to
 * actions that print as they did (OpenFlow 1.3 writes "strip_vlan" as
 * pop_vlan, "mod_vlan_vid" as push_vlan and set_field) stay struct ofpact
 * arrays, so that a listing of the desired flows shows what was asked.
 *
 * Layer: OVS model.  Pure functions, but for the cache of which shapes of
 * actions encode faithfully (struct flow_codec).
 */
#ifndef OVSAGENT_FLOW_CODEC_H
#define OVSAGENT_FLOW_CODEC_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-flow.h"

struct match;
struct ofpact;
struct ofpbuf;

/* Matches. */

/* Appends to 'b' the NXM encoding of 'match' (which it modifies: values
 * under a wildcard are zeroed), padded with zeros to a multiple of 8
 * bytes.  Returns its length before padding. */
size_t flow_codec_put_match(struct ofpbuf *b, struct match *match);

/* Decodes 'len' bytes of NXM at 'nxm' (followed by padding to 8 bytes)
 * into 'match'. */
enum ofperr flow_codec_get_match(const void *nxm, size_t len,
                                 struct match *match);

/* Actions. */

/* Appends to 'b' the OpenFlow 1.3 instructions for 'ofpacts'. */
void flow_codec_put_actions(struct ofpbuf *b, const struct ofpact *ofpacts,
                            size_t ofpacts_len);

/* Decodes 'len' bytes of OpenFlow 1.3 instructions at 'wire' into
 * 'ofpacts', which it clears first; the caller owns 'ofpacts'. */
enum ofperr flow_codec_get_actions(const void *wire, size_t len,
                                   struct ofpbuf *ofpacts);

/* A 64-bit hash of a flow's content, as the switch holds it: its actions
 * (OpenFlow 1.3 'wire', 'len' bytes), the state flags among 'flags', and
 * its timeouts. */
uint64_t flow_codec_content_hash(const void *wire, size_t len,
                                 enum ofputil_flow_mod_flags flags,
                                 uint16_t idle_timeout,
                                 uint16_t hard_timeout);

/* Appends to 'b' what it takes to rebuild the 'len' bytes at 'data' from
 * the 'len' bytes at 'base': the runs of bytes that differ, each after a
 * count of bytes that do not.  Returns false, and appends nothing, if that
 * takes 'max' bytes or more. */
bool flow_codec_put_delta(struct ofpbuf *b, const void *base,
                          const void *data, size_t len, size_t max);

/* Rebuilds into 'out' the 'len' bytes that flow_codec_put_delta() gave the
 * 'delta_len' bytes at 'delta' for, from 'base'. */
void flow_codec_get_delta(void *out, const void *base, size_t len,
                          const void *delta, size_t delta_len);

/* Which shapes of actions (the sequence of their types, encodings and
 * fields) encode faithfully, learned once per shape.  The caller owns what
 * flow_codec_create() returns and frees it with flow_codec_destroy(),
 * which accepts NULL. */
struct flow_codec *flow_codec_create(void);
void flow_codec_destroy(struct flow_codec *);

/* Whether 'wire', the encoding of 'ofpacts', decodes back to actions that
 * print as 'ofpacts' do, so that the flow may keep 'wire' alone.  Only a
 * few types of actions qualify; the first actions of each shape are
 * checked, and the answer kept for that shape. */
bool flow_codec_faithful(struct flow_codec *, const struct ofpact *ofpacts,
                         size_t ofpacts_len, const void *wire,
                         size_t wire_len);

#endif /* flow-codec.h */
