/*
 * Fuzz target: the configuration, command line and files together
 * (agent_config_parse() in src/agent-config.h, on the INI reader of
 * src/ini.h), including oslo.config's "$name" substitution.
 *
 * The input is text.  Without a line "----" it is one config file, given
 * with --config-file.  Otherwise the part before the first "----" line is
 * the command line (arguments separated by white space, after the program
 * name) and each part after it is one more config file, appended to the
 * command line as --config-file in order.  Arguments that could name a
 * file elsewhere on this machine (containing '/' or starting with '~') are
 * left out: the target reads only what the input holds.
 *
 * After a successful parse the transport_url is checked as main() checks
 * it.
 *
 * Seeds: small hand-written files in the style of Debian's neutron.conf
 * and openvswitch_agent.ini.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "fuzz-common.h"
#include "oslo/amqp-conn.h"
#include "svec.h"
#include "util.h"

/* Parts of an input: the command line and up to this many files. */
#define MAX_FILES 4

/* Arguments taken from the command-line part at most. */
#define MAX_ARGS 64

static void
use_config(const struct agent_config *cfg)
{
    if (cfg->transport_url) {
        struct amqp_url u;
        char *error = amqp_url_parse(cfg->transport_url, &u);
        if (error) {
            free(error);
        } else {
            amqp_url_destroy(&u);
        }
    }
    for (size_t i = 0; i < cfg->n_bridge_mappings; i++) {
        if (!agent_config_find_bridge(cfg, cfg->bridge_mappings[i].bridge)) {
            abort();
        }
    }
    if (!fw_driver_name(cfg->firewall_driver)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    /* --help and --version print there. */
    static FILE *null_out;
    if (!null_out) {
        null_out = fopen("/dev/null", "w");
    }

    char *parts[MAX_FILES + 1];
    size_t n_parts = fuzz_split(data, size, "----", parts, MAX_FILES + 1);

    struct svec args = SVEC_EMPTY_INITIALIZER;
    svec_add(&args, "ovsagent");
    size_t first_file = 0;
    if (n_parts > 1) {
        first_file = 1;
        char *save = NULL;
        for (char *arg = strtok_r(parts[0], " \t\n", &save);
             arg && args.n < MAX_ARGS; arg = strtok_r(NULL, " \t\n", &save)) {
            if (!strchr(arg, '/') && arg[0] != '~') {
                svec_add(&args, arg);
            }
        }
    }
    char *files[MAX_FILES + 1];
    size_t n_files = 0;
    for (size_t i = first_file; i < n_parts; i++) {
        files[n_files] = fuzz_tmpfile(parts[i], strlen(parts[i]));
        svec_add_nocopy(&args, xasprintf("--config-file=%s",
                                         files[n_files]));
        n_files++;
    }
    svec_terminate(&args);

    struct agent_config_env env;
    agent_config_env_init(&env);
    env.check_host = false;
    env.use_env = false;
    env.search_defaults = false;
    env.out = null_out;

    /* "--ovs_all_ports" exists only for the cleanup program. */
    enum config_program prog
        = (svec_contains_unsorted(&args, "--ovs_all_ports")
           ? CONFIG_PROG_CLEANUP : CONFIG_PROG_AGENT);
    struct agent_config *cfg;
    bool exit_now = false;
    char *error = agent_config_parse(prog, args.n, args.names, &env, &cfg,
                                     &exit_now);
    if (error) {
        if (cfg) {
            abort();
        }
        free(error);
    } else if (cfg) {
        use_config(cfg);
        agent_config_destroy(cfg);
    } else if (!exit_now) {
        abort();                /* Neither a config nor an error. */
    }

    for (size_t i = 0; i < n_files; i++) {
        fuzz_tmpfile_remove(files[i]);
    }
    for (size_t i = 0; i < n_parts; i++) {
        free(parts[i]);
    }
    svec_destroy(&args);

    fuzz_check_log();
    return 0;
}
