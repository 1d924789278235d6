# shellcheck shell=bash
# Shared helpers for the system tests.  Sourced by tests/system/test-*.sh:
#
#     . "$(dirname "$0")/lib.sh"
#     sandbox_init
#     ovs_start hv1 netdev
#     ...
#
# Every daemon a test talks to is private: each switch gets its own
# ovsdb-server and ovs-vswitchd under $SANDBOX/<switch>, with OVS_RUNDIR and
# friends pointing there, so the machine's own Open vSwitch is never used.
# A "netdev" switch (userspace datapath, real packets) also gets its own
# network namespace, because every netdev datapath creates a kernel tap device
# called "ovs-netdev" and one per bridge, which would collide between two
# switches in the same namespace.
#
# Results are printed as "ok - text", "not ok - text" and "skip - text"
# lines, which tests/run-tests counts; lines starting with "# " are comments.
#
# Everything a test starts is written to $SANDBOX/.cleanup as it is started,
# so that the EXIT trap (or tests/run-tests, after a test was killed) can
# stop it all: see sandbox_reap.
#
# Every test runs under "set -euo pipefail".  The file only defines
# functions and a few variables, and is safe under it.  Under pipefail,
# "CMD | grep -q TEXT" can fail although TEXT is there: grep leaves at the
# first match, and CMD, still writing, dies of SIGPIPE.  Search output
# whole instead: "out=$(CMD); grep -q TEXT <<<\"$out\"", or a grep without
# -q ("CMD | grep TEXT >/dev/null"), which reads to the end.
#
# A negative check (a ping is blocked, a flow or a tunnel is gone) passes
# only if several tries in a row all fail, never because one try happened
# to fail: "never TRIES CMD...", or after a change "wait_never TIMEOUT
# TRIES CMD...".  A file written once (a log) is read once.
#
# Neutron's API and names (api, new_net, new_port, port_is, new_group,
# add_rule, tunnel_port_name...) are in lib-neutron.sh, which this file
# sources and bench/lib.sh shares.

OVSA_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# shellcheck source=tests/system/lib-neutron.sh
. "$OVSA_TOP/tests/system/lib-neutron.sh"
# The tests' API calls give up after 30 s.
API_MAX_TIME=30
# shellcheck disable=SC2034  # for the tests: the top of the tree
TOP=$OVSA_TOP
OVSA_LOGDIR=${OVSAGENT_TEST_LOGDIR:-$OVSA_TOP/build/test-logs}
OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}
TEST_NAME=${TEST_NAME:-$(basename "$0" .sh)}
OVSA_PYTHON=$(command -v /usr/bin/python3 || command -v python3)

# Where the programs under test live: build/out, or build/asan for
# sanitizer builds (tests/run-tests exports OVSAGENT_OUT).
if [ "${SANITIZE:-0}" = 1 ]; then
    OVSAGENT_OUT=${OVSAGENT_OUT:-$OVSA_TOP/build/asan}
else
    OVSAGENT_OUT=${OVSAGENT_OUT:-$OVSA_TOP/build/out}
fi
OVSAGENT=${OVSAGENT:-$OVSAGENT_OUT/ovsagent}
OVSAGENT_CLEANUP=${OVSAGENT_CLEANUP:-$OVSAGENT_OUT/ovsagent-cleanup}

# Point the OVS utilities' defaults at a directory that does not exist, so
# that a bare "ovs-vsctl" slipping into a test fails instead of talking to
# the machine's own switch.  The ovs_* helpers below always set their own.
export OVS_RUNDIR=/nonexistent/ovsagent-tests OVS_DBDIR=/nonexistent/ovsagent-tests
export OVS_LOGDIR=/nonexistent/ovsagent-tests OVS_SYSCONFDIR=/nonexistent/ovsagent-tests
export OVS_PKGDATADIR=/nonexistent/ovsagent-tests

SANDBOX=
SANDBOX_ID=
_OVSA_NFAIL=0
_OVSA_IN_CHECK=0
_OVSA_CHECK_FAILED=0

# Results go to the test's original stdout, also from inside a command
# substitution or a checked command, so that none is ever swallowed.
exec {_OVSA_OUT}>&1

# ---------------------------------------------------------------------------
# Reporting.

# ok TEXT: one passed check.
ok() { echo "ok - $*" >&"$_OVSA_OUT"; }

# not_ok TEXT: one failed check; the test goes on, but will exit non-zero.
not_ok() {
    echo "not ok - $*" >&"$_OVSA_OUT"
    _OVSA_NFAIL=$((_OVSA_NFAIL + 1))
    # Also leave a mark on disk, in case we are in a subshell.
    if [ -n "$SANDBOX" ] && [ -d "$SANDBOX" ]; then
        echo "$*" >> "$SANDBOX/.failed"
    fi
}

# skip TEXT: a check that could not be run here.
skip() { echo "skip - $*" >&"$_OVSA_OUT"; }

# fail TEXT: a failed check after which the test cannot go on.
fail() { not_ok "$@"; exit 1; }

# note TEXT: a comment in the test's output.
note() { echo "# $*" >&"$_OVSA_OUT"; }

# check TEXT -- CMD...: runs CMD (a program or a function); prints "ok" if it
# succeeds, otherwise "not ok" followed by its output.  Returns CMD's status,
# so that under "set -e" a failed check ends the test, as OVS's AT_CHECK
# does (add "|| true" to go on).  CMD runs in a subshell: variables it sets
# are lost.
check() {
    _check_args "$@"
    local text=$1 out rc=0
    shift 2
    out=$(_OVSA_IN_CHECK=1; "$@" 2>&1) || rc=$?
    _OVSA_CHECK_FAILED=0
    if [ "$rc" = 0 ]; then
        ok "$text"
    else
        not_ok "$text"
        _indent "$out" "status $rc: $*"
        _OVSA_CHECK_FAILED=1    # said already: not again by _sandbox_err
    fi
    return "$rc"
}

# check_fails TEXT -- CMD...: like check, but CMD is expected to fail.
check_fails() {
    _check_args "$@"
    local text=$1 out rc=0
    shift 2
    out=$(_OVSA_IN_CHECK=1; "$@" 2>&1) || rc=$?
    _OVSA_CHECK_FAILED=0
    if [ "$rc" != 0 ]; then
        ok "$text"
        return 0
    fi
    not_ok "$text"
    _indent "$out" "unexpectedly succeeded: $*"
    _OVSA_CHECK_FAILED=1
    return 1
}

