/*
 * address-groups: the server's address groups, the remotes of rules that
 * name a remote_address_group_id.
 *
 * Fed by bulk_pull answers and neutron-vo-AddressGroup-1.2 pushes, as the
 * reference's resource cache is.  Each group is a set of CIDRs; a rule
 * whose remote is the group admits (or reaches) any of them.
 *
 * Layer: Neutron state (no I/O, no logging above debug).
 */
#ifndef OVSAGENT_ADDRESS_GROUPS_H
#define OVSAGENT_ADDRESS_GROUPS_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;

#define ADDRESS_GROUPS_VERSION "1.2"

struct address_groups *address_groups_create(void);
void address_groups_destroy(struct address_groups *);

/* Called with the id of each group whose addresses changed or that was
 * deleted. */
typedef void address_groups_changed_cb(void *aux, const char *ag_id);

/* Applies AddressGroup primitives (a push's resource_list or a bulk_pull
 * answer; 'deleted' for event_type "deleted").  An object older than the
 * one held (by revision_number) is ignored.  Returns the number of
 * malformed objects dropped. */
size_t address_groups_put(struct address_groups *, const struct json *list,
                          bool deleted, address_groups_changed_cb *,
                          void *aux);

bool address_groups_has(const struct address_groups *, const char *ag_id);

/* The addresses of group 'ag_id' of one IP version, sorted.  Returns their
 * number and sets '*addrs' to an array the caller frees (not its strings,
 * valid until the next change). */
size_t address_groups_get(const struct address_groups *, const char *ag_id,
                          bool ipv6, const char ***addrs);

void address_groups_clear(struct address_groups *);
size_t address_groups_count(const struct address_groups *);

#endif /* address-groups.h */
