/*
 * ini: configuration files in oslo.config's INI dialect, and the value types
 * oslo.config converts them to.
 *
 * Layer: bottom.  This module knows nothing about Neutron options; it reads
 * files into a stack of parsed files ("struct ini"), answers "which value
 * wins for this option", and converts strings the way oslo.config's types
 * do.  agent-config.c decides which options exist and what they mean.
 *
 * The dialect, as oslo.config's iniparser reads it:
 *
 *   - "[name]" starts a section.  A section line must end with "]" and the
 *     name must not be empty.  Section names match option groups
 *     case-insensitively, except "DEFAULT", which must be written exactly.
 *
 *   - A line whose first character is "#" or ";" is a comment.  There are no
 *     inline comments: "a = b # c" sets "a" to "b # c".
 *
 *   - "key = value" or "key: value": the line is split at the first "=" or
 *     ":", whichever comes first; key and value are stripped; a value wrapped
 *     in matching single or double quotes loses them.  An assignment before
 *     any section is an error, as is an empty key.
 *
 *   - A line starting with a space or tab continues the previous value; the
 *     parts are joined with "\n".  A blank line or a comment ends the value,
 *     so an indented line after one of those is an error.
 *
 *   - Lines may be of any length.
 *
 *   - A key may repeat, within a file and across files.  For an ordinary
 *     option the last value wins, and a later file beats an earlier one
 *     (ini_lookup()); a multi-valued option gets every value, oldest first
 *     (ini_lookup_all()).
 */
#ifndef OVSAGENT_INI_H
#define OVSAGENT_INI_H 1

#include <stdbool.h>
#include <stddef.h>

#include "openvswitch/compiler.h"

struct svec;

/* One "key = value" assignment, with where it was written. */
struct ini_value {
    char *section;              /* As written between the brackets. */
    char *key;                  /* Stripped. */
    char *value;                /* Stripped, unquoted, lines joined by \n. */
    const char *file_name;      /* Owned by the struct ini_file. */
    size_t file_idx;            /* Index of that file in its struct ini. */
    int line;                   /* Line number of the key, from 1. */
};

/* One parsed file. */
struct ini_file {
    char *name;                 /* As given to ini_read_file(). */
    char **sections;            /* Every section header, in file order. */
    size_t n_sections;
    struct ini_value *values;   /* Every assignment, in file order. */
    size_t n_values;
};

/* A stack of parsed files, in the order they were applied. */
struct ini {
    struct ini_file **files;
    size_t n_files;
    size_t allocated_files;
};

void ini_init(struct ini *);
void ini_destroy(struct ini *);

/* Reading.  Each returns NULL on success, otherwise a malloc'd one-line
 * message that the caller frees; "FILE:LINE: ..." for a syntax error.  A
 * file with a syntax error is not added to 'ini'. */
char *ini_read_file(struct ini *, const char *file_name)
    OVS_WARN_UNUSED_RESULT;
char *ini_read_dir(struct ini *, const char *dir_name)
    OVS_WARN_UNUSED_RESULT;
char *ini_parse_buffer(struct ini *, const char *name,
                       const char *text, size_t len)
    OVS_WARN_UNUSED_RESULT;
char *ini_parse_string(struct ini *, const char *name, const char *text)
    OVS_WARN_UNUSED_RESULT;

/* Returns the "*.conf" files in 'dir_name' in the order oslo.config's
 * --config-dir applies them, appended to 'files' (full paths).  Returns 0,
 * or an errno value if the directory cannot be read. */
int ini_list_dir(const char *dir_name, struct svec *files);

/* Appends to 'paths' oslo.config's default config files (with 'ext'
 * ".conf") or directories (".conf.d") for 'project' and 'prog': for each of
 * the two names, the first of ~/.<project>/, ~/, <etc>/<project>/ and <etc>/
 * where <name><ext> exists.  'home' may be NULL or empty, which skips the
 * first two. */
void ini_default_paths(const char *project, const char *prog,
                       const char *home, const char *etc, const char *ext,
                       struct svec *paths);

/* Returns a malloc'd copy of 'path' with a leading "~/" (or a lone "~")
 * replaced by $HOME, as Python's os.path.expanduser() does. */
char *ini_expand_user(const char *path);

/* Lookup.  'group' is an option group name ("DEFAULT", "ovs", ...) and
 * 'names' a NULL-terminated list of the option's name followed by its
 * deprecated names.
 *
 * ini_lookup() returns the value that wins for a single-valued option, or
 * NULL if no file sets it: the newest file that sets any of the names wins,
 * within that file the first of 'names' it sets, and of that name the last
 * assignment.  The value is owned by 'ini'.
 *
 * ini_lookup_all() stores in '*valuesp' a malloc'd array (which the caller
 * frees, but not its elements) of every value of a multi-valued option in
 * oslo.config's order, and returns how many there are. */
const struct ini_value *ini_lookup(const struct ini *, const char *group,
                                   const char *const names[]);
size_t ini_lookup_all(const struct ini *, const char *group,
                      const char *const names[],
                      const struct ini_value ***valuesp);

/* Returns true if a section written as 'section' holds options of 'group'. */
bool ini_group_matches(const char *section, const char *group);

/* Value types, as oslo.config's types module converts them.  The parsers
 * return NULL on success or a malloc'd message (without location) that the
 * caller frees. */
char *ini_parse_bool(const char *, bool *) OVS_WARN_UNUSED_RESULT;
char *ini_parse_int(const char *, long long min, long long max, int *)
    OVS_WARN_UNUSED_RESULT;
char *ini_parse_float(const char *, double *) OVS_WARN_UNUSED_RESULT;
void ini_parse_list(const char *, struct svec *);
bool ini_is_ip_address(const char *);
bool ini_is_hostname(const char *);
bool ini_is_host_address(const char *);

/* Template substitution, as oslo.config applies it to every value before
 * conversion: "$name", "${name}" and "${group.name}" are replaced by what
 * 'resolve' returns for "name" or "group.name"; "$$" and "\$" stand for a
 * literal "$"; any other "$" is left alone.
 *
 * 'resolve' returns NULL and stores a malloc'd value in '*valuep', or returns
 * a malloc'd error message.  On success ini_substitute() stores a malloc'd
 * result in '*outp' and returns NULL; on error it returns the first message
 * 'resolve' returned and stores NULL.  A result longer than
 * INI_MAX_SUBST_LEN bytes is an error too: references to references can
 * otherwise make a small file expand without bound. */
#define INI_MAX_SUBST_LEN 65536
typedef char *ini_resolve_func(const char *name, void *aux, char **valuep);
char *ini_substitute(const char *, ini_resolve_func *, void *aux,
                     char **outp) OVS_WARN_UNUSED_RESULT;

#endif /* ini.h */
