#!/bin/bash
# Tunnels without l2population, against the real neutron-server 21.0.0:
# two hypervisors (userspace switches in their namespaces, joined by an
# underlay) whose agents build a full mesh of GRE tunnels from tunnel_sync
# and the server's tunnel_update casts.  VMs ping each other over GRE and
# over a flat provider network; when a host's tunnel address changes, the
# server's tunnel_delete removes the old tunnel and a new one carries the
# traffic.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

stack_up_private

PROJECT=3e553e553e553e553e553e553e553e55

underlay_init
HV_CONF=("agent.tunnel_types=gre" "agent.l2_population=False")
hypervisor hv1 1 "${HV_CONF[@]}"
hypervisor hv2 2 "${HV_CONF[@]}"
check "each switch routes the underlay" -- wait_until 10 ul_routes hv1 hv2
ALLOWED_LOG_PATTERNS=("retrying in" "connection refused")
agent_start a1 hv1 "$SANDBOX/hv1.ini"
agent_start a2 hv2 "$SANDBOX/hv2.ini"


# --- a full mesh from tunnel_sync and tunnel_update ------------------------------
check "hv1 has a GRE tunnel to hv2 (from tunnel_update)" -- \
    wait_until 30 tunnel_on hv1 "$(tunnel_port_name gre "$UL_NET.2")"
check "and hv2 one to hv1 (from tunnel_sync's answer)" -- \
    wait_until 30 tunnel_on hv2 "$(tunnel_port_name gre "$UL_NET.1")"
gre=$(tunnel_port_name gre "$UL_NET.2")
check "a GRE tunnel's Interface is of type gre, with the reference's options" -- \
    test "$(ovs_vsctl hv1 get Interface "$gre" type)" = gre -a \
         "$(ovs_vsctl hv1 get Interface "$gre" options)" = \
         "{df_default=\"true\", egress_pkt_mark=\"0\", in_key=flow, local_ip=\"$UL_NET.1\", out_key=flow, remote_ip=\"$UL_NET.2\"}"
check "its packets go to table 3" -- \
    wait_until 10 flows_have hv1 br-tun "in_port=\"$gre\" actions=goto_table:3"

net=$(new_net "g-$SANDBOX_ID" 10.73.0.0/24 gre)
read -r p1 mac1 ip1 < <(new_port "$net" vm1 "$(host_of hv1)")
read -r p2 mac2 ip2 < <(new_port "$net" vm2 "$(host_of hv2)")
vif_add hv1 vm1 "$mac1" "$ip1/24" "$p1"
vif_add hv2 vm2 "$mac2" "$ip2/24" "$p2"
check "vm1 (hv1) ACTIVE" -- wait_until 30 port_is "$p1" ACTIVE
check "vm2 (hv2) ACTIVE" -- wait_until 30 port_is "$p2" ACTIVE
lv=$(ovs_vsctl hv1 get Port t-vm1 tag)
check "the network floods to every GRE tunnel" -- \
    wait_until 10 flows_have hv1 br-tun "table=22, priority=1,dl_vlan=$lv actions=pop_vlan,set_field:"
l2pop_flows() { dump_flows hv1 br-tun | grep -E 'table=20, priority=2|table=21, priority=1'; }
check "no l2population unicast or ARP responder flows" -- never 3 l2pop_flows
check "vm1 pings vm2 over GRE" -- wait_until 20 vm_ping vm1 "$ip2"
learned() { dump_flows hv1 br-tun | grep "table=20, hard_timeout=300, priority=1,.*dl_dst=$mac2" >/dev/null; }
check "hv1 learned vm2's MAC behind the tunnel" -- wait_until 5 learned

# --- a flat provider network across hosts ---------------------------------------
flat=$(new_net "f-$SANDBOX_ID" 10.74.0.0/24 flat physnet1)
read -r p3 mac3 ip3 < <(new_port "$flat" vf3 "$(host_of hv1)")
read -r p4 mac4 ip4 < <(new_port "$flat" vf4 "$(host_of hv2)")
vif_add hv1 vf3 "$mac3" "$ip3/24" "$p3"
vif_add hv2 vf4 "$mac4" "$ip4/24" "$p4"
check "vf3 (hv1, flat) ACTIVE" -- wait_until 30 port_is "$p3" ACTIVE
check "vf4 (hv2, flat) ACTIVE" -- wait_until 30 port_is "$p4" ACTIVE
check "they ping each other through the physical bridges" -- \
    wait_until 20 vm_ping vf3 "$ip4"

# --- hv2's tunnel address changes ------------------------------------------------
agent_stop a2
ip -n "$(ovs_netns hv2)" addr add "$UL_NET.12/24" dev br-ul
sed -i "s/^local_ip = .*/local_ip = $UL_NET.12/" "$SANDBOX/hv2.ini"
agent_start a2b hv2 "$SANDBOX/hv2.ini"
check "the server's tunnel_delete removes hv1's tunnel to the old address" -- \
    wait_never 30 3 tunnel_on hv1 "$gre"
check "and its tunnel_update makes one to the new" -- \
    wait_until 30 tunnel_on hv1 "$(tunnel_port_name gre "$UL_NET.12")"
check "vm1 pings vm2 through it" -- wait_until 30 vm_ping vm1 "$ip2"

agent_log_clean a1
agent_log_clean a2b
agent_stop a1
agent_stop a2b
