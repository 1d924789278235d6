/*
 * Unit tests for ini.c (oslo.config's INI dialect and value types) and
 * agent-config.c (Neutron's options, the command line, validation).
 *
 * Prints one line per check and, last, "N passed, M failed"; exits non-zero
 * if any check failed.  Files are written to a fresh temporary directory
 * that is removed at the end.  If OVSAGENT_STOCK_CONF names a directory
 * holding Debian's stock neutron.conf and plugins/ml2/openvswitch_agent.ini,
 * they are parsed too; otherwise that part prints "SKIP stock files".
 */
#include <config.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent-config.h"
#include "ini.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "timeval.h"
#include "util.h"

static int n_passed, n_failed;

/* The temporary directory, and every file and directory made in it, in
 * creation order, so that they can be removed in reverse. */
static char *tmp_dir;
static struct svec made = SVEC_EMPTY_INITIALIZER;

static void OVS_PRINTF_FORMAT(2, 3)
check(bool ok, const char *format, ...)
{
    va_list args;

    va_start(args, format);
    fputs(ok ? "PASS: " : "FAIL: ", stdout);
    vprintf(format, args);
    putchar('\n');
    va_end(args);
    if (ok) {
        n_passed++;
    } else {
        n_failed++;
    }
}

static bool
streq(const char *a, const char *b)
{
    return a && b && !strcmp(a, b);
}

/* Returns true if 's' contains each of the NULL-terminated strings that
 * follow. */
static bool
has_all(const char *s, ...)
{
    va_list args;
    bool ok = s != NULL;

    va_start(args, s);
    for (const char *sub; (sub = va_arg(args, const char *)) != NULL; ) {
        ok = ok && strstr(s, sub);
    }
    va_end(args);
    return ok;
}

/* Returns a malloc'd copy of 's' with newlines and backslashes escaped,
 * so that each check prints on one line. */
static char *
esc(const char *s)
{
    struct ds ds = DS_EMPTY_INITIALIZER;

    if (!s) {
        return xstrdup("(null)");
    }
    for (; *s; s++) {
        if (*s == '\n') {
            ds_put_cstr(&ds, "\\n");
        } else if (*s == '\\') {
            ds_put_cstr(&ds, "\\\\");
        } else {
            ds_put_char(&ds, *s);
        }
    }
    return ds_steal_cstr(&ds);
}

static void
check_str(const char *name, const char *got, const char *want)
{
    char *g = esc(got), *w = esc(want);

    if (!want) {
        check(!got, "%s is unset (got \"%s\")", name, g);
    } else {
        check(streq(got, want), "%s = \"%s\" (got \"%s\")", name, w, g);
    }
    free(g);
    free(w);
}

static void
check_int(const char *name, long long got, long long want)
{
    check(got == want, "%s = %lld (got %lld)", name, want, got);
}

/* Checks that 'error' is a single line containing every NULL-terminated
 * string after it; frees 'error'. */
#define CHECK_ERROR(NAME, ERROR, ...)                                   \
    check_error(NAME, ERROR, has_all(ERROR, __VA_ARGS__, (char *) NULL))

static void
check_error(const char *name, char *error, bool matches)
{
    char *e = esc(error);
    check(error && matches && !strchr(error, '\n'), "%s: error \"%s\"",
          name, e);
    free(e);
    free(error);
}

static void
check_ok(const char *name, char *error)
{
    if (error) {
        char *e = esc(error);
        check(false, "%s: unexpected error \"%s\"", name, e);
        free(e);
        free(error);
    } else {
        check(true, "%s: no error", name);
    }
}

/* Temporary files. */

static char *
tmp_path(const char *rel)
{
    return xasprintf("%s/%s", tmp_dir, rel);
}

static void
make_dirs(const char *rel)
{
    char *path = tmp_path(rel);
    for (char *s = path + strlen(tmp_dir) + 1; ; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (!mkdir(path, 0700)) {
                svec_add(&made, path);
            }
            *s = c;
        }
        if (!*s) {
            break;
        }
    }
    free(path);
}

/* Writes 'content' to 'rel' under the temporary directory, making its
 * directories, and returns its full path (owned by the caller). */
static char *
write_file(const char *rel, const char *content)
{
    char *path = tmp_path(rel);
    char *dir = xstrdup(rel);
    char *slash = strrchr(dir, '/');
    if (slash) {
        *slash = '\0';
        make_dirs(dir);
    }
    free(dir);

    FILE *f = fopen(path, "w");
    if (!f) {
        ovs_fatal(errno, "%s: create failed", path);
    }
    fputs(content, f);
    fclose(f);
    if (!svec_contains_unsorted(&made, path)) {
        svec_add(&made, path);
    }
    return path;
}

static void
remove_tmp(void)
{
    for (size_t i = made.n; i-- > 0; ) {
        if (unlink(made.names[i])) {
            rmdir(made.names[i]);
        }
    }
    rmdir(tmp_dir);
    svec_destroy(&made);
    free(tmp_dir);
}

/* Running the parser. */

static struct agent_config_env test_env;
static FILE *test_out;

/* Parses the NULL-terminated arguments (after the program name) for 'prog'
 * with the test environment: no host checks, no environment variables, no
 * default files.  Returns the error, if any, and stores the config or
 * NULL. */
static char *
run_args(enum config_program prog, struct agent_config **cfgp,
         bool *exit_now, const char *arg0, va_list args)
{
    struct svec argv = SVEC_EMPTY_INITIALIZER;
    bool dummy;

    svec_add(&argv, "ovsagent");
    for (const char *arg = arg0; arg; arg = va_arg(args, const char *)) {
        svec_add(&argv, arg);
    }
    char *error = agent_config_parse(prog, argv.n, argv.names, &test_env,
                                     cfgp, exit_now ? exit_now : &dummy);
    svec_destroy(&argv);
    return error;
}

static char *
run(struct agent_config **cfgp, const char *arg0, ...)
{
    va_list args;
    va_start(args, arg0);
    char *error = run_args(CONFIG_PROG_AGENT, cfgp, NULL, arg0, args);
    va_end(args);
    return error;
}

static char *
run_cleanup(struct agent_config **cfgp, const char *arg0, ...)
{
    va_list args;
    va_start(args, arg0);
    char *error = run_args(CONFIG_PROG_CLEANUP, cfgp, NULL, arg0, args);
    va_end(args);
    return error;
}

/* Parses a single file holding 'content' and returns the error, if any;
 * stores the config in '*cfgp' unless 'cfgp' is NULL (then frees it). */
static char *
run_content(const char *content, struct agent_config **cfgp)
{
    char *path = write_file("single.ini", content);
    struct agent_config *cfg;
    char *error = run(&cfg, "--config-file", path, NULL);
    if (cfgp) {
        *cfgp = cfg;
    } else {
        agent_config_destroy(cfg);
    }
    free(path);
    return error;
}

/* Checks that a file with 'content' is refused with an error that names
 * the file, "[section]" and 'option', and contains 'detail'. */
static void
check_bad(const char *content, const char *section, const char *option,
          const char *detail)
{
    char *path = tmp_path("single.ini");
    char *sect = xasprintf("[%s]", section);
    char *name = xasprintf("bad %s %s (%s)", sect, option, detail);
    struct agent_config *cfg;
    char *error = run_content(content, &cfg);

    check(!cfg, "%s: no config", name);
    CHECK_ERROR(name, error, path, sect, option, detail);
    free(name);
    free(sect);
    free(path);
}

/* ini.c */

static struct ini test_ini;

static const struct ini_value *
lookup(const char *group, const char *name)
{
    const char *names[] = { name, NULL };
    return ini_lookup(&test_ini, group, names);
}

static const char *
lookup_value(const char *group, const char *name)
{
    const struct ini_value *v = lookup(group, name);
    return v ? v->value : NULL;
}

static void
parse_one(const char *text)
{
    ini_destroy(&test_ini);
    ini_init(&test_ini);
    check_ok("parse", ini_parse_string(&test_ini, "t.conf", text));
}

static void
test_ini_syntax(void)
{
    parse_one("# comment\n"
              "; another comment\n"
              "[DEFAULT]\n"
              "a = b # not a comment\n"
              "c = d ; nor this\n"
              "colon: value\n"
              "eq = x:y\n"
              "col: x=y\n"
              "spaces   =    padded   \n"
              "empty =\n"
              "dq = \"quoted value\"\n"
              "sq = 'single'\n"
              "mixed = \"half'\n"
              "lone = \"\n"
              "inner = a \"b\" c\n"
              "multi = first\n"
              "   second\n"
              "\tthird\n"
              "\n"
              "after = blank\n"
              "[ovs]\n"
              "x = 1\n"
              "[OVS]\n"
              "y = 2\n"
              "[default]\n"
              "z = 3\n");
    check_str("inline '#' kept", lookup_value("DEFAULT", "a"),
              "b # not a comment");
    check_str("inline ';' kept", lookup_value("DEFAULT", "c"),
              "d ; nor this");
    check_str("':' separator", lookup_value("DEFAULT", "colon"), "value");
    check_str("'=' before ':'", lookup_value("DEFAULT", "eq"), "x:y");
    check_str("':' before '='", lookup_value("DEFAULT", "col"), "x=y");
    check_str("stripped", lookup_value("DEFAULT", "spaces"), "padded");
    check_str("empty value", lookup_value("DEFAULT", "empty"), "");
    check_str("double quotes", lookup_value("DEFAULT", "dq"),
              "quoted value");
    check_str("single quotes", lookup_value("DEFAULT", "sq"), "single");
    check_str("unmatched quotes kept", lookup_value("DEFAULT", "mixed"),
              "\"half'");
    check_str("lone quote", lookup_value("DEFAULT", "lone"), "");
    check_str("inner quotes kept", lookup_value("DEFAULT", "inner"),
              "a \"b\" c");
    check_str("continuation", lookup_value("DEFAULT", "multi"),
              "first\nsecond\nthird");
    check_str("after blank line", lookup_value("DEFAULT", "after"), "blank");
    check_str("[ovs]", lookup_value("ovs", "x"), "1");
    check_str("[OVS] is group ovs", lookup_value("ovs", "y"), "2");
    check_str("[default] is not DEFAULT", lookup_value("DEFAULT", "z"),
              NULL);
    check_str("[default] is its own group", lookup_value("default", "z"),
              "3");

    const struct ini_value *v = lookup("DEFAULT", "colon");
    check(v && v->line == 6 && streq(v->file_name, "t.conf"),
          "value records file and line");
    check(test_ini.n_files == 1 && test_ini.files[0]->n_sections == 4,
          "sections recorded");
}

