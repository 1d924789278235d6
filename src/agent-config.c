/*
 * agent-config: neutron-openvswitch-agent's options, read the way
 * oslo.config reads them, into one struct agent_config.
 *
 * Where a value comes from, highest rank first (oslo.config's rules):
 *
 *   1. The command line, for the few options it can set (--debug, ...),
 *      unless a config file read later on the command line sets the same
 *      option: oslo.config applies such files at their position in argv, so
 *      "--debug --config-file f" with "debug = false" in f ends up false.
 *   2. An OS_<GROUP>__<OPTION> environment variable.
 *   3. The config files: the newest file that sets the option wins.
 *   4. The option's default.
 *
 * Every value then goes through "$name" substitution and the conversion of
 * the option's type; a value that fails either is an error naming where the
 * value came from.  Last come the checks that involve several options
 * (tunnelling needs local_ip, DVR is refused, ...).
 */
#include <config.h>

#include "agent-config.h"

#include <ctype.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/extension-list.h"
#include "ini.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "sha1.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(agent_config);

/* How deep "$a" may refer to an option whose value refers to another. */
#define MAX_SUBST_DEPTH 16

enum opt_type {
    OT_STR,                     /* char *. */
    OT_BOOL,                    /* bool. */
    OT_INT,                     /* int. */
    OT_PORT,                    /* int, 0 to 65535 (oslo.config PortOpt). */
    OT_FLOAT,                   /* int, rounded up (a FloatOpt upstream). */
    OT_IP,                      /* char *, an IPv4 or IPv6 address. */
    OT_HOST,                    /* char *, an address or a hostname. */
    OT_DATAPATH,                /* char *, "system" or "netdev". */
    OT_MAPPINGS,                /* bridge_mappings. */
    OT_TUNNELS,                 /* tunnel_types. */
    OT_LIST,                    /* struct svec, a comma-separated list. */
    OT_SPECIAL,                 /* Checked in agent_config_check(). */
};

#define PROG_AGENT   (1u << CONFIG_PROG_AGENT)
#define PROG_CLEANUP (1u << CONFIG_PROG_CLEANUP)
#define PROG_ALL     (PROG_AGENT | PROG_CLEANUP)

/* An option as Neutron registers it. */
struct opt {
    const char *group;          /* "DEFAULT" or a lower-case group name. */
    const char *name;
    const char *deprecated;     /* Former name in the same group, or NULL. */
    enum opt_type type;
    const char *dflt;           /* NULL: unset (but see opt_default()). */
    size_t offset;              /* In struct agent_config, or NOT_STORED. */
    unsigned int programs;      /* PROG_* bits of the programs that read it. */
};

#define NOT_STORED SIZE_MAX
#define CFG(MEMBER) offsetof(struct agent_config, MEMBER)

enum opt_id {
    O_HOST, O_TRANSPORT_URL, O_DEBUG, O_LOG_FILE, O_LOG_DIR, O_USE_SYSLOG,
    O_SYSLOG_LOG_FACILITY, O_STATE_PATH, O_OVS_ALL_PORTS,
    O_INTEGRATION_BRIDGE, O_TUNNEL_BRIDGE, O_INT_PEER_PATCH_PORT,
    O_TUN_PEER_PATCH_PORT, O_LOCAL_IP, O_BRIDGE_MAPPINGS, O_DATAPATH_TYPE,
    O_OVSDB_CONNECTION, O_OVSDB_TIMEOUT, O_OF_LISTEN_ADDRESS,
    O_OF_LISTEN_PORT, O_OF_CONNECT_TIMEOUT, O_OF_REQUEST_TIMEOUT,
    O_OF_INACTIVITY_PROBE, O_SSL_KEY_FILE, O_SSL_CERT_FILE,
    O_SSL_CA_CERT_FILE, O_BRIDGE_MAC_TABLE_SIZE, O_IGMP_SNOOPING_ENABLE,
    O_TUNNEL_TYPES, O_L2_POPULATION, O_ARP_RESPONDER, O_POLLING_INTERVAL,
    O_MINIMIZE_POLLING, O_REPORT_INTERVAL, O_DROP_FLOWS_ON_START,
    O_VETH_MTU, O_VXLAN_UDP_PORT, O_DONT_FRAGMENT, O_TUNNEL_CSUM,
    O_EXPLICITLY_EGRESS_DIRECT, O_ENABLE_DISTRIBUTED_ROUTING, O_EXTENSIONS,
    O_FIREWALL_DRIVER, O_ENABLE_SECURITY_GROUP, O_PERMITTED_ETHERTYPES,
    O_CONTROL_EXCHANGE, O_RPC_RESPONSE_TIMEOUT, O_AMQP_DURABLE_QUEUES,
    O_AMQP_AUTO_DELETE, O_RABBIT_QUORUM_QUEUE, O_RABBIT_HA_QUEUES,
    O_RABBIT_TRANSIENT_QUEUES_TTL, O_RABBIT_QUORUM_DELIVERY_LIMIT,
    O_RABBIT_QUORUM_MAX_MEMORY_LENGTH, O_RABBIT_QUORUM_MAX_MEMORY_BYTES,
    O_HEARTBEAT_TIMEOUT_THRESHOLD, O_HEARTBEAT_RATE,
    O_RABBIT_RETRY_INTERVAL, O_RABBIT_RETRY_BACKOFF, O_RABBIT_INTERVAL_MAX,
    O_RABBIT_SSL, O_RABBIT_SSL_CA_FILE, O_RABBIT_SSL_CERT_FILE,
    O_RABBIT_SSL_KEY_FILE,
    N_OPTS
};

#define OPT(ID, GROUP, NAME, DEPRECATED, TYPE, DFLT, OFFSET, PROGRAMS) \
    [ID] = { GROUP, NAME, DEPRECATED, TYPE, DFLT, OFFSET, PROGRAMS }

