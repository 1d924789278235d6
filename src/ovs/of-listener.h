/*
 * of-listener: the OpenFlow controller endpoint that the switches connect
 * to (Controller target tcp:<of_listen_address>:<of_listen_port>).
 *
 * Layer: OVS model.  ovs-vswitchd opens one connection per bridge.  This
 * module accepts them, negotiates OpenFlow 1.3, asks each for its datapath
 * id and keeps it until of-bridge claims the connection for the bridge with
 * that id (read from OVSDB).  Connections nobody claims stay open and are
 * listed by ovsagent/show.
 */
#ifndef OVSAGENT_OF_LISTENER_H
#define OVSAGENT_OF_LISTENER_H 1

#include <stdbool.h>
#include <stdint.h>

struct ds;
struct rconn;
struct of_listener;

/* Creates a listener for 'address' (IPv4 or IPv6 literal) and 'port'.
 * Opening the socket is retried from of_listener_run() while it fails. */
struct of_listener *of_listener_create(const char *address, int port,
                                       int probe_interval);
void of_listener_destroy(struct of_listener *);

void of_listener_run(struct of_listener *);
void of_listener_wait(struct of_listener *);

/* Returns the connection from the switch whose datapath id is 'dpid' and
 * hands it to the caller, who destroys it with rconn_destroy(); or NULL if
 * no such switch is connected yet. */
struct rconn *of_listener_take(struct of_listener *, uint64_t dpid);

/* True once the listening socket is open. */
bool of_listener_is_listening(const struct of_listener *);

void of_listener_format(const struct of_listener *, struct ds *);

#endif /* of-listener.h */