static void
test_ini_continuation_edge(void)
{
    /* An indented line right after a key continues it, even when it looks
     * like an assignment. */
    parse_one("[s]\na = 1\n  b = 2\n");
    check_str("indented assignment continues", lookup_value("s", "a"),
              "1\nb = 2");
    check_str("no key from continuation", lookup_value("s", "b"), NULL);

    parse_one("[s]\na =\n  x\n");
    check_str("empty first line", lookup_value("s", "a"), "\nx");

    parse_one("[s]\na = 1\n  # hash\n");
    check_str("indented '#' continues", lookup_value("s", "a"), "1\n# hash");

    parse_one("[s]\r\na = 1\r\n  2\r\nb = 3\rc = 4");
    check_str("CRLF", lookup_value("s", "a"), "1\n2");
    check_str("CR and no final newline", lookup_value("s", "c"), "4");
}

static void
check_ini_error(const char *name, const char *text, const char *detail,
                const char *where)
{
    struct ini ini;
    ini_init(&ini);
    char *error = ini_parse_string(&ini, "bad.conf", text);
    check(ini.n_files == 0, "%s: file not added", name);
    CHECK_ERROR(name, error, where, detail);
    ini_destroy(&ini);
}

static void
test_ini_errors(void)
{
    check_ini_error("key before section", "a = 1\n[s]\n",
                    "section must be started", "bad.conf:1:");
    check_ini_error("empty section", "[s]\n[]\n", "empty section name",
                    "bad.conf:2:");
    check_ini_error("unterminated section", "[s\n", "must end with ]",
                    "bad.conf:1:");
    check_ini_error("no separator", "[s]\njunk\n", "no ':' or '='",
                    "bad.conf:2:");
    check_ini_error("empty key at column 0", "[s]\n= x\n",
                    "key cannot be empty", "bad.conf:2:");
    check_ini_error("continuation after blank", "[s]\na = 1\n\n  2\n",
                    "unexpected continuation", "bad.conf:4:");
    check_ini_error("continuation after comment", "[s]\na = 1\n#c\n  2\n",
                    "unexpected continuation", "bad.conf:4:");
    check_ini_error("continuation after section", "[s]\n  2\n",
                    "unexpected continuation", "bad.conf:2:");

    struct ini ini;
    ini_init(&ini);
    static const char nul[] = "[s]\na = x\0y\n";
    char *error = ini_parse_buffer(&ini, "nul.conf", nul, sizeof nul - 1);
    CHECK_ERROR("NUL byte", error, "nul.conf:2:");
    ini_destroy(&ini);
}

static void
test_ini_long_lines(void)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    struct ds value = DS_EMPTY_INITIALIZER;

    ds_put_cstr(&text, "#");
    ds_put_char_multiple(&text, 'c', 10000);
    ds_put_cstr(&text, "\n[s]\nlong = ");
    for (int i = 0; i < 5000; i++) {
        ds_put_char(&value, 'a' + i % 26);
    }
    ds_put_format(&text, "%s\nafter = 1\n", ds_cstr(&value));

    parse_one(ds_cstr(&text));
    const char *got = lookup_value("s", "long");
    check(streq(got, ds_cstr(&value)), "5000-byte value after a 10000-byte "
          "comment (got %zu bytes)", got ? strlen(got) : 0);
    check_str("line after long line", lookup_value("s", "after"), "1");
    ds_destroy(&text);
    ds_destroy(&value);
}

static void
test_ini_repeats(void)
{
    ini_destroy(&test_ini);
    ini_init(&test_ini);
    check_ok("file 1", ini_parse_string(&test_ini, "one.conf",
                                        "[s]\nk = 1\nk = 2\nm = a\n"
                                        "old = o1\nnew = n1\n"));
    check_ok("file 2", ini_parse_string(&test_ini, "two.conf",
                                        "[S]\nm = b\nm = c\nonly1 = x\n"));
    check_ok("file 3", ini_parse_string(&test_ini, "three.conf",
                                        "[s]\nk = 3\nk = 4\n"
                                        "new = n3\nold = o3\n"));
    check_str("last value wins across files", lookup_value("s", "k"), "4");
    const struct ini_value *v = lookup("s", "k");
    check(v && streq(v->file_name, "three.conf") && v->line == 3
          && v->file_idx == 2, "winner's file and line recorded");
    check_str("last in file wins", lookup_value("s", "m"), "c");
    check_str("older file value kept", lookup_value("s", "only1"), "x");

    const struct ini_value **all;
    const char *m_names[] = { "m", NULL };
    size_t n = ini_lookup_all(&test_ini, "s", m_names, &all);
    check(n == 3 && streq(all[0]->value, "a") && streq(all[1]->value, "b")
          && streq(all[2]->value, "c"), "multi-valued: all values in order");
    free(all);

    /* Within a file the current name beats a deprecated one whatever
     * their order; across files the newer file wins. */
    const char *names[] = { "new", "old", NULL };
    v = ini_lookup(&test_ini, "s", names);
    check(v && streq(v->value, "n3"), "current name beats deprecated");
    check_ok("file 4", ini_parse_string(&test_ini, "four.conf",
                                        "[s]\nold = o4\n"));
    v = ini_lookup(&test_ini, "s", names);
    check(v && streq(v->value, "o4"), "newer deprecated beats older name");
    ini_destroy(&test_ini);
    ini_init(&test_ini);
}

static void
test_ini_dir(void)
{
    char *p;
    free(write_file("dir/b.conf", "[s]\nk = b\n"));
    free(write_file("dir/a.conf", "[s]\nk = a\n"));
    free(write_file("dir/10.conf", "[s]\nk = 10\n"));
    free(write_file("dir/.hidden.conf", "[s]\nk = hidden\n"));
    free(write_file("dir/c.ini", "[s]\nk = ini\n"));
    free(write_file("dir/conf", "[s]\nk = bare\n"));

    struct svec files = SVEC_EMPTY_INITIALIZER;
    p = tmp_path("dir");
    check(!ini_list_dir(p, &files) && files.n == 3
          && has_all(files.names[0], "/10.conf", (char *) NULL)
          && has_all(files.names[1], "/a.conf", (char *) NULL)
          && has_all(files.names[2], "/b.conf", (char *) NULL),
          "dir: *.conf only, sorted by name, hidden skipped");
    svec_destroy(&files);

    struct ini ini;
    ini_init(&ini);
    check_ok("read dir", ini_read_dir(&ini, p));
    const char *names[] = { "k", NULL };
    const struct ini_value *v = ini_lookup(&ini, "s", names);
    check(v && streq(v->value, "b"), "dir: last file by name wins");
    free(p);

    p = tmp_path("no-such-dir");
    char *error = ini_read_dir(&ini, p);
    CHECK_ERROR("missing dir", error, p, "not found");
    free(p);

    p = tmp_path("dir/c.ini");
    check_ok("non-directory reads nothing", ini_read_dir(&ini, p));
    free(p);

    p = tmp_path("no-such-file.conf");
    error = ini_read_file(&ini, p);
    CHECK_ERROR("missing file", error, p, "No such file");
    free(p);
    ini_destroy(&ini);
}

static void
test_ini_types(void)
{
    static const char *const trues[] = {
        "true", "True", "TRUE", "yes", "Yes", "on", "ON", "1",
    };
    static const char *const falses[] = {
        "false", "False", "no", "NO", "off", "Off", "0",
    };
    static const char *const bad_bools[] = {
        "", "2", "y", "n", "truee", "enabled", " true",
    };
    bool b;
    int i;
    double d;

    for (size_t k = 0; k < ARRAY_SIZE(trues); k++) {
        b = false;
        char *error = ini_parse_bool(trues[k], &b);
        check(!error && b, "bool \"%s\" is true", trues[k]);
        free(error);
    }
    for (size_t k = 0; k < ARRAY_SIZE(falses); k++) {
        b = true;
        char *error = ini_parse_bool(falses[k], &b);
        check(!error && !b, "bool \"%s\" is false", falses[k]);
        free(error);
    }
    for (size_t k = 0; k < ARRAY_SIZE(bad_bools); k++) {
        char *error = ini_parse_bool(bad_bools[k], &b);
        check(error != NULL, "bool \"%s\" is refused", bad_bools[k]);
        free(error);
    }

    static const struct {
        const char *s;
        bool ok;
        int value;
    } ints[] = {
        { "42", true, 42 }, { " 7 ", true, 7 }, { "+3", true, 3 },
        { "-3", true, -3 }, { "007", true, 7 }, { "1_000", true, 1000 },
        { "", false, 0 }, { "x", false, 0 }, { "1.5", false, 0 },
        { "0x10", false, 0 }, { "1__0", false, 0 }, { "_1", false, 0 },
        { "1_", false, 0 }, { "- 3", false, 0 }, { "99999999999", false, 0 },
        { "99999999999999999999999", false, 0 },
    };
    for (size_t k = 0; k < ARRAY_SIZE(ints); k++) {
        i = INT_MIN;
        char *error = ini_parse_int(ints[k].s, INT_MIN, INT_MAX, &i);
        check(ints[k].ok ? !error && i == ints[k].value : error != NULL,
              "int \"%s\" %s", ints[k].s,
              ints[k].ok ? "parses" : "is refused");
        free(error);
    }
    char *error = ini_parse_int("65536", 0, 65535, &i);
    CHECK_ERROR("int above max", error, "65536", "out of range");
    error = ini_parse_int("-1", 0, 65535, &i);
    CHECK_ERROR("int below min", error, "-1", "out of range");

    error = ini_parse_float("2.5", &d);
    check(!error && d == 2.5, "float 2.5");
    free(error);
    error = ini_parse_float(" 30 ", &d);
    check(!error && d == 30, "float \" 30 \"");
    free(error);
    error = ini_parse_float("1e1", &d);
    check(!error && d == 10, "float 1e1");
    free(error);
    static const char *const bad_floats[] = { "", "x", "inf", "nan", "0x1p3",
                                              "1.5s" };
    for (size_t k = 0; k < ARRAY_SIZE(bad_floats); k++) {
        error = ini_parse_float(bad_floats[k], &d);
        check(error != NULL, "float \"%s\" is refused", bad_floats[k]);
        free(error);
    }

    struct svec items = SVEC_EMPTY_INITIALIZER;
    ini_parse_list(" a , b,,c ,", &items);
    check(items.n == 3 && streq(items.names[0], "a")
          && streq(items.names[1], "b") && streq(items.names[2], "c"),
          "list items stripped, empty ones dropped");
    svec_clear(&items);
    ini_parse_list("", &items);
    check(items.n == 0, "empty list");
    svec_destroy(&items);

    check(ini_is_ip_address("192.0.2.1") && ini_is_ip_address("::1")
          && ini_is_ip_address("2001:db8::1"), "valid IP addresses");
    check(!ini_is_ip_address("") && !ini_is_ip_address("192.0.2")
          && !ini_is_ip_address("192.0.2.256")
          && !ini_is_ip_address("host") && !ini_is_ip_address("1.2.3.4 "),
          "invalid IP addresses");
    check(ini_is_host_address("compute-1") && ini_is_host_address("a.b.c")
          && ini_is_host_address("node1.example.com.")
          && ini_is_host_address("10.0.0.1"), "valid host addresses");
    check(!ini_is_host_address("") && !ini_is_host_address("bad_host")
          && !ini_is_host_address("-a") && !ini_is_host_address("a..b")
          && !ini_is_host_address("1.2.3.999"), "invalid host addresses");
}

