#!/bin/bash
# ovsagent against the real neutron-server 21.0.0 and RabbitMQ: the agent
# is alive in the API, VM ports go ACTIVE and ping each other through a
# userspace switch, admin down/up, deletion, agent and ovs-vswitchd
# restarts, a RabbitMQ restart, and garbage on the agent's queues.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

# --- the control plane, private to this test ----------------------------------
# Outside the sandbox: the mysql and rabbitmq users must reach it.
# Short, so that the test sees the server declare a silent agent dead.
export AGENT_DOWN_TIME=12
stack_up_private

PROJECT=c0ffee00c0ffee00c0ffee00c0ffee00
tag_is() { [ "$(ovs_vsctl hv get Port "$1" tag)" = "$2" ]; }
agent_alive_in_api() {
    api GET "/agents?host=$HOSTNAME_HV" \
        | jq -e '.agents[] | select(.binary == "neutron-openvswitch-agent"
                                    and .alive == true)' >/dev/null
}

# --- a hypervisor: a userspace switch in its own namespace ------------------
HOSTNAME_HV=$(host_of hv)
ovs_start hv netdev
uplink=$(netns_uplink hv)
ip -n "$(ovs_netns hv)" route add "$OVSAGENT_STACK_LINK_IP/32" via "$uplink"
ovs_vsctl hv add-br br-phys -- set Bridge br-phys datapath_type=netdev
agent_conf hv "DEFAULT.host=$HOSTNAME_HV" \
    "DEFAULT.transport_url=$OVSAGENT_TRANSPORT_URL_LINK" \
    "bridge_mappings=physnet1:br-phys" \
    "agent.tunnel_types=vxlan" "agent.l2_population=True" \
    "agent.arp_responder=True" \
    "agent.report_interval=5" > "$SANDBOX/hv.ini"
ALLOWED_LOG_PATTERNS=("lost its flows" "OpenFlow connection closed"
                      "AMQP connection lost" "connection refused"
                      "retrying in" "report_state failed"
                      "reporting ports failed" "getting port details failed"
                      "connection dropped")
agent_start a1 hv "$SANDBOX/hv.ini"
check "the agent is alive in GET /v2.0/agents" -- wait_until 30 agent_alive_in_api
check "its configurations carry the tunnel types and host" -- \
    test "$(api GET "/agents?host=$HOSTNAME_HV" | jq -r '.agents[0].configurations.tunnel_types[0]')" = vxlan

# --- a network and two VM ports ------------------------------------------
net=$(new_net "n-$SANDBOX_ID" 10.66.0.0/24)
read -r p1 mac1 ip1 < <(new_port "$net" vm1 "$HOSTNAME_HV")
read -r p2 mac2 ip2 < <(new_port "$net" vm2 "$HOSTNAME_HV")
check "two ports created" -- test -n "$p1" -a -n "$p2"
vif_add hv vm1 "$mac1" "$ip1/24" "$p1"
vif_add hv vm2 "$mac2" "$ip2/24" "$p2"
check "port 1 ACTIVE" -- wait_until 30 port_is "$p1" ACTIVE
check "port 2 ACTIVE" -- wait_until 30 port_is "$p2" ACTIVE
check "vm1 pings vm2" -- wait_until 10 vm_exec vm1 ping -c 1 -W 1 "$ip2"
tag1=$(ovs_vsctl hv get Port t-vm1 tag)

# Fidelity: the flows of a bound VXLAN port with the noop firewall are the
# reference's (tests/golden/vxlan-port-noop-br-int.flows), once the values
# that differ by nature (port name, MAC, addresses, VNI) are replaced.
lla_of() {
    /usr/bin/python3 -c 'import sys, ipaddress
m = bytearray(int(x, 16) for x in sys.argv[1].split(":")); m[0] ^= 2
print(ipaddress.IPv6Address(bytes([0xfe, 0x80] + [0] * 6 + list(m[:3]) + [0xff, 0xfe] + list(m[3:]))))' "$1"
}
port_flows() {
    dump_flows hv br-int | grep 'in_port="\?t-vm1"\?[, ]' \
        | sed -E "s/in_port=\"?t-vm1\"?/in_port=PORT/g; s/$mac1/MAC/g; s/$(lla_of "$mac1")/LLA/g; s/$ip1([^0-9]|\$)/IP\1/g" \
        | LC_ALL=C sort
}
# The VNI the server gave the network, as the port's details carried it.
vni=$(ovs_vsctl hv get Port t-vm1 other_config:segmentation_id | tr -d '"')
check "the network has a VNI" -- test "$vni" -gt 0
check "fidelity: the port's br-int flows equal the reference's" -- \
    diff <(port_flows) "$TOP/tests/golden/vxlan-port-noop-br-int.flows"
