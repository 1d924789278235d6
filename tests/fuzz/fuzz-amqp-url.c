/*
 * Fuzz target: transport_url (amqp_url_parse() in src/oslo/amqp-conn.h).
 *
 * Besides not crashing, the parser promises that its error messages never
 * show a password.  Each password of the input, found the way the parser
 * splits the URL (brokers at ',', credentials before the last '@' of each,
 * the password after their first ':'), must be absent from the error,
 * unless the error for the same URL with another password says it too.
 *
 * Seeds: the URLs of tests/unit/test-amqp-url.c and the sandbox's.
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "fuzz-common.h"
#include "oslo/amqp-conn.h"
#include "util.h"

/* Returns 'url' with its 'len' bytes at 'pos' replaced by a letter that
 * does not occur in it, or NULL if every letter does. */
static char *
replace_with_other(const char *url, size_t pos, size_t len)
{
    static const char letters[] = "QZJXKVWqzjxkvw";
    for (const char *l = letters; *l; l++) {
        if (!strchr(url, *l)) {
            char *copy = xstrdup(url);
            memset(copy + pos, *l, len);
            return copy;
        }
    }
    return NULL;
}

/* Aborts if 'error', the error for 'url', shows one of its passwords: if
 * the error for the same URL with the password's bytes replaced still
 * holds the password, it is part of the message's own text, not a leak. */
static void
check_no_password(const char *url, const char *error)
{
    if (strncmp(url, "rabbit://", 9)) {
        return;                 /* Only the scheme is quoted then. */
    }
    char *copy = xstrdup(url);
    char *save = NULL;
    for (char *spec = strtok_r(copy + 9, ",", &save); spec;
         spec = strtok_r(NULL, ",", &save)) {
        char *at = strrchr(spec, '@');
        if (!at) {
            continue;
        }
        *at = '\0';
        /* A password with a '%' may be what the error is about ("%00"),
         * named in the error's own words. */
        char *colon = strchr(spec, ':');
        if (!colon || strlen(colon + 1) < 3 || strchr(colon + 1, '%')
            || !strstr(error, colon + 1)) {
            continue;
        }
        const char *password = colon + 1;
        char *other = replace_with_other(url, password - copy,
                                         strlen(password));
        if (other) {
            struct amqp_url u;
            char *error2 = amqp_url_parse(other, &u);
            if (!error2) {
                amqp_url_destroy(&u);
            }
            if (!error2 || !strstr(error2, password)) {
                abort();
            }
            free(error2);
            free(other);
        }
    }
    free(copy);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();

    char *url = xmemdup0((const char *) data, size);
    struct amqp_url u;
    char *error = amqp_url_parse(url, &u);
    if (error) {
        if (u.n_hosts || u.hosts || u.vhost) {
            abort();            /* 'u' must be left empty. */
        }
        check_no_password(url, error);
        free(error);
    } else {
        if (!u.n_hosts || !u.vhost) {
            abort();
        }
        for (size_t i = 0; i < u.n_hosts; i++) {
            const struct amqp_host *h = &u.hosts[i];
            if (!h->user || !h->password || !h->host || !h->host[0]
                || h->port <= 0 || h->port > 65535) {
                abort();
            }
        }
        amqp_url_destroy(&u);
    }
    free(url);

    fuzz_check_log();
    return 0;
}