static const struct opt opts[N_OPTS] = {
    /* oslo.log, oslo.messaging and neutron/conf/common.py. */
    OPT(O_HOST, "DEFAULT", "host", NULL, OT_HOST, NULL, CFG(host),
        PROG_ALL),
    OPT(O_TRANSPORT_URL, "DEFAULT", "transport_url", NULL, OT_STR, NULL,
        CFG(transport_url), PROG_ALL),
    OPT(O_DEBUG, "DEFAULT", "debug", NULL, OT_BOOL, "false", CFG(debug),
        PROG_ALL),
    OPT(O_LOG_FILE, "DEFAULT", "log_file", "logfile", OT_STR, NULL,
        CFG(log_file), PROG_ALL),
    OPT(O_LOG_DIR, "DEFAULT", "log_dir", "logdir", OT_STR, NULL,
        CFG(log_dir), PROG_ALL),
    OPT(O_USE_SYSLOG, "DEFAULT", "use_syslog", NULL, OT_BOOL, "false",
        CFG(use_syslog), PROG_ALL),
    OPT(O_SYSLOG_LOG_FACILITY, "DEFAULT", "syslog_log_facility", NULL,
        OT_STR, "LOG_USER", CFG(syslog_log_facility), PROG_ALL),
    /* Read only so that "$state_path" substitutes as in Neutron. */
    OPT(O_STATE_PATH, "DEFAULT", "state_path", NULL, OT_STR,
        "/var/lib/neutron", NOT_STORED, PROG_ALL),
    OPT(O_OVS_ALL_PORTS, "DEFAULT", "ovs_all_ports", NULL, OT_BOOL, "false",
        CFG(ovs_all_ports), PROG_CLEANUP),

    /* [ovs]: neutron/conf/plugins/ml2/drivers/ovs_conf.py,
     * neutron/conf/agent/ovs_conf.py, neutron/conf/agent/ovsdb_api.py. */
    OPT(O_INTEGRATION_BRIDGE, "ovs", "integration_bridge",
        "ovs_integration_bridge", OT_STR, "br-int", CFG(integration_bridge),
        PROG_ALL),
    OPT(O_TUNNEL_BRIDGE, "ovs", "tunnel_bridge", NULL, OT_STR, "br-tun",
        CFG(tunnel_bridge), PROG_ALL),
    OPT(O_INT_PEER_PATCH_PORT, "ovs", "int_peer_patch_port", NULL, OT_STR,
        "patch-tun", CFG(int_peer_patch_port), PROG_ALL),
    OPT(O_TUN_PEER_PATCH_PORT, "ovs", "tun_peer_patch_port", NULL, OT_STR,
        "patch-int", CFG(tun_peer_patch_port), PROG_ALL),
    OPT(O_LOCAL_IP, "ovs", "local_ip", NULL, OT_IP, NULL, CFG(local_ip),
        PROG_ALL),
    OPT(O_BRIDGE_MAPPINGS, "ovs", "bridge_mappings", NULL, OT_MAPPINGS, "",
        NOT_STORED, PROG_ALL),
    OPT(O_DATAPATH_TYPE, "ovs", "datapath_type", NULL, OT_DATAPATH,
        "system", CFG(datapath_type), PROG_ALL),
    OPT(O_OVSDB_CONNECTION, "ovs", "ovsdb_connection", NULL, OT_STR,
        "tcp:127.0.0.1:6640", CFG(ovsdb_connection), PROG_ALL),
    OPT(O_OVSDB_TIMEOUT, "ovs", "ovsdb_timeout", NULL, OT_INT, "10",
        CFG(ovsdb_timeout), PROG_ALL),
    OPT(O_OF_LISTEN_ADDRESS, "ovs", "of_listen_address", NULL, OT_IP,
        "127.0.0.1", CFG(of_listen_address), PROG_ALL),
    OPT(O_OF_LISTEN_PORT, "ovs", "of_listen_port", NULL, OT_PORT, "6633",
        CFG(of_listen_port), PROG_ALL),
    OPT(O_OF_CONNECT_TIMEOUT, "ovs", "of_connect_timeout", NULL, OT_INT,
        "300", CFG(of_connect_timeout), PROG_ALL),
    OPT(O_OF_REQUEST_TIMEOUT, "ovs", "of_request_timeout", NULL, OT_INT,
        "300", CFG(of_request_timeout), PROG_ALL),
    OPT(O_OF_INACTIVITY_PROBE, "ovs", "of_inactivity_probe", NULL, OT_INT,
        "10", CFG(of_inactivity_probe), PROG_ALL),
    OPT(O_SSL_KEY_FILE, "ovs", "ssl_key_file", NULL, OT_STR, NULL,
        CFG(ssl_key_file), PROG_ALL),
    OPT(O_SSL_CERT_FILE, "ovs", "ssl_cert_file", NULL, OT_STR, NULL,
        CFG(ssl_cert_file), PROG_ALL),
    OPT(O_SSL_CA_CERT_FILE, "ovs", "ssl_ca_cert_file", NULL, OT_STR, NULL,
        CFG(ssl_ca_cert_file), PROG_ALL),
    OPT(O_BRIDGE_MAC_TABLE_SIZE, "ovs", "bridge_mac_table_size", NULL,
        OT_INT, "50000", CFG(bridge_mac_table_size), PROG_ALL),
    OPT(O_IGMP_SNOOPING_ENABLE, "ovs", "igmp_snooping_enable", NULL, OT_BOOL,
        "false", CFG(igmp_snooping_enable), PROG_ALL),

    /* [agent]: the same ovs_conf.py, neutron/conf/agent/common.py and
     * neutron/conf/plugins/ml2/drivers/agent.py. */
    OPT(O_TUNNEL_TYPES, "agent", "tunnel_types", NULL, OT_TUNNELS, "",
        NOT_STORED, PROG_ALL),
    OPT(O_L2_POPULATION, "agent", "l2_population", NULL, OT_BOOL, "false",
        CFG(l2_population), PROG_ALL),
    OPT(O_ARP_RESPONDER, "agent", "arp_responder", NULL, OT_BOOL, "false",
        CFG(arp_responder), PROG_ALL),
    OPT(O_POLLING_INTERVAL, "agent", "polling_interval", NULL, OT_INT, "2",
        CFG(polling_interval), PROG_ALL),
    OPT(O_MINIMIZE_POLLING, "agent", "minimize_polling", NULL, OT_BOOL,
        "true", CFG(minimize_polling), PROG_ALL),
    OPT(O_REPORT_INTERVAL, "agent", "report_interval", NULL, OT_FLOAT, "30",
        CFG(report_interval), PROG_ALL),
    OPT(O_DROP_FLOWS_ON_START, "agent", "drop_flows_on_start", NULL, OT_BOOL,
        "false", CFG(drop_flows_on_start), PROG_ALL),
    OPT(O_VETH_MTU, "agent", "veth_mtu", NULL, OT_INT, "9000",
        CFG(veth_mtu), PROG_ALL),
    OPT(O_VXLAN_UDP_PORT, "agent", "vxlan_udp_port", NULL, OT_PORT, "4789",
        CFG(vxlan_udp_port), PROG_ALL),
    OPT(O_DONT_FRAGMENT, "agent", "dont_fragment", NULL, OT_BOOL, "true",
        CFG(dont_fragment), PROG_ALL),
    OPT(O_TUNNEL_CSUM, "agent", "tunnel_csum", NULL, OT_BOOL, "false",
        CFG(tunnel_csum), PROG_ALL),
    OPT(O_EXPLICITLY_EGRESS_DIRECT, "agent", "explicitly_egress_direct",
        NULL, OT_BOOL, "false", CFG(explicitly_egress_direct), PROG_ALL),
    OPT(O_ENABLE_DISTRIBUTED_ROUTING, "agent", "enable_distributed_routing",
        NULL, OT_BOOL, "false", CFG(enable_distributed_routing), PROG_ALL),
    /* neutron/conf/agent/agent_extensions_manager.py; only the agent
     * registers it. */
    OPT(O_EXTENSIONS, "agent", "extensions", NULL, OT_LIST, "",
        CFG(extensions), PROG_AGENT),

    /* [securitygroup]: neutron/conf/agent/securitygroups_rpc.py. */
    OPT(O_FIREWALL_DRIVER, "securitygroup", "firewall_driver", NULL,
        OT_SPECIAL, NULL, NOT_STORED, PROG_ALL),
    OPT(O_ENABLE_SECURITY_GROUP, "securitygroup", "enable_security_group",
        NULL, OT_BOOL, "true", CFG(enable_security_group), PROG_ALL),
    OPT(O_PERMITTED_ETHERTYPES, "securitygroup", "permitted_ethertypes",
        NULL, OT_LIST, "", CFG(permitted_ethertypes), PROG_ALL),

    /* oslo.messaging: transport.py, rpc/client.py, _drivers/amqp.py and
     * _drivers/impl_rabbit.py.  Neutron sets control_exchange to
     * "neutron". */
    OPT(O_CONTROL_EXCHANGE, "DEFAULT", "control_exchange", NULL, OT_STR,
        "neutron", CFG(control_exchange), PROG_AGENT),
    OPT(O_RPC_RESPONSE_TIMEOUT, "DEFAULT", "rpc_response_timeout", NULL,
        OT_INT, "60", CFG(rpc_response_timeout), PROG_AGENT),
    OPT(O_AMQP_DURABLE_QUEUES, "oslo_messaging_rabbit", "amqp_durable_queues",
        NULL, OT_BOOL, "false", CFG(amqp_durable_queues), PROG_AGENT),
    OPT(O_AMQP_AUTO_DELETE, "oslo_messaging_rabbit", "amqp_auto_delete",
        NULL, OT_BOOL, "false", CFG(amqp_auto_delete), PROG_AGENT),
    OPT(O_RABBIT_QUORUM_QUEUE, "oslo_messaging_rabbit", "rabbit_quorum_queue",
        NULL, OT_BOOL, "false", CFG(rabbit_quorum_queue), PROG_AGENT),
    OPT(O_RABBIT_HA_QUEUES, "oslo_messaging_rabbit", "rabbit_ha_queues",
        NULL, OT_BOOL, "false", CFG(rabbit_ha_queues), PROG_AGENT),
    OPT(O_RABBIT_TRANSIENT_QUEUES_TTL, "oslo_messaging_rabbit",
        "rabbit_transient_queues_ttl", NULL, OT_INT, "1800",
        CFG(rabbit_transient_queues_ttl), PROG_AGENT),
    /* The quorum memory options are spelled "quroum" in Zed's
     * oslo.messaging 14.0; later releases fix the name and keep the old
     * one as an alias.  Both are read, the old one as the alias. */
    OPT(O_RABBIT_QUORUM_DELIVERY_LIMIT, "oslo_messaging_rabbit",
        "rabbit_quorum_delivery_limit", NULL, OT_INT, "0",
        CFG(rabbit_quorum_delivery_limit), PROG_AGENT),
    OPT(O_RABBIT_QUORUM_MAX_MEMORY_LENGTH, "oslo_messaging_rabbit",
        "rabbit_quorum_max_memory_length", "rabbit_quroum_max_memory_length",
        OT_INT, "0", CFG(rabbit_quorum_max_memory_length), PROG_AGENT),
    OPT(O_RABBIT_QUORUM_MAX_MEMORY_BYTES, "oslo_messaging_rabbit",
        "rabbit_quorum_max_memory_bytes", "rabbit_quroum_max_memory_bytes",
        OT_INT, "0", CFG(rabbit_quorum_max_memory_bytes), PROG_AGENT),
    OPT(O_HEARTBEAT_TIMEOUT_THRESHOLD, "oslo_messaging_rabbit",
        "heartbeat_timeout_threshold", NULL, OT_INT, "60",
        CFG(heartbeat_timeout_threshold), PROG_AGENT),
    OPT(O_HEARTBEAT_RATE, "oslo_messaging_rabbit", "heartbeat_rate", NULL,
        OT_INT, "2", CFG(heartbeat_rate), PROG_AGENT),
    OPT(O_RABBIT_RETRY_INTERVAL, "oslo_messaging_rabbit",
        "rabbit_retry_interval", NULL, OT_INT, "1",
        CFG(rabbit_retry_interval), PROG_AGENT),
    OPT(O_RABBIT_RETRY_BACKOFF, "oslo_messaging_rabbit",
        "rabbit_retry_backoff", NULL, OT_INT, "2",
        CFG(rabbit_retry_backoff), PROG_AGENT),
    OPT(O_RABBIT_INTERVAL_MAX, "oslo_messaging_rabbit",
        "rabbit_interval_max", NULL, OT_INT, "30",
        CFG(rabbit_interval_max), PROG_AGENT),
    OPT(O_RABBIT_SSL, "oslo_messaging_rabbit", "ssl", "rabbit_use_ssl",
        OT_BOOL, "false", CFG(rabbit_ssl), PROG_AGENT),
    OPT(O_RABBIT_SSL_CA_FILE, "oslo_messaging_rabbit", "ssl_ca_file",
        "kombu_ssl_ca_certs", OT_STR, NULL, CFG(rabbit_ssl_ca_file),
        PROG_AGENT),
    OPT(O_RABBIT_SSL_CERT_FILE, "oslo_messaging_rabbit", "ssl_cert_file",
        "kombu_ssl_certfile", OT_STR, NULL, CFG(rabbit_ssl_cert_file),
        PROG_AGENT),
    OPT(O_RABBIT_SSL_KEY_FILE, "oslo_messaging_rabbit", "ssl_key_file",
        "kombu_ssl_keyfile", OT_STR, NULL, CFG(rabbit_ssl_key_file),
        PROG_AGENT),
};

