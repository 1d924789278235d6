#!/bin/bash
# An agent that could not hear the broker while things changed catches up
# once it is back.  Two hypervisors (l2population, ARP responder, the
# openvswitch firewall) against the real neutron-server 21.0.0; hv1's agent
# has a RabbitMQ user of its own, whose password the test changes while
# closing its connections, and whose queues it deletes, as a broker
# restart would: the server's casts meanwhile reach nobody.  While hv1 is
# off, vm2 (on hv2) goes and a security-group rule is deleted; once back,
# hv1 drops its tunnel, flood, unicast and ARP entries for hv2 and the
# rule's flows.  Then the other way: vm3 comes on hv2 while hv1 is off, and
# once back hv1 has its tunnel to hv2 again and vm1 pings vm3.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

stack_up_private

PROJECT=7e5c7e5c7e5c7e5c7e5c7e5c7e5c7e5c

# --- hv1's own broker user ------------------------------------------------------
# rmq ARGS...: rabbitmqctl against this test's private broker.
rmq() { "$TOP/scripts/stack" rabbitmqctl -q "$@"; }
MQ_USER=hv1user
MQ_PASS=hv1pass$(_rand_hex 4)
rmq add_user "$MQ_USER" "$MQ_PASS" >/dev/null
rmq set_permissions -p / "$MQ_USER" '.*' '.*' '.*' >/dev/null
MQ_URL=rabbit://$MQ_USER:$MQ_PASS@${OVSAGENT_TRANSPORT_URL_LINK#*@}

# --- hypervisors and their underlay ---------------------------------------------
underlay_init
HV_CONF=("agent.tunnel_types=vxlan" "agent.l2_population=True"
         "agent.arp_responder=True" "securitygroup.firewall_driver=openvswitch")
hypervisor hv1 1 "${HV_CONF[@]}" "DEFAULT.transport_url=$MQ_URL"
hypervisor hv2 2 "${HV_CONF[@]}"
check "each switch routes the underlay" -- wait_until 10 ul_routes hv1 hv2

ALLOWED_LOG_PATTERNS=("retrying in" "connection refused")
agent_start a1 hv1 "$SANDBOX/hv1.ini"
agent_start a2 hv2 "$SANDBOX/hv2.ini"
check "both agents are alive in the API" -- wait_until 30 agents_alive 2

# broker_is AGENT connected|connecting: what ovsagent/show says of the broker.
broker_is() {
    local out
    out=$(agent_appctl "$1" ovsagent/show) || return 1
    grep -q "^message broker .*: $2\$" <<<"$out"
}
check "hv1's agent is connected as $MQ_USER" -- wait_until 10 broker_is a1 connected
mq_users() { local u; u=$(rmq list_connections user); grep -qx "$MQ_USER" <<<"$u"; }
check "and the broker lists a connection of $MQ_USER" -- mq_users

# --- one VXLAN network, a security group -------------------------------------------
net=$(new_net "rs-$SANDBOX_ID" 10.71.0.0/24)
sg=$(new_group "rs-$SANDBOX_ID")
icmp_rule=$(add_rule "$sg" '"direction":"ingress","ethertype":"IPv4","protocol":"icmp"')
tcp_rule=$(add_rule "$sg" '"direction":"ingress","ethertype":"IPv4","protocol":"tcp","port_range_min":2222,"port_range_max":2222')
check "a security group with an ingress ICMP and an ingress TCP 2222 rule" -- \
    test -n "$sg" -a -n "$icmp_rule" -a -n "$tcp_rule"
rule_gone() {
    api GET "/security-group-rules/$1" \
        | jq -e '.NeutronError.type == "SecurityGroupRuleNotFound"' >/dev/null
}

# The ports are in group $sg.
read -r p1 mac1 ip1 < <(new_port "$net" vm1 "$(host_of hv1)" "" "$sg")
read -r p2 mac2 ip2 < <(new_port "$net" vm2 "$(host_of hv2)" "" "$sg")
vif_add hv1 vm1 "$mac1" "$ip1/24" "$p1"
vif_add hv2 vm2 "$mac2" "$ip2/24" "$p2"
check "vm1 (hv1) ACTIVE" -- wait_until 30 port_is "$p1" ACTIVE
check "vm2 (hv2) ACTIVE" -- wait_until 30 port_is "$p2" ACTIVE

