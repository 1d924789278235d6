/*
 * json-util: NULL-safe JSON member access.  See json-util.h.
 */
#include <config.h>
#include "json-util.h"

#include "openvswitch/json.h"
#include "openvswitch/shash.h"

const struct json *
json_member(const struct json *obj, const char *name)
{
    return obj && obj->type == JSON_OBJECT
           ? shash_find_data(json_object(obj), name) : NULL;
}

const char *
json_member_string(const struct json *obj, const char *name)
{
    const struct json *j = json_member(obj, name);
    return j && j->type == JSON_STRING ? json_string(j) : NULL;
}

bool
json_member_bool(const struct json *obj, const char *name, bool dflt)
{
    const struct json *j = json_member(obj, name);
    return !j ? dflt
           : j->type == JSON_TRUE ? true
           : j->type == JSON_FALSE ? false : dflt;
}