/* What a command-line option does. */
enum cli_kind {
    CLI_VALUE,                  /* Sets 'opt' to the argument. */
    CLI_TRUE,                   /* Sets boolean 'opt' to true. */
    CLI_FALSE,                  /* Sets boolean 'opt' to false. */
    CLI_CONFIG_FILE,
    CLI_CONFIG_DIR,
    CLI_UNIXCTL,
    CLI_HELP,
    CLI_VERSION,
};

struct cli_opt {
    const char *name;           /* Without the leading "--". */
    char short_name;            /* Or 0. */
    enum cli_kind kind;
    enum opt_id opt;            /* For CLI_VALUE, CLI_TRUE, CLI_FALSE. */
    unsigned int programs;
    const char *metavar;        /* For --help; NULL for flags. */
    const char *help;           /* NULL: an alias that --help omits. */
};

static const struct cli_opt cli_opts[] = {
    { "help", 'h', CLI_HELP, 0, PROG_ALL, NULL,
      "show this help message and exit" },
    { "version", 0, CLI_VERSION, 0, PROG_ALL, NULL,
      "show the version and exit" },
    { "config-file", 0, CLI_CONFIG_FILE, 0, PROG_ALL, "PATH",
      "read a config file; later files override earlier" },
    { "config-dir", 0, CLI_CONFIG_DIR, 0, PROG_ALL, "DIR",
      "read every DIR/*.conf, in name order" },
    { "debug", 'd', CLI_TRUE, O_DEBUG, PROG_ALL, NULL,
      "log at debug level ([DEFAULT] debug)" },
    { "nodebug", 0, CLI_FALSE, O_DEBUG, PROG_ALL, NULL,
      "the inverse of --debug" },
    { "log-file", 0, CLI_VALUE, O_LOG_FILE, PROG_ALL, "PATH",
      "log to PATH ([DEFAULT] log_file)" },
    { "logfile", 0, CLI_VALUE, O_LOG_FILE, PROG_ALL, "PATH", NULL },
    { "log-dir", 0, CLI_VALUE, O_LOG_DIR, PROG_ALL, "DIR",
      "base of a relative --log-file ([DEFAULT] log_dir)" },
    { "logdir", 0, CLI_VALUE, O_LOG_DIR, PROG_ALL, "DIR", NULL },
    { "use-syslog", 0, CLI_TRUE, O_USE_SYSLOG, PROG_ALL, NULL,
      "log to syslog ([DEFAULT] use_syslog)" },
    { "nouse-syslog", 0, CLI_FALSE, O_USE_SYSLOG, PROG_ALL, NULL,
      "the inverse of --use-syslog" },
    { "syslog-log-facility", 0, CLI_VALUE, O_SYSLOG_LOG_FACILITY, PROG_ALL,
      "FACILITY", "syslog facility ([DEFAULT] syslog_log_facility)" },
    { "unixctl", 0, CLI_UNIXCTL, 0, PROG_ALL, "PATH",
      "control socket path" },
    { "ovs_all_ports", 0, CLI_TRUE, O_OVS_ALL_PORTS, PROG_CLEANUP, NULL,
      "delete every port of every OVS bridge" },
    { "noovs_all_ports", 0, CLI_FALSE, O_OVS_ALL_PORTS, PROG_CLEANUP, NULL,
      "the inverse of --ovs_all_ports" },
};

