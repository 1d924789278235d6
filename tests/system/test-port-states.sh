#!/bin/bash
# The port state machine (src/agent/ports.h), transition by transition.
#
# ovsagent at debug level, on a private switch and a private RabbitMQ,
# against a scripted neutron-server (oslo_peer.py neutron, on the real
# oslo.messaging) that answers its calls with Port objects made from a
# captured bulk_pull answer (tests/unit/data/wire), and that can hold an
# answer: the test decides when a pull or a report comes back.  Each port's
# "old -> new" debug lines must be exactly the ones expected, in order, and
# ovsagent/show must show the state (and "(reporting)", "(down first)")
# while an answer is held:
#   1. a new VIF: fetch, fetching (pull held), fetch, wiring, mark-up
#      (report held: reporting), up; its tag and other_config;
#   2. admin down pushed: up, fetch, mark-down, down; the dead VLAN;
#   3. a push that changes nothing: no transition at all for a Port push;
#      a Network push sends it through a pull and back to down, unreported;
#   4. admin up pushed: down, fetch, wiring, mark-up, up;
#   5. deleted (pushed) while its pull is in flight: dead, and the pull's
#      late answer does not revive it; nothing reported;
#   6. removed from br-int while its up report is in flight: gone
#      (reporting); the answer, then a down report, then freed;
#   7. removed and plugged again while its down report is in flight:
#      gone -> fetch, and up once the down report is answered;
#   8. its tag cleared while up: down first, reported down, then up again
#      with its tag back;
#   9. bound to another host: dead, nothing reported.
# Then the "port states:" counts match the ports' states.  Last, checks
# that do not end the test: a VIF plugged again while gone on a new ofport
# (wired once, with it) or under a new name (wired under it), and an idle
# agent that does not spin.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rabbit.sh"

PEER=$OVSA_TOP/tests/tools/oslo_peer.py
WIRE=$OVSA_TOP/tests/unit/data/wire
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null \
    || { skip "python3-oslo.messaging is not installed"; exit 0; }
command -v jq >/dev/null || { skip "jq is not installed"; exit 0; }

sandbox_init
rabbit_start mq
URL=$(rabbit_url mq)
HOST=hv-$SANDBOX_ID
NET=65b64054-48c4-45f9-bc47-4781a2537daf     # the captured objects' network
LOG=$SANDBOX/a1.log
N=$SANDBOX/neutron                           # the scripted server's files

# --- the scripted neutron-server -------------------------------------------------

mkdir -p "$N"
bash -c 'exec -a "$1" /usr/bin/python3 "${@:2}"' _ "$SANDBOX/peer-neutron" \
    "$PEER" neutron "$URL" "$N" > "$SANDBOX/neutron.out" \
    2> "$SANDBOX/neutron.err" < /dev/null {_OVSA_OUT}>&- &
_register pid "$!" peer-neutron
wait_until 30 grep -q READY "$SANDBOX/neutron.out" \
    || fail "the scripted neutron-server did not start: $(tail -n 5 "$SANDBOX/neutron.err")"