_check_args() {
    if [ $# -lt 3 ] || [ "$2" != "--" ]; then
        fail "usage: check TEXT -- CMD... (called with: $*)"
    fi
}

# _indent TEXT HEADER: prints HEADER and at most 50 lines of TEXT as comments.
_indent() {
    {
        echo "#   $2"
        [ -z "$1" ] || printf '%s\n' "$1" | head -n 50 | sed 's/^/#     /'
    } >&"$_OVSA_OUT"
}

# not CMD...: succeeds if CMD fails (for wait_until and check, where "!" is
# not available).  For a negative check, use never.
not() { ! "$@"; }

# never TRIES CMD...: runs CMD (a program or a function, in a subshell)
# TRIES times in a row, with nothing between the tries but CMD's own time,
# and succeeds only if every try fails.  The negative checks use it, so
# that a packet that happened to be lost, or a flow caught between its
# delete and its add, cannot pass them:
#     check "vm3 cannot ping vm1" -- never 3 vm_ping vm3 "$ip1"
# If a try succeeds, says which and what it printed, and returns 1 at once.
never() {
    # Prefixed names: a function CMD sees these locals, which must not hide
    # its own variables.
    local _never_n=$1 _never_i _never_out
    shift
    for ((_never_i = 1; _never_i <= _never_n; _never_i++)); do
        if _never_out=$("$@" 2>&1); then
            echo "try $_never_i of $_never_n succeeded: $*"
            [ -z "$_never_out" ] || printf '%s\n' "$_never_out"
            return 1
        fi
    done
}

# wait_never TIMEOUT_S TRIES CMD...: for a change that must stop CMD from
# succeeding (a rule removed, a port deleted): waits up to TIMEOUT_S
# seconds for CMD to fail, as "wait_until TIMEOUT_S not CMD" does, then
# requires the TRIES tries that follow to fail too (never).
wait_never() {
    local _wn_timeout=$1 _wn_tries=$2
    shift 2
    if ! wait_until "$_wn_timeout" not "$@"; then
        echo "still succeeds after $_wn_timeout s: $*"
        return 1
    fi
    never "$_wn_tries" "$@"
}

# wait_until TIMEOUT_S CMD...: runs CMD (output discarded) every 0.05 s until
# it succeeds (returns 0) or TIMEOUT_S seconds (may be fractional) have
# passed (returns 1).  Tests wait for conditions this way, never with sleep.
wait_until() {
    local timeout=$1
    shift
    local deadline=$(( $(_now_us) + $(_secs_to_us "$timeout") ))
    while :; do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if [ "$(_now_us)" -ge "$deadline" ]; then
            return 1
        fi
        sleep 0.05
    done
}

# Microseconds since the epoch, from bash's clock (no fork).
_now_us() {
    local t=${EPOCHREALTIME//[.,]/}
    echo "$((10#$t))"
}

# "1.5" -> 1500000
_secs_to_us() {
    local s=${1%%.*} f=${1#*.}
    [ "$f" != "$1" ] || f=
    [ -n "$s" ] || s=0
    f=${f}000000
    echo "$(( 10#$s * 1000000 + 10#${f:0:6} ))"
}

# _rand_hex N: 2N random hex digits.
_rand_hex() {
    od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# _pid_alive PID: true if PID runs (a zombie counts as dead).
_pid_alive() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat:0:1}" != Z ]
}

# _pid_is_ours PID DIR: true if PID runs and its command line mentions DIR,
# so that a recycled pid is never killed by mistake.
_pid_is_ours() {
    local cmdline
    _pid_alive "$1" && cmdline=$(tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null) \
        && grep -qF -- "$2" <<<"$cmdline"
}

# ---------------------------------------------------------------------------
# The sandbox.

# sandbox_init: makes $SANDBOX (under ${TMPDIR:-/tmp}) and the EXIT trap
# that stops everything started in it and removes it (kept with
# KEEP_SANDBOX=1).  If the test failed, the logs are copied to
# build/test-logs/<test name>/ first.
sandbox_init() {
    [ "$(id -u)" = 0 ] || fail "system tests must run as root"
    SANDBOX=$(mktemp -d "${TMPDIR:-/tmp}/$TEST_NAME.XXXXXX")
    SANDBOX_ID=${SANDBOX##*.}
    # Readable by others, for programs run with as_user.
    chmod 755 "$SANDBOX"
    : > "$SANDBOX/.cleanup"
    _OVSA_NFAIL=0
    trap _sandbox_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    trap '_sandbox_err $? $LINENO "$BASH_COMMAND"' ERR
    note "sandbox $SANDBOX"
}

# Under "set -e", says which command ended the test, unless it was a check
# that said so already.
_sandbox_err() {
    if [ "$_OVSA_CHECK_FAILED" = 1 ] && [[ $3 == return* ]]; then
        _OVSA_CHECK_FAILED=0
        return
    fi
    case $- in
        *e*) not_ok "line $2: '$3' exited with status $1" ;;
    esac
}

_sandbox_exit() {
    local rc=$? failed=no dest
    trap - EXIT ERR INT TERM
    set +e
    if [ "$rc" != 0 ] || [ "$_OVSA_NFAIL" != 0 ] || [ -e "$SANDBOX/.failed" ]; then
        failed=yes
    fi
    sandbox_reap "$SANDBOX"
    dest=$OVSA_LOGDIR/$TEST_NAME
    rm -rf "$dest"
    if [ "$failed" = yes ]; then
        mkdir -p "$dest"
        (cd "$SANDBOX" && find . -type f \( -name '*.log' -o -name '*.stderr' \
            -o -name '*.ini' -o -name '*.conf' \) -exec cp --parents {} "$dest" \;)
        note "logs copied to $dest"
    fi
    if [ "${KEEP_SANDBOX:-0}" = 1 ]; then
        note "sandbox kept in $SANDBOX"
    else
        rm -rf "$SANDBOX"
    fi
    if [ "$failed" = yes ] && [ "$rc" = 0 ]; then
        rc=1
    fi
    exit "$rc"
}

# _register KIND ARGS...: records something to stop at the end.
#   pid PID NAME     a process started in the background (agents)
#   switch DIR       a switch's ovsdb-server and ovs-vswitchd, by pidfile
#   netns NAME       a network namespace
#   link NAME        a network device in the root namespace
_register() {
    echo "$*" >> "$SANDBOX/.cleanup"
}

# sandbox_reap DIR: stops everything recorded in DIR/.cleanup, in an order
# where nothing is stopped before what uses it.  Used by the EXIT trap, and by
# tests/run-tests on a sandbox whose test was killed.
sandbox_reap() {
    local dir=$1 list=$1/.cleanup kind a b pid
    # Whatever fails here, go on (the option is restored on return).
    local -
    set +e
    [ -f "$list" ] || return 0
    # 1. Background processes (agents): SIGTERM, then SIGKILL.
    while read -r kind a b; do
        [ "$kind" = pid ] || continue
        _pid_is_ours "$a" "$dir" || continue
        kill -TERM "$a" 2>/dev/null
        wait_until 5 not _pid_alive "$a" || kill -KILL "$a" 2>/dev/null
    done < "$list"
    # 2. Switches: ovs-vswitchd, then its database.
    while read -r kind a b; do
        [ "$kind" = switch ] || continue
        _daemon_stop "$a" ovs-vswitchd
        _daemon_stop "$a" ovsdb-server
    done < "$list"
    # 3. Network namespaces, with anything still running inside them.  Their
    # devices go with them (and a veth takes its peer along).
    while read -r kind a b; do
        [ "$kind" = netns ] || continue
        [ -e "/run/netns/$a" ] || continue
        for pid in $(ip netns pids "$a" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$a" 2>/dev/null
    done < "$list"
    # 4. Devices left in the root namespace.
    while read -r kind a b; do
        [ "$kind" = link ] || continue
        ip link del "$a" 2>/dev/null
    done < "$list"
    mv "$list" "$list.done"
}

# ---------------------------------------------------------------------------
# Private switches.

# free_port: prints a TCP port that is free on 127.0.0.1 right now.
free_port() {
    "$OVSA_PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# ovs_dir NAME: the switch's directory (its OVS_RUNDIR, logs, database).
ovs_dir() {
    local dir=$SANDBOX/$1
    [ -f "$dir/type" ] || fail "no switch called '$1'"
    echo "$dir"
}

# ovs_netns NAME: the switch's network namespace (empty for a dummy switch).
ovs_netns() {
    local dir
    dir=$(ovs_dir "$1")
    cat "$dir/netns"
}

# _ovs_prefix NAME: sets the array _PREFIX to the command prefix that runs a
# program for switch NAME: inside its namespace, with its OVS_* variables.
_ovs_prefix() {
    local dir ns
    dir=$(ovs_dir "$1")
    ns=$(cat "$dir/netns")
    _PREFIX=()
    [ -z "$ns" ] || _PREFIX=(ip netns exec "$ns")
    _PREFIX+=(env OVS_RUNDIR="$dir" OVS_DBDIR="$dir" OVS_LOGDIR="$dir"
              OVS_SYSCONFDIR="$dir" OVS_PKGDATADIR="$dir")
}

# ovs_exec NAME CMD...: runs the program CMD for switch NAME (in its
# namespace if it has one, with its OVS_* variables).
ovs_exec() {
    local _PREFIX
    _ovs_prefix "$1"
    shift
    # The daemons started this way must not hold the test's stdout open.
    "${_PREFIX[@]}" "$@" {_OVSA_OUT}>&-
}

# ovs_vsctl NAME ARGS...: ovs-vsctl against the switch's database.
ovs_vsctl() {
    local name=$1 dir
    dir=$(ovs_dir "$name")
    shift
    ovs_exec "$name" ovs-vsctl --timeout=30 --db="unix:$dir/db.sock" "$@"
}

# ovs_ofctl NAME ARGS...: ovs-ofctl; a bridge name reaches its mgmt socket.
ovs_ofctl() {
    local name=$1
    shift
    ovs_exec "$name" ovs-ofctl "$@"
}

# ovs_appctl NAME TARGET ARGS...: ovs-appctl -t TARGET (ovs-vswitchd or
# ovsdb-server) for the switch.
ovs_appctl() {
    local name=$1 target=$2
    shift 2
    ovs_exec "$name" ovs-appctl --timeout=30 -t "$target" "$@"
}

# ovs_db_tcp NAME: the TCP address of the switch's ovsdb-server.  It listens
# inside the switch's namespace, so it is reachable from there (and from the
# agent, which runs there too).
ovs_db_tcp() {
    local dir
    dir=$(ovs_dir "$1")
    echo "tcp:127.0.0.1:$(cat "$dir/db-port")"
}

# ovs_db_unix NAME: the unix socket address of its ovsdb-server, usable from
# any namespace.
ovs_db_unix() {
    local dir
    dir=$(ovs_dir "$1")
    echo "unix:$dir/db.sock"
}

# ovs_start NAME [dummy|netdev] [VSWITCHD_ARGS...]: starts switch NAME.
#   dummy   (default) ovs-vswitchd --enable-dummy=override: every datapath
#           type ("system" included) is a dummy one and no kernel device is
#           made; packets are injected with "netdev-dummy/receive".
#   netdev  the userspace datapath on real devices, in a namespace of its own
#           called ovsa-NAME-<sandbox id>.
# Extra arguments go to ovs-vswitchd, also when it is restarted.
#
# The database listens on TCP port 127.0.0.1:<free port> (ovs_db_tcp), in one
# of three ways, which OVS_DB_TCP in the environment chooses:
#   manager  (default) a Manager row "ptcp:PORT:127.0.0.1", as on a host where
#            the agent ran before: the agent finds its Manager there.
#   remote   an ovsdb-server --remote option.  When the agent then adds the
#            same target as a Manager, ovsdb-server reopens the port (the
#            Manager's DSCP differs) and drops every session on it, the
#            agent's own included: expect one reconnection.
#   none     nothing, as on a fresh host (ovs-ctl starts ovsdb-server with the
#            unix socket only): the port listens once someone adds the Manager
#            through the unix socket.
ovs_start() {
    local name=$1 type=${2:-dummy} dir ns=''
    shift
    [ $# = 0 ] || shift
    [ -n "$SANDBOX" ] || fail "ovs_start: call sandbox_init first"
    case $type in
        dummy|netdev) ;;
        *) fail "ovs_start: unknown switch type '$type'" ;;
    esac
    dir=$SANDBOX/$name
    [ ! -e "$dir" ] || fail "ovs_start: switch '$name' exists already"
    mkdir -p "$dir"
    if [ "$type" = netdev ]; then
        ns=ovsa-$name-$SANDBOX_ID
        ip netns add "$ns"
        _register netns "$ns"
        ip -n "$ns" link set lo up
    fi
    echo "$ns" > "$dir/netns"
    : > "$dir/vswitchd-args"
    [ $# = 0 ] || printf '%s\n' "$@" > "$dir/vswitchd-args"
    echo "$type" > "$dir/type"
    case ${OVS_DB_TCP:-manager} in
        manager|remote|none) echo "${OVS_DB_TCP:-manager}" > "$dir/db-tcp" ;;
        *) fail "ovs_start: OVS_DB_TCP must be manager, remote or none" ;;
    esac
    _register switch "$dir"
    ln -s "$OVS_SCHEMA" "$dir/vswitch.ovsschema"

    ovs_exec "$name" ovsdb-tool create "$dir/conf.db" "$dir/vswitch.ovsschema"
    ovs_start_ovsdb "$name"
    # With what ovs-ctl also sets on a real host.
    ovs_vsctl "$name" --no-wait -- init -- set Open_vSwitch . \
        ovs_version="$(ovs-vswitchd --version | sed -n '1s/.* //p')" \
        db_version="$(ovsdb-tool schema-version "$OVS_SCHEMA")" \
        external_ids:system-id="$(cat /proc/sys/kernel/random/uuid)"
    _ovsdb_tcp_init "$name"
    ovs_start_vswitchd "$name"
}

# ovs_start_ovsdb NAME: (re)starts the switch's ovsdb-server.  It listens
# on the unix socket and on the Managers' targets (and, with OVS_DB_TCP=remote,
# on its TCP port, chosen free the first time, the same one afterwards).
ovs_start_ovsdb() {
    local name=$1 dir port mode tcp=()
    dir=$(ovs_dir "$name")
    mode=$(cat "$dir/db-tcp")
    port=$(cat "$dir/db-port" 2>/dev/null || true)
    for _ in 1 2 3 4 5; do
        if [ "$mode" = remote ]; then
            [ -f "$dir/db-port" ] || port=$(free_port)
            tcp=(--remote="ptcp:$port:127.0.0.1")
        fi
        ovs_exec "$name" ovsdb-server "$dir/conf.db" \
            --detach --no-chdir -vconsole:off \
            --pidfile="$dir/ovsdb-server.pid" --log-file="$dir/ovsdb-server.log" \
            --remote="punix:$dir/db.sock" \
            --remote=db:Open_vSwitch,Open_vSwitch,manager_options \
            ${tcp[@]+"${tcp[@]}"} \
            || fail "ovsdb-server of switch $name did not start: $(tail -n 5 "$dir/ovsdb-server.log")"
        [ "$mode" = remote ] || break
        if wait_until 5 _ovsdb_listens "$name" "$port"; then
            echo "$port" > "$dir/db-port"
            return 0
        fi
        # Another program took the port after free_port found it free.
        _daemon_stop "$dir" ovsdb-server || true
        [ ! -f "$dir/db-port" ] || break
    done
    [ "$mode" != remote ] || fail "ovsdb-server of switch $name cannot listen on TCP port $port"
    # After a restart, the port comes back with its Manager, unless the test
    # removed it.
    if [ -n "$port" ] && ovs_vsctl "$name" get-manager | grep -x "ptcp:$port:127.0.0.1" >/dev/null; then
        wait_until 10 _ovsdb_listens "$name" "$port" \
            || fail "ovsdb-server of switch $name does not listen on TCP port $port"
    fi
}

# _ovsdb_tcp_init NAME: the TCP port of a new switch whose ovsdb-server has
# no --remote for it (OVS_DB_TCP=manager or none): a free port, and in the
# first case the Manager "ptcp:PORT:127.0.0.1".
_ovsdb_tcp_init() {
    local name=$1 dir port
    dir=$(ovs_dir "$name")
    case $(cat "$dir/db-tcp") in
        remote) return 0 ;;
        none) free_port > "$dir/db-port"; return 0 ;;
    esac
    for _ in 1 2 3 4 5; do
        port=$(free_port)
        ovs_vsctl "$name" --no-wait set-manager "ptcp:$port:127.0.0.1"
        if wait_until 5 _ovsdb_listens "$name" "$port"; then
            echo "$port" > "$dir/db-port"
            return 0
        fi
        # Another program took the port after free_port found it free.
    done
    fail "ovsdb-server of switch $name cannot listen on a TCP port"
}