/* Everything one agent_config_parse() call accumulates. */
struct cfg_parse {
    enum config_program prog;
    const struct agent_config_env *env;
    struct ini ini;

    /* The last command-line setting of each option, the number of files
     * read before it, and the option as spelled there. */
    char *cli_value[N_OPTS];
    size_t cli_pos[N_OPTS];
    const char *cli_name[N_OPTS];
    char *unixctl;

    /* Each option's final value (NULL if unset) and where it came from
     * (NULL for a default), both after resolve_all(). */
    char *value[N_OPTS];
    char *where[N_OPTS];

    /* Each option's value after substitution, as "$name" references to it
     * need it: computed once per parse, so that references to references
     * cost their number, not the number of paths through them. */
    char *subst_memo[N_OPTS];
    bool subst_memo_set[N_OPTS];
};

static const char *
prog_name(enum config_program prog)
{
    return prog == CONFIG_PROG_CLEANUP ? "ovsagent-cleanup" : "ovsagent";
}

/* The Neutron program 'prog' stands in for, whose name oslo.config uses
 * for default config files. */
static const char *
neutron_program_name(enum config_program prog)
{
    return (prog == CONFIG_PROG_CLEANUP ? "neutron-ovs-cleanup"
            : "neutron-openvswitch-agent");
}

static bool
opt_applies(const struct cfg_parse *p, enum opt_id id)
{
    return opts[id].programs & (1u << p->prog);
}

/* Returns 'id''s default value, or NULL if it has none; the result stays
 * valid until 'p' is freed. */
static const char *
opt_default(struct cfg_parse *p, enum opt_id id)
{
    if (id == O_OVSDB_TIMEOUT && p->prog == CONFIG_PROG_CLEANUP) {
        /* neutron-ovs-cleanup raises the default for its long
         * transactions. */
        return "600";
    } else if (id == O_HOST) {
        static char hostname[256];
        if (gethostname(hostname, sizeof hostname - 1)) {
            ovs_strlcpy(hostname, "localhost", sizeof hostname);
        }
        return hostname;
    }
    return opts[id].dflt;
}

/* Finds the value option 'id' takes, before substitution: stores it (owned
 * by 'p') in '*rawp', a malloc'd description of its origin in '*wherep'
 * (NULL for the default), and in '*filep' the file assignment it came from,
 * if it came from a file. */
static void
find_raw(struct cfg_parse *p, enum opt_id id, const char **rawp,
         char **wherep, const struct ini_value **filep)
{
    const struct opt *o = &opts[id];
    const char *names[] = { o->name, o->deprecated, NULL };
    const struct ini_value *v = ini_lookup(&p->ini, o->group, names);

    *filep = NULL;

    if (p->cli_value[id] && (!v || p->cli_pos[id] > v->file_idx)) {
        *rawp = p->cli_value[id];
        *wherep = xasprintf("--%s", p->cli_name[id]);
        return;
    }
    if (p->env->use_env) {
        struct ds var = DS_EMPTY_INITIALIZER;
        ds_put_format(&var, "OS_%s__%s", o->group, o->name);
        for (char *c = var.string; *c; c++) {
            *c = toupper((unsigned char) *c);
        }
        const char *env_value = getenv(ds_cstr(&var));
        if (env_value) {
            *rawp = env_value;
            *wherep = ds_steal_cstr(&var);
            return;
        }
        ds_destroy(&var);
    }
    if (v) {
        *filep = v;
        *rawp = v->value;
        *wherep = xasprintf("%s: [%s] %s", v->file_name, v->section, v->key);
        return;
    }
    *rawp = opt_default(p, id);
    *wherep = NULL;
}

/* Substitution of "$name" inside the value of an option of 'group'. */
struct subst_aux {
    struct cfg_parse *p;
    const char *group;
    int depth;
};

static char *resolve(struct cfg_parse *, enum opt_id, int depth,
                     char **valuep, char **wherep,
                     const struct ini_value **filep);

static int
find_opt(const struct cfg_parse *p, const char *group, const char *name)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (opt_applies(p, i) && !strcmp(opts[i].name, name)
            && !strcasecmp(opts[i].group, group)) {
            return i;
        }
    }
    return -1;
}

static char *
subst_resolve(const char *name, void *aux_, char **valuep)
{
    struct subst_aux *aux = aux_;
    const char *dot = strchr(name, '.');
    int id = -1;

    /* oslo.config reads "a.b" as option b of group a, and "b" as option b
     * of the same group; failing that, as a [DEFAULT] option. */
    if (dot) {
        char *group = xmemdup0(name, dot - name);
        id = find_opt(aux->p, group, dot + 1);
        free(group);
    } else {
        id = find_opt(aux->p, aux->group, name);
    }
    if (id < 0) {
        id = find_opt(aux->p, "DEFAULT", name);
    }
    if (id < 0) {
        return xasprintf("cannot substitute \"$%s\": no such option", name);
    }
    if (aux->depth >= MAX_SUBST_DEPTH) {
        return xasprintf("cannot substitute \"$%s\": too deeply nested",
                         name);
    }

    struct cfg_parse *p = aux->p;
    if (!p->subst_memo_set[id]) {
        const struct ini_value *file;
        char *where = NULL;
        char *value = NULL;
        char *error = resolve(p, id, aux->depth + 1, &value, &where, &file);
        free(where);
        if (error) {
            return error;
        }
        p->subst_memo[id] = value;
        p->subst_memo_set[id] = true;
    }
    *valuep = xstrdup(p->subst_memo[id] ? p->subst_memo[id] : "");
    return NULL;
}

/* Stores in '*valuep' a malloc'd copy of option 'id''s value after
 * substitution (NULL if unset), and in '*wherep' and '*filep' what
 * find_raw() does.  Returns NULL or an error message without location. */
static char *
resolve(struct cfg_parse *p, enum opt_id id, int depth,
        char **valuep, char **wherep, const struct ini_value **filep)
{
    const char *raw;
    find_raw(p, id, &raw, wherep, filep);
    *valuep = NULL;
    if (!raw) {
        return NULL;
    }

    struct subst_aux aux = { p, opts[id].group, depth };
    return ini_substitute(raw, subst_resolve, &aux, valuep);
}

/* Returns the one-line message for 'msg' (which is freed) about 'id''s
 * value. */
static char *
opt_error(const struct cfg_parse *p, enum opt_id id, char *msg)
{
    char *error = (p->where[id]
                   ? xasprintf("%s: %s", p->where[id], msg)
                   : xasprintf("[%s] %s: %s", opts[id].group, opts[id].name,
                               msg));
    free(msg);
    return error;
}

static char *
resolve_all(struct cfg_parse *p)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (!opt_applies(p, i)) {
            continue;
        }
        const struct ini_value *v;
        char *error = resolve(p, i, 0, &p->value[i], &p->where[i], &v);
        if (error && i == O_TRANSPORT_URL) {
            /* The message would quote part of the value, which holds the
             * broker's password: oslo.config's secret option. */
            free(error);
            error = xstrdup("a \"$\" in the value is not a reference to an "
                            "option (write \"$$\" for a literal \"$\"; the "
                            "value is secret, so it is not quoted)");
        }
        if (error) {
            return opt_error(p, i, error);
        }
        if (v && strcmp(v->key, opts[i].name)) {
            VLOG_WARN("%s:%d: [%s] %s is deprecated, use %s instead",
                      v->file_name, v->line, log_safe(v->section),
                      log_safe(v->key), opts[i].name);
        }
    }
    return NULL;
}

