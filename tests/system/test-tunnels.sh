#!/bin/bash
# Two hypervisors against the real neutron-server 21.0.0: each its own
# userspace ovs-vswitchd in its own network namespace and its own ovsagent
# (l2population and the ARP responder on), joined by an underlay over which
# VXLAN really carries the VMs' packets, and by a wire between their
# physical bridges for VLAN networks.  VMs on one network ping each other
# across hosts; VMs on different networks do not; ARP requests for remote
# VMs are answered on the local host; when a host's last port of a network
# goes, the other host drops its flood and unicast entries and the tunnel.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

stack_up_private

PROJECT=70770770770770770770770770770770

# --- hypervisors and their underlay ----------------------------------------
underlay_init
HV_CONF=("agent.tunnel_types=vxlan" "agent.l2_population=True"
         "agent.arp_responder=True")
hypervisor hv1 1 "${HV_CONF[@]}"
hypervisor hv2 2 "${HV_CONF[@]}"
# ovs-vswitchd's own routing table follows the kernel's in its namespace.
check "each switch routes the underlay" -- wait_until 10 ul_routes hv1 hv2 \
    || { ovs_appctl hv1 ovs-vswitchd ovs/route/show 2>&1 | sed 's/^/# /'; exit 1; }

ALLOWED_LOG_PATTERNS=("retrying in" "connection refused")
agent_start a1 hv1 "$SANDBOX/hv1.ini"
agent_start a2 hv2 "$SANDBOX/hv2.ini"
check "both agents are alive in the API" -- wait_until 30 agents_alive 2

# --- one VXLAN network across both hosts -----------------------------------------
net_a=$(new_net "a-$SANDBOX_ID" 10.70.0.0/24)
# Fixed addresses: network b reuses the CIDR, and vm3 must not reach vm2
# only because the server happened to give vm2 vm4's address.
read -r p1 mac1 ip1 < <(new_port "$net_a" vm1 "$(host_of hv1)" 10.70.0.101)
read -r p2 mac2 ip2 < <(new_port "$net_a" vm2 "$(host_of hv2)" 10.70.0.102)
vif_add hv1 vm1 "$mac1" "$ip1/24" "$p1"
vif_add hv2 vm2 "$mac2" "$ip2/24" "$p2"
check "vm1 (hv1) ACTIVE" -- wait_until 30 port_is "$p1" ACTIVE
check "vm2 (hv2) ACTIVE" -- wait_until 30 port_is "$p2" ACTIVE

tun_hv2=$(tunnel_port_name vxlan "$UL_NET.2")
tun_hv1=$(tunnel_port_name vxlan "$UL_NET.1")
check "hv1 has a VXLAN tunnel to hv2, named as the reference names it" -- \
    wait_until 15 tunnel_on hv1 "$tun_hv2"
check "and hv2 one to hv1" -- wait_until 15 tunnel_on hv2 "$tun_hv1"
opts=$(ovs_vsctl hv1 get Interface "$tun_hv2" options)
check "the tunnel's options are the reference's" -- test "$opts" = \
    "{df_default=\"true\", egress_pkt_mark=\"0\", in_key=flow, local_ip=\"$UL_NET.1\", out_key=flow, remote_ip=\"$UL_NET.2\"}"
check "hv1 floods the network to hv2" -- \
    wait_until 15 flows_have hv1 br-tun "table=22, priority=1,dl_vlan=1 actions=pop_vlan,set_field:"
check "hv1 sends unicast for vm2's MAC to hv2" -- \
    wait_until 15 flows_have hv1 br-tun "table=20, priority=2,dl_vlan=1,dl_dst=$mac2 actions=pop_vlan"
check "hv1 answers ARP for vm2's address itself" -- \
    wait_until 15 flows_have hv1 br-tun "table=21, priority=1,arp,dl_vlan=1,arp_tpa=$ip2 actions=set_field:2->arp_op"
check "vm1 pings vm2 across the VXLAN underlay" -- \
    wait_until 20 vm_ping vm1 "$ip2"
check "and vm2 pings vm1" -- vm_ping vm2 "$ip1"
arp_answered() {
    ovs_ofctl hv1 dump-flows br-tun "table=21,arp,arp_tpa=$ip2" \
        | grep 'n_packets=[1-9]' >/dev/null
}
vm_exec vm1 ip neigh flush all
vm_exec vm1 ping -q -c 1 -W 1 "$ip2" >/dev/null || true
check "vm1's ARP request for vm2 was answered by hv1's ARP responder" -- \
    wait_until 5 arp_answered

# --- another network: isolated ---------------------------------------------------
net_b=$(new_net "b-$SANDBOX_ID" 10.70.0.0/24)
read -r p3 mac3 ip3 < <(new_port "$net_b" vm3 "$(host_of hv1)" 10.70.0.203)
read -r p4 mac4 ip4 < <(new_port "$net_b" vm4 "$(host_of hv2)" 10.70.0.204)
vif_add hv1 vm3 "$mac3" "$ip3/24" "$p3"
check "vm3 (hv1, network b) ACTIVE" -- wait_until 30 port_is "$p3" ACTIVE
# Network b had no tunnel on hv1 when vm3 went up, after the agent's first
# pass (vm4 is plugged only now): like the reference, hv1 asked for the
# network's whole FDB.
check "hv1 reported vm3 up with refresh_tunnels, network b having no tunnel yet" -- \
    grep -q "no tunnel yet: asking for its forwarding database" "$SANDBOX/a1.log"
