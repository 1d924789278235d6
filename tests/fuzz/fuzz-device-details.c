/*
 * Fuzz target: device details (src/neutron/device-details.h), the
 * server's answer about one port.
 *
 * The input is a series of JSON documents; the details objects are taken
 * from each the way they arrive: a reply's "result" with its "devices"
 * list, a bare "devices" holder, a list of details, or one details object.
 * Each object is decoded; a decoded one must equal its own deep copy.
 *
 * Seeds: details in the form of get_devices_details_list_and_failed_devices
 * replies, made from the captured Port objects' values.
 */
#include <config.h>

#include <stdlib.h>

#include "fuzz-common.h"
#include "json-util.h"
#include "neutron/device-details.h"
#include "neutron/ovo.h"
#include "openvswitch/json.h"

#define MAX_DOCS 16

static void
decode(const struct json *j)
{
    struct device_details dd;
    char *error = device_details_from_json(j, &dd);
    if (error) {
        free(error);
        return;
    }
    fuzz_check_string(dd.device);
    if (dd.found) {
        /* What the port's flows are formatted from. */
        if (!fuzz_is_mac(dd.mac)) {
            abort();
        }
        for (size_t i = 0; i < dd.n_fixed_ips; i++) {
            if (!fuzz_is_ip(dd.fixed_ips[i])) {
                abort();
            }
        }
        for (size_t i = 0; i < dd.n_pairs; i++) {
            if (!fuzz_is_cidr(dd.pairs[i].ip)
                || !fuzz_is_mac(dd.pairs[i].mac)) {
                abort();
            }
        }
    }

    struct device_details copy;
    device_details_clone(&copy, &dd);
    if (!device_details_equal(&copy, &dd)
        || copy.found != dd.found
        || copy.no_active_binding != dd.no_active_binding) {
        abort();
    }
    device_details_destroy(&copy);
    device_details_destroy(&dd);
    device_details_destroy(&dd);    /* Must be harmless once emptied. */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    struct json **docs;
    size_t n_docs = fuzz_json_docs(data, size, MAX_DOCS, &docs);
    for (size_t i = 0; i < n_docs; i++) {
        const struct json *doc = docs[i];
        const struct json *result = json_member(doc, "result");
        const struct json *holder = result ? result : doc;
        const struct json *devices = json_member(holder, "devices");
        const struct json *list = (devices ? devices
                                   : doc->type == JSON_ARRAY ? doc : NULL);
        if (list) {
            for (size_t j = 0; j < ovo_array_n(list); j++) {
                decode(ovo_array_at(list, j));
            }
        } else {
            decode(doc);
        }
    }
    fuzz_json_docs_free(docs, n_docs);

    fuzz_check_log();
    return 0;
}
