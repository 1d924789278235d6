/*
 * ovsdb-remote: how every program here reaches the Open_vSwitch database.
 *
 * Layer: OVS model, lowest level.  Turns the [ovs] options (ovsdb_connection
 * and, for "ssl:" remotes, ssl_key_file, ssl_cert_file, ssl_ca_cert_file)
 * into the OVS library's stream configuration and an IDL connection.  It
 * decides nothing about what is read or written: callers register their
 * columns and drive the IDL with the usual run/wait loop.
 */
#ifndef OVSAGENT_OVSDB_REMOTE_H
#define OVSAGENT_OVSDB_REMOTE_H 1

#include <stdbool.h>

struct agent_config;
struct ovsdb_idl;

/* True if 'remote' (one OVSDB remote, or several separated by commas) uses
 * SSL for any of them. */
bool ovsdb_remote_is_ssl(const char *remote);

/* If cfg->ovsdb_connection is an "ssl:" remote, gives the OVS stream-ssl
 * library the private key, certificate and CA certificate named by the
 * [ovs] ssl_* options (logging a warning for each that is missing: the
 * connection then fails with the library's own error).  Does nothing for
 * other remotes.  May be called again after the configuration changed. */
void ovsdb_remote_configure_ssl(const struct agent_config *);

/* Configures SSL as above and returns a new IDL for the Open_vSwitch schema
 * connected to cfg->ovsdb_connection.  The IDL keeps retrying the
 * connection (with the library's back-off) until it is destroyed; nothing
 * is sent before the first ovsdb_idl_run().
 *
 * With 'monitor_everything' every table and column is replicated, as the
 * reference agent does; otherwise nothing is, and the caller adds the
 * columns it needs with ovsdb_idl_add_column() before the first run.
 *
 * The caller owns the IDL and frees it with ovsdb_idl_destroy(). */
struct ovsdb_idl *ovsdb_remote_open_vswitch(const struct agent_config *,
                                            bool monitor_everything);

#endif /* ovsdb-remote.h */
