/*
 * Unit tests for memory-trim: the heap is trimmed once the activity number
 * has stood still for the quiet period, once, and again only after new
 * activity; the trimmer's own timer wakes the loop for it; and a trim
 * gives freed heap back to the system.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memory-trim.h"
#include "openvswitch/poll-loop.h"
#include "openvswitch/vlog.h"
#include "timeval.h"
#include "util.h"
#include "test-util.h"

#define QUIET_MS 50

/* Runs the loop as the agent does, with only the trimmer waiting (and a
 * 2 s guard), until 'mt' has trimmed 'n' times or the guard fires.  The
 * milliseconds it took. */
static long long int
loop_until_trims(struct memory_trim *mt, uint64_t activity, unsigned int n)
{
    long long int start = time_msec();
    while (memory_trim_count(mt) < n && time_msec() < start + 2000) {
        memory_trim_wait(mt);
        poll_timer_wait_until(start + 2000);
        poll_block();
        memory_trim_run(mt, activity);
    }
    return time_msec() - start;
}

/* Resident bytes of this process. */
static long long int
resident(void)
{
    long long int pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lld %lld", &pages, &rss) != 2) {
            rss = 0;
        }
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

static void
test_quiet_period(void)
{
    struct memory_trim *mt = memory_trim_create(QUIET_MS);
    memory_trim_run(mt, 1);
    check(memory_trim_count(mt) == 0, "no trim while the agent is busy");

    long long int ms = loop_until_trims(mt, 1, 1);
    checkf(memory_trim_count(mt) == 1 && ms >= QUIET_MS / 2 && ms < 1000,
           "one trim once the activity stood still (%lld ms)", ms);

    /* Quiet on: no second trim, and nothing to wake up for. */
    long long int start = time_msec();
    memory_trim_wait(mt);
    poll_timer_wait(200);
    poll_block();
    memory_trim_run(mt, 1);
    checkf(memory_trim_count(mt) == 1 && time_msec() - start >= 150,
           "no second trim while quiet, and no wake-up asked for");

    memory_trim_run(mt, 2);
    check(memory_trim_count(mt) == 1, "new activity: no trim at once");
    ms = loop_until_trims(mt, 2, 2);
    checkf(memory_trim_count(mt) == 2 && ms < 1000,
           "and another trim a quiet period after it (%lld ms)", ms);
    memory_trim_destroy(mt);
}

static void
test_gives_back(void)
{
    /* 32 MB in 4 KB blocks, all freed but the last (which keeps the top of
     * the heap where it is, so free() alone cannot give anything back). */
    enum { N = 8192, SIZE = 4096 };
    char **blocks = xmalloc(N * sizeof *blocks);
    for (int i = 0; i < N; i++) {
        blocks[i] = xmalloc(SIZE);
        memset(blocks[i], i, SIZE);
    }
    for (int i = 0; i < N - 1; i++) {
        free(blocks[i]);
    }
    long long int before = resident();

    struct memory_trim *mt = memory_trim_create(0);
    memory_trim_run(mt, 1);
    memory_trim_run(mt, 1);
    long long int after = resident();
    memory_trim_destroy(mt);
    free(blocks[N - 1]);
    free(blocks);

#if defined(__SANITIZE_ADDRESS__)
    /* The sanitizer's allocator has its own heap; glibc's trim sees none
     * of it. */
    (void) before;
    (void) after;
    check(true, "a trim gives freed heap back (not measurable under ASan)");
#else
    checkf(before - after > 16 * 1024 * 1024,
           "a trim gives freed heap back (%lld MB -> %lld MB resident)",
           before >> 20, after >> 20);
#endif
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_quiet_period();
    test_gives_back();
    return test_summary();
}
