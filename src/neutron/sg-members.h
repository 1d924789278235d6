/*
 * sg-members: the addresses of the members of remote security groups.
 *
 * A rule "from remote group G" lets in what comes from any address of any
 * port in G, wherever that port is, so the firewall needs G's member
 * addresses: for each port whose security_group_ids holds G, its fixed IPs
 * with the port's MAC, and its allowed address pairs with theirs (as the
 * reference's cache-backed shim lists them).  They come from Port objects:
 * a bulk_pull of the ports of G when G is first used here, then every Port
 * push (the server pushes every port of the cloud to every agent).
 *
 * Only groups that a rule of a local port names are kept ("watched"), and
 * of each port only its addresses and groups, so the memory follows the
 * membership of the groups used here, not the size of the cloud.
 *
 * Layer: Neutron state (no I/O, no logging above debug).
 */
#ifndef OVSAGENT_SG_MEMBERS_H
#define OVSAGENT_SG_MEMBERS_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;

/* One member address. */
struct sg_member {
    const char *ip;             /* Address or CIDR, as the server gives it. */
    const char *mac;
};

struct sg_members *sg_members_create(void);
void sg_members_destroy(struct sg_members *);

/* Starts or stops keeping the members of group 'sg_id'.  A newly watched
 * group has no members until its ports are pulled or pushed. */
void sg_members_watch(struct sg_members *, const char *sg_id);
void sg_members_unwatch(struct sg_members *, const char *sg_id);
bool sg_members_is_watched(const struct sg_members *, const char *sg_id);

/* Called once for each watched group whose member addresses changed. */
typedef void sg_members_changed_cb(void *aux, const char *sg_id);

/* Applies Port primitives (a push's resource_list, 'deleted' for
 * event_type "deleted", or a bulk_pull answer).  Returns the number of
 * malformed objects dropped. */
size_t sg_members_put_ports(struct sg_members *, const struct json *list,
                            bool deleted, sg_members_changed_cb *, void *aux);

/* The member addresses of 'sg_id' of one IP version, sorted by address
 * then MAC, without repeats.  Returns their number and sets '*members' to
 * an array the caller frees (not its strings, which stay valid until the
 * next change). */
size_t sg_members_get(const struct sg_members *, const char *sg_id,
                      bool ipv6, struct sg_member **members);

/* Forgets every member, keeping the watched groups (after a
 * reconnection, before pulling them again). */
void sg_members_clear(struct sg_members *);

size_t sg_members_n_ports(const struct sg_members *);

#endif /* sg-members.h */
