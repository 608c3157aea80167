#!/usr/bin/env python3
"""A real SMTP server (aiosmtpd) for the SMTP client tests: STARTTLS or implicit TLS, AUTH PLAIN and LOGIN, chosen
refusals, and every received message written to a folder and parsed with Python's `email` package.

Usage:
    smtp_server.py --out DIR [--host ADDR] [--port N] [--cert PEM --key PEM (--starttls | --implicit-tls)]
                   [--user NAME --password PW] [--no-plain] [--reject ADDR]... [--defer ADDR]... [--silent]
                   [--hold FILE]

Listens on --host (default 127.0.0.1; any loopback address). --port 0 (the default) picks a free port. When listening, prints "ready PORT" on stdout. Exits when stdin closes
(so that a test that dies leaves no server behind) or on SIGTERM.

--starttls   offers STARTTLS and requires it before MAIL (and before AUTH).
--implicit-tls  speaks TLS from the first byte.
--user/--password  require AUTH with these credentials (PLAIN and LOGIN; --no-plain offers LOGIN only).
--reject ADDR  answers 550 to RCPT TO:<ADDR>;  --defer ADDR  answers 451.
--silent     accepts connections and never says anything (for reply timeouts).
--fast       writes only msg-NNN.id (the Message-ID) per message: for benchmarks.
--hold FILE  answers a message's data (and records it) only once FILE exists, so that a test can change the
             client's world (fill its disk, say) while the client waits for the 250.

Output, in DIR:
    connections        the number of connections accepted so far (rewritten on each one)
    msg-NNN.eml        the message data as received (dot-stuffing removed, CRLF kept)
    msg-NNN.json       {"connection", "auth_mechanism", "auth_login", "tls", "mail_from", "rcpt_tos", "parsed": {...}}
                       where "parsed" holds what `email` made of it: decoded subject, addresses, headers, the
                       MIME structure, the text, the calendar alternative and the attachments, and any defects.
"""
import argparse
import asyncio
import email
import email.policy
import json
import os
import re
import ssl
import sys
import threading

try:
    from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
except ImportError:  # pragma: no cover
    print("aiosmtpd is not installed: run scripts/python-env.sh", file=sys.stderr)
    sys.exit(2)


