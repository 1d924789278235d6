/*
 * conj-ids: conjunction ids of the openvswitch firewall.  See conj-ids.h.
 */
#include <config.h>
#include "agent/conj-ids.h"

#include <stdlib.h>
#include <string.h>

#include "openvswitch/shash.h"
#include "util.h"

#define BLOCK 8
#define MAX_ID (UINT32_MAX - 7)     /* 2^32 - 8 */

struct conj_key {
    char *sg_id;
    char *remote_id;
    uint32_t base;
    uint64_t seq;               /* Order of allocation. */
};

struct conj_ids {
    struct shash keys;          /* "sg|remote|dir|eth" -> struct conj_key. */
    uint32_t max_id;            /* The last base handed out. */
    uint64_t next_seq;
    uint32_t *free;             /* Freed bases, a FIFO ring. */
    size_t free_head, n_free, free_cap;
};

static uint32_t
next_max(uint32_t max_id)
{
    uint64_t next = (uint64_t) max_id + BLOCK;
    return next >= MAX_ID ? 0 : next;
}

struct conj_ids *
conj_ids_create(uint32_t highest_seen)
{
    struct conj_ids *c = xzalloc(sizeof *c);
    shash_init(&c->keys);
    c->max_id = next_max(highest_seen - highest_seen % BLOCK);
    return c;
}

void
conj_ids_destroy(struct conj_ids *c)
{
    if (!c) {
        return;
    }
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &c->keys) {
        struct conj_key *k = node->data;
        free(k->sg_id);
        free(k->remote_id);
        free(k);
    }
    shash_destroy(&c->keys);
    free(c->free);
    free(c);
}

static void
free_push(struct conj_ids *c, uint32_t id)
{
    if (c->n_free == c->free_cap) {
        /* Grow, straightening the ring. */
        size_t cap = c->free_cap ? 2 * c->free_cap : 16;
        uint32_t *ring = xmalloc(cap * sizeof *ring);
        for (size_t i = 0; i < c->n_free; i++) {
            ring[i] = c->free[(c->free_head + i) % c->free_cap];
        }
        free(c->free);
        c->free = ring;
        c->free_cap = cap;
        c->free_head = 0;
    }
    c->free[(c->free_head + c->n_free++) % c->free_cap] = id;
}

uint32_t
conj_ids_get(struct conj_ids *c, const char *sg_id, const char *remote_id,
             bool ingress, bool ipv6)
{
    char *name = xasprintf("%s|%s|%s|%s", sg_id, remote_id,
                           ingress ? "ingress" : "egress",
                           ipv6 ? "IPv6" : "IPv4");
    struct conj_key *k = shash_find_data(&c->keys, name);
    if (!k) {
        k = xmalloc(sizeof *k);
        k->sg_id = xstrdup(sg_id);
        k->remote_id = xstrdup(remote_id);
        if (c->n_free) {
            k->base = c->free[c->free_head];
            c->free_head = (c->free_head + 1) % c->free_cap;
            c->n_free--;
        } else {
            c->max_id = next_max(c->max_id);
            k->base = c->max_id;
        }
        k->seq = c->next_seq++;
        shash_add(&c->keys, name, k);
    }
    free(name);
    return k->base;
}

static int
compare_seq(const void *a_, const void *b_)
{
    const struct conj_key *const *a = a_, *const *b = b_;
    return (*a)->seq < (*b)->seq ? -1 : (*a)->seq > (*b)->seq;
}

size_t
conj_ids_delete_sg(struct conj_ids *c, const char *sg_id)
{
    /* Freed in the order they were allocated, as the reference walks its
     * keys in insertion order. */
    struct conj_key **gone = xcalloc(shash_count(&c->keys) + 1,
                                     sizeof *gone);
    size_t n = 0;
    struct shash_node *node;
    SHASH_FOR_EACH_SAFE (node, &c->keys) {
        struct conj_key *k = node->data;
        if (!strcmp(k->sg_id, sg_id) || !strcmp(k->remote_id, sg_id)) {
            gone[n++] = k;
            shash_delete(&c->keys, node);
        }
    }
    qsort(gone, n, sizeof *gone, compare_seq);
    for (size_t i = 0; i < n; i++) {
        free_push(c, gone[i]->base);
        free(gone[i]->sg_id);
        free(gone[i]->remote_id);
        free(gone[i]);
    }
    free(gone);
    return n;
}

size_t
conj_ids_count(const struct conj_ids *c)
{
    return shash_count(&c->keys);
}
