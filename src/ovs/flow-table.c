/*
 * flow-table: desired vs installed flows of one bridge.  See flow-table.h.
 *
 * One map, 'flows', holds every key (table, priority, match) that is
 * desired, installed or both, as one struct ft_flow, a single allocation:
 * both sides share the key, and each keeps only what it needs.  The match
 * and the actions are kept in the compact encodings of flow-codec.h, and
 * decoded again only for a flow_mod or a listing.  The desired side adds
 * the actions, the flags and timeouts, the cookie and the owners.  The
 * installed side adds only what the diff needs: the cookie the switch
 * holds (as an index) and a 64-bit hash of the rest (ft_flow_hash()).  An
 * installed flow that nobody wants keeps its key: its strict delete needs
 * the match.  A key that is neither desired nor installed is freed, unless
 * it is in 'dirty' (below), which frees it once done with it.  The
 * actions of an owner's flows are kept as deltas of a template, the
 * encoded actions of its first flow ('tmpl'): the flows of one owner tend
 * to differ in an address or a port.  br-tun's FDB flows cost about 140
 * bytes each, desired and installed (tests/tools/flow-mem), where a
 * minimatch and a struct ofpact array for each side took a kilobyte.
 *
 * Owners: every desired flow has a first owner, linked through the flow
 * itself ('ref'), so that the usual flow, wanted by one owner, costs no
 * allocation of its own for it.  The further owners of a shared flow are
 * struct ft_xref's, found from the flow through 'xrefs'.  An owner keeps
 * the lists of both, so that clearing it costs in proportion to its flows.
 *
 * The difference is computed from the keys whose desired flow changed
 * since both sides last agreed ('dirty', an array, with FT_DIRTY in each
 * such flow), so that a change costs work in proportion to itself, not to
 * the table: a bridge with tens of thousands of flows is asked for a diff
 * at every wake-up of the main loop.  After the installed side was read
 * back or reset ('full'), the next diff compares every key once and puts
 * those that disagree into 'dirty'.
 *
 * Each desired flow carries its owner's cookie, as an index (ft_cookie():
 * the table's, or a reserved one), settled when the owner is first seen,
 * so a diff never looks a cookie up by name.  An installed flow carries
 * its cookie as an index too: one of ours, or one of the few distinct
 * foreign cookies a read back found ('foreign').
 */
#include <config.h>
#include "log-safe.h"
#include "ovs/flow-table.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "byte-order.h"
#include "hash.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-protocol.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/types.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-codec.h"
#include "random.h"
#include "simap.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_table);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(5, 20);

struct ft_owner;

/* A flow's first owner. */
struct ft_ref {
    struct ovs_list owner_node; /* In 'owner->refs'. */
    struct ft_owner *owner;     /* NULL: the flow is not desired. */
};

/* Bits of struct ft_flow's 'state'. */
enum {
    FT_INSTALLED = 1 << 0,      /* The switch holds the key. */
    FT_REJECTED = 1 << 1,       /* Desired, and the switch refused it. */
    FT_DIRTY = 1 << 2,          /* In 'dirty'. */
    FT_SHARED = 1 << 3,         /* Has further owners, in 'xrefs'. */
    FT_NATIVE = 1 << 4,         /* The actions are a struct ofpact array,
                                 * not their OpenFlow 1.3 encoding. */
    FT_DELTA = 1 << 5,          /* The actions are a delta of a template's:
                                 * a struct ft_tmpl pointer, then
                                 * flow_codec_put_delta()'s bytes. */
};

/* Encoded actions that the flows of an owner are kept as deltas of: the
 * first of its flows' (an owner's flows tend to differ in an address or a
 * port), shared by reference counting. */
struct ft_tmpl {
    unsigned int refcount;
    uint16_t len;
    uint8_t data[];
};

/* Cookie indexes.  Desired flows and owners have one of ours: 0 for the
 * table's cookie, i for reserved[i - 1].  An installed flow may also have
 * a foreign one: FT_FOREIGN + i for foreign[i], or FT_FOREIGN_UNKNOWN once
 * 'foreign' is full (such a flow is deleted strictly, by its match). */
#define FT_MAX_RESERVED 0x7e
#define FT_FOREIGN 0x80
#define FT_MAX_FOREIGN 0x7f
#define FT_FOREIGN_UNKNOWN 0xff

/* A key, desired or installed or both: 64 bytes, then the key and the
 * desired actions, in one allocation. */
struct ft_flow {
    struct hmap_node node;      /* In 'flows', by the key's hash. */
    struct ft_ref ref;          /* Desired if 'ref.owner'. */
    uint64_t installed_hash;    /* ft_flow_hash() of the installed flow. */
    uint16_t priority;
    uint16_t key_len;           /* Bytes of NXM at 'data', before padding. */
    uint16_t acts_len;          /* Bytes of actions after the key. */
    uint16_t idle_timeout;      /* Desired. */
    uint16_t hard_timeout;      /* Desired. */
    uint8_t table_id;
    uint8_t flags;              /* Desired: enum ofputil_flow_mod_flags. */
    uint8_t cookie;             /* Desired: the cookie index of the owner
                                 * that set the actions. */
    uint8_t installed_cookie;   /* The cookie index, if FT_INSTALLED. */
    uint8_t state;              /* FT_*. */

    /* The match (flow_codec_put_match()), zero-padded to 8 bytes; then, if
     * desired, the actions: flow_codec_put_actions()'s encoding, a delta
     * of it (FT_DELTA), or a struct ofpact array (FT_NATIVE).  Undesired,
     * a flow keeps the room of the actions it had, until it goes or is
     * desired again. */
    uint64_t data[];
};
BUILD_ASSERT_DECL(sizeof(struct ft_flow) == 64);

/* A further owner of a shared flow. */
struct ft_xref {
    struct hmap_node node;      /* In 'xrefs', by hash_pointer(flow). */
    struct ovs_list owner_node; /* In 'owner->xrefs'. */
    struct ft_owner *owner;
    struct ft_flow *flow;
};

