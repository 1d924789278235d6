/*
 * flow-table: desired vs installed flows of one bridge.  See flow-table.h.
 *
 * Both sides are hash maps of struct ft_flow keyed by (table, priority,
 * match).  The desired side also records, per owner, the set of flows the
 * owner asked for; a flow lives while at least one owner wants it.
 *
 * The difference is computed from the keys whose desired flow changed
 * since both sides last agreed ('dirty'), so that a change costs work in
 * proportion to itself, not to the table: a bridge with tens of thousands
 * of flows is asked for a diff at every wake-up of the main loop.  Only
 * after the installed side was read back or reset ('full') is every flow
 * compared, since the switch may then hold anything.
 *
 * Each desired flow carries its owner's cookie, settled when the owner is
 * first seen (a lookup among the few reserved prefixes), so a diff never
 * looks a cookie up by name; "is this cookie ours" is a scan of those few
 * reserved cookies.
 */
#include <config.h>
#include "log-safe.h"
#include "ovs/flow-table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hmapx.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "bitmap.h"
#include "byte-order.h"
#include "random.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

struct ft_flow {
    struct hmap_node node;      /* In 'desired' or 'installed'. */
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
    struct ofpact *ofpacts;
    size_t ofpacts_len;
    enum ofputil_flow_mod_flags flags;
    uint16_t idle_timeout;
    uint16_t hard_timeout;
    ovs_be64 cookie;            /* Desired: of the owner that set the
                                 * actions.  Installed: as on the switch. */
    size_t n_owners;            /* Desired flows only. */
    bool rejected;              /* Desired flows only: the switch said no. */
};

/* An owner of desired flows. */
struct ft_owner {
    struct hmapx flows;         /* Of struct ft_flow in 'desired'. */
    ovs_be64 cookie;            /* What its flows carry. */
};

/* A cookie reserved for the owners whose names start with 'prefix'. */
struct ft_reserved {
    char *prefix;
    size_t len;                 /* strlen(prefix). */
    ovs_be64 cookie;
};

/* A key whose desired flow changed: (table, priority, match). */
struct ft_key {
    struct hmap_node node;      /* In 'dirty'. */
    uint8_t table_id;
    uint16_t priority;
    struct minimatch match;
};

struct flow_table {
    char *name;
    uint64_t cookie;
    unsigned long *owned;       /* Bitmap of 256 table ids. */

    struct hmap desired;        /* Of struct ft_flow. */
    struct shash owners;        /* Owner name -> struct ft_owner. */
    uint64_t desired_seqno;

    struct ft_reserved *reserved;   /* flow_table_request_cookie()'s. */
    size_t n_reserved;

    struct hmap installed;      /* Of struct ft_flow. */
    uint64_t installed_seqno;

    struct hmap dirty;          /* Of struct ft_key. */
    bool full;                  /* Compare every flow at the next diff. */
};

static uint32_t
ft_hash(uint8_t table_id, uint16_t priority, const struct minimatch *m)
{
    return minimatch_hash(m, hash_2words(table_id, priority));
}

static struct ft_flow *
ft_find(const struct hmap *map, uint8_t table_id, uint16_t priority,
        const struct minimatch *m)
{
    struct ft_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, ft_hash(table_id, priority, m), map) {
        if (f->table_id == table_id && f->priority == priority
            && minimatch_equal(&f->match, m)) {
            return f;
        }
    }
    return NULL;
}

/* Notes that the desired flow of this key changed (appeared, went, or
 * took other actions). */
static void
ft_mark(struct flow_table *ft, uint8_t table_id, uint16_t priority,
        const struct minimatch *m)
{
    if (ft->full) {
        return;                 /* The next diff compares everything. */
    }
    uint32_t hash = ft_hash(table_id, priority, m);
    struct ft_key *k;
    HMAP_FOR_EACH_WITH_HASH (k, node, hash, &ft->dirty) {
        if (k->table_id == table_id && k->priority == priority
            && minimatch_equal(&k->match, m)) {
            return;
        }
    }
    k = xmalloc(sizeof *k);
    k->table_id = table_id;
    k->priority = priority;
    minimatch_clone(&k->match, m);
    hmap_insert(&ft->dirty, &k->node, hash);
}

