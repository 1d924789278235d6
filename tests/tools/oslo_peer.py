#!/usr/bin/python3
"""A real oslo.messaging peer for the system tests of the C RPC layer.

Run with the system's python3, which has Debian's python3-oslo.messaging
(the library neutron-server uses), so that what the C side sends and
declares is checked by the reference implementation itself.

    oslo_peer.py server URL TOPIC HOST
        An RPC server on TOPIC with server name HOST, on exchange "neutron".
        Prints "READY" once its queues are declared, then one JSON line per
        cast it receives ({"method": "note", "args": {...}}).  Methods:
          echo(**kw)        returns kw
          fail(message)     raises ValueError(message)
          sleep(seconds)    returns "slept" after sleeping
          note(**kw)        records the call (for casts), returns None
        Stops on SIGTERM.
    oslo_peer.py call URL TOPIC METHOD ARGS [TIMEOUT]
        Calls and prints {"result": ...} or {"error": "Class: message"}.
    oslo_peer.py cast URL TOPIC METHOD ARGS [fanout|HOST]
        Casts to TOPIC (to every consumer with "fanout", or to one host).
    oslo_peer.py peek URL ROUTING_KEY
        Prints the properties and the decoded body of each message sent to
        ROUTING_KEY on exchange "neutron", one JSON line each (kombu).
    oslo_peer.py raw URL EXCHANGE ROUTING_KEY BODY...
        Publishes each BODY as is (content type application/json), with
        kombu, the library under oslo.messaging.
    oslo_peer.py neutron URL DIR
        A scripted neutron-server for one agent, whose answers a test
        controls through files in DIR (fault injection: it can hold a reply).
        RPC servers on q-plugin and q-reports-plugin, answering:
          bulk_pull(resource_type, version, filter_kwargs)
                            for Port: the objects DIR/ports/<id>.json of the
                            ids in filter_kwargs["id"], read when the answer
                            goes (an id without a file is left out, as the
                            server leaves out ports it does not have); for
                            other types, []
          update_device_list(devices_up, devices_down, ...)
                            every device done, none failed
          report_state      "alive"
          tunnel_sync       {"tunnels": []}
        Each call is appended to DIR/calls as a JSON line {"n": N,
        "method": ..., "args": ..., "held": BOOL}; each answer as {"n": N,
        "answered": true}.  A call is held if a line of DIR/hold is its
        method, or its method, a space and a string found in its JSON
        arguments; it is answered once a file DIR/release/N exists.
        Casts: each file DIR/casts/NAME.json, {"topic": ..., "method": ...,
        "args": {...}[, "server": HOST][, "version": V]}, is cast to every
        consumer of the topic (fanout), or to HOST, in name order, then
        renamed NAME.json.sent.  Prints "READY" once its queues are
        declared; stops on SIGTERM.
"""

import json
import os
import signal
import sys
import threading
import time

from oslo_config import cfg
import oslo_messaging


def transport(url):
    # The global configuration, as services use it: oslo.messaging
    # registers some of its options there only.
    conf = cfg.CONF
    conf([], project="ovsagent-test", default_config_files=[])
    oslo_messaging.set_transport_defaults(control_exchange="neutron")
    return oslo_messaging.get_rpc_transport(conf, url=url)


def emit(obj):
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()


class Endpoint(object):
    target = oslo_messaging.Target(version="1.9")

    def echo(self, ctxt, **kwargs):
        return kwargs

    def fail(self, ctxt, message="failed"):
        raise ValueError(message)

    def sleep(self, ctxt, seconds=1):
        time.sleep(float(seconds))
        return "slept"

    def note(self, ctxt, **kwargs):
        emit({"method": "note", "args": kwargs})


def server(url, topic, host):
    t = transport(url)
    target = oslo_messaging.Target(topic=topic, server=host)
    srv = oslo_messaging.get_rpc_server(t, target, [Endpoint()],
                                        executor="threading")
    srv.start()
    emit("READY")
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: done.set())
    signal.signal(signal.SIGINT, lambda *a: done.set())
    while not done.wait(0.2):
        pass
    # Stopping waits for the broker, which may be gone: bounded.
    stopper = threading.Thread(target=lambda: (srv.stop(), srv.wait(),
                                               t.cleanup()), daemon=True)
    stopper.start()
    stopper.join(5)
    sys.stdout.flush()
    os._exit(0)


def call(url, topic, method, args, timeout=10):
    t = transport(url)
    client = oslo_messaging.RPCClient(t, oslo_messaging.Target(topic=topic),
                                      timeout=int(timeout))
    try:
        emit({"result": client.call({}, method, **json.loads(args))})
        rc = 0
    except Exception as e:
        emit({"error": "%s: %s" % (e.__class__.__name__, e)})
        rc = 2
    t.cleanup()
    return rc


def cast(url, topic, method, args, where=None):
    t = transport(url)
    kw = {}
    if where == "fanout":
        kw["fanout"] = True
    elif where:
        kw["server"] = where
    client = oslo_messaging.RPCClient(
        t, oslo_messaging.Target(topic=topic, **kw))
    client.cast({}, method, **json.loads(args))
    t.cleanup()
    return 0


