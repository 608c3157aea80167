#!/usr/bin/env python3
"""The crash harness's clients: a booking storm over the daemon's Unix socket, and the checks after a crash.

    booking_storm.py disputes --socket S --office ID --count N --out FILE
        opens N disputes (one party with mail each) through POST /v1/disputes; writes their numbers, a JSON list.

    booking_storm.py storm --socket S --plan FILE --out FILE
        one thread per client in the plan (a JSON list of lists of POST /v1/sessions bodies), each on its own
        connection, booking one after another. Every answer is appended to FILE at once, a line per request:
        "client<TAB>index<TAB>status<TAB>session id or -". A request whose connection dies (the daemon was killed)
        writes "client<TAB>index<TAB>lost<TAB>-" and ends that client: its fate is unknown, and not counted.

    booking_storm.py check --db PATH --acked FILE --received DIR --domain D
        reads the store (read-only, while the daemon runs) and prints JSON: the acknowledged sessions that are
        missing, experts booked twice at once, PRAGMA integrity_check, the acknowledged sessions' notices and their
        states, and which of their Message-IDs the SMTP server received, how many times.
"""
import argparse
import collections
import http.client
import json
import os
import socket
import sqlite3
import sys
import threading


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=30):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.path)
        self.sock = s


def call(conn, method, path, body):
    data = json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, r.read()


def disputes(args):
    conn = UnixConnection(args.socket)
    numbers = []
    for i in range(args.count):
        status, body = call(conn, "POST", "/v1/disputes", {
            "office": args.office, "title": "crash %d" % i, "category": "neighbour",
            "parties": [{"name": "当事人%d" % i, "side": "applicant", "email": "party%d@example.cn" % i}],
        })
        if status != 201:
            print("opening a dispute failed: %d %s" % (status, body[:300]), file=sys.stderr)
            sys.exit(1)
        numbers.append(json.loads(body)["dispute"]["number"])
    with open(args.out, "w") as f:
        json.dump(numbers, f)


def storm(args):
    with open(args.plan) as f:
        plan = json.load(f)
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()

    def note(line):
        with lock:
            out.write(line + "\n")
            out.flush()

    def client(c, bodies):
        try:
            conn = UnixConnection(args.socket)
        except OSError:
            return
        for k, body in enumerate(bodies):
            try:
                status, answer = call(conn, "POST", "/v1/sessions", body)
            except (OSError, http.client.HTTPException):
                note("%d\t%d\tlost\t-" % (c, k))
                return
            session = "-"
            if status == 201:
                session = str(json.loads(answer)["id"])
            note("%d\t%d\t%d\t%s" % (c, k, status, session))

    threads = [threading.Thread(target=client, args=(c, b)) for c, b in enumerate(plan)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def check(args):
    with open(args.acked) as f:
        acked = [int(x) for x in json.load(f)]
    db = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True, timeout=30)
    integrity = db.execute("PRAGMA integrity_check").fetchone()[0]
    stored = {row[0] for row in db.execute("SELECT id FROM session")}
    missing = sorted(set(acked) - stored)
    # Two live sessions of one expert that overlap.
    overlaps = db.execute("""
        SELECT a.session_id, b.session_id, a.expert_id FROM session_panel a
        JOIN session_panel b ON a.expert_id = b.expert_id AND a.session_id < b.session_id
        JOIN session sa ON sa.id = a.session_id JOIN session sb ON sb.id = b.session_id
        WHERE sa.status != 'cancelled' AND sb.status != 'cancelled'
          AND sa.starts_at < sb.ends_at AND sb.starts_at < sa.ends_at
    """).fetchall()
    notices = {}
    statuses = collections.Counter()
    placeholders = ",".join("?" * len(acked)) or "NULL"
    for token, status in db.execute(
            "SELECT token, status FROM outbox_message WHERE kind = 'notice' AND session_id IN (%s)" % placeholders,
            acked):
        notices["<%s@%s>" % (token, args.domain)] = status
        statuses[status] += 1
    received = collections.Counter()
    for name in os.listdir(args.received):
        if name.endswith(".id"):
            with open(os.path.join(args.received, name)) as f:
                received[f.read().strip()] += 1
    expected = set(notices)
    # Every notice of the store, acknowledged or not (a booking in flight at the kill may have been stored), that
    # is still to go out.
    outstanding = db.execute(
        "SELECT count(*) FROM outbox_message WHERE kind = 'notice' AND status IN ('pending', 'failed')").fetchone()[0]
    print(json.dumps({
        "outstanding": outstanding,
        "integrity": integrity,
        "acked": len(acked),
        "missing": missing,
        "overlaps": overlaps,
        "notices": len(notices),
        "statuses": statuses,
        "received": sum(received[m] for m in expected),
        "notReceived": sorted(m for m in expected if received[m] == 0)[:20],
        "duplicates": sorted(m for m, n in received.items() if n > 1)[:20],
        "duplicateCount": sum(1 for n in received.values() if n > 1),
        "receivedTotal": sum(received.values()),
    }))


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("disputes")
    d.add_argument("--socket", required=True)
    d.add_argument("--office", required=True)
    d.add_argument("--count", type=int, required=True)
    d.add_argument("--out", required=True)
    s = sub.add_parser("storm")
    s.add_argument("--socket", required=True)
    s.add_argument("--plan", required=True)
    s.add_argument("--out", required=True)
    c = sub.add_parser("check")
    c.add_argument("--db", required=True)
    c.add_argument("--acked", required=True)
    c.add_argument("--received", required=True)
    c.add_argument("--domain", required=True)
    args = p.parse_args()
    {"disputes": disputes, "storm": storm, "check": check}[args.command](args)


if __name__ == "__main__":
    main()
