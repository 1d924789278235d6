/*
 * Unit tests of conj-ids: the reference's conjunction id allocation.
 */
#include <config.h>

#include "agent/conj-ids.h"
#include "test-util.h"

int
main(void)
{
    struct conj_ids *c = conj_ids_create(0);
    uint32_t a = conj_ids_get(c, "sg1", "sg1", true, false);
    checkf(a == 16, "the first id on a clean bridge is 16 (%u)", a);
    check(conj_ids_get(c, "sg1", "sg1", true, false) == 16,
          "the same key keeps its id");
    uint32_t b = conj_ids_get(c, "sg1", "sg1", true, true);
    uint32_t d = conj_ids_get(c, "sg1", "sg2", false, false);
    uint32_t e = conj_ids_get(c, "sg3", "sg3", true, false);
    check(b == 24 && d == 32 && e == 40, "then 24, 32, 40: steps of 8");
    check(conj_ids_count(c) == 4, "four keys");

    check(conj_ids_delete_sg(c, "sg2") == 1, "deleting a remote group "
          "frees the keys that name it");
    check(conj_ids_delete_sg(c, "sg1") == 2, "deleting a group frees its "
          "keys");
    uint32_t f = conj_ids_get(c, "sg4", "sg4", true, false);
    uint32_t g = conj_ids_get(c, "sg5", "sg5", true, false);
    uint32_t h = conj_ids_get(c, "sg6", "sg6", true, false);
    uint32_t i = conj_ids_get(c, "sg7", "sg7", true, false);
    checkf(f == 32 && g == 16 && h == 24 && i == 48,
           "freed ids come back first, oldest freed first, in their order "
           "of allocation (%u %u %u %u)", f, g, h, i);
    conj_ids_destroy(c);

    c = conj_ids_create(45);
    checkf(conj_ids_get(c, "x", "x", false, true) == 56,
           "after a restart, above the highest id on the bridge rounded "
           "down to 8, plus 8");
    conj_ids_destroy(c);

    c = conj_ids_create(UINT32_MAX - 20);
    checkf(conj_ids_get(c, "x", "x", false, true) == 0,
           "ids wrap to 0 past 2^32 - 8");
    conj_ids_destroy(c);
    return test_summary();
}
