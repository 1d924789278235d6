/*
 * agent-config: the operator's oslo.config files and command line, turned into
 * one immutable struct agent_config.
 *
 * Layer: bottom (no OVS, no Neutron logic).  Everything above reads options
 * only through struct agent_config; nothing else opens a config file.
 *
 * The INI rules are oslo.config's (see ini.h); option names, sections and
 * defaults are those of neutron-openvswitch-agent 21.0.0 (Zed).
 */
#ifndef OVSAGENT_AGENT_CONFIG_H
#define OVSAGENT_AGENT_CONFIG_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "svec.h"

/* What --version prints. */
#define OVSAGENT_VERSION "0.1.0"
#define OVSAGENT_VERSION_STRING \
    "ovsagent " OVSAGENT_VERSION \
    " (compatible with neutron-openvswitch-agent 21.0.0)"

/* Which security-group driver the operator selected. */
enum firewall_kind {
    FW_NOOP,                    /* Unset, "noop" or NoopFirewallDriver. */
    FW_OPENVSWITCH,             /* "openvswitch" or OVSFirewallDriver. */
};

/* One "physnet:bridge" entry of [ovs] bridge_mappings, in file order. */
struct bridge_mapping {
    char *physnet;
    char *bridge;
};

/* The bridges the agent manages, as the configuration describes them:
 * derived once, read by agent and vswitch alike. */
enum bridge_role {
    BRIDGE_INT,                 /* integration_bridge. */
    BRIDGE_TUN,                 /* tunnel_bridge, with tunnel_types. */
    BRIDGE_PHYS,                /* A bridge_mappings bridge. */
};

struct bridge_desc {
    enum bridge_role role;
    char *name;
    char *physnet;              /* BRIDGE_PHYS only. */
    /* The patch ports that join it to br-int (NULL for br-int): the one
     * on br-int ("patch-tun", "int-<bridge>") and its peer on this bridge
     * ("patch-int", "phy-<bridge>"), named as the reference names them. */
    char *int_patch;
    char *peer_patch;
};

/* Tunnel types we accept in [agent] tunnel_types. */
enum tunnel_type_bit {
    TUNNEL_GRE    = 1 << 0,
    TUNNEL_VXLAN  = 1 << 1,
    TUNNEL_GENEVE = 1 << 2,
};

struct agent_config {
    /* [DEFAULT] */
    char *host;                 /* Default: this machine's hostname. */
    char *transport_url;        /* NULL when unset. */
    bool debug;
    char *log_file;             /* NULL: log to stderr. */
    char *log_dir;              /* NULL unless set; joined with log_file. */
    bool use_syslog;
    char *syslog_log_facility;  /* Default "LOG_USER". */

    /* [ovs] */
    char *integration_bridge;   /* "br-int" */
    char *tunnel_bridge;        /* "br-tun" */
    char *int_peer_patch_port;  /* "patch-tun" */
    char *tun_peer_patch_port;  /* "patch-int" */
    char *local_ip;             /* NULL when unset. */
    struct bridge_mapping *bridge_mappings;
    size_t n_bridge_mappings;
    /* Every bridge: [0] br-int, then br-tun with tunnel_types, then one per
     * bridge_mappings entry, in its order. */
    struct bridge_desc *bridges;
    size_t n_bridges;
    char *datapath_type;        /* "system" */
    char *ovsdb_connection;     /* "tcp:127.0.0.1:6640" */
    int ovsdb_timeout;          /* 10 s (600 s for ovsagent-cleanup). */
    char *of_listen_address;    /* "127.0.0.1" */
    int of_listen_port;         /* 6633 */
    int of_connect_timeout;     /* 300 s */
    int of_request_timeout;     /* 300 s */
    int of_inactivity_probe;    /* 10 s */
    char *ssl_key_file;         /* NULL when unset (ovsdb ssl: only). */
    char *ssl_cert_file;
    char *ssl_ca_cert_file;
    int bridge_mac_table_size;  /* 50000 */
    bool igmp_snooping_enable;  /* false */

    /* [agent] */
    unsigned int tunnel_types;  /* enum tunnel_type_bit mask; 0 = none. */
    char **tunnel_type_names;   /* As written, in order, lower case. */
    size_t n_tunnel_types;
    bool l2_population;
    bool arp_responder;
    int polling_interval;       /* 2 s */
    bool minimize_polling;      /* true */
    int report_interval;        /* 30 s; from [agent] of neutron.conf. */
    bool drop_flows_on_start;   /* false */
    int veth_mtu;               /* 9000 */
    int vxlan_udp_port;         /* 4789 */
    bool dont_fragment;         /* true */
    bool tunnel_csum;           /* false */
    bool explicitly_egress_direct;   /* false */
    bool enable_distributed_routing; /* false; true is refused. */
    struct svec extensions;     /* L2 agent extensions, in order, each
                                 * once; only names ovsagent implements
                                 * (agent/extension-list.h).  Empty. */

    /* [securitygroup] */
    enum firewall_kind firewall_driver;
    bool enable_security_group; /* true */
    struct svec permitted_ethertypes;   /* "0x..." strings; empty. */

