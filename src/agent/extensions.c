/*
 * extensions: the agent extensions and their manager.  See extensions.h.
 */
#include <config.h>
#include "agent/extensions.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "agent-config.h"
#include "agent/extension-list.h"
#include "coverage.h"
#include "json-util.h"
#include "log-safe.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "oslo/rpc.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "svec.h"
#include "util.h"

VLOG_DEFINE_THIS_MODULE(extensions);

/* Process-wide event counts, for "coverage/show"; ovsagent/show prints
 * the same. */
COVERAGE_DEFINE(extensions_push);
COVERAGE_DEFINE(extensions_bad_object);

/* The registry: extension-list.h's table, as classes. */
#define EXTENSION_DECLARE(NAME, CLASS) \
    extern const struct extension_class CLASS;
EXTENSION_LIST(EXTENSION_DECLARE)

static const struct {
    const char *name;
    const struct extension_class *class;
} registry[] = {
#define EXTENSION_ENTRY(NAME, CLASS) { NAME, &CLASS },
    EXTENSION_LIST(EXTENSION_ENTRY)
    { NULL, NULL },
};

static const struct extension_class *
extensions_find_class(const char *name)
{
    for (size_t i = 0; registry[i].name; i++) {
        if (!strcmp(registry[i].name, name)) {
            return registry[i].class;
        }
    }
    return NULL;
}

/* One extension's agent API and the bridge handles it has asked for. */
struct extension_api {
    struct extensions *mgr;
    struct extension *ext;
    struct extension_bridge *integ;         /* NULL until requested. */
    struct extension_bridge *tun;           /* NULL until requested. */
    struct extension_bridge **phys;         /* NULL until requested. */
};

/* A fanout consumer: the pushes of one resource type at one version. */
struct extensions_sub {
    struct extensions *mgr;
    char *type;
    char *version;
    char *topic;                /* neutron-vo-<type>-<version>. */
};

struct extensions {
    const struct agent_config *cfg;
    struct extension_context ctx;
    struct of_bridge *integ;
    struct of_bridge *tun;
    struct of_bridge **phys;
    size_t n_phys;

    /* In the configured order. */
    struct extension **exts;
    struct extension_api **apis;
    size_t n;

    struct extensions_sub **subs;
    size_t n_subs;

    /* Counters for ovsagent/show. */
    unsigned long long n_pushes;
    unsigned long long n_bad_objects;
};

/* Bridge handles. */

static struct extension_bridge *
extension_bridge_create(const struct extension_api *api,
                        struct of_bridge *ob)
{
    const struct agent_config *cfg = api->mgr->cfg;
    struct extension_bridge *eb = xzalloc(sizeof *eb);
    const struct bridge_mapping *m;

    eb->name = of_bridge_name(ob);
    m = agent_config_find_bridge(cfg, eb->name);
    eb->physnet = m ? m->physnet : NULL;
    eb->flows = of_bridge_flows(ob);
    eb->owner_prefix = xasprintf("ext-%s:", api->ext->name);
    eb->cookie = flow_table_request_cookie(eb->flows, eb->owner_prefix);
    return eb;
}

static void
extension_bridge_destroy(struct extension_bridge *eb)
{
    if (eb) {
        free(eb->owner_prefix);
        free(eb);
    }
}

char *
extension_bridge_add_flow(struct extension_bridge *eb, const char *key,
                          enum ofputil_flow_mod_flags flags,
                          const char *format, ...)
{
    va_list args;
    va_start(args, format);
    char *text = xvasprintf(format, args);
    va_end(args);

    char *owner = xasprintf("%s%s", eb->owner_prefix, key);
    char *error = flow_table_add(eb->flows, owner, flags, "%s", text);
    free(owner);
    free(text);
    return error;
}

void
extension_bridge_clear_flows(struct extension_bridge *eb, const char *key)
{
    char *owner = xasprintf("%s%s", eb->owner_prefix, key);
    flow_table_clear_owner(eb->flows, owner);
    free(owner);
}

/* The agent API. */

struct extension_bridge *
extension_api_request_int_br(struct extension_api *api)
{
    if (!api->integ) {
        api->integ = extension_bridge_create(api, api->mgr->integ);
    }
    return api->integ;
}

