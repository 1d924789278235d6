/*
 * device-details: the server's answer about one port, as
 * get_devices_details_list_and_failed_devices returns it, decoded into C.
 *
 * Layer: codec (no I/O, no logging above debug).
 */
#ifndef OVSAGENT_DEVICE_DETAILS_H
#define OVSAGENT_DEVICE_DETAILS_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json;

struct address_pair {
    char *ip;                   /* Address or CIDR. */
    char *mac;
};

struct device_details {
    char *device;               /* The port id asked about. */
    bool found;                 /* False: unknown, unbound or elsewhere. */
    bool no_active_binding;     /* Bound here but the binding is inactive. */

    /* Valid only if 'found'. */
    char *network_id;
    char *mac;
    bool admin_state_up;
    char *network_type;         /* "vxlan", "vlan", "flat", ... */
    int64_t segmentation_id;    /* -1: none (flat, local). */
    char *physical_network;     /* NULL for tunnels and local. */
    int mtu;                    /* 0 if not given. */
    char **fixed_ips;
    size_t n_fixed_ips;
    struct address_pair *pairs;
    size_t n_pairs;
    bool port_security_enabled;
    char *device_owner;
    char **security_groups;     /* Sorted ids; only from the port cache. */
    size_t n_security_groups;
};

/* Decodes one details object.  Returns NULL and fills '*dd', or a malloc'd
 * error (then '*dd' holds nothing to free).  The caller frees '*dd' with
 * device_details_destroy(). */
char *device_details_from_json(const struct json *, struct device_details *dd);
void device_details_destroy(struct device_details *);

/* Deep copy. */
void device_details_clone(struct device_details *dst,
                          const struct device_details *src);

/* True if the wiring-relevant fields of 'a' and 'b' are equal (network,
 * segment, MAC, addresses, admin state, port security, owner). */
bool device_details_equal(const struct device_details *a,
                          const struct device_details *b);

#endif /* device-details.h */