static char *
test_resolver(const char *name, void *aux, char **valuep)
{
    int *calls = aux;
    (*calls)++;
    if (!strcmp(name, "known") || !strcmp(name, "grp.opt")) {
        *valuep = xasprintf("<%s>", name);
        return NULL;
    }
    return xasprintf("no %s", name);
}

static void
test_ini_substitute(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        { "plain", "plain" },
        { "$known", "<known>" },
        { "${known}", "<known>" },
        { "a/$known/b", "a/<known>/b" },
        { "${grp.opt}x", "<grp.opt>x" },
        { "pa$$word", "pa$word" },
        { "pa\\$word", "pa$word" },
        { "$1 and $ and ${", "$1 and $ and ${" },
        { "end$", "end$" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int calls = 0;
        char *out;
        char *error = ini_substitute(cases[i].in, test_resolver, &calls,
                                     &out);
        check(!error && streq(out, cases[i].out), "substitute \"%s\" -> "
              "\"%s\" (got \"%s\")", cases[i].in, cases[i].out,
              out ? out : "(null)");
        free(error);
        free(out);
    }
    int calls = 0;
    char *out;
    char *error = ini_substitute("x$unknown", test_resolver, &calls, &out);
    CHECK_ERROR("substitute unknown", error, "no unknown");
    check(!out, "no output on error");
}

/* agent-config.c */

static void
test_defaults(void)
{
    struct agent_config *cfg;
    char hostname[256] = "";

    gethostname(hostname, sizeof hostname - 1);
    check_ok("no arguments", run(&cfg, NULL));
    if (!cfg) {
        return;
    }
    check_str("host", cfg->host, hostname);
    check_str("transport_url", cfg->transport_url, NULL);
    check(!cfg->debug, "debug defaults to false");
    check_str("log_file", cfg->log_file, NULL);
    check_str("log_dir", cfg->log_dir, NULL);
    check(!cfg->use_syslog, "use_syslog defaults to false");
    check_str("syslog_log_facility", cfg->syslog_log_facility, "LOG_USER");
    check_str("integration_bridge", cfg->integration_bridge, "br-int");
    check_str("tunnel_bridge", cfg->tunnel_bridge, "br-tun");
    check_str("int_peer_patch_port", cfg->int_peer_patch_port, "patch-tun");
    check_str("tun_peer_patch_port", cfg->tun_peer_patch_port, "patch-int");
    check_str("local_ip", cfg->local_ip, NULL);
    check_int("n_bridge_mappings", cfg->n_bridge_mappings, 0);
    check_str("datapath_type", cfg->datapath_type, "system");
    check_str("ovsdb_connection", cfg->ovsdb_connection,
              "tcp:127.0.0.1:6640");
    check_int("ovsdb_timeout", cfg->ovsdb_timeout, 10);
    check_str("of_listen_address", cfg->of_listen_address, "127.0.0.1");
    check_int("of_listen_port", cfg->of_listen_port, 6633);
    check_int("of_connect_timeout", cfg->of_connect_timeout, 300);
    check_int("of_request_timeout", cfg->of_request_timeout, 300);
    check_int("of_inactivity_probe", cfg->of_inactivity_probe, 10);
    check_str("ssl_key_file", cfg->ssl_key_file, NULL);
    check_str("ssl_cert_file", cfg->ssl_cert_file, NULL);
    check_str("ssl_ca_cert_file", cfg->ssl_ca_cert_file, NULL);
    check_int("bridge_mac_table_size", cfg->bridge_mac_table_size, 50000);
    check(!cfg->igmp_snooping_enable, "igmp_snooping_enable false");
    check_int("tunnel_types", cfg->tunnel_types, 0);
    check_int("n_tunnel_types", cfg->n_tunnel_types, 0);
    check(!cfg->l2_population, "l2_population false");
    check(!cfg->arp_responder, "arp_responder false");
    check_int("polling_interval", cfg->polling_interval, 2);
    check(cfg->minimize_polling, "minimize_polling true");
    check_int("report_interval", cfg->report_interval, 30);
    check(!cfg->drop_flows_on_start, "drop_flows_on_start false");
    check_int("veth_mtu", cfg->veth_mtu, 9000);
    check_int("vxlan_udp_port", cfg->vxlan_udp_port, 4789);
    check(cfg->dont_fragment, "dont_fragment true");
    check(!cfg->tunnel_csum, "tunnel_csum false");
    check(!cfg->explicitly_egress_direct, "explicitly_egress_direct false");
    check(!cfg->enable_distributed_routing,
          "enable_distributed_routing false");
    check(cfg->firewall_driver == FW_NOOP, "firewall_driver noop");
    check(cfg->enable_security_group, "enable_security_group true");
    check(cfg->permitted_ethertypes.n == 0, "permitted_ethertypes empty");
    check(cfg->extensions.n == 0, "extensions empty");
    check(!cfg->ovs_all_ports, "ovs_all_ports false");
    check_str("unixctl_path", cfg->unixctl_path, NULL);
    check_int("n_config_files", cfg->n_config_files, 0);
    check_str("control_exchange", cfg->control_exchange, "neutron");
    check_int("rpc_response_timeout", cfg->rpc_response_timeout, 60);
    check(!cfg->amqp_durable_queues, "amqp_durable_queues false");
    check(!cfg->amqp_auto_delete, "amqp_auto_delete false");
    check(!cfg->rabbit_quorum_queue, "rabbit_quorum_queue false");
    check(!cfg->rabbit_ha_queues, "rabbit_ha_queues false");
    check_int("rabbit_transient_queues_ttl",
              cfg->rabbit_transient_queues_ttl, 1800);
    check_int("heartbeat_timeout_threshold",
              cfg->heartbeat_timeout_threshold, 60);
    check(!cfg->rabbit_ssl, "[oslo_messaging_rabbit] ssl false");
    check_str("rabbit ssl_ca_file", cfg->rabbit_ssl_ca_file, NULL);
    agent_config_destroy(cfg);

    /* The [oslo_messaging_rabbit] options as a deployment tool sets them. */
    char *f = write_file("rabbit.ini",
                         "[DEFAULT]\ncontrol_exchange = other\n"
                         "rpc_response_timeout = 90\n"
                         "[oslo_messaging_rabbit]\n"
                         "amqp_durable_queues = True\n"
                         "amqp_auto_delete = true\n"
                         "rabbit_quorum_queue = yes\n"
                         "rabbit_ha_queues = 0\n"
                         "rabbit_transient_queues_ttl = 600\n"
                         "heartbeat_timeout_threshold = 30\n"
                         "ssl = true\nssl_ca_file = /etc/ca.pem\n"
                         "ssl_cert_file = /etc/c.pem\nssl_key_file = /etc/k\n");
    check_ok("[oslo_messaging_rabbit] options", run(&cfg, "--config-file", f,
                                                     NULL));
    if (cfg) {
        check_str("control_exchange set", cfg->control_exchange, "other");
        check_int("rpc_response_timeout set", cfg->rpc_response_timeout, 90);
        check(cfg->amqp_durable_queues && cfg->amqp_auto_delete
              && cfg->rabbit_quorum_queue && !cfg->rabbit_ha_queues,
              "the rabbit booleans are read");
        check_int("rabbit_transient_queues_ttl set",
                  cfg->rabbit_transient_queues_ttl, 600);
        check_int("heartbeat_timeout_threshold set",
                  cfg->heartbeat_timeout_threshold, 30);
        check(cfg->rabbit_ssl, "ssl set");
        check_str("ssl_ca_file set", cfg->rabbit_ssl_ca_file, "/etc/ca.pem");
        check_str("ssl_cert_file set", cfg->rabbit_ssl_cert_file,
                  "/etc/c.pem");
        check_str("ssl_key_file set", cfg->rabbit_ssl_key_file, "/etc/k");
        agent_config_destroy(cfg);
    }
    free(f);
    check_bad("[oslo_messaging_rabbit]\nheartbeat_timeout_threshold = x\n",
              "oslo_messaging_rabbit", "heartbeat_timeout_threshold",
              "invalid");

    check_ok("cleanup, no arguments", run_cleanup(&cfg, NULL));
    if (cfg) {
        check_int("cleanup ovsdb_timeout default", cfg->ovsdb_timeout, 600);
        check(!cfg->ovs_all_ports, "cleanup ovs_all_ports false");
        agent_config_destroy(cfg);
    }
    char *path = write_file("timeout.ini", "[ovs]\novsdb_timeout = 20\n");
    check_ok("cleanup, ovsdb_timeout set",
             run_cleanup(&cfg, "--config-file", path, NULL));
    if (cfg) {
        check_int("cleanup ovsdb_timeout as set", cfg->ovsdb_timeout, 20);
        agent_config_destroy(cfg);
    }
    free(path);
}

static const char full_ini[] =
    "[DEFAULT]\n"
    "host = compute-7.example.org\n"
    "transport_url = rabbit://neutron:secret@ctl:5672/\n"
    "debug = True\n"
    "log_file = agent.log\n"
    "log_dir = /var/log/x\n"
    "use_syslog = yes\n"
    "syslog_log_facility = LOG_LOCAL3\n"
    "[ovs]\n"
    "integration_bridge = br-i\n"
    "tunnel_bridge = br-t\n"
    "int_peer_patch_port = p-t\n"
    "tun_peer_patch_port = p-i\n"
    "local_ip = 192.0.2.10\n"
    "bridge_mappings = physnet1:br-eth1, physnet2 : br-eth2 ,\n"
    "datapath_type = netdev\n"
    "ovsdb_connection = unix:/run/openvswitch/db.sock\n"
    "ovsdb_timeout = 11\n"
    "of_listen_address = ::1\n"
    "of_listen_port = 6653\n"
    "of_connect_timeout = 31\n"
    "of_request_timeout = 32\n"
    "of_inactivity_probe = 0\n"
    "ssl_key_file = /k\n"
    "ssl_cert_file = /c\n"
    "ssl_ca_cert_file = /ca\n"
    "bridge_mac_table_size = 100\n"
    "igmp_snooping_enable = on\n"
    "[agent]\n"
    "tunnel_types = VXLAN, geneve,gre,vxlan\n"
    "l2_population = true\n"
    "arp_responder = true\n"
    "polling_interval = 5\n"
    "minimize_polling = false\n"
    "report_interval = 2.5\n"
    "drop_flows_on_start = 1\n"
    "veth_mtu = 1500\n"
    "vxlan_udp_port = 8472\n"
    "dont_fragment = false\n"
    "tunnel_csum = true\n"
    "explicitly_egress_direct = true\n"
    "enable_distributed_routing = false\n"
    "[securitygroup]\n"
    "firewall_driver = openvswitch\n"
    "enable_security_group = true\n"
    "permitted_ethertypes = 0x4008, 0x88cc\n"
    "[unknown_section]\n"
    "whatever = 1\n";

