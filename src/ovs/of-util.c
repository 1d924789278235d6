/*
 * of-util: small helpers shared by the OpenFlow sessions.  See of-util.h.
 */
#include <config.h>
#include "log-safe.h"
#include "ovs/of-util.h"

#include "openvswitch/dynamic-string.h"
#include "openvswitch/ofp-errors.h"
#include "openvswitch/ofp-print.h"
#include "openvswitch/ofp-util.h"
#include "openvswitch/ofpbuf.h"
#include "openvswitch/rconn.h"
#include "openvswitch/vlog.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(of_util);

static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(10, 60);

bool
of_util_answer_echo(struct rconn *rconn, const struct ofp_header *oh,
                    enum ofptype type)
{
    if (type != OFPTYPE_ECHO_REQUEST) {
        return false;
    }
    rconn_send(rconn, ofputil_encode_echo_reply(oh), NULL);
    return true;
}

void
of_util_log_error(const char *name, const struct ofp_header *oh)
{
    if (VLOG_DROP_ERR(&rl)) {
        return;
    }
    struct ofpbuf payload;
    enum ofperr error = ofperr_decode_msg(oh, &payload);
    struct ds s = DS_EMPTY_INITIALIZER;
    if (payload.size) {
        char *req = ofp_to_string(payload.data, payload.size, NULL, NULL, 1);
        ds_put_cstr(&s, req);
        free(req);
    }
    VLOG_ERR("%s: switch rejected a request: %s%s%s", name,
             error ? ofperr_get_name(error) : "unknown error",
             s.length ? ": " : "", log_safe(ds_cstr(&s)));
    ds_destroy(&s);
}
