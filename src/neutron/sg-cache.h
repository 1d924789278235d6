/*
 * sg-cache: the server's security groups and their rules, as the
 * openvswitch firewall needs them.
 *
 * Fed, as the 21.x reference's cache is, by bulk_pull answers and by the
 * neutron-vo-SecurityGroup-1.5 and neutron-vo-SecurityGroupRule-1.2 pushes
 * (docs/wire.md §5.4, §6.2).  A SecurityGroup object carries all its
 * rules; a SecurityGroupRule push adds, changes or deletes one.  Deleting
 * a group pushes no rule deletions, so its rules go with it here.
 *
 * Layer: Neutron state (no I/O, no logging above debug).
 */
#ifndef OVSAGENT_SG_CACHE_H
#define OVSAGENT_SG_CACHE_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json;

/* The object versions ovsagent parses (the Zed server's own). */
#define SG_CACHE_GROUP_VERSION "1.5"
#define SG_CACHE_RULE_VERSION "1.2"

/* One rule, with the protocol normalized to a number as the reference's
 * firewall does it ("icmp" under IPv6 is 58). */
struct sg_rule {
    char *id;
    char *sg_id;
    bool ingress;               /* direction "ingress", else "egress". */
    bool ipv6;                  /* ethertype "IPv6", else "IPv4". */
    int protocol;               /* -1: any. */
    int port_min, port_max;     /* -1: absent. */
    char *remote_prefix;        /* remote_ip_prefix, or NULL. */
    char *remote_group_id;      /* Or NULL. */
    char *remote_address_group_id;  /* Or NULL. */
    int64_t revision;
};

/* Decodes one SecurityGroupRule primitive into '*r' (the caller frees it
 * with sg_rule_destroy()).  Returns NULL or a malloc'd error. */
char *sg_rule_from_ovo(const struct json *primitive, struct sg_rule *r);
void sg_rule_destroy(struct sg_rule *);

/* The protocol number of a rule's "protocol" value: a number, a name of
 * neutron-lib's IP_PROTOCOL_MAP, or "icmp" under IPv6 (58).  -1 for JSON
 * null or absent; -2 for a name it does not know. */
int sg_protocol_number(const struct json *protocol, bool ipv6);

struct sg_cache *sg_cache_create(void);
void sg_cache_destroy(struct sg_cache *);

/* Called with the id of each group whose rules changed, or that was
 * deleted. */
typedef void sg_cache_changed_cb(void *aux, const char *sg_id, bool deleted);

/* Applies SecurityGroup primitives (a push's resource_list or a bulk_pull
 * answer; 'deleted' for event_type "deleted").  Returns the number of
 * malformed objects dropped. */
size_t sg_cache_put_groups(struct sg_cache *, const struct json *list,
                           bool deleted, sg_cache_changed_cb *, void *aux);

/* Applies SecurityGroupRule primitives, likewise. */
size_t sg_cache_put_rules(struct sg_cache *, const struct json *list,
                          bool deleted, sg_cache_changed_cb *, void *aux);

/* True if the cache holds group 'sg_id' (else pull it). */
bool sg_cache_has_group(const struct sg_cache *, const char *sg_id);

/* The rules of group 'sg_id', sorted by rule id; '*n' is their number.
 * Valid until the cache next changes. */
const struct sg_rule *const *sg_cache_rules(const struct sg_cache *,
                                            const char *sg_id, size_t *n);

/* Forgets everything (after a reconnection). */
void sg_cache_clear(struct sg_cache *);

size_t sg_cache_n_groups(const struct sg_cache *);
size_t sg_cache_n_rules(const struct sg_cache *);

#endif /* sg-cache.h */
