/*
 * rpc-probe: a small client of src/oslo/rpc.h for the system tests, so
 * that the oslo.messaging layer is exercised against a real RabbitMQ and
 * real oslo.messaging peers without the rest of the agent.
 *
 *   rpc-probe [OPTIONS] call TOPIC METHOD ARGS [VERSION [NAMESPACE]]
 *       Calls METHOD with the JSON object ARGS and prints one JSON line,
 *       {"result": ...} or {"error": "..."}; exits 0 on a result, 2 on an
 *       error (a remote failure, a timeout, no broker).
 *   rpc-probe [OPTIONS] cast TOPIC METHOD ARGS [VERSION]
 *   rpc-probe [OPTIONS] fanout TOPIC METHOD ARGS [VERSION]
 *       Casts (to the topic, or to every consumer of it) once connected.
 *   rpc-probe [OPTIONS] listen TOPIC...
 *       Consumes the topics as the agent does and prints each request as
 *       a JSON line {"topic": ..., "method": ..., "args": ...}.  Runs until
 *       SIGTERM/SIGINT or "exit", then exits cleanly (deleting its fanout
 *       queues).  With --unixctl it also answers:
 *         probe/call TOPIC METHOD ARGS [TIMEOUT [VERSION [NAMESPACE]]]
 *         probe/cast TOPIC METHOD ARGS    probe/fanout TOPIC METHOD ARGS
 *         probe/status                    exit
 *
 * Options:
 *   --config-file FILE   read neutron.conf-style options (repeatable)
 *   --transport-url URL  [DEFAULT] transport_url
 *   --host HOST          [DEFAULT] host (default "probe")
 *   --timeout S          call timeout, and how long to wait for the broker
 *                        in call/cast/fanout (default 10)
 *   --keep-order         try the brokers in transport_url order
 *   --unixctl PATH       control socket (listen only)
 *   --log-file PATH      log there, at debug level
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "fatal-signal.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "oslo/rpc.h"
#include "signals.h"
#include "socket-util.h"
#include "timeval.h"
#include "unixctl.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(rpc_probe);

static int signal_pipe[2] = { -1, -1 };
static bool exiting;

static void
signal_handler(int signo OVS_UNUSED)
{
    ssize_t n OVS_UNUSED = write(signal_pipe[1], "", 1);
}

static void
install_signal_handlers(void)
{
    /* OVS treats these as fatal once anything registers a file to unlink;
     * take them over so that SIGTERM is a clean exit. */
    fatal_signal_init();
    fatal_ignore_sigpipe();
    xpipe_nonblocking(signal_pipe);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = signal_handler;
    sigemptyset(&sa.sa_mask);
    xsigaction(SIGTERM, &sa, NULL);
    xsigaction(SIGINT, &sa, NULL);
}

static bool
signalled(void)
{
    char buf[16];
    bool got = false;
    while (read(signal_pipe[0], buf, sizeof buf) > 0) {
        got = true;
    }
    return got;
}

/* Parses 'text' as the JSON object of a request's arguments; exits on
 * anything else. */
static struct json *
parse_args(const char *text)
{
    struct json *j = json_from_string(text);
    if (j->type != JSON_OBJECT) {
        ovs_fatal(0, "arguments must be a JSON object: %s",
                  j->type == JSON_STRING ? json_string(j) : text);
    }
    return j;
}

static char *
reply_line(const struct json *result, const char *error)
{
    struct json *j = json_object_create();
    if (error) {
        json_object_put_string(j, "error", error);
    } else {
        json_object_put(j, "result", json_clone(result));
    }
    char *s = json_to_string(j, JSSF_SORT);
    json_destroy(j);
    return s;
}

/* One-shot commands. */

struct oneshot {
    bool done;
    int status;
};

static void
oneshot_reply(void *os_, const struct json *result, const char *error)
{
    struct oneshot *os = os_;
    char *line = reply_line(result, error);
    printf("%s\n", line);
    fflush(stdout);
    free(line);
    os->done = true;
    os->status = error ? 2 : 0;
}

static int
run_oneshot(struct rpc *rpc, int timeout, int argc, char *argv[])
{
    const char *cmd = argv[0];
    if (argc < 4) {
        ovs_fatal(0, "%s: TOPIC METHOD ARGS needed", cmd);
    }
    long long int deadline = time_msec() + timeout * 1000LL;
    while (time_msec() < deadline && !signalled()) {
        rpc_run(rpc);
        if (rpc_is_ready(rpc)) {
            break;
        }
        rpc_wait(rpc);
        poll_timer_wait_until(deadline);
        poll_fd_wait(signal_pipe[0], POLLIN);
        poll_block();
    }
    if (!rpc_is_ready(rpc)) {
        printf("{\"error\":\"not connected to the message broker\"}\n");
        return 2;
    }

    const char *version = argc > 4 ? argv[4] : NULL;
    struct json *args = parse_args(argv[3]);
    if (!strcmp(cmd, "call")) {
        struct oneshot os = { false, 0 };
        rpc_call(rpc, argv[1], argv[2], args, version,
                 argc > 5 ? argv[5] : NULL, timeout, oneshot_reply, &os);
        while (!os.done && !signalled()) {
            rpc_run(rpc);
            if (os.done) {
                break;
            }
            rpc_wait(rpc);
            poll_fd_wait(signal_pipe[0], POLLIN);
            poll_block();
        }
        return os.done ? os.status : 2;
    } else if (!strcmp(cmd, "cast")) {
        rpc_cast(rpc, argv[1], argv[2], args, version, NULL);
    } else if (!strcmp(cmd, "fanout")) {
        rpc_fanout_cast(rpc, argv[1], argv[2], args, version, NULL);
    } else {
        ovs_fatal(0, "unknown command %s", cmd);
    }
    /* A cast is on the wire once published; one more turn notices a
     * connection that failed meanwhile. */
    rpc_run(rpc);
    return rpc_is_ready(rpc) ? 0 : 2;
}

