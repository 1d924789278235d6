/*
 * manager-boot: creates the Manager record over the unix socket when the
 * TCP connection to ovsdb-server does not come up.  See manager-boot.h.
 */
#include <config.h>
#include "ovs/manager-boot.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "dirs.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "timeval.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(manager_boot);

/* How long the TCP connection may stay down before we step in, and how
 * often to look again after that. */
#define GRACE_MS 1000
#define RETRY_MS 5000

struct manager_boot {
    char *target;               /* "ptcp:6640:127.0.0.1" */
    int64_t probe_ms;
    char *unix_remote;          /* "unix:<rundir>/db.sock" */
    struct ovsdb_idl *idl;      /* Non-NULL while a bootstrap is running. */
    struct ovsdb_idl_txn *txn;
    long long int next_try;
    long long int deadline;     /* Give up this attempt after it. */
    bool warned;
};

struct manager_boot *
manager_boot_create(const struct agent_config *cfg)
{
    const char *conn = cfg->ovsdb_connection;
    if (strncmp(conn, "tcp:", 4)) {
        return NULL;
    }
    const char *hostport = conn + 4;
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport) {
        return NULL;
    }

    struct manager_boot *mb = xzalloc(sizeof *mb);
    mb->target = xasprintf("ptcp:%s:%.*s", colon + 1,
                           (int) (colon - hostport), hostport);
    mb->probe_ms = (int64_t) cfg->of_inactivity_probe * 1000;
    mb->unix_remote = xasprintf("unix:%s/db.sock", ovs_rundir());
    mb->next_try = time_msec() + GRACE_MS;
    return mb;
}

static void
manager_boot_stop(struct manager_boot *mb)
{
    if (mb->txn) {
        ovsdb_idl_txn_destroy(mb->txn);
        mb->txn = NULL;
    }
    ovsdb_idl_destroy(mb->idl);
    mb->idl = NULL;
    mb->next_try = time_msec() + RETRY_MS;
}

void
manager_boot_destroy(struct manager_boot *mb)
{
    if (mb) {
        manager_boot_stop(mb);
        free(mb->target);
        free(mb->unix_remote);
        free(mb);
    }
}

static void
manager_boot_start(struct manager_boot *mb)
{
    const char *path = mb->unix_remote + 5;
    if (access(path, R_OK | W_OK)) {
        if (errno == ENOENT) {
            /* No socket at all: ovsdb-server is not running (stopped, or
             * restarting).  Nothing for the operator to fix here. */
            static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 1);
            VLOG_WARN_RL(&rl, "ovsdb-server answers neither over TCP nor "
                         "on %s: not running?  Waiting for it", path);
        } else if (!mb->warned) {
            VLOG_ERR("cannot reach ovsdb-server over TCP, and cannot open %s "
                     "(%s) to create the Manager record that makes it "
                     "listen there; run \"ovs-vsctl set-manager %s\" or let "
                     "the agent run as root once", path, ovs_strerror(errno),
                     mb->target);
            mb->warned = true;
        }
        mb->next_try = time_msec() + RETRY_MS;
        return;
    }
    VLOG_INFO("TCP connection to ovsdb-server not up; ensuring Manager %s "
              "through %s", mb->target, mb->unix_remote);
    mb->idl = ovsdb_idl_create(mb->unix_remote, &ovsrec_idl_class, false,
                               false);
    ovsdb_idl_add_column(mb->idl, &ovsrec_open_vswitch_col_manager_options);
    ovsdb_idl_add_column(mb->idl, &ovsrec_manager_col_target);
    ovsdb_idl_add_column(mb->idl, &ovsrec_manager_col_inactivity_probe);
    mb->deadline = time_msec() + RETRY_MS;
}

/* With the database read: adds the Manager unless one has our target. */
static void
manager_boot_write(struct manager_boot *mb)
{
    const struct ovsrec_manager *m;
    OVSREC_MANAGER_FOR_EACH (m, mb->idl) {
        if (!strcmp(m->target, mb->target)) {
            VLOG_DBG("Manager %s exists", mb->target);
            manager_boot_stop(mb);
            return;
        }
    }
    const struct ovsrec_open_vswitch *ovs
        = ovsrec_open_vswitch_first(mb->idl);
    if (!ovs) {
        manager_boot_stop(mb);
        return;
    }
    mb->txn = ovsdb_idl_txn_create(mb->idl);
    ovsdb_idl_txn_add_comment(mb->txn, "ovsagent: add Manager %s",
                              mb->target);
    struct ovsrec_manager *new = ovsrec_manager_insert(mb->txn);
    ovsrec_manager_set_target(new, mb->target);
    ovsrec_manager_set_inactivity_probe(new, &mb->probe_ms, 1);
    ovsrec_open_vswitch_update_manager_options_addvalue(ovs, new);
    /* Send it now: the IDL must not run with a transaction being built.
     * Later calls to ovsdb_idl_txn_commit() only report its status. */
    ovsdb_idl_txn_commit(mb->txn);
}

void
manager_boot_run(struct manager_boot *mb, bool tcp_up)
{
    if (!mb) {
        return;
    }
    if (tcp_up) {
        if (mb->idl) {
            manager_boot_stop(mb);
        }
        mb->next_try = time_msec() + GRACE_MS;
        return;
    }
    if (!mb->idl) {
        if (time_msec() >= mb->next_try) {
            manager_boot_start(mb);
        }
        return;
    }

    ovsdb_idl_run(mb->idl);
    if (mb->txn) {
        enum ovsdb_idl_txn_status status = ovsdb_idl_txn_commit(mb->txn);
        if (status == TXN_INCOMPLETE) {
            return;
        }
        if (status == TXN_SUCCESS || status == TXN_UNCHANGED) {
            VLOG_INFO("added Manager %s", mb->target);
        } else {
            VLOG_WARN("adding Manager %s failed (%s)", mb->target,
                      ovsdb_idl_txn_status_to_string(status));
        }
        manager_boot_stop(mb);
    } else if (ovsdb_idl_has_ever_connected(mb->idl)) {
        manager_boot_write(mb);
    } else if (time_msec() >= mb->deadline
               || !ovsdb_idl_is_alive(mb->idl)) {
        VLOG_INFO("%s: no answer; will try again", mb->unix_remote);
        manager_boot_stop(mb);
    }
}

void
manager_boot_wait(struct manager_boot *mb)
{
    if (!mb) {
        return;
    }
    if (mb->idl) {
        ovsdb_idl_wait(mb->idl);
        if (mb->txn) {
            ovsdb_idl_txn_wait(mb->txn);
        }
        poll_timer_wait_until(mb->deadline);
    } else {
        poll_timer_wait_until(mb->next_try);
    }
}
