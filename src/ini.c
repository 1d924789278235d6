/*
 * ini: oslo.config's INI dialect and value types.  See ini.h for the rules.
 */
#include <config.h>

#include "ini.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "openvswitch/dynamic-string.h"
#include "openvswitch/vlog.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(ini);

/* A syntax error quotes at most this much of the offending line. */
#define INI_QUOTE_MAX 80

void
ini_init(struct ini *ini)
{
    ini->files = NULL;
    ini->n_files = 0;
    ini->allocated_files = 0;
}

static void
ini_file_destroy(struct ini_file *file)
{
    if (!file) {
        return;
    }
    for (size_t i = 0; i < file->n_values; i++) {
        struct ini_value *v = &file->values[i];
        free(v->section);
        free(v->key);
        free(v->value);
    }
    free(file->values);
    for (size_t i = 0; i < file->n_sections; i++) {
        free(file->sections[i]);
    }
    free(file->sections);
    free(file->name);
    free(file);
}

void
ini_destroy(struct ini *ini)
{
    if (!ini) {
        return;
    }
    for (size_t i = 0; i < ini->n_files; i++) {
        ini_file_destroy(ini->files[i]);
    }
    free(ini->files);
    ini_init(ini);
}

/* Python's str.strip() also strips the ASCII information separators, so a
 * stray 0x1c..0x1f is whitespace here too. */
static bool
ini_is_space(unsigned char c)
{
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f);
}

/* Shrinks [*startp, *endp) to exclude leading and trailing whitespace. */
static void
ini_strip(const char **startp, const char **endp)
{
    while (*startp < *endp && ini_is_space(**startp)) {
        (*startp)++;
    }
    while (*endp > *startp && ini_is_space((*endp)[-1])) {
        (*endp)--;
    }
}

/* The state of one file being parsed.  'key' and 'value' hold an assignment
 * that continuation lines may still extend; 'key' is NULL when there is
 * none. */
struct ini_parser {
    struct ini_file *file;
    size_t allocated_values;
    size_t allocated_sections;
    char *section;              /* Current section, owned by 'file'. */
    char *key;                  /* Pending assignment, owned here. */
    struct ds value;
    int key_line;
    int line;
};

static char *
ini_syntax_error(const struct ini_parser *p, const char *msg,
                 const char *line, size_t len)
{
    int quoted = len > INI_QUOTE_MAX ? INI_QUOTE_MAX : (int) len;
    return xasprintf("%s:%d: %s: \"%.*s%s\"", p->file->name, p->line, msg,
                     quoted, line, len > INI_QUOTE_MAX ? "..." : "");
}

/* Stores the pending assignment, if any, in the file. */
static void
ini_parser_flush(struct ini_parser *p)
{
    struct ini_file *file = p->file;

    if (!p->key) {
        return;
    }
    if (file->n_values >= p->allocated_values) {
        file->values = x2nrealloc(file->values, &p->allocated_values,
                                  sizeof *file->values);
    }
    struct ini_value *v = &file->values[file->n_values++];
    v->section = xstrdup(p->section);
    v->key = p->key;
    v->value = ds_steal_cstr(&p->value);
    v->file_name = file->name;
    v->file_idx = 0;            /* Set by ini_push_file(). */
    v->line = p->key_line;
    p->key = NULL;
}

static char *
ini_parse_section(struct ini_parser *p, const char *line, size_t len)
{
    struct ini_file *file = p->file;

    if (line[len - 1] != ']') {
        return ini_syntax_error(p, "invalid section (must end with ])",
                                line, len);
    }
    if (len <= 2) {
        return ini_syntax_error(p, "empty section name", line, len);
    }
    if (file->n_sections >= p->allocated_sections) {
        file->sections = x2nrealloc(file->sections, &p->allocated_sections,
                                    sizeof *file->sections);
    }
    p->section = xmemdup0(line + 1, len - 2);
    file->sections[file->n_sections++] = p->section;
    return NULL;
}