# _ovsdb_listens NAME PORT: the switch's ovsdb-server listens on PORT.
_ovsdb_listens() {
    local pid
    pid=$(cat "$(ovs_dir "$1")/ovsdb-server.pid") || return 1
    ovs_exec "$1" ss -Hltnp "sport = :$2" | grep "pid=$pid," >/dev/null
}

# ovs_start_vswitchd NAME: (re)starts the switch's ovs-vswitchd with the
# options it was first given; returns once it has configured itself from the
# database and answers "ovs-appctl version".
ovs_start_vswitchd() {
    local name=$1 dir args extra=()
    dir=$(ovs_dir "$name")
    mapfile -t extra < "$dir/vswitchd-args"
    args=(--detach --no-chdir -vconsole:off
          --pidfile="$dir/ovs-vswitchd.pid" --log-file="$dir/ovs-vswitchd.log")
    # Order matters: --enable-dummy=override must come before
    # --disable-system, or the dummy "system" datapath is refused too.
    if [ "$(cat "$dir/type")" = dummy ]; then
        args+=(--enable-dummy=override --disable-system --disable-system-route)
    else
        args+=(--disable-system)
    fi
    # With --detach, ovs-vswitchd returns once its first configuration is
    # done, but it waits for the database forever: hence the timeout.
    ovs_exec "$name" timeout 30 ovs-vswitchd "unix:$dir/db.sock" "${args[@]}" \
        ${extra[@]+"${extra[@]}"} \
        || fail "ovs-vswitchd of switch $name did not start: $(tail -n 5 "$dir/ovs-vswitchd.log")"
    wait_until 10 ovs_appctl "$name" ovs-vswitchd version \
        || fail "ovs-vswitchd of switch $name does not answer"
}