check "fidelity: the network's br-tun flow equals the reference's" -- \
    diff <(dump_flows hv br-tun | grep "tun_id=$(printf '%#x' "$vni")" \
           | sed -E 's/tun_id=0x[0-9a-f]+/tun_id=VNI/') \
         "$TOP/tests/golden/vxlan-network-br-tun.flows"
# Fidelity, whole switch: every flow of the three bridges and the VIF Ports'
# agent-owned columns equal the reference's for two ports on one VXLAN
# network (tests/golden/vxlan-2ports-noop-*, see tests/golden/README).
normalize_2ports() {
    sed -E "s/cookie=0x[0-9a-f]+/cookie=COOKIE/g;
            s/in_port=\"?t-vm1\"?/in_port=VM1/g; s/in_port=\"?t-vm2\"?/in_port=VM2/g;
            s/$mac1/MAC1/g; s/$mac2/MAC2/g;
            s/$(lla_of "$mac1")/LLA1/g; s/$(lla_of "$mac2")/LLA2/g;
            s/$ip1([^0-9]|\$)/IP1\1/g; s/$ip2([^0-9]|\$)/IP2\1/g;
            s/tun_id=$(printf '%#x' "$vni")([^0-9a-f]|\$)/tun_id=VNI\1/g" | LC_ALL=C sort
}
for br in br-int br-tun br-phys; do
    check "fidelity: all $br flows equal the reference's (two VXLAN ports)" -- \
        diff <(dump_flows hv $br | normalize_2ports) \
             "$TOP/tests/golden/vxlan-2ports-noop-$br.flows"
done
vif_ports_columns() {
    ovs_vsctl hv --columns=name,tag,vlan_mode,trunks,other_config list Port t-vm1 t-vm2 \
        | grep -E '^(name|tag|vlan_mode|trunks|other_config)' \
        | sed -E "s/ +: /: /; s/^name: \"?t-vm([12])\"?/name: VM\1/;
                  s/net_uuid=\"?$net\"?/net_uuid=NET/; s/segmentation_id=\"$vni\"/segmentation_id=VNI/"
}
check "fidelity: the two Ports' tag, vlan_mode, trunks and other_config equal the reference's" -- \
    diff <(vif_ports_columns) "$TOP/tests/golden/vxlan-2ports-noop-ports.txt"
check "fidelity: Port other_config as the reference writes it" -- \
    test "$(ovs_vsctl hv get Port t-vm1 other_config)" = \
         "{net_uuid=\"$net\", network_type=vxlan, physical_network=None, segmentation_id=\"$vni\", tag=\"1\"}"
check "the port has a local VLAN tag and other_config" -- \
    test "$(ovs_vsctl hv get Port t-vm1 other_config:net_uuid)" = "\"$net\""

# --- a VLAN provider network and a flat one ----------------------------------
vlan_net=$(new_net "vlan-$SANDBOX_ID" 10.67.0.0/24 vlan physnet1 150)
read -r pv1 macv1 ipv1 < <(new_port "$vlan_net" vl1 "$HOSTNAME_HV")
read -r pv2 macv2 ipv2 < <(new_port "$vlan_net" vl2 "$HOSTNAME_HV")
vif_add hv vl1 "$macv1" "$ipv1/24" "$pv1"
vif_add hv vl2 "$macv2" "$ipv2/24" "$pv2"
check "VLAN network: port 1 ACTIVE" -- wait_until 30 port_is "$pv1" ACTIVE
check "VLAN network: port 2 ACTIVE" -- wait_until 30 port_is "$pv2" ACTIVE
check "VLAN network: the VMs ping each other" -- \
    wait_until 10 vm_exec vl1 ping -c 1 -W 1 "$ipv2"
lv=$(ovs_vsctl hv get Port t-vl1 tag)
check "VLAN network: br-int translates VLAN 150 to the local VLAN" -- \
    grep -qF "priority=3,in_port=\"int-br-phys\",dl_vlan=150 actions=set_field:$((lv + 4096))->vlan_vid,goto_table:59" <(dump_flows hv br-int)
