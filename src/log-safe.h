/*
 * log-safe: text from peers, made fit for a log line.
 *
 * Layer: utility, below everything.  ovsagent logs ids, names and error
 * texts that come from the broker, the server and OVSDB, none of which it
 * controls.  A raw newline there would forge a log line, an escape sequence
 * would act on the terminal of whoever reads the log, and a megabyte-long
 * id would flood it.  Everything such a peer sent goes through log_safe()
 * before it reaches a VLOG_* call, an ovsagent/show line or an error text
 * that ends up in one.
 *
 * Printable ASCII stays as it is; any other byte becomes "\xHH".  Unlike
 * OVS's ds_put_printable(), '\' itself is not escaped: the escaping is then
 * idempotent, so that an error text a decoder already made safe and that a
 * caller escapes again when logging it reads the same.  The result is cut
 * at LOG_SAFE_MAX bytes of input, with "..." after it.
 */
#ifndef OVSAGENT_LOG_SAFE_H
#define OVSAGENT_LOG_SAFE_H 1

#include <stddef.h>

struct ds;

#define LOG_SAFE_MAX 512

/* Returns 's' (may be NULL: "(null)") escaped, in one of LOG_SAFE_SLOTS
 * static buffers that are reused in turn (main thread only): the result
 * stays valid until LOG_SAFE_SLOTS more calls, so that one log call can
 * escape several arguments.  The caller frees nothing. */
#define LOG_SAFE_SLOTS 8
const char *log_safe(const char *s);

/* The same for 'n' bytes at 's', which need not be NUL-terminated (AMQP
 * strings). */
const char *log_safe_len(const void *s, size_t n);

/* Appends 's' (may be NULL), escaped and cut the same way, to 'out'. */
void log_safe_put(struct ds *out, const char *s);

#endif /* log-safe.h */
