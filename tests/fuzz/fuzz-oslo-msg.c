/*
 * Fuzz target: the oslo.messaging codec (src/oslo/oslo-msg.h) on an AMQP
 * message body as the broker delivers it.
 *
 * The body is decoded (envelope or bare message), then read both as a
 * request and as a reply, and any failure string is described, the way
 * rpc reads what arrives on its queues.  A decoded message must survive
 * its own round trips: wrapped again in an envelope it decodes, and from
 * then on (reals may lose digits once) to the same message.
 *
 * Seeds: the bodies of the captured requests and replies of
 * tests/unit/data/wire.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "json-util.h"
#include "openvswitch/json.h"
#include "oslo/oslo-msg.h"
#include "util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    struct json *msg;
    char *error = oslo_msg_decode(data, size, &msg);
    if (error) {
        free(error);
    } else {
        struct oslo_request req;
        error = oslo_msg_parse_request(msg, &req);
        if (!error && (!req.method || !req.args)) {
            abort();
        }
        free(error);

        struct oslo_reply reply;
        error = oslo_msg_parse_reply(msg, &reply);
        if (!error) {
            if (!reply.msg_id) {
                abort();
            }
            oslo_reply_destroy(&reply);
        }
        free(error);

        const char *failure = json_member_string(msg, "failure");
        if (failure) {
            free(oslo_msg_describe_failure(failure));
        }

        /* OVS prints reals with fewer digits than they may have come
         * with, so the first round trip may round them; the second must
         * change nothing. */
        char *body = oslo_msg_envelope(msg);
        struct json *again;
        error = oslo_msg_decode(body, strlen(body), &again);
        if (error) {
            abort();
        }
        char *body2 = oslo_msg_envelope(again);
        struct json *again2;
        error = oslo_msg_decode(body2, strlen(body2), &again2);
        if (error || !json_equal(again, again2)) {
            abort();
        }
        json_destroy(again2);
        free(body2);
        json_destroy(again);
        free(body);
        json_destroy(msg);
    }

    /* Whatever the body is, as the failure text of a reply. */
    char *text = xmemdup0((const char *) data, size);
    free(oslo_msg_describe_failure(text));
    free(text);

    fuzz_check_log();
    return 0;
}
