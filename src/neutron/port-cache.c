/*
 * port-cache: Port objects of this host's ports and the details computed
 * from them.  See port-cache.h.
 */
#include <config.h>
#include "neutron/port-cache.h"

#include <string.h>

#include "hash.h"
#include "json-util.h"
#include "neutron/device-details.h"
#include "neutron/ovo.h"
#include "openvswitch/hmap.h"
#include "openvswitch/json.h"
#include "util.h"

struct port_entry {
    struct hmap_node node;      /* In 'ports', by hash of 'id'. */
    char *id;
    int64_t revision;           /* -1: not from a Port object. */
    bool deleted;               /* Deleted on the server: a tombstone. */
    struct device_details dd;   /* dd.found false if deleted or absent. */
};

struct port_cache {
    char *host;
    struct hmap ports;
};

struct port_cache *
port_cache_create(const char *host)
{
    struct port_cache *pc = xzalloc(sizeof *pc);
    pc->host = xstrdup(host);
    hmap_init(&pc->ports);
    return pc;
}

static void
entry_free(struct port_entry *e)
{
    free(e->id);
    device_details_destroy(&e->dd);
    free(e);
}

void
port_cache_clear(struct port_cache *pc)
{
    struct port_entry *e;
    HMAP_FOR_EACH_POP (e, node, &pc->ports) {
        entry_free(e);
    }
}

void
port_cache_destroy(struct port_cache *pc)
{
    if (pc) {
        port_cache_clear(pc);
        hmap_destroy(&pc->ports);
        free(pc->host);
        free(pc);
    }
}

size_t
port_cache_count(const struct port_cache *pc)
{
    return hmap_count(&pc->ports);
}

static struct port_entry *
entry_find(const struct port_cache *pc, const char *id)
{
    struct port_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_string(id, 0), &pc->ports) {
        if (!strcmp(e->id, id)) {
            return e;
        }
    }
    return NULL;
}

static struct port_entry *
entry_get(struct port_cache *pc, const char *id)
{
    struct port_entry *e = entry_find(pc, id);
    if (!e) {
        e = xzalloc(sizeof *e);
        e->id = xstrdup(id);
        e->revision = -1;
        e->dd.device = xstrdup(id);
        e->dd.segmentation_id = -1;
        hmap_insert(&pc->ports, &e->node, hash_string(id, 0));
    }
    return e;
}

/* Makes 'e' a tombstone, so that a late update cannot revive it. */
static void
entry_bury(struct port_entry *e)
{
    e->deleted = true;
    device_details_destroy(&e->dd);
    e->dd.device = xstrdup(e->id);
    e->dd.segmentation_id = -1;
}

bool
port_cache_details(const struct port_cache *pc, const char *id,
                   struct device_details *dd)
{
    const struct port_entry *e = entry_find(pc, id);
    if (!e) {
        return false;
    }
    device_details_clone(dd, &e->dd);
    return true;
}

void
port_cache_forget_network(struct port_cache *pc, const char *net_id)
{
    struct port_entry *e;
    HMAP_FOR_EACH_SAFE (e, node, &pc->ports) {
        if (e->dd.network_id && !strcmp(e->dd.network_id, net_id)) {
            hmap_remove(&pc->ports, &e->node);
            entry_free(e);
        }
    }
}

/* Codec. */

static void
put_string(struct json *obj, const char *name, const char *s)
{
    json_object_put(obj, name, s ? json_string_create(s) : json_null_create());
}

char *
port_cache_details_from_ovo(const struct json *primitive, const char *host,
                            struct device_details *dd, int64_t *revision)
{
    memset(dd, 0, sizeof *dd);
    const struct json *port = ovo_data(primitive, "Port");
    const char *id = json_member_string(port, "id");
    if (!id) {
        return xstrdup("not a Port object with an id");
    }
    *revision = ovo_member_int(port, "revision_number", -1);

    /* The segment of the highest binding level is the one to wire. */
    const struct json *levels = json_member(port, "binding_levels");
    const struct json *segment = NULL;
    int64_t top = -1;
    for (size_t i = 0; i < ovo_array_n(levels); i++) {
        const struct json *level = ovo_data(ovo_array_at(levels, i),
                                            "PortBindingLevel");
        int64_t n = ovo_member_int(level, "level", 0);
        const struct json *seg = ovo_data(json_member(level, "segment"),
                                          "NetworkSegment");
        if (level && n > top) {
            top = n;
            segment = seg;
        }
    }
    const struct json *active = NULL;
    const struct json *bindings = json_member(port, "bindings");
    for (size_t i = 0; i < ovo_array_n(bindings); i++) {
        const struct json *b = ovo_data(ovo_array_at(bindings, i),
                                        "PortBinding");
        const char *status = json_member_string(b, "status");
        if (status && !strcmp(status, "ACTIVE")) {
            active = b;
        }
    }

