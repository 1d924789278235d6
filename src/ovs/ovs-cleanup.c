/*
 * ovs-cleanup: deletes the ports Neutron plugged into Open vSwitch.  See
 * ovs-cleanup.h for which ones.
 *
 * Everything here blocks, which is right for a one-shot tool: each wait is
 * a run/wait/poll_block() loop bounded by a deadline, so that an unreachable
 * or stuck database ends the program with a clear error instead of hanging.
 *
 * As the reference's transactions do, each one also increments
 * Open_vSwitch.next_cfg and, once committed, waits (within the same
 * deadline) for ovs-vswitchd to report the change applied in cur_cfg.  Like
 * the reference, a vswitchd that does not catch up only earns a warning.
 */
#include <config.h>
#include "log-safe.h"
#include "ovs/ovs-cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "hmapx.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovs/ovsdb-remote.h"
#include "ovsdb-idl.h"
#include "smap.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(ovs_cleanup);

/* The Interface external_ids keys that decide what is deleted. */
#define IFACE_ID_KEY     "iface-id"
#define ATTACHED_MAC_KEY "attached-mac"
#define SKIP_CLEANUP_KEY "skip_cleanup"

static long long
deadline_after(int seconds)
{
    return time_msec() + (long long) seconds * 1000;
}

/* Registers the few columns this module reads or writes. */
static void
register_columns(struct ovsdb_idl *idl)
{
    static const struct ovsdb_idl_column *const columns[] = {
        &ovsrec_open_vswitch_col_next_cfg,
        &ovsrec_open_vswitch_col_cur_cfg,
        &ovsrec_bridge_col_name,
        &ovsrec_bridge_col_ports,
        &ovsrec_port_col_name,
        &ovsrec_port_col_interfaces,
        &ovsrec_interface_col_name,
        &ovsrec_interface_col_external_ids,
    };
    for (size_t i = 0; i < ARRAY_SIZE(columns); i++) {
        ovsdb_idl_add_column(idl, columns[i]);
    }
}

/* Blocks until 'idl' holds its first complete copy of the database.
 * Returns 0, or ETIMEDOUT (logged) at 'deadline'. */
static int
wait_for_sync(struct ovsdb_idl *idl, const struct agent_config *cfg,
              long long deadline)
{
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_has_ever_connected(idl)) {
            return 0;
        }
        if (time_msec() >= deadline) {
            break;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }

    if (ovsdb_idl_is_connected(idl)) {
        VLOG_ERR("%s: connected, but received no Open_vSwitch database "
                 "contents within %d s", cfg->ovsdb_connection,
                 cfg->ovsdb_timeout);
    } else {
        int error = ovsdb_idl_get_last_error(idl);
        VLOG_ERR("%s: could not connect to the Open_vSwitch database "
                 "within %d s (%s)", cfg->ovsdb_connection,
                 cfg->ovsdb_timeout,
                 error ? ovs_retval_to_string(error) : "no answer");
    }
    return ETIMEDOUT;
}

/* Blocks until the IDL's contents change (for instance after it
 * reconnected), or until 'deadline'. */