static void
test_all_options(void)
{
    struct agent_config *cfg;

    check_ok("every option set", run_content(full_ini, &cfg));
    if (!cfg) {
        return;
    }
    check_str("host", cfg->host, "compute-7.example.org");
    check_str("transport_url", cfg->transport_url,
              "rabbit://neutron:secret@ctl:5672/");
    check(cfg->debug, "debug");
    check_str("log_file", cfg->log_file, "agent.log");
    check_str("log_dir", cfg->log_dir, "/var/log/x");
    check(cfg->use_syslog, "use_syslog");
    check_str("syslog_log_facility", cfg->syslog_log_facility, "LOG_LOCAL3");
    check_str("integration_bridge", cfg->integration_bridge, "br-i");
    check_str("tunnel_bridge", cfg->tunnel_bridge, "br-t");
    check_str("int_peer_patch_port", cfg->int_peer_patch_port, "p-t");
    check_str("tun_peer_patch_port", cfg->tun_peer_patch_port, "p-i");
    check_str("local_ip", cfg->local_ip, "192.0.2.10");
    check(cfg->n_bridge_mappings == 2
          && streq(cfg->bridge_mappings[0].physnet, "physnet1")
          && streq(cfg->bridge_mappings[0].bridge, "br-eth1")
          && streq(cfg->bridge_mappings[1].physnet, "physnet2")
          && streq(cfg->bridge_mappings[1].bridge, "br-eth2"),
          "bridge_mappings parsed and stripped");
    const struct bridge_mapping *m = agent_config_find_bridge(cfg,
                                                              "br-eth2");
    check(m && streq(m->physnet, "physnet2"), "find_bridge br-eth2");
    check(!agent_config_find_bridge(cfg, "br-none"), "find_bridge unknown");
    check_str("datapath_type", cfg->datapath_type, "netdev");
    check_str("ovsdb_connection", cfg->ovsdb_connection,
              "unix:/run/openvswitch/db.sock");
    check_int("ovsdb_timeout", cfg->ovsdb_timeout, 11);
    check_str("of_listen_address", cfg->of_listen_address, "::1");
    check_int("of_listen_port", cfg->of_listen_port, 6653);
    check_int("of_connect_timeout", cfg->of_connect_timeout, 31);
    check_int("of_request_timeout", cfg->of_request_timeout, 32);
    check_int("of_inactivity_probe", cfg->of_inactivity_probe, 0);
    check_str("ssl_key_file", cfg->ssl_key_file, "/k");
    check_str("ssl_cert_file", cfg->ssl_cert_file, "/c");
    check_str("ssl_ca_cert_file", cfg->ssl_ca_cert_file, "/ca");
    check_int("bridge_mac_table_size", cfg->bridge_mac_table_size, 100);
    check(cfg->igmp_snooping_enable, "igmp_snooping_enable");
    check(cfg->tunnel_types == (TUNNEL_VXLAN | TUNNEL_GENEVE | TUNNEL_GRE)
          && cfg->n_tunnel_types == 3
          && streq(cfg->tunnel_type_names[0], "vxlan")
          && streq(cfg->tunnel_type_names[1], "geneve")
          && streq(cfg->tunnel_type_names[2], "gre"),
          "tunnel_types lower-cased, in order, without repeats");
    check(cfg->l2_population, "l2_population");
    check(cfg->arp_responder, "arp_responder");
    check_int("polling_interval", cfg->polling_interval, 5);
    check(!cfg->minimize_polling, "minimize_polling");
    check_int("report_interval 2.5 rounds up", cfg->report_interval, 3);
    check(cfg->drop_flows_on_start, "drop_flows_on_start");
    check_int("veth_mtu", cfg->veth_mtu, 1500);
    check_int("vxlan_udp_port", cfg->vxlan_udp_port, 8472);
    check(!cfg->dont_fragment, "dont_fragment");
    check(cfg->tunnel_csum, "tunnel_csum");
    check(cfg->explicitly_egress_direct, "explicitly_egress_direct");
    check(cfg->firewall_driver == FW_OPENVSWITCH, "firewall openvswitch");
    check(cfg->permitted_ethertypes.n == 2
          && !strcmp(cfg->permitted_ethertypes.names[0], "0x4008")
          && !strcmp(cfg->permitted_ethertypes.names[1], "0x88cc"),
          "permitted_ethertypes, a list");
    check_str("fw_driver_name", fw_driver_name(cfg->firewall_driver),
              "openvswitch");
    check_str("fw_driver_name noop", fw_driver_name(FW_NOOP), "noop");
    check(cfg->n_config_files == 1
          && has_all(cfg->config_files[0], "single.ini", (char *) NULL),
          "config_files lists the file");
    agent_config_destroy(cfg);
}

static void
test_bad_values(void)
{
    check_bad("[DEFAULT]\ndebug = maybe\n", "DEFAULT", "debug", "maybe");
    check_bad("[DEFAULT]\nuse_syslog = 2\n", "DEFAULT", "use_syslog", "2");
    check_bad("[DEFAULT]\nhost = bad_host!\n", "DEFAULT", "host",
              "not a valid host address");
    check_bad("[ovs]\nlocal_ip = 10.0.0\n", "ovs", "local_ip",
              "not an IPv4 or IPv6 address");
    check_bad("[ovs]\nlocal_ip =\n", "ovs", "local_ip",
              "not an IPv4 or IPv6 address");
    check_bad("[ovs]\nof_listen_address = localhost\n", "ovs",
              "of_listen_address", "not an IPv4 or IPv6 address");
    check_bad("[ovs]\nof_listen_port = 70000\n", "ovs", "of_listen_port",
              "out of range");
    check_bad("[ovs]\nof_listen_port = -1\n", "ovs", "of_listen_port",
              "out of range");
    check_bad("[ovs]\nof_listen_port = http\n", "ovs", "of_listen_port",
              "invalid integer");
    check_bad("[ovs]\novsdb_timeout = 1.5\n", "ovs", "ovsdb_timeout",
              "invalid integer");
    check_bad("[ovs]\nof_connect_timeout =\n", "ovs", "of_connect_timeout",
              "invalid integer");
    check_bad("[ovs]\nof_request_timeout = x\n", "ovs",
              "of_request_timeout", "invalid integer");
    check_bad("[ovs]\nof_inactivity_probe = x\n", "ovs",
              "of_inactivity_probe", "invalid integer");
    check_bad("[ovs]\nbridge_mac_table_size = big\n", "ovs",
              "bridge_mac_table_size", "invalid integer");
    check_bad("[ovs]\nigmp_snooping_enable = maybe\n", "ovs",
              "igmp_snooping_enable", "maybe");
    check_bad("[ovs]\ndatapath_type = dpdk\n", "ovs", "datapath_type",
              "dpdk");
    check_bad("[ovs]\nbridge_mappings = physnet1\n", "ovs",
              "bridge_mappings",
              "invalid mapping \"physnet1\" (expected physnet:bridge)");
    check_bad("[ovs]\nbridge_mappings = a:b:c\n", "ovs", "bridge_mappings",
              "invalid mapping \"a:b:c\"");
    check_bad("[ovs]\nbridge_mappings = :br-x\n", "ovs", "bridge_mappings",
              "missing physnet");
    check_bad("[ovs]\nbridge_mappings = p1: \n", "ovs", "bridge_mappings",
              "missing bridge");
    check_bad("[ovs]\nbridge_mappings = p1:br-a,p1:br-b\n", "ovs",
              "bridge_mappings", "physnet \"p1\" mapped more than once");
    check_bad("[ovs]\nbridge_mappings = p1:br-a,p2:br-a\n", "ovs",
              "bridge_mappings", "bridge \"br-a\" mapped more than once");
    check_bad("[agent]\ntunnel_types = vxlan,stt\n", "agent", "tunnel_types",
              "invalid tunnel type \"stt\"");
    check_bad("[agent]\ntunnel_types = vxlan\n", "agent", "tunnel_types",
              "requires [ovs] local_ip");
    check_bad("[agent]\nl2_population = x\n", "agent", "l2_population", "x");
    check_bad("[agent]\narp_responder = x\n", "agent", "arp_responder", "x");
    check_bad("[agent]\npolling_interval = 2s\n", "agent",
              "polling_interval", "invalid integer");
    check_bad("[agent]\nminimize_polling = x\n", "agent", "minimize_polling",
              "x");
    check_bad("[agent]\nreport_interval = soon\n", "agent",
              "report_interval", "invalid number");
    check_bad("[agent]\ndrop_flows_on_start = x\n", "agent",
              "drop_flows_on_start", "x");
    check_bad("[agent]\nveth_mtu = x\n", "agent", "veth_mtu",
              "invalid integer");
    check_bad("[agent]\nvxlan_udp_port = 65536\n", "agent",
              "vxlan_udp_port", "out of range");
    check_bad("[agent]\ndont_fragment = x\n", "agent", "dont_fragment", "x");
    check_bad("[agent]\ntunnel_csum = x\n", "agent", "tunnel_csum", "x");
    check_bad("[agent]\nexplicitly_egress_direct = x\n", "agent",
              "explicitly_egress_direct", "x");
    check_bad("[agent]\nenable_distributed_routing = x\n", "agent",
              "enable_distributed_routing", "x");
    check_bad("[agent]\nenable_distributed_routing = true\n", "agent",
              "enable_distributed_routing", "not supported");
    check_bad("[securitygroup]\nenable_security_group = x\n",
              "securitygroup", "enable_security_group", "x");
    check_bad("[securitygroup]\nfirewall_driver = bogus\n", "securitygroup",
              "firewall_driver", "unknown firewall driver \"bogus\"");

    static const char *const iptables[] = {
        "iptables", "iptables_hybrid",
        "neutron.agent.linux.iptables_firewall.IptablesFirewallDriver",
        "neutron.agent.linux.iptables_firewall."
        "OVSHybridIptablesFirewallDriver",
    };
    for (size_t i = 0; i < ARRAY_SIZE(iptables); i++) {
        char *content = xasprintf("[securitygroup]\nfirewall_driver = %s\n",
                                  iptables[i]);
        check_bad(content, "securitygroup", "firewall_driver",
                  "not supported by ovsagent");
        free(content);
    }

    /* The message names the section as the file wrote it. */
    check_bad("[OVS]\nof_listen_port = x\n", "OVS", "of_listen_port",
              "invalid integer");

    /* A deprecated name is named as written. */
    check_bad("[ovs]\novs_integration_bridge = $nope\n", "ovs",
              "ovs_integration_bridge", "no such option");
}

/* The [oslo_messaging_rabbit] options beyond those test_defaults() reads:
 * reconnection, heartbeat rate, quorum limits, oslo's deprecated names,
 * and the checks oslo.messaging makes when it creates its transport. */
