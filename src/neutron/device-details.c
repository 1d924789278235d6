/*
 * device-details: decoding of the server's port details.  See
 * device-details.h.
 */
#include <config.h>
#include "neutron/device-details.h"

#include "json-util.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/json.h"
#include "openvswitch/shash.h"
#include "packets.h"
#include "util.h"

void
device_details_destroy(struct device_details *dd)
{
    if (!dd) {
        return;
    }
    free(dd->device);
    free(dd->network_id);
    free(dd->mac);
    free(dd->network_type);
    free(dd->physical_network);
    for (size_t i = 0; i < dd->n_fixed_ips; i++) {
        free(dd->fixed_ips[i]);
    }
    free(dd->fixed_ips);
    for (size_t i = 0; i < dd->n_pairs; i++) {
        free(dd->pairs[i].ip);
        free(dd->pairs[i].mac);
    }
    free(dd->pairs);
    free(dd->device_owner);
    for (size_t i = 0; i < dd->n_security_groups; i++) {
        free(dd->security_groups[i]);
    }
    free(dd->security_groups);
    memset(dd, 0, sizeof *dd);
}

/* The port's flows are formatted from its MACs and addresses as they are:
 * a value that is not exactly a MAC or an address could add fields or
 * actions to those flows ("fa:16:3e:00:00:01,table=0"), or widen a match
 * with a mask.  These say whether a value is one, to OVS's parsers. */
static bool
is_mac(const char *s)
{
    struct eth_addr ea;
    return s && eth_addr_from_string(s, &ea);
}