static void
ft_key_remove(struct flow_table *ft, struct ft_key *k)
{
    hmap_remove(&ft->dirty, &k->node);
    minimatch_destroy(&k->match);
    free(k);
}

static void
ft_dirty_clear(struct flow_table *ft)
{
    struct ft_key *k;
    HMAP_FOR_EACH_SAFE (k, node, &ft->dirty) {
        ft_key_remove(ft, k);
    }
}

static void
ft_flow_free(struct ft_flow *f)
{
    if (f) {
        minimatch_destroy(&f->match);
        free(f->ofpacts);
        free(f);
    }
}

static void
ft_map_clear(struct hmap *map)
{
    struct ft_flow *f;
    HMAP_FOR_EACH_POP (f, node, map) {
        ft_flow_free(f);
    }
}

struct flow_table *
flow_table_create(const char *name, uint64_t cookie,
                  const uint8_t *owned_tables, size_t n_owned_tables)
{
    struct flow_table *ft = xzalloc(sizeof *ft);
    ft->name = xstrdup(name);
    ft->cookie = cookie;
    ft->owned = bitmap_allocate(256);
    for (size_t i = 0; i < n_owned_tables; i++) {
        bitmap_set1(ft->owned, owned_tables[i]);
    }
    hmap_init(&ft->desired);
    shash_init(&ft->owners);
    hmap_init(&ft->installed);
    hmap_init(&ft->dirty);
    ft->full = true;
    ft->desired_seqno = 1;
    return ft;
}

void
flow_table_destroy(struct flow_table *ft)
{
    if (!ft) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &ft->owners) {
        struct ft_owner *o = node->data;
        hmapx_destroy(&o->flows);
        free(o);
    }
    shash_destroy(&ft->owners);
    for (size_t i = 0; i < ft->n_reserved; i++) {
        free(ft->reserved[i].prefix);
    }
    free(ft->reserved);
    ft_map_clear(&ft->desired);
    hmap_destroy(&ft->desired);
    ft_map_clear(&ft->installed);
    hmap_destroy(&ft->installed);
    ft_dirty_clear(ft);
    hmap_destroy(&ft->dirty);
    bitmap_free(ft->owned);
    free(ft->name);
    free(ft);
}

uint64_t
flow_table_get_cookie(const struct flow_table *ft)
{
    return ft->cookie;
}

const char *
flow_table_get_name(const struct flow_table *ft)
{
    return ft->name;
}

/* Whether 'cookie' (network order) is the table's or a reserved one: its
 * flows are ours, never foreign. */
static bool
ft_is_ours(const struct flow_table *ft, ovs_be64 cookie)
{
    if (cookie == htonll(ft->cookie)) {
        return true;
    }
    for (size_t i = 0; i < ft->n_reserved; i++) {
        if (ft->reserved[i].cookie == cookie) {
            return true;
        }
    }
    return false;
}

/* The cookie of owner 'name': that of the longest reserved prefix it starts
 * with, or the table's. */
static ovs_be64
ft_owner_cookie(const struct flow_table *ft, const char *name)
{
    const struct ft_reserved *best = NULL;
    for (size_t i = 0; i < ft->n_reserved; i++) {
        const struct ft_reserved *r = &ft->reserved[i];
        if (!strncmp(name, r->prefix, r->len)
            && (!best || r->len > best->len)) {
            best = r;
        }
    }
    return best ? best->cookie : htonll(ft->cookie);
}

