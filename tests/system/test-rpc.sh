#!/bin/bash
# The oslo.messaging layer (src/oslo/) against a real RabbitMQ and the real
# oslo.messaging library: rpc-probe (tests/tools/rpc-probe.c) is the C side,
# oslo_peer.py (tests/tools/oslo_peer.py) the Python side.
#
# Calls to a Python RPC server (result, failure, timeout, nobody
# listening), the AMQP properties of a call, casts and fanout casts both
# ways, declarations shared with Python servers (also with other flags),
# garbage on our queues, heartbeats (kept, and a frozen broker detected),
# a broker restart, a failover list whose first broker is dead, TLS with
# and without a client certificate, and a clean exit that removes the
# fanout queues.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rabbit.sh"

PROBE=$OVSAGENT_OUT/tools/rpc-probe
PEER=$OVSA_TOP/tests/tools/oslo_peer.py
[ -x "$PROBE" ] || fail "$PROBE is not built"
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null \
    || { skip "python3-oslo.messaging is not installed"; exit 0; }

sandbox_init
rabbit_start mq
URL=$(rabbit_url mq)
note "broker $(rabbit_port mq) (TLS $(rabbit_tls_port mq))"

# --- helpers ------------------------------------------------------------------

# peer_start NAME ARGS...: oslo_peer.py ARGS in the background, output in
# $SANDBOX/NAME.out and NAME.err; for "server" and "peek", waits for READY.
peer_start() {
    local name=$1 pid
    shift
    # argv[0] names the sandbox, so that the cleanup recognises it.
    bash -c 'exec -a "$1" /usr/bin/python3 "${@:2}"' _ "$SANDBOX/peer-$name" \
        "$PEER" "$@" > "$SANDBOX/$name.out" 2> "$SANDBOX/$name.err" \
        < /dev/null {_OVSA_OUT}>&- &
    pid=$!
    echo "$pid" > "$SANDBOX/$name.pid"
    _register pid "$pid" "peer-$name"
    case $1 in
        server|peek)
            wait_until 30 grep -q READY "$SANDBOX/$name.out" \
                || fail "peer $name did not start: $(tail -n 5 "$SANDBOX/$name.err")" ;;
    esac
}

# peer_stop NAME: SIGTERM, and waits for it to exit.
peer_stop() {
    local pid
    pid=$(cat "$SANDBOX/$1.pid")
    kill -TERM "$pid" 2>/dev/null || true
    wait_until 10 not _pid_alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
}

# peer ARGS...: oslo_peer.py ARGS in the foreground.
peer() { /usr/bin/python3 "$PEER" "$@"; }

# probe ARGS...: a one-shot rpc-probe, logging to $SANDBOX/probe.log.
probe() {
    "$PROBE" --log-file "$SANDBOX/probe.log" "$@"
}

# listener_start NAME HOST URL_OR_CONF TOPIC... : "rpc-probe listen" in the
# background with control socket $SANDBOX/NAME.ctl, printing requests to
# $SANDBOX/NAME.out; waits until it is connected.
listener_start() {
    local name=$1 host=$2 where=$3 pid
    shift 3
    local -a conn=(--transport-url "$where")
    [ -f "$where" ] && conn=(--config-file "$where")
    "$PROBE" "${conn[@]}" --host "$host" --keep-order \
        --unixctl "$SANDBOX/$name.ctl" --log-file "$SANDBOX/$name.log" \
        listen "$@" > "$SANDBOX/$name.out" 2> "$SANDBOX/$name.err" \
        < /dev/null {_OVSA_OUT}>&- &
    pid=$!
    echo "$pid" > "$SANDBOX/$name.pid"
    _register pid "$pid" "$name"
    wait_until 30 listener_ready "$name" \
        || fail "listener $name did not connect: $(tail -n 5 "$SANDBOX/$name.log")"
}

