#!/bin/bash
# Self-test of tests/system/lib.sh: private switches of both kinds, VMs with
# real traffic, restarts, waiting, and that a sandbox leaves nothing behind,
# whether the test ends normally or is killed.  The agent is not involved; a
# stand-in exercises agent_start and agent_stop.
# run-tests: fast
set -euo pipefail
# shellcheck source=tests/system/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck disable=SC2034  # OVSAGENT, ALLOWED_LOG_PATTERNS: read by lib.sh

[ "$(id -u)" = 0 ] || fail "must run as root"

# What the sandboxed part started, written outside the sandbox so that the
# end of this script can check that it is all gone.
state=$(mktemp)
try_count=$(mktemp)
trap 'rm -f "$state" "$try_count"' EXIT

# --- wait_until, without a sandbox -------------------------------------------

t0=$(_now_us)
check "wait_until gives up on a false condition" -- not wait_until 0.5 false
elapsed=$(( ($(_now_us) - t0) / 1000 ))
check "wait_until waited about 0.5 s (${elapsed} ms)" -- \
    test "$elapsed" -ge 500 -a "$elapsed" -lt 1500

calls=0
third_time() { calls=$((calls + 1)); [ "$calls" -ge 3 ]; }
# Not under check, which runs its command in a subshell.
if wait_until 5 third_time && [ "$calls" = 3 ]; then
    ok "wait_until polls until the condition holds"
else
    not_ok "wait_until polls until the condition holds (condition called $calls times)"
fi

# --- never and wait_never ---------------------------------------------------------

# succeeds_on N...: one try, counted in $try_count (never runs it in a
# subshell); succeeds if it is the Nth try for one of the N given.
succeeds_on() {
    local n
    n=$(( $(cat "$try_count") + 1 ))
    echo "$n" > "$try_count"
    echo "try number $n"
    [[ " $* " == *" $n "* ]]
}
echo 0 > "$try_count"
check "never passes when every try fails" -- never 5 succeeds_on
check "after making every try (5)" -- test "$(cat "$try_count")" = 5
echo 0 > "$try_count"
check_fails "never fails when one try of five succeeds (the fourth)" -- \
    never 5 succeeds_on 4
check "stopping at that try" -- test "$(cat "$try_count")" = 4
echo 0 > "$try_count"
check_fails "never fails when the first try succeeds" -- never 5 succeeds_on 1
echo 0 > "$try_count"
check "never says which try succeeded, with its output" -- \
    test "$(never 3 succeeds_on 2 || true)" = \
         "try 2 of 3 succeeded: succeeds_on 2"$'\n'"try number 2"
echo 0 > "$try_count"
check "wait_never passes once the command fails, and fails again" -- \
    wait_never 5 3 succeeds_on 1 2 3
check "after its 3 successes, the failure it waited for and 3 more" -- \
    test "$(cat "$try_count")" = 7
echo 0 > "$try_count"
check_fails "wait_never fails when the command succeeds again after one failure" -- \
    wait_never 5 3 succeeds_on 1 2 5
echo 0 > "$try_count"
check_fails "wait_never fails when the command never fails" -- \
    wait_never 0.3 3 true

# --- lib-neutron.sh's names, which need no server ----------------------------------
check "tunnel_port_name: a VXLAN port as the reference names it" -- \
    test "$(tunnel_port_name vxlan 172.31.20.1)" = vxlan-ac1f1401
check "tunnel_port_name: a GRE port" -- \
    test "$(tunnel_port_name gre 10.0.0.12)" = gre-0a00000c
check "tap_of: nova's device name" -- \
    test "$(tap_of 5f1e0a6c-1111-4a2b-9c3d-000000000001)" = tap5f1e0a6c-11

# --- a sandbox with several switches ------------------------------------------

# fdb_has SWITCH BRIDGE MAC: the bridge has learned MAC.
fdb_has() { ovs_appctl "$1" ovs-vswitchd fdb/show "$2" | grep -- "$3" >/dev/null; }

# listening VM ADDR:PORT: a TCP socket listens there.
listening() { vm_exec "$1" ss -ltn | grep -- "$2" >/dev/null; }

