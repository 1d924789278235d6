/*
 * ovo: reading oslo.versionedobjects primitives.  See ovo.h.
 */
#include <config.h>
#include "neutron/ovo.h"

#include <string.h>

#include "json-util.h"
#include "openvswitch/json.h"

const struct json *
ovo_data(const struct json *primitive, const char *type)
{
    const char *name = json_member_string(primitive, "versioned_object.name");
    const struct json *data = json_member(primitive, "versioned_object.data");
    return (name && !strcmp(name, type) && data && data->type == JSON_OBJECT
            ? data : NULL);
}

size_t
ovo_array_n(const struct json *array)
{
    return array && array->type == JSON_ARRAY ? json_array(array)->n : 0;
}

const struct json *
ovo_array_at(const struct json *array, size_t i)
{
    return json_array(array)->elems[i];
}

int64_t
ovo_member_int(const struct json *obj, const char *name, int64_t dflt)
{
    const struct json *v = json_member(obj, name);
    return v && v->type == JSON_INTEGER ? v->integer : dflt;
}