uint64_t
flow_table_request_cookie(struct flow_table *ft, const char *owner_prefix)
{
    for (size_t i = 0; i < ft->n_reserved; i++) {
        if (!strcmp(ft->reserved[i].prefix, owner_prefix)) {
            return ntohll(ft->reserved[i].cookie);
        }
    }

    /* As the reference's request_cookie(): random, never the all-ones "no
     * cookie" value, never one in use.  Nor 0, the cookie of flows added by
     * hand, which must stay foreign. */
    uint64_t cookie;
    do {
        cookie = random_uint64();
    } while (cookie == UINT64_MAX || !cookie
             || ft_is_ours(ft, htonll(cookie)));

    ft->reserved = xrealloc(ft->reserved,
                            (ft->n_reserved + 1) * sizeof *ft->reserved);
    struct ft_reserved *r = &ft->reserved[ft->n_reserved++];
    r->prefix = xstrdup(owner_prefix);
    r->len = strlen(owner_prefix);
    r->cookie = htonll(cookie);
    VLOG_DBG("%s: cookie %#"PRIx64" reserved for owners %s*", ft->name,
             cookie, log_safe(owner_prefix));

    /* Owners already seen under the prefix move to the new cookie, with the
     * flows that carried their old one. */
    struct shash_node *node;
    SHASH_FOR_EACH (node, &ft->owners) {
        struct ft_owner *o = node->data;
        ovs_be64 c = ft_owner_cookie(ft, node->name);
        if (c == o->cookie) {
            continue;
        }
        struct hmapx_node *hn;
        HMAPX_FOR_EACH (hn, &o->flows) {
            struct ft_flow *f = hn->data;
            if (f->cookie == o->cookie) {
                f->cookie = c;
                f->rejected = false;
                ft_mark(ft, f->table_id, f->priority, &f->match);
                ft->desired_seqno++;
            }
        }
        o->cookie = c;
    }
    return cookie;
}

size_t
flow_table_n_reserved(const struct flow_table *ft)
{
    return ft->n_reserved;
}

void
flow_table_format_reserved(const struct flow_table *ft, struct ds *s)
{
    for (size_t i = 0; i < ft->n_reserved; i++) {
        ds_put_format(s, "%s%#"PRIx64" (%s)", i ? ", " : "",
                      ntohll(ft->reserved[i].cookie),
                      log_safe(ft->reserved[i].prefix));
    }
}

static bool
ft_same_content(const struct ft_flow *a, const struct ft_flow *b)
{
    /* Two parses of the same actions may differ in bytes that do not
     * matter (an action's "compat" encoding, padding), so bytes that differ
     * are compared again as text before the flow is sent again. */
    return ((ofpacts_equal(a->ofpacts, a->ofpacts_len,
                           b->ofpacts, b->ofpacts_len)
             || ofpacts_equal_stringwise(a->ofpacts, a->ofpacts_len,
                                         b->ofpacts, b->ofpacts_len))
            && !((a->flags ^ b->flags) & OFPUTIL_FF_STATE)
            && a->idle_timeout == b->idle_timeout
            && a->hard_timeout == b->hard_timeout);
}

static struct ft_flow *
ft_flow_from_fm(const struct ofputil_flow_mod *fm)
{
    struct ft_flow *f = xzalloc(sizeof *f);
    f->table_id = fm->table_id;
    f->priority = fm->priority;
    minimatch_clone(&f->match, &fm->match);
    f->ofpacts = xmemdup(fm->ofpacts, fm->ofpacts_len);
    f->ofpacts_len = fm->ofpacts_len;
    f->flags = fm->flags;
    f->idle_timeout = fm->idle_timeout;
    f->hard_timeout = fm->hard_timeout;
    return f;
}

