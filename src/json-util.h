/*
 * json-util: typed, NULL-safe access to members of the OVS JSON values the
 * peers send, so that a message of the wrong shape reads as "absent" and
 * never crashes the reader.
 *
 * Layer: bottom (codecs use it).
 */
#ifndef OVSAGENT_JSON_UTIL_H
#define OVSAGENT_JSON_UTIL_H 1

#include <stdbool.h>

struct json;

/* Member 'name' of 'obj', or NULL if 'obj' is not an object or lacks it. */
const struct json *json_member(const struct json *obj, const char *name);

/* Member 'name' as a string, or NULL if absent, null or not a string. */
const char *json_member_string(const struct json *obj, const char *name);

/* Member 'name' as a boolean, or 'dflt' if absent or not a boolean. */
bool json_member_bool(const struct json *obj, const char *name, bool dflt);

#endif /* json-util.h */