def peek(url, routing_key):
    import kombu
    with kombu.Connection(url.replace("rabbit://", "amqp://", 1)) as conn:
        exchange = kombu.Exchange("neutron", type="topic", durable=False,
                                  auto_delete=False)
        queue = kombu.Queue("peek-" + routing_key, exchange=exchange,
                            routing_key=routing_key, auto_delete=True)
        done = threading.Event()
        signal.signal(signal.SIGTERM, lambda *a: done.set())

        def on_message(body, message):
            envelope = json.loads(message.body)
            emit({"properties": message.properties,
                  "content_type": message.content_type,
                  "content_encoding": message.content_encoding,
                  "headers": message.headers,
                  "envelope_keys": sorted(envelope),
                  "oslo.version": envelope.get("oslo.version"),
                  "message": json.loads(envelope["oslo.message"])})
            message.ack()

        with conn.Consumer(queue, callbacks=[on_message]):
            emit("READY")
            while not done.is_set():
                try:
                    conn.drain_events(timeout=0.2)
                except Exception:
                    pass
    return 0


def raw(url, exchange, routing_key, bodies):
    import kombu
    with kombu.Connection(url.replace("rabbit://", "amqp://", 1)) as conn:
        ch = conn.channel()
        for body in bodies:
            msg = ch.prepare_message(body.encode("utf-8", "surrogateescape"),
                                     content_type="application/json")
            ch.basic_publish(msg, exchange=exchange, routing_key=routing_key)
    return 0


class Neutron(object):
    """The endpoints of the scripted neutron-server ("neutron" command)."""
    target = oslo_messaging.Target(version="1.9")

    def __init__(self, d):
        self.dir = d
        self.lock = threading.Lock()
        self.n = 0
        self.done = threading.Event()

    def _log(self, obj):
        with self.lock:
            with open(os.path.join(self.dir, "calls"), "a") as f:
                f.write(json.dumps(obj, sort_keys=True) + "\n")

    def _held(self, method, args):
        try:
            rules = open(os.path.join(self.dir, "hold")).read().splitlines()
        except IOError:
            return False
        text = json.dumps(args, sort_keys=True)
        for rule in rules:
            words = rule.split(None, 1)
            if not words or words[0] != method:
                continue
            if len(words) == 1 or words[1].strip() in text:
                return True
        return False

    def _call(self, method, args, answer):
        with self.lock:
            self.n += 1
            n = self.n
        held = self._held(method, args)
        self._log({"n": n, "method": method, "args": args, "held": held})
        release = os.path.join(self.dir, "release", str(n))
        while held and not os.path.exists(release) and not self.done.is_set():
            time.sleep(0.05)
        result = answer()
        self._log({"n": n, "answered": True})
        return result

    def bulk_pull(self, ctxt, resource_type=None, version=None,
                  filter_kwargs=None, **kw):
        args = dict(kw, resource_type=resource_type, version=version,
                    filter_kwargs=filter_kwargs)

        def answer():
            objs = []
            ids = (filter_kwargs or {}).get("id") or []
            for i in ids if resource_type == "Port" else []:
                path = os.path.join(self.dir, "ports", "%s.json" % i)
                if os.path.exists(path):
                    objs.append(json.load(open(path)))
            return objs
        return self._call("bulk_pull", args, answer)

    def update_device_list(self, ctxt, devices_up=(), devices_down=(), **kw):
        args = dict(kw, devices_up=devices_up, devices_down=devices_down)
        return self._call("update_device_list", args, lambda: {
            "devices_up": list(devices_up), "failed_devices_up": [],
            "devices_down": [{"device": d, "exists": True}
                             for d in devices_down],
            "failed_devices_down": []})

    def report_state(self, ctxt, **kw):
        return self._call("report_state", kw, lambda: "alive")

    def tunnel_sync(self, ctxt, **kw):
        return self._call("tunnel_sync", kw, lambda: {"tunnels": []})


def neutron(url, d):
    for sub in ("ports", "release", "casts"):
        os.makedirs(os.path.join(d, sub), exist_ok=True)
    t = transport(url)
    ep = Neutron(d)
    servers = []
    for topic in ("q-plugin", "q-reports-plugin"):
        target = oslo_messaging.Target(topic=topic, server="neutron-peer")
        srv = oslo_messaging.get_rpc_server(t, target, [ep],
                                            executor="threading")
        srv.start()
        servers.append(srv)
    emit("READY")
    signal.signal(signal.SIGTERM, lambda *a: ep.done.set())
    signal.signal(signal.SIGINT, lambda *a: ep.done.set())
    casts = os.path.join(d, "casts")
    while not ep.done.wait(0.05):
        for name in sorted(os.listdir(casts)):
            if not name.endswith(".json"):
                continue
            path = os.path.join(casts, name)
            c = json.load(open(path))
            kw = ({"server": c["server"]} if c.get("server")
                  else {"fanout": True})
            if c.get("version"):
                kw["version"] = c["version"]
            client = oslo_messaging.RPCClient(
                t, oslo_messaging.Target(topic=c["topic"], **kw))
            client.cast({}, c["method"], **c["args"])
            os.rename(path, path + ".sent")

    def stop():
        for srv in servers:
            srv.stop()
            srv.wait()
        t.cleanup()
    # Stopping waits for the broker, which may be gone: bounded.
    stopper = threading.Thread(target=stop, daemon=True)
    stopper.start()
    stopper.join(5)
    sys.stdout.flush()
    os._exit(0)


def main(argv):
    if len(argv) < 3:
        sys.stderr.write(__doc__)
        return 1
    cmd, url = argv[1], argv[2]
    rest = argv[3:]
    if cmd == "server":
        server(url, *rest)
        return 0
    if cmd == "call":
        return call(url, *rest)
    if cmd == "cast":
        return cast(url, *rest)
    if cmd == "peek":
        return peek(url, rest[0])
    if cmd == "neutron":
        neutron(url, rest[0])
        return 0
    if cmd == "raw":
        return raw(url, rest[0], rest[1], rest[2:])
    sys.stderr.write("unknown command %s\n" % cmd)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