struct extension_bridge *
extension_api_request_tun_br(struct extension_api *api)
{
    if (!api->tun && api->mgr->tun) {
        api->tun = extension_bridge_create(api, api->mgr->tun);
    }
    return api->tun;
}

struct extension_bridge *const *
extension_api_request_phys_brs(struct extension_api *api, size_t *n)
{
    const struct extensions *mgr = api->mgr;
    if (!api->phys) {
        api->phys = xcalloc(mgr->n_phys + 1, sizeof *api->phys);
        for (size_t i = 0; i < mgr->n_phys; i++) {
            api->phys[i] = extension_bridge_create(api, mgr->phys[i]);
        }
    }
    *n = mgr->n_phys;
    return api->phys;
}

static void
extension_api_destroy(struct extension_api *api, size_t n_phys)
{
    if (!api) {
        return;
    }
    extension_bridge_destroy(api->integ);
    extension_bridge_destroy(api->tun);
    if (api->phys) {
        for (size_t i = 0; i < n_phys; i++) {
            extension_bridge_destroy(api->phys[i]);
        }
        free(api->phys);
    }
    free(api);
}

/* Pushes. */

static bool
follows(const struct extension *ext, const char *type, const char *version)
{
    const struct extension_resource *r = ext->class->resources;
    for (; r && r->type; r++) {
        if (!strcmp(r->type, type) && !strcmp(r->version, version)) {
            return true;
        }
    }
    return false;
}

size_t
extensions_push(struct extensions *mgr, const char *type,
                const char *version, const struct json *objects,
                const char *event_type)
{
    size_t n_bad = 0;

    mgr->n_pushes++;
    COVERAGE_INC(extensions_push);
    for (size_t i = 0; i < mgr->n; i++) {
        struct extension *ext = mgr->exts[i];
        if (follows(ext, type, version)) {
            n_bad += ext->class->push(ext, type, objects, event_type);
        }
    }
    mgr->n_bad_objects += n_bad;
    COVERAGE_ADD(extensions_bad_object, n_bad);
    return n_bad;
}

/* Adds a consumer for 'r' unless one exists. */
static void
extensions_subscribe(struct extensions *mgr,
                     const struct extension_resource *r)
{
    for (size_t i = 0; i < mgr->n_subs; i++) {
        if (!strcmp(mgr->subs[i]->type, r->type)
            && !strcmp(mgr->subs[i]->version, r->version)) {
            return;
        }
    }
    struct extensions_sub *sub = xmalloc(sizeof *sub);
    sub->mgr = mgr;
    sub->type = xstrdup(r->type);
    sub->version = xstrdup(r->version);
    sub->topic = xasprintf("neutron-vo-%s-%s", r->type, r->version);
    mgr->subs = xrealloc(mgr->subs, (mgr->n_subs + 1) * sizeof *mgr->subs);
    mgr->subs[mgr->n_subs++] = sub;
}

void
extensions_subscribed_topics(const struct extensions *mgr,
                             struct svec *topics)
{
    for (size_t i = 0; i < mgr->n_subs; i++) {
        svec_add(topics, mgr->subs[i]->topic);
    }
}

/* The manager. */