ctl() {
    local name=$1
    shift
    ovs-appctl --timeout=30 -t "$SANDBOX/$name.ctl" "$@"
}
listener_ready() { ctl "$1" probe/status | grep '^ready=yes' >/dev/null; }
status_has() { ctl "$1" probe/status | grep -- "$2" >/dev/null; }
out_has() { grep -qF -- "$2" "$SANDBOX/$1.out"; }
queues() {
    rabbit_ctl mq -q list_queues --no-table-headers name durable auto_delete arguments
}
queue_exists() { queues | awk '{print $1}' | grep -x -- "$1" >/dev/null; }
fanout_queues_of() { queues | awk '{print $1}' | grep -c "^$1_fanout_" || true; }

# expect_json TEXT CMD...: CMD prints exactly the JSON line TEXT.
expect_json() {
    local want=$1 got
    shift
    got=$("$@") || true
    [ "$got" = "$want" ] || { echo "got: $got"; echo "want: $want"; return 1; }
}

# --- calls to a Python RPC server ----------------------------------------------

peer_start py server "$URL" q-test pyhost
check "call: the Python server's result comes back" -- \
    expect_json '{"result":{"a":1,"b":["x",null],"c":"café"}}' \
    probe --transport-url "$URL" call q-test echo '{"a": 1, "b": ["x", null], "c": "caf\u00e9"}'
check "call: a version and no namespace are accepted" -- \
    expect_json '{"result":{}}' probe --transport-url "$URL" call q-test echo '{}' 1.9
check "call: a remote exception is one clear line" -- \
    expect_json '{"error":"ValueError: boom at line 1"}' \
    probe --transport-url "$URL" call q-test fail '{"message": "boom at line 1"}'
check "call: an unknown method is NoSuchMethod" -- \
    bash -c '"$0" --transport-url "$1" call q-test nonexistent "{}" | grep -q "NoSuchMethod"' \
    "$PROBE" "$URL"
check "call: too high a version is UnsupportedVersion" -- \
    bash -c '"$0" --transport-url "$1" call q-test echo "{}" 2.0 | grep -q "UnsupportedVersion"' \
    "$PROBE" "$URL"
check_timeout() {
    local start=$SECONDS
    expect_json '{"error":"timed out waiting for a reply"}' \
        probe --transport-url "$URL" --timeout 2 call q-test sleep '{"seconds": 4}'
    [ $((SECONDS - start)) -le 4 ]
}
check "call: a slow server times out after the call's timeout" -- check_timeout
check_no_server() {
    local start=$SECONDS
    expect_json '{"error":"no server is consuming the topic"}' \
        probe --transport-url "$URL" --timeout 20 call q-nobody echo '{}'
    [ $((SECONDS - start)) -le 3 ]
}
check "call: a topic nobody consumes fails at once" -- check_no_server

# What the server receives: kombu's view of the AMQP message.
peer_start peek peek "$URL" q-peek
probe --transport-url "$URL" --timeout 3 call q-peek some_method '{"k": "v"}' 1.4 >/dev/null || true
wait_until 10 grep -q properties "$SANDBOX/peek.out" || true
peek_ok() {
    "$OVSA_PYTHON" - "$SANDBOX/peek.out" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
m = lines[0]
p, msg = m["properties"], m["message"]
checks = {
    "content_type": m["content_type"] == "application/json",
    "content_encoding": m["content_encoding"] == "utf-8",
    "delivery_mode": p.get("delivery_mode") == 2,
    "priority": p.get("priority") == 0,
    "expiration": p.get("expiration") == "3000",
    "headers": m["headers"] == {},
    "no reply_to": "reply_to" not in p and "correlation_id" not in p,
    "envelope": m["envelope_keys"] == ["oslo.message", "oslo.version"]
                and m["oslo.version"] == "2.0",
    "method/args/version": (msg["method"], msg["args"], msg["version"])
                           == ("some_method", {"k": "v"}, "1.4"),
    "call members": msg["_reply_q"].startswith("reply_")
                    and len(msg["_msg_id"]) == 32 and msg["_timeout"] is None
                    and len(msg["_unique_id"]) == 32,
    "context": msg["_context_is_admin"] is True
               and msg["_context_request_id"].startswith("req-")
               and msg["_context_roles"] == [],
    "no namespace": "namespace" not in msg,
}
bad = [k for k, ok in checks.items() if not ok]
print("bad: %s in %s" % (bad, m) if bad else "all good")
sys.exit(1 if bad else 0)
EOF
}
check "a call carries kombu's properties, expiration = timeout, and oslo's members" -- peek_ok
peer_stop peek