/* An owner of desired flows. */
struct ft_owner {
    struct hmap_node node;      /* In 'owners', by hash_string(name). */
    struct ovs_list refs;       /* Flows it owns first, by 'ref.owner_node'. */
    struct ovs_list xrefs;      /* Of struct ft_xref: flows it shares. */
    uint8_t cookie;             /* The cookie index of its flows. */
    struct ft_tmpl *tmpl;       /* A reference, or NULL until it has a flow
                                 * with encoded actions. */
    char name[];                /* Owned, with the struct. */
};

/* A cookie reserved for the owners whose names start with 'prefix'. */
struct ft_reserved {
    char *prefix;
    size_t len;                 /* strlen(prefix). */
    ovs_be64 cookie;
};

struct flow_table {
    char *name;
    uint64_t cookie;
    unsigned long *owned;       /* Bitmap of 256 table ids. */

    struct hmap flows;          /* Of struct ft_flow. */
    size_t n_desired;
    size_t n_installed;
    struct hmap owners;         /* Of struct ft_owner. */
    struct hmap xrefs;          /* Of struct ft_xref. */
    uint64_t desired_seqno;

    /* flow_table_request_cookie()'s, FT_MAX_RESERVED at most. */
    struct ft_reserved *reserved;
    size_t n_reserved;

    uint64_t installed_seqno;
    bool sweep;                 /* Flows were read back: some may carry
                                 * foreign cookies, to be deleted. */
    ovs_be64 foreign[FT_MAX_FOREIGN]; /* Foreign cookies read back. */
    size_t n_foreign;

    struct flow_codec *codec;   /* Which actions to keep encoded. */

    struct ft_flow **dirty;     /* Keys whose desired flow changed. */
    size_t n_dirty, allocated_dirty;
    bool full;                  /* Compare every key at the next diff. */
};

/* Keys. */

/* A key being looked up: its NXM in 'buf'. */
struct ft_key {
    uint8_t table_id;
    uint16_t priority;
    size_t len;                 /* Bytes of NXM, before padding. */
    uint32_t hash;
    struct ofpbuf buf;
    uint64_t stub[512 / 8];
};

/* Initializes 'k' as the key of 'match' (which it modifies). */
static void
ft_key_init__(struct ft_key *k, uint8_t table_id, uint16_t priority,
              struct match *match)
{
    k->table_id = table_id;
    k->priority = priority;
    ofpbuf_use_stub(&k->buf, k->stub, sizeof k->stub);
    k->len = flow_codec_put_match(&k->buf, match);
    k->hash = hash_bytes(k->buf.data, k->len,
                         hash_2words(table_id, priority));
}

static void
ft_key_init(struct ft_key *k, uint8_t table_id, uint16_t priority,
            const struct match *match)
{
    struct match m = *match;
    ft_key_init__(k, table_id, priority, &m);
}

static void
ft_key_init_mini(struct ft_key *k, uint8_t table_id, uint16_t priority,
                 const struct minimatch *mm)
{
    struct match m;
    minimatch_expand(mm, &m);
    ft_key_init__(k, table_id, priority, &m);
}

static void
ft_key_uninit(struct ft_key *k)
{
    ofpbuf_uninit(&k->buf);
}

/* Decodes the match of 'f' into 'match'.  Returns false if it does not
 * decode, which only a bug would cause. */
static bool
ft_flow_match(const struct ft_flow *f, struct match *match)
{
    enum ofperr error = flow_codec_get_match(f->data, f->key_len, match);
    if (error) {
        VLOG_ERR_RL(&rl, "flow in table %"PRIu8" priority %"PRIu16": its "
                    "match does not decode (%s)", f->table_id, f->priority,
                    ofperr_to_string(error));
        return false;
    }
    return true;
}

static struct ft_flow *
ft_find(const struct flow_table *ft, const struct ft_key *k)
{
    struct ft_flow *f;
    HMAP_FOR_EACH_WITH_HASH (f, node, k->hash, &ft->flows) {
        if (f->table_id == k->table_id && f->priority == k->priority
            && f->key_len == k->len && !memcmp(f->data, k->buf.data, k->len)) {
            return f;
        }
    }
    return NULL;
}

/* Returns the flow of key 'k', created (neither desired nor installed) if
 * there is none. */
static struct ft_flow *
ft_find_or_create(struct flow_table *ft, const struct ft_key *k)
{
    struct ft_flow *f = ft_find(ft, k);
    if (!f) {
        size_t padded = ROUND_UP(k->len, 8);
        f = xzalloc(sizeof *f + padded);
        f->table_id = k->table_id;
        f->priority = k->priority;
        f->key_len = k->len;
        memcpy(f->data, k->buf.data, padded);
        hmap_insert(&ft->flows, &f->node, k->hash);
    }
    return f;
}

/* Frees 'f' if nothing needs it any more. */
static void
ft_flow_gc(struct flow_table *ft, struct ft_flow *f)
{
    if (!f->ref.owner && !(f->state & (FT_INSTALLED | FT_DIRTY))) {
        hmap_remove(&ft->flows, &f->node);
        free(f);
    }
}

/* The actions of desired flow 'f'. */
static void *
ft_flow_acts(const struct ft_flow *f)
{
    return (char *) f->data + ROUND_UP(f->key_len, 8);
}

static struct ft_tmpl *
ft_tmpl_create(const void *data, size_t len)
{
    struct ft_tmpl *t = xmalloc(sizeof *t + len);
    t->refcount = 1;
    t->len = len;
    memcpy(t->data, data, len);
    return t;
}

static struct ft_tmpl *
ft_tmpl_ref(struct ft_tmpl *t)
{
    ovs_assert(t->refcount > 0);
    t->refcount++;
    return t;
}

static void
ft_tmpl_unref(struct ft_tmpl *t)
{
    if (t) {
        ovs_assert(t->refcount > 0);
        if (!--t->refcount) {
            free(t);
        }
    }
}

/* The template of desired flow 'f', which has FT_DELTA. */
static struct ft_tmpl *
ft_flow_tmpl(const struct ft_flow *f)
{
    struct ft_tmpl *t;
    memcpy(&t, ft_flow_acts(f), sizeof t);
    return t;
}

/* Releases what the actions of 'f' hold: its template. */
static void
ft_flow_release(struct ft_flow *f)
{
    if (f->state & FT_DELTA) {
        ft_tmpl_unref(ft_flow_tmpl(f));
        f->state &= ~FT_DELTA;
    }
}

