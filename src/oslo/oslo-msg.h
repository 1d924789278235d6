/*
 * oslo-msg: the oslo.messaging wire format (rpc-wire §2): the "2.0"
 * envelope around a JSON-encoded-again message, requests (calls and
 * casts), replies and serialized failures.
 *
 * Layer: codec.  No sockets, no logging above debug; malformed input is an
 * error string, never a crash.
 */
#ifndef OVSAGENT_OSLO_MSG_H
#define OVSAGENT_OSLO_MSG_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;

/* Builds a request body (envelope included) for 'method' with 'args'
 * (borrowed).  For a call, 'msg_id' and 'reply_q' are non-NULL.  Returns a
 * malloc'd string. */
char *oslo_msg_encode_request(const char *method, const struct json *args,
                              const char *version, const char *namespace,
                              const char *msg_id, const char *reply_q);

/* Decodes an AMQP body of 'size' bytes into the inner message object.
 * Accepts the 2.0 envelope and, as oslo does, a bare message.  On success
 * returns NULL and stores the object in '*msgp' (the caller destroys it);
 * otherwise returns a malloc'd error. */
char *oslo_msg_decode(const void *body, size_t size, struct json **msgp);

/* A decoded request: pointers into the message object. */
struct oslo_request {
    const char *method;
    const struct json *args;    /* An object. */
    const char *msg_id;         /* NULL for a cast. */
    const char *reply_q;
};
char *oslo_msg_parse_request(const struct json *msg, struct oslo_request *);

/* A decoded reply.  'failure' is a malloc'd one-line description or NULL;
 * 'result' points into the message. */
struct oslo_reply {
    const char *msg_id;
    const struct json *result;  /* NULL if absent. */
    char *failure;
    bool ending;
};
char *oslo_msg_parse_reply(const struct json *msg, struct oslo_reply *);
void oslo_reply_destroy(struct oslo_reply *);

/* The current UTC time as "YYYY-MM-DD<sep>HH:MM:SS.ffffff", malloc'd: the
 * form Python's datetime gives and neutron-server parses ('T' in
 * report_state's "time", ' ' in the context timestamp). */
char *oslo_msg_utc_time(char sep);

/* A fresh uuid4 as 32 lower-case hex digits, malloc'd. */
char *oslo_msg_new_id(void);

#endif /* oslo-msg.h */
