#!/bin/bash
# ovsagent-cleanup, the equivalent of neutron-ovs-cleanup, against a real
# ovsdb-server and ovs-vswitchd (dummy datapath).  The scenario is the one
# captured from the reference: only Neutron's VIFs (Interface external_ids
# iface-id and attached-mac, no skip_cleanup) leave the integration bridge;
# with --ovs_all_ports every port of every bridge goes, and the bridges stay.
. "$(dirname "$0")/lib.sh"
sandbox_init

[ -x "$OVSAGENT_CLEANUP" ] || fail "$OVSAGENT_CLEANUP is not built"

# ports SWITCH BRIDGE: the bridge's port names, sorted, on one line.
ports() {
    ovs_vsctl "$1" list-ports "$2" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'
}

# rows SWITCH TABLE: the names in TABLE, sorted, on one line.
rows() {
    ovs_vsctl "$1" --bare --columns=name list "$2" | grep . | LC_ALL=C sort \
        | tr '\n' ' ' | sed 's/ $//'
}

# same TEXT GOT WANT: ok if GOT is WANT, otherwise not ok showing both.
same() {
    if [ "$2" = "$3" ]; then
        ok "$1"
    else
        not_ok "$1"
        _indent "want: $3"$'\n'"got:  $2" "mismatch"
    fi
}

# run_cleanup NAME SWITCH ARGS...: runs $OVSAGENT_CLEANUP ARGS for SWITCH;
# its stdout and stderr go to $SANDBOX/NAME.stderr.  Returns its status.
run_cleanup() {
    local name=$1 sw=$2
    shift 2
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
        ovs_exec "$sw" "$OVSAGENT_CLEANUP" "$@" > "$SANDBOX/$name.stderr" 2>&1
}

# no_sanitizer_report NAME: not ok if a sanitizer wrote to NAME.stderr.
no_sanitizer_report() {
    if grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
            "$SANDBOX/$1.stderr"; then
        not_ok "$1: sanitizer report"
        _indent "$(head -n 40 "$SANDBOX/$1.stderr")" "$1.stderr:"
    fi
}

# vif SWITCH BRIDGE PORT MAC [EXTRA_EXTERNAL_ID...]: a port as os-vif plugs
# it: an internal interface with iface-id, attached-mac and iface-status.
vif() {
    local sw=$1 br=$2 port=$3 mac=$4 extra=() kv
    shift 4
    for kv in "$@"; do
        extra+=(external_ids:"$kv")
    done
    ovs_vsctl "$sw" add-port "$br" "$port" -- set Interface "$port" \
        type=internal \
        external_ids:iface-id="$(cat /proc/sys/kernel/random/uuid)" \
        external_ids:attached-mac="$mac" external_ids:iface-status=active \
        ${extra[@]+"${extra[@]}"}
}

ovs_start hv dummy

# --- br-int as the reference capture had it, plus br-tun and br-phys ------
ovs_vsctl hv add-br br-int -- add-br br-tun -- add-br br-phys
vif hv br-int tapvx-a fa:16:3e:00:00:0a
vif hv br-int tapskip fa:16:3e:00:00:0b skip_cleanup=true
vif hv br-int qr-5e1a7c2b-01 fa:16:3e:00:00:0c
ovs_vsctl hv add-port br-int o-plain -- set Interface o-plain type=internal
# iface-id alone does not make a VIF.
ovs_vsctl hv add-port br-int tapidonly -- set Interface tapidonly \
    type=internal external_ids:iface-id=a0c1b7d2-0000-4000-8000-000000000001
# One deletable interface is enough to delete a whole port (bond).
ovs_vsctl hv add-bond br-int bond0 bif1 bif2 \
    -- set Interface bif1 type=internal \
    -- set Interface bif2 type=internal \
       external_ids:iface-id=a0c1b7d2-0000-4000-8000-000000000002 \
       external_ids:attached-mac=fa:16:3e:00:00:0d
