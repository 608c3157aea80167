#!/usr/bin/env python3
"""Connections that start a request and trickle its body, all from one uid (the tests run it under setpriv as
another user): the way a client can hold a daemon's connections without ever finishing a request.

    slow_body.py --socket S --connections N [--path /v1/disputes] --length L --every SECONDS --for SECONDS

Opens N connections one after another; each sends "POST PATH" with Content-Length L and the first byte of
its body. Then, every SECONDS, each connection still open gets one more byte, for --for SECONDS in all; all the
while, whatever the daemon answers is read. At the end it prints one JSON object: for each connection, the status
of its answer (null when none came), the answer's text, whether the daemon closed it, and the body bytes sent.
"""
import argparse
import json
import select
import socket
import time


class Connection:
    def __init__(self, path, target, length):
        self.answer = b""
        self.closed = False
        self.sent = 0
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        head = (
            "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            "Content-Length: %d\r\n\r\n" % (target, length)
        )
        self.sock.sendall(head.encode())
        self.sock.setblocking(False)
        self.trickle()

    def trickle(self):
        """Sends one more byte of the body; a connection the daemon closed stays closed."""
        if self.closed:
            return
        try:
            self.sock.send(b" ")
            self.sent += 1
        except BlockingIOError:
            pass
        except OSError:
            self.read()
            self.closed = True

    def read(self):
        """Reads what the daemon sent; an end of file (or a reset after its answer) means it closed."""
        while not self.closed:
            try:
                data = self.sock.recv(65536)
            except BlockingIOError:
                return
            except OSError:
                self.closed = True
                return
            if not data:
                self.closed = True
                return
            self.answer += data

    def report(self):
        text = self.answer.decode("utf-8", "replace")
        parts = text.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
        return {"status": status, "answer": text[:600], "closed": self.closed, "sent": self.sent}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--connections", type=int, required=True)
    parser.add_argument("--path", default="/v1/disputes")
    parser.add_argument("--length", type=int, default=100000)
    parser.add_argument("--every", type=float, default=1.0)
    parser.add_argument("--for", dest="seconds", type=float, required=True)
    args = parser.parse_args()

    connections = []
    failures = []
    for _ in range(args.connections):
        try:
            connections.append(Connection(args.socket, args.path, args.length))
        except OSError as error:
            failures.append(str(error))
    deadline = time.monotonic() + args.seconds
    next_byte = time.monotonic() + args.every
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_byte:
            for c in connections:
                c.trickle()
            next_byte = now + args.every
        open_ones = [c for c in connections if not c.closed]
        wait = max(0.0, min(deadline, next_byte) - time.monotonic())
        if not open_ones:
            time.sleep(wait)
            continue
        poller = select.poll()
        by_fd = {}
        for c in open_ones:
            poller.register(c.sock, select.POLLIN)
            by_fd[c.sock.fileno()] = c
        for fd, _ in poller.poll(wait * 1000):
            by_fd[fd].read()
    for c in connections:
        c.read()
    print(json.dumps({"connections": [c.report() for c in connections], "connect_failures": failures}))
    for c in connections:
        c.sock.close()


if __name__ == "__main__":
    main()