/* Appends to 'b' the actions of desired flow 'f' encoded, as
 * flow_codec_put_actions() encodes them. */
static void
ft_flow_put_wire(const struct ft_flow *f, struct ofpbuf *b)
{
    const uint8_t *acts = ft_flow_acts(f);
    if (f->state & FT_NATIVE) {
        flow_codec_put_actions(b, ft_flow_acts(f), f->acts_len);
    } else if (f->state & FT_DELTA) {
        const struct ft_tmpl *t = ft_flow_tmpl(f);
        flow_codec_get_delta(ofpbuf_put_uninit(b, t->len), t->data, t->len,
                             acts + sizeof t, f->acts_len - sizeof t);
    } else {
        ofpbuf_put(b, acts, f->acts_len);
    }
}

/* What the content of desired flow 'f' (actions, flags, timeouts) hashes
 * to, as the installed side keeps it. */
static uint64_t
ft_flow_hash(const struct ft_flow *f)
{
    if (!(f->state & (FT_NATIVE | FT_DELTA))) {
        return flow_codec_content_hash(ft_flow_acts(f), f->acts_len,
                                       f->flags, f->idle_timeout,
                                       f->hard_timeout);
    }
    uint64_t stub[1024 / 8];
    struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
    ft_flow_put_wire(f, &b);
    uint64_t hash = flow_codec_content_hash(b.data, b.size, f->flags,
                                            f->idle_timeout, f->hard_timeout);
    ofpbuf_uninit(&b);
    return hash;
}

/* Puts the actions of desired flow 'f', as a struct ofpact array, into
 * 'ofpacts'.  Returns false if they do not decode, which only a bug would
 * cause. */
static bool
ft_flow_ofpacts(const struct ft_flow *f, struct ofpbuf *ofpacts)
{
    if (f->state & FT_NATIVE) {
        ofpbuf_put(ofpacts, ft_flow_acts(f), f->acts_len);
        return true;
    }
    uint64_t stub[1024 / 8];
    struct ofpbuf wire = OFPBUF_STUB_INITIALIZER(stub);
    ft_flow_put_wire(f, &wire);
    enum ofperr error = flow_codec_get_actions(wire.data, wire.size, ofpacts);
    ofpbuf_uninit(&wire);
    if (error) {
        VLOG_ERR_RL(&rl, "flow in table %"PRIu8" priority %"PRIu16": its "
                    "actions do not decode (%s)", f->table_id, f->priority,
                    ofperr_to_string(error));
        return false;
    }
    return true;
}

/* Notes that the desired flow of 'f' changed (appeared, went, or took
 * other actions). */
static void
ft_mark(struct flow_table *ft, struct ft_flow *f)
{
    if (ft->full || f->state & FT_DIRTY) {
        return;                 /* The next diff compares everything. */
    }
    if (ft->n_dirty >= ft->allocated_dirty) {
        ft->dirty = x2nrealloc(ft->dirty, &ft->allocated_dirty,
                               sizeof *ft->dirty);
    }
    ft->dirty[ft->n_dirty++] = f;
    f->state |= FT_DIRTY;
}

