#!/bin/bash
# Bridges, patch ports and base flows on a real ovsdb-server and
# ovs-vswitchd (dummy datapath): what ovsagent writes must be what the
# reference agent writes, flow for flow (tests/golden/).
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

GOLDEN=$TOP/tests/golden

# Normalizes an ovs-ofctl dump the way the golden files are: bridge cookies
# removed, learn()'s cookie replaced, sorted.
normalized_flows() {
    ovs_ofctl "$1" -O OpenFlow13 --names --no-stats dump-flows "$2" \
        | grep -v '^OFPST_FLOW' \
        | sed -E 's/^ *//; s/^cookie=0x[0-9a-f]+, //; s/cookie=0x[0-9a-f]+/cookie=COOKIE/g' \
        | sort
}

# compare_golden SWITCH BRIDGE GOLDENFILE: prints "N of M flows identical"
# and the differing lines; succeeds only if all are identical.
compare_golden() {
    local got want same total
    got=$(normalized_flows "$1" "$2")
    want=$(cat "$3")
    total=$(printf '%s\n' "$want" | grep -c . || true)
    same=$(comm -12 <(printf '%s\n' "$got") <(printf '%s\n' "$want") | grep -c . || true)
    echo "# $2: $same of $total reference flows identical ($(printf '%s\n' "$got" | grep -c .) installed)"
    if [ "$got" != "$want" ]; then
        diff <(printf '%s\n' "$want") <(printf '%s\n' "$got") | sed 's/^/#   /'
        return 1
    fi
}

# cookie_on COOKIE: a flow of hv's br-int has COOKIE.
cookie_on() {
    local cookies
    cookies=$(dump_cookies hv br-int) && grep -qxF -- "$1" <<<"$cookies"
}

peer_is() { [ "$(col hv Interface "$1" options:peer)" = "$2" ]; }
col() { ovs_vsctl "$1" --if-exists get "$2" "$3" "$4" 2>/dev/null; }

write_extra() {   # write_extra FILE FIREWALL [TUNNELS]
    {
        echo "[ovs]"
        echo "bridge_mappings = physnet1:br-phys"
        echo "[agent]"
        if [ -n "${3:-}" ]; then
            echo "tunnel_types = $3"
            echo "l2_population = True"
            echo "arp_responder = True"
        fi
        echo "[securitygroup]"
        echo "firewall_driver = $2"
    } > "$1"
}

# --- openvswitch firewall, VXLAN: the reference's captured start-up -------
ovs_start hv dummy
ovs_vsctl hv add-br br-phys -- set Bridge br-phys other_config:operator-key=keep
agent_conf hv > "$SANDBOX/hv.ini"
write_extra "$SANDBOX/ovsfw.ini" openvswitch vxlan
agent_start a1 hv "$SANDBOX/hv.ini" --config-file "$SANDBOX/ovsfw.ini"

check "agent reports its flows in sync" -- wait_until 20 agent_in_sync a1
for br in br-int br-tun br-phys; do
    check "$br flows identical to the reference (openvswitch firewall)" -- \
        compare_golden hv $br "$GOLDEN/noports-openvswitch-$br.flows"
done

check "br-int fail_mode secure" -- test "$(col hv Bridge br-int fail_mode)" = secure
check "br-int protocols OpenFlow10..14 with the OVS firewall" -- \
    test "$(col hv Bridge br-int protocols)" = '[OpenFlow10, OpenFlow11, OpenFlow12, OpenFlow13, OpenFlow14]'
check "br-tun protocols OpenFlow10,13,14" -- \
    test "$(col hv Bridge br-tun protocols)" = '[OpenFlow10, OpenFlow13, OpenFlow14]'
check "br-int other_config as the reference" -- \
    test "$(col hv Bridge br-int other_config)" = '{mac-table-size="50000", mcast-snooping-disable-flood-unregistered="false"}'
check "br-int mcast_snooping_enable false" -- test "$(col hv Bridge br-int mcast_snooping_enable)" = false
check "br-tun other_config mac-table-size only" -- \
    test "$(col hv Bridge br-tun other_config)" = '{mac-table-size="50000"}'
check "br-phys keeps the operator's other_config keys" -- \
    test "$(col hv Bridge br-phys other_config:operator-key)" = keep
check "br-phys mac-table-size" -- test "$(col hv Bridge br-phys other_config:mac-table-size)" = '"50000"'
check "agent sets no Bridge external_ids" -- test "$(col hv Bridge br-int external_ids)" = '{}'
for br in br-int br-tun br-phys; do
    check "$br datapath_type system" -- test "$(col hv Bridge $br datapath_type)" = system
    check "$br fail_mode secure" -- test "$(col hv Bridge $br fail_mode)" = secure
    ctl=$(ovs_vsctl hv get-controller $br)
    check "$br has exactly our controller" -- test "$ctl" = "tcp:127.0.0.1:$(agent_of_port a1)"
done
check "controllers out-of-band with a 10 s probe" -- \
    test "$(ovs_vsctl hv --bare --columns=connection_mode,inactivity_probe list Controller | sort -u | grep . | tr '\n' ' ')" = "10000 out-of-band "
check "patch-tun peers patch-int" -- test "$(col hv Interface patch-tun options:peer)" = patch-int
check "patch-int peers patch-tun" -- test "$(col hv Interface patch-int options:peer)" = patch-tun
check "int-br-phys linked to phy-br-phys" -- wait_until 5 peer_is int-br-phys phy-br-phys
check "phy-br-phys linked to int-br-phys" -- wait_until 5 peer_is phy-br-phys int-br-phys
check "patch-tun other_config mcast flood keys" -- \
    test "$(col hv Port patch-tun other_config)" = '{mcast-snooping-flood=False, mcast-snooping-flood-reports=False}'