# --- a C listener: casts and fanout casts from Python ----------------------------

listener_start c1 hv1 "$URL" ovsa-test q-other
three_queues() {
    local q n
    q=$(queues | awk '{print $1}')
    for n in ovsa-test ovsa-test.hv1 q-other q-other.hv1; do
        grep -qx "$n" <<<"$q" || return 1
    done
    [ "$(grep -c '^ovsa-test_fanout_' <<<"$q")" = 1 ] &&
    [ "$(grep -c '^q-other_fanout_' <<<"$q")" = 1 ]
}
check "the listener declared its three queues per topic" -- three_queues
decl_flags_ok() {
    local q ex
    q=$(queues)
    ex=$(rabbit_ctl mq -q list_exchanges --no-table-headers name type durable auto_delete internal)
    grep -qP '^ovsa-test\tfalse\tfalse\t\[\]$' <<<"$q" &&
    grep -qP '^ovsa-test\.hv1\tfalse\tfalse\t\[\]$' <<<"$q" &&
    grep -qP '^ovsa-test_fanout_[0-9a-f]{32}\tfalse\tfalse\t\[\{"x-expires",1800000\}\]$' <<<"$q" &&
    grep -qP '^reply_[0-9a-f]{32}\tfalse\tfalse\t\[\{"x-expires",1800000\}\]$' <<<"$q" &&
    grep -qP '^neutron\ttopic\tfalse\tfalse\tfalse$' <<<"$ex" &&
    grep -qP '^ovsa-test_fanout\tfanout\tfalse\ttrue\tfalse$' <<<"$ex"
}
check "queues and exchanges have the reference's flags" -- decl_flags_ok

peer cast "$URL" ovsa-test note '{"via": "topic"}'
check "a cast to the topic reaches the C listener" -- \
    wait_until 10 out_has c1 '{"args":{"via":"topic"},"method":"note","topic":"ovsa-test"}'
peer cast "$URL" ovsa-test note '{"via": "fanout"}' fanout
check "a fanout cast reaches the C listener" -- \
    wait_until 10 out_has c1 '"via":"fanout"'
peer cast "$URL" q-other note '{"via": "host"}' hv1
check "a cast to topic.host reaches the C listener" -- \
    wait_until 10 out_has c1 '{"args":{"via":"host"},"method":"note","topic":"q-other"}'

# --- casts from C to Python --------------------------------------------------------

probe --transport-url "$URL" cast q-test note '{"from": "c", "n": 1}'
check "a cast from C reaches the Python server" -- \
    wait_until 10 out_has py '{"args": {"from": "c", "n": 1}, "method": "note"}'
probe --transport-url "$URL" fanout q-test note '{"from": "c", "n": 2}'
check "a fanout cast from C reaches the Python server" -- \
    wait_until 10 out_has py '{"args": {"from": "c", "n": 2}, "method": "note"}'
check "the long-lived listener calls the Python server too" -- \
    bash -c 'ovs-appctl -t "$1" probe/call q-test echo "{\"x\": 2}" | grep -qxF "{\"result\":{\"x\":2}}"' \
    _ "$SANDBOX/c1.ctl"

# --- declarations shared with Python servers ----------------------------------

# A Python server on the listener's own topic and host declares the same
# queues ovsa-test and ovsa-test.hv1: any difference in flags would be a
# PRECONDITION_FAILED on one side or the other.
peer_start same server "$URL" ovsa-test hv1
check "a Python server shares the C listener's queues (no PRECONDITION_FAILED)" -- \
    not grep -q PRECONDITION "$SANDBOX/same.err"
check "the C listener is still connected" -- \
    status_has c1 'reconnect_seqno=0'
peer cast "$URL" ovsa-test note '{"via": "fanout-both"}' fanout
check "a fanout cast reaches both the C and the Python consumer" -- \
    wait_until 10 bash -c 'grep -q fanout-both "$1/c1.out" && grep -q fanout-both "$1/same.out"' _ "$SANDBOX"
