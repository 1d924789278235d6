#!/bin/bash
# The parity and benchmark tools keep working: their smoke runs, against
# the real reference agent (Debian's neutron-openvswitch-agent 21.0.0) and
# ovsagent on one switch and a private neutron-server.  The figures are not
# judged here (a benchmark is not a timed test), except memory, which does
# not depend on the machine's load.
# run-tests: timeout=2400
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

stack_private
export BENCH_DIR=$SANDBOX/bench BENCH_NS=ovsa-bench-$SANDBOX_ID
export BENCH_UPLINK=ob$(_rand_hex 4) BENCH_CGROUP=ovsa-bench-$SANDBOX_ID
export BENCH_HOST=bench-$SANDBOX_ID
export BENCH_UPLINK_NET=198.$((18 + RANDOM % 2)).$((RANDOM % 256))

# --- parity -------------------------------------------------------------------
parity_ok() {
    "$TOP/bench/parity" --smoke > "$SANDBOX/parity.out" 2> "$SANDBOX/parity.err"
}
if check "bench/parity --smoke: the reference and ovsagent leave identical switches" -- parity_ok; then
    :
else
    sed 's/^/# /' "$SANDBOX/parity.out"; tail -n 20 "$SANDBOX/parity.err" | sed 's/^/# /'
fi
check "it compared every bridge and OVSDB table" -- \
    test "$(grep -c ' of [0-9]* identical' "$SANDBOX/parity.out")" = 7
check "its summary says identical" -- \
    grep -qx '  vxlan-2ports noop: identical' "$SANDBOX/parity.out"
check "it leaves no namespace behind" -- not ip netns pid "$BENCH_NS"
fw_parity_ok() {
    "$TOP/bench/parity" --fw openvswitch remote-group \
        > "$SANDBOX/parity-fw.out" 2> "$SANDBOX/parity-fw.err"
}
if ! check "bench/parity with the openvswitch firewall and a remote-group rule: identical" -- fw_parity_ok; then
    sed 's/^/# /' "$SANDBOX/parity-fw.out"; tail -n 20 "$SANDBOX/parity-fw.err" | sed 's/^/# /'
fi
# Other hosts' ports through l2population (played by bench/peer-agent on
# the real server): FDB add, chg_ip and remove, over VXLAN and over GRE.
l2pop_parity_ok() {
    "$TOP/bench/parity" --fw noop l2pop l2pop-gre \
        > "$SANDBOX/parity-l2pop.out" 2> "$SANDBOX/parity-l2pop.err"
}
if ! check "bench/parity with l2population, the ARP responder, chg_ip and GRE: identical" -- l2pop_parity_ok; then
    sed 's/^/# /' "$SANDBOX/parity-l2pop.out"; tail -n 20 "$SANDBOX/parity-l2pop.err" | sed 's/^/# /'
fi
check "both l2population scenarios were compared" -- \
    test "$(grep -c ': identical$' "$SANDBOX/parity-l2pop.out")" = 2

# --- benchmark ------------------------------------------------------------------
bench_ok() {
    "$TOP/bench/bench" --smoke > "$SANDBOX/bench.out" 2> "$SANDBOX/bench.err"
}
if ! check "bench/bench --smoke measures both agents" -- bench_ok; then
    tail -n 30 "$SANDBOX/bench.err" | sed 's/^/# /'
fi
json=$(ls "$BENCH_DIR"/results/bench-*.json 2>/dev/null | head -n 1 || true)
figures() { jq -r '.figures[].figure' "$json" | sort | tr '\n' ' '; }
check "every figure is there" -- test "$(figures)" = \
    "batch1_active_s batch1_agent_s idle_cpu_s idle_rss_mb one_port_active_median_s one_port_active_p90_s one_port_agent_median_s one_port_agent_p90_s ports1_rss_mb restart1_cpu_s restart1_s "