static char *
ini_parse_assignment(struct ini_parser *p, const char *line, size_t len)
{
    const char *end = line + len;
    const char *sep = NULL;

    for (const char *s = line; s < end; s++) {
        if (*s == '=' || *s == ':') {
            sep = s;
            break;
        }
    }
    if (!sep) {
        return ini_syntax_error(p, "no ':' or '=' found in assignment",
                                line, len);
    }

    const char *k = line, *k_end = sep;
    const char *v = sep + 1, *v_end = end;
    ini_strip(&k, &k_end);
    ini_strip(&v, &v_end);
    if (k == k_end) {
        return ini_syntax_error(p, "key cannot be empty", line, len);
    }
    if (!p->section) {
        return ini_syntax_error(p, "section must be started before "
                                "assignment", line, len);
    }
    if (v < v_end && (*v == '"' || *v == '\'') && v_end[-1] == *v) {
        /* A lone quote character becomes the empty string, as in oslo. */
        v++;
        if (v < v_end) {
            v_end--;
        }
    }

    p->key = xmemdup0(k, k_end - k);
    p->key_line = p->line;
    ds_clear(&p->value);
    ds_put_buffer(&p->value, v, v_end - v);
    return NULL;
}

/* Parses one physical line of 'len' bytes, without its line terminator. */
static char *
ini_parse_line(struct ini_parser *p, const char *line, size_t len)
{
    if (memchr(line, '\0', len)) {
        return ini_syntax_error(p, "NUL byte in line", line, len);
    }

    const char *start = line, *end = line + len;
    while (end > start && ini_is_space(end[-1])) {
        end--;
    }
    len = end - start;

    if (!len) {
        /* A blank line ends a multi-line value. */
        ini_parser_flush(p);
        return NULL;
    }
    if (line[0] == ' ' || line[0] == '\t') {
        if (!p->key) {
            return ini_syntax_error(p, "unexpected continuation line",
                                    line, len);
        }
        while (ini_is_space(*start)) {
            start++;
        }
        ds_put_char(&p->value, '\n');
        ds_put_buffer(&p->value, start, end - start);
        return NULL;
    }

    ini_parser_flush(p);
    if (line[0] == '[') {
        return ini_parse_section(p, line, len);
    } else if (line[0] == '#' || line[0] == ';') {
        return NULL;
    } else {
        return ini_parse_assignment(p, line, len);
    }
}

static void
ini_push_file(struct ini *ini, struct ini_file *file)
{
    if (ini->n_files >= ini->allocated_files) {
        ini->files = x2nrealloc(ini->files, &ini->allocated_files,
                                sizeof *ini->files);
    }
    for (size_t i = 0; i < file->n_values; i++) {
        file->values[i].file_idx = ini->n_files;
    }
    ini->files[ini->n_files++] = file;
}

char *
ini_parse_buffer(struct ini *ini, const char *name,
                 const char *text, size_t len)
{
    struct ini_parser p = {
        .file = xzalloc(sizeof *p.file),
        .value = DS_EMPTY_INITIALIZER,
    };
    const char *end = text + len;
    char *error = NULL;

    p.file->name = xstrdup(name);

    /* Lines end in "\n", "\r\n" or "\r", as with Python's universal
     * newlines. */
    for (const char *s = text; s < end && !error; ) {
        const char *eol = s;
        while (eol < end && *eol != '\n' && *eol != '\r') {
            eol++;
        }
        p.line++;
        error = ini_parse_line(&p, s, eol - s);
        if (eol < end && *eol == '\r' && eol + 1 < end && eol[1] == '\n') {
            eol++;
        }
        s = eol + 1;
    }
    if (!error) {
        ini_parser_flush(&p);
    }
    free(p.key);
    ds_destroy(&p.value);

    if (error) {
        ini_file_destroy(p.file);
        return error;
    }
    VLOG_DBG("%s: %zu sections, %zu values", name, p.file->n_sections,
             p.file->n_values);
    ini_push_file(ini, p.file);
    return NULL;
}

char *
ini_parse_string(struct ini *ini, const char *name, const char *text)
{
    return ini_parse_buffer(ini, name, text, strlen(text));
}

/* Reads all of 'file_name' into 'buf'.  Returns 0 or an errno value. */
static int
ini_slurp(const char *file_name, struct ds *buf)
{
    FILE *stream = fopen(file_name, "r");
    if (!stream) {
        return errno;
    }

    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stream)) > 0) {
        ds_put_buffer(buf, chunk, n);
    }
    int error = ferror(stream) ? errno : 0;
    fclose(stream);
    return error ? error : 0;
}

