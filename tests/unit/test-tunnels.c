/*
 * Unit tests of tunnels' forwarding-database refresh with l2population
 * (tunnels.h): after tunnels_refresh_begin(), the entries that the
 * server's answer and the casts that arrive meanwhile do not name again
 * are swept once the network's refresh_tunnels report is answered and the
 * grace has passed; the entries they name, and those added after the
 * refresh began, stay; nothing goes before the answer, nor on a network
 * that got none; without l2population there is no refresh.
 *
 * Runs offline, as tests/fuzz/fuzz-l2pop.c does: a vswitch with no
 * database and an of_bridge with no switch.  No tunnel ever gets an
 * ofport then, so br-tun's unicast and flood flows, which output to
 * tunnels, are never written; the ARP responder's flows are, and are
 * checked as flows.  Unicast entries and flood lists are checked through
 * tunnels_format()'s per-network counts, and tunnels through its list.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent-config.h"
#include "agent/tunnels.h"
#include "openvswitch/dynamic-string.h"
#include "openvswitch/json.h"
#include "openvswitch/vlog.h"
#include "ovs/flow-table.h"
#include "ovs/of-bridge.h"
#include "ovs/vswitch.h"
#include "util.h"
#include "test-util.h"

static const char l2pop_ini[] =
    "[DEFAULT]\n"
    "host = compute1\n"
    "[ovs]\n"
    "local_ip = 192.0.2.1\n"
    "[agent]\n"
    "tunnel_types = vxlan\n"
    "l2_population = True\n"
    "arp_responder = True\n";

static const char mesh_ini[] =
    "[DEFAULT]\n"
    "host = compute1\n"
    "[ovs]\n"
    "local_ip = 192.0.2.1\n"
    "[agent]\n"
    "tunnel_types = vxlan\n";

/* A tunnels with what it needs around it. */
struct fixture {
    struct agent_config *cfg;
    struct vswitch *vs;
    struct of_bridge *ob;
    struct tunnels *ts;
};

/* As fuzz-l2pop.c builds it: vswitch_run() and of_bridge_run() are never
 * called, so nothing connects anywhere. */
static void
fixture_init(struct fixture *fx, const char *ini)
{
    struct of_bridge_options opts = { .canary_table = -1 };
    fx->cfg = test_config_from_string(ini);
    fx->vs = vswitch_create(fx->cfg);
    fx->ob = of_bridge_create(fx->cfg->tunnel_bridge, 1, &opts);
    fx->ts = tunnels_create(fx->cfg, fx->vs, fx->ob);
}

static void
fixture_destroy(struct fixture *fx)
{
    tunnels_destroy(fx->ts);
    of_bridge_destroy(fx->ob);
    vswitch_destroy(fx->vs);
    agent_config_destroy(fx->cfg);
}

/* The "fdb_entries" of an add_fdb_entries cast, in the server's shape, for
 * network 'net' (segment 'segid'): for each host number N of the
 * 0-terminated list, remote 192.0.2.N with its flood entry and one port,
 * MAC fa:16:3e:00:00:NN at 10.0.0.N. */
static struct json *
fdb_entries(const char *net, int segid, va_list args)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    ds_put_format(&s, "{\"%s\": {\"segment_id\": %d, "
                  "\"network_type\": \"vxlan\", \"ports\": {", net, segid);
    const char *sep = "";
    for (int host = va_arg(args, int); host; host = va_arg(args, int)) {
        ds_put_format(&s, "%s\"192.0.2.%d\": "
                      "[[\"00:00:00:00:00:00\", \"0.0.0.0\"], "
                      "[\"fa:16:3e:00:00:%02x\", \"10.0.0.%d\"]]",
                      sep, host, host, host);
        sep = ", ";
    }
    ds_put_cstr(&s, "}}}");
    struct json *json = json_from_string(ds_cstr(&s));
    if (json->type == JSON_STRING) {
        ovs_fatal(0, "%s: %s", ds_cstr(&s), json_string(json));
    }
    ds_destroy(&s);
    return json;
}