static void
test_oslo_messaging(void)
{
    struct agent_config *cfg;

    check_ok("oslo.messaging defaults", run(&cfg, NULL));
    if (cfg) {
        check_int("rabbit_quorum_delivery_limit",
                  cfg->rabbit_quorum_delivery_limit, 0);
        check_int("rabbit_quorum_max_memory_length",
                  cfg->rabbit_quorum_max_memory_length, 0);
        check_int("rabbit_quorum_max_memory_bytes",
                  cfg->rabbit_quorum_max_memory_bytes, 0);
        check_int("heartbeat_rate", cfg->heartbeat_rate, 2);
        check_int("rabbit_retry_interval", cfg->rabbit_retry_interval, 1);
        check_int("rabbit_retry_backoff", cfg->rabbit_retry_backoff, 2);
        check_int("rabbit_interval_max", cfg->rabbit_interval_max, 30);
        check_str("ssl_cert_file", cfg->rabbit_ssl_cert_file, NULL);
        check_str("ssl_key_file", cfg->rabbit_ssl_key_file, NULL);
        agent_config_destroy(cfg);
    }

    check_ok("reconnection, heartbeat and quorum options", run_content(
                 "[oslo_messaging_rabbit]\n"
                 "rabbit_quorum_queue = true\n"
                 "rabbit_quorum_delivery_limit = 3\n"
                 "rabbit_quorum_max_memory_length = 100\n"
                 "rabbit_quorum_max_memory_bytes = 4096\n"
                 "heartbeat_timeout_threshold = 0\n"
                 "heartbeat_rate = 4\n"
                 "rabbit_retry_interval = 5\n"
                 "rabbit_retry_backoff = 1\n"
                 "rabbit_interval_max = 10\n", &cfg));
    if (cfg) {
        check_int("rabbit_quorum_delivery_limit set",
                  cfg->rabbit_quorum_delivery_limit, 3);
        check_int("rabbit_quorum_max_memory_length set",
                  cfg->rabbit_quorum_max_memory_length, 100);
        check_int("rabbit_quorum_max_memory_bytes set",
                  cfg->rabbit_quorum_max_memory_bytes, 4096);
        check_int("heartbeat_timeout_threshold 0 (off)",
                  cfg->heartbeat_timeout_threshold, 0);
        check_int("heartbeat_rate set", cfg->heartbeat_rate, 4);
        check_int("rabbit_retry_interval set", cfg->rabbit_retry_interval,
                  5);
        check_int("rabbit_retry_backoff set", cfg->rabbit_retry_backoff, 1);
        check_int("rabbit_interval_max set", cfg->rabbit_interval_max, 10);
        agent_config_destroy(cfg);
    }

    /* Zed spells the quorum memory options "quroum"; kombu_* and
     * rabbit_use_ssl are oslo's deprecated names of the TLS options. */
    check_ok("oslo.messaging deprecated names", run_content(
                 "[oslo_messaging_rabbit]\n"
                 "rabbit_ha_queues = true\n"
                 "rabbit_quroum_max_memory_length = 7\n"
                 "rabbit_quroum_max_memory_bytes = 8\n"
                 "rabbit_use_ssl = true\n"
                 "kombu_ssl_ca_certs = /a\n"
                 "kombu_ssl_certfile = /c\n"
                 "kombu_ssl_keyfile = /k\n", &cfg));
    if (cfg) {
        check(cfg->rabbit_ha_queues, "rabbit_ha_queues set");
        check_int("rabbit_quroum_max_memory_length read",
                  cfg->rabbit_quorum_max_memory_length, 7);
        check_int("rabbit_quroum_max_memory_bytes read",
                  cfg->rabbit_quorum_max_memory_bytes, 8);
        check(cfg->rabbit_ssl, "rabbit_use_ssl read as ssl");
        check_str("kombu_ssl_ca_certs read", cfg->rabbit_ssl_ca_file, "/a");
        check_str("kombu_ssl_certfile read", cfg->rabbit_ssl_cert_file,
                  "/c");
        check_str("kombu_ssl_keyfile read", cfg->rabbit_ssl_key_file, "/k");
        agent_config_destroy(cfg);
    }

    check_bad("[oslo_messaging_rabbit]\nrabbit_quorum_queue = true\n"
              "rabbit_ha_queues = true\n", "oslo_messaging_rabbit",
              "rabbit_ha_queues", "both enabled");
    check_bad("[oslo_messaging_rabbit]\nrabbit_transient_queues_ttl = 0\n",
              "oslo_messaging_rabbit", "rabbit_transient_queues_ttl",
              "less than the minimum 1");
    check_bad("[oslo_messaging_rabbit]\nheartbeat_rate = 2.5\n",
              "oslo_messaging_rabbit", "heartbeat_rate", "invalid integer");
    check_bad("[oslo_messaging_rabbit]\nrabbit_retry_interval = soon\n",
              "oslo_messaging_rabbit", "rabbit_retry_interval",
              "invalid integer");
    check_bad("[oslo_messaging_rabbit]\nrabbit_retry_backoff = x\n",
              "oslo_messaging_rabbit", "rabbit_retry_backoff",
              "invalid integer");
    check_bad("[oslo_messaging_rabbit]\nrabbit_interval_max = x\n",
              "oslo_messaging_rabbit", "rabbit_interval_max",
              "invalid integer");
    check_bad("[oslo_messaging_rabbit]\nrabbit_quorum_delivery_limit = x\n",
              "oslo_messaging_rabbit", "rabbit_quorum_delivery_limit",
              "invalid integer");
    check_bad("[oslo_messaging_rabbit]\nssl = maybe\n",
              "oslo_messaging_rabbit", "ssl", "maybe");
    check_bad("[DEFAULT]\nrpc_response_timeout = 1m\n", "DEFAULT",
              "rpc_response_timeout", "invalid integer");

    /* ovsagent-cleanup does not read them, so it does not refuse them. */
    char *path = write_file("oslo-cleanup.ini",
                            "[oslo_messaging_rabbit]\nheartbeat_rate = x\n");
    check_ok("cleanup ignores oslo.messaging options",
             run_cleanup(&cfg, "--config-file", path, NULL));
    agent_config_destroy(cfg);
    free(path);
}

static void
test_firewall_drivers(void)
{
    static const struct {
        const char *content;
        enum firewall_kind driver;
    } cases[] = {
        { "[securitygroup]\n", FW_NOOP },
        { "[securitygroup]\nfirewall_driver =\n", FW_NOOP },
        { "[securitygroup]\nfirewall_driver = noop\n", FW_NOOP },
        { "[securitygroup]\nfirewall_driver = "
          "neutron.agent.firewall.NoopFirewallDriver\n", FW_NOOP },
        { "[securitygroup]\nfirewall_driver = openvswitch\n",
          FW_OPENVSWITCH },
        { "[securitygroup]\nfirewall_driver = "
          "neutron.agent.linux.openvswitch_firewall.OVSFirewallDriver\n",
          FW_OPENVSWITCH },
        { "[securitygroup]\nfirewall_driver = "
          "neutron.agent.linux.openvswitch_firewall:OVSFirewallDriver\n",
          FW_OPENVSWITCH },
        { "[securitygroup]\nfirewall_driver = openvswitch\n"
          "enable_security_group = false\n", FW_NOOP },
        { "[securitygroup]\nfirewall_driver = iptables_hybrid\n"
          "enable_security_group = False\n", FW_NOOP },
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct agent_config *cfg;
        char *error = run_content(cases[i].content, &cfg);
        check(!error && cfg && cfg->firewall_driver == cases[i].driver,
              "firewall case %zu -> %s (%s)", i,
              fw_driver_name(cases[i].driver), error ? error : "ok");
        free(error);
        agent_config_destroy(cfg);
    }
}

/* Returns 'cfg''s [agent] extensions joined by ",", or "(no config)". */
static char *
extensions_string(const struct agent_config *cfg)
{
    if (!cfg) {
        return xstrdup("(no config)");
    }
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < cfg->extensions.n; i++) {
        ds_put_format(&s, "%s%s", i ? "," : "", cfg->extensions.names[i]);
    }
    return ds_steal_cstr(&s);
}

/* Checks that a file with 'content' gives [agent] extensions 'want'
 * (joined by ","). */
static void
check_extensions(const char *name, const char *content, const char *want)
{
    struct agent_config *cfg;
    char *error = run_content(content, &cfg);
    char *got = extensions_string(cfg);
    check(!error && streq(got, want),
          "extensions, %s: \"%s\" (got \"%s\"%s%s)", name, want, got,
          error ? ", error " : "", error ? error : "");
    free(got);
    free(error);
    agent_config_destroy(cfg);
}

/* Checks that a file with 'content' is refused with exactly
 * "<file>: [agent] extensions: <want>". */
static void
check_extensions_refused(const char *name, const char *content,
                         const char *want)
{
    char *path = tmp_path("single.ini");
    char *exact = xasprintf("%s: [agent] extensions: %s", path, want);
    struct agent_config *cfg;
    char *error = run_content(content, &cfg);
    char *e = esc(error);

    check(!cfg && streq(error, exact), "extensions refused, %s: \"%s\"",
          name, e);
    free(e);
    free(error);
    free(exact);
    free(path);
}

/* [agent] extensions: the reference's ListOpt, loaded as stevedore loads
 * it; names ovsagent does not implement are refused at start. */
static void
test_extensions(void)
{
    check_extensions("unset", "[agent]\n", "");
    check_extensions("empty", "[agent]\nextensions =\n", "");
    check_extensions("spaces and commas only",
                     "[agent]\nextensions =  ,  , \n", "");

    /* ovsagent implements none yet: any name is refused, by name. */
    check_extensions_refused(
        "qos", "[agent]\nextensions = qos\n",
        "\"qos\" is not supported by ovsagent (supported: none)");
    check_extensions_refused(
        "the first unsupported name", "[agent]\nextensions = , fdb,qos\n",
        "\"fdb\" is not supported by ovsagent (supported: none)");

    /* The cleanup program does not read the option, as
     * neutron-ovs-cleanup does not register it. */
    struct agent_config *cfg;
    char *path = write_file("single.ini", "[agent]\nextensions = qos\n");
    check_ok("ovsagent-cleanup ignores [agent] extensions",
             run_cleanup(&cfg, "--config-file", path, NULL));
    check(cfg && cfg->extensions.n == 0,
          "ovsagent-cleanup: extensions empty");
    agent_config_destroy(cfg);
    free(path);

    /* Lists, against a set of implemented names given by the test. */
    static const char *const supported[] = { "qos", "fdb", "log", NULL };
    test_env.extensions = supported;
    check_extensions("one", "[agent]\nextensions = qos\n", "qos");
    check_extensions("a list, in order, stripped",
                     "[agent]\nextensions = log , qos,fdb\n",
                     "log,qos,fdb");
    check_extensions("a repeated name once, where it first appears",
                     "[agent]\nextensions = fdb,qos,fdb,qos\n", "fdb,qos");
    check_extensions("empty items dropped, trailing comma",
                     "[agent]\nextensions = ,qos,, fdb,\n", "qos,fdb");
    check_extensions("a continuation line",
                     "[agent]\nextensions = qos,\n  fdb\n", "qos,fdb");
    check_extensions("a repeated key: the last wins",
                     "[agent]\nextensions = qos\nextensions = log\n",
                     "log");
    check_extensions_refused(
        "an unknown name among known ones",
        "[agent]\nextensions = qos, dhcp, fdb\n",
        "\"dhcp\" is not supported by ovsagent (supported: qos, fdb, log)");
    check_extensions_refused(
        "names are case-sensitive, as entry points",
        "[agent]\nextensions = QoS\n",
        "\"QoS\" is not supported by ovsagent (supported: qos, fdb, log)");
    test_env.extensions = NULL;
}

