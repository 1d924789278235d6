#!/bin/bash
# ovsagent-cleanup, the equivalent of neutron-ovs-cleanup, against a real
# ovsdb-server and ovs-vswitchd (dummy datapath).  The scenario is the one
# captured from the reference: only Neutron's VIFs (Interface external_ids
# iface-id and attached-mac, no skip_cleanup) leave the integration bridge;
# with --ovs_all_ports every port of every bridge goes, and the bridges stay.
# run-tests: fast
set -euo pipefail
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

# add_br SWITCH BRIDGE...: the bridges, on the "dummy" datapath, which every
# dummy switch has whatever else it overrides (the cleanup only reads and
# writes the database, so the datapath does not matter to it).
add_br() {
    local sw=$1 br args=()
    shift
    for br in "$@"; do
        args+=(-- add-br "$br" -- set Bridge "$br" datapath_type=dummy)
    done
    ovs_vsctl "$sw" "${args[@]}"
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
add_br hv br-int br-tun br-phys
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
# patch_args BRIDGE PORT PEER: ovs-vsctl arguments for a patch port.
patch_args() {
    echo -- add-port "$1" "$2" -- set Interface "$2" type=patch options:peer="$3"
}
# shellcheck disable=SC2046 # word splitting wanted
ovs_vsctl hv $(patch_args br-int patch-tun patch-int) $(patch_args br-tun patch-int patch-tun) \
    $(patch_args br-int int-br-phys phy-br-phys) $(patch_args br-phys phy-br-phys int-br-phys)
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
same "bridges still exist" "$(ovs_vsctl hv list-br | tr '\n' ' ')" "br-int br-phys br-tun "
check "flows untouched" -- flows_have hv br-int 'priority=123,in_port=LOCAL actions=drop'
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
add_br hv br-custom
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
check "log on stderr by default" -- \
    grep -q '|INFO|Deleted port tapc-1 from bridge br-custom' "$SANDBOX/c3.stderr"

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

# --- an ssl: remote, and no ovs-vswitchd to apply the change --------------
# A database of its own, served over SSL only (the switch's ovsdb-server has
# no SSL configuration).  Without ovs-vswitchd, cur_cfg never catches up
# with next_cfg: as the reference, the cleanup warns after ovsdb_timeout and
# still succeeds.
make_pki() {   # make_pki DIR: a CA, and a server and a client signed by it
    local dir=$1 who
    mkdir -p "$dir"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca \
        -keyout "$dir/ca-key.pem" -out "$dir/ca-cert.pem" || return 1
    for who in server client; do
        openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" \
            -keyout "$dir/$who-key.pem" -out "$dir/$who-req.pem" || return 1
        openssl x509 -req -days 2 -in "$dir/$who-req.pem" \
            -CA "$dir/ca-cert.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
            -out "$dir/$who-cert.pem" || return 1
    done
}
if ! command -v openssl >/dev/null; then
    skip "ssl: remote (no openssl)"
elif ! make_pki "$SANDBOX/pki" > "$SANDBOX/pki.stderr" 2>&1; then
    not_ok "ssl: remote: could not make certificates"
    _indent "$(cat "$SANDBOX/pki.stderr")" "openssl:"
else
    sdir=$SANDBOX/ssldb
    mkdir -p "$sdir"
    ovsdb-tool create "$sdir/conf.db" "$OVS_SCHEMA"
    ovsdb-server "$sdir/conf.db" --detach --no-chdir -vconsole:off \
        --pidfile="$sdir/ovsdb-server.pid" --log-file="$sdir/ovsdb-server.log" \
        --unixctl="$sdir/ovsdb-server.ctl" --remote="punix:$sdir/db.sock" \
        --remote=pssl:0:127.0.0.1 --private-key="$SANDBOX/pki/server-key.pem" \
        --certificate="$SANDBOX/pki/server-cert.pem" \
        --ca-cert="$SANDBOX/pki/ca-cert.pem"
    _register pid "$(cat "$sdir/ovsdb-server.pid")" ssldb
    wait_until 10 grep -q 'listening on port' "$sdir/ovsdb-server.log" \
        || fail "SSL ovsdb-server did not say its port"
    sport=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$sdir/ovsdb-server.log")
    svsctl() { ovs-vsctl --no-wait --db="unix:$sdir/db.sock" "$@"; }
    svsctl init -- add-br br-int -- add-port br-int tapssl -- set Interface tapssl \
        external_ids:iface-id=a0c1b7d2-0000-4000-8000-000000000003 \
        external_ids:attached-mac=fa:16:3e:00:00:3a
    {
        echo "[ovs]"
        echo "ovsdb_connection = ssl:127.0.0.1:$sport"
        echo "ovsdb_timeout = 2"
        echo "ssl_key_file = $SANDBOX/pki/client-key.pem"
        echo "ssl_cert_file = $SANDBOX/pki/client-cert.pem"
        echo "ssl_ca_cert_file = $SANDBOX/pki/ca-cert.pem"
    } > "$SANDBOX/ssl.ini"
    check "cleanup over ssl: exits 0" -- \
        run_cleanup c8 hv --config-file "$SANDBOX/ssl.ini" --log-file "$SANDBOX/c8.log"
    no_sanitizer_report c8
    same "cleanup over ssl: deleted the VIF" "$(svsctl list-ports br-int)" ""
    check "cleanup over ssl: the bridge stays" -- svsctl br-exists br-int
    check "without ovs-vswitchd: a warning that the change is not applied" -- \
        grep -q '|WARN|ovs-vswitchd has not applied' "$SANDBOX/c8.log"
    ALLOWED_LOG_PATTERNS=('ovs-vswitchd has not applied')
    log_clean "$SANDBOX/c8.log"
    ALLOWED_LOG_PATTERNS=()
fi

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
