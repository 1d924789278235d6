/*
 * of-util: small helpers shared by the OpenFlow sessions (of-listener,
 * of-bridge).  Layer: OVS model.
 */
#ifndef OVSAGENT_OF_UTIL_H
#define OVSAGENT_OF_UTIL_H 1

#include "openvswitch/ofp-msgs.h"

struct rconn;

/* Answers 'oh' on 'rconn' if it is an echo request.  Returns true if it
 * was one. */
bool of_util_answer_echo(struct rconn *, const struct ofp_header *oh,
                         enum ofptype);

/* Logs, rate-limited, the OpenFlow error message 'oh' received on the
 * connection of bridge 'name', with the request that caused it. */
void of_util_log_error(const char *name, const struct ofp_header *oh);

#endif /* of-util.h */