char *
flow_table_add(struct flow_table *ft, const char *owner,
               enum ofputil_flow_mod_flags flags, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);

    struct ofputil_flow_mod fm;
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(&fm, text, NULL, NULL, OFPFC_ADD,
                                         &usable);
    if (error) {
        char *msg = xasprintf("%s: bad flow \"%s\": %s", ft->name, text,
                              error);
        free(error);
        free(text);
        return msg;
    }
    free(text);
    fm.flags |= flags;

    struct ft_owner *o = shash_find_data(&ft->owners, owner);
    if (!o) {
        o = xmalloc(sizeof *o);
        hmapx_init(&o->flows);
        o->cookie = ft_owner_cookie(ft, owner);
        shash_add(&ft->owners, owner, o);
    }
    struct hmapx *set = &o->flows;

    struct ft_flow *new = ft_flow_from_fm(&fm);
    new->cookie = o->cookie;
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);

    struct ft_flow *old = ft_find(&ft->desired, new->table_id, new->priority,
                                  &new->match);
    if (!old) {
        new->n_owners = 1;
        hmap_insert(&ft->desired, &new->node,
                    ft_hash(new->table_id, new->priority, &new->match));
        hmapx_add(set, new);
        ft_mark(ft, new->table_id, new->priority, &new->match);
        ft->desired_seqno++;
    } else if (hmapx_contains(set, old)) {
        /* The owner restates a flow it already has: take the new actions,
         * which is how an owner changes a flow in place, and the owner's
         * cookie with them. */
        if (!ft_same_content(old, new)) {
            old->cookie = new->cookie;
            free(old->ofpacts);
            old->ofpacts = new->ofpacts;
            old->ofpacts_len = new->ofpacts_len;
            old->flags = new->flags;
            old->idle_timeout = new->idle_timeout;
            old->hard_timeout = new->hard_timeout;
            old->rejected = false;
            new->ofpacts = NULL;
            ft_mark(ft, old->table_id, old->priority, &old->match);
            ft->desired_seqno++;
        }
        ft_flow_free(new);
    } else {
        if (!ft_same_content(old, new)) {
            VLOG_DBG("%s: owner %s wants a flow that another owner already "
                     "has with other actions; keeping the first",
                     ft->name, log_safe(owner));
        }
        old->n_owners++;
        hmapx_add(set, old);
        ft_flow_free(new);
    }
    return NULL;
}

void
flow_table_vadd_logged(struct flow_table *ft, const char *owner,
                       enum ofputil_flow_mod_flags flags,
                       const char *format, va_list args)
{
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);
    char *text = xvasprintf(format, args);
    char *error = flow_table_add(ft, owner, flags, "%s", text);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: %s", log_safe(owner), log_safe(error));
        free(error);
    }
    free(text);
}

void
flow_table_clear_owner(struct flow_table *ft, const char *owner)
{
    struct ft_owner *o = shash_find_and_delete(&ft->owners, owner);
    if (!o) {
        return;
    }
    struct hmapx_node *hn;
    HMAPX_FOR_EACH (hn, &o->flows) {
        struct ft_flow *f = hn->data;
        if (!--f->n_owners) {
            hmap_remove(&ft->desired, &f->node);
            ft_mark(ft, f->table_id, f->priority, &f->match);
            ft_flow_free(f);
            ft->desired_seqno++;
        }
    }
    hmapx_destroy(&o->flows);
    free(o);
}

uint64_t
flow_table_desired_seqno(const struct flow_table *ft)
{
    return ft->desired_seqno;
}

size_t
flow_table_n_desired(const struct flow_table *ft)
{
    return hmap_count(&ft->desired);
}

void
flow_table_installed_reset(struct flow_table *ft)
{
    ft_map_clear(&ft->installed);
    ft->installed_seqno = 0;
    ft->full = true;
    ft_dirty_clear(ft);
}

void
flow_table_installed_set_empty(struct flow_table *ft)
{
    flow_table_installed_reset(ft);
}

