/*
 * oslo-msg: the oslo.messaging wire format (docs/wire.md §4): the "2.0"
 * envelope around a message that is JSON-encoded a second time, requests
 * (calls and casts) with the flattened request context, replies, and the
 * serialized exceptions that failure replies carry.
 *
 * Layer: codec.  No sockets, no logging above debug.  Every decoder takes
 * untrusted bytes and returns a malloc'd one-line error string for
 * malformed input, never crashes and never aborts on it.
 */
#ifndef OVSAGENT_OSLO_MSG_H
#define OVSAGENT_OSLO_MSG_H 1

#include <stdbool.h>
#include <stddef.h>

struct json;

/* The identifiers and context values of one request.  A NULL member is
 * generated afresh (uuid4 hex ids, "req-<uuid>", the current UTC time);
 * tests set them to reproduce a captured message exactly. */
struct oslo_msg_ids {
    const char *msg_id;         /* _msg_id, calls only. */
    const char *unique_id;      /* _unique_id. */
    const char *request_id;     /* _context_request_id. */
    const char *timestamp;      /* _context_timestamp. */
};

/* Returns the inner message of a request: 'method', a copy of 'args' (a
 * JSON object, borrowed), 'version' and 'namespace' (each omitted when
 * NULL), a fresh _unique_id and the admin context the reference agent
 * sends (docs/wire.md §4.3).  A non-NULL 'reply_q' makes it a call, with
 * _msg_id, _reply_q and a null _timeout.  'ids' may be NULL.  The caller
 * owns the result. */
struct json *oslo_msg_request(const char *method, const struct json *args,
                              const char *version, const char *namespace,
                              const char *reply_q,
                              const struct oslo_msg_ids *ids);

/* Returns the AMQP body for inner message 'msg' (borrowed): the envelope
 * {"oslo.version": "2.0", "oslo.message": "<msg as JSON text>"}, as a
 * malloc'd string. */
char *oslo_msg_envelope(const struct json *msg);

/* The two above in one: the body of a request, with 'msg_id' (NULL for a
 * cast) as its _msg_id and everything else generated.  Returns a malloc'd
 * string. */
char *oslo_msg_encode_request(const char *method, const struct json *args,
                              const char *version, const char *namespace,
                              const char *msg_id, const char *reply_q);

/* Decodes an AMQP body of 'size' bytes into the inner message object.
 * Accepts the 2.0 envelope and, as oslo does, a bare message object (an
 * object that lacks either envelope key).  Refuses envelope versions
 * other than 2.0 (major 2, minor 0).  On success returns NULL and stores
 * the object in '*msgp', which the caller destroys; otherwise returns a
 * malloc'd error and stores NULL. */
char *oslo_msg_decode(const void *body, size_t size, struct json **msgp);

/* A decoded request.  Every pointer points into the message it was parsed
 * from and lives as long as that message. */
struct oslo_request {
    const char *method;
    const struct json *args;    /* An object. */
    const char *version;        /* NULL if absent. */
    const char *namespace;      /* NULL if absent or null. */
    const char *msg_id;         /* NULL for a cast. */
    const char *reply_q;        /* NULL for a cast. */
    const char *unique_id;      /* NULL if absent. */
};

/* Parses inner message 'msg' as a request.  Returns NULL or a malloc'd
 * error (a missing or non-string method, args that are not an object, a
 * call without a reply queue, ...). */
char *oslo_msg_parse_request(const struct json *msg, struct oslo_request *);

/* One decoded reply message (docs/wire.md §4.4).  A call may receive
 * several: it is complete at the first one with 'ending' true. */
struct oslo_reply {
    const char *msg_id;         /* Points into the message. */
    const struct json *result;  /* Into the message; NULL if absent/null. */
    char *failure;              /* Malloc'd one-line error, or NULL. */
    bool ending;                /* "ending" is present and true. */
};

/* Parses inner message 'msg' as a reply.  Returns NULL or a malloc'd
 * error; on success the caller releases '*reply' with
 * oslo_reply_destroy(). */
char *oslo_msg_parse_reply(const struct json *msg, struct oslo_reply *);
void oslo_reply_destroy(struct oslo_reply *);

/* Returns a malloc'd one-line description "Class: message" of 'failure',
 * the serialized exception of a failure reply (docs/wire.md §4.5).
 * Malformed failures are described as "RemoteError: ..." with their
 * text. */
char *oslo_msg_describe_failure(const char *failure);

/* A fresh uuid4 as 32 lower-case hex digits, malloc'd. */
char *oslo_msg_new_id(void);

/* The current UTC time as "YYYY-MM-DD<sep>HH:MM:SS.ffffff", malloc'd: the
 * form Python's datetime gives and neutron-server parses ('T' in
 * report_state's "time", ' ' in the context timestamp). */
char *oslo_msg_utc_time(char sep);

#endif /* oslo-msg.h */