# port_obj ID MAC IP HOST ADMIN_UP REVISION: a Port primitive, the captured
# one with its ids, address, binding host, admin state and revision
# replaced, on VLAN 100 of physnet1.
port_obj() {
    jq -c --arg id "$1" --arg mac "$2" --arg ip "$3" --arg host "$4" \
        --argjson admin "$5" --argjson rev "$6" '
        .replies[0].publish.oslo_message.result[0]
        | .["versioned_object.data"] |= (
            .id = $id | .mac_address = $mac | .admin_state_up = $admin
            | .revision_number = $rev | .name = "vm-" + $id[0:8]
            | .bindings[0]["versioned_object.data"] |= (.port_id = $id | .host = $host)
            | .fixed_ips[0]["versioned_object.data"] |= (.port_id = $id | .ip_address = $ip)
            | .security["versioned_object.data"].id = $id
            | .binding_levels[0]["versioned_object.data"] |= (
                .port_id = $id | .host = $host
                | .segment["versioned_object.data"] |= (
                    .network_type = "vlan" | .physical_network = "physnet1"
                    | .segmentation_id = 100)))' \
        "$WIRE/bulk_pull-Port-device-details.json"
}
# serve ID ARGS...: the server has port ID (port_obj ID ARGS...): bulk_pull
# answers with it from now on.  Prints the object.
serve() {
    local id=$1
    port_obj "$@" | tee "$N/ports/$id.json.tmp"
    mv "$N/ports/$id.json.tmp" "$N/ports/$id.json"
}
_ncast=0
# cast_file TOPIC METHOD ARGS_JSON: the server casts it to every agent;
# waits until it is sent.
cast_file() {
    _ncast=$((_ncast + 1))
    local f
    f=$N/casts/$(printf '%04d' "$_ncast")
    jq -nc --arg t "$1" --arg m "$2" --argjson a "$3" \
        '{topic: $t, method: $m, args: $a, version: "1.1"}' > "$f.tmp"
    mv "$f.tmp" "$f.json"
    wait_until 20 test -e "$f.json.sent" || fail "the server did not send $2 on $1"
}
# push_port EVENT OBJECT: a neutron-vo-Port push of one object.
push_port() {
    cast_file neutron-vo-Port-1.7 push \
        "$(jq -nc --arg e "$1" --argjson o "$2" '{resource_list: [$o], event_type: $e}')"
}
# deleted_obj ID: the Port primitive of a "deleted" push.
deleted_obj() {
    jq -c --arg id "$1" '.request.oslo_message.args.resource_list[0]
        | .["versioned_object.data"].id = $id' "$WIRE/push-Port-fanout-deleted.json"
}
# push_network: a neutron-vo-Network push of the ports' network, updated.
push_network() {
    cast_file neutron-vo-Network-1.1 push "$(jq -c '
        {resource_list: [.request.oslo_message.args.resource_list[0]
            | .["versioned_object.data"].segments[0]["versioned_object.data"] |= (
                .network_type = "vlan" | .physical_network = "physnet1"
                | .segmentation_id = 100)],
         event_type: "updated"}' "$WIRE/push-Network-fanout.json")"
}

