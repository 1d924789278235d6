/*
 * ovs-cleanup: what neutron-ovs-cleanup does, for ovsagent-cleanup.
 *
 * Layer: OVS model.  Removes the ports that Neutron plugged into Open vSwitch
 * (normally run once at boot, before the agent starts) and touches nothing
 * else: bridges stay, flows stay, patch and tunnel ports stay unless every
 * port is asked for.
 *
 * Bridges cleaned: the integration bridge if it exists or, with
 * cfg->ovs_all_ports, every bridge.  On each, one transaction deletes every
 * Port that has at least one "deletable" Interface: with ovs_all_ports any
 * Interface; otherwise one whose external_ids hold both "iface-id" and
 * "attached-mac" but not "skip_cleanup".
 */
#ifndef OVSAGENT_OVS_CLEANUP_H
#define OVSAGENT_OVS_CLEANUP_H 1

struct agent_config;

/* Connects to cfg->ovsdb_connection and cleans the bridges, as above.
 * Connecting, and each bridge's transaction, may each take up to
 * cfg->ovsdb_timeout seconds.  Blocks until done.
 *
 * Returns 0 on success (also when there was nothing to delete), otherwise a
 * positive errno value after logging the reason at ERR level: ETIMEDOUT if
 * the database could not be reached in time, EPROTO if it refused a
 * transaction. */
int ovs_cleanup_run(const struct agent_config *cfg);

#endif /* ovs-cleanup.h */
