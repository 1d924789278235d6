/*
 * memory-trim: gives back to the system the heap that the allocator holds
 * free, once the agent has been quiet for a while.
 *
 * A burst of work (a restart with hundreds of ports, the forwarding
 * database of a thousand hosts) leaves megabytes of freed heap that glibc
 * keeps for later; at rest the agent should not look, or be, that large.
 * ovn-controller does the same after a quiet period (its memory trimmer).
 * The caller says what "work" is: a sequence number that moves whenever
 * the agent did some.
 */
#ifndef OVSAGENT_MEMORY_TRIM_H
#define OVSAGENT_MEMORY_TRIM_H 1

#include <stdint.h>

struct memory_trim *memory_trim_create(int quiet_ms);
void memory_trim_destroy(struct memory_trim *);

/* Notes 'activity' (a number that changes whenever the agent worked) and,
 * once it has not changed for the quiet period, trims the heap, once. */
void memory_trim_run(struct memory_trim *, uint64_t activity);
void memory_trim_wait(const struct memory_trim *);

/* How many times the heap was trimmed. */
unsigned int memory_trim_count(const struct memory_trim *);

#endif /* memory-trim.h */