static void
test_multiple_files(void)
{
    char *f1 = write_file("m/one.ini",
                          "[ovs]\nintegration_bridge = br-one\n"
                          "tunnel_bridge = br-t1\n"
                          "of_listen_port = not-a-port\n");
    char *f2 = write_file("m/two.ini",
                          "[ovs]\nintegration_bridge = br-two\n"
                          "of_listen_port = 7000\n"
                          "bridge_mappings = p\n");
    char *f3 = write_file("m/three.ini",
                          "[ovs]\nbridge_mappings = p:br-p\n"
                          "[agent]\nveth_mtu = nope\n");
    char *f4 = write_file("m/four.ini", "[agent]\nveth_mtu = 1400\n");
    struct agent_config *cfg;

    check_ok("later files override earlier",
             run(&cfg, "--config-file", f1, "--config-file", f2,
                 "--config-file", f3, "--config-file", f4, NULL));
    if (cfg) {
        check_str("winner from 2nd file", cfg->integration_bridge, "br-two");
        check_str("value only in 1st file", cfg->tunnel_bridge, "br-t1");
        check_int("bad value overridden", cfg->of_listen_port, 7000);
        check_int("veth_mtu from 4th file", cfg->veth_mtu, 1400);
        check(cfg->n_config_files == 4
              && streq(cfg->config_files[0], f1)
              && streq(cfg->config_files[3], f4), "config_files in order");
        agent_config_destroy(cfg);
    }

    /* The error names the file the winning value came from. */
    char *error = run(&cfg, "--config-file", f3, "--config-file", f2, NULL);
    CHECK_ERROR("error names the winning file", error, f2, "[ovs]",
                "bridge_mappings", "\"p\"");
    error = run(&cfg, "--config-file", f2, "--config-file", f3, NULL);
    CHECK_ERROR("error names the winning file (2)", error, f3, "[agent]",
                "veth_mtu");
    check(!cfg, "no config on error");
    free(f1);
    free(f2);
    free(f3);
    free(f4);
}

static void
test_config_dir(void)
{
    char *before = write_file("cd/before.ini",
                              "[ovs]\ntunnel_bridge = br-before\n"
                              "integration_bridge = br-before\n"
                              "int_peer_patch_port = pp-before\n");
    free(write_file("cd/d/20-b.conf", "[ovs]\ntunnel_bridge = br-20\n"));
    free(write_file("cd/d/10-a.conf", "[ovs]\ntunnel_bridge = br-10\n"
                    "integration_bridge = br-10\n"));
    free(write_file("cd/d/30-c.conf.disabled", "[ovs]\ntunnel_bridge = x\n"));
    char *after = write_file("cd/after.ini",
                             "[ovs]\nintegration_bridge = br-after\n");
    char *dir = tmp_path("cd/d");
    char *dir_arg = xasprintf("--config-dir=%s", dir);
    struct agent_config *cfg;

    check_ok("--config-dir between files",
             run(&cfg, "--config-file", before, dir_arg,
                 "--config-file", after, NULL));
    if (cfg) {
        check_str("dir files in name order", cfg->tunnel_bridge, "br-20");
        check_str("file after dir wins", cfg->integration_bridge,
                  "br-after");
        check_str("file before dir kept", cfg->int_peer_patch_port,
                  "pp-before");
        check(cfg->n_config_files == 4
              && streq(cfg->config_files[0], before)
              && has_all(cfg->config_files[1], "/10-a.conf", (char *) NULL)
              && has_all(cfg->config_files[2], "/20-b.conf", (char *) NULL)
              && streq(cfg->config_files[3], after),
              "config_files: dir expanded at its position");
        agent_config_destroy(cfg);
    }

    check_ok("--config-dir DIR form",
             run(&cfg, "--config-dir", dir, "--config-file", before, NULL));
    if (cfg) {
        check_str("file after dir wins (2)", cfg->tunnel_bridge,
                  "br-before");
        agent_config_destroy(cfg);
    }

    char *missing = tmp_path("cd/missing.d");
    char *error = run(&cfg, "--config-dir", missing, NULL);
    CHECK_ERROR("missing --config-dir is an error", error, missing,
                "not found");
    free(missing);

    char *empty = tmp_path("cd/empty.d");
    make_dirs("cd/empty.d");
    check_ok("empty --config-dir", run(&cfg, "--config-dir", empty, NULL));
    agent_config_destroy(cfg);
    free(empty);

    free(dir);
    free(dir_arg);
    free(before);
    free(after);
}

static void
test_missing_files(void)
{
    struct agent_config *cfg;
    char *missing = tmp_path("nope.ini");
    char *error = run(&cfg, "--config-file", missing, NULL);
    CHECK_ERROR("missing --config-file", error, missing,
                "No such file or directory");
    free(missing);

    char *dir = tmp_path("cd");
    error = run(&cfg, "--config-file", dir, NULL);
    CHECK_ERROR("directory as --config-file", error, dir, "Is a directory");
    free(dir);

    char *path = write_file("unreadable.ini", "[ovs]\n");
    chmod(path, 0);
    if (access(path, R_OK)) {
        error = run(&cfg, "--config-file", path, NULL);
        CHECK_ERROR("unreadable --config-file", error, path,
                    "Permission denied");
    } else {
        printf("SKIP unreadable file (running as root)\n");
    }
    chmod(path, 0600);
    free(path);

    path = write_file("syntax.ini", "[ovs]\nintegration_bridge = a\nbad\n");
    error = run(&cfg, "--config-file", path, NULL);
    char *where = xasprintf("%s:3:", path);
    CHECK_ERROR("syntax error names FILE:LINE", error, where, "bad");
    free(where);
    free(path);
}

static void
test_cli(void)
{
    char *f = write_file("cli.ini",
                         "[DEFAULT]\ndebug = false\nuse_syslog = false\n"
                         "log_file = from-file.log\n");
    char *f_arg = xasprintf("--config-file=%s", f);
    struct agent_config *cfg;
    char *error;

    check_ok("--opt=value style",
             run(&cfg, f_arg, "--log-file=/tmp/a.log", "--log-dir=/l",
                 "--syslog-log-facility=LOG_LOCAL0", "--unixctl=/run/x.ctl",
                 "--debug", "--use-syslog", NULL));
    if (cfg) {
        check_str("log_file from --log-file=", cfg->log_file, "/tmp/a.log");
        check_str("log_dir from --log-dir=", cfg->log_dir, "/l");
        check_str("syslog_log_facility", cfg->syslog_log_facility,
                  "LOG_LOCAL0");
        check_str("unixctl_path", cfg->unixctl_path, "/run/x.ctl");
        check(cfg->debug, "--debug after the file overrides it");
        check(cfg->use_syslog, "--use-syslog after the file overrides it");
        agent_config_destroy(cfg);
    }

    check_ok("--opt value style",
             run(&cfg, "--config-file", f, "--log-file", "/tmp/b.log",
                 "--log-dir", "/m", "--syslog-log-facility", "LOG_DAEMON",
                 "--unixctl", "/run/y.ctl", "-d", NULL));
    if (cfg) {
        check_str("log_file from --log-file", cfg->log_file, "/tmp/b.log");
        check_str("log_dir from --log-dir", cfg->log_dir, "/m");
        check_str("syslog_log_facility (2)", cfg->syslog_log_facility,
                  "LOG_DAEMON");
        check_str("unixctl_path (2)", cfg->unixctl_path, "/run/y.ctl");
        check(cfg->debug, "-d");
        agent_config_destroy(cfg);
    }

    /* oslo.config applies each config file at its place on the command
     * line, so a file read after a command-line option beats it. */
    check_ok("file after option",
             run(&cfg, "--debug", "--log-file", "/x.log", f_arg, NULL));
    if (cfg) {
        check(!cfg->debug, "file after --debug wins");
        check_str("file after --log-file wins", cfg->log_file,
                  "from-file.log");
        agent_config_destroy(cfg);
    }
    check_ok("--nodebug", run(&cfg, "--debug", "--nodebug", NULL));
    if (cfg) {
        check(!cfg->debug, "last of --debug/--nodebug wins");
        agent_config_destroy(cfg);
    }
    check_ok("--nouse-syslog", run(&cfg, "--use-syslog", "--nouse-syslog",
                                   NULL));
    if (cfg) {
        check(!cfg->use_syslog, "--nouse-syslog");
        agent_config_destroy(cfg);
    }
    check_ok("deprecated --logfile/--logdir",
             run(&cfg, "--logfile", "/d.log", "--logdir=/dd", NULL));
    if (cfg) {
        check_str("--logfile", cfg->log_file, "/d.log");
        check_str("--logdir", cfg->log_dir, "/dd");
        agent_config_destroy(cfg);
    }
    check_ok("unique abbreviation", run(&cfg, "--config-f", f,
                                        "--use-sys", NULL));
    if (cfg) {
        check(cfg->n_config_files == 1 && cfg->use_syslog,
              "--config-f and --use-sys accepted");
        agent_config_destroy(cfg);
    }

    error = run(&cfg, "--bogus", NULL);
    CHECK_ERROR("unknown option", error, "unrecognized option --bogus");
    error = run(&cfg, "--no", NULL);
    CHECK_ERROR("ambiguous abbreviation", error, "ambiguous", "--nodebug",
                "--nouse-syslog");
    error = run(&cfg, "-x", NULL);
    CHECK_ERROR("unknown short option", error, "-x");
    error = run(&cfg, "stray", NULL);
    CHECK_ERROR("positional argument", error, "stray");
    error = run(&cfg, "--log-file", NULL);
    CHECK_ERROR("missing value", error, "--log-file", "expected one");
    error = run(&cfg, "--log-file", "--debug", NULL);
    CHECK_ERROR("option as value", error, "--log-file", "expected one");
    error = run(&cfg, "--debug=yes", NULL);
    CHECK_ERROR("flag with value", error, "--debug", "does not take");
    error = run(&cfg, "--ovs_all_ports", NULL);
    CHECK_ERROR("--ovs_all_ports is for cleanup only", error,
                "--ovs_all_ports");

    check_ok("cleanup --ovs_all_ports",
             run_cleanup(&cfg, "--ovs_all_ports", NULL));
    if (cfg) {
        check(cfg->ovs_all_ports, "ovs_all_ports set");
        agent_config_destroy(cfg);
    }
    check_ok("cleanup --noovs_all_ports",
             run_cleanup(&cfg, "--ovs_all_ports", "--noovs_all_ports",
                         NULL));
    if (cfg) {
        check(!cfg->ovs_all_ports, "ovs_all_ports cleared");
        agent_config_destroy(cfg);
    }

    free(f_arg);
    free(f);
}

