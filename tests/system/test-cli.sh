#!/bin/bash
# The ovsagent binary's command line: Debian's init-script invocation,
# --version and --help, and a clear one-line error with a non-zero exit on
# bad configuration.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

# run_agent ARGS...: runs the agent, captures its stderr and exit status.
run_agent() {
    rc=0
    err=$("$OVSAGENT" "$@" 2>&1 >/dev/null) || rc=$?
}

run_agent --version
check "--version exits 0" -- test "$rc" = 0
check "--version names the version" -- \
    grep -q 'ovsagent [0-9]' <("$OVSAGENT" --version)
run_agent --help
check "--help exits 0" -- test "$rc" = 0

bad() {     # bad TEXT FILE-CONTENT PATTERN: the error names file/section/option
    local text=$1 content=$2 pattern=$3
    printf '%b' "$content" > "$SANDBOX/bad.ini"
    run_agent --config-file "$SANDBOX/bad.ini" --unixctl "$SANDBOX/x.ctl"
    check "$text: exit status is not 0" -- test "$rc" != 0
    check "$text: one line" -- test "$(printf '%s\n' "$err" | wc -l)" = 1
    check "$text: names file, section and option" -- \
        grep -qF -- "$SANDBOX/bad.ini: $pattern" <<<"$err"
}
bad "malformed bridge_mappings" '[ovs]\nbridge_mappings = physnet1\n' \
    '[ovs] bridge_mappings'
bad "unknown tunnel type" '[agent]\ntunnel_types = vxlan,stt\n[ovs]\nlocal_ip = 127.0.0.1\n' \
    '[agent] tunnel_types'
bad "local_ip not on this host" '[agent]\ntunnel_types = vxlan\n[ovs]\nlocal_ip = 192.0.2.254\n' \
    '[ovs] local_ip'
bad "iptables_hybrid is refused, not replaced" \
    '[securitygroup]\nfirewall_driver = iptables_hybrid\n' \
    '[securitygroup] firewall_driver'
bad "a bad integer" '[agent]\npolling_interval = often\n' \
    '[agent] polling_interval'

# An agent extension ovsagent does not implement: the reference warns and
# runs without it; ovsagent stops at start, naming it and the ones it
# supports (none yet), before it touches OVS.
bad "an unsupported agent extension" '[agent]\nextensions = qos\n' \
    '[agent] extensions: "qos" is not supported by ovsagent (supported: none)'
check "an unsupported agent extension: the exact line" -- test "$err" = \
    "ovsagent: $SANDBOX/bad.ini: [agent] extensions: \"qos\" is not supported by ovsagent (supported: none)"

run_agent --config-file "$SANDBOX/missing.ini"
check "an unreadable file: exit status is not 0" -- test "$rc" != 0
check "an unreadable file: named" -- grep -qF "$SANDBOX/missing.ini" <<<"$err"
run_agent --no-such-option
check "an unknown option: exit status is not 0" -- test "$rc" != 0

# Debian's init script's command line, with its option spellings; the
# agent must get past configuration; a control socket that cannot be
# created makes it exit right after, before it reaches for OVS.
mkdir -p "$SANDBOX/etc/agent.conf.d"
printf '[ovs]\nintegration_bridge = br-int\n' > "$SANDBOX/etc/openvswitch_agent.ini"
printf '[DEFAULT]\nhost = hv-test\n' > "$SANDBOX/etc/neutron.conf"
printf '[agent]\npolling_interval = 3\nextensions =\n' > "$SANDBOX/etc/agent.conf.d/10.conf"
run_agent --config-file="$SANDBOX/etc/openvswitch_agent.ini" \
    --config-dir="$SANDBOX/etc/agent.conf.d" \
    --config-file="$SANDBOX/etc/neutron.conf" --use-syslog \
    --log-file="$SANDBOX/agent.log" --unixctl "$SANDBOX/no/such/dir/x.ctl"
check "Debian's command line parses (fails later, on the control socket)" -- \
    grep -q 'cannot create control socket' <<<"$err"