peer_stop same

# The broker already has a non-durable exchange "neutron"; a client
# configured for durable queues cannot declare it so, and goes on with the
# existing one (docs/wire.md §3.4).
cat > "$SANDBOX/durable.conf" <<EOF
[DEFAULT]
transport_url = $URL
[oslo_messaging_rabbit]
amqp_durable_queues = true
EOF
check "amqp_durable_queues against an existing non-durable exchange: connects anyway" -- \
    expect_json '{"result":{"d":1}}' \
    probe --config-file "$SANDBOX/durable.conf" call q-test echo '{"d": 1}'
check "... and says so in its log" -- \
    grep -q 'exchange neutron exists with other flags' "$SANDBOX/probe.log"

# --- garbage on our queues ---------------------------------------------------------

reply_q=$(ctl c1 probe/status | sed -n 's/.*reply_queue=\(reply_[0-9a-f]*\).*/\1/p')
peer raw "$URL" ovsa-test_fanout "" \
    'not json' '{"oslo.version": "2.0", "oslo.message": "[1]"}' \
    '{"oslo.version": "9.9", "oslo.message": "{}"}' \
    '{"oslo.version": "2.0", "oslo.message": "{\"method\": 5, \"args\": {}}"}' \
    '{"method": "note", "args": 7}' '' '{"oslo.version": "2.0"'
peer raw "$URL" "" "$reply_q" 'garbage' '{"result": 1}' \
    '{"_msg_id": "00000000000000000000000000000000", "result": 1, "ending": true}'
peer cast "$URL" ovsa-test note '{"after": "garbage"}' fanout
check "after garbage, a valid cast still arrives" -- \
    wait_until 10 out_has c1 '"after":"garbage"'
check "the garbage was counted and dropped" -- \
    status_has c1 'dropped=9 '
check "a reply for no call is ignored" -- status_has c1 'stray_replies=1 '
check "the listener kept its connection" -- status_has c1 'reconnect_seqno=0'
nothing_left() {
    ! rabbit_ctl mq -q list_queues --no-table-headers name \
          messages_unacknowledged messages \
        | grep -P "^(ovsa-test_fanout_\\S+|$reply_q)\t([1-9]|0\t[1-9])"
}
check "the garbage is acknowledged, not left on the queues" -- nothing_left

# --- heartbeats ------------------------------------------------------------------

cat > "$SANDBOX/hb.conf" <<EOF
[DEFAULT]
transport_url = $URL
[oslo_messaging_rabbit]
heartbeat_timeout_threshold = 2
EOF
listener_start hb hv2 "$SANDBOX/hb.conf" hb-topic
check "heartbeat 2 s: heartbeats are sent while idle" -- \
    wait_until 10 status_has hb 'heartbeats_sent=[3-9]'
check "heartbeat 2 s: the idle connection stays up" -- \
    status_has hb 'reconnect_seqno=0'
check "heartbeat 2 s: the broker did not close it" -- \
    not grep -q 'connection lost' "$SANDBOX/hb.log"
# A frozen broker answers nothing: the heartbeat timeout must notice.
beam=$(cat "$(_rabbit_dir mq)/beam.pid")
kill -STOP "$beam"
check "a frozen broker is declared dead after the heartbeat timeout" -- \
    wait_until 10 grep -q 'no heartbeat from the broker for 2 s' "$SANDBOX/hb.log"
kill -CONT "$beam"
check "... and the session comes back when it thaws" -- \
    wait_until 60 status_has hb 'ready=yes reconnect_seqno=1'
ctl hb exit || true
wait_until 10 not _pid_alive "$(cat "$SANDBOX/hb.pid")" || true

# --- broker restart ------------------------------------------------------------------

rabbit_restart mq
check "after a broker restart the listener reconnects (seqno 1)" -- \
    wait_until 60 status_has c1 'ready=yes reconnect_seqno=1 '
check "its queues are declared again" -- \
    wait_until 10 queue_exists ovsa-test.hv1