ovs_vsctl hv \
    -- add-port br-int patch-tun -- set Interface patch-tun type=patch options:peer=patch-int \
    -- add-port br-tun patch-int -- set Interface patch-int type=patch options:peer=patch-tun \
    -- add-port br-int int-br-phys -- set Interface int-br-phys type=patch options:peer=phy-br-phys \
    -- add-port br-phys phy-br-phys -- set Interface phy-br-phys type=patch options:peer=int-br-phys
vif hv br-tun tapvx-t fa:16:3e:00:00:1a
ovs_vsctl hv add-port br-tun vxlan-0a000002 -- set Interface vxlan-0a000002 \
    type=vxlan options:remote_ip=10.0.0.2 options:local_ip=10.0.0.1 \
    options:key=flow options:in_key=flow options:out_key=flow
ovs_ofctl hv add-flow br-int "table=0,priority=123,in_port=LOCAL,actions=drop"

tun_before=$(ports hv br-tun)
phys_before=$(ports hv br-phys)

agent_conf hv > "$SANDBOX/hv.ini"
chmod a+r "$SANDBOX/hv.ini"

# --- default: the VIFs on the integration bridge --------------------------
check "cleanup exits 0" -- \
    run_cleanup c1 hv --config-file "$SANDBOX/hv.ini" --log-file "$SANDBOX/c1.log"
no_sanitizer_report c1
same "br-int keeps all but its VIFs" "$(ports hv br-int)" \
    "int-br-phys o-plain patch-tun tapidonly tapskip"
same "br-tun untouched" "$(ports hv br-tun)" "$tun_before"
same "br-phys untouched" "$(ports hv br-phys)" "$phys_before"
same "the deleted ports' Interface rows are gone" \
    "$(rows hv Interface | tr ' ' '\n' | grep -cE '^(tapvx-a|qr-5e1a7c2b-01|bif1|bif2)$')" 0
check "bridges still exist" -- test "$(ovs_vsctl hv list-br | tr '\n' ' ')" = "br-int br-phys br-tun "
has_test_flow() { dump_flows hv br-int | grep -q 'priority=123,in_port=LOCAL actions=drop'; }
check "flows untouched" -- has_test_flow
check "log names the bridge" -- grep -q 'Cleaning bridge: br-int' "$SANDBOX/c1.log"
for p in tapvx-a qr-5e1a7c2b-01 bond0; do
    check "log names deleted port $p" -- \
        grep -q "|INFO|Deleted port $p from bridge br-int" "$SANDBOX/c1.log"
done
check "log says it completed" -- grep -q 'OVS cleanup completed successfully' "$SANDBOX/c1.log"
check "nothing on stderr with a log file" -- test ! -s "$SANDBOX/c1.stderr"
log_clean "$SANDBOX/c1.log"

check "a second run exits 0" -- \
    run_cleanup c2 hv --config-file "$SANDBOX/hv.ini" --log-file "$SANDBOX/c2.log"
check "a second run deletes nothing" -- not grep -q 'Deleted port' "$SANDBOX/c2.log"
same "br-int unchanged by the second run" "$(ports hv br-int)" \
    "int-br-phys o-plain patch-tun tapidonly tapskip"

# --- the integration bridge comes from the same config files --------------
ovs_vsctl hv add-br br-custom
vif hv br-custom tapc-1 fa:16:3e:00:00:2a
vif hv br-custom tapc-skip fa:16:3e:00:00:2b skip_cleanup=true
vif hv br-int tapvx-b fa:16:3e:00:00:0e
printf '[ovs]\nintegration_bridge = br-custom\n' > "$SANDBOX/custom.ini"
chmod a+r "$SANDBOX/custom.ini"
check "cleanup with integration_bridge=br-custom exits 0" -- \
    run_cleanup c3 hv --config-file "$SANDBOX/hv.ini" --config-file "$SANDBOX/custom.ini"
no_sanitizer_report c3
same "br-custom lost its VIF" "$(ports hv br-custom)" "tapc-skip"
check "br-int not cleaned when it is not the integration bridge" -- \
    grep -qw tapvx-b <<<"$(ports hv br-int)"
check "log on stderr by default" -- grep -q '|INFO|Deleted port tapc-1 from bridge br-custom' "$SANDBOX/c3.stderr"