vif_add hv2 vm4 "$mac4" "$ip4/24" "$p4"
check "vm4 (hv2, network b) ACTIVE" -- wait_until 30 port_is "$p4" ACTIVE
check "vm3 pings vm4 on their own network" -- wait_until 20 vm_ping vm3 "$ip4"
check "vm3 does not reach vm2, on the other network" -- never 3 vm_ping vm3 "$ip2"

# --- the replica lets go of tunnel Interface rows --------------------------------
# Once the tunnel ports an earlier run left are adopted or gone, the agent
# stops replicating tunnel Interface rows (docs/pipeline.md §1.3); a
# tunnel made after that (to hv3, below) gets its ofport over OpenFlow.
# settled N: a1's log says so N times (once per run).
settled() { [ "$(grep -c "tunnel ports settled" "$SANDBOX/a1.log")" -ge "$1" ]; }
check "hv1 stops replicating its tunnel Interface rows once they settled" -- \
    wait_until 30 settled 1
counts() {
    agent_appctl a1 memory/show | grep -q "fdb-macs:2 .*tunnels:1 "
}
check "its memory/show counts its tunnels and forwarding entries" -- counts

# --- mixed with the reference agent -------------------------------------------
# How operators migrate, host by host: hv3 runs the reference agent.
hypervisor hv3 3 "${HV_CONF[@]}"
ref_agent_start r3 hv3 "$SANDBOX/hv3.ini"
check "the reference agent on hv3 is alive" -- wait_until 90 agents_alive 3
read -r p7 mac7 ip7 < <(new_port "$net_a" vm7 "$(host_of hv3)")
vif_add hv3 vm7 "$mac7" "$ip7/24" "$p7"
check "vm7 (hv3, the reference agent) ACTIVE" -- wait_until 90 port_is "$p7" ACTIVE
check "vm1 (ovsagent) pings vm7 (the reference) across VXLAN" -- \
    wait_until 30 vm_ping vm1 "$ip7"
check "and vm7 pings vm2 (ovsagent on hv2)" -- wait_until 10 vm_ping vm7 "$ip2"
check "the reference named its tunnel to hv1 as ovsagent names them" -- \
    tunnel_on hv3 "$tun_hv1"

# --- a VLAN provider network through the physical bridges -----------------------
vlan_net=$(new_net "v-$SANDBOX_ID" 10.72.0.0/24 vlan physnet1 142)
read -r p5 mac5 ip5 < <(new_port "$vlan_net" vl5 "$(host_of hv1)")
read -r p6 mac6 ip6 < <(new_port "$vlan_net" vl6 "$(host_of hv2)")
vif_add hv1 vl5 "$mac5" "$ip5/24" "$p5"
vif_add hv2 vl6 "$mac6" "$ip6/24" "$p6"
check "vl5 (hv1, VLAN 142) ACTIVE" -- wait_until 30 port_is "$p5" ACTIVE
check "vl6 (hv2, VLAN 142) ACTIVE" -- wait_until 30 port_is "$p6" ACTIVE
check "they ping each other through the physical bridges" -- \
    wait_until 20 vm_ping vl5 "$ip6"

# --- a restart with another tunnel option -------------------------------------
# The reference merges its options into existing tunnel ports at start; so
# does ovsagent, before it lets go of their rows.
printf '[agent]\ndont_fragment = False\n' > "$SANDBOX/hv1-df.ini"
agent_stop a1
agent_start a1 hv1 "$SANDBOX/hv1.ini" --config-file "$SANDBOX/hv1-df.ini"
df_off() { [ "$(ovs_vsctl hv1 get Interface "$1" options:df_default)" = '"false"' ]; }
check "after a restart, hv1's tunnel to hv2 has the new option" -- \
    wait_until 30 df_off "$tun_hv2"
check "and so has its tunnel to hv3" -- \
    wait_until 30 df_off "$(tunnel_port_name vxlan "$UL_NET.3")"
check "the restarted agent lets go of the rows again" -- wait_until 30 settled 2
check "vm1 still pings vm2 through the adopted tunnel" -- \
    wait_until 10 vm_ping vm1 "$ip2"
check "and vm7" -- wait_until 10 vm_ping vm1 "$ip7"

# --- the last port of a network leaves a host ------------------------------------
lv_b=$(ovs_vsctl hv1 get Port t-vm3 tag)
api DELETE "/ports/$p4" >/dev/null
ovs_vsctl hv2 del-port br-int t-vm4
# (A flow learned from vm4's packets, at priority 1, stays until it times
# out, as with the reference.)
check "hv1 drops its unicast entry for vm4" -- \
    wait_never 20 3 flows_have hv1 br-tun "priority=2,dl_vlan=$lv_b,dl_dst=$mac4 "
check "and network b's flood to hv2" -- \
    wait_never 20 3 flows_have hv1 br-tun "table=22, priority=1,dl_vlan=$lv_b "
check "while network a still floods there" -- \
    flows_have hv1 br-tun "table=22, priority=1,dl_vlan=1 "
api DELETE "/ports/$p2" >/dev/null
ovs_vsctl hv2 del-port br-int t-vm2
check "once no network of hv1 floods to hv2, the tunnel goes" -- \
    wait_never 20 3 tunnel_on hv1 "$tun_hv2"
check "and its in_port flow with it" -- \
    never 3 flows_have hv1 br-tun "in_port=\"$tun_hv2\""

ALLOWED_LOG_PATTERNS+=("objects ignored")
agent_log_clean a1
agent_log_clean a2
agent_stop a1
agent_stop a2
ref_agent_stop r3