# _daemon_stop DIR DAEMON: "ovs-appctl exit" to the daemon with pidfile
# DIR/DAEMON.pid, then waits for it to be gone (SIGKILL after 10 s).
# Returns 1 if it had to be killed.
_daemon_stop() {
    local dir=$1 daemon=$2 pid rc=0
    pid=$(cat "$dir/$daemon.pid" 2>/dev/null) || return 0
    _pid_is_ours "$pid" "$dir" || return 0
    # The control socket is a file: reachable from any namespace.
    timeout 10 env OVS_RUNDIR="$dir" \
        ovs-appctl -t "$dir/$daemon.$pid.ctl" exit >/dev/null 2>&1
    if ! wait_until 10 not _pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        rc=1
    fi
    wait_until 2 not _pid_alive "$pid"
    return "$rc"
}

# ovs_stop_vswitchd NAME / ovs_stop_ovsdb NAME: stops that daemon.
ovs_stop_vswitchd() {
    local dir
    dir=$(ovs_dir "$1")
    _daemon_stop "$dir" ovs-vswitchd || not_ok "ovs-vswitchd of $1 had to be killed"
}
ovs_stop_ovsdb() {
    local dir
    dir=$(ovs_dir "$1")
    _daemon_stop "$dir" ovsdb-server || not_ok "ovsdb-server of $1 had to be killed"
}