static char *
parse_bridge_mappings(const char *s, struct agent_config *cfg)
{
    struct svec items = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    ini_parse_list(s, &items);
    cfg->bridge_mappings = xcalloc(items.n ? items.n : 1,
                                   sizeof *cfg->bridge_mappings);
    for (size_t i = 0; !error && i < items.n; i++) {
        const char *item = items.names[i];
        const char *colon = strchr(item, ':');
        if (!colon || strchr(colon + 1, ':')) {
            error = xasprintf("invalid mapping \"%s\" "
                              "(expected physnet:bridge)", item);
            break;
        }

        const char *k = item, *k_end = colon;
        const char *v = colon + 1, *v_end = item + strlen(item);
        while (k_end > k && isspace((unsigned char) k_end[-1])) {
            k_end--;
        }
        while (v < v_end && isspace((unsigned char) *v)) {
            v++;
        }
        if (k == k_end || v == v_end) {
            error = xasprintf("invalid mapping \"%s\": missing %s", item,
                              k == k_end ? "physnet" : "bridge");
            break;
        }

        char *physnet = xmemdup0(k, k_end - k);
        char *bridge = xmemdup0(v, v_end - v);
        for (size_t j = 0; j < cfg->n_bridge_mappings; j++) {
            const struct bridge_mapping *m = &cfg->bridge_mappings[j];
            if (!strcmp(m->physnet, physnet)) {
                error = xasprintf("physnet \"%s\" mapped more than once",
                                  physnet);
            } else if (!strcmp(m->bridge, bridge)) {
                error = xasprintf("bridge \"%s\" mapped more than once",
                                  bridge);
            }
            if (error) {
                break;
            }
        }
        struct bridge_mapping *m
            = &cfg->bridge_mappings[cfg->n_bridge_mappings++];
        m->physnet = physnet;
        m->bridge = bridge;
    }
    svec_destroy(&items);
    return error;
}

static char *
parse_tunnel_types(const char *s, struct agent_config *cfg)
{
    static const struct {
        const char *name;
        enum tunnel_type_bit bit;
    } types[] = {
        { "gre", TUNNEL_GRE },
        { "vxlan", TUNNEL_VXLAN },
        { "geneve", TUNNEL_GENEVE },
    };
    struct svec items = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    ini_parse_list(s, &items);
    cfg->tunnel_type_names = xcalloc(items.n ? items.n : 1,
                                     sizeof *cfg->tunnel_type_names);
    for (size_t i = 0; !error && i < items.n; i++) {
        size_t j;
        for (j = 0; j < ARRAY_SIZE(types); j++) {
            if (!strcasecmp(items.names[i], types[j].name)) {
                break;
            }
        }
        if (j >= ARRAY_SIZE(types)) {
            error = xasprintf("invalid tunnel type \"%s\" (expected gre, "
                              "vxlan or geneve)", items.names[i]);
        } else if (!(cfg->tunnel_types & types[j].bit)) {
            /* A repeated type would only set up its tunnels twice. */
            cfg->tunnel_types |= types[j].bit;
            cfg->tunnel_type_names[cfg->n_tunnel_types++]
                = xstrdup(types[j].name);
        }
    }
    svec_destroy(&items);
    return error;
}

/* Converts option 'id''s value 's' to its type and stores it in 'cfg'.
 * Returns NULL or an error message without location. */
static char *
convert(enum opt_id id, const char *s, struct agent_config *cfg)
{
    const struct opt *o = &opts[id];
    void *dst = o->offset == NOT_STORED ? NULL : (char *) cfg + o->offset;
    double d;
    char *error;

    switch (o->type) {
    case OT_STR:
        if (dst) {
            *(char **) dst = nullable_xstrdup(s);
        }
        return NULL;

    case OT_IP:
        if (s && !ini_is_ip_address(s)) {
            return xasprintf("\"%s\" is not an IPv4 or IPv6 address", s);
        }
        *(char **) dst = nullable_xstrdup(s);
        return NULL;

    case OT_HOST:
        if (!ini_is_host_address(s)) {
            return xasprintf("\"%s\" is not a valid host address", s);
        }
        *(char **) dst = xstrdup(s);
        return NULL;

    case OT_DATAPATH:
        if (strcmp(s, "system") && strcmp(s, "netdev")) {
            return xasprintf("invalid value \"%s\" (expected system or "
                             "netdev)", s);
        }
        *(char **) dst = xstrdup(s);
        return NULL;

    case OT_BOOL:
        return ini_parse_bool(s, dst);

    case OT_INT:
        return ini_parse_int(s, INT_MIN, INT_MAX, dst);

    case OT_PORT:
        return ini_parse_int(s, 0, 65535, dst);

    case OT_FLOAT:
        error = ini_parse_float(s, &d);
        if (!error) {
            d = ceil(d);
            if (d < INT_MIN || d > INT_MAX) {
                return xasprintf("value %s out of range", s);
            }
            *(int *) dst = d;
        }
        return error;

    case OT_MAPPINGS:
        return parse_bridge_mappings(s, cfg);

    case OT_TUNNELS:
        return parse_tunnel_types(s, cfg);

    case OT_LIST:
        svec_clear(dst);
        ini_parse_list(s, dst);
        return NULL;

    case OT_SPECIAL:
        return NULL;
    }
    OVS_NOT_REACHED();
}

static char *
convert_all(struct cfg_parse *p, struct agent_config *cfg)
{
    for (int i = 0; i < N_OPTS; i++) {
        if (!opt_applies(p, i)) {
            continue;
        }
        char *error = convert(i, p->value[i], cfg);
        if (error) {
            return opt_error(p, i, error);
        }
    }
    return NULL;
}

/* Maps [securitygroup] firewall_driver, an alias or a class path as
 * neutron's firewall loader accepts it, to the driver.  The iptables
 * drivers are refused rather than replaced: falling back to another
 * driver would silently change what traffic is allowed. */
static char *
parse_firewall_driver(const char *s, enum firewall_kind *driverp)
{
    static const struct {
        const char *name;
        int driver;             /* -1: a driver we do not implement. */
    } drivers[] = {
        { "noop", FW_NOOP },
        { "neutron.agent.firewall.NoopFirewallDriver", FW_NOOP },
        { "neutron.agent.firewall:NoopFirewallDriver", FW_NOOP },
        { "openvswitch", FW_OPENVSWITCH },
        { "neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver",
          FW_OPENVSWITCH },
        { "neutron.agent.linux.openvswitch_firewall:OVSFirewallDriver",
          FW_OPENVSWITCH },
        { "neutron.agent.linux.openvswitch_firewall.firewall."
          "OVSFirewallDriver", FW_OPENVSWITCH },
        { "iptables", -1 },
        { "iptables_hybrid", -1 },
        { "neutron.agent.linux.iptables_firewall.IptablesFirewallDriver",
          -1 },
        { "neutron.agent.linux.iptables_firewall:IptablesFirewallDriver",
          -1 },
        { "neutron.agent.linux.iptables_firewall."
          "OVSHybridIptablesFirewallDriver", -1 },
        { "neutron.agent.linux.iptables_firewall:"
          "OVSHybridIptablesFirewallDriver", -1 },
    };

    if (!s || !s[0]) {
        *driverp = FW_NOOP;
        return NULL;
    }
    for (size_t i = 0; i < ARRAY_SIZE(drivers); i++) {
        if (!strcmp(s, drivers[i].name)) {
            if (drivers[i].driver < 0) {
                return xasprintf("firewall driver \"%s\" is not supported "
                                 "by ovsagent (use openvswitch or noop)", s);
            }
            *driverp = drivers[i].driver;
            return NULL;
        }
    }
    return xasprintf("unknown firewall driver \"%s\" (expected openvswitch "
                     "or noop)", s);
}

