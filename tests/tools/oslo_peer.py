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
    if cmd == "raw":
        return raw(url, rest[0], rest[1], rest[2:])
    sys.stderr.write("unknown command %s\n" % cmd)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