char *
ini_read_file(struct ini *ini, const char *file_name)
{
    struct ds buf = DS_EMPTY_INITIALIZER;
    char *error;

    int err = ini_slurp(file_name, &buf);
    if (err) {
        error = xasprintf("%s: cannot read config file: %s", file_name,
                          ovs_strerror(err));
    } else {
        error = ini_parse_buffer(ini, file_name, buf.string ? buf.string : "",
                                 buf.length);
    }
    ds_destroy(&buf);
    return error;
}

static int
ini_compare_names(const void *a_, const void *b_)
{
    const char *const *a = a_;
    const char *const *b = b_;
    return strcmp(*a, *b);
}

/* Python's glob() of "*.conf" in a directory: hidden files do not
 * match "*". */
static bool
ini_is_conf_name(const char *name)
{
    size_t len = strlen(name);
    return name[0] != '.' && len > 5 && !strcmp(name + len - 5, ".conf");
}

int
ini_list_dir(const char *dir_name, struct svec *files)
{
    DIR *dir = opendir(dir_name);
    if (!dir) {
        return errno;
    }

    struct svec names = SVEC_EMPTY_INITIALIZER;
    struct dirent *de;
    while ((de = readdir(dir)) != NULL) {
        if (ini_is_conf_name(de->d_name)) {
            svec_add(&names, de->d_name);
        }
    }
    closedir(dir);

    if (names.n) {
        qsort(names.names, names.n, sizeof *names.names, ini_compare_names);
    }
    bool slash = dir_name[0] && dir_name[strlen(dir_name) - 1] == '/';
    for (size_t i = 0; i < names.n; i++) {
        svec_add_nocopy(files, xasprintf("%s%s%s", dir_name,
                                         slash ? "" : "/", names.names[i]));
    }
    svec_destroy(&names);
    return 0;
}

char *
ini_read_dir(struct ini *ini, const char *dir_name)
{
    struct svec files = SVEC_EMPTY_INITIALIZER;
    char *error = NULL;

    int err = ini_list_dir(dir_name, &files);
    if (err == ENOENT) {
        error = xasprintf("%s: config directory not found", dir_name);
    } else if (err && err != ENOTDIR) {
        /* oslo.config only checks that the path exists; globbing inside
         * something that is not a directory finds nothing. */
        error = xasprintf("%s: cannot read config directory: %s", dir_name,
                          ovs_strerror(err));
    }
    for (size_t i = 0; !error && i < files.n; i++) {
        error = ini_read_file(ini, files.names[i]);
    }
    svec_destroy(&files);
    return error;
}

void
ini_default_paths(const char *project, const char *prog,
                  const char *home, const char *etc, const char *ext,
                  struct svec *paths)
{
    const char *names[] = { project, prog };
    struct svec search = SVEC_EMPTY_INITIALIZER;

    if (home && home[0]) {
        svec_add_nocopy(&search, xasprintf("%s/.%s", home, project));
        svec_add(&search, home);
    }
    svec_add_nocopy(&search, xasprintf("%s/%s", etc, project));
    svec_add(&search, etc);

    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        for (size_t j = 0; j < search.n; j++) {
            char *path = xasprintf("%s/%s%s", search.names[j], names[i], ext);
            struct stat st;
            if (!stat(path, &st)) {
                svec_add_nocopy(paths, path);
                break;
            }
            free(path);
        }
    }
    svec_destroy(&search);
}

char *
ini_expand_user(const char *path)
{
    const char *home = getenv("HOME");

    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')
        && home && home[0]) {
        return xasprintf("%s%s", home, path + 1);
    }
    return xstrdup(path);
}

bool
ini_group_matches(const char *section, const char *group)
{
    if (!strcmp(group, "DEFAULT")) {
        return !strcmp(section, "DEFAULT");
    }
    return !strcasecmp(section, group);
}

/* Returns the last assignment in 'file' of 'name' in a section of 'group',
 * or NULL. */