static void
ft_dirty_clear(struct flow_table *ft)
{
    for (size_t i = 0; i < ft->n_dirty; i++) {
        struct ft_flow *f = ft->dirty[i];
        f->state &= ~FT_DIRTY;
        ft_flow_gc(ft, f);
    }
    ft->n_dirty = 0;
    if (ft->allocated_dirty > 4096) {
        /* A large change's array goes with it. */
        free(ft->dirty);
        ft->dirty = NULL;
        ft->allocated_dirty = 0;
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
    hmap_init(&ft->flows);
    hmap_init(&ft->owners);
    hmap_init(&ft->xrefs);
    ft->codec = flow_codec_create();
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
    struct ft_owner *o;
    HMAP_FOR_EACH_POP (o, node, &ft->owners) {
        ft_tmpl_unref(o->tmpl);
        free(o);
    }
    hmap_destroy(&ft->owners);
    struct ft_xref *x;
    HMAP_FOR_EACH_POP (x, node, &ft->xrefs) {
        free(x);
    }
    hmap_destroy(&ft->xrefs);
    struct ft_flow *f;
    HMAP_FOR_EACH_POP (f, node, &ft->flows) {
        ft_flow_release(f);
        free(f);
    }
    hmap_destroy(&ft->flows);
    free(ft->dirty);
    flow_codec_destroy(ft->codec);
    for (size_t i = 0; i < ft->n_reserved; i++) {
        free(ft->reserved[i].prefix);
    }
    free(ft->reserved);
    bitmap_free(ft->owned);
    free(ft->name);
    free(ft);
}

uint64_t
flow_table_get_cookie(const struct flow_table *ft)
{
    return ft->cookie;
}

/* The cookie of index 'idx', which is not FT_FOREIGN_UNKNOWN. */
static ovs_be64
ft_cookie(const struct flow_table *ft, uint8_t idx)
{
    return (!idx ? htonll(ft->cookie)
            : idx < FT_FOREIGN ? ft->reserved[idx - 1].cookie
            : ft->foreign[idx - FT_FOREIGN]);
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

/* The index of 'cookie' (network order): with 'add', a foreign cookie not
 * seen before takes the next place in 'foreign'. */
static uint8_t
ft_cookie_index(struct flow_table *ft, ovs_be64 cookie, bool add)
{
    if (cookie == htonll(ft->cookie)) {
        return 0;
    }
    for (size_t i = 0; i < ft->n_reserved; i++) {
        if (ft->reserved[i].cookie == cookie) {
            return i + 1;
        }
    }
    for (size_t i = 0; i < ft->n_foreign; i++) {
        if (ft->foreign[i] == cookie) {
            return FT_FOREIGN + i;
        }
    }
    if (add && ft->n_foreign < FT_MAX_FOREIGN) {
        ft->foreign[ft->n_foreign] = cookie;
        return FT_FOREIGN + ft->n_foreign++;
    }
    return FT_FOREIGN_UNKNOWN;
}

/* The cookie index of owner 'name': that of the longest reserved prefix it
 * starts with, or the table's. */
static uint8_t
ft_owner_cookie(const struct flow_table *ft, const char *name)
{
    size_t best = 0, best_len = 0;
    for (size_t i = 0; i < ft->n_reserved; i++) {
        const struct ft_reserved *r = &ft->reserved[i];
        if (!strncmp(name, r->prefix, r->len)
            && (!best || r->len > best_len)) {
            best = i + 1;
            best_len = r->len;
        }
    }
    return best;
}

/* Owners. */

static struct ft_owner *
ft_owner_find(const struct flow_table *ft, const char *name)
{
    struct ft_owner *o;
    HMAP_FOR_EACH_WITH_HASH (o, node, hash_string(name, 0), &ft->owners) {
        if (!strcmp(o->name, name)) {
            return o;
        }
    }
    return NULL;
}

static struct ft_owner *
ft_owner_find_or_create(struct flow_table *ft, const char *name)
{
    struct ft_owner *o = ft_owner_find(ft, name);
    if (!o) {
        size_t len = strlen(name);
        o = xmalloc(sizeof *o + len + 1);
        memcpy(o->name, name, len + 1);
        ovs_list_init(&o->refs);
        ovs_list_init(&o->xrefs);
        o->cookie = ft_owner_cookie(ft, name);
        o->tmpl = NULL;
        hmap_insert(&ft->owners, &o->node, hash_string(name, 0));
    }
    return o;
}

/* The further owner 'o' of 'f' (any, if 'o' is NULL), or NULL. */
static struct ft_xref *
ft_xref_find(const struct flow_table *ft, const struct ft_flow *f,
             const struct ft_owner *o)
{
    if (f->state & FT_SHARED) {
        struct ft_xref *x;
        HMAP_FOR_EACH_WITH_HASH (x, node, hash_pointer(f, 0), &ft->xrefs) {
            if (x->flow == f && (!o || x->owner == o)) {
                return x;
            }
        }
    }
    return NULL;
}

static void
ft_xref_add(struct flow_table *ft, struct ft_flow *f, struct ft_owner *o)
{
    struct ft_xref *x = xmalloc(sizeof *x);
    x->owner = o;
    x->flow = f;
    hmap_insert(&ft->xrefs, &x->node, hash_pointer(f, 0));
    ovs_list_push_back(&o->xrefs, &x->owner_node);
    f->state |= FT_SHARED;
}

static void
ft_xref_remove(struct flow_table *ft, struct ft_xref *x)
{
    struct ft_flow *f = x->flow;
    hmap_remove(&ft->xrefs, &x->node);
    ovs_list_remove(&x->owner_node);
    free(x);
    if (!ft_xref_find(ft, f, NULL)) {
        f->state &= ~FT_SHARED;
    }
}

/* Gives 'f' room for 'acts_len' bytes of actions.  'f' may move: returns
 * where it is now, and what points to it (the map, its owners, 'dirty')
 * follows. */
static struct ft_flow *
ft_flow_resize(struct flow_table *ft, struct ft_flow *f, size_t acts_len)
{
    size_t key_size = ROUND_UP(f->key_len, 8);
    if (ROUND_UP(f->acts_len, 8) == ROUND_UP(acts_len, 8)) {
        return f;
    }

    /* What points to 'f' lets go of it while it moves. */
    hmap_remove(&ft->flows, &f->node);
    struct ovs_list *next = NULL;
    if (f->ref.owner) {
        next = f->ref.owner_node.next;
        ovs_list_remove(&f->ref.owner_node);
    }
    struct ft_xref **xrefs = NULL;
    size_t n_xrefs = 0, allocated_xrefs = 0;
    struct ft_xref *x;
    HMAP_FOR_EACH_WITH_HASH (x, node, hash_pointer(f, 0), &ft->xrefs) {
        if (x->flow == f) {
            if (n_xrefs >= allocated_xrefs) {
                xrefs = x2nrealloc(xrefs, &allocated_xrefs, sizeof *xrefs);
            }
            xrefs[n_xrefs++] = x;
        }
    }
    size_t dirty = SIZE_MAX;
    if (f->state & FT_DIRTY) {
        /* Only a flow whose actions change size twice between two diffs
         * gets here. */
        for (dirty = 0; ft->dirty[dirty] != f; dirty++) {
            continue;
        }
    }
    for (size_t i = 0; i < n_xrefs; i++) {
        hmap_remove(&ft->xrefs, &xrefs[i]->node);
    }

    struct ft_flow *moved = xrealloc(f, sizeof *f + key_size
                                        + ROUND_UP(acts_len, 8));
    hmap_insert(&ft->flows, &moved->node, moved->node.hash);
    if (next) {
        ovs_list_insert(next, &moved->ref.owner_node);
    }
    for (size_t i = 0; i < n_xrefs; i++) {
        xrefs[i]->flow = moved;
        hmap_insert(&ft->xrefs, &xrefs[i]->node, hash_pointer(moved, 0));
    }
    free(xrefs);
    if (dirty != SIZE_MAX) {
        ft->dirty[dirty] = moved;
    }
    moved->acts_len = acts_len;
    return moved;
}

/* Gives 'f' the content of 'fm', whose actions encode to 'wire', and the
 * cookie of owner 'o'.  'f' may move: returns where it is now.  'fm' keeps
 * its actions: the flow takes a copy, encoded if that keeps what they
 * print as, and then as a delta of the owner's template if that is
 * smaller. */
static struct ft_flow *
ft_set_content(struct flow_table *ft, struct ft_flow *f,
               const struct ofputil_flow_mod *fm, const struct ofpbuf *wire,
               struct ft_owner *o)
{
    bool encoded = flow_codec_faithful(ft->codec, fm->ofpacts,
                                       fm->ofpacts_len, wire->data,
                                       wire->size);
    uint64_t stub[512 / 8];
    struct ofpbuf delta = OFPBUF_STUB_INITIALIZER(stub);
    struct ft_tmpl *tmpl = NULL;
    if (encoded && wire->size > sizeof tmpl) {
        if (!o->tmpl) {
            o->tmpl = ft_tmpl_create(wire->data, wire->size);
        }
        if (o->tmpl->len == wire->size
            && flow_codec_put_delta(&delta, o->tmpl->data, wire->data,
                                    wire->size, wire->size - sizeof tmpl)) {
            tmpl = ft_tmpl_ref(o->tmpl);
        }
    }
    ft_flow_release(f);

    size_t acts_len = (tmpl ? sizeof tmpl + delta.size
                       : encoded ? wire->size : fm->ofpacts_len);
    f = ft_flow_resize(ft, f, acts_len);
    f->acts_len = acts_len;
    uint8_t *acts = ft_flow_acts(f);
    if (tmpl) {
        memcpy(acts, &tmpl, sizeof tmpl);
        if (delta.size) {
            memcpy(acts + sizeof tmpl, delta.data, delta.size);
        }
    } else if (acts_len) {
        memcpy(acts, encoded ? wire->data : (void *) fm->ofpacts, acts_len);
    }
    ofpbuf_uninit(&delta);
    f->flags = fm->flags;
    f->idle_timeout = fm->idle_timeout;
    f->hard_timeout = fm->hard_timeout;
    f->cookie = o->cookie;
    f->state &= ~(FT_REJECTED | FT_NATIVE | FT_DELTA);
    f->state |= !encoded ? FT_NATIVE : tmpl ? FT_DELTA : 0;
    ft_mark(ft, f);
    ft->desired_seqno++;
    return f;
}

/* 'f' loses its first owner: the next one takes its place, with the flow
 * as it is, or else nobody wants the flow any more. */
static void
ft_drop_first_owner(struct flow_table *ft, struct ft_flow *f)
{
    ovs_list_remove(&f->ref.owner_node);
    struct ft_xref *x = ft_xref_find(ft, f, NULL);
    if (x) {
        f->ref.owner = x->owner;
        ovs_list_push_back(&x->owner->refs, &f->ref.owner_node);
        ft_xref_remove(ft, x);
        return;
    }
    f->ref.owner = NULL;
    ft_flow_release(f);
    f->state &= ~FT_REJECTED;
    ft->n_desired--;
    ft_mark(ft, f);
    ft->desired_seqno++;
    ft_flow_gc(ft, f);
}

/* Frees owner 'o', and its claim on each of its flows. */
static void
ft_owner_destroy(struct flow_table *ft, struct ft_owner *o)
{
    struct ft_xref *x;
    LIST_FOR_EACH_SAFE (x, owner_node, &o->xrefs) {
        ft_xref_remove(ft, x);
    }
    struct ft_flow *f;
    LIST_FOR_EACH_SAFE (f, ref.owner_node, &o->refs) {
        ft_drop_first_owner(ft, f);
    }
    hmap_remove(&ft->owners, &o->node);
    ft_tmpl_unref(o->tmpl);
    free(o);
}

uint64_t
flow_table_request_cookie(struct flow_table *ft, const char *owner_prefix)
{
    for (size_t i = 0; i < ft->n_reserved; i++) {
        if (!strcmp(ft->reserved[i].prefix, owner_prefix)) {
            return ntohll(ft->reserved[i].cookie);
        }
    }
    ovs_assert(ft->n_reserved < FT_MAX_RESERVED);

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
    struct ft_owner *o;
    HMAP_FOR_EACH (o, node, &ft->owners) {
        uint8_t c = ft_owner_cookie(ft, o->name);
        if (c == o->cookie) {
            continue;
        }
        struct ft_flow *f;
        LIST_FOR_EACH (f, ref.owner_node, &o->refs) {
            if (f->cookie == o->cookie) {
                f->cookie = c;
                f->state &= ~FT_REJECTED;
                ft_mark(ft, f);
                ft->desired_seqno++;
            }
        }
        struct ft_xref *x;
        LIST_FOR_EACH (x, owner_node, &o->xrefs) {
            f = x->flow;
            if (f->cookie == o->cookie) {
                f->cookie = c;
                f->state &= ~FT_REJECTED;
                ft_mark(ft, f);
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

/* Whether desired flow 'f' already has the content of 'fm', whose actions
 * encode to 'wire'.  Actions compare as encoded, which leaves out what two
 * parses of the same text may differ in (padding, an action's "compat"
 * encoding): the switch is sent the same either way. */
static bool
ft_same_content(const struct ft_flow *f, const struct ofputil_flow_mod *fm,
                const struct ofpbuf *wire)
{
    if ((f->flags ^ fm->flags) & OFPUTIL_FF_STATE
        || f->idle_timeout != fm->idle_timeout
        || f->hard_timeout != fm->hard_timeout) {
        return false;
    }
    if (!(f->state & (FT_NATIVE | FT_DELTA))) {
        return (f->acts_len == wire->size
                && !memcmp(ft_flow_acts(f), wire->data, wire->size));
    }
    uint64_t stub[1024 / 8];
    struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
    ft_flow_put_wire(f, &b);
    bool same = b.size == wire->size && !memcmp(b.data, wire->data, b.size);
    ofpbuf_uninit(&b);
    return same;
}

/* Parses 'text' as a flow_mod of 'command' into 'fm'.  Returns NULL, or an
 * error message for the caller to free. */
static char *
ft_parse(const struct flow_table *ft, const char *text, int command,
         struct ofputil_flow_mod *fm)
{
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(fm, text, NULL, NULL, command,
                                         &usable);
    if (error) {
        char *msg = xasprintf("%s: bad flow \"%s\": %s", ft->name, text,
                              error);
        free(error);
        return msg;
    }
    if (fm->ofpacts_len > UINT16_MAX || fm->flags > UINT8_MAX) {
        minimatch_destroy(&fm->match);
        free(fm->ofpacts);
        return xasprintf("%s: bad flow \"%s\": its actions are too long",
                         ft->name, text);
    }
    return NULL;
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
    char *error = ft_parse(ft, text, OFPFC_ADD, &fm);
    free(text);
    if (error) {
        return error;
    }
    fm.flags |= flags;

    uint64_t stub[1024 / 8];
    struct ofpbuf wire = OFPBUF_STUB_INITIALIZER(stub);
    flow_codec_put_actions(&wire, fm.ofpacts, fm.ofpacts_len);

    struct ft_owner *o = ft_owner_find_or_create(ft, owner);
    struct ft_key k;
    ft_key_init_mini(&k, fm.table_id, fm.priority, &fm.match);
    struct ft_flow *f = ft_find_or_create(ft, &k);
    ft_key_uninit(&k);

    if (!f->ref.owner) {
        f = ft_set_content(ft, f, &fm, &wire, o);
        f->ref.owner = o;
        ovs_list_push_back(&o->refs, &f->ref.owner_node);
        ft->n_desired++;
    } else if (f->ref.owner == o || ft_xref_find(ft, f, o)) {
        /* The owner restates a flow it already has: take the new actions,
         * which is how an owner changes a flow in place, and the owner's
         * cookie with them. */
        if (!ft_same_content(f, &fm, &wire)) {
            ft_set_content(ft, f, &fm, &wire, o);
        }
    } else {
        if (!ft_same_content(f, &fm, &wire)) {
            VLOG_DBG("%s: owner %s wants a flow that another owner already "
                     "has with other actions; keeping the first",
                     ft->name, log_safe(owner));
        }
        ft_xref_add(ft, f, o);
    }
    ofpbuf_uninit(&wire);
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return NULL;
}

void
flow_table_vadd_logged(struct flow_table *ft, const char *owner,
                       enum ofputil_flow_mod_flags flags,
                       const char *format, va_list args)
{
    char *text = xvasprintf(format, args);
    char *error = flow_table_add(ft, owner, flags, "%s", text);
    if (error) {
        VLOG_WARN_RL(&rl, "%s: %s", log_safe(owner), log_safe(error));
        free(error);
    }
    free(text);
}

char *
flow_table_remove(struct flow_table *ft, const char *owner,
                  const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);

    struct ofputil_flow_mod fm;
    char *error = ft_parse(ft, text, OFPFC_DELETE_STRICT, &fm);
    free(text);
    if (error) {
        return error;
    }

    struct ft_owner *o = ft_owner_find(ft, owner);
    if (o) {
        struct ft_key k;
        ft_key_init_mini(&k, fm.table_id, fm.priority, &fm.match);
        struct ft_flow *f = ft_find(ft, &k);
        ft_key_uninit(&k);
        if (f && f->ref.owner == o) {
            ft_drop_first_owner(ft, f);
        } else if (f) {
            struct ft_xref *x = ft_xref_find(ft, f, o);
            if (x) {
                ft_xref_remove(ft, x);
            }
        }
        if (ovs_list_is_empty(&o->refs) && ovs_list_is_empty(&o->xrefs)) {
            ft_owner_destroy(ft, o);
        }
    }
    minimatch_destroy(&fm.match);
    free(fm.ofpacts);
    return NULL;
}

void
flow_table_clear_owner(struct flow_table *ft, const char *owner)
{
    struct ft_owner *o = ft_owner_find(ft, owner);
    if (o) {
        ft_owner_destroy(ft, o);
    }
}

uint64_t
flow_table_desired_seqno(const struct flow_table *ft)
{
    return ft->desired_seqno;
}

size_t
flow_table_n_desired(const struct flow_table *ft)
{
    return ft->n_desired;
}

/* Installed state. */

/* Records that the switch no longer holds 'f'. */
static void
ft_uninstall(struct flow_table *ft, struct ft_flow *f)
{
    if (f->state & FT_INSTALLED) {
        f->state &= ~FT_INSTALLED;
        ft->n_installed--;
        ft_flow_gc(ft, f);
    }
}

/* Records that the switch holds 'f' with the cookie of index 'cookie' and
 * content 'hash'. */
static void
ft_install(struct flow_table *ft, struct ft_flow *f, uint8_t cookie,
           uint64_t hash)
{
    if (!(f->state & FT_INSTALLED)) {
        f->state |= FT_INSTALLED;
        ft->n_installed++;
    }
    f->installed_cookie = cookie;
    f->installed_hash = hash;
}

void
flow_table_installed_reset(struct flow_table *ft)
{
    ft_dirty_clear(ft);
    struct ft_flow *f;
    HMAP_FOR_EACH_SAFE (f, node, &ft->flows) {
        ft_uninstall(ft, f);
    }
    ft->installed_seqno = 0;
    ft->full = true;
    ft->sweep = false;
    ft->n_foreign = 0;
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
    /* A dump never holds the same key twice, but be safe: keep the last. */
    struct ft_key k;
    ft_key_init(&k, fs->table_id, fs->priority, &fs->match);
    struct ft_flow *f = ft_find_or_create(ft, &k);
    ft_key_uninit(&k);
    uint64_t stub[1024 / 8];
    struct ofpbuf wire = OFPBUF_STUB_INITIALIZER(stub);
    flow_codec_put_actions(&wire, fs->ofpacts, fs->ofpacts_len);
    ft_install(ft, f, ft_cookie_index(ft, fs->cookie, true),
               flow_codec_content_hash(wire.data, wire.size, fs->flags,
                                       fs->idle_timeout, fs->hard_timeout));
    ofpbuf_uninit(&wire);
    ft->full = true;
    ft->sweep = true;
}

size_t
flow_table_n_installed(const struct flow_table *ft)
{
    return ft->n_installed;
}

void
flow_table_get_memory_usage(const struct flow_table *ft, const char *bridge,
                            struct simap *usage)
{
    char *key = xasprintf("%s-desired-flows", bridge);
    simap_increase(usage, key, flow_table_n_desired(ft));
    free(key);
    key = xasprintf("%s-installed-flows", bridge);
    simap_increase(usage, key, ft->n_installed);
    free(key);
}

uint64_t
flow_table_installed_seqno(const struct flow_table *ft)
{
    return ft->installed_seqno;
}

/* The difference. */

/* A flow_mod of a batch, with what the installed side takes from it once
 * acknowledged. */
struct ft_fm {
    struct ofputil_flow_mod fm;
    uint64_t hash;              /* Adds: the content hash of the flow. */
};

static struct ofputil_flow_mod *
ft_fm_create(struct flow_batch *batch, const struct match *match)
{
    struct ft_fm *ffm = xzalloc(sizeof *ffm);
    struct ofputil_flow_mod *fm = &ffm->fm;
    minimatch_init(&fm->match, match);
    fm->buffer_id = UINT32_MAX;
    fm->out_port = OFPP_ANY;
    fm->out_group = OFPG_ANY;
    ovs_list_push_back(&batch->fms, &fm->list_node);
    batch->n++;
    return fm;
}

static void
ft_fm_free(struct ofputil_flow_mod *fm)
{
    struct ft_fm *ffm = CONTAINER_OF(fm, struct ft_fm, fm);
    minimatch_destroy(&fm->match);
    free(fm->ofpacts);
    free(ffm);
}

/* Appends to 'batch' a flow_mod with 'command' for flow 'f': an add of
 * its desired flow, or a strict delete of its installed one.  Returns
 * false if the flow's match does not decode (a bug): then the flow is
 * left out. */
static bool
ft_batch_append(struct flow_batch *batch, const struct flow_table *ft,
                const struct ft_flow *f, uint16_t command)
{
    struct match match;
    if (!ft_flow_match(f, &match)) {
        return false;
    }
    struct ofputil_flow_mod *fm = ft_fm_create(batch, &match);
    fm->priority = f->priority;
    fm->table_id = f->table_id;
    fm->command = command;
    if (command == OFPFC_ADD) {
        struct ofpbuf ofpacts;
        ofpbuf_init(&ofpacts, 2 * f->acts_len);
        if (!ft_flow_ofpacts(f, &ofpacts)) {
            ofpbuf_uninit(&ofpacts);
            ovs_list_remove(&fm->list_node);
            batch->n--;
            ft_fm_free(fm);
            return false;
        }
        fm->cookie = htonll(0);
        fm->cookie_mask = htonll(0);
        fm->new_cookie = ft_cookie(ft, f->cookie);
        fm->flags = f->flags;
        fm->idle_timeout = f->idle_timeout;
        fm->hard_timeout = f->hard_timeout;
        fm->ofpacts_len = ofpacts.size;
        fm->ofpacts = ofpbuf_steal_data(&ofpacts);
        CONTAINER_OF(fm, struct ft_fm, fm)->hash = ft_flow_hash(f);
    } else if (f->installed_cookie != FT_FOREIGN_UNKNOWN) {
        fm->cookie = ft_cookie(ft, f->installed_cookie);
        fm->cookie_mask = OVS_BE64_MAX;
        fm->new_cookie = OVS_BE64_MAX;
    } else {
        /* Whatever its cookie. */
        fm->cookie = htonll(0);
        fm->cookie_mask = htonll(0);
        fm->new_cookie = OVS_BE64_MAX;
    }
    return true;
}

/* Appends a delete of every flow, in any table, that carries 'cookie'. */
static void
ft_batch_append_cookie_delete(struct flow_batch *batch, ovs_be64 cookie)
{
    struct match match;
    match_init_catchall(&match);
    struct ofputil_flow_mod *fm = ft_fm_create(batch, &match);
    fm->table_id = OFPTT_ALL;
    fm->command = OFPFC_DELETE;
    fm->cookie = cookie;
    fm->cookie_mask = OVS_BE64_MAX;
    fm->new_cookie = OVS_BE64_MAX;
}

/* Whether the switch holds what 'f' asks for: its desired flow under its
 * cookie, or, when nobody wants it, none of ours.  A rejected flow is left
 * as it is, and so is a foreign one nobody wants (the deletes by cookie
 * take it). */
static bool
ft_agrees(const struct flow_table *ft, const struct ft_flow *f)
{
    bool installed = f->state & FT_INSTALLED;
    if (f->ref.owner) {
        return (f->state & FT_REJECTED
                || (installed && f->installed_cookie == f->cookie
                    && f->installed_hash == ft_flow_hash(f)));
    }
    return !installed || f->installed_cookie >= FT_FOREIGN;
}

/* Leaves desired flow 'f', whose match does not decode, out for good (until
 * its owner changes it), as the switch would have refused it. */
static void
ft_leave_out(struct ft_flow *f)
{
    if (f->ref.owner) {
        f->state |= FT_REJECTED;
    }
}

/* The diff of the keys in 'dirty': adds first, then deletes, so that a
 * change too large for one bundle makes before it breaks (a removed flow
 * never has a key that is desired, so order does not matter within a
 * bundle).  A key found in agreement is done with. */
static void
ft_diff_dirty(struct flow_table *ft, struct flow_batch *batch, size_t max)
{
    size_t i, j = 0, n_deletes = 0;
    for (i = 0; i < ft->n_dirty; i++) {
        struct ft_flow *f = ft->dirty[i];
        if (ft_agrees(ft, f)) {
            f->state &= ~FT_DIRTY;
            ft_flow_gc(ft, f);
            continue;
        }
        if (f->ref.owner) {
            if (batch->n >= max) {
                batch->last = false;
                break;
            }
            if (!ft_batch_append(batch, ft, f, OFPFC_ADD)) {
                ft_leave_out(f);
            }
        } else {
            n_deletes++;
        }
        ft->dirty[j++] = f;
    }
    if (i < ft->n_dirty) {
        /* Not looked at for want of room: they stay, after those kept. */
        memmove(&ft->dirty[j], &ft->dirty[i],
                (ft->n_dirty - i) * sizeof *ft->dirty);
        j += ft->n_dirty - i;
    }
    ft->n_dirty = j;

    if (!batch->last || !n_deletes) {
        return;
    }
    for (i = 0; i < ft->n_dirty; i++) {
        struct ft_flow *f = ft->dirty[i];
        if (f->ref.owner) {
            continue;
        }
        if (batch->n >= max) {
            batch->last = false;
            return;
        }
        if (!ft_batch_append(batch, ft, f, OFPFC_DELETE_STRICT)) {
            ft_uninstall(ft, f);
        }
    }
}

/* Whether 'f' is installed, in a table we own, under a foreign cookie. */
static bool
ft_is_foreign(const struct flow_table *ft, const struct ft_flow *f)
{
    return (f->state & FT_INSTALLED && f->installed_cookie >= FT_FOREIGN
            && bitmap_is_set(ft->owned, f->table_id));
}

/* Whether a flow of a foreign cookie is installed in a table we own. */
static bool
ft_has_foreign(const struct flow_table *ft)
{
    const struct ft_flow *f;
    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (ft_is_foreign(ft, f)) {
            return true;
        }
    }
    return false;
}

/* Appends to 'batch' a delete by cookie for each foreign cookie found in
 * the tables we own, up to 'max' flow_mods in all (and a strict delete
 * for each flow whose cookie is one too many to keep). */
static void
ft_diff_foreign(struct flow_table *ft, struct flow_batch *batch, size_t max)
{
    bool seen[FT_MAX_FOREIGN] = { false };
    const struct ft_flow *f;
    HMAP_FOR_EACH (f, node, &ft->flows) {
        if (!ft_is_foreign(ft, f)
            || (f->installed_cookie != FT_FOREIGN_UNKNOWN
                && seen[f->installed_cookie - FT_FOREIGN])) {
            continue;
        }
        if (batch->n >= max) {
            batch->last = false;
            break;
        }
        if (f->installed_cookie == FT_FOREIGN_UNKNOWN) {
            ft_batch_append(batch, ft, f, OFPFC_DELETE_STRICT);
        } else {
            seen[f->installed_cookie - FT_FOREIGN] = true;
            ft_batch_append_cookie_delete(batch,
                                          ft_cookie(ft, f->installed_cookie));
        }
    }
}

struct flow_batch *
flow_table_diff(struct flow_table *ft, size_t max)
{
    if (ft->full) {
        /* The switch was read back, or holds nothing: compare every key
         * once, and from then on only the keys that change.  An add
         * replaces a flow with the same key whatever its cookie, so a
         * previous run's flow becomes ours in place, under the cookie its
         * owner has in this run. */
        ft_dirty_clear(ft);
        ft->full = false;
        struct ft_flow *f;
        HMAP_FOR_EACH (f, node, &ft->flows) {
            if (!ft_agrees(ft, f)) {
                ft_mark(ft, f);
            }
        }
    }

    struct flow_batch *batch = xzalloc(sizeof *batch);
    ovs_list_init(&batch->fms);
    batch->seqno = ft->desired_seqno;
    batch->last = true;
    ft_diff_dirty(ft, batch, max);

    /* Foreign cookies in the tables we own, once all our flows are in: the
     * previous run's (the agent's and its extensions'), and any other.  A
     * batch of our own changes is not the last while any remain. */
    if (ft->sweep && batch->last) {
        if (batch->n) {
            batch->last = !ft_has_foreign(ft);
        } else {
            ft_diff_foreign(ft, batch, max);
            ft->sweep = batch->n > 0;
        }
    }

    if (!batch->n) {
        ft->installed_seqno = batch->seqno;
        free(batch);
        return NULL;
    }
    return batch;
}

/* Applies one acknowledged flow_mod to the installed state. */
static void
ft_installed_apply(struct flow_table *ft, const struct ofputil_flow_mod *fm)
{
    struct ft_flow *f;
    struct ft_key k;

    switch (fm->command) {
    case OFPFC_ADD:
        ft_key_init_mini(&k, fm->table_id, fm->priority, &fm->match);
        f = ft_find_or_create(ft, &k);
        ft_key_uninit(&k);
        ft_install(ft, f, ft_cookie_index(ft, fm->new_cookie, false),
                   CONTAINER_OF(fm, struct ft_fm, fm)->hash);
        break;

    case OFPFC_DELETE_STRICT:
        ft_key_init_mini(&k, fm->table_id, fm->priority, &fm->match);
        f = ft_find(ft, &k);
        ft_key_uninit(&k);
        if (f) {
            ft_uninstall(ft, f);
        }
        break;

    case OFPFC_DELETE: {
        uint8_t cookie = ft_cookie_index(ft, fm->cookie, false);
        HMAP_FOR_EACH_SAFE (f, node, &ft->flows) {
            if (f->state & FT_INSTALLED && f->installed_cookie == cookie
                && cookie != FT_FOREIGN_UNKNOWN) {
                ft_uninstall(ft, f);
            }
        }
        break;
    }

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
    struct ft_key k;
    ft_key_init_mini(&k, fm->table_id, fm->priority, &fm->match);
    struct ft_flow *f = ft_find(ft, &k);
    ft_key_uninit(&k);
    if (f && f->ref.owner) {
        f->state |= FT_REJECTED;
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
    HMAP_FOR_EACH (f, node, &ft->flows) {
        struct match m;
        if (f->state & FT_INSTALLED
            && memchr(tables, f->table_id, n_tables)
            && ft_flow_match(f, &m)
            && m.wc.masks.conj_id && m.flow.conj_id > max) {
            max = m.flow.conj_id;
        }
    }
    return max;
}

void
flow_table_format_desired(const struct flow_table *ft, struct ds *out)
{
    size_t n = ft->n_desired, i = 0;
    char **lines = xmalloc((n ? n : 1) * sizeof *lines);
    const struct ft_flow *f;

    HMAP_FOR_EACH (f, node, &ft->flows) {
        struct match m;
        if (!f->ref.owner || !ft_flow_match(f, &m)) {
            continue;
        }
        struct ds s = DS_EMPTY_INITIALIZER;
        ds_put_format(&s, "table=%"PRIu8", ", f->table_id);
        if (f->flags & OFPUTIL_FF_RESET_COUNTS) {
            ds_put_cstr(&s, "reset_counts ");
        }
        match_format(&m, NULL, &s, f->priority);
        ds_put_cstr(&s, " actions=");
        uint64_t stub[1024 / 8];
        struct ofpbuf ofpacts = OFPBUF_STUB_INITIALIZER(stub);
        if (ft_flow_ofpacts(f, &ofpacts)) {
            struct ofpact_format_params fp = { .s = &s };
            ofpacts_format(ofpacts.data, ofpacts.size, &fp);
        }
        ofpbuf_uninit(&ofpacts);
        if (f->state & FT_REJECTED) {
            ds_put_cstr(&s, " (rejected by the switch)");
        }
        lines[i++] = ds_steal_cstr(&s);
    }
    n = i;
    qsort(lines, n, sizeof *lines, compare_strings);
    for (i = 0; i < n; i++) {
        ds_put_format(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
}
