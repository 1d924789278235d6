#!/bin/bash
# The openvswitch (conntrack) firewall against the real neutron-server
# 21.0.0, on real packets: VMs are network namespaces on a userspace switch,
# whose conntrack is inside ovs-vswitchd.  The default group lets its
# members talk and keeps others out; an egress-only group blocks incoming
# ping; an ingress ICMP rule from a CIDR lets it in and its removal blocks
# it again; an established TCP connection survives unrelated rule changes;
# a remote-group rule follows the group's membership; spoofed source
# addresses and MACs are dropped, allowed address pairs excepted; a port
# without port security is not filtered.
# run-tests: fast
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sandbox_init

stack_up_private

PROJECT=f1ea11f1ea11f1ea11f1ea11f1ea11f1

HOSTNAME_HV=$(host_of hv)
ovs_start hv netdev
uplink=$(netns_uplink hv)
ip -n "$(ovs_netns hv)" route add "$OVSAGENT_STACK_LINK_IP/32" via "$uplink"
agent_conf hv "DEFAULT.host=$HOSTNAME_HV" \
    "DEFAULT.transport_url=$OVSAGENT_TRANSPORT_URL_LINK" \
    "agent.tunnel_types=vxlan" "agent.report_interval=5" \
    "securitygroup.firewall_driver=openvswitch" \
    "agent.drop_flows_on_start=True" > "$SANDBOX/hv.ini"
ALLOWED_LOG_PATTERNS=("retrying in" "connection refused")
agent_start a1 hv "$SANDBOX/hv.ini"

net=$(new_net "fw-$SANDBOX_ID" 10.67.0.0/24)

del_rule() { api DELETE "/security-group-rules/$1"; }
set_groups() {  # set_groups PORT GROUP...
    api PUT "/ports/$1" "{\"port\":{\"security_groups\":[$(printf '"%s",' "${@:2}" | sed 's/,$//')]}}" >/dev/null
}

eo=$(new_group "egress-only-$SANDBOX_ID")
peer=$(new_group "peer-$SANDBOX_ID")
check "two security groups created" -- test -n "$eo" -a -n "$peer"
# vm1, vm2 and vm4 in the default group, vm3 in the egress-only one.
read -r p1 mac1 ip1 < <(new_port "$net" vm1 "$HOSTNAME_HV")
read -r p2 mac2 ip2 < <(new_port "$net" vm2 "$HOSTNAME_HV")
read -r p3 mac3 ip3 < <(new_port "$net" vm3 "$HOSTNAME_HV" "" "$eo")
read -r p4 mac4 ip4 < <(new_port "$net" vm4 "$HOSTNAME_HV")
default=$(api GET "/security-groups?name=default&project_id=$PROJECT" | jq -r '.security_groups[0].id')
check "four ports created, three in the default group" -- \
    test -n "$p4" -a -n "$default" -a "$default" != null
vif_add hv vm1 "$mac1" "$ip1/24" "$p1"
vif_add hv vm2 "$mac2" "$ip2/24" "$p2"
vif_add hv vm3 "$mac3" "$ip3/24" "$p3"
vif_add hv vm4 "$mac4" "$ip4/24" "$p4"
for p in "$p1" "$p2" "$p3" "$p4"; do
    check "port $p ACTIVE" -- wait_until 30 port_is "$p" ACTIVE
done
of3=$(ovs_vsctl hv get Interface t-vm3 ofport)

# --- the default group ------------------------------------------------------
check "members of the default group ping each other" -- \
    wait_until 10 vm_ping vm1 "$ip2"
check "the firewall's conntrack flows are on br-int" -- \
    flows_have hv br-int "ct(table=72"
check "a port of another group cannot ping into the default group" -- \
    never 3 vm_ping vm3 "$ip1"