/* listen. */

struct listen_ctx {
    struct rpc *rpc;
    int timeout;
    unsigned long long int n_requests;
};

static void
print_request(void *ctx_, const char *topic, const char *method,
              const struct json *args)
{
    struct listen_ctx *ctx = ctx_;
    struct json *j = json_object_create();
    json_object_put_string(j, "topic", topic);
    json_object_put_string(j, "method", method);
    json_object_put(j, "args", json_clone(args));
    char *s = json_to_string(j, JSSF_SORT);
    printf("%s\n", s);
    fflush(stdout);
    free(s);
    json_destroy(j);
    ctx->n_requests++;
}

static void
unixctl_reply_cb(void *conn_, const struct json *result, const char *error)
{
    struct unixctl_conn *conn = conn_;
    char *line = reply_line(result, error);
    unixctl_command_reply(conn, line);
    free(line);
}

static void
probe_call(struct unixctl_conn *conn, int argc, const char *argv[],
           void *ctx_)
{
    struct listen_ctx *ctx = ctx_;
    struct json *args = json_from_string(argv[3]);
    if (args->type != JSON_OBJECT) {
        json_destroy(args);
        unixctl_command_reply_error(conn, "ARGS must be a JSON object");
        return;
    }
    int timeout = argc > 4 ? atoi(argv[4]) : ctx->timeout;
    /* The reply goes out from the callback, which always runs once. */
    rpc_call(ctx->rpc, argv[1], argv[2], args, argc > 5 ? argv[5] : NULL,
             argc > 6 ? argv[6] : NULL, timeout, unixctl_reply_cb, conn);
}

static void
probe_cast(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[], void *ctx_)
{
    bool fanout = !strcmp(argv[0], "probe/fanout");
    struct listen_ctx *ctx = ctx_;
    struct json *args = json_from_string(argv[3]);
    if (args->type != JSON_OBJECT) {
        json_destroy(args);
        unixctl_command_reply_error(conn, "ARGS must be a JSON object");
        return;
    }
    if (!rpc_is_ready(ctx->rpc)) {
        json_destroy(args);
        unixctl_command_reply_error(conn, "not connected");
        return;
    }
    if (fanout) {
        rpc_fanout_cast(ctx->rpc, argv[1], argv[2], args, NULL, NULL);
    } else {
        rpc_cast(ctx->rpc, argv[1], argv[2], args, NULL, NULL);
    }
    unixctl_command_reply(conn, rpc_is_ready(ctx->rpc) ? "sent" : "lost");
}

static void
probe_status(struct unixctl_conn *conn, int argc OVS_UNUSED,
             const char *argv[] OVS_UNUSED, void *ctx_)
{
    struct listen_ctx *ctx = ctx_;
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "ready=%s reconnect_seqno=%u requests=%llu "
                  "reply_queue=%s\n", rpc_is_ready(ctx->rpc) ? "yes" : "no",
                  rpc_reconnect_seqno(ctx->rpc), ctx->n_requests,
                  rpc_reply_queue(ctx->rpc));
    rpc_format(ctx->rpc, &s);
    unixctl_command_reply(conn, ds_cstr(&s));
    ds_destroy(&s);
}

static void
probe_exit(struct unixctl_conn *conn, int argc OVS_UNUSED,
           const char *argv[] OVS_UNUSED, void *aux OVS_UNUSED)
{
    exiting = true;
    unixctl_command_reply(conn, NULL);
}

