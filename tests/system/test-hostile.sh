#!/bin/bash
# Untrusted input and credentials in the agent's log.
#
# ovsagent at debug level, on a private RabbitMQ whose password needs
# percent-encoding, is sent hostile bytes from every side it reads: oslo
# envelopes whose JSON errors quote control characters, methods, ids and
# addresses with escape sequences and newlines (a forged log line), and an
# OVSDB Interface whose iface-id holds DEL and a UTF-8 control character.
# Every line of its log must then be a vlog line of printable ASCII, the
# hostile bytes must be there escaped (so the check is not vacuous), and
# the broker password must appear nowhere: not in the log, not on stderr,
# not in ovsagent/show, not in the errors of bad transport URLs.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rabbit.sh"

PEER=$OVSA_TOP/tests/tools/oslo_peer.py
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null \
    || { skip "python3-oslo.messaging is not installed"; exit 0; }

sandbox_init
rabbit_start mq
URL=$(rabbit_url mq)
HOST=hv-$SANDBOX_ID

ovs_start hv dummy
agent_conf hv "DEFAULT.host=$HOST" "DEFAULT.transport_url=$URL" \
    "DEFAULT.debug=True" "agent.tunnel_types=vxlan" \
    "securitygroup.firewall_driver=openvswitch" \
    > "$SANDBOX/hv.ini"
agent_start a1 hv "$SANDBOX/hv.ini"

amqp_ready() { agent_appctl a1 ovsagent/show | grep 'state=READY' >/dev/null; }
check "the agent connects to the broker" -- wait_until 30 amqp_ready

# raw EXCHANGE ROUTING_KEY BODY...: publishes each BODY as it is.
raw() { /usr/bin/python3 "$PEER" raw "$URL" "$@"; }
# envelope JSON: an oslo 2.0 envelope around the message JSON.
envelope() {
    /usr/bin/python3 -c 'import json, sys
print(json.dumps({"oslo.version": "2.0", "oslo.message": sys.argv[1]}))' "$1"
}
ESC=$'\e'

