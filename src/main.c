/*
 * ovsagent: the Neutron Open vSwitch L2 agent.
 *
 * A thin main: read the configuration, set up logging, signals and the
 * control socket, then run the agent's modules until told to stop.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
#include "log-setup.h"
#include "oslo/amqp-conn.h"
#include "agent/agent.h"
#include "command-line.h"
#include "fatal-signal.h"
#include "memory.h"
#include "memory-trim.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "signals.h"
#include "simap.h"
#include "socket-util.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(main);

/* Where the control socket goes by default: Debian's unit gives the agent
 * (user neutron) this runtime directory. */
#define DEFAULT_UNIXCTL_DIR "/run/neutron"

/* Signals are turned into bytes on a pipe that the poll loop watches, so
 * that the handlers do nothing but write(). */
/* For memory/show, and for the line lib/memory.c logs when the resident
 * set has grown: what each module holds, and the heap the allocator has
 * handed out and holds free (the resident set counts both). */
static void
report_memory(const struct agent *agent)
{
    struct simap usage = SIMAP_INITIALIZER(&usage);
    agent_get_memory_usage(agent, &usage);
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    simap_put(&usage, "heap-in-use-kB", (mi.uordblks + mi.hblkhd) / 1024);
    simap_put(&usage, "heap-free-kB", mi.fordblks / 1024);
#endif
    memory_report(&usage);
    simap_destroy(&usage);
}

static int signal_pipe[2] = { -1, -1 };
static volatile sig_atomic_t got_sighup;
static volatile sig_atomic_t got_sigterm;

static void
signal_handler(int signo)
{
    int saved_errno = errno;
    if (signo == SIGHUP) {
        got_sighup = 1;
    } else {
        got_sigterm = 1;
    }
    ssize_t n OVS_UNUSED = write(signal_pipe[1], "", 1);
    errno = saved_errno;
}

static void
install_signal_handlers(void)
{
    /* The library treats SIGHUP, SIGTERM and SIGINT as fatal.  Let it set up
     * its own handling first (it only does so once), then take these three
     * over: SIGHUP reloads, SIGTERM and SIGINT stop the loop cleanly. */
    fatal_signal_init();
    fatal_ignore_sigpipe();     /* A peer that goes away is an EPIPE. */
    xpipe_nonblocking(signal_pipe);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signal_handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    static const int signals[] = { SIGHUP, SIGTERM, SIGINT };
    for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
        xsigaction(signals[i], &sa, NULL);
    }
}

static void
drain_signal_pipe(void)
{
    char buf[64];
    while (read(signal_pipe[0], buf, sizeof buf) > 0) {
        continue;
    }
}

/* The control socket path: --unixctl, or the default directory. */
static char *
unixctl_path(const struct agent_config *cfg)
{
    if (cfg->unixctl_path) {
        return xstrdup(cfg->unixctl_path);
    }
    return xasprintf("%s/ovsagent.ctl", DEFAULT_UNIXCTL_DIR);
}

struct main_ctx {
    int argc;
    char **argv;
    struct agent_config *cfg;
    struct agent *agent;
    bool exiting;
};

static void
show_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *ctx_)
{
    struct main_ctx *ctx = ctx_;
    struct ds s = DS_EMPTY_INITIALIZER;
    agent_format(ctx->agent, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
dump_desired_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
                 const char *argv[], void *ctx_)
{
    struct main_ctx *ctx = ctx_;
    struct ds s = DS_EMPTY_INITIALIZER;
    if (agent_format_desired_flows(ctx->agent, argv[1], &s)) {
        unixctl_command_reply(conn, ds_cstr(&s));
    } else {
        unixctl_command_reply_error(conn, "no such bridge");
    }
    ds_destroy(&s);
}

static void
in_sync_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
            const char *argv[] OVS_UNUSED, void *ctx_)
{
    struct main_ctx *ctx = ctx_;
    unixctl_command_reply(conn, agent_flows_in_sync(ctx->agent)
                                ? "yes" : "no");
}

static void
exit_cmd(struct unixctl_conn *conn, int argc OVS_UNUSED,
         const char *argv[] OVS_UNUSED, void *ctx_)
{
    struct main_ctx *ctx = ctx_;
    ctx->exiting = true;
    unixctl_command_reply(conn, NULL);
}

/* SIGHUP: reopen the log file and re-read the configuration.  As with the
 * reference (oslo.service), only the options that can change at run time
 * take effect: the logging ones.  Others are reported and wait for a
 * restart. */