peer cast "$URL" ovsa-test note '{"after": "restart"}' fanout
check "a fanout cast reaches it after the restart" -- \
    wait_until 10 out_has c1 '"after":"restart"'
peer cast "$URL" q-other note '{"after": "restart-host"}' hv1
check "a host cast reaches it after the restart" -- \
    wait_until 10 out_has c1 '"after":"restart-host"'
call_after_restart() {
    ovs-appctl -t "$SANDBOX/c1.ctl" probe/call q-test echo '{"r": 1}' 5 \
        | grep -xF '{"result":{"r":1}}' >/dev/null
}
check "calls work again (the Python server reconnected too)" -- \
    wait_until 60 call_after_restart

# --- failover and TLS ----------------------------------------------------------------

dead=$(free_port)
failover_url="rabbit://$RABBIT_USER:$RABBIT_PASS_URL@127.0.0.1:$dead,$RABBIT_USER:$RABBIT_PASS_URL@127.0.0.1:$(rabbit_port mq)/"
check "failover: the first broker is dead, the call goes through the second" -- \
    expect_json '{"result":{"f":1}}' \
    probe --transport-url "$failover_url" --keep-order call q-test echo '{"f": 1}'
check "failover: the dead broker was tried first" -- \
    grep -q "127.0.0.1:$dead: cannot connect" "$SANDBOX/probe.log"

tls_conf() {
    cat <<EOF
[DEFAULT]
transport_url = $(rabbit_tls_url mq)
[oslo_messaging_rabbit]
ssl = true
ssl_ca_file = $1
EOF
    [ -z "${2:-}" ] || printf 'ssl_cert_file = %s\nssl_key_file = %s\n' "$2" "$3"
}
tls=$(_rabbit_dir mq)/tls
tls_conf "$tls/ca.pem" > "$SANDBOX/tls.conf"
check "TLS: a call over the TLS listener, the broker verified by its CA" -- \
    expect_json '{"result":{"t":1}}' \
    probe --config-file "$SANDBOX/tls.conf" call q-test echo '{"t": 1}'
tls_conf "$tls/ca.pem" "$tls/client.pem" "$tls/client.key" > "$SANDBOX/tls-cert.conf"
check "TLS: with a client certificate" -- \
    expect_json '{"result":{"t":2}}' \
    probe --config-file "$SANDBOX/tls-cert.conf" call q-test echo '{"t": 2}'
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=other-ca \
    -keyout "$SANDBOX/other-ca.key" -out "$SANDBOX/other-ca.pem" 2>/dev/null
tls_conf "$SANDBOX/other-ca.pem" > "$SANDBOX/tls-bad.conf"
check "TLS: a broker certificate from another CA is refused" -- \
    expect_json '{"error":"not connected to the message broker"}' \
    probe --config-file "$SANDBOX/tls-bad.conf" --timeout 3 call q-test echo '{}'
check "TLS: credentials never appear in the logs" -- \
    not grep -qF -e "$RABBIT_PASS" -e "$RABBIT_PASS_URL" "$SANDBOX/probe.log" "$SANDBOX/c1.log"

# --- clean exit ------------------------------------------------------------------------

check "before exit the listener has its fanout queues" -- \
    test "$(fanout_queues_of ovsa-test)" = 1
kill -TERM "$(cat "$SANDBOX/c1.pid")"
check "the listener exits cleanly on SIGTERM" -- \
    wait_until 10 not _pid_alive "$(cat "$SANDBOX/c1.pid")"
check "its fanout queues are gone" -- \
    test "$(fanout_queues_of ovsa-test)$(fanout_queues_of q-other)" = 00
check "its host queues stay, as the reference's do" -- queue_exists ovsa-test.hv1
peer_stop py

check "no sanitizer report from the long-lived C listeners" -- \
    not grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$SANDBOX/c1.err" "$SANDBOX/hb.err"
ALLOWED_LOG_PATTERNS=("AMQP connection lost" "retrying in" "dropping"
                      "exists with other flags")
log_clean "$SANDBOX/c1.log" "the listener's log has no unexpected warnings"