    /* The server's answer to the classic details call, built from the
     * object, decoded by the same code as that answer. */
    struct json *d = json_object_create();
    json_object_put_string(d, "device", id);
    const char *owner = json_member_string(port, "device_owner");
    const char *bound_host = json_member_string(active, "host");
    if (!segment || !active) {
        /* Unbound, or bound to no segment: unknown here. */
    } else if (owner && !strncmp(owner, "compute:", 8)
               && (!bound_host || strcmp(bound_host, host))) {
        json_object_put(d, "no_active_binding", json_boolean_create(true));
    } else {
        put_string(d, "port_id", id);
        put_string(d, "network_id", json_member_string(port, "network_id"));
        put_string(d, "mac_address", json_member_string(port, "mac_address"));
        json_object_put(d, "admin_state_up", json_boolean_create(
                            json_member_bool(port, "admin_state_up", true)));
        put_string(d, "device_owner", owner);
        put_string(d, "network_type",
                   json_member_string(segment, "network_type"));
        put_string(d, "physical_network",
                   json_member_string(segment, "physical_network"));
        int64_t seg = ovo_member_int(segment, "segmentation_id", -1);
        json_object_put(d, "segmentation_id", seg >= 0
                        ? json_integer_create(seg) : json_null_create());

        struct json *ips = json_array_create_empty();
        const struct json *fixed = json_member(port, "fixed_ips");
        for (size_t i = 0; i < ovo_array_n(fixed); i++) {
            const struct json *a = ovo_data(ovo_array_at(fixed, i),
                                            "IPAllocation");
            const char *ip = json_member_string(a, "ip_address");
            if (ip) {
                struct json *o = json_object_create();
                json_object_put_string(o, "ip_address", ip);
                json_array_add(ips, o);
            }
        }
        json_object_put(d, "fixed_ips", ips);

        struct json *pairs = json_array_create_empty();
        const struct json *aap = json_member(port, "allowed_address_pairs");
        for (size_t i = 0; i < ovo_array_n(aap); i++) {
            const struct json *a = ovo_data(ovo_array_at(aap, i),
                                            "AllowedAddressPair");
            const char *ip = json_member_string(a, "ip_address");
            if (ip) {
                struct json *o = json_object_create();
                json_object_put_string(o, "ip_address", ip);
                put_string(o, "mac_address",
                           json_member_string(a, "mac_address"));
                json_array_add(pairs, o);
            }
        }
        json_object_put(d, "allowed_address_pairs", pairs);

        const struct json *sgs = json_member(port, "security_group_ids");
        json_object_put(d, "security_groups",
                        sgs && sgs->type == JSON_ARRAY
                        ? json_clone(sgs) : json_array_create_empty());

        const struct json *sec = ovo_data(json_member(port, "security"),
                                          "PortSecurity");
        json_object_put(d, "port_security_enabled", json_boolean_create(
                            json_member_bool(sec, "port_security_enabled",
                                             true)));
    }
    char *error = device_details_from_json(d, dd);
    json_destroy(d);
    return error;
}

/* Applying objects. */

/* True if 'primitive' concerns this host: one of its bindings names it. */
static bool
bound_here(const struct json *primitive, const char *host)
{
    const struct json *bindings = json_member(
        json_member(primitive, "versioned_object.data"), "bindings");
    for (size_t i = 0; i < ovo_array_n(bindings); i++) {
        const char *h = json_member_string(
            ovo_data(ovo_array_at(bindings, i), "PortBinding"), "host");
        if (h && !strcmp(h, host)) {
            return true;
        }
    }
    return false;
}

static bool
details_same(const struct device_details *a, const struct device_details *b)
{
    return (a->no_active_binding == b->no_active_binding
            && device_details_equal(a, b));
}

/* Caches one Port primitive.  'keep' forces it in even if it does not
 * concern this host (a pull answer).  Returns false if malformed. */
static bool
apply_one(struct port_cache *pc, const struct json *primitive, bool keep,
          port_cache_changed_cb *cb, void *aux)
{
    struct device_details dd;
    int64_t revision;
    char *error = port_cache_details_from_ovo(primitive, pc->host, &dd,
                                              &revision);
    if (error) {
        free(error);
        return false;
    }
    struct port_entry *e = entry_find(pc, dd.device);
    if (!e && !keep && !bound_here(primitive, pc->host)) {
        device_details_destroy(&dd);
        return true;
    }
    if (e && (e->deleted || (revision >= 0 && revision < e->revision))) {
        device_details_destroy(&dd);
        return true;
    }
    e = entry_get(pc, dd.device);
    e->revision = revision;
    if (details_same(&e->dd, &dd) && e->dd.device) {
        device_details_destroy(&dd);
        return true;
    }
    device_details_destroy(&e->dd);
    e->dd = dd;
    if (cb) {
        cb(aux, e->id, false);
    }
    return true;
}

size_t
port_cache_push(struct port_cache *pc, const struct json *list, bool deleted,
                port_cache_changed_cb *cb, void *aux)
{
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(list); i++) {
        const struct json *primitive = ovo_array_at(list, i);
        if (!deleted) {
            n_bad += !apply_one(pc, primitive, false, cb, aux);
            continue;
        }
        const char *id = json_member_string(ovo_data(primitive, "Port"),
                                            "id");
        if (!id) {
            n_bad++;
            continue;
        }
        struct port_entry *e = entry_find(pc, id);
        if (e && !e->deleted) {
            entry_bury(e);
            if (cb) {
                cb(aux, id, true);
            }
        }
    }
    return n_bad;
}

bool
port_cache_mark_deleted(struct port_cache *pc, const char *id)
{
    struct port_entry *e = entry_get(pc, id);
    if (e->deleted) {
        return false;
    }
    entry_bury(e);
    return true;
}

size_t
port_cache_pulled(struct port_cache *pc, const char *const *asked,
                  size_t n_asked, const struct json *result)
{
    size_t n_bad = 0;
    for (size_t i = 0; i < ovo_array_n(result); i++) {
        n_bad += !apply_one(pc, ovo_array_at(result, i), true, NULL, NULL);
    }
    for (size_t i = 0; i < n_asked; i++) {
        /* Not in the answer: the server has no such port.  A push will
         * tell when it has. */
        entry_get(pc, asked[i]);
    }
    return n_bad;
}