/* add_fdb_entries for the hosts that follow 'segid', up to a 0. */
static void
fdb_add(struct tunnels *ts, const char *net, int segid, ...)
{
    va_list args;
    va_start(args, segid);
    struct json *json = fdb_entries(net, segid, args);
    va_end(args);
    size_t n_bad = tunnels_fdb_add(ts, json);
    checkf(!n_bad, "add_fdb_entries on %s: no entry dropped (%"PRIuSIZE")",
           net, n_bad);
    json_destroy(json);
}

/* remove_fdb_entries, likewise. */
static void
fdb_remove(struct tunnels *ts, const char *net, int segid, ...)
{
    va_list args;
    va_start(args, segid);
    struct json *json = fdb_entries(net, segid, args);
    va_end(args);
    size_t n_bad = tunnels_fdb_remove(ts, json);
    checkf(!n_bad, "remove_fdb_entries on %s: no entry dropped (%"PRIuSIZE
           ")", net, n_bad);
    json_destroy(json);
}

static bool
has_arp_flow(struct fixture *fx, int lv, int host)
{
    struct ds flows = DS_EMPTY_INITIALIZER;
    flow_table_format_desired(of_bridge_flows(fx->ob), &flows);
    /* The responder's flow for 10.0.0.N, answering with N's MAC. */
    char *match = xasprintf("table=21, priority=1,arp,dl_vlan=%d,"
                            "arp_tpa=10.0.0.%d actions=", lv, host);
    char *mac = xasprintf("set_field:fa:16:3e:00:00:%02x->arp_sha", host);
    const char *flow = strstr(ds_cstr(&flows), match);
    const char *eol = flow ? strchr(flow, '\n') : NULL;
    const char *has_mac = flow ? strstr(flow, mac) : NULL;
    bool found = flow && has_mac && (!eol || has_mac < eol);
    free(match);
    free(mac);
    ds_destroy(&flows);
    return found;
}

/* Checks that exactly the hosts of the 0-terminated list have an ARP
 * responder flow on local VLAN 'lv', among hosts 2 to 9. */
static void
check_arp_flows(struct fixture *fx, int lv, const char *what, ...)
{
    bool want[10] = { false };
    va_list args;
    va_start(args, what);
    for (int host = va_arg(args, int); host; host = va_arg(args, int)) {
        want[host] = true;
    }
    va_end(args);

    struct ds got = DS_EMPTY_INITIALIZER;
    bool ok = true;
    for (int host = 2; host < 10; host++) {
        bool has = has_arp_flow(fx, lv, host);
        if (has) {
            ds_put_format(&got, " 10.0.0.%d", host);
        }
        ok = ok && has == want[host];
    }
    checkf(ok, "%s: ARP responder flows on VLAN %d for:%s", what, lv,
           ds_cstr(&got));
    ds_destroy(&got);
}

/* Checks the numbers of flood, unicast and ARP entries of network 'net'
 * as tunnels_format() prints them. */
static void
check_fdb(const struct tunnels *ts, const char *net, int segid, int lv,
          int n_flood, int n_ucast, int n_arp, const char *what)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    tunnels_format(ts, &s);
    char *line = xasprintf("network %s vxlan %d vlan=%d: flood %d, "
                           "unicast %d, arp %d\n", net, segid, lv, n_flood,
                           n_ucast, n_arp);
    bool ok = strstr(ds_cstr(&s), line) != NULL;
    checkf(ok, "%s: %s flood %d, unicast %d, arp %d", what, net, n_flood,
           n_ucast, n_arp);
    if (!ok) {
        printf("# not in:\n%s", ds_cstr(&s));
    }
    free(line);
    ds_destroy(&s);
}

/* Checks that exactly the remotes of the 0-terminated list have a
 * tunnel. */