static const struct ini_value *
ini_file_lookup(const struct ini_file *file, const char *group,
                const char *name)
{
    for (size_t i = file->n_values; i-- > 0; ) {
        const struct ini_value *v = &file->values[i];
        if (!strcmp(v->key, name) && ini_group_matches(v->section, group)) {
            return v;
        }
    }
    return NULL;
}

const struct ini_value *
ini_lookup(const struct ini *ini, const char *group,
           const char *const names[])
{
    for (size_t i = ini->n_files; i-- > 0; ) {
        for (size_t j = 0; names[j]; j++) {
            const struct ini_value *v = ini_file_lookup(ini->files[i], group,
                                                        names[j]);
            if (v) {
                return v;
            }
        }
    }
    return NULL;
}

size_t
ini_lookup_all(const struct ini *ini, const char *group,
               const char *const names[], const struct ini_value ***valuesp)
{
    const struct ini_value **values = NULL;
    size_t n = 0, allocated = 0;
    size_t n_names = 0;

    while (names[n_names]) {
        n_names++;
    }

    /* oslo.config walks the files newest first and, within a file, the
     * names in order, each time prepending what it found.  Walking oldest
     * first with the names reversed and appending gives the same list. */
    for (size_t i = 0; i < ini->n_files; i++) {
        const struct ini_file *file = ini->files[i];
        for (size_t j = n_names; j-- > 0; ) {
            for (size_t k = 0; k < file->n_values; k++) {
                const struct ini_value *v = &file->values[k];
                if (strcmp(v->key, names[j])
                    || !ini_group_matches(v->section, group)) {
                    continue;
                }
                if (n >= allocated) {
                    values = x2nrealloc(values, &allocated, sizeof *values);
                }
                values[n++] = v;
            }
        }
    }
    *valuesp = values;
    return n;
}

char *
ini_parse_bool(const char *s, bool *valuep)
{
    static const char *const true_values[] = { "true", "1", "on", "yes" };
    static const char *const false_values[] = { "false", "0", "off", "no" };

    for (size_t i = 0; i < ARRAY_SIZE(true_values); i++) {
        if (!strcasecmp(s, true_values[i])) {
            *valuep = true;
            return NULL;
        }
        if (!strcasecmp(s, false_values[i])) {
            *valuep = false;
            return NULL;
        }
    }
    return xasprintf("unexpected boolean value \"%s\" (expected true/false, "
                     "yes/no, on/off or 1/0)", s);
}

/* Python's int(): surrounding whitespace, an optional sign, and decimal
 * digits that single underscores may separate. */
char *
ini_parse_int(const char *s, long long min, long long max, int *valuep)
{
    const char *p = s, *end = s + strlen(s);
    ini_strip(&p, &end);

    bool negative = false;
    if (p < end && (*p == '+' || *p == '-')) {
        negative = *p++ == '-';
    }

    long long value = 0;
    bool overflow = false;
    const char *digits = p;
    for (; p < end; p++) {
        if (*p == '_' && p > digits && p[-1] != '_' && p + 1 < end
            && isdigit((unsigned char) p[1])) {
            continue;
        }
        if (!isdigit((unsigned char) *p)) {
            break;
        }
        if (value > (LLONG_MAX - 9) / 10) {
            overflow = true;
        } else {
            value = value * 10 + (*p - '0');
        }
    }
    if (p == digits || p != end) {
        return xasprintf("invalid integer value \"%s\"", s);
    }
    if (negative) {
        value = -value;
    }
    if (overflow || value < min || value > max) {
        return xasprintf("value %s out of range (%lld to %lld)", s, min, max);
    }
    *valuep = value;
    return NULL;
}

/* Python's float(), except that infinities and NaNs, which no interval
 * option can use, are refused. */
char *
ini_parse_float(const char *s, double *valuep)
{
    const char *p = s, *end = s + strlen(s);
    ini_strip(&p, &end);

    char *copy = xmemdup0(p, end - p);
    char *tail;
    errno = 0;
    double value = strtod(copy, &tail);
    bool ok = (copy[0] && !*tail && !errno && isfinite(value)
               && !strpbrk(copy, "xX"));
    free(copy);
    if (!ok) {
        return xasprintf("invalid number \"%s\"", s);
    }
    *valuep = value;
    return NULL;
}