/* Returns true if 'ip', a valid address, is configured on an interface of
 * this machine. */
static bool
is_local_address(const char *ip)
{
    struct in6_addr want6;
    struct in_addr want4;
    bool v4 = inet_pton(AF_INET, ip, &want4) == 1;
    if (!v4 && inet_pton(AF_INET6, ip, &want6) != 1) {
        return false;
    }

    struct ifaddrs *ifas;
    if (getifaddrs(&ifas)) {
        VLOG_WARN("getifaddrs failed (%s)", ovs_strerror(errno));
        return false;
    }
    bool found = false;
    for (struct ifaddrs *ifa = ifas; ifa && !found; ifa = ifa->ifa_next) {
        const struct sockaddr *sa = ifa->ifa_addr;
        if (!sa) {
            continue;
        }
        if (v4 && sa->sa_family == AF_INET) {
            const struct sockaddr_in *sin = (const void *) sa;
            found = sin->sin_addr.s_addr == want4.s_addr;
        } else if (!v4 && sa->sa_family == AF_INET6) {
            const struct sockaddr_in6 *sin6 = (const void *) sa;
            found = !memcmp(&sin6->sin6_addr, &want6, sizeof want6);
        }
    }
    freeifaddrs(ifas);
    return found;
}

/* [agent] extensions, as neutron's L2AgentExtensionsManager loads them
 * through stevedore: in the order written; a repeated name once (stevedore
 * makes one instance per name, and the reference then calls that instance
 * once per repeat, which does nothing one call does not); empty items
 * dropped by ini_parse_list() (oslo.config keeps them, stevedore warns that
 * it could not load "" and goes on without).  A name ovsagent does not
 * implement is refused, where the reference warns and runs without it: an
 * operator must never believe that, say, a QoS policy is applied when it
 * is not. */
static char *
check_extensions(const struct cfg_parse *p, struct agent_config *cfg)
{
    static const char *const implemented[] = {
#define EXTENSION_NAME(NAME, CLASS) NAME,
        EXTENSION_LIST(EXTENSION_NAME)
        NULL,
    };
    const char *const *supported = (p->env->extensions ? p->env->extensions
                                    : implemented);
    struct svec names = SVEC_EMPTY_INITIALIZER;

    for (size_t i = 0; i < cfg->extensions.n; i++) {
        const char *name = cfg->extensions.names[i];
        size_t j = 0;
        while (supported[j] && strcmp(supported[j], name)) {
            j++;
        }
        if (!supported[j]) {
            struct ds list = DS_EMPTY_INITIALIZER;
            for (j = 0; supported[j]; j++) {
                ds_put_format(&list, "%s%s", j ? ", " : "", supported[j]);
            }
            char *error = xasprintf("\"%s\" is not supported by ovsagent "
                                    "(supported: %s)", name,
                                    j ? ds_cstr(&list) : "none");
            ds_destroy(&list);
            svec_destroy(&names);
            return opt_error(p, O_EXTENSIONS, error);
        }
        if (!svec_contains_unsorted(&names, name)) {
            svec_add(&names, name);
        }
    }
    svec_swap(&names, &cfg->extensions);
    svec_destroy(&names);
    return NULL;
}

/* The checks neutron-openvswitch-agent makes at startup that involve more
 * than one option, and our refusals of what we do not implement.  The
 * firewall driver is chosen here because it depends on
 * enable_security_group. */
static char *
agent_config_check(struct cfg_parse *p, struct agent_config *cfg)
{
    char *error;

    if (p->prog != CONFIG_PROG_AGENT) {
        /* neutron-ovs-cleanup never looks at these options. */
        return NULL;
    }
    if (cfg->enable_distributed_routing) {
        return opt_error(p, O_ENABLE_DISTRIBUTED_ROUTING, xstrdup(
                             "distributed virtual routing (DVR) is not "
                             "supported by ovsagent"));
    }
    error = check_extensions(p, cfg);
    if (error) {
        return error;
    }

    if (!cfg->enable_security_group) {
        cfg->firewall_driver = FW_NOOP;
    } else {
        error = parse_firewall_driver(p->value[O_FIREWALL_DRIVER],
                                      &cfg->firewall_driver);
        if (error) {
            return opt_error(p, O_FIREWALL_DRIVER, error);
        }
    }

    /* oslo.messaging refuses these when it creates its transport. */
    if (cfg->rabbit_quorum_queue && cfg->rabbit_ha_queues) {
        return opt_error(p, O_RABBIT_HA_QUEUES, xstrdup(
                             "rabbit_quorum_queue and rabbit_ha_queues are "
                             "both enabled; a queue is either quorum or "
                             "mirrored"));
    }
    if (cfg->rabbit_transient_queues_ttl < 1) {
        return opt_error(p, O_RABBIT_TRANSIENT_QUEUES_TTL, xasprintf(
                             "%d is less than the minimum 1",
                             cfg->rabbit_transient_queues_ttl));
    }

    if (cfg->n_tunnel_types) {
        if (!cfg->local_ip) {
            return opt_error(p, O_TUNNEL_TYPES, xstrdup(
                                 "tunnelling requires [ovs] local_ip"));
        }
        if (p->env->check_host && !is_local_address(cfg->local_ip)) {
            return opt_error(p, O_LOCAL_IP, xasprintf(
                                 "%s is not an address of this host, so it "
                                 "cannot be the tunnel endpoint",
                                 cfg->local_ip));
        }
    }
    return NULL;
}

/* Logs, at debug level, what the files set that we do not read. */
static void
log_ignored(const struct cfg_parse *p)
{
    static const char *const groups[] = {
        "DEFAULT", "ovs", "agent", "securitygroup", "oslo_messaging_rabbit",
    };

    if (!VLOG_IS_DBG_ENABLED()) {
        return;
    }
    for (size_t i = 0; i < p->ini.n_files; i++) {
        const struct ini_file *file = p->ini.files[i];
        for (size_t j = 0; j < file->n_values; j++) {
            const struct ini_value *v = &file->values[j];
            bool known_group = false, known = false;
            for (size_t k = 0; k < ARRAY_SIZE(groups); k++) {
                known_group |= ini_group_matches(v->section, groups[k]);
            }
            for (int k = 0; k < N_OPTS && !known; k++) {
                known = (opt_applies(p, k)
                         && ini_group_matches(v->section, opts[k].group)
                         && (!strcmp(v->key, opts[k].name)
                             || (opts[k].deprecated
                                 && !strcmp(v->key, opts[k].deprecated))));
            }
            if (!known) {
                VLOG_DBG("%s:%d: ignoring [%s] %s (unknown %s)",
                         v->file_name, v->line, log_safe(v->section),
                         log_safe(v->key),
                         known_group ? "option" : "section");
            }
        }
    }
}

