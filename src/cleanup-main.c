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
#include "fatal-signal.h"
#include "log-setup.h"
#include "openvswitch/vlog.h"
#include "ovs/ovs-cleanup.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(cleanup_main);

int
main(int argc, char *argv[])
{
    set_program_name(argv[0]);
    fatal_ignore_sigpipe();     /* A peer that goes away is an EPIPE. */

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
    if (log_setup_configure(cfg)) {
        status = ovs_cleanup_run(cfg) ? EXIT_FAILURE : EXIT_SUCCESS;
    }
    agent_config_destroy(cfg);
    return status;
}
