/*
 * test-util: the few helpers the unit test programs share.  Each program
 * prints "ok - ..." / "not ok - ..." per check and ends with the line
 * "N passed, M failed" that the test runner reads.
 */
#ifndef OVSAGENT_TEST_UTIL_H
#define OVSAGENT_TEST_UTIL_H 1

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

static int test_n_passed, test_n_failed;

static inline void
check(bool ok, const char *what)
{
    printf("%s - %s\n", ok ? "ok" : "not ok", what);
    if (ok) {
        test_n_passed++;
    } else {
        test_n_failed++;
    }
}

/* check() with a printf-style description. */
static inline void __attribute__((format(printf, 2, 3)))
checkf(bool ok, const char *format, ...)
{
    char what[1024];
    va_list args;
    va_start(args, format);
    vsnprintf(what, sizeof what, format, args);
    va_end(args);
    check(ok, what);
}

/* Prints the summary line; returns the program's exit status. */
static inline int
test_summary(void)
{
    printf("%d passed, %d failed\n", test_n_passed, test_n_failed);
    return test_n_failed ? 1 : 0;
}

#endif /* test-util.h */