/* Runs 'prog' with the single argument 'arg', stores its error and config,
 * and returns what it printed (which the caller frees). */
static char *
run_printing(enum config_program prog, const char *arg,
             struct agent_config **cfgp, char **errorp)
{
    char buf[4096];
    size_t n;

    rewind(test_out);
    if (ftruncate(fileno(test_out), 0)) {
        ovs_fatal(errno, "ftruncate");
    }
    *errorp = (prog == CONFIG_PROG_AGENT ? run(cfgp, arg, NULL)
               : run_cleanup(cfgp, arg, NULL));
    fflush(test_out);
    rewind(test_out);
    n = fread(buf, 1, sizeof buf - 1, test_out);
    buf[n] = '\0';
    return xstrdup(buf);
}

static void
test_help_version(void)
{
    struct svec argv = SVEC_EMPTY_INITIALIZER;
    struct agent_config *cfg;
    bool exit_now;
    char *error;

    svec_add(&argv, "ovsagent");
    svec_add(&argv, "--version");
    rewind(test_out);
    error = agent_config_parse(CONFIG_PROG_AGENT, argv.n, argv.names,
                               &test_env, &cfg, &exit_now);
    check(!error && !cfg && exit_now, "--version: exit_now, no config");
    free(error);
    svec_destroy(&argv);

    char *out = run_printing(CONFIG_PROG_AGENT, "--version",
                             &cfg, &error);
    check(streq(out, OVSAGENT_VERSION_STRING "\n"),
          "--version prints \"%s\"", OVSAGENT_VERSION_STRING);
    check(streq(OVSAGENT_VERSION_STRING, "ovsagent 0.1.0 (compatible with "
                "neutron-openvswitch-agent 21.0.0)"), "version string");
    free(out);
    free(error);

    out = run_printing(CONFIG_PROG_AGENT, "--help", &cfg, &error);
    check(!error && !cfg && has_all(out, "usage: ovsagent", "--config-file",
                                    "--config-dir", "--debug", "--nodebug",
                                    "--use-syslog", "--nouse-syslog",
                                    "--log-file", "--log-dir",
                                    "--syslog-log-facility", "--version",
                                    "--help", "--unixctl", (char *) NULL)
          && !strstr(out, "ovs_all_ports"), "--help lists the options");
    free(out);
    free(error);

    out = run_printing(CONFIG_PROG_AGENT, "-h", &cfg, &error);
    check(!error && !cfg && has_all(out, "usage:", (char *) NULL), "-h");
    free(out);
    free(error);

    out = run_printing(CONFIG_PROG_CLEANUP, "--help", &cfg, &error);
    check(!error && has_all(out, "usage: ovsagent-cleanup", "--ovs_all_ports",
                            "--noovs_all_ports", (char *) NULL),
          "cleanup --help lists --ovs_all_ports");
    free(out);
    free(error);
}

static void
test_debian_init(void)
{
    char *ini = write_file("etc/neutron/plugins/ml2/openvswitch_agent.ini",
                           "[ovs]\nbridge_mappings = external:br-ex\n"
                           "[securitygroup]\nfirewall_driver = openvswitch\n");
    free(write_file("etc/neutron/agent.conf.d/50-local.conf",
                    "[DEFAULT]\nhost = node-a\n"));
    char *conf = write_file("etc/neutron/neutron.conf",
                            "[DEFAULT]\ntransport_url = rabbit://u:p@h//\n"
                            "[agent]\nroot_helper = sudo x\n");
    char *dir = tmp_path("etc/neutron/agent.conf.d");
    char *log = tmp_path("var/log/neutron/neutron-openvswitch-agent.log");
    char *args[] = {
        "neutron-openvswitch-agent",
        xasprintf("--config-file=%s", ini),
        xasprintf("--config-dir=%s", dir),
        xasprintf("--config-file=%s", conf),
        "--use-syslog",
        xasprintf("--log-file=%s", log),
    };
    struct agent_config *cfg;
    bool exit_now;

    /* The real entry point; both --config-file and --config-dir are given,
     * so no default files are read. */
    check_ok("Debian init command line",
             agent_config_from_argv(CONFIG_PROG_AGENT, ARRAY_SIZE(args),
                                    args, false, &cfg, &exit_now));
    check(!exit_now, "Debian init: not exiting");
    if (cfg) {
        check(cfg->use_syslog, "Debian init: use_syslog");
        check_str("Debian init: log_file", cfg->log_file, log);
        check_str("Debian init: host", cfg->host, "node-a");
        check_str("Debian init: transport_url", cfg->transport_url,
                  "rabbit://u:p@h//");
        check(cfg->firewall_driver == FW_OPENVSWITCH,
              "Debian init: firewall");
        check(cfg->n_bridge_mappings == 1
              && streq(cfg->bridge_mappings[0].bridge, "br-ex"),
              "Debian init: bridge_mappings");
        check(cfg->n_config_files == 3
              && streq(cfg->config_files[0], ini)
              && streq(cfg->config_files[2], conf),
              "Debian init: files in order");
        agent_config_destroy(cfg);
    }

    /* The same with "--opt value" and another order. */
    char *args2[] = {
        "neutron-openvswitch-agent", "--use-syslog", "--log-file", log,
        "--config-file", conf, "--config-dir", dir, "--config-file", ini,
    };
    check_ok("Debian init command line, reordered",
             agent_config_from_argv(CONFIG_PROG_AGENT, ARRAY_SIZE(args2),
                                    args2, false, &cfg, &exit_now));
    if (cfg) {
        check(cfg->use_syslog && streq(cfg->log_file, log)
              && streq(cfg->host, "node-a"), "reordered: same result");
        agent_config_destroy(cfg);
    }

    free(args[1]);
    free(args[2]);
    free(args[3]);
    free(args[5]);
    free(ini);
    free(conf);
    free(dir);
    free(log);
}

static void
test_environment(void)
{
    char *f = write_file("env.ini", "[ovs]\nintegration_bridge = br-file\n"
                         "tunnel_bridge = br-file\n");
    struct agent_config_env env = test_env;
    struct agent_config *cfg;
    bool exit_now;
    char *argv[] = { "ovsagent", "--config-file", f, "--nodebug" };

    env.use_env = true;
    setenv("OS_OVS__INTEGRATION_BRIDGE", "br-env", 1);
    setenv("OS_DEFAULT__DEBUG", "true", 1);
    setenv("OS_OVS__OF_LISTEN_PORT", "bad", 1);
    char *error = agent_config_parse(CONFIG_PROG_AGENT, ARRAY_SIZE(argv),
                                     argv, &env, &cfg, &exit_now);
    CHECK_ERROR("bad environment value names the variable", error,
                "OS_OVS__OF_LISTEN_PORT", "invalid integer");
    unsetenv("OS_OVS__OF_LISTEN_PORT");

    check_ok("environment variables",
             agent_config_parse(CONFIG_PROG_AGENT, ARRAY_SIZE(argv), argv,
                                &env, &cfg, &exit_now));
    if (cfg) {
        check_str("environment beats file", cfg->integration_bridge,
                  "br-env");
        check_str("file without environment", cfg->tunnel_bridge,
                  "br-file");
        check(!cfg->debug, "command line beats environment");
        agent_config_destroy(cfg);
    }
    unsetenv("OS_OVS__INTEGRATION_BRIDGE");
    unsetenv("OS_DEFAULT__DEBUG");
    free(f);
}

static void
test_default_files(void)
{
    char *home = tmp_path("home");
    char *etc = tmp_path("defetc");
    struct agent_config_env env = test_env;
    struct agent_config *cfg;
    bool exit_now;

    free(write_file("home/.neutron/neutron.conf",
                    "[ovs]\nintegration_bridge = br-home\n"
                    "tunnel_bridge = br-home\n"));
    free(write_file("defetc/neutron/neutron.conf",
                    "[ovs]\nintegration_bridge = br-etc\n"));
    free(write_file("defetc/neutron-openvswitch-agent.conf",
                    "[ovs]\ntunnel_bridge = br-prog\n"));
    free(write_file("defetc/neutron/neutron.conf.d/1.conf",
                    "[ovs]\nint_peer_patch_port = pp-dir\n"));
    char *f = write_file("explicit.ini", "[ovs]\nint_peer_patch_port = pp\n");
    env.search_defaults = true;
    env.home = home;
    env.etc_dir = etc;

    char *argv1[] = { "ovsagent", "--debug" };
    check_ok("default files", agent_config_parse(CONFIG_PROG_AGENT, 2, argv1,
                                                 &env, &cfg, &exit_now));
    if (cfg) {
        check_str("~/.neutron/neutron.conf found first",
                  cfg->integration_bridge, "br-home");
        check_str("<prog>.conf read after neutron.conf", cfg->tunnel_bridge,
                  "br-prog");
        check_str("neutron.conf.d read", cfg->int_peer_patch_port,
                  "pp-dir");
        check(cfg->n_config_files == 3, "three default files (got %zu)",
              cfg->n_config_files);
        agent_config_destroy(cfg);
    }

    char *argv2[] = { "ovsagent", "--config-file", f };
    check_ok("--config-file suppresses default files",
             agent_config_parse(CONFIG_PROG_AGENT, 3, argv2, &env, &cfg,
                                &exit_now));
    if (cfg) {
        check_str("default file not read", cfg->integration_bridge,
                  "br-int");
        check_str("explicit file beats default dir", cfg->int_peer_patch_port,
                  "pp");
        check(cfg->n_config_files == 2, "explicit file plus default dir");
        agent_config_destroy(cfg);
    }
    free(f);
    free(home);
    free(etc);
}

/* Writes a file in which each option of a chain refers to the next four
 * times, the last holding 'leaf': 4^(n-1) paths through the chain. */
static char *
substitution_chain(const char *leaf)
{
    static const char *chain[][2] = {
        {"ovs", "integration_bridge"}, {"ovs", "tunnel_bridge"},
        {"ovs", "int_peer_patch_port"}, {"ovs", "tun_peer_patch_port"},
        {"ovs", "ovsdb_connection"}, {"ovs", "ssl_key_file"},
        {"ovs", "ssl_cert_file"}, {"ovs", "ssl_ca_cert_file"},
        {"DEFAULT", "log_file"}, {"DEFAULT", "log_dir"},
        {"DEFAULT", "state_path"}, {"DEFAULT", "control_exchange"},
        {"DEFAULT", "transport_url"},
    };
    struct ds s = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < ARRAY_SIZE(chain); i++) {
        ds_put_format(&s, "[%s]\n%s = ", chain[i][0], chain[i][1]);
        if (i + 1 < ARRAY_SIZE(chain)) {
            for (int k = 0; k < 4; k++) {
                ds_put_format(&s, "${%s.%s}", chain[i + 1][0],
                              chain[i + 1][1]);
            }
        } else {
            ds_put_cstr(&s, leaf);
        }
        ds_put_char(&s, '\n');
    }
    return ds_steal_cstr(&s);
}

