/*
 * flow-codec: compact, canonical encodings of matches and actions.  See
 * flow-codec.h.
 */
#include <config.h>
#include "ovs/flow-codec.h"

#include <string.h>

#include "hash.h"
#include "nx-match.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/hmap.h"
#include "openvswitch/match.h"
#include "openvswitch/meta-flow.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(flow_codec);

size_t
flow_codec_put_match(struct ofpbuf *b, struct match *match)
{
    /* Values under a wildcard do not count: zeroed, two matches of the
     * same packets encode alike. */
    match_zero_wildcarded_fields(match);
    return nx_put_match(b, match, htonll(0), htonll(0));
}

enum ofperr
flow_codec_get_match(const void *nxm, size_t len, struct match *match)
{
    struct ofpbuf b = ofpbuf_const_initializer(nxm, ROUND_UP(len, 8));
    return nx_pull_match(&b, len, match, NULL, NULL, false, NULL, NULL);
}

void
flow_codec_put_actions(struct ofpbuf *b, const struct ofpact *ofpacts,
                       size_t ofpacts_len)
{
    if (ofpacts_len) {
        ofpacts_put_openflow_instructions(ofpacts, ofpacts_len, b,
                                          OFP13_VERSION);
    }
}

enum ofperr
flow_codec_get_actions(const void *wire, size_t len, struct ofpbuf *ofpacts)
{
    ofpbuf_clear(ofpacts);
    if (!len) {
        return 0;
    }
    struct ofpbuf b = ofpbuf_const_initializer(wire, len);
    uint64_t tlv_bitmap = 0;
    return ofpacts_pull_openflow_instructions(&b, len, OFP13_VERSION, NULL,
                                              &tlv_bitmap, ofpacts);
}

uint64_t
flow_codec_content_hash(const void *wire, size_t len,
                        enum ofputil_flow_mod_flags flags,
                        uint16_t idle_timeout, uint16_t hard_timeout)
{
    /* 64 bits: two different contents that hash alike would leave a flow
     * unchanged on the switch, which no bridge will ever see happen. */
    uint64_t stub[512 / 8];
    struct ofpbuf b = OFPBUF_STUB_INITIALIZER(stub);
    ofpbuf_put(&b, wire, len);
    uint16_t tail[3] = { flags & OFPUTIL_FF_STATE, idle_timeout,
                         hard_timeout };
    ofpbuf_put(&b, tail, sizeof tail);
    ovs_u128 hash;
    hash_bytes128(b.data, b.size, 0, &hash);
    ofpbuf_uninit(&b);
    return hash.u64.lo;
}

/* Deltas. */

/* Appends to 'b' a run: 'skip' bytes as in the base, then the 'n' bytes at
 * 'p'.  A count does not fit in a byte is split. */
static void
fc_put_run(struct ofpbuf *b, size_t skip, const uint8_t *p, size_t n)
{
    for (; skip > UINT8_MAX; skip -= UINT8_MAX) {
        uint8_t hdr[2] = { UINT8_MAX, 0 };
        ofpbuf_put(b, hdr, 2);
    }
    do {
        size_t chunk = MIN(n, UINT8_MAX);
        uint8_t hdr[2] = { skip, chunk };
        ofpbuf_put(b, hdr, 2);
        ofpbuf_put(b, p, chunk);
        p += chunk;
        n -= chunk;
        skip = 0;
    } while (n);
}

bool
flow_codec_put_delta(struct ofpbuf *b, const void *base_, const void *data_,
                     size_t len, size_t max)
{
    const uint8_t *base = base_, *data = data_;
    size_t start_size = b->size;
    size_t i = 0, last = 0;
    while (i < len) {
        if (base[i] == data[i]) {
            i++;
            continue;
        }
        /* A run of bytes that differ, which takes in up to 2 bytes that
         * do not when more that differ follow: cheaper than a new run. */
        size_t start = i, end = i + 1;
        while (end < len) {
            if (base[end] != data[end]) {
                end++;
                continue;
            }
            size_t k = end;
            while (k < len && k < end + 3 && base[k] == data[k]) {
                k++;
            }
            if (k < len && k < end + 3) {
                end = k + 1;
            } else {
                break;
            }
        }
        fc_put_run(b, start - last, &data[start], end - start);
        if (b->size - start_size >= max) {
            b->size = start_size;
            return false;
        }
        last = i = end;
    }
    return true;
}

void
flow_codec_get_delta(void *out_, const void *base, size_t len,
                     const void *delta_, size_t delta_len)
{
    uint8_t *out = out_;
    const uint8_t *delta = delta_;
    memcpy(out, base, len);
    size_t pos = 0;
    for (size_t i = 0; i + 2 <= delta_len; ) {
        size_t skip = delta[i], n = delta[i + 1];
        pos += skip;
        ovs_assert(pos + n <= len && i + 2 + n <= delta_len);
        memcpy(&out[pos], &delta[i + 2], n);
        pos += n;
        i += 2 + n;
    }
}

