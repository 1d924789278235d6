# bench/lib.sh: what bench/parity and bench/bench share, sourced by both.
#
# One private Open vSwitch (userspace datapath) in the network namespace
# $BENCH_NS, with its database, sockets and logs under $BENCH_DIR; the
# Neutron control plane of scripts/stack; and one agent at a time on that
# switch, either the reference (Debian's neutron-openvswitch-agent 21.0.0)
# or ovsagent, both given the same two configuration files and the same
# host name, so that neutron-server sees one hypervisor whose agent is
# swapped, as an operator would swap it.
#
# Each agent runs in a cgroup of its own, so that its CPU time and its
# resident memory include every helper process it starts: the reference's
# privsep daemons (which detach from it) and its ovsdb-client monitor, and
# any process that has already exited.  The cgroup is made in cgroup v1's
# cpuacct hierarchy where one is mounted, otherwise in cgroup v2's unified
# hierarchy (Debian 12 mounts only that one): see bench_cgroot.
#
# The Networking API helpers (api, new_net, new_port, port_status, tap_of)
# are tests/system/lib-neutron.sh's, which the system tests share.

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/system/lib-neutron.sh
. "$top/tests/system/lib-neutron.sh"
# The benchmarks' API calls (long lists of ports among them) may take 60 s.
API_MAX_TIME=60
BENCH_DIR=${BENCH_DIR:-/var/tmp/ovsagent-bench}
BENCH_NS=${BENCH_NS:-ovsagent-bench}
BENCH_HOST=${BENCH_HOST:-bench-hv1}
BENCH_UPLINK=${BENCH_UPLINK:-bn-uplink}
BENCH_UPLINK_NET=${BENCH_UPLINK_NET:-198.18.78}   # a /30 at .0
BENCH_DB_PORT=6640
BENCH_OF_PORT=6633
BENCH_CGROUP=${BENCH_CGROUP:-ovsagent-bench}
PY=/usr/bin/python3
# A project of each run's own: its default security group then has only
# the run's ports as members, whatever else the server holds.
PROJECT=${BENCH_PROJECT:-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')}
export BENCH_PROJECT=$PROJECT

export OVS_RUNDIR=$BENCH_DIR/ovs OVS_DBDIR=$BENCH_DIR/ovs \
       OVS_LOGDIR=$BENCH_DIR/ovs OVS_SYSCONFDIR=$BENCH_DIR/ovs \
       OVS_PKGDATADIR=/usr/share/openvswitch

log() { echo "$(date +%T) ${0##*/}: $*" >&2; }
die() { echo "${0##*/}: error: $*" >&2; exit 1; }

# now: seconds since the epoch, with microseconds.
now() { date +%s.%6N; }
# secs A B: B - A, in seconds with milliseconds (times from now, CPU
# seconds from agent_cpu).
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", b - a }'; }

# wait_for SECONDS CMD...: polls CMD every 50 ms until it succeeds.
wait_for() {
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.05
    done
}

in_ns() { ip netns exec "$BENCH_NS" env OVS_RUNDIR="$OVS_RUNDIR" "$@"; }
vsctl() { in_ns ovs-vsctl --db="unix:$OVS_RUNDIR/db.sock" --timeout=30 "$@"; }
ofctl() { in_ns ovs-ofctl "$@"; }

# --- the control plane -------------------------------------------------------

# What the reference agent needs beyond neutron-server's packages: sudo,
# through which it starts its privsep daemons, and conntrack, which its
# openvswitch firewall runs.  Neither has a service to start.
bench_deps() {
    local missing=() p
    for p in sudo conntrack; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install \
        -y -qq --no-install-recommends "${missing[@]}" >&2 \
        || die "cannot install ${missing[*]}"
}

stack_up() {
    bench_deps
    "$top/scripts/stack" up >&2
    set -a; eval "$("$top/scripts/stack" env)"; set +a
    # The broker's firehose lets the benchmark see, for both agents alike,
    # when each RPC left the agent (bench/rpc-trace).
    "$top/scripts/stack" rabbitmqctl trace_on >/dev/null
}

# bench_fanouts: the fanout exchanges an agent declares.  Without an agent
# running, the server's pushes for ports created through the API find no
# exchange, and oslo.messaging reconnects after each (a second per port):
# a set-up that runs before any agent declares them as an agent would.
bench_fanouts() {
    "$PY" - "$OVSAGENT_TRANSPORT_URL" <<'EOF'
import sys
import kombu
with kombu.Connection(sys.argv[1].replace("rabbit://", "amqp://")) as c:
    ch = c.channel()
    for t in ("neutron-vo-Port-1.7", "neutron-vo-Network-1.1",
              "neutron-vo-Subnet-1.1", "neutron-vo-SecurityGroup-1.5",
              "neutron-vo-SecurityGroupRule-1.2",
              "q-agent-notifier-port-update", "q-agent-notifier-port-delete",
              "q-agent-notifier-network-update",
              "q-agent-notifier-network-delete",
              "q-agent-notifier-port_binding-activate",
              "q-agent-notifier-port_binding-deactivate",
              "q-agent-notifier-dvr-update",
              "q-agent-notifier-tunnel-update",
              "q-agent-notifier-tunnel-delete",
              "q-agent-notifier-l2population-update",
              "q-agent-notifier-security_group-update"):
        kombu.Exchange(t + "_fanout", type="fanout", durable=False,
                       auto_delete=True, channel=ch).declare()
EOF
}

# agent_alive_since TIME: the host's agent record is alive and was
# (re)started at or after TIME ("YYYY-MM-DD HH:MM:SS", UTC).
agent_alive_since() {
    api GET "/agents?host=$BENCH_HOST&binary=neutron-openvswitch-agent" \
        | jq -e --arg t "$1" \
             '.agents[0].alive == true and .agents[0].started_at >= $t' >/dev/null
}

# --- the switch ---------------------------------------------------------------

switch_up() {
    switch_down
    mkdir -p "$OVS_RUNDIR" "$BENCH_DIR/etc" "$BENCH_DIR/logs" "$BENCH_DIR/state"
    ip netns add "$BENCH_NS"
    ip -n "$BENCH_NS" link set lo up
    # The switch's namespace reaches the broker through a veth of its own.
    ip link add "$BENCH_UPLINK" type veth peer name uplink netns "$BENCH_NS"
    ip addr add "$BENCH_UPLINK_NET.1/30" dev "$BENCH_UPLINK"
    ip link set "$BENCH_UPLINK" up
    ip -n "$BENCH_NS" addr add "$BENCH_UPLINK_NET.2/30" dev uplink
    ip -n "$BENCH_NS" link set uplink up
    ip -n "$BENCH_NS" route add "$OVSAGENT_STACK_LINK_IP/32" via "$BENCH_UPLINK_NET.1"
    in_ns ovsdb-tool create "$OVS_DBDIR/conf.db" \
        /usr/share/openvswitch/vswitch.ovsschema
    in_ns ovsdb-server "$OVS_DBDIR/conf.db" --detach --no-chdir --pidfile \
        --log-file -vconsole:off --remote="punix:$OVS_RUNDIR/db.sock" \
        --remote=db:Open_vSwitch,Open_vSwitch,manager_options
    vsctl --no-wait init
    vsctl --no-wait set-manager "ptcp:$BENCH_DB_PORT:127.0.0.1"
    in_ns ovs-vswitchd "unix:$OVS_RUNDIR/db.sock" --detach --no-chdir \
        --pidfile --log-file -vconsole:off --disable-system
    bridges_fresh
}

switch_down() {
    local d
    for d in ovs-vswitchd ovsdb-server; do
        [ -f "$OVS_RUNDIR/$d.pid" ] || continue
        kill "$(cat "$OVS_RUNDIR/$d.pid")" 2>/dev/null || true
    done
    ip netns del "$BENCH_NS" 2>/dev/null || true
    ip link del "$BENCH_UPLINK" 2>/dev/null || true
    rm -rf "$OVS_RUNDIR"
}

# bridges_fresh: no agent bridges, and an empty physical bridge, as on a
# host where no agent has ever run.
bridges_fresh() {
    vsctl --if-exists del-br br-int -- --if-exists del-br br-tun \
        -- --if-exists del-br br-phys
    vsctl add-br br-phys -- set Bridge br-phys datapath_type=netdev
}

# --- the agents ------------------------------------------------------------

# write_conf FIREWALL_DRIVER: the two files both agents are given.  The
# reference's own needs (root_helper, state and lock paths) are options
# ovsagent reads and ignores, as an operator's files would have them.
write_conf() {
    cat > "$BENCH_DIR/etc/neutron.conf" <<EOF
[DEFAULT]
host = $BENCH_HOST
transport_url = $OVSAGENT_TRANSPORT_URL_LINK
state_path = $BENCH_DIR/state


[oslo_concurrency]
lock_path = $BENCH_DIR/state/lock

[agent]
root_helper = sudo
EOF
    cat > "$BENCH_DIR/etc/openvswitch_agent.ini" <<EOF
[ovs]
datapath_type = netdev
ovsdb_connection = tcp:127.0.0.1:$BENCH_DB_PORT
of_listen_address = 127.0.0.1
of_listen_port = $BENCH_OF_PORT
bridge_mappings = physnet1:br-phys
local_ip = 127.0.0.1

[agent]
tunnel_types = vxlan
l2_population = True
arp_responder = True

[securitygroup]
firewall_driver = $1
EOF
}

# --- the agents' cgroups --------------------------------------------------------

# bench_cgroot: sets CGROOT, the directory under which the agents' cgroups
# are made, and CGVER, 1 or 2, the cgroup version there, chosen at run time:
#   1  the cgroup v1 hierarchy with the cpuacct controller, where mounted
#      (alone or with cpu, as /sys/fs/cgroup/cpu,cpuacct): a cgroup's
#      cpuacct.usage is its CPU time in nanoseconds;
#   2  otherwise, the cgroup v2 (unified) hierarchy, /sys/fs/cgroup where it
#      is the only one, /sys/fs/cgroup/unified beside v1 ones: a cgroup's
#      cpu.stat has usage_usec, which every v2 cgroup has, whether or not
#      the cpu controller is enabled for it.
# Either counts the CPU time of every process that was ever in the cgroup,
# the exited ones included.  BENCH_CGROUP_VERSION=1 or 2 in the
# environment insists on one.  Returns 1 (CGROOT empty) if there is none.
bench_cgroot() {
    local want=${BENCH_CGROUP_VERSION:-}
    CGROOT='' CGVER=''
    if [ "$want" != 2 ]; then
        CGROOT=$(awk '$3 == "cgroup" && $4 ~ /(^|,)cpuacct(,|$)/ { print $2; exit }' \
                 /proc/self/mounts)
        [ -z "$CGROOT" ] || { CGVER=1; return 0; }
    fi
    if [ "$want" != 1 ]; then
        CGROOT=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
        [ -z "$CGROOT" ] || { CGVER=2; return 0; }
    fi
    return 1
}
bench_cgroot || true

cgroup_of() { echo "$CGROOT/$BENCH_CGROUP-$1"; }

# agent_start ref|ovsagent: starts that agent in a fresh cgroup and waits
# until neutron-server has its start report and br-tun exists.
agent_start() {
    local since
    since=$(date -u '+%Y-%m-%d %H:%M:%S')
    agent_launch "$1"
    wait_for 180 agent_alive_since "$since" \
        || die "$1 did not report to neutron-server (see $BENCH_DIR/logs)"
    wait_for 60 vsctl br-exists br-tun || die "$1 made no br-tun"
}

# agent_launch ref|ovsagent: starts that agent in a fresh cgroup.
agent_launch() {
    local which=$1 cg
    cg=$(cgroup_of "$which")
    [ -n "$CGROOT" ] && [ -d "$CGROOT" ] \
        || die "no cgroup hierarchy to count the agents' CPU in: neither cgroup v1's cpuacct nor cgroup v2 is mounted${BENCH_CGROUP_VERSION:+ (BENCH_CGROUP_VERSION=$BENCH_CGROUP_VERSION)}"
    if [ -d "$cg" ] && ! rmdir "$cg" 2>/dev/null; then
        # Left by a run that was interrupted: its processes are ours.
        log "stopping what an interrupted run left in $cg"
        kill -KILL $(cat "$cg/cgroup.procs") 2>/dev/null || true
        wait_for 10 cgroup_empty "$cg" && rmdir "$cg" || die "$cg still has processes"
    fi
    mkdir -p "$cg" "$BENCH_DIR/state/lock"
    local conf=(--config-file "$BENCH_DIR/etc/neutron.conf"
                --config-file "$BENCH_DIR/etc/openvswitch_agent.ini")
    case $which in
    ref)
        # sudo and privsep drop OVS_RUNDIR, so the reference, its helpers
        # and the ovs-* commands they run see the switch's run directory
        # where a packaged Open vSwitch keeps it.
        setsid sh -c 'echo $$ > "$1/cgroup.procs"; shift
            exec ip netns exec "$0" unshare -m sh -c "
                mkdir -p /run/openvswitch &&
                mount --bind \"\$0\" /run/openvswitch && exec \"\$@\"" "$@"' \
            "$BENCH_NS" "$cg" "$OVS_RUNDIR" \
            /usr/bin/neutron-openvswitch-agent "${conf[@]}" \
            --log-file "$BENCH_DIR/logs/ref.log" \
            </dev/null >"$BENCH_DIR/logs/ref.stderr" 2>&1 &
        ;;
    ovsagent)
        setsid sh -c 'echo $$ > "$1/cgroup.procs"; shift; exec "$@"' \
            sh "$cg" ip netns exec "$BENCH_NS" \
            env OVS_RUNDIR="$OVS_RUNDIR" "$top/build/out/ovsagent" "${conf[@]}" \
            --log-file "$BENCH_DIR/logs/ovsagent.log" \
            --unixctl "$BENCH_DIR/ovsagent.ctl" \
            </dev/null >"$BENCH_DIR/logs/ovsagent.stderr" 2>&1 &
        ;;
    *) die "agent_start: unknown agent '$which'" ;;
    esac
    echo $! > "$BENCH_DIR/$which.pid"
}

