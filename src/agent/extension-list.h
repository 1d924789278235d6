/*
 * extension-list: the L2 agent extensions ovsagent implements, in one
 * table.
 *
 * EXTENSION_LIST(X) expands X(NAME, CLASS) once per extension.  NAME is
 * what an operator writes in [agent] extensions: the reference's entry
 * point name in neutron.agent.l2.extensions ("qos", "fdb", "log", ...).
 * CLASS is the struct extension_class (extensions.h) that implements it,
 * defined in the extension's own file.
 *
 * This is the only list.  agent-config refuses at start any name not in
 * it, naming the ones that are; extensions.c instantiates from it.  It is
 * data only, so that agent-config, which sits below the agent, reads it
 * without calling into the agent.
 *
 * An extension is added with one line, in the order "supported:" lists
 * them, e.g.  X("qos", qos_extension_class)
 */
#ifndef OVSAGENT_EXTENSION_LIST_H
#define OVSAGENT_EXTENSION_LIST_H 1

#define EXTENSION_LIST(X) /* None yet. */

#endif /* extension-list.h */
