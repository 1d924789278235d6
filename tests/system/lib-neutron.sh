# shellcheck shell=bash
# lib-neutron.sh: Neutron as both the system tests and the benchmarks use
# it: the Networking API of a noauth neutron-server (networks, ports and
# security groups, created as nova and an operator create them), and the
# names the reference agent and nova give things on the switch.  Sourced
# by tests/system/lib.sh (so every system test has it) and by bench/lib.sh;
# it only defines functions, and is safe under "set -euo pipefail".
#
# The API helpers need OVSAGENT_API_URL (from "scripts/stack env") and
# PROJECT, the project they act in, with the admin role.  API_MAX_TIME is
# how many seconds one call may take (30 unless set).  A helper that creates
# something prints what it made and, if the server refused, says so on
# stderr with the server's answer and returns 1.

# api METHOD PATH [JSON]: one call of the Networking API (PATH after
# /v2.0); prints the server's answer.
api() {
    curl -sS --max-time "${API_MAX_TIME:-30}" -X "$1" "$OVSAGENT_API_URL/v2.0$2" \
        -H "X-Project-Id: $PROJECT" -H "X-Roles: admin" \
        -H "Content-Type: application/json" ${3:+-d "$3"}
}

# _api_new WHAT METHOD PATH JSON FILTER: the call; prints what FILTER
# (jq -r) makes of the answer if that is something other than null or
# false, otherwise says on stderr that WHAT was refused, and returns 1.
_api_new() {
    local what=$1 answer out
    shift
    answer=$(api "$1" "$2" "$3") || { echo "$what: the API did not answer" >&2; return 1; }
    if ! out=$(jq -er "$4" <<<"$answer" 2>/dev/null) || [ "$out" = null ]; then
        echo "$what: the server refused: $answer" >&2
        return 1
    fi
    echo "$out"
}

# _json_ids ID...: the ids as the elements of a JSON array, quoted.
_json_ids() {
    local IFS=,
    [ $# = 0 ] || set -- "${@/#/\"}"
    [ $# = 0 ] || set -- "${@/%/\"}"
    echo "[$*]"
}

# new_net NAME CIDR [TYPE [PHYSNET [SEGID]]]: a network called NAME with
# an IPv4 subnet CIDR (without DHCP); its provider type, physical network
# and segmentation id if given (no TYPE or an empty one: the server's
# tenant network type).  Prints the network's id.
new_net() {
    local name=$1 cidr=$2 type=${3:-} phys=${4:-} seg=${5:-} prov='' id
    [ -z "$type" ] || prov+=",\"provider:network_type\":\"$type\""
    [ -z "$phys" ] || prov+=",\"provider:physical_network\":\"$phys\""
    [ -z "$seg" ] || prov+=",\"provider:segmentation_id\":$seg"
    id=$(_api_new "network $name" POST /networks \
        "{\"network\":{\"name\":\"$name\",\"tenant_id\":\"$PROJECT\"$prov}}" \
        .network.id) || return 1
    _api_new "the subnet of network $name" POST /subnets \
        "{\"subnet\":{\"network_id\":\"$id\",\"cidr\":\"$cidr\",\"ip_version\":4,\"enable_dhcp\":false,\"tenant_id\":\"$PROJECT\"}}" \
        .subnet.id >/dev/null || return 1
    echo "$id"
}

# new_port NET NAME HOST [IP [GROUP...]]: a port on network NET bound to
# HOST (binding:host_id), as nova creates one for VM NAME; with the fixed
# address IP unless IP is empty, and in the security groups GROUP... if
# any are given (otherwise in the project's default group).  Prints
# "id mac ip".
new_port() {
    local net=$1 name=$2 host=$3 ip=${4:-} extra=''
    shift 3
    [ $# = 0 ] || shift
    [ -z "$ip" ] || extra+=",\"fixed_ips\":[{\"ip_address\":\"$ip\"}]"
    [ $# = 0 ] || extra+=",\"security_groups\":$(_json_ids "$@")"
    _api_new "port $name" POST /ports \
        "{\"port\":{\"network_id\":\"$net\",\"name\":\"$name\",\"binding:host_id\":\"$host\",\"device_owner\":\"compute:nova\",\"device_id\":\"$name\",\"tenant_id\":\"$PROJECT\"$extra}}" \
        '.port | select(.id != null) | "\(.id) \(.mac_address) \(.fixed_ips[0].ip_address)"'
}

# port_status ID: the port's status in the API (ACTIVE, DOWN, BUILD...).
port_status() { api GET "/ports/$1?fields=status" | jq -r .port.status; }

# port_is ID STATUS: the port has STATUS in the API.
port_is() { [ "$(port_status "$1")" = "$2" ]; }

# port_gone ID: the API no longer knows the port.
port_gone() {
    api GET "/ports/$1" | jq -e '.NeutronError.type == "PortNotFound"' >/dev/null
}

# new_group NAME: a security group (with the server's two egress rules);
# prints its id.
new_group() {
    _api_new "security group $1" POST /security-groups \
        "{\"security_group\":{\"name\":\"$1\",\"tenant_id\":\"$PROJECT\"}}" \
        .security_group.id
}

# add_rule GROUP JSON-FIELDS: a rule of GROUP, JSON-FIELDS being its
# other members ('"direction":"ingress","protocol":"icmp"', say); prints
# its id.
add_rule() {
    _api_new "a rule of group $1" POST /security-group-rules \
        "{\"security_group_rule\":{\"security_group_id\":\"$1\",\"tenant_id\":\"$PROJECT\",$2}}" \
        .security_group_rule.id
}

# ---------------------------------------------------------------------------
# Names on the switch.

# tunnel_port_name TYPE IP: the name the reference gives its tunnel port
# of TYPE (vxlan, gre, geneve) to the IPv4 address IP: TYPE-, then the
# address in 8 hex digits ("vxlan-0a000001" for 10.0.0.1).
tunnel_port_name() {
    local IFS=.
    # shellcheck disable=SC2086  # split on the dots
    printf '%s-%02x%02x%02x%02x\n' "$1" $2
}

# tap_of PORT_ID: the device name nova gives a port's VIF: "tap" and the
# id's first 11 characters.
tap_of() { echo "tap${1:0:11}"; }