# agent_stop ref|ovsagent: SIGTERM to the agent, then every process left
# in its cgroup (the reference's detached helpers) once it has gone.
agent_stop() {
    local cg pids
    cg=$(cgroup_of "$1")
    [ -d "$cg" ] || return 0
    kill -TERM "$(cat "$BENCH_DIR/$1.pid")" 2>/dev/null || true
    wait_for 30 not_alive "$(cat "$BENCH_DIR/$1.pid")" || true
    pids=$(cat "$cg/cgroup.procs")
    [ -z "$pids" ] || kill -TERM $pids 2>/dev/null || true
    wait_for 10 cgroup_empty "$cg" || kill -KILL $(cat "$cg/cgroup.procs") 2>/dev/null || true
    wait_for 10 cgroup_empty "$cg"
    rmdir "$cg"
}
not_alive() { ! kill -0 "$1" 2>/dev/null; }
cgroup_empty() { [ -z "$(cat "$1/cgroup.procs")" ]; }

# agent_cpu WHICH: CPU seconds used by the agent and all its helpers, the
# exited ones included, since agent_start.
agent_cpu() {
    local cg
    cg=$(cgroup_of "$1")
    if [ "$CGVER" = 1 ]; then
        awk '{ printf "%.6f\n", $1 / 1e9 }' "$cg/cpuacct.usage"
    else
        awk '$1 == "usage_usec" { printf "%.6f\n", $2 / 1e6; found = 1 }
             END { exit !found }' "$cg/cpu.stat"
    fi
}

