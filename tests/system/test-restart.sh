#!/bin/bash
# Restarts never open a hole: two "VMs" (veth pairs in their own network
# namespaces) on br-int of a userspace (netdev) switch keep pinging each
# other while ovsagent restarts; after ovs-vswitchd restarts the flows are
# back within a second of the switch accepting connections; after
# ovsdb-server restarts the agent reconnects; a lost canary flow is noticed;
# SIGHUP reloads and reopens the log; SIGTERM exits cleanly.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

cookies() { dump_cookies hv br-int | tr '\n' ' '; }
n_flows() { ovs_ofctl hv -O OpenFlow13 dump-flows br-int | grep -c cookie= || true; }
has_base_flows() { [ "$(n_flows)" = "$base_flows" ]; }
has_controller() { [ -n "$(ovs_vsctl hv get-controller br-int)" ]; }
one_cookie() { [ "$(dump_cookies hv br-int | wc -l)" = 1 ]; }

ovs_start hv netdev
agent_conf hv > "$SANDBOX/hv.ini"
printf '[agent]\npolling_interval = 1\n' > "$SANDBOX/extra.ini"
agent_start a1 hv "$SANDBOX/hv.ini" --config-file "$SANDBOX/extra.ini"
check "agent in sync" -- wait_until 20 agent_in_sync a1
base_flows=$(n_flows)
check "br-int has its nine base flows (no physical bridge here)" -- \
    test "$base_flows" = 9

# Two VMs on br-int, tagged by the test as the agent would tag them.
vm_add hv br-int vm1 02:00:00:00:00:01 10.55.0.1/24 5
vm_add hv br-int vm2 02:00:00:00:00:02 10.55.0.2/24 5
check "vm1 pings vm2 through br-int" -- wait_until 10 vm_exec vm1 ping -c 1 -W 1 10.55.0.2

# --- agent restart under traffic ------------------------------------------
old_cookie=$(cookies)
vm_exec vm1 ping -i 0.02 -c 400 -W 1 10.55.0.2 > "$SANDBOX/ping-restart.txt" 2>&1 &
ping_pid=$!
wait_until 5 grep -q 'icmp_seq=10 ' "$SANDBOX/ping-restart.txt" || true
agent_stop a1
check "flows stay while no agent runs" -- test "$(n_flows)" = "$base_flows"
agent_start a2 hv "$SANDBOX/hv.ini" --config-file "$SANDBOX/extra.ini"
check "restarted agent in sync" -- wait_until 20 agent_in_sync a2
check "only the new cookie remains" -- wait_until 10 one_cookie
new_cookie=$(cookies)
check "the cookie changed across the restart" -- test "$old_cookie" != "$new_cookie"
wait $ping_pid || true
check "no packet lost across the agent restart" -- grep -q ' 0% packet loss' "$SANDBOX/ping-restart.txt"
grep 'packet loss' "$SANDBOX/ping-restart.txt" | sed 's/^/# /' || true

# --- ovs-vswitchd restart -------------------------------------------------
ovs_stop_vswitchd hv
check "agent notices the switch is gone" -- wait_until 5 not agent_in_sync a2
ovs_restart_vswitchd hv
t0=$(date +%s%N)
check "flows back within 1 s of vswitchd accepting connections" -- \
    wait_until 1 has_base_flows
t1=$(date +%s%N)
echo "# flows reinstalled $(( (t1 - t0) / 1000000 )) ms after vswitchd answered"
check "agent in sync again" -- wait_until 5 agent_in_sync a2
check "agent counted the switch reset" -- agent_show_has a2 'switch_resets=[1-9]'
check "vm1 pings vm2 after the vswitchd restart" -- wait_until 10 vm_exec vm1 ping -c 1 -W 1 10.55.0.2

# --- canary: flows vanish while the connection stays ------------------------
ovs_ofctl hv -O OpenFlow13 del-flows br-int
check "lost flows noticed by the canary and reinstalled" -- \
    wait_until 5 has_base_flows

# --- ovsdb-server restart ---------------------------------------------------
ovs_restart_ovsdb hv
ovs_vsctl hv del-controller br-int
check "controller restored after ovsdb-server restart" -- \
    wait_until 10 has_controller
check "flows in sync after the controller came back" -- wait_until 10 agent_in_sync a2

# --- SIGHUP: reload and reopen the log ---------------------------------------
mv "$SANDBOX/a2.log" "$SANDBOX/a2.log.1"
agent_signal a2 HUP
check "SIGHUP reopens the log file" -- wait_until 5 test -s "$SANDBOX/a2.log"
check "SIGHUP reloads the configuration" -- \
    wait_until 5 grep -q 'configuration reloaded' "$SANDBOX/a2.log"
check "agent still running after SIGHUP" -- agent_running a2

# --- SIGTERM ------------------------------------------------------------------
agent_signal a2 TERM
check "SIGTERM: agent exits within 5 s" -- wait_until 5 agent_exited a2
check "with status 0" -- test "$(agent_exit_status a2)" = 0
cat "$SANDBOX/a2.log.1" >> "$SANDBOX/a2.all.log"
ALLOWED_LOG_PATTERNS=("lost its flows" "canary flow" "OpenFlow connection closed" "connection dropped" "Connection refused" "connection closed by peer" "Broken pipe" "reconnect")
agent_log_clean a2