static void
reload(struct main_ctx *ctx)
{
    VLOG_INFO("SIGHUP: reloading configuration and reopening the log");
    vlog_reopen_log_file();

    struct agent_config *new;
    bool exit_now;
    char *error = agent_config_from_argv(CONFIG_PROG_AGENT, ctx->argc,
                                         ctx->argv, false, &new, &exit_now);
    if (error) {
        VLOG_ERR("configuration reload failed, keeping the old one: %s",
                 error);
        free(error);
        return;
    }
    if (!log_setup_configure(new)) {
        VLOG_ERR("configuration reload: cannot open the new log file");
    }
    ctx->cfg->debug = new->debug;
    VLOG_INFO("configuration reloaded (debug=%s); other changes take effect "
              "at the next restart", new->debug ? "true" : "false");
    agent_config_destroy(new);
}

int
main(int argc, char *argv[])
{
#ifdef __GLIBC__
    /* One heap for every thread: the broker's set-up threads allocate
     * little, and an arena of their own would stay resident after them. */
    mallopt(M_ARENA_MAX, 1);
#endif
    set_program_name(argv[0]);

    struct main_ctx ctx = { .argc = argc, .argv = argv };
    bool exit_now = false;
    char *error = agent_config_from_argv(CONFIG_PROG_AGENT, argc, argv, true,
                                         &ctx.cfg, &exit_now);
    if (error) {
        fprintf(stderr, "ovsagent: %s\n", error);
        free(error);
        return 1;
    }
    if (exit_now) {
        return 0;
    }
    if (ctx.cfg->transport_url) {
        struct amqp_url url;
        error = amqp_url_parse(ctx.cfg->transport_url, &url);
        if (error) {
            fprintf(stderr, "ovsagent: [DEFAULT] transport_url: %s\n", error);
            free(error);
            return 1;
        }
        amqp_url_destroy(&url);
    }
    if (!log_setup_configure(ctx.cfg)) {
        return 1;
    }

    install_signal_handlers();

    char *ctl = unixctl_path(ctx.cfg);
    struct unixctl_server *server;
    int retval = unixctl_server_create(ctl, &server);
    if (retval) {
        VLOG_ERR("cannot create control socket %s (%s)", ctl,
                 ovs_strerror(retval));
        fprintf(stderr, "ovsagent: cannot create control socket %s (%s)\n",
                ctl, ovs_strerror(retval));
        return 1;
    }
    unixctl_command_register("ovsagent/show", "", 0, 0, show_cmd, &ctx);
    unixctl_command_register("ovsagent/dump-desired-flows", "BRIDGE", 1, 1,
                             dump_desired_cmd, &ctx);
    unixctl_command_register("ovsagent/flows-in-sync", "", 0, 0, in_sync_cmd,
                             &ctx);
    unixctl_command_register("exit", "", 0, 0, exit_cmd, &ctx);

    VLOG_INFO("ovsagent %s starting: host %s, integration bridge %s, "
              "firewall %s, control socket %s", OVSAGENT_VERSION,
              ctx.cfg->host, ctx.cfg->integration_bridge,
              fw_driver_name(ctx.cfg->firewall_driver), ctl);
    free(ctl);

    ctx.agent = agent_create(ctx.cfg);
    /* As ovn-controller's default: half a minute of quiet. */
    struct memory_trim *trim = memory_trim_create(30 * 1000);
    int status = 0;
    while (!ctx.exiting) {
        if (got_sighup) {
            got_sighup = 0;
            reload(&ctx);
        }
        if (got_sigterm) {
            VLOG_INFO("terminating on signal");
            break;
        }

        unixctl_server_run(server);
        memory_run();
        agent_run(ctx.agent);
        if (memory_should_report()) {
            report_memory(ctx.agent);
        }
        memory_trim_run(trim, agent_activity(ctx.agent));
        if (agent_fatal_error(ctx.agent)) {
            VLOG_ERR("%s", agent_fatal_error(ctx.agent));
            status = 1;
            break;
        }

        unixctl_server_wait(server);
        memory_wait();
        memory_trim_wait(trim);
        agent_wait(ctx.agent);
        poll_fd_wait(signal_pipe[0], POLLIN);
        poll_block();
        drain_signal_pipe();
    }

    memory_trim_destroy(trim);
    agent_destroy(ctx.agent);
    unixctl_server_destroy(server);
    agent_config_destroy(ctx.cfg);
    VLOG_INFO("ovsagent stopped");
    return status;
}
