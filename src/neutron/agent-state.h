/*
 * agent-state: the agent's heartbeat, report_state, as the reference sends
 * it (docs/wire.md §5.2, §8.1).
 *
 * Layer: Neutron wire API.  Reports every report_interval seconds, at once
 * when asked (after an OVS restart), with start_flag until the first full
 * pass over the ports and again after an OVS restart, and with
 * resource_versions until a report succeeds.  A "revived" answer is passed
 * up so the agent resyncs.
 */
#ifndef OVSAGENT_AGENT_STATE_H
#define OVSAGENT_AGENT_STATE_H 1

#include <stdbool.h>
#include <stddef.h>

struct agent_config;
struct ds;
struct rpc;

/* 'ovs_hybrid_plug' is what the firewall driver asks for (fw-driver.h). */
struct agent_state *agent_state_create(const struct agent_config *,
                                       bool ovs_hybrid_plug);
void agent_state_destroy(struct agent_state *);

/* 'ovs_ok': OVS is reachable (no report otherwise).  'n_devices': ports on
 * br-int.  'started': the first full pass is done. */
void agent_state_run(struct agent_state *, struct rpc *, bool ovs_ok,
                     size_t n_devices, bool started);
void agent_state_wait(struct agent_state *);

/* Send start_flag again and report now (OVS restarted). */
void agent_state_restart(struct agent_state *);

/* True once after each "revived" answer. */
bool agent_state_take_revived(struct agent_state *);

void agent_state_format(const struct agent_state *, struct ds *);

#endif /* agent-state.h */