# agent_rss WHICH: resident memory, in MB, of every process of the agent.
agent_rss() {
    local pid kb=0 k
    for pid in $(cat "$(cgroup_of "$1")/cgroup.procs"); do
        k=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || k=0
        kb=$((kb + ${k:-0}))
    done
    awk -v kb="$kb" 'BEGIN { printf "%.1f\n", kb / 1024 }'
}

# agent_procs WHICH: one line per process of the agent: pid, RSS and command.
agent_procs() {
    local pid
    for pid in $(cat "$(cgroup_of "$1")/cgroup.procs"); do
        printf '%s %s %s\n' "$pid" \
            "$(awk '/^VmRSS:/ { print $2 "kB" }' "/proc/$pid/status" 2>/dev/null)" \
            "$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | cut -c1-100)"
    done
}

# --- networks and ports ---------------------------------------------------------

# net_create NAME TYPE [PHYSNET [SEGID]] CIDR: a network of TYPE (vxlan,
# gre; flat on PHYSNET; vlan SEGID on PHYSNET) called bench-HOST-NAME,
# with its subnet; prints its id.
net_create() {
    local name=$1 type=$2 id
    case $type in
    vxlan|gre) id=$(new_net "bench-$BENCH_HOST-$name" "$3" "$type") ;;
    flat) id=$(new_net "bench-$BENCH_HOST-$name" "$4" flat "$3") ;;
    vlan) id=$(new_net "bench-$BENCH_HOST-$name" "$5" vlan "$3" "$4") ;;
    *) die "net_create: unknown network type '$type'" ;;
    esac || die "cannot create network $name"
    echo "$id"
}