# hold RULE...: the server holds the calls matching these rules (and only
# these: "METHOD" or "METHOD STRING-IN-ARGS"); none without arguments.
hold() {
    printf '%s\n' "$@" > "$N/hold.tmp"
    mv "$N/hold.tmp" "$N/hold"
}
# calls: the server's record of calls, one JSON object per line.
calls() { jq -c 'select(.method)' "$N/calls" 2>/dev/null; }
# held_call METHOD WHAT ID: the number of the call of METHOD, held and not
# answered yet, whose WHAT (a jq path) holds ID; fails if there is none.
held_call() {
    local n
    n=$(jq -rs --arg m "$1" --arg id "$3" "
        (map(select(.answered) | .n)) as \$done
        | .[] | select(.method == \$m and .held
                       and (.n as \$n | \$done | index(\$n) | not)
                       and (($2) // [] | index(\$id)))
        | .n" "$N/calls" | tail -n 1)
    [ -n "$n" ] && echo "$n"
}
release() { touch "$N/release/$1"; }
answered() { jq -e --argjson n "$1" 'select(.n == $n and .answered)' "$N/calls" >/dev/null; }
# reports ID up|down: how many update_device_list calls reported ID so.
reports() {
    calls | jq -r --arg id "$1" --arg k "devices_$2" \
        'select(.method == "update_device_list" and (.args[$k] | index($id))) | .n' \
        | wc -l
}
reports_are() { [ "$(reports "$1" "$2")" = "$3" ]; }
# reports_are_n ID UP DOWN: ID was reported up UP times and down DOWN times.
reports_are_n() {
    local got
    got="$(reports "$1" up) $(reports "$1" down)"
    [ "$got" = "$2 $3" ] || { echo "reported up, down: $got"; return 1; }
}
# fanout_drained TOPIC: the agent's fanout queues of TOPIC hold no message,
# delivered or not.
fanout_drained() {
    rabbit_ctl mq -q list_queues --no-table-headers name messages \
        messages_unacknowledged > "$SANDBOX/queues"
    grep -q "^$1_fanout_" "$SANDBOX/queues" \
        && ! awk -v p="$1_fanout_" 'index($1, p) == 1 && ($2 != 0 || $3 != 0)' \
               "$SANDBOX/queues" | grep . >/dev/null
}
# states_are TEXT: the "port states:" line of ovsagent/show is TEXT.
states_are() {
    local line
    line=$(show | grep '^port states:')
    [ "$line" = "port states: $1" ] || { echo "show: $line"; return 1; }
}
pulled() { [ "$(pulls_of "$1")" -ge 1 ]; }
pulls_of() {
    calls | jq -r --arg id "$1" \
        'select(.method == "bulk_pull" and (.args.filter_kwargs.id | index($id))) | .n' \
        | wc -l
}

# --- the agent ----------------------------------------------------------------------

ovs_start hv dummy
ovs_vsctl hv add-br br-phys
agent_conf hv "DEFAULT.host=$HOST" "DEFAULT.transport_url=$URL" \
    "DEFAULT.debug=True" "bridge_mappings=physnet1:br-phys" \
    "securitygroup.firewall_driver=noop" > "$SANDBOX/hv.ini"
agent_start a1 hv "$SANDBOX/hv.ini"

# poll_loop logs each wakeup at debug level: a busy agent would fill the
# log with them (see the end).
agent_appctl a1 vlog/set poll_loop:file:info >/dev/null
show() { agent_appctl a1 ovsagent/show; }
amqp_ready() { show | grep 'state=READY' >/dev/null; }
check "the agent connects to the broker" -- wait_until 30 amqp_ready
check "it reports its state to the scripted server" -- \
    wait_until 30 grep -qF '"method": "report_state"' "$N/calls"

# port_line ID: the port's line in ovsagent/show (fails if it has none).
port_line() { show | grep -F "  $1 "; }
# state_is ID TEXT: the port's state is TEXT, e.g. "mark-up (reporting)".
state_is() { port_line "$1" | grep -F " state=$2 reported=" >/dev/null; }
state_wait() {
    wait_until 10 state_is "$1" "$2" && return 0
    echo "show: $(port_line "$1" || echo "(no such port)")"
    return 1
}
# shows ID TEXT: the port's line in ovsagent/show has TEXT.
shows() {
    local line
    line=$(port_line "$1") || { echo "no port $1 in ovsagent/show"; return 1; }
    grep -qF -- "$2" <<<"$line" || { echo "show: $line"; return 1; }
}
vlan_of() { port_line "$1" | sed -n 's/.* vlan=\([0-9]*\) .*/\1/p'; }
tag_of() { ovs_vsctl hv get Port "$1" tag; }
tag_is() { [ "$(tag_of "$1")" = "$2" ]; }
tag_wait() {
    wait_until 10 tag_is "$1" "$2" && return 0
    echo "tag of $1: $(tag_of "$1"), not $2"
    return 1
}

# The port's transitions in the log: "old -> new", one per line, in order.
declare -A POS
trans_from() {  # ID FROM: its transitions after the first FROM
    grep -aF "|ports|DBG|port $1 (" "$LOG" | grep -a ' -> ' \
        | sed 's/^.*): //' | tail -n +$(($2 + 1))
}
trans_are() {   # ID FROM EXPECTED...
    local id=$1 from=$2
    shift 2
    [ "$(trans_from "$id" "$from")" = "$(printf '%s\n' "$@")" ]
}
trans_wait() {  # ID FROM EXPECTED...: until they are exactly these
    wait_until 10 trans_are "$@" && return 0
    echo "transitions of $1 since #$2: $(trans_from "$1" "$2" | paste -sd, -)"
    echo "expected: $(printf '%s,' "${@:3}")"
    return 1
}
# expect_trans TEXT ID EXPECTED...: a check that the port's next
# transitions, since those already checked, are exactly EXPECTED.
expect_trans() {
    local text=$1 id=$2
    shift 2
    check "$text" -- trans_wait "$id" "${POS[$id]:-0}" "$@"
    POS[$id]=$((${POS[$id]:-0} + $#))
}
# no_more_trans ID: nothing happened to the port beyond what was checked.
no_more_trans() { trans_wait "$1" "${POS[$1]:-0}"; }

# vif_plug NAME ID MAC [-- MORE...]: a VIF on br-int as os-vif plugs it.
vif_plug() {
    ovs_vsctl hv add-port br-int "$1" -- set Interface "$1" \
        external_ids:iface-id="$2" external_ids:attached-mac="$3" \
        external_ids:iface-status=active "${@:4}"
}
vif_unplug() { ovs_vsctl hv del-port br-int "$1"; }

uuid() { cat /proc/sys/kernel/random/uuid; }
P1=$(uuid) P2=$(uuid) P3=$(uuid) P4=$(uuid) P5=$(uuid)
MAC1=fa:16:3e:00:00:01 MAC2=fa:16:3e:00:00:02 MAC3=fa:16:3e:00:00:03
MAC4=fa:16:3e:00:00:04 MAC5=fa:16:3e:00:00:05

# --- 1. a new VIF ---------------------------------------------------------------------
note "1. a new VIF: $P1"
hold "bulk_pull $P1"
serve "$P1" "$MAC1" 10.1.0.11 "$HOST" true 2 >/dev/null
vif_plug vif1 "$P1" "$MAC1"
expect_trans "new VIF: new -> fetch -> fetching" "$P1" \
    "new -> fetch" "fetch -> fetching"
check "its bulk_pull (Port, filter id) reached the server and is held" -- \
    wait_until 10 held_call bulk_pull .args.filter_kwargs.id "$P1"
check "show: state=fetching" -- state_wait "$P1" fetching
check "while the pull is held it stays fetching" -- no_more_trans "$P1"
check "show counts it: fetching=1" -- \
    states_are "fetch=0 fetching=1 wiring=0 mark-up=0 up=0 mark-down=0 down=0 dead=0 gone=0"
hold "update_device_list $P1"
pull=$(held_call bulk_pull .args.filter_kwargs.id "$P1")
release "$pull"
expect_trans "the pull answered: fetching -> fetch -> wiring -> mark-up" "$P1" \
    "fetching -> fetch" "fetch -> wiring" "wiring -> mark-up"
check "its report up reached the server and is held" -- \
    wait_until 10 held_call update_device_list .args.devices_up "$P1"
check "show: state=mark-up (reporting)" -- state_wait "$P1" "mark-up (reporting)"
check "while the report is held it stays mark-up" -- no_more_trans "$P1"
lv1=$(vlan_of "$P1")
check "its local VLAN is shown (network $NET/100)" -- \
    shows "$P1" " network=$NET/100 vlan=$lv1 "
check "the Port's tag is its local VLAN $lv1" -- tag_wait vif1 "$lv1"
oc_ok() {
    local oc
    oc=$(ovs_vsctl hv get Port vif1 other_config)
    for kv in "net_uuid=\"$NET\"" "network_type=vlan" "physical_network=physnet1" \
              "segmentation_id=\"100\"" "tag=\"$lv1\""; do
        grep -qF "$kv" <<<"$oc" || { echo "no $kv in $oc"; return 1; }
    done
}
check "its other_config names the network, type, physnet, segment and tag" -- oc_ok
report=$(held_call update_device_list .args.devices_up "$P1")
hold
release "$report"
expect_trans "the report answered: mark-up -> up" "$P1" "mark-up -> up"
check "show: state=up, reported=up" -- \
    shows "$P1" " state=up reported=up"
check "one report up, none down" -- \
    reports_are_n "$P1" 1 0
check "the server answered a single pull for it" -- test "$(pulls_of "$P1")" = 1

# --- 2. admin down ---------------------------------------------------------------------
note "2. admin down"
hold "update_device_list $P1"
push_port updated "$(serve "$P1" "$MAC1" 10.1.0.11 "$HOST" false 3)"
expect_trans "admin down pushed: up -> fetch -> mark-down" "$P1" \
    "up -> fetch" "fetch -> mark-down"
check "its report down is held: show: state=mark-down (reporting)" -- \
    state_wait "$P1" "mark-down (reporting)"
check "the pushed object needed no pull" -- test "$(pulls_of "$P1")" = 1
check "the Port's tag is the dead VLAN 4095" -- tag_wait vif1 4095
check "while the report is held it stays mark-down" -- no_more_trans "$P1"
report=$(held_call update_device_list .args.devices_down "$P1")
hold
release "$report"
expect_trans "the report answered: mark-down -> down" "$P1" "mark-down -> down"
check "show: state=down, reported=down" -- \
    shows "$P1" " state=down reported=down"

# --- 3. a push that changes nothing ------------------------------------------------------
note "3. pushes that change nothing"
push_port updated "$(cat "$N/ports/$P1.json")"
# The agent acknowledges a message once it has handled it.
check "the agent has handled the Port push (its queue is drained)" -- \
    wait_until 30 fanout_drained neutron-vo-Port-1.7
check "a Port push that changes nothing: no transition" -- no_more_trans "$P1"
check "... no pull" -- test "$(pulls_of "$P1")" = 1
check "... no report" -- reports_are_n "$P1" 1 1
hold "bulk_pull $P1"
push_network
check "a Network push: the port's details are pulled again (held)" -- \
    wait_until 10 held_call bulk_pull .args.filter_kwargs.id "$P1"
expect_trans "a Network push: down -> fetch -> fetching" \
    "$P1" "down -> fetch" "fetch -> fetching"
pull=$(held_call bulk_pull .args.filter_kwargs.id "$P1")
hold
release "$pull"
expect_trans "the same details back: fetching -> fetch -> down (resumed)" "$P1" \
    "fetching -> fetch" "fetch -> down"
check "no new report: still one up, one down" -- \
    reports_are_n "$P1" 1 1
check "show: state=down, reported=down" -- \
    shows "$P1" " state=down reported=down"
check "the tag stays 4095" -- tag_is vif1 4095

# --- 4. admin up again ---------------------------------------------------------------------
note "4. admin up"
hold "update_device_list $P1"
push_port updated "$(serve "$P1" "$MAC1" 10.1.0.11 "$HOST" true 4)"
expect_trans "admin up pushed: down -> fetch -> wiring -> mark-up" "$P1" \
    "down -> fetch" "fetch -> wiring" "wiring -> mark-up"
check "show: state=mark-up (reporting)" -- state_wait "$P1" "mark-up (reporting)"
lv1=$(vlan_of "$P1")
check "the tag is the local VLAN $lv1 again" -- tag_wait vif1 "$lv1"
report=$(held_call update_device_list .args.devices_up "$P1")
hold
release "$report"
expect_trans "the report answered: mark-up -> up" "$P1" "mark-up -> up"
check "reports: two up, one down" -- \
    reports_are_n "$P1" 2 1

# --- 5. deleted while its details are in flight ----------------------------------------------
note "5. deleted while its pull is in flight: $P2"
hold "bulk_pull $P2"
serve "$P2" "$MAC2" 10.1.0.12 "$HOST" true 2 >/dev/null
vif_plug vif2 "$P2" "$MAC2"
expect_trans "new VIF: new -> fetch -> fetching" "$P2" "new -> fetch" "fetch -> fetching"
check "its pull is held" -- wait_until 10 held_call bulk_pull .args.filter_kwargs.id "$P2"
push_port deleted "$(deleted_obj "$P2")"
expect_trans "deleted pushed while fetching: fetching -> dead" "$P2" "fetching -> dead"
check "show: state=dead" -- state_wait "$P2" dead
pull=$(held_call bulk_pull .args.filter_kwargs.id "$P2")
hold
release "$pull"
check "the held pull is answered, with the port's object" -- wait_until 10 answered "$pull"
# The agent has one pull in flight at a time: a pull for the next port
# shows that it has handled the answer of this one.
serve "$P5" "$MAC5" 10.1.0.15 "other-host-$SANDBOX_ID" true 2 >/dev/null
vif_plug vif5 "$P5" "$MAC5"
check "(the agent sent its next pull)" -- \
    wait_until 10 pulled "$P5"
check "the late answer did not revive it: no transition after dead" -- no_more_trans "$P2"
check "show: still state=dead, reported=none" -- \
    shows "$P2" " state=dead reported=none"
check "nothing was reported for it" -- \
    reports_are_n "$P2" 0 0
check "its Port has no tag (port_dead leaves an untagged port alone)" -- tag_is vif2 "[]"
# port_flows PORT: the flows of br-int that match on the port.
port_flows() {
    local of
    of=$(ovs_vsctl hv get Interface "$1" ofport)
    dump_flows hv br-int | grep -E "in_port=(\"?$1\"?|$of)[, ]"
}
check "no flow for it on br-int" -- never 3 port_flows vif2

# --- 9. not bound to this host (its VIF was plugged above) ----------------------------------
note "9. bound to another host: $P5"
expect_trans "its pull answered with a binding elsewhere: new -> fetch -> fetching -> fetch -> dead" \
    "$P5" "new -> fetch" "fetch -> fetching" "fetching -> fetch" "fetch -> dead"
check "the agent says it is not bound here" -- \
    grep -qF "port $P5 (vif5): not bound to this host on the server" "$LOG"
check "show: state=dead, reported=none" -- \
    shows "$P5" " state=dead reported=none"
check "nothing was reported for it" -- \
    reports_are_n "$P5" 0 0
check "its Port has no tag" -- tag_is vif5 "[]"

# --- 6. removed from br-int while its report is in flight --------------------------------------
note "6. removed while its report up is in flight: $P3"
hold "update_device_list $P3"
serve "$P3" "$MAC3" 10.1.0.13 "$HOST" true 2 >/dev/null
vif_plug vif3 "$P3" "$MAC3"
expect_trans "new VIF up to mark-up" "$P3" "new -> fetch" "fetch -> fetching" \
    "fetching -> fetch" "fetch -> wiring" "wiring -> mark-up"
check "its report up is held: state=mark-up (reporting)" -- \
    state_wait "$P3" "mark-up (reporting)"
vif_unplug vif3
expect_trans "removed from br-int: mark-up -> gone" "$P3" "mark-up -> gone"
check "show: state=gone (reporting), reported=none" -- \
    shows "$P3" " state=gone (reporting) reported=none"
check "no report down while the report up is out" -- reports_are "$P3" down 0
report=$(held_call update_device_list .args.devices_up "$P3")
hold "update_device_list $P3"
release "$report"
check "once answered, a report down goes out" -- \
    wait_until 10 held_call update_device_list .args.devices_down "$P3"
check "the report up's answer moved nothing: still gone" -- no_more_trans "$P3"
check "show: state=gone (reporting), reported=up" -- \
    shows "$P3" " state=gone (reporting) reported=up"
report=$(held_call update_device_list .args.devices_down "$P3")
hold
release "$report"
check "the report down answered: gone -> freed" -- \
    wait_until 10 grep -qF "port $P3 (vif3): gone -> freed" "$LOG"
check "it is no longer in ovsagent/show" -- wait_never 10 3 port_line "$P3"
check "reports: one up, one down" -- \
    reports_are_n "$P3" 1 1

# --- 7. gone -> fetch ----------------------------------------------------------------------------
note "7. plugged again while its report down is in flight: $P4"
serve "$P4" "$MAC4" 10.1.0.14 "$HOST" true 2 >/dev/null
vif_plug vif4 "$P4" "$MAC4"
expect_trans "new VIF: up" "$P4" "new -> fetch" "fetch -> fetching" \
    "fetching -> fetch" "fetch -> wiring" "wiring -> mark-up" "mark-up -> up"
of4=$(ovs_vsctl hv get Interface vif4 ofport)
hold "update_device_list $P4"
vif_unplug vif4
expect_trans "removed: up -> gone" "$P4" "up -> gone"
check "its report down is held: state=gone (reporting)" -- \
    wait_until 10 held_call update_device_list .args.devices_down "$P4"
check "show: state=gone (reporting)" -- state_wait "$P4" "gone (reporting)"
# Back on the same ofport (see the end for a new one).
vif_plug vif4 "$P4" "$MAC4" -- set Interface vif4 ofport_request="$of4"
ofport_is() { [ "$(ovs_vsctl hv get Interface "$1" ofport)" = "$2" ]; }
check "plugged again on ofport $of4" -- wait_until 10 ofport_is vif4 "$of4"
expect_trans "plugged again: gone -> fetch -> wiring -> mark-up (from the cache)" \
    "$P4" "gone -> fetch" "fetch -> wiring" "wiring -> mark-up"
check "show: state=mark-up (reporting): the report down is still out" -- \
    state_wait "$P4" "mark-up (reporting)"
check "no report up while the report down is out" -- reports_are "$P4" up 1
lv4=$(vlan_of "$P4")
check "its tag is its local VLAN $lv4" -- tag_wait vif4 "$lv4"
report=$(held_call update_device_list .args.devices_down "$P4")
hold
release "$report"
expect_trans "the report down answered, then reported up: mark-up -> up" "$P4" "mark-up -> up"
check "not freed" -- not grep -qF "port $P4 (vif4): gone -> freed" "$LOG"
# up_after ID N: ID's last report up is a call after call N.
up_after() {
    local last
    last=$(calls | jq -r --arg id "$1" 'select(.method == "update_device_list"
            and (.args.devices_up | index($id))) | .n' | tail -n 1)
    [ "$last" -gt "$2" ] || { echo "last report up: call $last"; return 1; }
}
check "reports: two up, one down" -- reports_are_n "$P4" 2 1
check "the second up went after the report down was answered" -- up_after "$P4" "$report"
antispoof_on() {   # PORT: the port's anti-spoofing flows use its ofport
    local of
    of=$(ovs_vsctl hv get Interface "$1" ofport)
    ovs_ofctl hv -O OpenFlow13 dump-flows br-int | grep "in_port=$of,.*dl_src=$2" >/dev/null
}
check "its flows are for its current ofport" -- antispoof_on vif4 "$MAC4"

# --- 8. lost its tag while up ------------------------------------------------------------------------
note "8. tag lost while up: $P1"
hold "update_device_list $P1"
ovs_vsctl hv clear Port vif1 tag
check "a report down first, held" -- \
    wait_until 10 held_call update_device_list .args.devices_down "$P1"
check "show: (down first) (reporting)" -- \
    wait_until 10 shows "$P1" "(down first) (reporting)"
expect_trans "rewired: up -> fetch -> wiring -> mark-up" "$P1" \
    "up -> fetch" "fetch -> wiring" "wiring -> mark-up"
check "show: state=mark-up (down first) (reporting)" -- \
    state_wait "$P1" "mark-up (down first) (reporting)"
check "no report up while the report down is out" -- reports_are "$P1" up 2
lv1=$(vlan_of "$P1")
check "the tag is back: $lv1" -- tag_wait vif1 "$lv1"
report=$(held_call update_device_list .args.devices_down "$P1")
hold
release "$report"
expect_trans "the report down answered, then reported up: mark-up -> up" "$P1" "mark-up -> up"
check "show: state=up, reported=up, no longer down first" -- \
    shows "$P1" " state=up reported=up"
check "reports: three up, two down" -- \
    reports_are_n "$P1" 3 2

# --- the counts ----------------------------------------------------------------------------------------
counts_match() {
    local s line name n got
    s=$(show)
    line=$(grep '^port states:' <<<"$s") || { echo "no port states line"; return 1; }
    for kv in ${line#port states:}; do
        name=${kv%=*} n=${kv#*=}
        got=$(grep -cF " state=$name " <<<"$s" || true)
        [ "$got" = "$n" ] || { echo "$kv but $got ports in state $name"; echo "$s"; return 1; }
    done
}
check "the 'port states:' counts match the ports' states" -- counts_match
check "they are: up=2 (vif1, vif4), dead=2 (vif2, vif5), nothing else" -- \
    states_are "fetch=0 fetching=0 wiring=0 mark-up=0 up=2 mark-down=0 down=0 dead=2 gone=0"
for p in "$P1" "$P2" "$P4" "$P5"; do
    no_more_trans "$p" >/dev/null || check "no unexpected transition for $p" -- no_more_trans "$p"
done
reported_only() {   # ID...: no update_device_list named another port
    local ids
    ids=$(calls | jq -r 'select(.method == "update_device_list")
                         | .args.devices_up[], .args.devices_down[]') || return 1
    ! printf '%s\n' "$ids" | sort -u | grep -vxF "$(printf '%s\n' "$@")"
}
check "only vif1, vif3 and vif4 were ever reported" -- reported_only "$P1" "$P3" "$P4"

# --- plugged again otherwise ---------------------------------------------------------------------------
# Nothing above goes on from here: these checks are not fatal.
note "7b. plugged again while gone, on a new ofport"
P6=$(uuid) P7=$(uuid)
MAC6=fa:16:3e:00:00:06 MAC7=fa:16:3e:00:00:07
# up_then_gone NAME ID MAC: the VIF plugged and up, then unplugged with its
# report down held.  Sets OLD_OFPORT.
up_then_gone() {
    serve "$2" "$3" 10.1.0.99 "$HOST" true 2 >/dev/null
    vif_plug "$1" "$2" "$3"
    check "$1 up" -- state_wait "$2" up
    POS[$2]=6
    OLD_OFPORT=$(ovs_vsctl hv get Interface "$1" ofport)
    hold "update_device_list $2"
    vif_unplug "$1"
    check "$1 unplugged: gone, its report down held" -- \
        wait_until 10 held_call update_device_list .args.devices_down "$2"
    POS[$2]=7
}
# release_down ID: its report down answered.
release_down() {
    local r
    r=$(held_call update_device_list .args.devices_down "$1")
    hold
    release "$r"
}
up_then_gone vif6 "$P6" "$MAC6"
vif_plug vif6 "$P6" "$MAC6"
not_ofport() { ! ofport_is "$@"; }
check "vif6 plugged again, on another ofport than $OLD_OFPORT" -- \
    wait_until 10 not_ofport vif6 "$OLD_OFPORT" || true
release_down "$P6"
check "vif6 up again" -- state_wait "$P6" up || true
check "vif6's flows are for its new ofport" -- antispoof_on vif6 "$MAC6" || true
check "vif6 was wired once, with its new ofport: gone -> fetch -> wiring -> mark-up -> up" -- \
    trans_wait "$P6" 7 "gone -> fetch" "fetch -> wiring" "wiring -> mark-up" "mark-up -> up" || true

note "7c. plugged again while gone, under another name"
up_then_gone vif7 "$P7" "$MAC7"
vif_plug vif7b "$P7" "$MAC7"
release_down "$P7"
check "vif7 plugged again as vif7b: up" -- state_wait "$P7" up || true
check "show names it vif7b" -- \
    shows "$P7" " vif7b ofport=" || true
vlan7() { tag_wait vif7b "$(vlan_of "$P7")"; }
check "vif7b has its local VLAN tag" -- vlan7 || true

check "the 'port states:' counts still match the ports' states" -- counts_match

# --- idle -----------------------------------------------------------------------------------------------
# The agent waits for events: over this test it used a small share of a
# CPU, unless its poll loop spins.
cpu_share() {   # percent of one CPU the agent used since it started
    local pid stat hz up
    pid=$(agent_pid a1)
    stat=$(cat "/proc/$pid/stat")
    read -r -a f <<<"${stat##*) }"
    hz=$(getconf CLK_TCK)
    up=$(cut -d' ' -f1 /proc/uptime)
    awk -v t="$((f[11] + f[12]))" -v s="${f[19]}" -v hz="$hz" -v up="$up" \
        'BEGIN { printf "%d\n", 100 * (t / hz) / (up - s / hz) }'
}
cpu=$(cpu_share)
check "the agent does not spin: it used $cpu% of a CPU (limit 15%)" -- test "$cpu" -lt 15 || true

agent_stop a1
agent_log_clean a1