struct extensions *
extensions_create(const struct agent_config *cfg, struct rpc *rpc,
                  const struct extensions_bridges *bridges)
{
    struct extensions *mgr = xzalloc(sizeof *mgr);
    size_t n = cfg->extensions.n;

    mgr->cfg = cfg;
    mgr->ctx.cfg = cfg;
    mgr->ctx.rpc = rpc;
    mgr->integ = bridges->integ;
    mgr->tun = bridges->tun;
    mgr->n_phys = bridges->n_phys;
    mgr->phys = xcalloc(bridges->n_phys + 1, sizeof *mgr->phys);
    for (size_t i = 0; i < bridges->n_phys; i++) {
        mgr->phys[i] = bridges->phys[i];
    }
    mgr->exts = xcalloc(n + 1, sizeof *mgr->exts);
    mgr->apis = xcalloc(n + 1, sizeof *mgr->apis);

    if (n) {
        struct ds names = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < n; i++) {
            ds_put_format(&names, "%s%s", i ? ", " : "",
                          cfg->extensions.names[i]);
        }
        VLOG_INFO("loaded agent extensions: %s", ds_cstr(&names));
        ds_destroy(&names);
    }

    /* As the reference's manager: each extension in turn gets its API,
     * then is initialized. */
    for (size_t i = 0; i < n; i++) {
        const char *name = cfg->extensions.names[i];
        const struct extension_class *class = extensions_find_class(name);
        if (!class) {
            /* agent-config refuses such names; reaching this is a bug. */
            VLOG_FATAL("[agent] extensions: \"%s\" is not supported by "
                       "ovsagent", name);
        }

        ovs_assert(class->alloc && class->destroy && class->initialize
                   && class->handle_port && class->delete_port
                   && (class->push || !class->resources
                       || !class->resources[0].type));

        struct extension *ext = class->alloc();
        ext->class = class;
        ext->name = name;
        mgr->exts[i] = ext;
        mgr->n = i + 1;

        struct extension_api *api = xzalloc(sizeof *api);
        api->mgr = mgr;
        api->ext = ext;
        mgr->apis[i] = api;

        VLOG_INFO("initializing agent extension %s", name);
        if (class->consume_api) {
            class->consume_api(ext, api);
        }
        class->initialize(ext, &mgr->ctx, EXTENSION_DRIVER_TYPE);

        for (const struct extension_resource *r = class->resources;
             r && r->type; r++) {
            extensions_subscribe(mgr, r);
        }
    }

    /* agent subscribes to extensions_subscribed_topics() and hands each
     * push to extensions_push(): one handler per topic, whoever follows
     * it. */
    return mgr;
}

void
extensions_destroy(struct extensions *mgr)
{
    if (!mgr) {
        return;
    }
    for (size_t i = mgr->n; i-- > 0; ) {
        mgr->exts[i]->class->destroy(mgr->exts[i]);
        extension_api_destroy(mgr->apis[i], mgr->n_phys);
    }
    for (size_t i = 0; i < mgr->n_subs; i++) {
        struct extensions_sub *sub = mgr->subs[i];
        free(sub->type);
        free(sub->version);
        free(sub->topic);
        free(sub);
    }
    free(mgr->subs);
    free(mgr->exts);
    free(mgr->apis);
    free(mgr->phys);
    free(mgr);
}

void
extensions_run(struct extensions *mgr)
{
    for (size_t i = 0; i < mgr->n; i++) {
        struct extension *ext = mgr->exts[i];
        if (ext->class->run) {
            ext->class->run(ext);
        }
    }
}

void
extensions_wait(struct extensions *mgr)
{
    for (size_t i = 0; i < mgr->n; i++) {
        struct extension *ext = mgr->exts[i];
        if (ext->class->wait) {
            ext->class->wait(ext);
        }
    }
}

void
extensions_handle_port(struct extensions *mgr,
                       const struct extension_port *port)
{
    for (size_t i = 0; i < mgr->n; i++) {
        mgr->exts[i]->class->handle_port(mgr->exts[i], port);
    }
}

void
extensions_delete_port(struct extensions *mgr,
                       const struct extension_port *port)
{
    for (size_t i = 0; i < mgr->n; i++) {
        mgr->exts[i]->class->delete_port(mgr->exts[i], port);
    }
}

void
extensions_format(const struct extensions *mgr, struct ds *s)
{
    if (!mgr->n) {
        ds_put_cstr(s, "agent extensions: none\n");
        return;
    }
    ds_put_format(s, "agent extensions: %"PRIuSIZE" (pushes %llu, "
                  "malformed objects %llu)\n", mgr->n, mgr->n_pushes,
                  mgr->n_bad_objects);
    for (size_t i = 0; i < mgr->n; i++) {
        const struct extension *ext = mgr->exts[i];
        ds_put_format(s, "  %s", ext->name);
        const struct extension_resource *r = ext->class->resources;
        for (size_t j = 0; r && r[j].type; j++) {
            ds_put_format(s, "%s%s %s", j ? ", " : " (follows ", r[j].type,
                          r[j].version);
            if (!r[j + 1].type) {
                ds_put_char(s, ')');
            }
        }
        ds_put_char(s, '\n');
        if (ext->class->format) {
            ext->class->format(ext, s);
        }
    }
}