/* An address, or with 'prefix' an address with an optional "/N". */
static bool
is_address(const char *s, bool prefix)
{
    ovs_be32 ip4;
    struct in6_addr ip6;
    if (ip_parse(s, &ip4) || ipv6_parse(s, &ip6)) {
        return true;
    } else if (!prefix) {
        return false;
    }
    unsigned int plen;
    char *error = ip_parse_cidr(s, &ip4, &plen);
    if (error) {
        free(error);
        error = ipv6_parse_cidr(s, &ip6, &plen);
    }
    free(error);
    return !error;
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

char *
device_details_from_json(const struct json *j, struct device_details *dd)
{
    memset(dd, 0, sizeof *dd);
    if (!j || j->type != JSON_OBJECT) {
        return xstrdup("device details: not an object");
    }
    const char *device = json_member_string(j, "device");
    if (!device) {
        return xstrdup("device details: no \"device\"");
    }
    dd->device = xstrdup(device);
    dd->segmentation_id = -1;
    dd->no_active_binding = json_member_bool(j, "no_active_binding", false);
    if (!json_member_string(j, "port_id")) {
        return NULL;            /* Unknown to the server: not an error. */
    }

    const char *network_id = json_member_string(j, "network_id");
    const char *mac = json_member_string(j, "mac_address");
    const char *network_type = json_member_string(j, "network_type");
    if (!network_id || !mac || !network_type) {
        char *error = xasprintf("device details for %s: network_id, "
                                "mac_address or network_type missing",
                                device);
        device_details_destroy(dd);
        return error;
    }
    if (!is_mac(mac)) {
        char *error = xasprintf("device details for %s: mac_address is "
                                "not a MAC address", device);
        device_details_destroy(dd);
        return error;
    }
    dd->found = true;
    dd->network_id = xstrdup(network_id);
    dd->mac = xstrdup(mac);
    dd->network_type = xstrdup(network_type);
    dd->physical_network = nullable_xstrdup(
        json_member_string(j, "physical_network"));
    dd->device_owner = xstrdup(json_member_string(j, "device_owner")
                               ? json_member_string(j, "device_owner") : "");
    dd->admin_state_up = json_member_bool(j, "admin_state_up", true);
    dd->port_security_enabled = json_member_bool(j, "port_security_enabled", true);

    const struct json *seg = json_member(j, "segmentation_id");
    if (seg && seg->type == JSON_INTEGER && seg->integer >= 0) {
        dd->segmentation_id = seg->integer;
    }
    const struct json *mtu = json_member(j, "mtu");
    if (mtu && mtu->type == JSON_INTEGER) {
        dd->mtu = mtu->integer;
    }

    const struct json *ips = json_member(j, "fixed_ips");
    if (ips && ips->type == JSON_ARRAY) {
        size_t n = json_array(ips)->n;
        dd->fixed_ips = xcalloc(n ? n : 1, sizeof *dd->fixed_ips);
        for (size_t i = 0; i < n; i++) {
            const char *ip = json_member_string(json_array(ips)->elems[i],
                                           "ip_address");
            if (ip && is_address(ip, false)) {
                dd->fixed_ips[dd->n_fixed_ips++] = xstrdup(ip);
            }
        }
    }
    const struct json *sgs = json_member(j, "security_groups");
    if (sgs && sgs->type == JSON_ARRAY) {
        size_t n = json_array(sgs)->n;
        dd->security_groups = xcalloc(n + 1, sizeof *dd->security_groups);
        for (size_t i = 0; i < n; i++) {
            const struct json *sg = json_array(sgs)->elems[i];
            if (sg->type == JSON_STRING) {
                dd->security_groups[dd->n_security_groups++]
                    = xstrdup(json_string(sg));
            }
        }
        qsort(dd->security_groups, dd->n_security_groups,
              sizeof *dd->security_groups, compare_strings);
    }
    const struct json *pairs = json_member(j, "allowed_address_pairs");
    if (pairs && pairs->type == JSON_ARRAY) {
        size_t n = json_array(pairs)->n;
        dd->pairs = xcalloc(n ? n : 1, sizeof *dd->pairs);
        for (size_t i = 0; i < n; i++) {
            const struct json *p = json_array(pairs)->elems[i];
            const char *ip = json_member_string(p, "ip_address");
            const char *pmac = json_member_string(p, "mac_address");
            if (ip && is_address(ip, true) && (!pmac || is_mac(pmac))) {
                struct address_pair *ap = &dd->pairs[dd->n_pairs++];
                ap->ip = xstrdup(ip);
                ap->mac = xstrdup(pmac ? pmac : mac);
            }
        }
    }
    return NULL;
}

void
device_details_clone(struct device_details *dst,
                     const struct device_details *src)
{
    *dst = *src;
    dst->device = nullable_xstrdup(src->device);
    dst->network_id = nullable_xstrdup(src->network_id);
    dst->mac = nullable_xstrdup(src->mac);
    dst->network_type = nullable_xstrdup(src->network_type);
    dst->physical_network = nullable_xstrdup(src->physical_network);
    dst->device_owner = nullable_xstrdup(src->device_owner);
    dst->security_groups = xcalloc(src->n_security_groups + 1,
                                   sizeof *dst->security_groups);
    for (size_t i = 0; i < src->n_security_groups; i++) {
        dst->security_groups[i] = xstrdup(src->security_groups[i]);
    }
    dst->fixed_ips = xcalloc(src->n_fixed_ips + 1, sizeof *dst->fixed_ips);
    for (size_t i = 0; i < src->n_fixed_ips; i++) {
        dst->fixed_ips[i] = xstrdup(src->fixed_ips[i]);
    }
    dst->pairs = xcalloc(src->n_pairs + 1, sizeof *dst->pairs);
    for (size_t i = 0; i < src->n_pairs; i++) {
        dst->pairs[i].ip = xstrdup(src->pairs[i].ip);
        dst->pairs[i].mac = xstrdup(src->pairs[i].mac);
    }
}

bool
device_details_equal(const struct device_details *a,
                     const struct device_details *b)
{
    if (a->found != b->found
        || !nullable_string_is_equal(a->network_id, b->network_id)
        || !nullable_string_is_equal(a->mac, b->mac)
        || a->admin_state_up != b->admin_state_up
        || !nullable_string_is_equal(a->network_type, b->network_type)
        || a->segmentation_id != b->segmentation_id
        || !nullable_string_is_equal(a->physical_network,
                                     b->physical_network)
        || a->port_security_enabled != b->port_security_enabled
        || !nullable_string_is_equal(a->device_owner, b->device_owner)
        || a->n_fixed_ips != b->n_fixed_ips || a->n_pairs != b->n_pairs
        || a->n_security_groups != b->n_security_groups) {
        return false;
    }
    for (size_t i = 0; i < a->n_security_groups; i++) {
        if (strcmp(a->security_groups[i], b->security_groups[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_fixed_ips; i++) {
        if (strcmp(a->fixed_ips[i], b->fixed_ips[i])) {
            return false;
        }
    }
    for (size_t i = 0; i < a->n_pairs; i++) {
        if (strcmp(a->pairs[i].ip, b->pairs[i].ip)
            || strcmp(a->pairs[i].mac, b->pairs[i].mac)) {
            return false;
        }
    }
    return true;
}
