/*
 * fw-noop: firewall_driver = noop (or empty): no filter at all.  The agent
 * then writes br-int's ARP and MAC spoofing tables for each port itself,
 * and, with explicitly_egress_direct, its accepted-egress-direct flows, as
 * the reference does with its NoopFirewallDriver.
 */
#include <config.h>
#include "agent/fw-driver.h"

#include "util.h"

static struct fw_driver *
noop_create(const struct agent_config *cfg OVS_UNUSED,
            struct of_bridge *integ OVS_UNUSED)
{
    return xzalloc(sizeof(struct fw_driver));
}

static void
noop_destroy(struct fw_driver *fw)
{
    free(fw);
}

static void
noop_set_port(struct fw_driver *fw OVS_UNUSED,
              const struct fw_driver_port *port OVS_UNUSED)
{
}

static void
noop_remove_port(struct fw_driver *fw OVS_UNUSED, const char *id OVS_UNUSED)
{
}

static void
noop_format(const struct fw_driver *fw OVS_UNUSED, struct ds *s OVS_UNUSED)
{
    /* ovsagent/show's "firewall_driver: noop" says it all. */
}

const struct fw_driver_class fw_driver_noop = {
    .name = "noop",
    .ovs_hybrid_plug = false,
    .provides_arp_spoofing_protection = false,
    .openflow_based = false,
    .create = noop_create,
    .destroy = noop_destroy,
    .set_port = noop_set_port,
    .remove_port = noop_remove_port,
    .format = noop_format,
};