# --- an egress-only group, and an ICMP rule from a CIDR --------------------
check "an egress-only group blocks incoming ping" -- never 3 vm_ping vm1 "$ip3"
icmp=$(add_rule "$eo" '"direction":"ingress","ethertype":"IPv4","protocol":"icmp","remote_ip_prefix":"10.67.0.0/24"')
check "an ingress ICMP rule from the subnet lets ping in" -- \
    wait_until 15 vm_ping vm1 "$ip3"
del_rule "$icmp"
check "removing the rule blocks ping again" -- \
    wait_never 15 3 vm_ping vm1 "$ip3"

# --- an established connection across unrelated rule changes --------------
tcp=$(add_rule "$eo" '"direction":"ingress","ethertype":"IPv4","protocol":"tcp","port_range_min":5001,"port_range_max":5001')
cat > "$SANDBOX/echo-server.py" <<'EOF'
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5001))
s.listen(1)
c, _ = s.accept()
while True:
    d = c.recv(64)
    if not d:
        break
    c.sendall(d)
EOF
cat > "$SANDBOX/echo-client.py" <<'EOF'
import socket, sys, time
ip, out = sys.argv[1], sys.argv[2]
n = 0
try:
    s = socket.create_connection((ip, 5001), timeout=3)
    while True:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise OSError("bad echo")
        n += 1
        with open(out + ".tmp", "w") as f:
            f.write(str(n))
        import os
        os.replace(out + ".tmp", out)
        time.sleep(0.05)
except Exception as e:
    with open(out, "w") as f:
        f.write("broken %s" % e)
EOF
vm_exec vm3 "$OVSA_PYTHON" "$SANDBOX/echo-server.py" &
server_pid=$!
echoes() { cat "$SANDBOX/echoes" 2>/dev/null; }
echoes_over() { local n; n=$(echoes); [[ $n =~ ^[0-9]+$ ]] && [ "$n" -gt "$1" ]; }
connect() { vm_exec vm1 "$OVSA_PYTHON" "$SANDBOX/echo-client.py" "$ip3" "$SANDBOX/echoes" & client_pid=$!; }
listening() { vm_exec vm3 ss -ltn | grep ':5001 ' >/dev/null; }
wait_until 15 listening || true
connect
if ! wait_until 10 echoes_over 5; then
    # The rule may have been written just after the first SYN: once more.
    kill "$client_pid" 2>/dev/null || true
    wait "$client_pid" 2>/dev/null || true
    rm -f "$SANDBOX/echoes"
    connect
fi
check "a TCP connection to an allowed port is established" -- \
    wait_until 10 echoes_over 5
udp_flow() { flows_have hv br-int "udp,reg5=$(printf '%#x' "$of3"),tp_dst=53"; }
udp=$(add_rule "$eo" '"direction":"ingress","ethertype":"IPv4","protocol":"udp","port_range_min":53,"port_range_max":53')
check "an unrelated rule is added to the group" -- wait_until 15 udp_flow
del_rule "$udp"
check "and removed again" -- wait_never 15 3 udp_flow
n=$(echoes)
check "the established connection kept going through both changes" -- \
    wait_until 10 echoes_over $((n + 20))
kill "$client_pid" "$server_pid" 2>/dev/null || true
wait "$client_pid" "$server_pid" 2>/dev/null || true
del_rule "$tcp"

# --- a remote-group rule follows membership -------------------------------
add_rule "$eo" "\"direction\":\"ingress\",\"ethertype\":\"IPv4\",\"protocol\":\"icmp\",\"remote_group_id\":\"$peer\"" >/dev/null
check "the group's remote-group rule is written" -- \
    wait_until 15 flows_have hv br-int "conjunction("
check "a port outside the remote group cannot ping in" -- \
    never 3 vm_ping vm4 "$ip3"
set_groups "$p4" "$default" "$peer"
check "once the port joins the remote group, it can" -- \
    wait_until 15 vm_ping vm4 "$ip3"
check "a port of the default group still cannot" -- never 3 vm_ping vm1 "$ip3"
set_groups "$p4" "$default"
check "once it leaves the group, it cannot again" -- \
    wait_never 15 3 vm_ping vm4 "$ip3"

