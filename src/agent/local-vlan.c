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
#include "openvswitch/vlog.h"
#include "simap.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(local_vlan);

#define MAX_VLAN 4094

struct local_vlans {
    struct simap by_key;        /* "<net>/<segid or None>" -> VLAN. */
    struct simap hints;         /* Same keys, from before a restart. */
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
    simap_init(&lv->by_key);
    simap_init(&lv->hints);
    lv->used = bitmap_allocate(MAX_VLAN + 1);
    bitmap_set1(lv->used, 0);
    return lv;
}

void
local_vlans_destroy(struct local_vlans *lv)
{
    if (lv) {
        simap_destroy(&lv->by_key);
        simap_destroy(&lv->hints);
        bitmap_free(lv->used);
        free(lv);
    }
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
    if (!simap_contains(&lv->hints, key) && !bitmap_is_set(lv->used, vlan)) {
        simap_put(&lv->hints, key, vlan);
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
    const struct simap_node *node = simap_find(&lv->by_key, key);
    *is_new = false;
    if (node) {
        free(key);
        return node->data;
    }

    int vlan = -1;
    struct simap_node *hint = simap_find(&lv->hints, key);
    if (hint) {
        vlan = hint->data;
        simap_delete(&lv->hints, hint);
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
    simap_put(&lv->by_key, key, vlan);
    free(key);
    *is_new = true;
    VLOG_INFO("network %s: local VLAN %d", log_safe(net_id), vlan);
    return vlan;
}

int
local_vlans_lookup(const struct local_vlans *lv, const char *net_id,
                   int64_t segid)
{
    char *key = make_key(net_id, segid);
    const struct simap_node *node = simap_find(&lv->by_key, key);
    free(key);
    return node ? (int) node->data : -1;
}

void
local_vlans_release(struct local_vlans *lv, const char *net_id, int64_t segid)
{
    char *key = make_key(net_id, segid);
    struct simap_node *node = simap_find(&lv->by_key, key);
    if (node) {
        bitmap_set0(lv->used, node->data);
        VLOG_INFO("network %s: local VLAN %u released", log_safe(net_id),
                  node->data);
        simap_delete(&lv->by_key, node);
    }
    free(key);
}

void
local_vlans_drop_hints(struct local_vlans *lv)
{
    struct simap_node *node;
    SIMAP_FOR_EACH (node, &lv->hints) {
        bitmap_set0(lv->used, node->data);
    }
    simap_clear(&lv->hints);
}

void
local_vlans_format(const struct local_vlans *lv, struct ds *s)
{
    const struct simap_node **nodes = simap_sort(&lv->by_key);
    for (size_t i = 0; i < simap_count(&lv->by_key); i++) {
        ds_put_format(s, "  %s: VLAN %u\n", log_safe(nodes[i]->name),
                      nodes[i]->data);
    }
    free(nodes);
}
