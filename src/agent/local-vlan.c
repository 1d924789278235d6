/*
 * local-vlan: local VLAN allocation.  See local-vlan.h.
 */
#include <config.h>
#include "agent/local-vlan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "bitmap.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/shash.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(local_vlan);

#define MAX_VLAN 4094

struct local_vlans {
    struct shash by_key;        /* "<net>/<segid or None>" -> VLAN (int). */
    struct shash hints;         /* Same keys, from before a restart. */
    unsigned long *used;        /* VLANs allocated or hinted. */
    int cursor;                 /* Last VLAN handed out. */
};

static char *
make_key(const char *net_id, int64_t segid)
{
    return segid < 0 ? xasprintf("%s/None", net_id)
                     : xasprintf("%s/%"PRId64, net_id, segid);
}

struct local_vlans *
local_vlans_create(void)
{
    struct local_vlans *lv = xzalloc(sizeof *lv);
    shash_init(&lv->by_key);
    shash_init(&lv->hints);
    lv->used = bitmap_allocate(MAX_VLAN + 1);
    bitmap_set1(lv->used, 0);
    return lv;
}

void
local_vlans_destroy(struct local_vlans *lv)
{
    if (lv) {
        shash_destroy(&lv->by_key);
        shash_destroy(&lv->hints);
        bitmap_free(lv->used);
        free(lv);
    }
}

static int
stored(const void *p)
{
    return (int) (intptr_t) p;
}

void
local_vlans_add_hint(struct local_vlans *lv, const char *net_id,
                     const char *segmentation_id, int vlan)
{
    if (vlan < 1 || vlan > MAX_VLAN) {
        return;
    }
    char *key = xasprintf("%s/%s", net_id,
                          segmentation_id && *segmentation_id
                          ? segmentation_id : "None");
    if (!shash_find(&lv->hints, key) && !bitmap_is_set(lv->used, vlan)) {
        shash_add(&lv->hints, key, (void *) (intptr_t) vlan);
        bitmap_set1(lv->used, vlan);
        VLOG_DBG("hint: network %s had local VLAN %d", log_safe(key), vlan);
    }
    free(key);
}

int
local_vlans_get(struct local_vlans *lv, const char *net_id, int64_t segid,
                bool *is_new)
{
    char *key = make_key(net_id, segid);
    struct shash_node *node = shash_find(&lv->by_key, key);
    *is_new = false;
    if (node) {
        free(key);
        return stored(node->data);
    }

    int vlan = -1;
    void *hint = shash_find_and_delete(&lv->hints, key);
    if (hint) {
        vlan = stored(hint);
    } else {
        for (int i = 0; i < MAX_VLAN; i++) {
            int v = (lv->cursor + i) % MAX_VLAN + 1;
            if (!bitmap_is_set(lv->used, v)) {
                vlan = v;
                lv->cursor = v;
                break;
            }
        }
        if (vlan < 0) {
            VLOG_ERR("no local VLAN left for network %s", log_safe(key));
            free(key);
            return -1;
        }
        bitmap_set1(lv->used, vlan);
    }
    shash_add_nocopy(&lv->by_key, key, (void *) (intptr_t) vlan);
    *is_new = true;
    VLOG_INFO("network %s: local VLAN %d", log_safe(net_id), vlan);
    return vlan;
}

int
local_vlans_lookup(const struct local_vlans *lv, const char *net_id,
                   int64_t segid)
{
    char *key = make_key(net_id, segid);
    struct shash_node *node = shash_find(&lv->by_key, key);
    free(key);
    return node ? stored(node->data) : -1;
}

void
local_vlans_release(struct local_vlans *lv, const char *net_id, int64_t segid)
{
    char *key = make_key(net_id, segid);
    void *data = shash_find_and_delete(&lv->by_key, key);
    if (data) {
        bitmap_set0(lv->used, stored(data));
        VLOG_INFO("network %s: local VLAN %d released", log_safe(net_id),
                  stored(data));
    }
    free(key);
}

void
local_vlans_drop_hints(struct local_vlans *lv)
{
    struct shash_node *node;
    SHASH_FOR_EACH (node, &lv->hints) {
        bitmap_set0(lv->used, stored(node->data));
    }
    shash_clear(&lv->hints);
}

size_t
local_vlans_count(const struct local_vlans *lv)
{
    return shash_count(&lv->by_key);
}

void
local_vlans_format(const struct local_vlans *lv, struct ds *s)
{
    const struct shash_node **nodes = shash_sort(&lv->by_key);
    for (size_t i = 0; i < shash_count(&lv->by_key); i++) {
        ds_put_format(s, "  %s: VLAN %d\n", log_safe(nodes[i]->name),
                      stored(nodes[i]->data));
    }
    free(nodes);
}