static void
print_usage(enum config_program prog, FILE *out)
{
    fprintf(out, "usage: %s [options]\n\n"
            "A drop-in replacement for %s.\n\nOptions:\n",
            prog_name(prog), neutron_program_name(prog));
    for (size_t i = 0; i < ARRAY_SIZE(cli_opts); i++) {
        const struct cli_opt *c = &cli_opts[i];
        if (!c->help || !(c->programs & (1u << prog))) {
            continue;
        }

        struct ds s = DS_EMPTY_INITIALIZER;
        if (c->short_name) {
            ds_put_format(&s, "-%c, ", c->short_name);
        }
        ds_put_format(&s, "--%s", c->name);
        if (c->metavar) {
            ds_put_format(&s, " %s", c->metavar);
        }
        if (s.length > 22) {
            fprintf(out, "  %s\n%26s%s\n", ds_cstr(&s), "", c->help);
        } else {
            fprintf(out, "  %-22s  %s\n", ds_cstr(&s), c->help);
        }
        ds_destroy(&s);
    }
}

/* Finds the long option 'name' (of 'len' bytes), which may be abbreviated
 * to any unique prefix, as Python's argparse allows.  Returns NULL and
 * stores an error in '*errorp' if there is no such option. */
static const struct cli_opt *
find_cli_opt(enum config_program prog, const char *name, size_t len,
             char **errorp)
{
    const struct cli_opt *match = NULL;
    struct ds candidates = DS_EMPTY_INITIALIZER;
    size_t n = 0;

    for (size_t i = 0; i < ARRAY_SIZE(cli_opts); i++) {
        const struct cli_opt *c = &cli_opts[i];
        if (!(c->programs & (1u << prog)) || strncmp(c->name, name, len)) {
            continue;
        }
        if (strlen(c->name) == len) {
            ds_destroy(&candidates);
            return c;
        }
        ds_put_format(&candidates, "%s--%s", n ? ", " : "", c->name);
        match = c;
        n++;
    }
    if (n != 1) {
        *errorp = (n
                   ? xasprintf("ambiguous option --%.*s (could be %s)",
                               (int) len, name, ds_cstr(&candidates))
                   : xasprintf("unrecognized option --%.*s", (int) len,
                               name));
        match = NULL;
    }
    ds_destroy(&candidates);
    return match;
}

static const struct cli_opt *
find_short_opt(enum config_program prog, char c)
{
    for (size_t i = 0; i < ARRAY_SIZE(cli_opts); i++) {
        if (cli_opts[i].short_name == c
            && cli_opts[i].programs & (1u << prog)) {
            return &cli_opts[i];
        }
    }
    return NULL;
}

static bool
cli_takes_value(const struct cli_opt *c)
{
    return (c->kind == CLI_VALUE || c->kind == CLI_CONFIG_FILE
            || c->kind == CLI_CONFIG_DIR || c->kind == CLI_UNIXCTL);
}

/* Carries out one command-line option 'c' with 'value' (NULL for a flag). */
static char *
apply_cli_opt(struct cfg_parse *p, const struct cli_opt *c,
              const char *value, bool *exit_now)
{
    FILE *out = p->env->out ? p->env->out : stdout;
    char *path, *error = NULL;

    switch (c->kind) {
    case CLI_VALUE:
    case CLI_TRUE:
    case CLI_FALSE:
        free(p->cli_value[c->opt]);
        p->cli_value[c->opt] = xstrdup(c->kind == CLI_VALUE ? value
                                       : c->kind == CLI_TRUE ? "true"
                                       : "false");
        p->cli_pos[c->opt] = p->ini.n_files;
        p->cli_name[c->opt] = c->name;
        break;

    case CLI_CONFIG_FILE:
    case CLI_CONFIG_DIR:
        path = ini_expand_user(value);
        error = (c->kind == CLI_CONFIG_FILE
                 ? ini_read_file(&p->ini, path)
                 : ini_read_dir(&p->ini, path));
        free(path);
        break;

    case CLI_UNIXCTL:
        free(p->unixctl);
        p->unixctl = xstrdup(value);
        break;

    case CLI_HELP:
        print_usage(p->prog, out);
        *exit_now = true;
        break;

    case CLI_VERSION:
        fprintf(out, "%s\n", OVSAGENT_VERSION_STRING);
        *exit_now = true;
        break;
    }
    return error;
}

/* Parses argv[1..argc-1] in order, reading config files where they
 * appear. */
static char *
parse_argv(struct cfg_parse *p, int argc, char *argv[], bool *exit_now)
{
    for (int i = 1; i < argc && !*exit_now; i++) {
        const char *arg = argv[i];
        const struct cli_opt *c = NULL;
        const char *value = NULL;
        char *error = NULL;

        if (!strcmp(arg, "--")) {
            return (i + 1 < argc
                    ? xasprintf("unrecognized argument \"%s\"", argv[i + 1])
                    : NULL);
        } else if (!strncmp(arg, "--", 2)) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            c = find_cli_opt(p->prog, name,
                             eq ? eq - name : strlen(name), &error);
            value = eq ? eq + 1 : NULL;
        } else if (arg[0] == '-' && arg[1] && !arg[2]) {
            c = find_short_opt(p->prog, arg[1]);
            if (!c) {
                error = xasprintf("unrecognized option %s", arg);
            }
        } else {
            error = xasprintf("unrecognized argument \"%s\"", arg);
        }
        if (error) {
            return error;
        }

        if (cli_takes_value(c) && !value) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1])) {
                return xasprintf("--%s: expected one argument", c->name);
            }
            value = argv[++i];
        } else if (!cli_takes_value(c) && value) {
            return xasprintf("--%s: does not take an argument (got \"%s\")",
                             c->name, value);
        }

        error = apply_cli_opt(p, c, value, exit_now);
        if (error) {
            return error;
        }
    }
    return NULL;
}

/* Returns true if 'argv' has exactly '--NAME' or '--NAME=...', which is how
 * oslo.config decides whether to read its default files. */
static bool
argv_has(int argc, char *argv[], const char *name)
{
    size_t len = strlen(name);
    for (int i = 1; i < argc; i++) {
        if (!strncmp(argv[i], "--", 2) && !strncmp(argv[i] + 2, name, len)
            && (argv[i][2 + len] == '\0' || argv[i][2 + len] == '=')) {
            return true;
        }
    }
    return false;
}

/* Reads oslo.config's default config files (or, if 'dirs', directories)
 * for Neutron and the program we replace. */
static char *
read_defaults(struct cfg_parse *p, bool dirs)
{
    const char *home = p->env->home ? p->env->home : getenv("HOME");
    struct svec paths = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    ini_default_paths("neutron", neutron_program_name(p->prog), home,
                      p->env->etc_dir ? p->env->etc_dir : "/etc",
                      dirs ? ".conf.d" : ".conf", &paths);
    for (size_t i = 0; !error && i < paths.n; i++) {
        error = (dirs
                 ? ini_read_dir(&p->ini, paths.names[i])
                 : ini_read_file(&p->ini, paths.names[i]));
    }
    svec_destroy(&paths);
    return error;
}

static void
cfg_parse_destroy(struct cfg_parse *p)
{
    ini_destroy(&p->ini);
    for (int i = 0; i < N_OPTS; i++) {
        free(p->cli_value[i]);
        free(p->value[i]);
        free(p->where[i]);
        free(p->subst_memo[i]);
    }
    free(p->unixctl);
}

/* Builds the config from a fully read 'p'. */
/* A patch port's name as the reference's get_interface_name() gives it:
 * 'prefix' + 'bridge', or, past 15 characters, a cut of the bridge's name
 * and 6 hex digits of its SHA-1. */