/* References to references once cost one resolution per path through
 * them (minutes for a small file at start or on SIGHUP), and could expand
 * without bound: each option is now resolved once per parse, and a value
 * may not grow past INI_MAX_SUBST_LEN. */
static void
test_substitution_bounds(void)
{
    char *content = substitution_chain("");
    long long int start = time_msec();
    char *error = run_content(content, NULL);
    long long int elapsed = time_msec() - start;
    check(elapsed < 2000, "references to references: parsed in %lld ms "
          "(16 million paths)", elapsed);
    check(!error || !strstr(error, "substitut"),
          "references to references: no substitution error (%s)",
          error ? error : "none");
    free(error);
    free(content);

    content = substitution_chain("12345678");
    check_bad(content, "ovs", "integration_bridge", "longer than 65536");
    free(content);
}

static void
test_substitution(void)
{
    struct agent_config *cfg;

    check_ok("substitution", run_content(
                 "[DEFAULT]\n"
                 "transport_url = rabbit://u:pa$$w\\$rd@h/\n"
                 "log_dir = $state_path/log\n"
                 "log_file = ${host}.log\n"
                 "host = node1\n"
                 "[ovs]\n"
                 "tunnel_bridge = ${integration_bridge}-t\n"
                 "integration_bridge = br-x\n"
                 "int_peer_patch_port = $DEFAULT.host\n",
                 &cfg));
    if (cfg) {
        check_str("$$ and \\$", cfg->transport_url, "rabbit://u:pa$w$rd@h/");
        check_str("$state_path", cfg->log_dir, "/var/lib/neutron/log");
        check_str("${host}", cfg->log_file, "node1.log");
        check_str("same-group reference", cfg->tunnel_bridge, "br-x-t");
        check_str("group.name reference", cfg->int_peer_patch_port, "node1");
        agent_config_destroy(cfg);
    }
    /* transport_url is secret: the message does not quote the value. */
    check_bad("[DEFAULT]\ntransport_url = rabbit://u:pa$word@h/\n",
              "DEFAULT", "transport_url", "not a reference to an option");
    char *error = run_content("[DEFAULT]\ntransport_url = "
                              "rabbit://u:pa$word@h/\n", NULL);
    check(error && !strstr(error, "word"),
          "a bad reference in transport_url is not quoted");
    free(error);
    check_bad("[ovs]\ntunnel_bridge = $tunnel_bridge\n", "ovs",
              "tunnel_bridge", "too deeply nested");
    test_substitution_bounds();
}

static void
test_check_host(void)
{
    char *ok = write_file("host-ok.ini", "[ovs]\nlocal_ip = 127.0.0.1\n"
                          "[agent]\ntunnel_types = vxlan\n");
    char *bad = write_file("host-bad.ini", "[ovs]\nlocal_ip = 192.0.2.254\n"
                           "[agent]\ntunnel_types = gre\n");
    const char *files_ok[] = { ok };
    const char *files_bad[] = { bad };
    struct agent_config *cfg;

    check_ok("local_ip on this host",
             agent_config_from_files(CONFIG_PROG_AGENT, files_ok, 1, true,
                                     &cfg));
    agent_config_destroy(cfg);
    char *error = agent_config_from_files(CONFIG_PROG_AGENT, files_bad, 1,
                                          true, &cfg);
    CHECK_ERROR("local_ip not on this host", error, bad, "[ovs]", "local_ip",
                "192.0.2.254", "not an address of this host");
    check_ok("check_host off", agent_config_from_files(
                 CONFIG_PROG_AGENT, files_bad, 1, false, &cfg));
    if (cfg) {
        check(cfg->tunnel_types == TUNNEL_GRE, "gre");
        agent_config_destroy(cfg);
    }
    free(ok);
    free(bad);
}

static void
test_misc(void)
{
    struct agent_config *cfg;

    check_ok("unknown sections and options are ignored", run_content(
                 "[foo]\nbar = 1\n[ovs]\nno_such_option = 2\n"
                 "[securitygroup]\nenable_ipset = True\n", &cfg));
    agent_config_destroy(cfg);

    check_ok("quoted values", run_content(
                 "[ovs]\nintegration_bridge = \"br-q\"\n"
                 "tunnel_bridge = 'br-s'\n", &cfg));
    if (cfg) {
        check_str("double-quoted value", cfg->integration_bridge, "br-q");
        check_str("single-quoted value", cfg->tunnel_bridge, "br-s");
        agent_config_destroy(cfg);
    }

    check_ok("deprecated names", run_content(
                 "[DEFAULT]\nlogfile = old.log\nlogdir = /old\n"
                 "[ovs]\novs_integration_bridge = br-old\n", &cfg));
    if (cfg) {
        check_str("logfile", cfg->log_file, "old.log");
        check_str("logdir", cfg->log_dir, "/old");
        check_str("ovs_integration_bridge", cfg->integration_bridge,
                  "br-old");
        agent_config_destroy(cfg);
    }

    check_ok("group names are case-insensitive", run_content(
                 "[OVS]\ntunnel_bridge = br-up\n"
                 "[Agent]\nveth_mtu = 1000\n"
                 "[default]\ndebug = true\n", &cfg));
    if (cfg) {
        check_str("[OVS]", cfg->tunnel_bridge, "br-up");
        check_int("[Agent]", cfg->veth_mtu, 1000);
        check(!cfg->debug, "[default] is not [DEFAULT]");
        agent_config_destroy(cfg);
    }

    check_ok("ovs_all_ports is not an agent option", run_content(
                 "[DEFAULT]\novs_all_ports = maybe\n", &cfg));
    agent_config_destroy(cfg);

    check_ok("tunnel_types empty list", run_content(
                 "[agent]\ntunnel_types = ,\n", &cfg));
    if (cfg) {
        check(cfg->tunnel_types == 0 && cfg->n_tunnel_types == 0,
              "no tunnel types");
        agent_config_destroy(cfg);
    }

    char *f = write_file("cleanup.ini", "[DEFAULT]\novs_all_ports = true\n");
    check_ok("cleanup reads ovs_all_ports from a file",
             run_cleanup(&cfg, "--config-file", f, NULL));
    if (cfg) {
        check(cfg->ovs_all_ports, "ovs_all_ports from file");
        agent_config_destroy(cfg);
    }
    free(f);

    /* ovsagent-cleanup makes no tunnels, so it does not need local_ip. */
    f = write_file("cleanup-tun.ini", "[agent]\ntunnel_types = vxlan\n");
    check_ok("cleanup: tunnel_types without local_ip",
             run_cleanup(&cfg, "--config-file", f, NULL));
    agent_config_destroy(cfg);
    free(f);

    agent_config_destroy(NULL);
}

static void
test_stock_files(void)
{
    const char *dir = getenv("OVSAGENT_STOCK_CONF");
    if (!dir || !dir[0]) {
        printf("SKIP stock files\n");
        return;
    }

    char *conf = xasprintf("%s/neutron.conf", dir);
    char *ini = xasprintf("%s/plugins/ml2/openvswitch_agent.ini", dir);
    char *local = write_file("stock-local.ini",
                             "[ovs]\nlocal_ip = 192.0.2.7\n");
    const char *stock[] = { ini, conf };
    const char *with_local[] = { ini, conf, local };
    struct agent_config *cfg;

    char *error = agent_config_from_files(CONFIG_PROG_AGENT, stock, 2, false,
                                          &cfg);
    CHECK_ERROR("stock files: tunnelling without local_ip", error, ini,
                "[agent]", "tunnel_types", "local_ip");

    check_ok("stock files plus local_ip",
             agent_config_from_files(CONFIG_PROG_AGENT, with_local, 3, false,
                                     &cfg));
    if (cfg) {
        check(cfg->firewall_driver == FW_OPENVSWITCH,
              "stock: firewall_driver = openvswitch");
        check(cfg->n_bridge_mappings == 1
              && streq(cfg->bridge_mappings[0].physnet, "external")
              && streq(cfg->bridge_mappings[0].bridge, "br-ex"),
              "stock: bridge_mappings = external:br-ex");
        check(cfg->tunnel_types == TUNNEL_VXLAN && cfg->n_tunnel_types == 1
              && streq(cfg->tunnel_type_names[0], "vxlan"),
              "stock: tunnel_types = vxlan");
        check_str("stock: integration_bridge", cfg->integration_bridge,
                  "br-int");
        check_str("stock: tunnel_bridge", cfg->tunnel_bridge, "br-tun");
        check_str("stock: local_ip", cfg->local_ip, "192.0.2.7");
        check(cfg->enable_security_group, "stock: enable_security_group");
        check_int("stock: report_interval", cfg->report_interval, 30);
        agent_config_destroy(cfg);
    }

    char *argv[] = {
        "neutron-openvswitch-agent",
        xasprintf("--config-file=%s", ini),
        xasprintf("--config-file=%s", conf),
        xasprintf("--config-file=%s", local),
        "--use-syslog",
    };
    bool exit_now;
    check_ok("stock files through agent_config_from_argv",
             agent_config_from_argv(CONFIG_PROG_AGENT, ARRAY_SIZE(argv), argv,
                                    false, &cfg, &exit_now));
    agent_config_destroy(cfg);
    free(argv[1]);
    free(argv[2]);
    free(argv[3]);

    free(conf);
    free(ini);
    free(local);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);

    /* The code under test warns about deprecated names, which the tests
     * use on purpose; keep the output to one line per check. */
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_ERR);

    const char *tmp = getenv("TMPDIR");
    tmp_dir = xasprintf("%s/test-config.XXXXXX", tmp && tmp[0] ? tmp
                        : "/tmp");
    if (!mkdtemp(tmp_dir)) {
        ovs_fatal(errno, "mkdtemp");
    }
    test_out = tmpfile();
    if (!test_out) {
        ovs_fatal(errno, "tmpfile");
    }
    agent_config_env_init(&test_env);
    test_env.check_host = false;
    test_env.use_env = false;
    test_env.search_defaults = false;
    test_env.out = test_out;
    ini_init(&test_ini);

    test_ini_syntax();
    test_ini_continuation_edge();
    test_ini_errors();
    test_ini_long_lines();
    test_ini_repeats();
    test_ini_dir();
    test_ini_types();
    test_ini_substitute();
    test_defaults();
    test_all_options();
    test_bad_values();
    test_oslo_messaging();
    test_firewall_drivers();
    test_extensions();
    test_multiple_files();
    test_config_dir();
    test_missing_files();
    test_cli();
    test_help_version();
    test_debian_init();
    test_environment();
    test_default_files();
    test_substitution();
    test_check_host();
    test_misc();
    test_stock_files();

    ini_destroy(&test_ini);
    fclose(test_out);
    remove_tmp();

    printf("%d passed, %d failed\n", n_passed, n_failed);
    return n_failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