    /* oslo.messaging: [DEFAULT] and [oslo_messaging_rabbit]. */
    char *control_exchange;     /* "neutron" */
    int rpc_response_timeout;   /* 60 s */
    bool amqp_durable_queues;
    bool amqp_auto_delete;
    bool rabbit_quorum_queue;
    bool rabbit_ha_queues;
    int rabbit_transient_queues_ttl;    /* 1800 s, at least 1. */
    int rabbit_quorum_delivery_limit;   /* 0: no x-delivery-limit. */
    int rabbit_quorum_max_memory_length; /* 0: no x-max-in-memory-length. */
    int rabbit_quorum_max_memory_bytes; /* 0: no x-max-in-memory-bytes. */
    int heartbeat_timeout_threshold;    /* 60 s; 0 disables heartbeats. */
    int heartbeat_rate;                 /* 2 checks per threshold. */
    int rabbit_retry_interval;          /* 1 s: first reconnection delay. */
    int rabbit_retry_backoff;           /* 2 s added per failed attempt. */
    int rabbit_interval_max;            /* 30 s: the longest delay. */
    bool rabbit_ssl;
    char *rabbit_ssl_ca_file;
    char *rabbit_ssl_cert_file;
    char *rabbit_ssl_key_file;

    /* Command line only. */
    bool ovs_all_ports;         /* ovsagent-cleanup --ovs_all_ports. */
    char *unixctl_path;         /* --unixctl; NULL: the default path. */
    char **config_files;        /* Every file read, in the order read. */
    size_t n_config_files;
};

/* What a program accepts on its command line beyond the common set. */
enum config_program {
    CONFIG_PROG_AGENT,          /* ovsagent */
    CONFIG_PROG_CLEANUP,        /* ovsagent-cleanup: adds --ovs_all_ports. */
};

/* Parses argv and every config file it names, in command-line order, and
 * validates the result.
 *
 * On success returns NULL and stores a new config in '*cfgp', which the
 * caller frees with agent_config_destroy().  On a bad command line, an unreadable
 * file or a bad value returns a malloc'd one-line message naming the file,
 * section and option (the caller prints it and exits non-zero) and stores
 * NULL.  "--help" and "--version" return NULL with '*exit_now' set to true
 * after printing to stdout.
 *
 * 'check_host' enables checks that look at this machine (local_ip must be
 * one of its addresses while tunnelling); unit tests may turn it off. */
char *agent_config_from_argv(enum config_program, int argc, char *argv[],
                       bool check_host, struct agent_config **cfgp,
                       bool *exit_now);

/* Frees 'cfg' and everything it owns.  Accepts NULL. */
void agent_config_destroy(struct agent_config *cfg);

/* Returns the name of 'd' as the logs and ovsagent/show print it. */
const char *fw_driver_name(enum firewall_kind d);

/* The description of bridge_mappings[i]'s bridge. */
const struct bridge_desc *agent_config_phys_bridge(
    const struct agent_config *, size_t i);

/* Returns the bridge_mappings entry for 'bridge', or NULL. */
const struct bridge_mapping *agent_config_find_bridge(const struct agent_config *,
                                                const char *bridge);

/* What agent_config_parse() may look at besides argv.
 * agent_config_from_argv() uses what agent_config_env_init() sets; unit tests
 * change it so that the machine they run on does not leak into their
 * results. */
struct agent_config_env {
    /* As for agent_config_from_argv(). */
    bool check_host;

    /* Read OS_<GROUP>__<OPTION> environment variables, which oslo.config
     * ranks above config files and below the command line. */
    bool use_env;

    /* When the command line has no --config-file (or no --config-dir), read
     * oslo.config's default files neutron.conf and <prog>.conf (or
     * directories neutron.conf.d and <prog>.conf.d), each from the first of
     * ~/.neutron, ~, <etc_dir>/neutron and <etc_dir> that has it, where
     * <prog> is the Neutron program we replace. */
    bool search_defaults;
    const char *home;           /* NULL: $HOME. */
    const char *etc_dir;        /* NULL: "/etc". */

    /* Where --help and --version print; NULL: stdout. */
    FILE *out;

    /* The names [agent] extensions accepts, NULL-terminated; NULL: those
     * ovsagent implements (agent/extension-list.h).  Lets unit tests
     * check lists of extensions whatever ovsagent implements. */
    const char *const *extensions;
};

/* Initializes 'env' for a real run: check_host, use_env and search_defaults
 * true, $HOME, /etc, stdout, the extensions ovsagent implements. */
void agent_config_env_init(struct agent_config_env *env);

/* Like agent_config_from_argv(), with 'env' in place of the 'check_host'
 * flag.  'env' is only read during the call. */
char *agent_config_parse(enum config_program, int argc, char *argv[],
                         const struct agent_config_env *env,
                         struct agent_config **cfgp, bool *exit_now);

/* Parses the 'n_files' files in 'files', in order, as if each had been given
 * with --config-file and nothing else were on the command line, without
 * default files or environment variables.  Returns and stores as
 * agent_config_from_argv() does. */
char *agent_config_from_files(enum config_program,
                              const char *const files[], size_t n_files,
                              bool check_host, struct agent_config **cfgp);

#endif /* agent-config.h */
