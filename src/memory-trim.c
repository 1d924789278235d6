/*
 * memory-trim: see memory-trim.h.
 */
#include <config.h>
#include "memory-trim.h"

#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "coverage.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(memory_trim);

COVERAGE_DEFINE(heap_trim);     /* Heap trims, for coverage/show. */

struct memory_trim {
    int quiet_ms;
    uint64_t activity;          /* As last noted. */
    long long int active_at;    /* When it last changed. */
    bool trimmed;               /* Since it last changed. */
    unsigned int n_trims;
};

struct memory_trim *
memory_trim_create(int quiet_ms)
{
    struct memory_trim *mt = xzalloc(sizeof *mt);
    mt->quiet_ms = quiet_ms;
    mt->active_at = time_msec();
    return mt;
}

void
memory_trim_destroy(struct memory_trim *mt)
{
    free(mt);
}

void
memory_trim_run(struct memory_trim *mt, uint64_t activity)
{
    long long int now = time_msec();
    if (activity != mt->activity) {
        mt->activity = activity;
        mt->active_at = now;
        mt->trimmed = false;
    } else if (!mt->trimmed && now >= mt->active_at + mt->quiet_ms) {
        mt->trimmed = true;
        mt->n_trims++;
#ifdef __GLIBC__
        malloc_trim(0);
#endif
        COVERAGE_INC(heap_trim);
        VLOG_DBG("quiet for %d ms: heap trimmed", mt->quiet_ms);
    }
}

unsigned int
memory_trim_count(const struct memory_trim *mt)
{
    return mt->n_trims;
}

void
memory_trim_wait(const struct memory_trim *mt)
{
    if (!mt->trimmed) {
        poll_timer_wait_until(mt->active_at + mt->quiet_ms);
    }
}