def write_atomically(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def addresses(header):
    if header is None:
        return []
    return [[a.display_name, a.addr_spec] for a in header.addresses]


def parse(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    structure = []
    defects = [repr(d) for d in msg.defects]

    def walk(part, depth):
        structure.append("  " * depth + part.get_content_type())
        defects.extend(repr(d) for d in part.defects)
        if part.is_multipart():
            for sub in part.iter_parts():
                walk(sub, depth + 1)

    walk(msg, 0)
    text = msg.get_body(preferencelist=("plain",))
    calendar = None
    attachments = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment":
            payload = part.get_payload(decode=True) or b""
            attachments.append({
                "filename": part.get_filename(),
                "content_type": part.get_content_type(),
                "name_param": part.get_param("name"),
                "content": payload.decode("utf-8"),
            })
        elif part.get_content_type() == "text/calendar" and calendar is None:
            calendar = {
                "method": part.get_param("method"),
                "charset": part.get_content_charset(),
                "content": part.get_content(),
            }
    date = msg["date"]
    return {
        "subject": str(msg["subject"]),
        "from": addresses(msg["from"]),
        "to": addresses(msg["to"]),
        "cc": addresses(msg["cc"]),
        "message_id": str(msg["message-id"]),
        "date": str(date),
        "date_iso": date.datetime.isoformat() if date is not None and date.datetime is not None else None,
        "mime_version": str(msg["mime-version"]),
        "extra": {k: str(v) for k, v in msg.items() if k.lower().startswith("x-")},
        "content_type": msg.get_content_type(),
        "structure": structure,
        "text": text.get_content() if text is not None else None,
        "calendar": calendar,
        "attachments": attachments,
        "defects": defects,
    }


class Handler:
    def __init__(self, out, reject, defer, fast=False, hold=None):
        self.fast = fast
        self.hold = hold
        self.out = out
        self.reject = {a.lower() for a in reject}
        self.defer = {a.lower() for a in defer}
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return "550 5.1.1 <%s>: Recipient address rejected: no such mailbox" % address
        if address.lower() in self.defer:
            return "451 4.3.0 <%s>: Temporary local problem, try again later" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        while self.hold and not os.path.exists(self.hold):
            await asyncio.sleep(0.05)
        self.count += 1
        name = os.path.join(self.out, "msg-%03d" % self.count)
        raw = envelope.original_content
        if self.fast:
            # Benchmarks: keep the message and its Message-ID; the full parse is for the tests.
            found = re.search(rb"^Message-ID:[ \t]*(<[^>\r\n]*>)", raw, re.MULTILINE | re.IGNORECASE)
            with open(name + ".id", "wb") as f:
                f.write((found.group(1) if found else b"") + b"\n")
            return "250 2.0.0 OK: queued as msg-%03d" % self.count
        try:
            parsed = parse(raw)
        except Exception as error:  # the test reports it; the client still hears 250
            parsed = {"error": repr(error)}
        auth = getattr(session, "x_auth", None) or {}
        record = {
            "connection": server.x_connection,
            "auth_mechanism": auth.get("mechanism"),
            "auth_login": auth.get("login"),
            "tls": session.ssl is not None or server.x_implicit_tls,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "parsed": parsed,
        }
        write_atomically(name + ".eml", raw)
        write_atomically(name + ".json", json.dumps(record, ensure_ascii=False, indent=1).encode("utf-8"))
        return "250 2.0.0 OK: queued as msg-%03d" % self.count


def make_authenticator(user, password):
    def authenticator(server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        if ok:
            session.x_auth = {"mechanism": mechanism, "login": user}
        return AuthResult(success=ok, handled=False)

    return authenticator


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--starttls", action="store_true")
    parser.add_argument("--implicit-tls", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--password")
    parser.add_argument("--no-plain", action="store_true")
    parser.add_argument("--reject", action="append", default=[])
    parser.add_argument("--defer", action="append", default=[])
    parser.add_argument("--silent", action="store_true")
    parser.add_argument("--fast", action="store_true", help="store only each message's Message-ID (benchmarks)")
    parser.add_argument("--hold", help="answer DATA only once this file exists")
    args = parser.parse_args()
    if (args.starttls or args.implicit_tls) and not (args.cert and args.key):
        parser.error("--starttls and --implicit-tls need --cert and --key")

    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)

    handler = Handler(args.out, args.reject, args.defer, fast=args.fast, hold=args.hold)
    connections = 0

    def count_connection():
        nonlocal connections
        connections += 1
        write_atomically(os.path.join(args.out, "connections"), str(connections).encode())
        return connections

    def smtp_factory():
        number = count_connection()
        kwargs = dict(hostname="peer.test", ident="mediation-test-smtp", enable_SMTPUTF8=True)
        if args.starttls:
            kwargs.update(tls_context=context, require_starttls=True)
        if args.user:
            kwargs.update(
                authenticator=make_authenticator(args.user, args.password or ""),
                auth_required=True,
                # With implicit TLS aiosmtpd does not see the TLS layer itself; the whole connection is encrypted.
                auth_require_tls=bool(args.starttls),
                auth_exclude_mechanism=["PLAIN"] if args.no_plain else [],
            )
        server = SMTP(handler, **kwargs)
        server.x_connection = number
        server.x_implicit_tls = bool(args.implicit_tls)
        return server

    class Silent(asyncio.Protocol):
        def connection_made(self, transport):
            count_connection()
            self.transport = transport

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    factory = Silent if args.silent else smtp_factory
    server = loop.run_until_complete(
        loop.create_server(factory, host=args.host, port=args.port,
                           ssl=context if args.implicit_tls else None))
    port = server.sockets[0].getsockname()[1]
    write_atomically(os.path.join(args.out, "connections"), b"0")

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("ready %d" % port, flush=True)
    loop.run_forever()


if __name__ == "__main__":
    main()