/* oslo.config's ListOpt: comma-separated, items stripped.  Empty items,
 * which no option of ours can use, are dropped. */
void
ini_parse_list(const char *s, struct svec *items)
{
    const char *p = s;

    for (;;) {
        const char *comma = strchr(p, ',');
        const char *start = p, *end = comma ? comma : p + strlen(p);
        ini_strip(&start, &end);
        if (start < end) {
            svec_add_nocopy(items, xmemdup0(start, end - start));
        }
        if (!comma) {
            break;
        }
        p = comma + 1;
    }
}

/* oslo.config's IPAddress type checks with inet_pton(). */
bool
ini_is_ip_address(const char *s)
{
    struct in6_addr addr;
    return (inet_pton(AF_INET, s, &addr) == 1
            || inet_pton(AF_INET6, s, &addr) == 1);
}

/* One label of oslo.config's Hostname: 1 to 63 letters, digits and hyphens,
 * not starting or ending with a hyphen. */
static bool
ini_is_label(const char *s, size_t len)
{
    if (!len || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!isalnum((unsigned char) s[i]) && s[i] != '-') {
            return false;
        }
    }
    return true;
}

bool
ini_is_hostname(const char *s)
{
    size_t len = strlen(s);

    if (!len || len > 253) {
        return false;
    }
    if (s[len - 1] == '.') {
        len--;
    }

    /* The last label must not be all digits. */
    const char *last = s + len;
    while (last > s && last[-1] != '.') {
        last--;
    }
    bool has_alpha = false;
    for (const char *c = last; c < s + len; c++) {
        has_alpha |= isalpha((unsigned char) *c) || *c == '-';
    }
    if (!has_alpha) {
        return false;
    }

    for (const char *label = s; ; ) {
        const char *dot = memchr(label, '.', s + len - label);
        const char *label_end = dot ? dot : s + len;
        if (!ini_is_label(label, label_end - label)) {
            return false;
        }
        if (!dot) {
            return true;
        }
        label = dot + 1;
    }
}

bool
ini_is_host_address(const char *s)
{
    return ini_is_ip_address(s) || ini_is_hostname(s);
}

/* Python's string.Template identifier, case-insensitively:
 * [_a-z][._a-z0-9]*.  Returns its length at 's', 0 if there is none. */
static size_t
ini_template_id(const char *s)
{
    size_t n = 0;

    if (!isalpha((unsigned char) s[0]) && s[0] != '_') {
        return 0;
    }
    while (isalnum((unsigned char) s[n]) || s[n] == '_' || s[n] == '.') {
        n++;
    }
    return n;
}

char *
ini_substitute(const char *s, ini_resolve_func *resolve, void *aux,
               char **outp)
{
    struct ds out = DS_EMPTY_INITIALIZER;

    *outp = NULL;
    while (*s) {
        if (s[0] == '\\' && s[1] == '$') {
            /* oslo.config turns "\$" into "$$" before substituting. */
            ds_put_char(&out, '$');
            s += 2;
            continue;
        } else if (s[0] != '$') {
            ds_put_char(&out, *s++);
            continue;
        }

        size_t n;
        const char *name;
        size_t skip;
        if (s[1] == '$') {
            ds_put_char(&out, '$');
            s += 2;
            continue;
        } else if ((n = ini_template_id(s + 1)) != 0) {
            name = s + 1;
            skip = 1 + n;
        } else if (s[1] == '{' && (n = ini_template_id(s + 2)) != 0
                   && s[2 + n] == '}') {
            name = s + 2;
            skip = 3 + n;
        } else {
            /* Not a placeholder: Template.safe_substitute() keeps it. */
            ds_put_char(&out, *s++);
            continue;
        }

        char *key = xmemdup0(name, n);
        char *value = NULL;
        char *error = resolve(key, aux, &value);
        free(key);
        if (error) {
            ds_destroy(&out);
            return error;
        }
        ds_put_cstr(&out, value);
        free(value);
        s += skip;
        if (out.length > INI_MAX_SUBST_LEN) {
            ds_destroy(&out);
            return xasprintf("substitution makes the value longer than %d "
                             "bytes", INI_MAX_SUBST_LEN);
        }
    }
    *outp = ds_steal_cstr(&out);
    return NULL;
}
