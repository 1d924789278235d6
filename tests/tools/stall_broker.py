#!/usr/bin/python3
"""A message broker that stalls, for tests/system/test-broker-stall.sh.

    stall_broker.py --listen PORT --mode-file FILE --log FILE
                    [--upstream PORT]

Listens on 127.0.0.1:PORT.  For each connection it accepts, it reads the
first line of the mode file, at that moment, and then:

  silent       reads what the client sends and never answers;
  frames N     relays the connection to the broker at 127.0.0.1:UPSTREAM,
               but passes only the broker's first N AMQP frames to the
               client, then goes silent both ways (reading and dropping
               what either side sends): a broker that stops in the middle
               of the handshake or of the declarations;
  pass         relays everything.

Each accepted connection appends "accept N MODE" to the log, flushed, so
that a test can wait for the client's next attempt.  Runs until killed.
"""
import argparse
import socket
import struct
import sys
import threading

FRAME_HEADER = 7    # type (1), channel (2), payload size (4)
FRAME_END = 1       # 0xCE


def drain(sock):
    """Reads and drops everything until the peer closes."""
    try:
        while sock.recv(65536):
            pass
    except OSError:
        pass


def received(src, stop):
    """What src sends until it closes or fails; what arrives once 'stop' is
    set is read and dropped."""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                return
            if not stop.is_set():
                yield data
    except OSError:
        return


def relay(src, dst, stop):
    """Copies src to dst until either side closes or 'stop' is set, then
    only reads src."""
    try:
        for data in received(src, stop):
            dst.sendall(data)
    except OSError:
        pass


def relay_frames(src, dst, n_frames, stop):
    """Copies the broker's frames to the client, the first n_frames only
    (all of them if n_frames is None); then sets 'stop' and only reads."""
    buf = b""
    passed = 0
    try:
        for data in received(src, stop):
            buf += data
            out = b""
            while len(buf) >= FRAME_HEADER:
                size = struct.unpack("!I", buf[3:7])[0]
                total = FRAME_HEADER + size + FRAME_END
                if len(buf) < total:
                    break
                if n_frames is not None and passed >= n_frames:
                    stop.set()
                    break
                out += buf[:total]
                buf = buf[total:]
                passed += 1
            if out:
                dst.sendall(out)
    except OSError:
        pass


def serve(client, mode, upstream):
    words = mode.split()
    kind = words[0] if words else "silent"
    if kind == "silent" or upstream is None:
        drain(client)
        client.close()
        return
    n_frames = int(words[1]) if kind == "frames" else None
    up = socket.create_connection(("127.0.0.1", upstream))
    stop = threading.Event()
    t = threading.Thread(target=relay, args=(client, up, stop), daemon=True)
    t.start()
    relay_frames(up, client, n_frames, stop)
    t.join()
    up.close()
    client.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", type=int, required=True)
    p.add_argument("--upstream", type=int)
    p.add_argument("--mode-file", required=True)
    p.add_argument("--log", required=True)
    args = p.parse_args()

    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", args.listen))
    ls.listen(16)
    log = open(args.log, "a")
    n = 0
    while True:
        client, _ = ls.accept()
        n += 1
        try:
            with open(args.mode_file) as f:
                mode = f.readline().strip()
        except OSError:
            mode = "silent"
        log.write("accept %d %s\n" % (n, mode))
        log.flush()
        threading.Thread(target=serve, args=(client, mode, args.upstream),
                         daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