printf '[ovs]\nintegration_bridge = br-none\n' > "$SANDBOX/none.ini"
check "a missing integration bridge is not an error" -- \
    run_cleanup c4 hv --config-file "$SANDBOX/hv.ini" --config-file "$SANDBOX/none.ini"
same "nothing deleted without the integration bridge" "$(ports hv br-int)" \
    "int-br-phys o-plain patch-tun tapidonly tapskip tapvx-b"

# --- as an unprivileged user, over TCP ------------------------------------
if declare -F as_user >/dev/null && declare -F ensure_user >/dev/null; then
    ensure_user neutron
    rc=0
    as_user neutron "$OVSAGENT_CLEANUP" --config-file "$SANDBOX/hv.ini" \
        > "$SANDBOX/c5.stderr" 2>&1 || rc=$?
    same "cleanup as user neutron exits 0" "$rc" 0
    same "cleanup as user neutron deleted the VIF" "$(ports hv br-int)" \
        "int-br-phys o-plain patch-tun tapidonly tapskip"
    no_sanitizer_report c5
else
    skip "cleanup as an unprivileged user (no as_user in lib.sh)"
fi

# --- --ovs_all_ports: every port of every bridge --------------------------
check "cleanup --ovs_all_ports exits 0" -- \
    run_cleanup c6 hv --config-file "$SANDBOX/hv.ini" --ovs_all_ports \
        --log-file "$SANDBOX/c6.log"
no_sanitizer_report c6
for br in br-custom br-int br-phys br-tun; do
    same "$br has no port left" "$(ports hv "$br")" ""
done
same "no Port row left" "$(rows hv Port)" ""
same "no Interface row left" "$(rows hv Interface)" ""
same "every bridge still exists" "$(ovs_vsctl hv list-br | tr '\n' ' ')" \
    "br-custom br-int br-phys br-tun "
check "log names the patch port" -- \
    grep -q 'Deleted port patch-int from bridge br-tun' "$SANDBOX/c6.log"
log_clean "$SANDBOX/c6.log"

# --- an unreachable database ----------------------------------------------
dead=$(free_port)
printf '[ovs]\novsdb_connection = tcp:127.0.0.1:%s\novsdb_timeout = 2\n' "$dead" \
    > "$SANDBOX/dead.ini"
start=${EPOCHREALTIME/[.,]/}
rc=0
run_cleanup c7 hv --config-file "$SANDBOX/dead.ini" || rc=$?
elapsed_ms=$(( (${EPOCHREALTIME/[.,]/} - start) / 1000 ))
note "unreachable database: status $rc after $elapsed_ms ms"
check "unreachable database: non-zero exit" -- test "$rc" != 0
check "unreachable database: gives up after ovsdb_timeout" -- \
    test "$elapsed_ms" -ge 1900 -a "$elapsed_ms" -lt 6000
check "unreachable database: an error line naming it" -- \
    grep -qE "\|ERR\|.*tcp:127\.0\.0\.1:$dead" "$SANDBOX/c7.stderr"
no_sanitizer_report c7

# --- bad configurations: non-zero status and one line ---------------------
printf '[ovs]\novsdb_timeout = soon\n' > "$SANDBOX/bad.ini"
bad_case() {   # bad_case TEXT ARGS...
    local text=$1 rc=0 n
    shift
    "$OVSAGENT_CLEANUP" "$@" > "$SANDBOX/bad.stderr" 2>&1 || rc=$?
    n=$(grep -c . "$SANDBOX/bad.stderr" || true)
    if [ "$rc" != 0 ] && [ "$n" = 1 ]; then
        ok "$text: status $rc, one line"
    else
        not_ok "$text: status $rc, $n lines"
        _indent "$(cat "$SANDBOX/bad.stderr")" "output:"
    fi
}
bad_case "bad option value" --config-file "$SANDBOX/bad.ini"
bad_case "missing config file" --config-file "$SANDBOX/no-such.ini"
bad_case "unknown command-line option" --config-file "$SANDBOX/hv.ini" --bogus
check "--help lists --ovs_all_ports" -- \
    bash -c "'$OVSAGENT_CLEANUP' --help | grep -q -- --ovs_all_ports"