static int
run_listen(struct rpc *rpc, int timeout, const char *unixctl_path,
           int argc, char *argv[])
{
    struct listen_ctx ctx = { .rpc = rpc, .timeout = timeout };
    if (argc < 2) {
        ovs_fatal(0, "listen: at least one TOPIC needed");
    }
    for (int i = 1; i < argc; i++) {
        rpc_listen(rpc, argv[i], print_request, &ctx);
    }

    struct unixctl_server *server = NULL;
    if (unixctl_path) {
        int error = unixctl_server_create(unixctl_path, &server);
        if (error) {
            ovs_fatal(error, "cannot create %s", unixctl_path);
        }
        unixctl_command_register("probe/call",
                                 "TOPIC METHOD ARGS [TIMEOUT [VERSION "
                                 "[NAMESPACE]]]", 3, 6, probe_call, &ctx);
        unixctl_command_register("probe/cast", "TOPIC METHOD ARGS", 3, 3,
                                 probe_cast, &ctx);
        unixctl_command_register("probe/fanout", "TOPIC METHOD ARGS", 3, 3,
                                 probe_cast, &ctx);
        unixctl_command_register("probe/status", "", 0, 0, probe_status,
                                 &ctx);
        unixctl_command_register("exit", "", 0, 0, probe_exit, NULL);
    }

    while (!exiting) {
        if (signalled()) {
            break;
        }
        rpc_run(rpc);
        if (server) {
            unixctl_server_run(server);
        }
        rpc_wait(rpc);
        if (server) {
            unixctl_server_wait(server);
        }
        poll_fd_wait(signal_pipe[0], POLLIN);
        poll_block();
    }
    VLOG_INFO("exiting after %llu requests", ctx.n_requests);
    /* Calls still waiting answer "shutting down" through unixctl. */
    rpc_destroy(rpc);
    unixctl_server_destroy(server);
    return 0;
}

static void
usage(void)
{
    printf("usage: rpc-probe [--config-file FILE] [--transport-url URL] "
           "[--host HOST]\n"
           "                 [--timeout S] [--keep-order] [--unixctl PATH] "
           "[--log-file PATH]\n"
           "                 call|cast|fanout TOPIC METHOD ARGS [VERSION "
           "[NAMESPACE]]\n"
           "                 | listen TOPIC...\n");
    exit(EXIT_SUCCESS);
}

int
main(int argc, char *argv[])
{
    enum { OPT_CONFIG = UCHAR_MAX + 1, OPT_URL, OPT_HOST, OPT_TIMEOUT,
           OPT_KEEP_ORDER, OPT_UNIXCTL, OPT_LOG_FILE };
    static const struct option long_options[] = {
        { "config-file", required_argument, NULL, OPT_CONFIG },
        { "transport-url", required_argument, NULL, OPT_URL },
        { "host", required_argument, NULL, OPT_HOST },
        { "timeout", required_argument, NULL, OPT_TIMEOUT },
        { "keep-order", no_argument, NULL, OPT_KEEP_ORDER },
        { "unixctl", required_argument, NULL, OPT_UNIXCTL },
        { "log-file", required_argument, NULL, OPT_LOG_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char **files = NULL;
    size_t n_files = 0;
    const char *url = NULL, *host = "probe", *unixctl_path = NULL;
    const char *log_file = NULL;
    struct rpc_settings settings = { .keep_host_order = false };
    int timeout = 10;

    set_program_name(argv[0]);
    for (;;) {
        int c = getopt_long(argc, argv, "+h", long_options, NULL);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_CONFIG:
            files = xrealloc(files, (n_files + 1) * sizeof *files);
            files[n_files++] = optarg;
            break;
        case OPT_URL:
            url = optarg;
            break;
        case OPT_HOST:
            host = optarg;
            break;
        case OPT_TIMEOUT:
            timeout = atoi(optarg);
            break;
        case OPT_KEEP_ORDER:
            settings.keep_host_order = true;
            break;
        case OPT_UNIXCTL:
            unixctl_path = optarg;
            break;
        case OPT_LOG_FILE:
            log_file = optarg;
            break;
        case 'h':
            usage();
            break;
        default:
            exit(EXIT_FAILURE);
        }
    }
    argc -= optind;
    argv += optind;
    if (argc < 1) {
        ovs_fatal(0, "a command is needed (--help for help)");
    }

    vlog_set_levels(NULL, VLF_CONSOLE, VLL_WARN);
    if (log_file) {
        if (vlog_set_log_file(log_file)) {
            ovs_fatal(0, "cannot open %s", log_file);
        }
        vlog_set_levels(NULL, VLF_FILE, VLL_DBG);
    }
    install_signal_handlers();

    struct agent_config *cfg;
    char *error = agent_config_from_files(CONFIG_PROG_AGENT,
                                          (const char *const *) files,
                                          n_files, false, &cfg);
    if (error) {
        ovs_fatal(0, "%s", error);
    }
    free(files);
    if (url) {
        free(cfg->transport_url);
        cfg->transport_url = xstrdup(url);
    }
    if (!n_files || strcmp(host, "probe")) {
        free(cfg->host);
        cfg->host = xstrdup(host);
    }
    if (!cfg->transport_url) {
        ovs_fatal(0, "no transport_url");
    }

    struct rpc *rpc = rpc_create_with(cfg, &settings);
    int status;
    if (!strcmp(argv[0], "listen")) {
        status = run_listen(rpc, timeout, unixctl_path, argc, argv);
    } else {
        status = run_oneshot(rpc, timeout, argc, argv);
        rpc_destroy(rpc);
    }
    agent_config_destroy(cfg);
    return status;
}
