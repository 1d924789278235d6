/*
 * log-setup: oslo.log options -> vlog.  See log-setup.h.
 */
#include <config.h>
#include "log-setup.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent-config.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(log_setup);

/* oslo's "LOG_LOCAL0" is vlog's "local0". */
static void
set_syslog_facility(const char *oslo_facility)
{
    const char *name = oslo_facility;
    if (!strncasecmp(name, "LOG_", 4)) {
        name += 4;
    }
    char *facility = xstrdup(name);
    for (char *p = facility; *p; p++) {
        *p = tolower((unsigned char) *p);
    }
    char *setting = xasprintf("FACILITY:%s", facility);
    char *error = vlog_set_levels_from_string(setting);
    if (error) {
        VLOG_WARN("syslog_log_facility %s: %s", oslo_facility, error);
        free(error);
    }
    free(setting);
    free(facility);
}

bool
log_setup_configure(const struct agent_config *cfg)
{
    enum vlog_level level = cfg->debug ? VLL_DBG : VLL_INFO;

    if (cfg->log_file) {
        char *path = (cfg->log_dir && cfg->log_file[0] != '/'
                      ? xasprintf("%s/%s", cfg->log_dir, cfg->log_file)
                      : xstrdup(cfg->log_file));
        /* Quiet stderr first: opening the file logs at INFO. */
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
        vlog_set_levels(NULL, VLF_FILE, level);
        char *current = vlog_get_log_file();
        int error = (current && !strcmp(current, path)
                     ? 0 : vlog_set_log_file(path));
        free(current);
        if (error) {
            fprintf(stderr, "%s: cannot open log file %s (%s)\n",
                    program_name, path, ovs_strerror(error));
            free(path);
            return false;
        }
        free(path);
    } else {
        vlog_set_levels(NULL, VLF_CONSOLE, level);
    }

    if (cfg->use_syslog) {
        set_syslog_facility(cfg->syslog_log_facility);
        vlog_set_levels(NULL, VLF_SYSLOG, level);
    } else {
        vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    }

    /* Modules of the OVS library that log at debug level every message they
     * carry, as it is: jsonrpc's JSON keeps DEL and any UTF-8 byte raw, and
     * unixctl logs each reply whole, newlines and the ids of ovsagent/show
     * included.  That traffic stays out of a debug log unless an operator
     * asks for it with vlog/set, knowing that. */
    static const char *const raw_modules[] = { "jsonrpc", "unixctl",
                                               "vconn" };
    for (size_t i = 0; i < ARRAY_SIZE(raw_modules); i++) {
        struct vlog_module *module = vlog_module_from_name(raw_modules[i]);
        if (module && level == VLL_DBG) {
            vlog_set_levels(module, VLF_ANY_DESTINATION, VLL_INFO);
        }
    }
    return true;
}