# ovs_restart_vswitchd NAME / ovs_restart_ovsdb NAME: stop, then start again.
ovs_restart_vswitchd() { ovs_stop_vswitchd "$1"; ovs_start_vswitchd "$1"; }
ovs_restart_ovsdb() { ovs_stop_ovsdb "$1"; ovs_start_ovsdb "$1"; }

# netns_uplink NAME: connects the namespace of netdev switch NAME to the root
# namespace with a veth pair (once) and prints the root side's address, at
# which a service of the root namespace (RabbitMQ, say, listening on all
# addresses) is reachable from the switch's namespace, where 127.0.0.1 is
# not the host's.  Addresses come from 198.18.0.0/15 (RFC 2544).
netns_uplink() {
    local name=$1 dir ns a b c dev
    dir=$(ovs_dir "$name")
    if [ -f "$dir/uplink" ]; then
        cat "$dir/uplink"
        return
    fi
    ns=$(ovs_netns "$name")
    [ -n "$ns" ] || fail "netns_uplink: switch $name has no namespace"
    while :; do
        a=$((18 + RANDOM % 2)) b=$((RANDOM % 256)) c=$((RANDOM % 64 * 4))
        ip -o addr show | grep " 198\.$a\.$b\.$((c + 1))/" >/dev/null || break
    done
    dev=oau$(_rand_hex 4)
    ip link add "$dev" type veth peer name uplink netns "$ns"
    _register link "$dev"
    ip addr add "198.$a.$b.$((c + 1))/30" dev "$dev"
    ip link set "$dev" up
    ip -n "$ns" addr add "198.$a.$b.$((c + 2))/30" dev uplink
    ip -n "$ns" link set uplink up
    echo "$dev" > "$dir/uplink-dev"
    echo "198.$a.$b.$((c + 1))" | tee "$dir/uplink"
}

# ---------------------------------------------------------------------------
# stack_private: makes scripts/stack, and what runs it, use a Neutron
# control plane of this test's own (directory, node name, ports, link
# address), stopped and removed when the test exits, its logs kept in the
# sandbox.  The test then runs "$TOP/scripts/stack" up.
stack_private() {
    export STACK_DIR=/var/tmp/ovsagent-stack-$SANDBOX_ID
    export RABBIT_PORT=$(free_port) RABBIT_DIST_PORT=$(free_port)
    export RABBIT_TLS_PORT=$(free_port)
    export RABBIT_EPMD_PORT=$(free_port) DB_PORT=$(free_port)
    export NEUTRON_PORT=$(free_port)
    export RABBIT_NODE=ovsa-$SANDBOX_ID@localhost
    export STACK_LINK_DEV=ovsa-st$(_rand_hex 2)
    export STACK_LINK_IP=169.254.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 2))
    trap '_stack_private_down; _sandbox_exit' EXIT
}
# stack_up_private: stack_private, then the stack up, its environment
# (OVSAGENT_API_URL, OVSAGENT_TRANSPORT_URL_LINK, ...) in this shell.
stack_up_private() {
    stack_private
    if ! "$TOP/scripts/stack" up > "$SANDBOX/stack-up.log" 2>&1; then
        tail -n 30 "$SANDBOX/stack-up.log" | sed 's/^/# /'
        fail "the Neutron stack did not come up"
    fi
    eval "$("$TOP/scripts/stack" env)"
    ok "RabbitMQ, MariaDB and neutron-server are up"
}