check "VLAN network: br-phys translates the local VLAN to 150" -- \
    grep -qF "priority=4,in_port=\"phy-br-phys\",dl_vlan=$lv actions=set_field:4246->vlan_vid,NORMAL" <(dump_flows hv br-phys)
check "VLAN network: Port other_config names the physnet" -- \
    test "$(ovs_vsctl hv get Port t-vl1 other_config:physical_network)" = physnet1
flat_net=$(new_net "flat-$SANDBOX_ID" 10.68.0.0/24 flat physnet1)
read -r pf1 macf1 ipf1 < <(new_port "$flat_net" fl1 "$HOSTNAME_HV")
vif_add hv fl1 "$macf1" "$ipf1/24" "$pf1"
check "flat network: the port goes ACTIVE" -- wait_until 30 port_is "$pf1" ACTIVE
lf=$(ovs_vsctl hv get Port t-fl1 tag)
check "flat network: br-int tags untagged traffic from br-phys" -- \
    grep -qF "priority=3,in_port=\"int-br-phys\",vlan_tci=0x0000/0x1fff actions=push_vlan:0x8100,set_field:$((lf + 4096))->vlan_vid,goto_table:59" <(dump_flows hv br-int)
check "flat network: br-phys strips the local VLAN" -- \
    grep -qF "priority=4,in_port=\"phy-br-phys\",dl_vlan=$lf actions=pop_vlan,NORMAL" <(dump_flows hv br-phys)
ovs_vsctl hv del-port br-int t-fl1
check "flat network: unplugging its last port reports it DOWN" -- \
    wait_until 30 port_is "$pf1" DOWN
check "flat network: and removes its translation flows" -- \
    wait_never 10 3 flows_have hv br-phys "dl_vlan=$lf actions=pop_vlan"

# --- a port whose tag was changed behind the agent's back ----------------------
downs_before=$(agent_appctl a1 ovsagent/show | sed -n 's/.*down \([0-9]*\)).*/\1/p')
ovs_vsctl hv set Port t-vm1 tag=99
check "lost tag: the agent puts the VLAN back" -- wait_until 10 tag_is t-vm1 "$tag1"
more_downs() {
    [ "$(agent_appctl a1 ovsagent/show | sed -n 's/.*down \([0-9]*\)).*/\1/p')" -gt "$downs_before" ]
}
check "lost tag: the port was reported down first" -- wait_until 10 more_downs
check "lost tag: and is ACTIVE again" -- wait_until 30 port_is "$p1" ACTIVE

# --- an ofport that changes is rewired ---------------------------------------------
old_of=$(ovs_vsctl hv get Interface t-vm1 ofport)
ovs_vsctl hv set Interface t-vm1 ofport_request=77
ofport_is() { [ "$(ovs_vsctl hv get Interface "$1" ofport)" = "$2" ]; }
check "ofport change: the switch moved the port" -- \
    wait_until 10 ofport_is t-vm1 77
has_of77_flows() { dump_flows hv br-int | grep 'priority=9,in_port="\?t-vm1"\? actions=goto_table:25' >/dev/null; }
check "ofport change: the anti-spoofing flows follow the new ofport" -- \
    wait_until 10 has_of77_flows
check "ofport change: the port still pings" -- \
    wait_until 10 vm_exec vm1 ping -c 1 -W 1 "$ip2"

# --- a VIF on an ancillary bridge is reported, not wired ----------------------
ovs_vsctl hv add-br br-ex -- set Bridge br-ex datapath_type=netdev \
    external_ids:bridge-id=br-ex
read -r pa maca ipa < <(new_port "$net" anc1 "$HOSTNAME_HV")
vif_add hv anc1 "$maca" "$ipa/24" "$pa" br-ex
check "ancillary bridge: its VIF goes ACTIVE" -- wait_until 30 port_is "$pa" ACTIVE
check "ancillary bridge: the agent gave it no VLAN" -- \
    test "$(ovs_vsctl hv get Port t-anc1 tag)" = "[]"

# --- admin down and up ----------------------------------------------------
api PUT "/ports/$p2" '{"port":{"admin_state_up":false}}' >/dev/null
check "admin down: DOWN" -- wait_until 30 port_is "$p2" DOWN
check "admin down: dead VLAN" -- wait_until 10 tag_is t-vm2 4095
check "admin down: no ping" -- never 3 vm_ping vm1 "$ip2"
api PUT "/ports/$p2" '{"port":{"admin_state_up":true}}' >/dev/null
check "admin up: ACTIVE again" -- wait_until 30 port_is "$p2" ACTIVE
check "admin up: same VLAN as before" -- wait_until 10 tag_is t-vm2 "$tag1"
check "admin up: ping again" -- wait_until 10 vm_exec vm1 ping -c 1 -W 1 "$ip2"