# --- an address group as the remote ---------------------------------------
ag=$(api POST /address-groups "{\"address_group\":{\"name\":\"ag-$SANDBOX_ID\",\"tenant_id\":\"$PROJECT\",\"addresses\":[\"$ip4/32\"]}}" | jq -r .address_group.id)
check "an address group holding vm4's address" -- test -n "$ag" -a "$ag" != null
add_rule "$eo" "\"direction\":\"ingress\",\"ethertype\":\"IPv4\",\"protocol\":\"icmp\",\"remote_address_group_id\":\"$ag\"" >/dev/null
check "a rule from the address group lets its address ping in" -- \
    wait_until 15 vm_ping vm4 "$ip3"
check "and no other address" -- never 3 vm_ping vm1 "$ip3"
ag_addresses() {    # ag_addresses add|remove ADDRESS
    api PUT "/address-groups/$ag/$1_addresses" "{\"addresses\":[\"$2\"]}" >/dev/null
}
ag_addresses remove "$ip4/32"
ag_addresses add "$ip1/32"
check "the group's addresses follow its updates" -- \
    wait_until 15 vm_ping vm1 "$ip3"
check "the address taken out of it is blocked again" -- \
    wait_never 15 3 vm_ping vm4 "$ip3"

# --- anti-spoofing ----------------------------------------------------------
check "vm2 pings vm1 from its own address" -- vm_ping vm2 "$ip1"
vm_exec vm2 ip addr add 10.67.0.250/24 dev eth0
check "a spoofed source address is dropped" -- \
    never 3 vm_exec vm2 ping -q -c 3 -i 0.2 -W 1 -I 10.67.0.250 "$ip1"
vm_exec vm2 ip addr del 10.67.0.250/24 dev eth0
vm_exec vm2 ip link set eth0 address fa:16:3e:de:ad:01
vm_exec vm1 ip neigh flush all
check "a spoofed source MAC is dropped" -- never 3 vm_ping vm2 "$ip1"
vm_exec vm2 ip link set eth0 address "$mac2"
check "with its own MAC back, it pings again" -- \
    wait_until 10 vm_ping vm2 "$ip1"

# --- allowed address pairs ---------------------------------------------------
api PUT "/ports/$p2" '{"port":{"allowed_address_pairs":[{"ip_address":"10.67.0.250"}]}}' >/dev/null
vm_exec vm2 ip addr add 10.67.0.250/24 dev eth0
check "an allowed address pair may be used as a source, and is a member" -- \
    wait_until 15 vm_exec vm2 ping -q -c 1 -W 1 -I 10.67.0.250 "$ip1"
vm_exec vm2 ip addr del 10.67.0.250/24 dev eth0

# --- port security disabled ----------------------------------------------------
read -r p5 mac5 ip5 < <(api POST /ports "{\"port\":{\"network_id\":\"$net\",\"name\":\"vm5\",\"binding:host_id\":\"$HOSTNAME_HV\",\"device_owner\":\"compute:nova\",\"device_id\":\"vm5\",\"tenant_id\":\"$PROJECT\",\"port_security_enabled\":false,\"security_groups\":[]}}" \
    | jq -r '.port | "\(.id) \(.mac_address) \(.fixed_ips[0].ip_address)"')
vif_add hv vm5 "$mac5" "$ip5/24" "$p5"
check "a port without port security goes ACTIVE" -- wait_until 30 port_is "$p5" ACTIVE
check "it is reachable with no rule letting anything in" -- \
    wait_until 10 vm_ping vm1 "$ip5"
vm_exec vm5 ip link set eth0 address fa:16:3e:de:ad:05
vm_exec vm1 ip neigh flush all
check "and may use a MAC of its own choosing" -- wait_until 10 vm_ping vm1 "$ip5"

ALLOWED_LOG_PATTERNS+=("objects ignored")
agent_log_clean a1
agent_stop a1