check "int-br-phys other_config mcast flood keys" -- \
    test "$(col hv Port int-br-phys other_config)" = '{mcast-snooping-flood=False, mcast-snooping-flood-reports=False}'
dbport=$(ovs_db_tcp hv | sed 's/.*://')
check "Manager record ptcp:$dbport:127.0.0.1 in manager_options" -- \
    test -n "$(ovs_vsctl hv --bare --columns=_uuid find Manager target=\"ptcp:$dbport:127.0.0.1\")"
agent_log_clean a1

# --- same switch, agent restarted with the noop firewall -----------------
agent_stop a1
# Flows someone else left: one in a table the agent owns (deleted by its
# cookie, as the reference's stale-flow cleanup does) and one elsewhere,
# with a cookie not found in the agent's tables (left alone).
ovs_ofctl hv -O OpenFlow13 add-flow br-int "table=60,priority=50,cookie=0x77,in_port=9,actions=drop"
ovs_ofctl hv -O OpenFlow13 add-flow br-int "table=99,priority=1,cookie=0x88,actions=drop"
write_extra "$SANDBOX/noop.ini" noop vxlan
agent_start a2 hv "$SANDBOX/hv.ini" --config-file "$SANDBOX/noop.ini"
check "restarted agent in sync" -- wait_until 20 agent_in_sync a2
check "a foreign flow in an owned table was deleted by its cookie" -- \
    never 3 cookie_on 0x77
check "a foreign flow in a table the agent does not own stays" -- \
    cookie_on 0x88
ovs_ofctl hv -O OpenFlow13 del-flows br-int "table=99,cookie=0x88/-1"
for br in br-int br-tun br-phys; do
    check "$br flows identical to the reference (noop), old run's flows gone" -- \
        wait_until 10 compare_golden hv $br "$GOLDEN/noports-noop-$br.flows"
done
check "one cookie per bridge after the restart" -- \
    test "$(dump_cookies hv br-int | wc -l)" = 1
agent_stop a2

# --- drop_flows_on_start: everything goes, then the agent's flows return --
ovs_ofctl hv -O OpenFlow13 add-flow br-int "table=99,priority=1,cookie=0x88,actions=drop"
printf '[agent]\ndrop_flows_on_start = True\n' > "$SANDBOX/drop.ini"
agent_start a2b hv "$SANDBOX/hv.ini" --config-file "$SANDBOX/noop.ini" \
    --config-file "$SANDBOX/drop.ini"
check "drop_flows_on_start: agent in sync" -- wait_until 20 agent_in_sync a2b
check "drop_flows_on_start removed the foreign flow too" -- \
    never 3 cookie_on 0x88
check "drop_flows_on_start: br-int flows are the reference's" -- \
    compare_golden hv br-int "$GOLDEN/noports-noop-br-int.flows"
agent_stop a2b

# --- without tunnel_types: no br-tun, same br-int ------------------------
ovs_start hv2 dummy
ovs_vsctl hv2 add-br br-phys
agent_conf hv2 > "$SANDBOX/hv2.ini"
write_extra "$SANDBOX/notun.ini" noop ""
agent_start a3 hv2 "$SANDBOX/hv2.ini" --config-file "$SANDBOX/notun.ini"
check "agent without tunnels in sync" -- wait_until 20 agent_in_sync a3
check "br-tun not created" -- test -z "$(ovs_vsctl hv2 list-br | grep -x br-tun)"
check "no patch-tun on br-int" -- test -z "$(ovs_vsctl hv2 list-ports br-int | grep -x patch-tun)"
for br in br-int br-phys; do
    check "$br flows identical to the reference without tunnels" -- \
        compare_golden hv2 $br "$GOLDEN/noports-noop-$br.flows"
done
agent_log_clean a3
agent_stop a3

# --- a fresh host: no Manager, so no TCP endpoint yet ---------------------
# The reference creates the Manager over the local unix socket; so do we.
OVS_DB_TCP=none ovs_start hv4 dummy
agent_conf hv4 > "$SANDBOX/hv4.ini"
ALLOWED_LOG_PATTERNS=("Connection refused" "connection attempt failed")
agent_start a5 hv4 "$SANDBOX/hv4.ini"
dbport4=$(ovs_db_tcp hv4 | sed 's/.*://')
check "fresh host: agent creates the Manager and connects" -- wait_until 20 agent_in_sync a5
check "Manager ptcp:$dbport4:127.0.0.1 has the 10 s inactivity probe" -- \
    test "$(ovs_vsctl hv4 --bare --columns=inactivity_probe find Manager target=\"ptcp:$dbport4:127.0.0.1\")" = 10000
check "the Manager is in manager_options" -- \
    test -n "$(ovs_vsctl hv4 get Open_vSwitch . manager_options | tr -d '[]')"
agent_log_clean a5
agent_stop a5
ALLOWED_LOG_PATTERNS=()

# --- a mapped physical bridge that does not exist ------------------------
ovs_start hv3 dummy
agent_conf hv3 > "$SANDBOX/hv3.ini"
printf '[ovs]\nbridge_mappings = physnet9:br-missing\n' > "$SANDBOX/missing.ini"
ALLOWED_LOG_PATTERNS=("does not exist. Agent terminated")
agent_start a4 hv3 "$SANDBOX/hv3.ini" --config-file "$SANDBOX/missing.ini"
check "agent exits when a mapped bridge is missing" -- wait_until 20 agent_exited a4
check "with status 1" -- test "$(agent_exit_status a4)" = 1
check "and says which bridge" -- grep -q 'Bridge br-missing for physical network physnet9 does not exist' "$SANDBOX/a4.log"