tun_hv2=$(tunnel_port_name vxlan "$UL_NET.2")
check "hv1 has a VXLAN tunnel to hv2" -- wait_until 15 tunnel_on hv1 "$tun_hv2"
lv=$(ovs_vsctl hv1 get Port t-vm1 tag)
tun_of=$(ovs_vsctl hv1 get Interface "$tun_hv2" ofport)
FLOOD="table=22, priority=1,dl_vlan=$lv "
UCAST="table=20, priority=2,dl_vlan=$lv,dl_dst=$mac2 "
ARP="table=21, priority=1,arp,dl_vlan=$lv,arp_tpa=$ip2 "
# outputs_to_tunnel: a flow of hv1's br-tun matches or outputs to the
# tunnel's port.  A flow learned from vm2's packets (table 20, priority 1,
# hard_timeout=300) stays until it times out, as with the reference: it is
# not counted.
outputs_to_tunnel() {
    local f
    f=$(ovs_ofctl hv1 -O OpenFlow13 --no-stats --no-names dump-flows br-tun \
            | grep -v 'hard_timeout=300')
    grep -E "(output:|in_port=)$tun_of([, ]|\$)" <<<"$f"
}
check "hv1 floods the network to hv2" -- wait_until 15 flows_have hv1 br-tun "$FLOOD"
check "hv1 sends unicast for vm2's MAC to hv2" -- wait_until 15 flows_have hv1 br-tun "$UCAST"
check "hv1 answers ARP for vm2's address itself" -- wait_until 15 flows_have hv1 br-tun "$ARP"
check "hv1's br-int has the TCP 2222 rule's flows" -- \
    wait_until 15 flows_have hv1 br-int "tp_dst=2222"
check "vm1 pings vm2 across the VXLAN underlay" -- wait_until 20 vm_ping vm1 "$ip2"
check "hv1's br-tun has flows on the tunnel's port ($tun_of)" -- outputs_to_tunnel

# --- taking hv1 off the broker -----------------------------------------------------
# hv1_queues: the queues that only hv1's agent consumes from (its fanout,
# host and reply queues), found through its channels' consumers.
hv1_queues() {
    rmq list_channels pid user > "$SANDBOX/mq-channels"
    rmq list_consumers queue_name channel_pid > "$SANDBOX/mq-consumers"
    awk -v u="$MQ_USER" 'NR == FNR { own[$1] = ($2 == u); next }
        ($2 in own) { if (own[$2]) h[$1] = 1; else o[$1] = 1 }
        END { for (q in h) if (!(q in o)) print q }' \
        "$SANDBOX/mq-channels" "$SANDBOX/mq-consumers" | LC_ALL=C sort
}
# queues_delete QUEUE...: deletes them, as the broker's admin user.
queues_delete() {
    "$OVSA_PYTHON" - "${OVSAGENT_TRANSPORT_URL/rabbit:/amqp:}" "$@" <<'EOF'
import sys, kombu
with kombu.Connection(sys.argv[1]) as conn:
    ch = conn.channel()
    for q in sys.argv[2:]:
        ch.queue_delete(q)
EOF
}
queues_absent() {   # queues_absent QUEUE...: the broker has none of them
    local have q
    have=$(rmq list_queues name)
    for q in "$@"; do
        ! grep -qxF -- "$q" <<<"$have" || { echo "queue $q is still there"; return 1; }
    done
}
hv1_connections() { rmq list_connections user pid | awk -v u="$MQ_USER" '$1 == u { print $2 }'; }

