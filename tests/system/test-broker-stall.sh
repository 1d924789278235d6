#!/bin/bash
# Nothing blocks the loop (src/oslo/amqp-conn.h): a broker that accepts TCP
# and then stalls, before its greeting, in the middle of the login, at the
# control exchange's declaration and among the queue declarations, while
# the agent keeps answering its control socket within a second, its
# OpenFlow connections stay up under a 2 s inactivity probe (the switch
# would cut a controller that did not answer its echo requests), and flows
# keep being installed: a restarted ovs-vswitchd gets them all back while
# the broker still says nothing.  Then the broker answers, and the agent
# connects.
#
# The stalling broker is tests/tools/stall_broker.py in front of a real
# RabbitMQ: per connection it passes the broker's first N AMQP frames and
# then goes silent.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib-rabbit.sh"

sandbox_init
rabbit_start mq
STALL_PORT=$(free_port)
MODE=$SANDBOX/stall.mode
STALL_LOG=$SANDBOX/stall.log
echo silent > "$MODE"
: > "$STALL_LOG"
"$OVSA_PYTHON" "$OVSA_TOP/tests/tools/stall_broker.py" \
    --listen "$STALL_PORT" --upstream "$(rabbit_port mq)" \
    --mode-file "$MODE" --log "$STALL_LOG" >> "$SANDBOX/stall.stderr" 2>&1 &
_register pid $! stall_broker.py
URL=$(rabbit_url mq)
URL=${URL%@*}@127.0.0.1:$STALL_PORT/

ovs_start hv dummy
agent_conf hv "DEFAULT.host=hv-$SANDBOX_ID" "DEFAULT.transport_url=$URL" \
    "agent.tunnel_types=vxlan" "of_inactivity_probe=2" \
    "oslo_messaging_rabbit.rabbit_retry_interval=1" \
    "oslo_messaging_rabbit.rabbit_retry_backoff=0" > "$SANDBOX/hv.ini"
agent_start a1 hv "$SANDBOX/hv.ini"

# accepted MODE: the stalling broker took a connection in MODE.
accepted() { grep -q "^accept [0-9]* $1\$" "$STALL_LOG"; }
n_flows() { dump_flows hv "$1" | grep -c . || true; }
has_flows() { test "$(n_flows "$1")" -ge "$2"; }
all_connected() {
    test "$(ovs_vsctl hv --bare --columns=is_connected list Controller | grep . | sort -u)" = true
}
probe_cuts() {
    grep -c "no response to inactivity probe" "$(ovs_dir hv)/ovs-vswitchd.log" || true
}

check "the agent connects to the stalling broker" -- \
    wait_until 20 accepted silent
check "and sets up its bridges and flows meanwhile" -- \
    wait_until 20 has_flows br-tun 6
check "its OpenFlow connections are up" -- wait_until 20 all_connected

# stall_through MODE: sets MODE for the next connections and samples the
# agent until it has given up on one connection in MODE (its next attempt
# arrives).  Every sample must find the control socket answering within a
# second and every OpenFlow connection up.  Prints the number of samples,
# the slowest answer in ms, and the failures.
stall_through() {
    local mode=$1 first at n=0 slow=0 bad=0 t0 t1 ms deadline
    first=$(($(wc -l < "$STALL_LOG") + 1))
    echo "$mode" > "$MODE"
    deadline=$(($(date +%s) + 60))
    while :; do
        # The line of the first connection in MODE since then, and whether
        # another came after it.
        at=$(awk -v f="$first" -v m="$mode" \
                 'NR >= f { sub(/^accept [0-9]+ /, ""); if ($0 == m) { print NR; exit } }' \
                 "$STALL_LOG")
        [ -z "$at" ] || [ "$(wc -l < "$STALL_LOG")" -le "$at" ] || break
        [ "$(date +%s)" -lt "$deadline" ] || { bad=$((bad + 1)); break; }
        t0=$(_now_us)
        agent_appctl a1 version > /dev/null || bad=$((bad + 1))
        t1=$(_now_us)
        ms=$(((t1 - t0) / 1000))
        [ "$ms" -le "$slow" ] || slow=$ms
        [ "$ms" -lt 1000 ] || bad=$((bad + 1))
        all_connected || bad=$((bad + 1))
        n=$((n + 1))
    done
    echo "$n $slow $bad"
}

# Before the greeting, after it (the login waits), at the control
# exchange's declaration (after connection.start, tune, open-ok and
# channel.open-ok), and at the queues' declarations.
for mode in silent "frames 1" "frames 4" "frames 7"; do
    read -r n slow bad < <(stall_through "$mode")
    note "broker stalls ($mode): $n samples, slowest answer $slow ms, $bad bad"
    check "broker stalls ($mode): the agent answers within 1 s, its switch connections up, until it tries again" -- \
        test "$bad" = 0 -a "$n" -gt 10
done
timed_out() { grep -q "|amqp_conn|WARN|.*: $1.*: request timed out" "$SANDBOX/a1.log"; }
stalled_everywhere() {
    timed_out "logging in as" && timed_out "declaring exchange neutron" \
        && timed_out "declaring queue"
}
check "the attempts timed out at the login, the control exchange and a queue" -- \
    stalled_everywhere
check "the switch never cut the agent for not answering its echo requests" -- \
    test "$(probe_cuts)" = 0

# Flows keep being installed: a switch restarted while the broker says
# nothing gets every flow back.
echo silent > "$MODE"
tun_flows=$(n_flows br-tun) int_flows=$(n_flows br-int)
ovs_restart_vswitchd hv
same_flows() { test "$(n_flows "$1")" = "$2"; }
check "a restarted switch gets br-int's flows back while the broker stalls" -- \
    wait_until 20 same_flows br-int "$int_flows"
check "and br-tun's" -- wait_until 20 same_flows br-tun "$tun_flows"
check "the broker was still stalling" -- \
    not grep -q "connected to the message broker" "$SANDBOX/a1.log"

# The broker answers: the agent connects and declares its queues.
echo pass > "$MODE"
amqp_ready() { agent_appctl a1 ovsagent/show | grep -q 'state=READY'; }
check "once the broker answers, the agent connects" -- wait_until 30 amqp_ready
agent_queues() {
    rabbit_ctl mq list_queues name | grep -q "^neutron-vo-Port-[0-9.]*_fanout_"
}
check "and consumes its queues" -- wait_until 10 agent_queues
counted() { agent_appctl a1 coverage/show | grep -Eq "^$1 +[0-9.]+/sec +[0-9.]+/sec +[0-9.]+/sec +total: ($2)\$"; }
attempts_counted() { counted amqp_connect_failed "[1-9][0-9]*" && counted amqp_connect 1; }
# The totals reach coverage/show within a second (the library folds them
# in once a second).
check "coverage/show counts the failed attempts and the connection" -- \
    wait_until 5 attempts_counted

agent_stop a1
# The switch restart, and no neutron-server behind the broker.
ALLOWED_LOG_PATTERNS=("retrying in" "the switch has lost its flows"
                      "no server is consuming the topic")
check "agent log has no unexpected warnings" -- agent_log_clean a1
