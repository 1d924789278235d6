/*
 * log-safe: text from peers, made fit for a log line.  See log-safe.h.
 */
#include <config.h>
#include "log-safe.h"

#include <string.h>

#include "openvswitch/dynamic-string.h"
#include "util.h"

static void
put_len(struct ds *out, const char *s, size_t n)
{
    for (size_t i = 0; i < MIN(n, LOG_SAFE_MAX); i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            ds_put_char(out, c);
        } else {
            ds_put_format(out, "\\x%02x", c);
        }
    }
    if (n > LOG_SAFE_MAX) {
        ds_put_cstr(out, "...");
    }
}

void
log_safe_put(struct ds *out, const char *s)
{
    if (s) {
        put_len(out, s, strnlen(s, LOG_SAFE_MAX + 1));
    } else {
        ds_put_cstr(out, "(null)");
    }
}

/* The buffers live as long as the process; each keeps the largest size it
 * was grown to, at most about 4 * LOG_SAFE_MAX bytes.  Only the main
 * thread logs what peers send. */
static struct ds slots[LOG_SAFE_SLOTS];
static unsigned int next_slot;

static struct ds *
take_slot(void)
{
    struct ds *ds = &slots[next_slot++ % LOG_SAFE_SLOTS];
    ds_clear(ds);
    return ds;
}

const char *
log_safe(const char *s)
{
    struct ds *ds = take_slot();
    log_safe_put(ds, s);
    return ds_cstr(ds);
}

const char *
log_safe_len(const void *s, size_t n)
{
    struct ds *ds = take_slot();
    if (s || !n) {
        put_len(ds, s ? s : "", n);
    } else {
        ds_put_cstr(ds, "(null)");
    }
    return ds_cstr(ds);
}