# --- agent restart with bound ports ------------------------------------------
vm_exec vm1 ping -i 0.02 -c 300 -W 1 "$ip2" > "$SANDBOX/ping-agent.txt" 2>&1 &
ping_pid=$!
agent_stop a1
agent_start a2 hv "$SANDBOX/hv.ini"
check "restarted agent alive" -- wait_until 30 agent_alive_in_api
wait $ping_pid || true
check "no packet lost across the agent restart" -- grep -q ' 0% packet loss' "$SANDBOX/ping-agent.txt"
check "ports still ACTIVE after the agent restart" -- port_is "$p1" ACTIVE
check "VLAN unchanged after the agent restart" -- tag_is t-vm1 "$tag1"

# --- ovs-vswitchd restart ------------------------------------------------------
# The server sets started_at when a report carries start_flag: the agent
# sends it again, at once, after OVS restarts.
started_at() { api GET "/agents?host=$HOSTNAME_HV" | jq -r '.agents[0].started_at'; }
check "after the first pass the agent no longer sends start_flag" -- \
    wait_never 30 3 agent_show_has a2 'start_flag on'
started_before=$(started_at)
started_changed() { [ "$(started_at)" != "$started_before" ]; }
ovs_restart_vswitchd hv
check "OVS restart: start_flag reported again (started_at moves)" -- \
    wait_until 10 started_changed
check "ping resumes after the ovs-vswitchd restart" -- \
    wait_until 15 vm_exec vm1 ping -c 1 -W 1 "$ip2"
check "ports still ACTIVE after the ovs-vswitchd restart" -- port_is "$p2" ACTIVE

# --- no heartbeat while OVS is down; "revived" when it is back ----------------
agent_dead_in_api() {
    api GET "/agents?host=$HOSTNAME_HV" \
        | jq -e '.agents[] | select(.alive == false)' >/dev/null
}
ovs_stop_vswitchd hv
check "OVS down: the agent stops reporting and the server declares it dead" -- \
    wait_until 60 agent_dead_in_api
ovs_start_vswitchd hv
check "OVS back: the agent reports again and is alive" -- \
    wait_until 60 agent_alive_in_api
check "OVS back: the server answered \"revived\" and the agent resynced" -- \
    wait_until 30 grep -q 'the server had considered this agent dead; resyncing' \
        "$SANDBOX/a2.log"
check "OVS back: ports still ACTIVE after the resync" -- \
    wait_until 30 port_is "$p1" ACTIVE

# --- neutron-server restart ------------------------------------------------------
# A port plugged while the server is down goes ACTIVE once it is back.
read -r p4 mac4 ip4 < <(new_port "$net" vm4 "$HOSTNAME_HV")
# The resync above passes the ports through BUILD; let it settle first.
check "before the server restart the bound ports are ACTIVE" -- \
    wait_until 60 port_is "$p1" ACTIVE
"$TOP/scripts/stack" restart-server --stop-only
vif_add hv vm4 "$mac4" "$ip4/24" "$p4"
check "the agent keeps running while neutron-server is down" -- \
    wait_until 5 agent_show_has a2 'sb-vm4\|t-vm4'
"$TOP/scripts/stack" restart-server > "$SANDBOX/restart-server.log" 2>&1
check "a port plugged while the server was down goes ACTIVE" -- \
    wait_until 90 port_is "$p4" ACTIVE
# A restart longer than agent_down_time makes the server call the agent
# "revived"; the resync that follows passes ports through BUILD.
check "ports bound before are ACTIVE after the server restart" -- \
    wait_until 60 port_is "$p1" ACTIVE
check "the agent is alive again in the API" -- wait_until 60 agent_alive_in_api

# --- RabbitMQ restart ------------------------------------------------------------
"$TOP/scripts/stack" rabbitmqctl -q stop_app >/dev/null
"$TOP/scripts/stack" rabbitmqctl -q start_app >/dev/null
check "agent reconnects and stays alive after a RabbitMQ restart" -- \
    wait_until 60 agent_show_has a2 'rpc: .*reconnects=[1-9]'