static char *
patch_name(const char *prefix, const char *bridge)
{
    size_t max = 15;
    if (strlen(prefix) + strlen(bridge) <= max) {
        return xasprintf("%s%s", prefix, bridge);
    }
    uint8_t digest[SHA1_DIGEST_SIZE];
    char hex[SHA1_HEX_DIGEST_LEN + 1];
    sha1_bytes(bridge, strlen(bridge), digest);
    sha1_to_hex(digest, hex);
    int keep = max - strlen(prefix) - 6;
    return xasprintf("%s%.*s%.6s", prefix, keep, bridge, hex);
}

static void
derive_bridges(struct agent_config *cfg)
{
    cfg->bridges = xcalloc(2 + cfg->n_bridge_mappings,
                           sizeof *cfg->bridges);
    struct bridge_desc *b = &cfg->bridges[cfg->n_bridges++];
    b->role = BRIDGE_INT;
    b->name = xstrdup(cfg->integration_bridge);
    if (cfg->tunnel_types) {
        b = &cfg->bridges[cfg->n_bridges++];
        b->role = BRIDGE_TUN;
        b->name = xstrdup(cfg->tunnel_bridge);
        b->int_patch = xstrdup(cfg->int_peer_patch_port);
        b->peer_patch = xstrdup(cfg->tun_peer_patch_port);
    }
    for (size_t i = 0; i < cfg->n_bridge_mappings; i++) {
        b = &cfg->bridges[cfg->n_bridges++];
        b->role = BRIDGE_PHYS;
        b->name = xstrdup(cfg->bridge_mappings[i].bridge);
        b->physnet = xstrdup(cfg->bridge_mappings[i].physnet);
        b->int_patch = patch_name("int-", b->name);
        b->peer_patch = patch_name("phy-", b->name);
    }
}

const struct bridge_desc *
agent_config_phys_bridge(const struct agent_config *cfg, size_t i)
{
    ovs_assert(i < cfg->n_bridge_mappings);
    return &cfg->bridges[cfg->n_bridges - cfg->n_bridge_mappings + i];
}

static char *
build_config(struct cfg_parse *p, struct agent_config **cfgp)
{
    struct agent_config *cfg = xzalloc(sizeof *cfg);
    char *error = resolve_all(p);
    if (!error) {
        error = convert_all(p, cfg);
    }
    if (!error) {
        error = agent_config_check(p, cfg);
    }
    if (error) {
        agent_config_destroy(cfg);
        return error;
    }

    log_ignored(p);
    cfg->unixctl_path = p->unixctl;
    p->unixctl = NULL;
    cfg->config_files = xcalloc(p->ini.n_files ? p->ini.n_files : 1,
                                sizeof *cfg->config_files);
    for (size_t i = 0; i < p->ini.n_files; i++) {
        cfg->config_files[i] = xstrdup(p->ini.files[i]->name);
    }
    cfg->n_config_files = p->ini.n_files;
    derive_bridges(cfg);
    *cfgp = cfg;
    return NULL;
}

void
agent_config_env_init(struct agent_config_env *env)
{
    env->check_host = true;
    env->use_env = true;
    env->search_defaults = true;
    env->home = NULL;
    env->etc_dir = NULL;
    env->out = NULL;
    env->extensions = NULL;
}

char *
agent_config_parse(enum config_program prog, int argc, char *argv[],
                   const struct agent_config_env *env,
                   struct agent_config **cfgp, bool *exit_now)
{
    struct cfg_parse p = { .prog = prog, .env = env };
    char *error = NULL;

    *cfgp = NULL;
    *exit_now = false;
    ini_init(&p.ini);

    /* oslo.config reads its default files before anything on the command
     * line, so any command-line option beats them. */
    if (env->search_defaults) {
        if (!argv_has(argc, argv, "config-file")) {
            error = read_defaults(&p, false);
        }
        if (!error && !argv_has(argc, argv, "config-dir")) {
            error = read_defaults(&p, true);
        }
    }
    if (!error) {
        error = parse_argv(&p, argc, argv, exit_now);
    }
    if (!error && !*exit_now) {
        error = build_config(&p, cfgp);
    }
    cfg_parse_destroy(&p);
    return error;
}

char *
agent_config_from_argv(enum config_program prog, int argc, char *argv[],
                       bool check_host, struct agent_config **cfgp,
                       bool *exit_now)
{
    struct agent_config_env env;

    agent_config_env_init(&env);
    env.check_host = check_host;
    return agent_config_parse(prog, argc, argv, &env, cfgp, exit_now);
}

char *
agent_config_from_files(enum config_program prog,
                        const char *const files[], size_t n_files,
                        bool check_host, struct agent_config **cfgp)
{
    struct agent_config_env env;
    struct svec args = SVEC_EMPTY_INITIALIZER;
    bool exit_now;

    agent_config_env_init(&env);
    env.check_host = check_host;
    env.use_env = false;
    env.search_defaults = false;

    svec_add(&args, prog_name(prog));
    for (size_t i = 0; i < n_files; i++) {
        svec_add_nocopy(&args, xasprintf("--config-file=%s", files[i]));
    }
    char *error = agent_config_parse(prog, args.n, args.names, &env, cfgp,
                                     &exit_now);
    svec_destroy(&args);
    return error;
}

void
agent_config_destroy(struct agent_config *cfg)
{
    if (!cfg) {
        return;
    }
    free(cfg->host);
    free(cfg->transport_url);
    free(cfg->log_file);
    free(cfg->log_dir);
    free(cfg->syslog_log_facility);
    free(cfg->integration_bridge);
    free(cfg->tunnel_bridge);
    free(cfg->int_peer_patch_port);
    free(cfg->tun_peer_patch_port);
    free(cfg->local_ip);
    for (size_t i = 0; i < cfg->n_bridge_mappings; i++) {
        free(cfg->bridge_mappings[i].physnet);
        free(cfg->bridge_mappings[i].bridge);
    }
    free(cfg->bridge_mappings);
    for (size_t i = 0; i < cfg->n_bridges; i++) {
        free(cfg->bridges[i].name);
        free(cfg->bridges[i].physnet);
        free(cfg->bridges[i].int_patch);
        free(cfg->bridges[i].peer_patch);
    }
    free(cfg->bridges);
    free(cfg->datapath_type);
    free(cfg->ovsdb_connection);
    free(cfg->of_listen_address);
    free(cfg->ssl_key_file);
    free(cfg->ssl_cert_file);
    free(cfg->ssl_ca_cert_file);
    for (size_t i = 0; i < cfg->n_tunnel_types; i++) {
        free(cfg->tunnel_type_names[i]);
    }
    free(cfg->tunnel_type_names);
    svec_destroy(&cfg->permitted_ethertypes);
    svec_destroy(&cfg->extensions);
    free(cfg->unixctl_path);
    free(cfg->control_exchange);
    free(cfg->rabbit_ssl_ca_file);
    free(cfg->rabbit_ssl_cert_file);
    free(cfg->rabbit_ssl_key_file);
    for (size_t i = 0; i < cfg->n_config_files; i++) {
        free(cfg->config_files[i]);
    }
    free(cfg->config_files);
    free(cfg);
}

const char *
fw_driver_name(enum firewall_kind d)
{
    switch (d) {
    case FW_NOOP:
        return "noop";
    case FW_OPENVSWITCH:
        return "openvswitch";
    }
    return "unknown";
}

const struct bridge_mapping *
agent_config_find_bridge(const struct agent_config *cfg, const char *bridge)
{
    for (size_t i = 0; i < cfg->n_bridge_mappings; i++) {
        if (!strcmp(cfg->bridge_mappings[i].bridge, bridge)) {
            return &cfg->bridge_mappings[i];
        }
    }
    return NULL;
}