# --- the broker: bodies, envelopes and messages -------------------------------
# A backslash then ESC or a newline inside a quoted string: the JSON
# parser's error quotes that byte.
raw neutron-vo-Port-1.7_fanout "" \
    "$(envelope "{\"method\": \"push\", \"args\": \"\\${ESC}[31mRED\"}")" \
    "$(envelope "{\"method\": \"push\", \"x\": \"\\
$(date -u +%FT%T).000Z|00001|agent|ERR|FORGED-BY-PEER\"}")"
# Methods, ids and addresses with control characters, in well-formed
# messages on each topic the agent consumes.
# Without l2population the agent consumes tunnel_update and makes a tunnel
# to the address it names.
tunnel_fanout=q-agent-notifier-tunnel-update_fanout
raw "$tunnel_fanout" "" \
    "$(envelope '{"method": "\u001b]0;owned\u0007fdb\nFORGED-METHOD", "args": {}}')" \
    "$(envelope '{"method": "tunnel_update", "args": {"tunnel_ip": "10.0.0.\u001b[5m9", "tunnel_type": "vxlan"}}')"
raw neutron-vo-Port-1.7_fanout "" \
    "$(envelope '{"method": "push", "args": {"event_type": "updated", "resource_list": [{"versioned_object.name": "Port", "versioned_object.data": {"id": "port\u001b[1m\nFORGED-ID"}}]}}')"
raw neutron "q-agent-notifier-tunnel-update.$HOST" \
    "$(envelope '{"method": "\u009b31mC1-METHOD", "args": {}}')"
# OVSDB: an iface-id with DEL and U+009B (a C1 control) in it.
ovs_vsctl hv add-port br-int evil0 -- set Interface evil0 \
    "external_ids:iface-id=\"evil$(printf '\177')$(printf '\302\233')id\"" \
    external_ids:attached-mac=fa:16:3e:00:00:99

log_has() { grep -qF -- "$1" "$SANDBOX/a1.log"; }
check "a JSON error quoting ESC is logged escaped" -- \
    wait_until 20 log_has 'bad escape \\x1b'
check "a JSON error quoting a newline is logged escaped" -- \
    wait_until 20 log_has 'bad escape \\x0a'
check "a method with an escape sequence is logged escaped" -- \
    wait_until 20 log_has '\x1b]0;owned\x07fdb\x0aFORGED-METHOD'
check "a C1 control in a method is logged escaped" -- \
    wait_until 20 log_has '\xc2\x9b31mC1-METHOD'
check "a tunnel address with ESC is logged escaped" -- \
    wait_until 20 log_has '10.0.0.\x1b[5m9'
check "an OVSDB iface-id with DEL and U+009B is logged escaped" -- \
    wait_until 20 log_has 'evil\x7f\xc2\x9bid'

# Every line is a vlog line: date|sequence|module|level|text, and nothing
# but printable ASCII (a raw newline from a peer would start a line of its
# own; a raw ESC would act on the terminal that shows the log).
bad_lines() {
    LC_ALL=C grep -nvE '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\|[0-9]+\|[a-z_0-9]+\|(DBG|INFO|WARN|ERR|EMER)\|' \
        "$SANDBOX/a1.log" || true
    LC_ALL=C grep -naP '[^\x20-\x7e]' "$SANDBOX/a1.log" || true
}
no_bad_lines() {
    local bad
    bad=$(bad_lines)
    [ -z "$bad" ] || { printf '%s\n' "$bad" | head -n 5 | cat -v; return 1; }
}
check "every log line is a vlog line of printable ASCII" -- no_bad_lines
check "the agent is still running" -- agent_running a1
check "and still connected" -- amqp_ready

# --- credentials ---------------------------------------------------------------
# The password raw, percent-encoded, and its distinctive inner part.
secret_free() {
    local f
    for f in "$@"; do
        if LC_ALL=C grep -qaF -e "$RABBIT_PASS" -e "$RABBIT_PASS_URL" \
               -e 'ss:w%rd' -e 'ss%3Aw' "$f"; then
            echo "$f holds the password"
            return 1
        fi
    done
}
agent_appctl a1 ovsagent/show > "$SANDBOX/show.txt"
check "ovsagent/show names the broker" -- grep -q 'message broker 127.0.0.1' "$SANDBOX/show.txt"
check "ovsagent/show holds no credential" -- secret_free "$SANDBOX/show.txt"

# A broker restart while connected: errors and reconnection are logged.
rabbit_ctl mq -q close_all_connections "test: a forced disconnection" >/dev/null
reconnected() { [ "$(grep -c 'connected to the message broker' "$SANDBOX/a1.log")" -ge 2 ]; }
check "the agent reconnects after the broker closed its connection" -- \
    wait_until 60 reconnected
agent_stop a1

# A wrong password: the broker refuses the login.
WRONG='Wr0ng%2FPa55%40word'
agent_conf hv "DEFAULT.host=$HOST" "DEFAULT.debug=True" \
    "DEFAULT.transport_url=rabbit://$RABBIT_USER:$WRONG@127.0.0.1:$(rabbit_port mq)/" \
    > "$SANDBOX/wrong.ini"
agent_start a2 hv "$SANDBOX/wrong.ini"
login_refused() { grep -q 'logging in as' "$SANDBOX/a2.log"; }
check "a wrong password: the login is refused and logged" -- wait_until 30 login_refused
agent_appctl a2 ovsagent/show > "$SANDBOX/show2.txt"
agent_stop a2
wrong_free() {
    ! LC_ALL=C grep -qaE 'Wr0ng|Pa55|word' "$@"
}
check "the wrong password is in no log line, stderr or show" -- \
    wrong_free "$SANDBOX/a2.log" "$SANDBOX/a2.stderr" "$SANDBOX/show2.txt"

# Bad transport URLs are refused at start, without quoting the password.
bad_url() {     # bad_url URL: exit 1, and stderr free of "S3cr"/"etPw"
    local out rc=0
    out=$("$OVSAGENT" --config-file "$SANDBOX/hv.ini" \
          --config-file <(printf '[DEFAULT]\ntransport_url = %s\n' "$1") \
          --unixctl "$SANDBOX/bad.ctl" 2>&1) || rc=$?
    [ "$rc" = 1 ] || { echo "exit status $rc"; return 1; }
    ! grep -qE 'S3cr|etPw' <<<"$out" || { echo "$out"; return 1; }
}
check "a '/' in the password, not encoded: refused, not quoted" -- \
    bad_url "rabbit://u:S3cr/etPw@127.0.0.1:5672/"
check "a '?' in the password, not encoded: refused, not quoted" -- \
    bad_url "rabbit://u:S3cr?etPw@127.0.0.1:5672/"
check "a bad port after the password: refused, not quoted" -- \
    bad_url "rabbit://u:S3cretPw@127.0.0.1:99999/"
check "a \$reference in the password: refused, not quoted" -- \
    bad_url 'rabbit://u:S3cr$etPw@127.0.0.1:5672/'

check "the whole debug log of the first run holds no credential" -- \
    secret_free "$SANDBOX/a1.log" "$SANDBOX/a1.stderr"