# hv1_off: hv1's user gets another password, its connections are closed
# (its logins are refused from then on) and its queues are deleted, so that
# what the server casts meanwhile is lost for hv1.  Without the last step
# its fanout queues, which expire only after 30 minutes without a consumer,
# would keep the casts until it is back, and it would hear them then.
hv1_off() {
    local queues c
    mapfile -t queues < <(hv1_queues)
    check "hv1's agent consumes from queues of its own (${#queues[@]})" -- \
        test "${#queues[@]}" -gt 0
    # A password change rather than clear_permissions, which would also
    # refuse what the open connection publishes until it is closed.
    rmq change_password "$MQ_USER" "$MQ_PASS-off" >/dev/null
    for c in $(hv1_connections); do
        rmq close_connection "$c" "test-resync: hv1 off the broker" >/dev/null
    done
    check "hv1's agent is not connected" -- wait_until 20 broker_is a1 connecting
    queues_delete "${queues[@]}"
    check "its queues are gone from the broker" -- queues_absent "${queues[@]}"
}
# hv1_on: its password back; the agent reconnects by itself.
hv1_on() {
    rmq change_password "$MQ_USER" "$MQ_PASS" >/dev/null
    check "hv1's agent is connected again" -- wait_until 60 broker_is a1 connected
}

hv1_off
vif_del vm2
api DELETE "/ports/$p2" >/dev/null
check "vm2's port is deleted while hv1 is off" -- wait_until 15 port_gone "$p2"
api DELETE "/security-group-rules/$tcp_rule" >/dev/null
check "the TCP 2222 rule is deleted while hv1 is off" -- wait_until 15 rule_gone "$tcp_rule"
check "meanwhile hv1 still holds its tunnel to hv2 (it heard nothing)" -- \
    tunnel_on hv1 "$tun_hv2"
hv1_on

# --- hv1 catches up --------------------------------------------------------------
check "hv1 drops its tunnel to hv2" -- \
    wait_never 30 3 tunnel_on hv1 "$tun_hv2" || true
check "no flow of hv1's br-tun uses the tunnel's port any more" -- \
    wait_never 10 3 outputs_to_tunnel || true
check "hv1 no longer floods the network to hv2" -- \
    wait_never 10 3 flows_have hv1 br-tun "$FLOOD" || true
check "hv1 drops its unicast flow for vm2's MAC" -- \
    wait_never 10 3 flows_have hv1 br-tun "$UCAST" || true
check "hv1 no longer answers ARP for vm2's address" -- \
    wait_never 10 3 flows_have hv1 br-tun "$ARP" || true
check "hv1's br-int no longer has the TCP 2222 rule's flows" -- \
    wait_never 30 3 flows_have hv1 br-int "tp_dst=2222" || true
check "hv1's agent says its flows are in sync" -- wait_until 30 agent_in_sync a1 || true
check "vm1 is still ACTIVE" -- wait_until 30 port_is "$p1" ACTIVE || true
check "hv1's log says it removed what the server no longer lists" -- \
    wait_until 5 grep -q "the server's forwarding database no longer lists" \
    "$SANDBOX/a1.log" || true
grep -E "resyncing ports|refresh_tunnels|no longer lists|tunnel .*deleted" \
    "$SANDBOX/a1.log" | sed 's/^/#   a1: /' || true

# --- the other way: a port comes on hv2 while hv1 is off ---------------------------
hv1_off
read -r p3 mac3 ip3 < <(new_port "$net" vm3 "$(host_of hv2)" "" "$sg")
vif_add hv2 vm3 "$mac3" "$ip3/24" "$p3"
check "vm3 (hv2) ACTIVE while hv1 is off" -- wait_until 30 port_is "$p3" ACTIVE
check "meanwhile hv1 has no tunnel to hv2 (it heard nothing)" -- \
    never 3 tunnel_on hv1 "$tun_hv2" || true
hv1_on
check "hv1 has its tunnel to hv2 again" -- wait_until 30 tunnel_on hv1 "$tun_hv2"
check "vm1 pings vm3" -- wait_until 20 vm_ping vm1 "$ip3"
check "hv1's agent says its flows are in sync" -- wait_until 30 agent_in_sync a1 || true

# What hv1's agent says of losing the broker: its connection closed, the
# logins refused meanwhile ("retrying in"), a state report that failed.
ALLOWED_LOG_PATTERNS+=("AMQP connection lost .*CONNECTION_FORCED - test-resync"
                       "report_state failed: .*message broker")
agent_log_clean a1 || true
ALLOWED_LOG_PATTERNS=("retrying in" "connection refused")
agent_log_clean a2 || true
agent_stop a1
agent_stop a2