static void
check_tunnels(const struct tunnels *ts, const char *what, ...)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    tunnels_format(ts, &s);
    struct ds want = DS_EMPTY_INITIALIZER;
    size_t n = 0;
    bool ok = true;
    va_list args;
    va_start(args, what);
    for (int host = va_arg(args, int); host; host = va_arg(args, int)) {
        char *needle = xasprintf(" to 192.0.2.%d ofport=", host);
        ok = ok && strstr(ds_cstr(&s), needle);
        free(needle);
        ds_put_format(&want, " 192.0.2.%d", host);
        n++;
    }
    va_end(args);
    ok = ok && tunnels_count(ts) == n;
    checkf(ok, "%s: %"PRIuSIZE" tunnels, to%s", what, n, ds_cstr(&want));
    if (!ok) {
        printf("# got %"PRIuSIZE":\n%s", tunnels_count(ts), ds_cstr(&s));
    }
    ds_destroy(&want);
    ds_destroy(&s);
}

/* Network "net-a" (VXLAN 1001, local VLAN 1) with remotes 192.0.2.2 and
 * 192.0.2.3, as add_fdb_entries leaves it. */
static void
setup_net_a(struct fixture *fx)
{
    fixture_init(fx, l2pop_ini);
    tunnels_network_add(fx->ts, "net-a", "vxlan", 1001, 1);
    fdb_add(fx->ts, "net-a", 1001, 2, 3, 0);
    tunnels_run(fx->ts);
}

static void
test_fdb_add(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2, "add_fdb_entries");
    check_arp_flows(&fx, 1, "add_fdb_entries", 2, 3, 0);
    check_tunnels(fx.ts, "add_fdb_entries", 2, 3, 0);
    check(tunnels_network_has_tunnels(fx.ts, "net-a"),
          "net-a floods to tunnels");
    check(!tunnels_network_refreshing(fx.ts, "net-a"),
          "no refresh before tunnels_refresh_begin");
    fixture_destroy(&fx);
}

/* The server's answer names 192.0.2.2 only: 192.0.2.3 was removed while
 * the agent could not hear the cast. */
static void
test_sweep(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);

    tunnels_refresh_begin(fx.ts);
    check(tunnels_network_refreshing(fx.ts, "net-a"),
          "refresh begun: net-a should ask for refresh_tunnels");
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_run(fx.ts);
    check(tunnels_network_refreshing(fx.ts, "net-a"),
          "an add alone does not end the refresh");
    tunnels_refresh_answered(fx.ts, "net-a");
    check(!tunnels_network_refreshing(fx.ts, "net-a"),
          "answered: net-a need not ask again");
    tunnels_run(fx.ts);

    check_fdb(fx.ts, "net-a", 1001, 1, 1, 1, 1, "swept");
    check_arp_flows(&fx, 1, "swept", 2, 0);
    check_tunnels(fx.ts, "swept: 192.0.2.3's tunnel deleted", 2, 0);
    check(!tunnels_network_refreshing(fx.ts, "net-a"),
          "swept: net-a no longer refreshing");

    struct ds s = DS_EMPTY_INITIALIZER;
    tunnels_format(fx.ts, &s);
    check(strstr(ds_cstr(&s), "removed by refresh 3)")
          && !strstr(ds_cstr(&s), "refreshing:"),
          "swept: 3 entries counted, no refresh shown");
    ds_destroy(&s);

    /* A later run with nothing stale sweeps nothing more. */
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 1, 1, 1, "another run");
    fixture_destroy(&fx);
}

/* A fanout add of a new remote arrives before the answer, and a remote
 * held before the refresh is named by a cast rather than by the answer:
 * both were heard after the refresh began, and stay. */
