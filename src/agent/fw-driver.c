/*
 * fw-driver: the firewall driver the configuration names, and the calls
 * every driver answers the same way.  See fw-driver.h.
 */
#include <config.h>
#include "agent/fw-driver.h"

#include "agent-config.h"
#include "util.h"

struct fw_driver *
fw_driver_create(const struct agent_config *cfg, struct of_bridge *integ)
{
    const struct fw_driver_class *class
        = (cfg->firewall_driver == FW_OPENVSWITCH ? &fw_driver_openvswitch
           : &fw_driver_noop);
    struct fw_driver *fw = class->create(cfg, integ);
    fw->class = class;
    return fw;
}

void
fw_driver_destroy(struct fw_driver *fw)
{
    if (fw) {
        fw->class->destroy(fw);
    }
}

void
fw_driver_set_port(struct fw_driver *fw, const struct fw_driver_port *port)
{
    fw->class->set_port(fw, port);
}

void
fw_driver_remove_port(struct fw_driver *fw, const char *id)
{
    fw->class->remove_port(fw, id);
}

/* The seqno of br-int's desired flows that must be installed before the
 * port can be reported up: the port's own flows ('wired_seqno') and its
 * filter's.  0 while the filter waits for the server's data. */
uint64_t
fw_driver_port_seqno(const struct fw_driver *fw, const char *id,
                     uint64_t wired_seqno)
{
    if (!fw->class->port_seqno) {
        return wired_seqno;
    }
    uint64_t seq = fw->class->port_seqno(fw, id);
    return seq ? MAX(seq, wired_seqno) : 0;
}

size_t
fw_driver_push(struct fw_driver *fw, const char *type,
               const struct json *list, bool deleted)
{
    return fw->class->push ? fw->class->push(fw, type, list, deleted) : 0;
}

void
fw_driver_resync(struct fw_driver *fw)
{
    if (fw->class->resync) {
        fw->class->resync(fw);
    }
}

void
fw_driver_run(struct fw_driver *fw, struct rpc *rpc)
{
    if (fw->class->run) {
        fw->class->run(fw, rpc);
    }
}

void
fw_driver_wait(struct fw_driver *fw)
{
    if (fw->class->wait) {
        fw->class->wait(fw);
    }
}

void
fw_driver_format(const struct fw_driver *fw, struct ds *s)
{
    fw->class->format(fw, s);
}
