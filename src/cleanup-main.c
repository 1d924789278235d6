/*
 * ovsagent-cleanup: the equivalent of neutron-ovs-cleanup.
 *
 * A thin main: read the same configuration files as the agent (plus
 * --ovs_all_ports), set up logging, run the cleanup once, and exit 0 on
 * success, 1 otherwise.
 */
#include <config.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent-config.h"
#include "openvswitch/vlog.h"
#include "ovs/ovs-cleanup.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cleanup_main);

/* Applies the logging options of 'cfg': stderr by default, [DEFAULT]
 * log_file (relative to log_dir) if set, with only warnings and errors
 * still going to stderr, syslog if use_syslog.  Returns false, after
 * printing why, if the log file cannot be opened. */
static bool
configure_logging(const struct agent_config *cfg)
{
    enum vlog_level level = cfg->debug ? VLL_DBG : VLL_INFO;

    if (cfg->log_file) {
        char *path = (cfg->log_dir && cfg->log_file[0] != '/'
                      ? xasprintf("%s/%s", cfg->log_dir, cfg->log_file)
                      : xstrdup(cfg->log_file));
        /* Quiet stderr first: opening the file logs at INFO. */
        vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
        vlog_set_levels(NULL, VLF_FILE, level);
        int error = vlog_set_log_file(path);
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
        /* oslo's "LOG_LOCAL0" is vlog's "local0". */
        const char *name = cfg->syslog_log_facility;
        if (!strncasecmp(name, "LOG_", 4)) {
            name += 4;
        }
        char *setting = xasprintf("FACILITY:%s", name);
        for (char *p = setting; *p; p++) {
            *p = tolower((unsigned char) *p);
        }
        char *error = vlog_set_levels_from_string(setting);
        if (error) {
            VLOG_WARN("syslog_log_facility %s: %s", cfg->syslog_log_facility,
                      error);
            free(error);
        }
        free(setting);
        vlog_set_levels(NULL, VLF_SYSLOG, level);
    } else {
        vlog_set_levels(NULL, VLF_SYSLOG, VLL_OFF);
    }
    return true;
}

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);

    struct agent_config *cfg;
    bool exit_now = false;
    char *error = agent_config_from_argv(CONFIG_PROG_CLEANUP, argc, argv,
                                         true, &cfg, &exit_now);
    if (error) {
        fprintf(stderr, "%s: %s\n", program_name, error);
        free(error);
        return EXIT_FAILURE;
    }
    if (exit_now) {
        return EXIT_SUCCESS;
    }

    int status = EXIT_FAILURE;
    if (configure_logging(cfg)) {
        status = ovs_cleanup_run(cfg) ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    agent_config_destroy(cfg);
    return status;
}