void
flow_table_installed_add(struct flow_table *ft,
                         const struct ofputil_flow_stats *fs)
{
    struct ft_flow *f = xzalloc(sizeof *f);
    f->table_id = fs->table_id;
    f->priority = fs->priority;
    minimatch_init(&f->match, &fs->match);
    f->ofpacts = xmemdup(fs->ofpacts, fs->ofpacts_len);
    f->ofpacts_len = fs->ofpacts_len;
    f->flags = fs->flags;
    f->idle_timeout = fs->idle_timeout;
    f->hard_timeout = fs->hard_timeout;
    f->cookie = fs->cookie;
    ft->full = true;

    /* A dump never holds the same key twice, but be safe: keep the last. */
    struct ft_flow *old = ft_find(&ft->installed, f->table_id, f->priority,
                                  &f->match);
    if (old) {
        hmap_remove(&ft->installed, &old->node);
        ft_flow_free(old);
    }
    hmap_insert(&ft->installed, &f->node,
                ft_hash(f->table_id, f->priority, &f->match));
}

size_t
flow_table_n_installed(const struct flow_table *ft)
{
    return hmap_count(&ft->installed);
}

uint64_t
flow_table_installed_seqno(const struct flow_table *ft)
{
    return ft->installed_seqno;
}

/* Appends to 'batch' a flow_mod with 'command' for flow 'f'. */
static void
ft_batch_append(struct flow_batch *batch, const struct flow_table *ft,
                const struct ft_flow *f, uint16_t command)
{
    struct ofputil_flow_mod *fm = xzalloc(sizeof *fm);
    minimatch_clone(&fm->match, &f->match);
    fm->priority = f->priority;
    fm->table_id = f->table_id;
    fm->command = command;
    fm->buffer_id = UINT32_MAX;
    fm->out_port = OFPP_ANY;
    fm->out_group = OFPG_ANY;
    if (command == OFPFC_ADD) {
        fm->cookie = htonll(0);
        fm->cookie_mask = htonll(0);
        fm->new_cookie = f->cookie;
        fm->flags = f->flags;
        fm->idle_timeout = f->idle_timeout;
        fm->hard_timeout = f->hard_timeout;
        fm->ofpacts = xmemdup(f->ofpacts, f->ofpacts_len);
        fm->ofpacts_len = f->ofpacts_len;
    } else {
        fm->cookie = f->cookie;
        fm->cookie_mask = OVS_BE64_MAX;
        fm->new_cookie = OVS_BE64_MAX;
    }
    ovs_list_push_back(&batch->fms, &fm->list_node);
    batch->n++;
}

/* Appends a delete of every flow, in any table, that carries 'cookie'. */
static void
ft_batch_append_cookie_delete(struct flow_batch *batch, ovs_be64 cookie)
{
    struct ofputil_flow_mod *fm = xzalloc(sizeof *fm);
    struct match match;
    match_init_catchall(&match);
    minimatch_init(&fm->match, &match);
    fm->table_id = OFPTT_ALL;
    fm->command = OFPFC_DELETE;
    fm->cookie = cookie;
    fm->cookie_mask = OVS_BE64_MAX;
    fm->new_cookie = OVS_BE64_MAX;
    fm->buffer_id = UINT32_MAX;
    fm->out_port = OFPP_ANY;
    fm->out_group = OFPG_ANY;
    ovs_list_push_back(&batch->fms, &fm->list_node);
    batch->n++;
}

static void
ft_fm_free(struct ofputil_flow_mod *fm)
{
    minimatch_destroy(&fm->match);
    free(fm->ofpacts);
    free(fm);
}

/* Whether installed flow 'i' (or its absence) is what desired flow 'd'
 * (or its absence) asks for: the same content under the desired cookie.
 * A rejected flow is left as it is, and so is a foreign one with no desired
 * flow (the deletes by cookie take it). */
static bool
ft_agrees(const struct flow_table *ft, const struct ft_flow *d,
          const struct ft_flow *i)
{
    if (d) {
        return d->rejected || (i && i->cookie == d->cookie
                               && ft_same_content(d, i));
    }
    return !i || !ft_is_ours(ft, i->cookie);
}

/* The incremental diff: only the keys in 'dirty'.  Adds first, then
 * deletes, as in the full diff below; a key found in agreement is done
 * with. */
