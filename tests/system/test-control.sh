#!/bin/bash
# The control socket (ovs-appctl) and running as the unprivileged user
# "neutron", as Debian's unit runs the agent.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

runs_as() { [ "$(ps -o user= -p "$(agent_pid "$1")" 2>/dev/null)" = "$2" ]; }

ovs_start hv dummy
ovs_vsctl hv add-br br-phys
agent_conf hv > "$SANDBOX/hv.ini"
printf '[ovs]\nbridge_mappings = physnet1:br-phys\n[agent]\ntunnel_types = vxlan\n[securitygroup]\nfirewall_driver = openvswitch\n' \
    > "$SANDBOX/extra.ini"

# --- as user neutron ------------------------------------------------------
ensure_user neutron
rundir=$SANDBOX/run-neutron
mkdir -p "$rundir"
chown neutron: "$rundir" "$SANDBOX"
chmod a+r "$SANDBOX/hv.ini" "$SANDBOX/extra.ini"
AGENT_USER=neutron agent_start a1 hv "$SANDBOX/hv.ini" \
    --config-file "$SANDBOX/extra.ini" --unixctl "$rundir/ovsagent.ctl"
AGENT_CTL_a1=$rundir/ovsagent.ctl
check "agent runs as user neutron" -- \
    wait_until 5 runs_as a1 neutron
check "non-root agent programs every bridge" -- wait_until 20 agent_in_sync a1

show=$(agent_appctl a1 ovsagent/show)
echo "$show" | sed 's/^/# /'
check "show: integration bridge" -- grep -q '^bridge br-int (integration bridge)' <<<"$show"
check "show: tunnel bridge" -- grep -q '^bridge br-tun (tunnel bridge)' <<<"$show"
check "show: physical bridge with its network" -- grep -q '^bridge br-phys (physical bridge for physnet1)' <<<"$show"
check "show: a cookie per bridge" -- test "$(grep -c '  cookie: 0x' <<<"$show")" = 3
check "show: datapath type" -- grep -q 'datapath_type: system' <<<"$show"
check "show: OpenFlow connections" -- test "$(grep -c 'openflow: connected' <<<"$show")" = 3
check "show: OVSDB connection" -- grep -q '^OVSDB tcp:127.0.0.1:[0-9]*: connected' <<<"$show"
check "show: firewall driver" -- grep -q 'firewall_driver: openvswitch' <<<"$show"
check "show cookies are the installed ones" -- \
    test "$(grep '  cookie: ' <<<"$show" | head -1 | awk '{print $2}')" = "$(dump_cookies hv br-int)"

check "vlog/list lists our modules" -- bash -c "ovs-appctl -t '$rundir/ovsagent.ctl' vlog/list | grep -q of_bridge"
check "vlog/set changes a level" -- bash -c "ovs-appctl -t '$rundir/ovsagent.ctl' vlog/set of_bridge:file:dbg && ovs-appctl -t '$rundir/ovsagent.ctl' vlog/list | grep of_bridge | grep -q DBG"
check "dump-desired-flows shows the canary" -- \
    bash -c "ovs-appctl -t '$rundir/ovsagent.ctl' ovsagent/dump-desired-flows br-int | grep -q 'table=23, priority=0 actions=drop'"

# The process-wide event counts are OVS coverage counters as well: the
# flow_mods coverage/show counts are those the bridges' show lines add up to
# (the totals reach coverage/show within a second of the event).
coverage_total() {
    agent_appctl a1 coverage/show | awk -v c="$1" '$1 == c { print $NF }'
}
coverage_counted() { [ -n "$(coverage_total "$1")" ]; }
show_flow_mods() {
    agent_appctl a1 ovsagent/show | awk '
        { for (i = 1; i <= NF; i++) if ($i ~ /^flow_mods=/) {
              sub(/^flow_mods=/, "", $i); n += $i } }
        END { print n + 0 }'
}
flow_mods_agree() {
    local cov
    cov=$(coverage_total of_bridge_flow_mod)
    [ -n "$cov" ] && [ "$cov" -gt 0 ] && [ "$cov" = "$(show_flow_mods)" ]
}
check "coverage/show counts OpenFlow connections" -- \
    wait_until 10 coverage_counted of_bridge_connect
check "coverage/show counts bundles" -- \
    wait_until 10 coverage_counted of_bridge_bundle
check "coverage/show: flow_mods as ovsagent/show sums them" -- \
    wait_until 10 flow_mods_agree
check "exit stops the agent" -- agent_appctl a1 exit
check "agent gone after exit" -- wait_until 5 agent_exited a1
check "exit status 0" -- test "$(agent_exit_status a1)" = 0
agent_log_clean a1