static void
test_added_after_begin(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);

    tunnels_refresh_begin(fx.ts);
    fdb_add(fx.ts, "net-a", 1001, 4, 0);
    check_tunnels(fx.ts, "fanout add of 192.0.2.4", 2, 3, 4, 0);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);

    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2,
              "swept, 192.0.2.4 added after begin");
    check_arp_flows(&fx, 1, "swept, 192.0.2.4 added after begin", 2, 4, 0);
    check_tunnels(fx.ts, "swept, 192.0.2.4 added after begin", 2, 4, 0);
    fixture_destroy(&fx);

    /* A remote removed by a cast after the refresh began and added again
     * before the answer is as new. */
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);
    tunnels_refresh_begin(fx.ts);
    fdb_remove(fx.ts, "net-a", 1001, 3, 0);
    check_tunnels(fx.ts, "192.0.2.3 removed during the refresh", 2, 0);
    fdb_add(fx.ts, "net-a", 1001, 3, 0);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2,
              "swept, 192.0.2.3 removed and added again");
    check_tunnels(fx.ts, "swept, 192.0.2.3 removed and added again",
                  2, 3, 0);

    /* A remote removed during the refresh and not added again is simply
     * gone: the sweep has nothing left of it to remove. */
    tunnels_refresh_begin(fx.ts);
    fdb_remove(fx.ts, "net-a", 1001, 3, 0);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 1, 1, 1,
              "swept after a remove cast");
    check_tunnels(fx.ts, "swept after a remove cast", 2, 0);
    fixture_destroy(&fx);
}

/* Before the answer the server may not have sent the database yet:
 * nothing goes however long it takes; after it, not before the grace. */
static void
test_no_sweep_before_answer(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);

    tunnels_refresh_begin(fx.ts);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    for (int i = 0; i < 10; i++) {
        tunnels_run(fx.ts);
    }
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2, "ten runs, no answer");
    check_arp_flows(&fx, 1, "ten runs, no answer", 2, 3, 0);
    check_tunnels(fx.ts, "ten runs, no answer", 2, 3, 0);
    check(tunnels_network_refreshing(fx.ts, "net-a"),
          "ten runs, no answer: still refreshing");
    fixture_destroy(&fx);

    /* The default grace: the casts of the answer may still be on their
     * way. */
    setup_net_a(&fx);
    tunnels_refresh_begin(fx.ts);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2,
              "default grace, run right after the answer");
    check_tunnels(fx.ts, "default grace, run right after the answer",
                  2, 3, 0);

    struct ds s = DS_EMPTY_INITIALIZER;
    tunnels_format(fx.ts, &s);
    check(strstr(ds_cstr(&s), "refreshing: the server answered") != NULL,
          "default grace: shown as answered, sweep pending");
    ds_destroy(&s);
    fixture_destroy(&fx);

    /* A short grace, really waited for: a cast that arrives within it
     * confirms its entries, and an answer for another report within it
     * does not push the sweep later. */
    setup_net_a(&fx);
    fdb_add(fx.ts, "net-a", 1001, 6, 0);
    tunnels_set_fdb_grace(fx.ts, 200);
    tunnels_refresh_begin(fx.ts);
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 3, 3, 3, "200 ms grace, not yet");
    fdb_add(fx.ts, "net-a", 1001, 3, 0);
    xnanosleep(120 * 1000 * 1000);
    tunnels_refresh_answered(fx.ts, "net-a");
    xnanosleep(120 * 1000 * 1000);
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2,
              "200 ms grace passed: swept, the cast within it confirmed");
    check_arp_flows(&fx, 1, "200 ms grace passed", 2, 3, 0);
    check_tunnels(fx.ts, "200 ms grace passed", 2, 3, 0);
    fixture_destroy(&fx);
}

/* Two networks refresh; only net-a's report is answered.  net-b keeps
 * everything, and 192.0.2.3's tunnel, to which net-b still floods, stays
 * though net-a drops it. */