static void
ft_diff_dirty(struct flow_table *ft, struct flow_batch *batch, size_t max)
{
    struct ft_key *k;
    for (int deletes = 0; deletes < 2; deletes++) {
        HMAP_FOR_EACH_SAFE (k, node, &ft->dirty) {
            struct ft_flow *d = ft_find(&ft->desired, k->table_id,
                                        k->priority, &k->match);
            struct ft_flow *i = ft_find(&ft->installed, k->table_id,
                                        k->priority, &k->match);
            if (ft_agrees(ft, d, i)) {
                ft_key_remove(ft, k);
                continue;
            }
            bool is_delete = !d;
            if (is_delete != (deletes == 1)) {
                continue;       /* Not in this pass. */
            }
            if (batch->n >= max) {
                batch->last = false;
                return;
            }
            ft_batch_append(batch, ft, d ? d : i,
                            d ? OFPFC_ADD : OFPFC_DELETE_STRICT);
        }
    }
}

struct flow_batch *
flow_table_diff(struct flow_table *ft, size_t max)
{
    struct flow_batch *batch = xzalloc(sizeof *batch);
    ovs_list_init(&batch->fms);
    batch->seqno = ft->desired_seqno;
    batch->last = true;
    struct ft_flow *f;

    if (!ft->full) {
        ft_diff_dirty(ft, batch, max);
        goto done;
    }

    /* Missing or different flows.  An add replaces a flow with the same key
     * whatever its cookie, so a previous run's flow becomes ours in place,
     * under the cookie its owner has in this run. */
    HMAP_FOR_EACH (f, node, &ft->desired) {
        if (f->rejected) {
            continue;
        }
        struct ft_flow *i = ft_find(&ft->installed, f->table_id, f->priority,
                                    &f->match);
        if (!i || i->cookie != f->cookie || !ft_same_content(f, i)) {
            if (batch->n >= max) {
                batch->last = false;
                goto done;
            }
            ft_batch_append(batch, ft, f, OFPFC_ADD);
        }
    }

    /* Our own flows (the table's cookie or a reserved one) that nobody
     * wants any more, after the adds: a change too large for one bundle
     * then makes before it breaks (a removed flow never has a key that is
     * desired, so order does not matter within a bundle). */
    HMAP_FOR_EACH (f, node, &ft->installed) {
        if (ft_is_ours(ft, f->cookie)
            && !ft_find(&ft->desired, f->table_id, f->priority, &f->match)) {
            if (batch->n >= max) {
                batch->last = false;
                goto done;
            }
            ft_batch_append(batch, ft, f, OFPFC_DELETE_STRICT);
        }
    }

    /* Foreign cookies in the tables we own, once all our flows are in: the
     * previous run's (the agent's and its extensions'), and any other.  A
     * batch of our own changes is not the last while any remain. */
    if (batch->n) {
        HMAP_FOR_EACH (f, node, &ft->installed) {
            if (bitmap_is_set(ft->owned, f->table_id)
                && !ft_is_ours(ft, f->cookie)) {
                batch->last = false;
                break;
            }
        }
    } else {
        struct hmapx seen = HMAPX_INITIALIZER(&seen);
        HMAP_FOR_EACH (f, node, &ft->installed) {
            if (bitmap_is_set(ft->owned, f->table_id)
                && !ft_is_ours(ft, f->cookie)
                && !hmapx_contains(&seen, (void *) (uintptr_t) f->cookie)) {
                if (batch->n >= max) {
                    batch->last = false;
                    break;
                }
                hmapx_add(&seen, (void *) (uintptr_t) f->cookie);
                ft_batch_append_cookie_delete(batch, f->cookie);
            }
        }
        hmapx_destroy(&seen);
    }

done:
    if (!batch->n) {
        ft->installed_seqno = batch->seqno;
        if (ft->full) {
            /* Both sides agree on every flow: from now on only changes
             * are compared. */
            ft->full = false;
            ft_dirty_clear(ft);
        }
        free(batch);
        return NULL;
    }
    return batch;
}

