/*
 * agent: ties the agent's parts together for one run of the main loop.
 *
 * Layer: Neutron logic, right below main.  Owns the OVSDB view (vswitch),
 * the OpenFlow listener and one of_bridge per bridge the agent manages
 * (integration, tunnel, one per bridge_mappings entry), and keeps their
 * base flows in step with what OVSDB says about the bridges' ports.
 * Nothing here waits: the data plane is set up whether or not the control
 * plane (RabbitMQ, neutron-server) is reachable.
 */
#ifndef OVSAGENT_AGENT_H
#define OVSAGENT_AGENT_H 1

#include <stdbool.h>
#include <stdint.h>

struct agent;
struct agent_config;
struct ds;
struct simap;

/* Creates the agent for 'cfg', which must outlive it. */
struct agent *agent_create(const struct agent_config *cfg);
void agent_destroy(struct agent *);

void agent_run(struct agent *);
void agent_wait(struct agent *);

/* Non-NULL once the agent cannot go on (e.g. a mapped physical bridge does
 * not exist): a message for the log, after which main exits non-zero. */
const char *agent_fatal_error(const struct agent *);

/* Adds to 'usage' what each module holds, for memory/show and for the log
 * line lib/memory.c writes when the resident set grows. */
void agent_get_memory_usage(const struct agent *, struct simap *usage);

/* A number that changes whenever the agent has work done: its desired
 * flows or its database replica changed (memory-trim.h). */
uint64_t agent_activity(const struct agent *);

/* ovsagent/show. */
void agent_format(const struct agent *, struct ds *);

/* Appends the desired flows of 'bridge'.  Returns false if the agent does
 * not manage such a bridge. */
bool agent_format_desired_flows(const struct agent *, const char *bridge,
                                struct ds *);

/* True once every managed bridge holds all its desired flows. */
bool agent_flows_in_sync(const struct agent *);

#endif /* agent.h */