_stack_private_down() {
    cp -r "$STACK_DIR/logs" "$SANDBOX/stack-logs" 2>/dev/null || true
    "$TOP/scripts/stack" down --purge >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------
# "VMs": network namespaces with one end of a veth pair, called eth0; the
# other end, t-<VM>, is a port of a bridge.  A veth rather than an OVS
# internal port, because an internal port of the userspace datapath is a tap
# device that vanishes when ovs-vswitchd restarts.

# vm_add SWITCH BRIDGE VM MAC IP/PREFIX [TAG]: a VM on BRIDGE of SWITCH, on
# access VLAN TAG if given.  VM names have at most 13 characters.
vm_add() {
    local sw=$1 br=$2 vm=$3 mac=$4 ip=$5 tag=${6:-}
    local extra=()
    [ -z "$tag" ] || extra=(tag="$tag")
    _vm_create "$sw" "$vm" "$mac" "$ip"
    ovs_vsctl "$sw" add-port "$br" "t-$vm" ${extra[@]+"${extra[@]}"}
}

# vif_add SWITCH VM MAC IP/PREFIX IFACE_ID [BRIDGE]: a Neutron VIF as os-vif
# plugs it: on br-int (or BRIDGE), with the Interface's external_ids
# iface-id, attached-mac and iface-status=active, and no tag.
vif_add() {
    local sw=$1 vm=$2 mac=$3 ip=$4 id=$5 br=${6:-br-int}
    _vm_create "$sw" "$vm" "$mac" "$ip"
    ovs_vsctl "$sw" add-port "$br" "t-$vm" -- set Interface "t-$vm" \
        external_ids:iface-id="$id" external_ids:attached-mac="$mac" \
        external_ids:iface-status=active
}

# vif_del VM: unplugs VM's VIF as os-vif does (its Port leaves the
# bridge), then removes the VM: its namespace, and with it the veth pair.
# The name can then be used again.
vif_del() {
    local vm=$1 dir=$SANDBOX/vm/$1 sw
    [ -f "$dir/switch" ] || fail "no VM called '$vm'"
    sw=$(cat "$dir/switch")
    ovs_vsctl "$sw" --if-exists del-port "t-$vm"
    ip netns del "$(cat "$dir/netns")"
    rm -rf "$dir"
}

# _vm_create SWITCH VM MAC IP/PREFIX: the namespace and the veth pair.
_vm_create() {
    local sw=$1 vm=$2 mac=$3 ip=$4 ns swns tmp dir
    [ ${#vm} -le 13 ] || fail "VM name '$vm' is longer than 13 characters"
    dir=$SANDBOX/vm/$vm
    [ ! -e "$dir" ] || fail "VM '$vm' exists already"
    mkdir -p "$dir"
    ns=ovsa-vm-$vm-$SANDBOX_ID
    swns=$(ovs_netns "$sw")
    echo "$ns" > "$dir/netns"
    echo "$sw" > "$dir/switch"
    ip netns add "$ns"
    _register netns "$ns"
    ip -n "$ns" link set lo up
    # Created under a random name, so that tests running side by side do not
    # collide in the root namespace, then renamed where it ends up.
    tmp=oa$(_rand_hex 4)
    ip link add "$tmp" type veth peer name eth0 netns "$ns"
    if [ -n "$swns" ]; then
        ip link set "$tmp" netns "$swns"
        ip -n "$swns" link set "$tmp" name "t-$vm"
        ip -n "$swns" link set "t-$vm" up
    else
        _register link "t-$vm"
        ip link set "$tmp" name "t-$vm"
        ip link set "t-$vm" up
    fi
    ip -n "$ns" link set eth0 address "$mac"
    ip -n "$ns" addr add "$ip" dev eth0
    _tx_csum_off "$ns" eth0
    ip -n "$ns" link set eth0 up
}

# _tx_csum_off NETNS DEV: turns transmit checksum offload off on DEV (what
# "ethtool -K DEV tx off" does, with the SIOCETHTOOL ioctl, as ethtool may
# not be installed).  The userspace datapath forwards what it reads from a
# veth as is: a TCP packet whose checksum was left to the hardware would
# reach the other VM with a bad checksum and be dropped.
_tx_csum_off() {
    ip netns exec "$1" "$OVSA_PYTHON" -c '
import array, fcntl, socket, struct, sys
ETHTOOL_STXCSUM, SIOCETHTOOL = 0x17, 0x8946
value = array.array("I", [ETHTOOL_STXCSUM, 0])
ifreq = struct.pack("16sP", sys.argv[1].encode(), value.buffer_info()[0])
fcntl.ioctl(socket.socket(socket.AF_INET, socket.SOCK_DGRAM), SIOCETHTOOL,
            ifreq.ljust(40, b"\0"))
' "$2"
}

# vm_netns VM: the VM's namespace.  vm_exec VM CMD...: runs CMD in it.
vm_netns() {
    local dir=$SANDBOX/vm/$1
    [ -f "$dir/netns" ] || fail "no VM called '$1'"
    cat "$dir/netns"
}
vm_exec() {
    local ns
    ns=$(vm_netns "$1")
    shift
    ip netns exec "$ns" "$@"
}

# vm_ping VM IP: true if VM gets an answer from IP (3 pings, 1 s timeout).
vm_ping() {
    vm_exec "$1" ping -q -c 3 -i 0.2 -W 1 "$2"
}

# ---------------------------------------------------------------------------
# Flows.

# dump_flows SWITCH BRIDGE: the bridge's flows, one per line, sorted, with
# cookies, durations and counters removed (timeouts and reset_counts kept),
# port names instead of numbers.
dump_flows() {
    ovs_ofctl "$1" -O OpenFlow13 --no-stats --names dump-flows "$2" \
        | sed -e '/^OFPST_FLOW\|^NXST_FLOW/d' -e 's/^ *//' \
              -e 's/cookie=0x[0-9a-f]*, *//' -e 's/duration=[0-9.]*s, *//' \
              -e 's/n_packets=[0-9]*, *//' -e 's/n_bytes=[0-9]*, *//' \
              -e 's/idle_age=[0-9]*, *//' -e 's/hard_age=[0-9]*, *//' \
        | LC_ALL=C sort
}

# dump_cookies SWITCH BRIDGE: the distinct cookies of the bridge's flows.
dump_cookies() {
    ovs_ofctl "$1" -O OpenFlow13 dump-flows "$2" \
        | sed -n 's/.*cookie=\(0x[0-9a-f]*\).*/\1/p' | LC_ALL=C sort -u
}

# ---------------------------------------------------------------------------
# The agent.

# agent_conf SWITCH [KEY=VALUE | SECTION.KEY=VALUE...]: prints a minimal
# openvswitch_agent.ini for SWITCH.  A bare KEY is in [ovs].  Tests append
# further sections to the file.
agent_conf() {
    local sw=$1 dp kv sect key val i found
    shift
    dp=system   # on a dummy switch, "system" is a dummy datapath too
    [ "$(cat "$(ovs_dir "$sw")/type")" = dummy ] || dp=netdev
    # Parallel arrays: section, key, value, in output order.
    local -a S=(ovs ovs ovs ovs ovs) K V
    K=(ovsdb_connection of_listen_address of_listen_port datapath_type local_ip)
    V=("$(ovs_db_tcp "$sw")" 127.0.0.1 "$(free_port)" "$dp" 127.0.0.1)
    for kv in "$@"; do
        key=${kv%%=*} val=${kv#*=}
        sect=ovs
        if [[ $key == *.* ]]; then
            sect=${key%%.*} key=${key#*.}
        fi
        found=no
        for i in "${!K[@]}"; do
            if [ "${S[i]}" = "$sect" ] && [ "${K[i]}" = "$key" ]; then
                V[i]=$val found=yes
            fi
        done
        [ "$found" = yes ] || { S+=("$sect"); K+=("$key"); V+=("$val"); }
    done
    # Print section by section, in order of first appearance.
    local -a order=()
    for sect in "${S[@]}"; do
        [[ " ${order[*]} " == *" $sect "* ]] || order+=("$sect")
    done
    for sect in "${order[@]}"; do
        echo "[$sect]"
        for i in "${!K[@]}"; do
            [ "${S[i]}" != "$sect" ] || echo "${K[i]} = ${V[i]}"
        done
        echo
    done
}

# agent_start NAME SWITCH CONFFILE [ARGS...]: starts $OVSAGENT in the
# background, in the switch's namespace with its OVS_* variables, with
# "--config-file CONFFILE --log-file $SANDBOX/NAME.log --unixctl
# $SANDBOX/NAME.ctl ARGS..."; its stdout and stderr go to
# $SANDBOX/NAME.stderr.  With AGENT_USER=USER in the environment it runs as
# that user.  If ARGS has its own --unixctl, that one is used (agent_appctl
# knows it; AGENT_CTL_<NAME> set by the test overrides it too).
#
# A small bash process waits for the agent and writes its exit status to
# $SANDBOX/NAME.status, so that agent_exited and agent_exit_status work from
# any subshell.
agent_start() {
    local name=$1 sw=$2 conf=$3 _PREFIX ctl='' a prev='' waiter
    local -a cmd confs=("$conf")
    shift 3
    [ -x "$OVSAGENT" ] || fail "agent_start: $OVSAGENT is not built"
    if [ -e "$SANDBOX/$name.pid" ] && agent_running "$name"; then
        fail "agent_start: agent '$name' runs already"
    fi
    for a in "$@"; do
        case $prev in
            --unixctl) ctl=$a ;;
            --config-file) confs+=("$a") ;;
        esac
        case $a in
            --unixctl=*) ctl=${a#*=} ;;
            --config-file=*) confs+=("${a#*=}") ;;
        esac
        prev=$a
    done
    printf '%s\n' "${confs[@]}" > "$SANDBOX/$name.confs"
    _ovs_prefix "$sw"
    cmd=("${_PREFIX[@]}")
    if [ -n "${AGENT_USER:-}" ]; then
        cmd+=(setpriv --reuid="$AGENT_USER" --regid="$(id -g "$AGENT_USER")"
              --init-groups --)
    fi
    cmd+=("$OVSAGENT" --config-file "$conf" --log-file "$SANDBOX/$name.log")
    if [ -z "$ctl" ]; then
        ctl=$SANDBOX/$name.ctl
        cmd+=(--unixctl "$ctl")
    fi
    echo "$ctl" > "$SANDBOX/$name.ctlpath"
    rm -f "$SANDBOX/$name.pid" "$SANDBOX/$name.status"
    # Everything before the agent only execs (ip netns exec, env, setpriv),
    # so the waiter's $! is the agent itself.
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        bash -c '"${@:2}" & echo $! > "$1.pid"; wait $!; echo $? > "$1.status"' \
        agent-waiter "$SANDBOX/$name" "${cmd[@]}" "$@" \
        >> "$SANDBOX/$name.stderr" 2>&1 {_OVSA_OUT}>&- &
    waiter=$!
    wait_until 5 test -s "$SANDBOX/$name.pid" || fail "agent $name did not start"
    # The agent before its waiter, so that the cleanup stops the agent first.
    _register pid "$(cat "$SANDBOX/$name.pid")" "$name"
    _register pid "$waiter" "$name-waiter"
}

# agent_pid NAME: the agent's pid.
agent_pid() {
    cat "$SANDBOX/$1.pid" 2>/dev/null || fail "no agent called '$1'"
}

# agent_running NAME: true if the agent runs.
agent_running() {
    local pid
    pid=$(agent_pid "$1") && _pid_alive "$pid"
}

# agent_exited NAME: true once the agent has exited (and its status is known).
agent_exited() {
    [ -s "$SANDBOX/$1.status" ]
}

# agent_exit_status NAME: the agent's exit status (128+N: killed by signal N);
# empty while it runs.
agent_exit_status() {
    cat "$SANDBOX/$1.status" 2>/dev/null || true
}

# agent_signal NAME SIGNAL: sends SIGNAL (TERM, HUP, ...) to the agent.
agent_signal() {
    kill -"$2" "$(agent_pid "$1")"
}

# agent_of_port NAME: the of_listen_port in the agent's configuration files
# (the last one wins, as with oslo.config).
agent_of_port() {
    local f
    while read -r f; do
        sed -n 's/^[[:space:]]*of_listen_port[[:space:]]*=[[:space:]]*\([0-9]*\).*/\1/p' "$f"
    done < "$SANDBOX/$1.confs" | tail -n 1
}

# agent_stop NAME: SIGTERM, and waits up to 10 s for the agent to exit
# (not ok, and SIGKILL, if it does not).  Also not ok if it exits with a
# status other than 0 or 143 (SIGTERM), or if a sanitizer complained on its
# stderr.  The status stays available to agent_exit_status.
agent_stop() {
    local name=$1 pid rc
    pid=$(agent_pid "$name")
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_until 10 agent_exited "$name"; then
        not_ok "agent $name did not exit within 10 s of SIGTERM"
        kill -KILL "$pid" 2>/dev/null || true
        wait_until 5 agent_exited "$name" || true
    fi
    rc=$(agent_exit_status "$name")
    case $rc in
        0|143) ;;
        *) not_ok "agent $name exited with status $rc after SIGTERM" ;;
    esac
    _agent_sanitizer_check "$name"
}

