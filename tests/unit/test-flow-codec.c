/*
 * Unit tests for flow-codec: matches as NXM, actions as OpenFlow 1.3,
 * deltas, and which actions may be kept encoded.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/match.h"
#include "openvswitch/ofp-actions.h"
#include "openvswitch/ofp-flow.h"
#include "openvswitch/ofpbuf.h"
#include "ovs/flow-codec.h"
#include "random.h"
#include "util.h"
#include "test-util.h"

static void
parse(const char *text, struct ofputil_flow_mod *fm)
{
    enum ofputil_protocol usable;
    char *error = parse_ofp_flow_mod_str(fm, text, NULL, NULL, OFPFC_ADD,
                                         &usable);
    if (error) {
        ovs_fatal(0, "%s: %s", text, error);
    }
}

static void
fm_destroy(struct ofputil_flow_mod *fm)
{
    minimatch_destroy(&fm->match);
    free(fm->ofpacts);
}

/* Two spellings of the same match encode alike, and decode back. */
static void
test_match(void)
{
    struct ofputil_flow_mod a, b;
    parse("table=20,priority=2,dl_vlan=1,dl_dst=fa:16:3e:00:00:01,"
          "actions=drop", &a);
    parse("priority=2,table=20,dl_dst=FA:16:3E:0:0:1,dl_vlan=1,"
          "actions=drop", &b);
    struct match ma, mb, back;
    minimatch_expand(&a.match, &ma);
    minimatch_expand(&b.match, &mb);
    struct ofpbuf ea, eb;
    ofpbuf_init(&ea, 64);
    ofpbuf_init(&eb, 64);
    size_t la = flow_codec_put_match(&ea, &ma);
    size_t lb = flow_codec_put_match(&eb, &mb);
    check(la == lb && la < 32 && ea.size % 8 == 0
          && !memcmp(ea.data, eb.data, ea.size),
          "the same match, spelt twice: the same NXM bytes, under 32");
    check(!flow_codec_get_match(ea.data, la, &back)
          && match_equal(&back, &ma), "and it decodes back");
    ofpbuf_uninit(&ea);
    ofpbuf_uninit(&eb);
    fm_destroy(&a);
    fm_destroy(&b);
}

/* Actions encode the same for two parses, decode back, and only those that
 * print as they did once decoded are kept encoded. */
static void
test_actions(void)
{
    static const struct {
        const char *actions;
        bool faithful;
    } cases[] = {
        { "pop_vlan,set_field:0x3e8->tun_id,output:5", true },
        { "set_field:2->arp_op,move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],"
          "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],"
          "set_field:fa:16:3e:00:00:01->arp_sha,"
          "set_field:172.16.0.1->arp_spa,"
          "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],"
          "set_field:fa:16:3e:00:00:01->eth_src,IN_PORT", true },
        { "set_field:0x3->reg5,set_field:0x1->reg6,resubmit(,71)", true },
        { "goto_table:59", true },
        { "conjunction(17,1/2)", true },
        { "push_vlan:0x8100,set_field:4099->vlan_vid,output:2", false },
        { "strip_vlan,output:5", false },
        { "mod_vlan_vid:3,output:2", false },
        { "ct(commit,zone=NXM_NX_REG6[0..15])", false },
        { "drop", true },
    };
    struct flow_codec *fc = flow_codec_create();
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
            char *text = xasprintf("priority=1,%s,actions=%s",
                                   i == 1 ? "arp" : "ip", cases[i].actions);
            struct ofputil_flow_mod a, b;
            parse(text, &a);
            parse(text, &b);
            struct ofpbuf wa, wb, back;
            ofpbuf_init(&wa, 64);
            ofpbuf_init(&wb, 64);
            ofpbuf_init(&back, 64);
            flow_codec_put_actions(&wa, a.ofpacts, a.ofpacts_len);
            flow_codec_put_actions(&wb, b.ofpacts, b.ofpacts_len);
            bool same = (wa.size == wb.size
                         && !memcmp(wa.data, wb.data, wa.size));
            bool decodes = !flow_codec_get_actions(wa.data, wa.size, &back);
            bool faithful = flow_codec_faithful(fc, a.ofpacts, a.ofpacts_len,
                                                wa.data, wa.size);
            if (!round) {
                /* The FDB's actions take fewer bytes encoded. */
                checkf(same && decodes && (i > 1 || wa.size < a.ofpacts_len),
                       "%s: the same bytes for two parses, and they decode "
                       "(%"PRIu32" bytes, %"PRIuSIZE" as struct ofpact)",
                       cases[i].actions, wa.size, a.ofpacts_len);
            }
            checkf(faithful == cases[i].faithful, "%s: %s%s",
                   cases[i].actions,
                   cases[i].faithful ? "kept encoded" : "kept as it is",
                   round ? " (the shape's answer remembered)" : "");
            ofpbuf_uninit(&wa);
            ofpbuf_uninit(&wb);
            ofpbuf_uninit(&back);
            fm_destroy(&a);
            fm_destroy(&b);
            free(text);
        }
    }
    flow_codec_destroy(fc);

    uint8_t w[8] = { 1 };
    check(flow_codec_content_hash(w, 8, 0, 0, 0)
          != flow_codec_content_hash(w, 8, OFPUTIL_FF_SEND_FLOW_REM, 0, 0)
          && flow_codec_content_hash(w, 8, 0, 0, 0)
             != flow_codec_content_hash(w, 8, 0, 10, 0)
          && flow_codec_content_hash(w, 8, 0, 0, 0)
             == flow_codec_content_hash(w, 8, OFPUTIL_FF_HIDDEN_FIELDS, 0, 0),
          "the content hash takes in the state flags and the timeouts");
}

/* Deltas rebuild what they were made from, and give up when too large. */
static void
test_delta(void)
{
    bool ok = true;
    for (int i = 0; i < 2000 && ok; i++) {
        uint8_t base[600], data[600], out[600];
        size_t len = random_range(sizeof base) + 1;
        random_bytes(base, len);
        memcpy(data, base, len);
        int n = random_range(8);
        for (int j = 0; j < n; j++) {
            size_t at = random_range(len);
            size_t span = random_range(300) + 1;
            span = MIN(len - at, span);
            random_bytes(&data[at], span);
        }
        struct ofpbuf d;
        ofpbuf_init(&d, 64);
        ovs_assert(flow_codec_put_delta(&d, base, data, len, SIZE_MAX));
        flow_codec_get_delta(out, base, len, d.data, d.size);
        ok = !memcmp(out, data, len);
        ofpbuf_uninit(&d);
    }
    check(ok, "2000 random deltas rebuild their data");

    uint8_t a[160] = { 0 }, b[160] = { 0 };
    b[40] = 1;
    b[41] = 2;
    b[100] = 3;
    struct ofpbuf d;
    ofpbuf_init(&d, 64);
    check(flow_codec_put_delta(&d, a, b, sizeof a, 16) && d.size == 7,
          "two runs of differences: 7 bytes");
    check(!flow_codec_put_delta(&d, a, b, sizeof a, 7) && d.size == 7,
          "a delta of the limit or more is refused, and appends nothing");
    ofpbuf_uninit(&d);
}

int
main(void)
{
    random_init();
    test_match();
    test_actions();
    test_delta();
    return test_summary();
}
