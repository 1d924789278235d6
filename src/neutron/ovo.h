/*
 * ovo: reading oslo.versionedobjects primitives, the form in which the
 * server's bulk_pull answers and resource pushes carry Neutron objects
 * (docs/wire.md §4.6): {"versioned_object.name": TYPE,
 * "versioned_object.data": {field: value, ...}, ...}, nested objects being
 * primitives themselves and unset fields absent.
 *
 * Layer: codec (no I/O).  Every accessor is NULL-safe, so that an object
 * of the wrong shape reads as absent.
 */
#ifndef OVSAGENT_OVO_H
#define OVSAGENT_OVO_H 1

#include <stddef.h>
#include <stdint.h>

struct json;

/* The "versioned_object.data" object of 'primitive' if its type is
 * 'type', else NULL. */
const struct json *ovo_data(const struct json *primitive, const char *type);

/* The number of elements of 'array', 0 if it is not an array; element
 * 'i' of it (i < ovo_array_n()). */
size_t ovo_array_n(const struct json *array);
const struct json *ovo_array_at(const struct json *array, size_t i);

/* Integer member 'name' of 'obj', or 'dflt' if absent or not an integer. */
int64_t ovo_member_int(const struct json *obj, const char *name,
                       int64_t dflt);

#endif /* ovo.h */