# agent_kill NAME: SIGKILL, as a crash would.
agent_kill() {
    local name=$1
    kill -KILL "$(agent_pid "$name")" 2>/dev/null || true
    wait_until 5 agent_exited "$name" || true
}

_agent_sanitizer_check() {
    local err=$SANDBOX/$1.stderr
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$err" 2>/dev/null; then
        not_ok "agent $1: sanitizer report"
        _indent "$(grep -m 20 -A 10 -E 'ERROR: |runtime error:' "$err")" "$err:"
    fi
}

# agent_appctl NAME CMD...: a command on the agent's unixctl socket.
agent_appctl() {
    local name=$1 var ctl
    shift
    var=AGENT_CTL_${name//[^A-Za-z0-9_]/_}
    ctl=${!var:-$(cat "$SANDBOX/$name.ctlpath" 2>/dev/null || echo "$SANDBOX/$name.ctl")}
    ovs-appctl --timeout=30 -t "$ctl" "$@"
}

# agent_in_sync NAME: the agent says its flows are in sync with the switch
# (ovsagent/flows-in-sync).
agent_in_sync() {
    [ "$(agent_appctl "$1" ovsagent/flows-in-sync 2>/dev/null)" = yes ]
}

# agent_show_has NAME REGEX: a line of the agent's ovsagent/show matches
# the basic regular expression REGEX.
agent_show_has() {
    local show
    show=$(agent_appctl "$1" ovsagent/show) && grep -q -- "$2" <<<"$show"
}

# log_clean FILE [TEXT]: ok if the vlog FILE has no WARN, ERR or EMER line
# other than those matching one of the extended regexps in the array
# ALLOWED_LOG_PATTERNS (which a test may set); not ok, with the lines,
# otherwise.  As the command of a check, it prints nothing but the lines and
# only returns its verdict.
log_clean() {
    local file=$1 text=${2:-$1 has no unexpected warnings} bad p
    if [ ! -f "$file" ]; then
        bad="$file is missing"
    else
        # 2024-01-01T00:00:00.000Z|00001|module|WARN|message
        bad=$(grep -E '^[^|]*\|[0-9]+\|[^|]*\|(WARN|ERR|EMER)\|' "$file" || true)
        for p in ${ALLOWED_LOG_PATTERNS[@]+"${ALLOWED_LOG_PATTERNS[@]}"}; do
            [ -n "$bad" ] || break
            bad=$(printf '%s\n' "$bad" | grep -Ev -- "$p" || true)
        done
    fi
    if [ "$_OVSA_IN_CHECK" = 1 ]; then
        [ -z "$bad" ] || printf '%s\n' "$bad"
        [ -z "$bad" ]
        return
    fi
    if [ -z "$bad" ]; then
        ok "$text"
        return 0
    fi
    not_ok "$text"
    _indent "$bad" "unexpected lines:"
    return 1
}

# agent_log_clean NAME: log_clean on the agent's log.
# ---------------------------------------------------------------------------
# Several hypervisors.

# underlay_init: the underlay between hypervisors, a namespace of its own
# holding two Linux bridges, "ul" for tunnel traffic and "ph" for VLAN and
# flat traffic between physical bridges.  Sets UL_NET (the tunnel
# addresses' /24) and UL_NS.
underlay_init() {
    UL_NET=172.31.$((RANDOM % 200 + 20))
    UL_NS=ovsa-ul-$SANDBOX_ID
    ip netns add "$UL_NS"
    _register netns "$UL_NS"
    local br
    for br in ul ph; do
        ip -n "$UL_NS" link add "$br" type bridge
        ip -n "$UL_NS" link set "$br" up
    done
}

# hypervisor NAME N [KEY=VALUE...]: a netdev switch NAME in its namespace,
# joined to the underlay: a veth to "ul" on a netdev bridge br-ul, whose
# internal port holds the tunnel address $UL_NET.N, so that ovs-vswitchd
# routes and encapsulates tunnel packets itself (native tunnelling), and a
# veth to "ph" on its br-phys.  Writes $SANDBOX/NAME.ini for its agent
# (host NAME-$SANDBOX_ID, local_ip, physnet1:br-phys, and KEY=VALUEs as
# agent_conf takes them).  Needs the stack's environment.
hypervisor() {
    local hv=$1 n=$2 ns uplink dev end
    shift 2
    ovs_start "$hv" netdev
    ns=$(ovs_netns "$hv")
    uplink=$(netns_uplink "$hv")
    ip -n "$ns" route add "$OVSAGENT_STACK_LINK_IP/32" via "$uplink"
    for end in ul ph; do
        dev=oa$(_rand_hex 4)
        ip link add "$dev" type veth peer name "$end-$n" netns "$UL_NS"
        ip -n "$UL_NS" link set "$end-$n" master "$end" up
        ip link set "$dev" netns "$ns"
        ip -n "$ns" link set "$dev" name "$end"
        ip -n "$ns" link set "$end" up
    done
    ovs_vsctl "$hv" add-br br-ul -- set Bridge br-ul datapath_type=netdev \
        -- add-port br-ul ul
    ovs_vsctl "$hv" add-br br-phys -- set Bridge br-phys datapath_type=netdev \
        -- add-port br-phys ph
    wait_until 10 ip -n "$ns" link show br-ul >/dev/null \
        || fail "$hv: no br-ul device"
    ip -n "$ns" addr add "$UL_NET.$n/24" dev br-ul
    ip -n "$ns" link set br-ul up
    agent_conf "$hv" "DEFAULT.host=$hv-$SANDBOX_ID" \
        "DEFAULT.transport_url=$OVSAGENT_TRANSPORT_URL_LINK" \
        "local_ip=$UL_NET.$n" "bridge_mappings=physnet1:br-phys" \
        "agent.report_interval=5" "$@" > "$SANDBOX/$hv.ini"
}

# ul_route HV: HV's ovs-vswitchd routes the underlay (its routing table
# follows the kernel's in its namespace).  ul_routes HV...: each of them
# does.
ul_route() {
    ovs_appctl "$1" ovs-vswitchd ovs/route/show | grep "$UL_NET\..* dev br-ul" >/dev/null
}
ul_routes() {
    local hv
    for hv in "$@"; do
        ul_route "$hv" || return 1
    done
}

# host_of HV: the host name of hypervisor HV's agent (DEFAULT.host), which
# ports are bound to.
host_of() { echo "$1-$SANDBOX_ID"; }

# agents_alive N: N agents of this test's hypervisors (ovsagent or the
# reference) are alive in the API.
agents_alive() {
    [ "$(api GET "/agents?binary=neutron-openvswitch-agent" \
         | jq --arg s "-$SANDBOX_ID" '[.agents[] | select(.alive and (.host | endswith($s)))] | length')" = "$1" ]
}

# tunnel_on SWITCH PORT: br-tun of SWITCH has the tunnel port PORT (see
# tunnel_port_name).
tunnel_on() {
    local ports
    ports=$(ovs_vsctl "$1" list-ports br-tun) && grep -qxF -- "$2" <<<"$ports"
}

# flows_have SWITCH BRIDGE TEXT: a flow of the bridge, as dump_flows shows
# it, contains TEXT.
flows_have() {
    local flows
    flows=$(dump_flows "$1" "$2") && grep -qF -- "$3" <<<"$flows"
}

# ref_agent_start NAME SWITCH CONF: the reference agent (Debian's
# neutron-openvswitch-agent 21.0.0) on SWITCH with the openvswitch_agent.ini
# CONF, as root with sudo as its root helper, its log in $SANDBOX/NAME.log.
# It runs in the switch's namespace, in a mount namespace of its own where
# the switch's run directory is /run/openvswitch, where the reference and
# the ovs-* commands it runs look for it.
ref_agent_start() {
    local name=$1 sw=$2 conf=$3 ns dir
    ns=$(ovs_netns "$sw")
    dir=$(ovs_dir "$sw")
    [ -x /usr/bin/neutron-openvswitch-agent ] \
        || fail "ref_agent_start: the reference agent is not installed"
    mkdir -p "$SANDBOX/$name-state/lock"
    cat > "$SANDBOX/$name-neutron.conf" <<EOF
[DEFAULT]
state_path = $SANDBOX/$name-state

[oslo_concurrency]
lock_path = $SANDBOX/$name-state/lock

[agent]
root_helper = sudo
EOF
    setsid ip netns exec "$ns" unshare -m sh -c \
        'mkdir -p /run/openvswitch && mount --bind "$0" /run/openvswitch &&
         exec "$@"' "$dir" /usr/bin/neutron-openvswitch-agent \
        --config-file "$SANDBOX/$name-neutron.conf" --config-file "$conf" \
        --log-file "$SANDBOX/$name.log" \
        </dev/null >"$SANDBOX/$name.stderr" 2>&1 {_OVSA_OUT}>&- &
    echo $! > "$SANDBOX/$name.pid"
    _register pid "$!" "$name"
    disown "$!"
}

# ref_agent_stop NAME: SIGTERM, and the time it takes to go.
ref_agent_stop() {
    local pid
    pid=$(cat "$SANDBOX/$1.pid")
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_until 60 not _pid_alive "$pid" || kill -KILL "$pid" 2>/dev/null
}

agent_log_clean() {
    log_clean "$SANDBOX/$1.log" "agent $1 log has no unexpected warnings"
}

# ---------------------------------------------------------------------------
# Other users.

# ensure_user USER: creates the system user USER (and its group) if missing.
ensure_user() {
    id -u "$1" >/dev/null 2>&1 \
        || useradd --system --user-group --no-create-home \
                   --shell /usr/sbin/nologin "$1"
}

# as_user USER CMD...: runs CMD as USER, with USER's groups and no
# capabilities.
as_user() {
    local user=$1
    shift
    setpriv --reuid="$user" --regid="$(id -g "$user")" --init-groups -- "$@"
}