# port_create NET NAME [GROUP...]: a port bound to the bench host, as nova
# creates it, in the groups GROUP (none given: the default group); prints
# "id mac ip".
port_create() { new_port "$1" "$2" "$BENCH_HOST" "" "${@:3}"; }

# vif_plug_args PORT_ID MAC: the ovs-vsctl arguments that plug one VIF as
# os-vif does (an internal port stands for the VM's tap device).
vif_plug_args() {
    local tap
    tap=$(tap_of "$1")
    echo "-- --may-exist add-port br-int $tap -- set Interface $tap type=internal" \
         "external_ids:iface-id=$1 external_ids:attached-mac=$2" \
         "external_ids:iface-status=active external_ids:vm-uuid=$1"
}

# ports_all_status NET STATUS COUNT: COUNT ports of NET have STATUS.
ports_all_status() {
    [ "$(api GET "/ports?network_id=$1&fields=status" \
         | jq --arg s "$2" '[.ports[] | select(.status == $s)] | length')" -ge "$3" ]
}

# net_delete ID: the network and its ports, from the API.
net_delete() {
    local p
    for p in $(api GET "/ports?network_id=$1&fields=id" | jq -r '.ports[].id'); do
        api DELETE "/ports/$p" >/dev/null
    done
    api DELETE "/networks/$1" >/dev/null
}

# nets_cleanup: deletes every network a bench run made (a run that was
# interrupted leaves them behind).
nets_cleanup() {
    local n
    for n in $(api GET "/networks?fields=id&fields=name" \
               | jq -r --arg h "$BENCH_HOST" '.networks[] | select(.name | startswith("bench-\($h)-")) | .id'); do
        net_delete "$n"
    done
}

# --- flows -----------------------------------------------------------------

# dump_bridge BR: the bridge's flows as ovs-ofctl shows them, without
# counters.
dump_bridge() {
    ofctl -O OpenFlow13 --no-stats --names dump-flows "$1" | grep -v '^OFPST_FLOW'
}

# cookies BR...: the distinct cookies of the bridges' flows.
cookies() {
    local br
    for br in "$@"; do dump_bridge "$br"; done \
        | sed -n 's/.*cookie=\(0x[0-9a-f]*\),.*/\1/p' | sort -u
}