/* Shapes of actions. */

struct flow_codec {
    struct hmap shapes;         /* Of struct fc_shape. */
};

/* A shape: per action, its type and encoding, and the field it sets. */
struct fc_shape {
    struct hmap_node node;      /* In 'shapes', by hash_words(sig). */
    bool faithful;
    size_t n;                   /* Elements of 'sig'. */
    uint32_t sig[];
};

/* The most actions a flow may have and be kept encoded. */
#define FC_MAX_ACTIONS 32

struct flow_codec *
flow_codec_create(void)
{
    struct flow_codec *fc = xmalloc(sizeof *fc);
    hmap_init(&fc->shapes);
    return fc;
}

void
flow_codec_destroy(struct flow_codec *fc)
{
    if (fc) {
        struct fc_shape *s;
        HMAP_FOR_EACH_POP (s, node, &fc->shapes) {
            free(s);
        }
        hmap_destroy(&fc->shapes);
        free(fc);
    }
}

/* Fills 'sig' with the shape of 'ofpacts' and returns its length, or 0 if
 * some action is not of the types that may be kept encoded: those that
 * print the same once encoded and decoded (as the unit tests check), and
 * whose printing depends on no value (a VLAN id printed with or without
 * its "present" bit). */
static size_t
fc_shape_of(const struct ofpact *ofpacts, size_t ofpacts_len,
            uint32_t sig[2 * FC_MAX_ACTIONS])
{
    size_t n = 0;
    const struct ofpact *a;
    OFPACT_FOR_EACH (a, ofpacts, ofpacts_len) {
        uint32_t field = 0;
        switch (a->type) {
        case OFPACT_OUTPUT:
        case OFPACT_RESUBMIT:
        case OFPACT_GOTO_TABLE:
        case OFPACT_REG_MOVE:
        case OFPACT_STRIP_VLAN:
        case OFPACT_PUSH_VLAN:
        case OFPACT_CONJUNCTION:
            break;

        case OFPACT_SET_FIELD: {
            enum mf_field_id id = ofpact_get_SET_FIELD(a)->field->id;
            if (id == MFF_VLAN_TCI || id == MFF_DL_VLAN || id == MFF_VLAN_VID
                || id == MFF_DL_VLAN_PCP || id == MFF_VLAN_PCP) {
                return 0;
            }
            field = id + 1;
            break;
        }

        default:
            return 0;
        }
        if (n >= 2 * FC_MAX_ACTIONS) {
            return 0;
        }
        sig[n++] = a->type | (uint32_t) a->raw << 8;
        sig[n++] = field;
    }
    return n;
}

/* Whether 'wire' decodes back to actions that print as 'ofpacts' do. */
static bool
fc_check(const struct ofpact *ofpacts, size_t ofpacts_len, const void *wire,
         size_t wire_len)
{
    struct ofpbuf decoded;
    ofpbuf_init(&decoded, ofpacts_len);
    bool same = false;
    if (!flow_codec_get_actions(wire, wire_len, &decoded)) {
        struct ds a = DS_EMPTY_INITIALIZER, b = DS_EMPTY_INITIALIZER;
        struct ofpact_format_params pa = { .s = &a }, pb = { .s = &b };
        ofpacts_format(ofpacts, ofpacts_len, &pa);
        ofpacts_format(decoded.data, decoded.size, &pb);
        same = !strcmp(ds_cstr(&a), ds_cstr(&b));
        if (!same) {
            VLOG_DBG("actions \"%s\" are kept as they are: encoded, they "
                     "would print as \"%s\"", ds_cstr(&a), ds_cstr(&b));
        }
        ds_destroy(&a);
        ds_destroy(&b);
    }
    ofpbuf_uninit(&decoded);
    return same;
}

bool
flow_codec_faithful(struct flow_codec *fc, const struct ofpact *ofpacts,
                    size_t ofpacts_len, const void *wire, size_t wire_len)
{
    if (!ofpacts_len) {
        return true;
    }
    uint32_t sig[2 * FC_MAX_ACTIONS];
    size_t n = fc_shape_of(ofpacts, ofpacts_len, sig);
    if (!n) {
        return false;
    }
    uint32_t hash = hash_words(sig, n, 0);
    struct fc_shape *s;
    HMAP_FOR_EACH_WITH_HASH (s, node, hash, &fc->shapes) {
        if (s->n == n && !memcmp(s->sig, sig, n * sizeof *sig)) {
            return s->faithful;
        }
    }
    s = xmalloc(sizeof *s + n * sizeof *sig);
    s->n = n;
    memcpy(s->sig, sig, n * sizeof *sig);
    s->faithful = fc_check(ofpacts, ofpacts_len, wire, wire_len);
    hmap_insert(&fc->shapes, &s->node, hash);
    return s->faithful;
}