static void
test_one_network_answered(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);
    tunnels_network_add(fx.ts, "net-b", "vxlan", 1002, 2);
    fdb_add(fx.ts, "net-b", 1002, 3, 5, 0);
    tunnels_run(fx.ts);
    check_tunnels(fx.ts, "two networks", 2, 3, 5, 0);

    tunnels_refresh_begin(fx.ts);
    check(tunnels_network_refreshing(fx.ts, "net-a")
          && tunnels_network_refreshing(fx.ts, "net-b"),
          "both networks refreshing");
    fdb_add(fx.ts, "net-a", 1001, 2, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);

    check_fdb(fx.ts, "net-a", 1001, 1, 1, 1, 1, "net-a answered, swept");
    check_arp_flows(&fx, 1, "net-a answered, swept", 2, 0);
    check_fdb(fx.ts, "net-b", 1002, 2, 2, 2, 2, "net-b unanswered, kept");
    check_arp_flows(&fx, 2, "net-b unanswered, kept", 3, 5, 0);
    check_tunnels(fx.ts, "192.0.2.3 still flooded to by net-b", 2, 3, 5, 0);
    check(!tunnels_network_refreshing(fx.ts, "net-a")
          && tunnels_network_refreshing(fx.ts, "net-b"),
          "net-b alone still refreshing");

    /* net-b's answer names 192.0.2.5 only: 192.0.2.3 goes now. */
    fdb_add(fx.ts, "net-b", 1002, 5, 0);
    tunnels_refresh_answered(fx.ts, "net-b");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-b", 1002, 2, 1, 1, 1, "net-b answered, swept");
    check_tunnels(fx.ts, "net-b answered, swept", 2, 5, 0);
    fixture_destroy(&fx);
}

/* An answer for a network that began no refresh (the report asked for
 * refresh_tunnels because the network had no tunnel yet) sweeps
 * nothing. */
static void
test_answer_without_refresh(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_refresh_answered(fx.ts, "net-unknown");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 2, 2, 2, "answer without a refresh");
    check_tunnels(fx.ts, "answer without a refresh", 2, 3, 0);
    fixture_destroy(&fx);
}

/* A network removed and given a local VLAN again while refreshing starts
 * empty, with nothing stale. */
static void
test_network_readded(void)
{
    struct fixture fx;
    setup_net_a(&fx);
    tunnels_set_fdb_grace(fx.ts, 0);
    tunnels_refresh_begin(fx.ts);
    tunnels_network_remove(fx.ts, "net-a");
    check_tunnels(fx.ts, "net-a removed while refreshing", 0);
    check_arp_flows(&fx, 1, "net-a removed while refreshing", 0);
    tunnels_network_add(fx.ts, "net-a", "vxlan", 1001, 1);
    fdb_add(fx.ts, "net-a", 1001, 3, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_fdb(fx.ts, "net-a", 1001, 1, 1, 1, 1, "net-a added again");
    check_tunnels(fx.ts, "net-a added again", 3, 0);
    fixture_destroy(&fx);
}

/* Without l2population the full mesh has no forwarding database to
 * refresh. */
static void
test_mesh(void)
{
    struct fixture fx;
    fixture_init(&fx, mesh_ini);
    tunnels_network_add(fx.ts, "net-a", "vxlan", 1001, 1);
    tunnels_endpoint_update(fx.ts, "192.0.2.2", "vxlan");
    tunnels_run(fx.ts);
    tunnels_refresh_begin(fx.ts);
    check(!tunnels_network_refreshing(fx.ts, "net-a"),
          "mesh: tunnels_refresh_begin does nothing");
    tunnels_set_fdb_grace(fx.ts, 0);
    tunnels_refresh_answered(fx.ts, "net-a");
    tunnels_run(fx.ts);
    check_tunnels(fx.ts, "mesh: the endpoint's tunnel stays", 2, 0);
    fixture_destroy(&fx);
}

int
main(int argc OVS_UNUSED, char *argv[])
{
    set_program_name(argv[0]);
    vlog_set_levels(NULL, VLF_ANY_DESTINATION, VLL_OFF);
    test_fdb_add();
    test_sweep();
    test_added_after_begin();
    test_no_sweep_before_answer();
    test_one_network_answered();
    test_answer_without_refresh();
    test_network_readded();
    test_mesh();
    return test_summary();
}