/* Applies one acknowledged flow_mod to the installed state. */
static void
ft_installed_apply(struct flow_table *ft, const struct ofputil_flow_mod *fm)
{
    struct ft_flow *f, *next;

    switch (fm->command) {
    case OFPFC_ADD:
        f = ft_find(&ft->installed, fm->table_id, fm->priority, &fm->match);
        if (f) {
            hmap_remove(&ft->installed, &f->node);
            ft_flow_free(f);
        }
        f = ft_flow_from_fm(fm);
        f->cookie = fm->new_cookie;
        hmap_insert(&ft->installed, &f->node,
                    ft_hash(f->table_id, f->priority, &f->match));
        break;

    case OFPFC_DELETE_STRICT:
        f = ft_find(&ft->installed, fm->table_id, fm->priority, &fm->match);
        if (f) {
            hmap_remove(&ft->installed, &f->node);
            ft_flow_free(f);
        }
        break;

    case OFPFC_DELETE:
        HMAP_FOR_EACH_SAFE (f, next, node, &ft->installed) {
            if (f->cookie == fm->cookie) {
                hmap_remove(&ft->installed, &f->node);
                ft_flow_free(f);
            }
        }
        break;

    default:
        OVS_NOT_REACHED();
    }
}

void
flow_batch_done(struct flow_table *ft, struct flow_batch *batch, bool success)
{
    if (!batch) {
        return;
    }
    struct ofputil_flow_mod *fm;
    LIST_FOR_EACH_POP (fm, list_node, &batch->fms) {
        if (success) {
            ft_installed_apply(ft, fm);
        }
        ft_fm_free(fm);
    }
    if (success && batch->last) {
        ft->installed_seqno = batch->seqno;
        if (!ft->full && batch->seqno == ft->desired_seqno) {
            /* Nothing changed since the diff, which covered every dirty
             * key: they all agree now. */
            ft_dirty_clear(ft);
        }
    }
    free(batch);
}

void
flow_table_reject(struct flow_table *ft, const struct ofputil_flow_mod *fm)
{
    if (fm->command != OFPFC_ADD) {
        return;
    }
    struct ft_flow *f = ft_find(&ft->desired, fm->table_id, fm->priority,
                                &fm->match);
    if (f) {
        f->rejected = true;
    }
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

uint32_t
flow_table_installed_max_conj_id(const struct flow_table *ft,
                                 const uint8_t *tables, size_t n_tables)
{
    uint32_t max = 0;
    const struct ft_flow *f;
    HMAP_FOR_EACH (f, node, &ft->installed) {
        if (!memchr(tables, f->table_id, n_tables)) {
            continue;
        }
        struct match m;
        minimatch_expand(&f->match, &m);
        if (m.wc.masks.conj_id && m.flow.conj_id > max) {
            max = m.flow.conj_id;
        }
    }
    return max;
}

void
flow_table_format_desired(const struct flow_table *ft, struct ds *out)
{
    size_t n = hmap_count(&ft->desired), i = 0;
    char **lines = xmalloc((n ? n : 1) * sizeof *lines);
    const struct ft_flow *f;

    HMAP_FOR_EACH (f, node, &ft->desired) {
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "table=%"PRIu8", ", f->table_id);
        if (f->flags & OFPUTIL_FF_RESET_COUNTS) {
            ds_put_cstr(&s, "reset_counts ");
        }
        minimatch_format(&f->match, NULL, NULL, &s, f->priority);
        ds_put_cstr(&s, " actions=");
        struct ofpact_format_params fp = { .s = &s };
        ofpacts_format(f->ofpacts, f->ofpacts_len, &fp);
        if (f->rejected) {
            ds_put_cstr(&s, " (rejected by the switch)");
        }
        lines[i++] = ds_steal_cstr(&s);
    }
    qsort(lines, n, sizeof *lines, compare_strings);
    for (i = 0; i < n; i++) {
        ds_put_format(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
}