read -r p3 mac3 ip3 < <(new_port "$net" vm3 "$HOSTNAME_HV")
vif_add hv vm3 "$mac3" "$ip3/24" "$p3"
check "a new port goes ACTIVE after the broker restart" -- wait_until 60 port_is "$p3" ACTIVE

# --- garbage on the agent's queues -------------------------------------------------
publish_garbage() {
/usr/bin/python3 - "${OVSAGENT_TRANSPORT_URL/rabbit:/amqp:}" <<'EOF'
import sys, kombu
with kombu.Connection(sys.argv[1]) as conn:
    ch = conn.channel()
    for body in (b"not json", b"{\"oslo.version\": \"2.0\", \"oslo.message\": \"[1]\"}",
                 b"{\"oslo.version\": \"9.9\", \"oslo.message\": \"{}\"}",
                 b"{\"method\": \"push\", \"args\": {\"resource_list\": 5}}",
                 b"{\"oslo.version\": \"2.0\", \"oslo.message\": \"{\\\"method\\\": \\\"push\\\", \\\"args\\\": {\\\"event_type\\\": \\\"updated\\\", \\\"resource_list\\\": [1, {}]}}\"}"):
        msg = ch.prepare_message(body, content_type="application/json")
        ch.basic_publish(msg, exchange="neutron-vo-Port-1.7_fanout", routing_key="")
EOF
}
check "garbage published to the agent's fanout queue" -- publish_garbage
api PUT "/ports/$p3" '{"port":{"admin_state_up":false}}' >/dev/null
check "garbage did no harm: port 3 goes DOWN on admin down" -- wait_until 30 port_is "$p3" DOWN
check "the agent counted the dropped messages" -- \
    agent_show_has a2 'dropped=[1-9]'

# --- a failover list whose first broker is dead, and TLS ----------------------
agent_stop a2
dead=$(free_port)
agent_conf hv "DEFAULT.host=$HOSTNAME_HV" \
    "DEFAULT.transport_url=rabbit://ovsagent:ovsagent@$OVSAGENT_STACK_LINK_IP:$dead,ovsagent:ovsagent@${OVSAGENT_TRANSPORT_URL_LINK#rabbit://ovsagent:ovsagent@}" \
    "agent.tunnel_types=vxlan" "agent.l2_population=True" \
    "agent.report_interval=5" > "$SANDBOX/failover.ini"
agent_start a3 hv "$SANDBOX/failover.ini"
check "failover: the agent skips the dead broker and reports in" -- \
    wait_until 60 agent_show_has a3 'report_state: [1-9]'
check "failover: connected to the second broker" -- \
    agent_show_has a3 ":$RABBIT_PORT (vhost /, 2 in the failover list): connected"
agent_stop a3
agent_conf hv "DEFAULT.host=$HOSTNAME_HV" \
    "DEFAULT.transport_url=$OVSAGENT_TRANSPORT_URL_TLS_LINK" \
    "oslo_messaging_rabbit.ssl=True" \
    "oslo_messaging_rabbit.ssl_ca_file=$OVSAGENT_TLS_CA" \
    "agent.tunnel_types=vxlan" "agent.l2_population=True" \
    "agent.report_interval=5" > "$SANDBOX/tls.ini"
agent_start a4 hv "$SANDBOX/tls.ini"
check "TLS: the agent talks to the broker over TLS" -- \
    wait_until 60 agent_show_has a4 'report_state: [1-9]'
api PUT "/ports/$p3" '{"port":{"admin_state_up":true}}' >/dev/null
check "TLS: a port goes ACTIVE" -- wait_until 60 port_is "$p3" ACTIVE
agent_log_clean a4
agent_stop a4
agent_start a5 hv "$SANDBOX/hv.ini"

# --- deletion -------------------------------------------------------------------
api DELETE "/ports/$p2" >/dev/null
check "a port deleted in the API goes to the dead VLAN" -- \
    wait_until 30 tag_is t-vm2 4095
ALLOWED_LOG_PATTERNS+=("dropping" "request; ignored" "objects ignored")
agent_log_clean a5
agent_stop a5

# --- a clean exit leaves no fanout queue behind ---------------------------------
agent_fanout_queues() {
    "$TOP/scripts/stack" rabbitmqctl -q list_queues name \
        | grep -cE '^(q-agent-notifier-|neutron-vo-).*_fanout_' || true
}
check "the agents' fanout queues are deleted on clean exit" -- \
    test "$(agent_fanout_queues)" = 0