static void
wait_for_change(struct ovsdb_idl *idl, long long deadline)
{
    unsigned int seqno = ovsdb_idl_get_seqno(idl);
    for (;;) {
        ovsdb_idl_run(idl);
        if (ovsdb_idl_get_seqno(idl) != seqno || time_msec() >= deadline) {
            return;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

/* ovsdb_idl_txn_commit_block(), but giving up at 'deadline': then returns
 * TXN_INCOMPLETE and the caller destroys 'txn'. */
static enum ovsdb_idl_txn_status
commit_until(struct ovsdb_idl *idl, struct ovsdb_idl_txn *txn,
             long long deadline)
{
    enum ovsdb_idl_txn_status status;

    while ((status = ovsdb_idl_txn_commit(txn)) == TXN_INCOMPLETE) {
        if (time_msec() >= deadline) {
            break;
        }
        ovsdb_idl_run(idl);
        ovsdb_idl_wait(idl);
        ovsdb_idl_txn_wait(txn);
        poll_timer_wait_until(deadline);
        poll_block();
    }
    return status;
}

/* Blocks until ovs-vswitchd reports in Open_vSwitch.cur_cfg that it applied
 * configuration 'next_cfg', or until 'deadline' (then logs a warning, as the
 * reference does, and carries on). */
static void
wait_for_vswitchd(struct ovsdb_idl *idl, int64_t next_cfg, long long deadline)
{
    for (;;) {
        ovsdb_idl_run(idl);
        const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
        if (!ovs || ovs->cur_cfg >= next_cfg) {
            return;
        }
        if (time_msec() >= deadline) {
            VLOG_WARN("ovs-vswitchd has not applied configuration %"PRId64
                      " (it reports %"PRId64")", next_cfg, ovs->cur_cfg);
            return;
        }
        ovsdb_idl_wait(idl);
        poll_timer_wait_until(deadline);
        poll_block();
    }
}

static const struct ovsrec_bridge *
find_bridge(struct ovsdb_idl *idl, const char *name)
{
    const struct ovsrec_bridge *br;
    OVSREC_BRIDGE_FOR_EACH (br, idl) {
        if (!strcmp(br->name, name)) {
            return br;
        }
    }
    return NULL;
}

static bool
iface_is_deletable(const struct ovsrec_interface *iface, bool all_ports)
{
    if (all_ports) {
        return true;
    }
    const struct smap *ids = &iface->external_ids;
    return (smap_get_node(ids, IFACE_ID_KEY)
            && smap_get_node(ids, ATTACHED_MAC_KEY)
            && !smap_get_node(ids, SKIP_CLEANUP_KEY));
}

static bool
port_is_deletable(const struct ovsrec_port *port, bool all_ports)
{
    for (size_t i = 0; i < port->n_interfaces; i++) {
        if (iface_is_deletable(port->interfaces[i], all_ports)) {
            return true;
        }
    }
    return false;
}

/* Adds to 'txn' the removal of the deletable ports of 'br' and their
 * interfaces, and appends their names to 'names'. */
static void
delete_ports(const struct ovsrec_bridge *br, bool all_ports,
             struct svec *names)
{
    /* Choose first, then write: the writes must not change what is read. */
    const struct ovsrec_port **victims = xmalloc(br->n_ports
                                                 * sizeof *victims);
    size_t n_victims = 0;
    for (size_t i = 0; i < br->n_ports; i++) {
        if (port_is_deletable(br->ports[i], all_ports)) {
            victims[n_victims++] = br->ports[i];
        }
    }

    /* A database could list one Interface in two Ports; a row may be
     * deleted only once. */
    struct hmapx deleted = HMAPX_INITIALIZER(&deleted);
    for (size_t i = 0; i < n_victims; i++) {
        const struct ovsrec_port *port = victims[i];
        svec_add(names, port->name);
        ovsrec_bridge_update_ports_delvalue(br, port);
        for (size_t j = 0; j < port->n_interfaces; j++) {
            if (hmapx_add(&deleted, CONST_CAST(struct ovsrec_interface *,
                                               port->interfaces[j]))) {
                ovsrec_interface_delete(port->interfaces[j]);
            }
        }
        ovsrec_port_delete(port);
    }
    hmapx_destroy(&deleted);
    free(victims);
}

/* Cleans the bridge called 'name' in one transaction, retried while the
 * database asks to try again, all within cfg->ovsdb_timeout.  Returns 0 or
 * a positive errno value (logged). */
static int
clean_bridge(struct ovsdb_idl *idl, const struct agent_config *cfg,
             const char *name)
{
    long long deadline = deadline_after(cfg->ovsdb_timeout);

    VLOG_INFO("Cleaning bridge: %s", name);
    for (;;) {
        ovsdb_idl_run(idl);
        const struct ovsrec_bridge *br = find_bridge(idl, name);
        if (!br) {
            VLOG_INFO("bridge %s no longer exists: nothing to clean", name);
            return 0;
        }

        struct svec names = SVEC_EMPTY_INITIALIZER;
        struct ovsdb_idl_txn *txn = ovsdb_idl_txn_create(idl);
        ovsdb_idl_txn_add_comment(txn, "ovsagent-cleanup: bridge %s", name);
        const struct ovsrec_open_vswitch *ovs = ovsrec_open_vswitch_first(idl);
        if (ovs) {
            ovsdb_idl_txn_increment(txn, &ovs->header_,
                                    &ovsrec_open_vswitch_col_next_cfg, false);
        }
        delete_ports(br, cfg->ovs_all_ports, &names);

        enum ovsdb_idl_txn_status status = commit_until(idl, txn, deadline);
        int error = 0;
        bool retry = false;
        switch (status) {
        case TXN_SUCCESS: {
            const char *port;
            size_t i;
            SVEC_FOR_EACH (i, port, &names) {
                VLOG_INFO("Deleted port %s from bridge %s", log_safe(port),
                          name);
            }
            if (ovs) {
                wait_for_vswitchd(idl,
                                  ovsdb_idl_txn_get_increment_new_value(txn),
                                  deadline);
            }
            break;
        }

        case TXN_UNCHANGED:
            VLOG_DBG("bridge %s: no port to delete", name);
            break;

        case TXN_TRY_AGAIN:
            if (time_msec() < deadline) {
                retry = true;
                break;
            }
            /* fall through */
        case TXN_INCOMPLETE:
            VLOG_ERR("bridge %s: the transaction deleting %"PRIuSIZE" ports "
                     "did not complete within %d s", name, names.n,
                     cfg->ovsdb_timeout);
            error = ETIMEDOUT;
            break;

        case TXN_UNCOMMITTED:
        case TXN_ABORTED:
        case TXN_NOT_LOCKED:
        case TXN_ERROR:
        default: {
            const char *why = ovsdb_idl_txn_get_error(txn);
            VLOG_ERR("bridge %s: the transaction deleting %"PRIuSIZE" ports "
                     "failed: %s", name, names.n,
                     why ? log_safe(why)
                     : ovsdb_idl_txn_status_to_string(status));
            error = EPROTO;
            break;
        }
        }
        ovsdb_idl_txn_destroy(txn);
        svec_destroy(&names);

        if (!retry) {
            return error;
        }
        VLOG_DBG("bridge %s: database asks to try again", name);
        wait_for_change(idl, deadline);
    }
}

/* Stores in 'names' the bridges to clean, sorted. */
static void
bridges_to_clean(struct ovsdb_idl *idl, const struct agent_config *cfg,
                 struct svec *names)
{
    if (cfg->ovs_all_ports) {
        const struct ovsrec_bridge *br;
        OVSREC_BRIDGE_FOR_EACH (br, idl) {
            svec_add(names, br->name);
        }
        svec_sort_unique(names);
    } else if (find_bridge(idl, cfg->integration_bridge)) {
        svec_add(names, cfg->integration_bridge);
    } else {
        VLOG_INFO("integration bridge %s does not exist: nothing to clean",
                  cfg->integration_bridge);
    }
}

int
ovs_cleanup_run(const struct agent_config *cfg)
{
    struct ovsdb_idl *idl = ovsdb_remote_open_vswitch(cfg, false);
    register_columns(idl);

    int error = wait_for_sync(idl, cfg, deadline_after(cfg->ovsdb_timeout));
    if (!error) {
        struct svec bridges = SVEC_EMPTY_INITIALIZER;
        bridges_to_clean(idl, cfg, &bridges);

        const char *name;
        size_t i;
        SVEC_FOR_EACH (i, name, &bridges) {
            error = clean_bridge(idl, cfg, name);
            if (error) {
                break;
            }
        }
        svec_destroy(&bridges);
    }
    ovsdb_idl_destroy(idl);

    if (!error) {
        VLOG_INFO("OVS cleanup completed successfully");
    }
    return error;
}
