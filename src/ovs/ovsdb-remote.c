/*
 * ovsdb-remote: the IDL connection to the Open_vSwitch database, and the
 * SSL set-up it may need.  See ovsdb-remote.h.
 */
#include <config.h>
#include "ovs/ovsdb-remote.h"

#include <string.h>

#include "agent-config.h"
#include "openvswitch/vlog.h"
#include "ovsdb-idl.h"
#include "stream-ssl.h"
#include "util.h"
#include "vswitch-idl.h"

VLOG_DEFINE_THIS_MODULE(ovsdb_remote);

bool
ovsdb_remote_is_ssl(const char *remote)
{
    /* ovsdb_idl_create() accepts a comma-separated list of remotes, each
     * possibly preceded by blanks. */
    const char *p = remote;
    while (p && *p) {
        p += strspn(p, " \t");
        if (!strncmp(p, "ssl:", 4)) {
            return true;
        }
        p = strchr(p, ',');
        if (p) {
            p++;
        }
    }
    return false;
}

void
ovsdb_remote_configure_ssl(const struct agent_config *cfg)
{
    const char *remote = cfg->ovsdb_connection;
    if (!remote || !ovsdb_remote_is_ssl(remote)) {
        return;
    }

    const struct {
        const char *name;
        const char *value;
    } options[] = {
        { "ssl_key_file", cfg->ssl_key_file },
        { "ssl_cert_file", cfg->ssl_cert_file },
        { "ssl_ca_cert_file", cfg->ssl_ca_cert_file },
    };
    for (size_t i = 0; i < ARRAY_SIZE(options); i++) {
        if (!options[i].value) {
            VLOG_WARN("%s: [ovs] %s is not set", remote, options[i].name);
        }
    }

    if (cfg->ssl_key_file && cfg->ssl_cert_file) {
        /* Both at once, so that a changed pair is never checked half
         * updated. */
        stream_ssl_set_key_and_cert(cfg->ssl_key_file, cfg->ssl_cert_file);
    } else if (cfg->ssl_key_file) {
        stream_ssl_set_private_key_file(cfg->ssl_key_file);
    } else if (cfg->ssl_cert_file) {
        stream_ssl_set_certificate_file(cfg->ssl_cert_file);
    }
    if (cfg->ssl_ca_cert_file) {
        stream_ssl_set_ca_cert_file(cfg->ssl_ca_cert_file, false);
    }
}

struct ovsdb_idl *
ovsdb_remote_open_vswitch(const struct agent_config *cfg,
                          bool monitor_everything)
{
    ovsdb_remote_configure_ssl(cfg);
    VLOG_DBG("connecting to the Open_vSwitch database at %s",
             cfg->ovsdb_connection);
    return ovsdb_idl_create(cfg->ovsdb_connection, &ovsrec_idl_class,
                            monitor_everything, true);
}
