/*
 * manager-boot: makes the database's TCP endpoint exist on a fresh host.
 *
 * Layer: OVS model.  With ovsdb_connection = tcp:IP:PORT the agent can only
 * reach ovsdb-server once a Manager record "ptcp:PORT:IP" tells it to
 * listen there.  The reference agent creates that record at start through
 * ovs-vsctl on the local unix socket (as root, through privsep).  This
 * module does the same whenever the TCP connection has not come up: it
 * opens a short-lived IDL on the unix socket of the OVS run directory,
 * adds the Manager (inactivity_probe = of_inactivity_probe * 1000 ms) if no
 * record has that target, and closes it again.  Without access to the unix
 * socket (an unprivileged agent) it says once what the operator must do and
 * keeps trying.
 */
#ifndef OVSAGENT_MANAGER_BOOT_H
#define OVSAGENT_MANAGER_BOOT_H 1

#include <stdbool.h>

struct agent_config;
struct manager_boot;

/* Returns NULL if 'cfg' does not use a tcp: ovsdb_connection. */
struct manager_boot *manager_boot_create(const struct agent_config *);
void manager_boot_destroy(struct manager_boot *);

/* 'tcp_up' says whether the agent's own connection is up; the module only
 * acts while it is not. */
void manager_boot_run(struct manager_boot *, bool tcp_up);
void manager_boot_wait(struct manager_boot *);

#endif /* manager-boot.h */