# A stand-in for the agent: writes vlog lines to its --log-file (if it can),
# on start and on SIGHUP, and exits 0 on SIGTERM.
fake_agent() {
    cat > "$1" <<'EOF'
#!/bin/bash
while [ $# -gt 0 ]; do
    [ "$1" != --log-file ] || log=$2
    shift
done
say() { echo "2024-01-01T00:00:00.000Z|00001|fake|INFO|$1" >> "$log" 2>/dev/null || true; }
say started
trap 'kill $!; exit 0' TERM
trap 'say reloaded' HUP
sleep infinity &
while :; do wait; done
EOF
    chmod 755 "$1"
}

set +e
(
    set -e
    sandbox_init
    echo "sandbox $SANDBOX" >> "$state"

    # A dummy switch: no kernel devices, no namespace.
    ovs_start sw-d dummy
    check "dummy switch answers ovs-appctl" -- ovs_appctl sw-d ovs-vswitchd version
    check "dummy switch: add a standalone bridge" -- \
        ovs_vsctl sw-d add-br br0 -- set Bridge br0 fail_mode=standalone
    check "dummy switch: its database is reachable over TCP" -- \
        ovs-vsctl --db="$(ovs_db_tcp sw-d)" br-exists br0
    # The agent adds its ovsdb_connection as a Manager: a session on that
    # port must survive it (it would not, were the port also a --remote).
    db_tcp=$(ovs_db_tcp sw-d)
    ovsdb-client monitor "$db_tcp" Open_vSwitch Bridge name > "$SANDBOX/monitor.out" 2>&1 &
    monitor=$!
    check "dummy switch: ovsdb-client monitors over TCP" -- \
        wait_until 5 grep -q br0 "$SANDBOX/monitor.out"
    ovs_vsctl sw-d set-manager "ptcp:${db_tcp##*:}:127.0.0.1"
    ovs_vsctl sw-d add-br br1
    check "dummy switch: the TCP session survives setting its Manager" -- \
        wait_until 5 grep -q 'insert br1' "$SANDBOX/monitor.out"
    kill "$monitor"
    wait "$monitor" || true
    check "dummy switch: the \"system\" datapath is a dummy one" -- \
        grep -qE 'br0 65534/[0-9]+: \(dummy-internal\)' <(ovs_appctl sw-d ovs-vswitchd dpif/show)
    check "dummy switch: normal flow installed" -- \
        grep -qx 'priority=0 actions=NORMAL' <(dump_flows sw-d br0)
    check "dummy switch: flows have the default cookie" -- \
        test "$(dump_cookies sw-d br0)" = 0x0
    vm_add sw-d br0 d1 02:00:00:00:0d:01 10.9.0.1/24
    check "dummy switch: VM port is on the bridge" -- \
        grep -qx t-d1 <(ovs_vsctl sw-d list-ports br0)
    # A packet injected on a dummy port is learned by the normal pipeline.
    ovs_appctl sw-d ovs-vswitchd netdev-dummy/receive t-d1 \
        'eth(src=02:00:00:00:0d:01,dst=ff:ff:ff:ff:ff:ff),eth_type(0x0800),ipv4(src=10.9.0.1,dst=10.9.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)' \
        >/dev/null
    check "dummy switch: injected packet's source MAC learned" -- \
        wait_until 5 fdb_has sw-d br0 02:00:00:00:0d:01

    # The other ways of giving the database its TCP port.
    OVS_DB_TCP=remote ovs_start sw-r dummy
    port=$(ovs_db_tcp sw-r)
    port=${port##*:}
    check "OVS_DB_TCP=remote: listening" -- _ovsdb_listens sw-r "$port"
    check "OVS_DB_TCP=remote: without a Manager" -- \
        test -z "$(ovs_vsctl sw-r get-manager)"
    ovs_restart_ovsdb sw-r
    check "OVS_DB_TCP=remote: the same port after a restart" -- \
        wait_until 5 _ovsdb_listens sw-r "$port"
    OVS_DB_TCP=none ovs_start sw-0 dummy
    port=$(ovs_db_tcp sw-0)
    port=${port##*:}
    check_fails "OVS_DB_TCP=none: not listening" -- _ovsdb_listens sw-0 "$port"
    ovs_vsctl sw-0 set-manager "ptcp:$port:127.0.0.1"
    check "OVS_DB_TCP=none: listening once the Manager is added" -- \
        wait_until 5 _ovsdb_listens sw-0 "$port"

    # A netdev switch, in a namespace of its own.
    ovs_start sw-n netdev
    ns=$(ovs_netns sw-n)
    echo "netns $ns" >> "$state"
    check "netdev switch: add a userspace bridge called br0 too" -- \
        ovs_vsctl sw-n add-br br0 -- set Bridge br0 datapath_type=netdev fail_mode=standalone
    check "netdev switch: its devices are in its namespace" -- \
        ip -n "$ns" link show ovs-netdev
    check "netdev switch: database reachable over TCP from its namespace" -- \
        ovs_exec sw-n ovs-vsctl --db="$(ovs_db_tcp sw-n)" br-exists br0

    vm_add sw-n br0 vm1 02:00:00:00:00:01 10.0.0.1/24
    vm_add sw-n br0 vm2 02:00:00:00:00:02 10.0.0.2/24
    vm_add sw-n br0 vm3 02:00:00:00:00:03 10.0.0.3/24 5
    for vm in vm1 vm2 vm3; do
        echo "netns $(vm_netns $vm)" >> "$state"
    done
    check "VM ports have names t-<vm>" -- \
        test "$(ovs_vsctl sw-n list-ports br0 | tr '\n' ' ')" = "t-vm1 t-vm2 t-vm3 "
    check "vm_add sets the tag" -- test "$(ovs_vsctl sw-n get Port t-vm3 tag)" = 5
    check "vm1 pings vm2" -- vm_ping vm1 10.0.0.2
    check "vm1 does not reach vm3 on VLAN 5" -- never 3 vm_ping vm1 10.0.0.3

    # TCP too: this needs the checksum offload vm_add turns off.
    vm_exec vm2 "$OVSA_PYTHON" -c '
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.0.0.2", 8000))
s.listen()
c, _ = s.accept()
n = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    n += len(d)
print(n)' > "$SANDBOX/tcp-server.out" 2>&1 &
    server=$!
    check "vm2 listens on TCP port 8000" -- \
        wait_until 5 listening vm2 10.0.0.2:8000
    check "vm1 sends 1 MB over TCP to vm2" -- vm_exec vm1 timeout 10 "$OVSA_PYTHON" -c '
import socket
s = socket.create_connection(("10.0.0.2", 8000), timeout=5)
s.sendall(b"x" * 1000000)
s.close()'
    wait "$server" || true
    check "vm2 received 1 MB" -- grep -qx 1000000 "$SANDBOX/tcp-server.out"

    # Restarts.
    old_pid=$(cat "$(ovs_dir sw-n)/ovs-vswitchd.pid")
    ovs_restart_vswitchd sw-n
    check "ovs-vswitchd restarted with a new pid" -- \
        test "$(cat "$(ovs_dir sw-n)/ovs-vswitchd.pid")" != "$old_pid"
    check "vm1 pings vm2 after ovs-vswitchd restarted" -- vm_ping vm1 10.0.0.2
    db_tcp=$(ovs_db_tcp sw-n)
    ovs_restart_ovsdb sw-n
    check "ovsdb-server restarted on the same TCP port" -- \
        ovs_exec sw-n ovs-vsctl --db="$db_tcp" br-exists br0
    check "ovs-vswitchd reconnects to the restarted database" -- \
        wait_until 10 ovs_vsctl sw-n set Bridge br0 other_config:harness=1
    check "vm1 pings vm2 after ovsdb-server restarted" -- vm_ping vm1 10.0.0.2
    ovs_stop_vswitchd sw-n
    check_fails "no ovs-vswitchd after ovs_stop_vswitchd" -- \
        ovs_appctl sw-n ovs-vswitchd version
    ovs_start_vswitchd sw-n
    check "vm1 pings vm2 after ovs-vswitchd stopped and started" -- vm_ping vm1 10.0.0.2

    # The root namespace, seen from the switch's.
    up=$(netns_uplink sw-n)
    check "netns_uplink: root namespace reachable at $up" -- \
        ovs_exec sw-n ping -q -c 1 -W 1 "$up"
    check "netns_uplink gives the same address twice" -- test "$(netns_uplink sw-n)" = "$up"

    # A Neutron VIF.
    ovs_vsctl sw-n add-br br-int -- set Bridge br-int datapath_type=netdev
    vif_add sw-n vif1 fa:16:3e:00:00:01 10.0.1.1/24 5f1e0a6c-1111-4a2b-9c3d-000000000001
    check "vif_add sets external_ids as os-vif does" -- test \
        "$(ovs_vsctl sw-n get Interface t-vif1 external_ids:iface-id external_ids:attached-mac external_ids:iface-status | tr '\n' ' ')" \
        = '"5f1e0a6c-1111-4a2b-9c3d-000000000001" "fa:16:3e:00:00:01" active '
    check "vif_add sets no tag" -- test "$(ovs_vsctl sw-n get Port t-vif1 tag)" = "[]"

    # Flow dumps.
    ovs_ofctl sw-n -O OpenFlow13 add-flow br-int \
        "cookie=0xabc,table=3,priority=10,in_port=t-vif1,reset_counts,idle_timeout=30,actions=drop"
    ovs_ofctl sw-n -O OpenFlow13 add-flow br-int "cookie=0xdef,table=0,priority=1,actions=drop"
    check "dump_flows: normalized, sorted, with names" -- test "$(dump_flows sw-n br-int)" = \
"priority=0 actions=NORMAL
priority=1 actions=drop
table=3, idle_timeout=30, reset_counts priority=10,in_port=\"t-vif1\" actions=drop"
    check "dump_cookies: the distinct cookies" -- \
        test "$(dump_cookies sw-n br-int | tr '\n' ' ')" = "0x0 0xabc 0xdef "
    check "flows_have: a flow with that text" -- \
        flows_have sw-n br-int 'table=3, idle_timeout=30, reset_counts priority=10'
    check "flows_have: none with this one" -- \
        never 2 flows_have sw-n br-int 'table=4,'

    # Agent configuration.
    conf=$SANDBOX/agent.ini
    agent_conf sw-n local_ip=192.0.2.1 agent.tunnel_types=vxlan > "$conf"
    check "agent_conf: [ovs] ovsdb_connection" -- \
        grep -qx "ovsdb_connection = $(ovs_db_tcp sw-n)" "$conf"
    check "agent_conf: netdev datapath on a netdev switch" -- \
        grep -qx "datapath_type = netdev" "$conf"
    check "agent_conf: a key overridden" -- grep -qx "local_ip = 192.0.2.1" "$conf"
    check "agent_conf: a key in another section" -- \
        grep -qzP '\[agent\]\ntunnel_types = vxlan\n' "$conf"
    check "agent_conf: system datapath on a dummy switch" -- \
        grep -qx "datapath_type = system" <(agent_conf sw-d)
    check "free_port prints a port" -- grep -qxE '[0-9]{4,5}' <(free_port)

    # agent_start and friends, with a stand-in for the agent.
    fake_agent "$SANDBOX/fake-agent"
    OVSAGENT=$SANDBOX/fake-agent
    agent_start a1 sw-n "$conf"
    pid=$(agent_pid a1)
    check "agent_start: the agent runs" -- wait_until 5 grep -q started "$SANDBOX/a1.log"
    check "agent_start: in the switch's namespace" -- \
        test "$(ip netns identify "$pid")" = "$ns"
    check "agent_start: with the switch's OVS_RUNDIR" -- \
        grep -qz "OVS_RUNDIR=$(ovs_dir sw-n)" "/proc/$pid/environ"
    check "agent_of_port: the port of the configuration" -- \
        test "$(agent_of_port a1)" = "$(sed -n 's/^of_listen_port = //p' "$conf")"
    agent_signal a1 HUP
    check "agent_signal: the agent got SIGHUP" -- \
        wait_until 5 grep -q reloaded "$SANDBOX/a1.log"
    check "agent_running: yes" -- agent_running a1
    check_fails "agent_exited: not yet" -- agent_exited a1
    agent_stop a1
    check "agent_stop: the process is gone" -- not _pid_alive "$pid"
    check "agent_exited: yes" -- agent_exited a1
    check "agent_exit_status: 0" -- test "$(agent_exit_status a1)" = 0

    agent_start a2 sw-d "$conf" --unixctl "$SANDBOX/elsewhere.ctl"
    pid=$(agent_pid a2)
    check "agent_start: an own --unixctl replaces ours" -- \
        grep -q "elsewhere.ctl$" <(tr '\0' '\n' < "/proc/$pid/cmdline")
    check "agent_start: in the root namespace for a dummy switch" -- \
        test -z "$(ip netns identify "$pid")"
    agent_kill a2
    check "agent_kill: the process is gone" -- not _pid_alive "$pid"
    check "agent_exit_status: 137 after SIGKILL" -- test "$(agent_exit_status a2)" = 137

    # Another user.
    ensure_user neutron
    check "as_user runs as that user" -- test "$(as_user neutron id -un)" = neutron
    AGENT_USER=neutron agent_start a4 sw-n "$conf"
    check "AGENT_USER: the agent runs as that user" -- \
        test "$(ps -o user= -p "$(agent_pid a4)")" = neutron
    agent_stop a4

    # One left running, for the sandbox to stop.
    agent_start a3 sw-n "$conf"
    echo "pid $(agent_pid a3)" >> "$state"
    wait_until 5 grep -q started "$SANDBOX/a3.log"
    agent_log_clean a3
    check "agent_log_clean works as the command of a check" -- agent_log_clean a3
    echo "2024-01-01T00:00:01.000Z|00002|fake|WARN|something odd" >> "$SANDBOX/a3.log"
    check_fails "log_clean fails on a WARN line" -- log_clean "$SANDBOX/a3.log"
    ALLOWED_LOG_PATTERNS=('something (odd|strange)')
    log_clean "$SANDBOX/a3.log" "log_clean passes with that line allowed"

    # What must be gone afterwards.
    for f in "$SANDBOX"/sw-*/*.pid; do
        echo "pid $(cat "$f")" >> "$state"
    done
    echo "link t-d1" >> "$state"
    echo "link $(cat "$(ovs_dir sw-n)/uplink-dev")" >> "$state"
)
rc=$?
set -e

# --- after the sandbox --------------------------------------------------------

leftovers() {
    local kind what bad=0
    while read -r kind what; do
        case $kind in
            sandbox)
                [ "${KEEP_SANDBOX:-0}" = 1 ] || [ ! -e "$what" ] \
                    || { echo "sandbox $what"; bad=1; } ;;
            netns) ! ip netns list | grep "^$what\b" >/dev/null || { echo "netns $what"; bad=1; } ;;
            pid) ! _pid_alive "$what" || { echo "process $what"; bad=1; } ;;
            link) ! ip link show "$what" >/dev/null 2>&1 || { echo "link $what"; bad=1; } ;;
        esac
    done < "$1"
    return "$bad"
}

check "nothing left after the sandbox ended" -- leftovers "$state"

# --- a test that is killed: sandbox_reap cleans up after it --------------------

: > "$state"
# (In braces, so that the shell's "Killed" notice goes to /dev/null.)
{ bash -c '
    . "$1/lib.sh"
    sandbox_init
    echo "sandbox $SANDBOX" >> "$2"
    ovs_start k1 netdev
    ovs_vsctl k1 add-br br0 -- set Bridge br0 datapath_type=netdev
    vm_add k1 br0 kvm 02:00:00:00:00:09 10.0.0.9/24
    echo "netns $(ovs_netns k1)" >> "$2"
    echo "netns $(vm_netns kvm)" >> "$2"
    for f in "$SANDBOX"/k1/*.pid; do echo "pid $(cat "$f")" >> "$2"; done
    kill -KILL $$
' killed "$(dirname "$0")" "$state" || true; } 2>/dev/null
killed=$(sed -n 's/^sandbox //p' "$state")
check "the killed test left its switch running" -- not leftovers "$state"
sandbox_reap "$killed"
check "sandbox_reap stops everything it left" -- leftovers <(grep -v '^sandbox' "$state")
rm -rf "$killed"

[ "$rc" = 0 ] && [ "$_OVSA_NFAIL" = 0 ]