check "each with both agents' values and a ratio" -- \
    jq -e '[.figures[] | select(.reference == null or .ovsagent == null
                                or .ratio == null)] | length == 0' "$json"
check "the Markdown table is printed" -- \
    grep -q '^| Resident memory, idle (MB) | ' "$SANDBOX/bench.out"
check "the reference's privsep daemons are counted" -- \
    grep -q privsep-helper "$BENCH_DIR/logs/ref-procs-idle.txt"
check "ovsagent is one process" -- \
    test "$(wc -l < "$BENCH_DIR/logs/ovsagent-procs-idle.txt")" = 1
check "ovsagent's resident memory, idle, is at least 20 times below the reference's" -- \
    jq -e '.figures[] | select(.figure == "idle_rss_mb") | .ratio >= 20' "$json"
# bench_cgroups: the agents' cgroups bench/lib.sh made, in cgroup v1's
# cpuacct hierarchy or in cgroup v2's (bench_cgroot), left behind.
bench_cgroups() {
    find /sys/fs/cgroup -maxdepth 2 -type d -name "$BENCH_CGROUP-*"
}
check "it leaves no cgroup behind" -- test -z "$(bench_cgroups)"

# --- the firewall at scale --------------------------------------------------------
fw_scale_ok() {
    "$TOP/bench/fw-scale" --smoke > "$SANDBOX/fw-scale.out" 2> "$SANDBOX/fw-scale.err"
}
if ! check "bench/fw-scale --smoke measures both agents" -- fw_scale_ok; then
    tail -n 30 "$SANDBOX/fw-scale.err" | sed 's/^/# /'
fi

check "both agents' times to apply a rule change are in the table" -- \
    bash -c "grep -E '^\| add one rule -> on the switch \(s\) \| [0-9.]+ \| [0-9.]+ \|' '$SANDBOX/fw-scale.out'"
check "adding a rule sends ovsagent's 4 new flows and nothing else" -- \
    bash -c "grep -qx '| add one rule: flow_mods sent | - | 4 | - |' '$SANDBOX/fw-scale.out'"
check "adding a remote-group member sends its 2 flows and nothing else" -- \
    bash -c "grep -qx '| add one member: flow_mods sent | - | 2 | - |' '$SANDBOX/fw-scale.out'"
check "deleting them removes as many" -- \
    bash -c "grep -qx '| delete one member: flow_mods sent | - | 2 | - |' '$SANDBOX/fw-scale.out' && grep -qx '| delete one rule: flow_mods sent | - | 4 | - |' '$SANDBOX/fw-scale.out'"

# --- l2population with other hosts ------------------------------------------------
# Five other hosts played by bench/peer-agent on the real server; the smoke
# fails if an FDB add, remove or chg_ip costs ovsagent more than its own two
# flow_mods (counted by the switch).
l2pop_scale_ok() {
    "$TOP/bench/l2pop-scale" --smoke > "$SANDBOX/l2pop-scale.out" 2> "$SANDBOX/l2pop-scale.err"
}
if ! check "bench/l2pop-scale --smoke: each FDB update costs ovsagent only its own flows" -- l2pop_scale_ok; then
    tail -n 30 "$SANDBOX/l2pop-scale.err" | sed 's/^/# /'
fi
check "the switch and ovsagent count the same 2 flow_mods for one more remote port" -- \
    bash -c "grep -q '^| (a) add: one more port of a known host up: flow_mods the switch received | - | 2 |' '$SANDBOX/l2pop-scale.out' && grep -q '^| (a) add: one more port of a known host up: flow_mods ovsagent counts (br-tun) | - | 2 |' '$SANDBOX/l2pop-scale.out'"
check "a new host costs its tunnel's in_port flow, the flood list, unicast and ARP: 4" -- \
    bash -c "grep -q '^| (d) new host: its first port up, a new tunnel: flow_mods the switch received | - | 4 |' '$SANDBOX/l2pop-scale.out'"
