#!/usr/bin/env python3
"""A local stand-in for a webhook receiver, a WeCom group robot and a DingTalk custom robot.

Usage:
    chat_receiver.py LOG_FILE WEBHOOK_SECRET DINGTALK_SECRET

Listens on 127.0.0.1 on a free port and prints "ready PORT" once it accepts connections. It exits when its
standard input closes, so it never outlives the test that started it.

Paths (each answers like the real service, and checks requests the way the real service does):
  POST /webhook   verifies X-Mediation-Signature (HMAC-SHA256 with WEBHOOK_SECRET over "TIMESTAMP." + body) and
                  that the timestamp is within five minutes; 204 when it verifies, 401 when it does not.
  POST /wecom     checks the body is a WeCom markdown or text message whose content is at most 2,048 bytes;
                  answers {"errcode":0,"errmsg":"ok"}, or {"errcode":40008,...} for a bad body.
  POST /dingtalk  verifies timestamp and sign from the query (HMAC-SHA256 with DINGTALK_SECRET over
                  "TIMESTAMP\\nSECRET", base64) unless the query has unsigned=1, and the markdown shape; answers
                  {"errcode":0,"errmsg":"ok"}, or {"errcode":310000,...} for a bad signature.
Query flags force failures: status=500 (or any code) answers that HTTP status; fail=rate answers WeCom's 45009 or
DingTalk's 130101; fail=busy answers -1; fail=key answers WeCom's 93000 (invalid webhook key).

Every request is appended to LOG_FILE as one JSON line (path, query, headers, body, verdict) before it is answered,
so a client that has its reply can read the line.
"""
import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

LOG_FILE, WEBHOOK_SECRET, DINGTALK_SECRET = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
LOCK = threading.Lock()


def record(entry: dict) -> None:
    with LOCK, open(LOG_FILE, "a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        log.flush()


def check_webhook(headers, body: bytes) -> str:
    timestamp = headers.get("X-Mediation-Timestamp", "")
    signature = headers.get("X-Mediation-Signature", "")
    if not timestamp.isdigit():
        return "missing or bad X-Mediation-Timestamp"
    if abs(time.time() - int(timestamp)) > 300:
        return "timestamp too far from now"
    expected = "sha256=" + hmac.new(WEBHOOK_SECRET, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature mismatch"
    if not headers.get("X-Mediation-Message-Id"):
        return "missing X-Mediation-Message-Id"
    if not headers.get("Content-Type", "").startswith("application/json"):
        return "content type is not JSON"
    json.loads(body)
    return "ok"


def check_wecom(message: dict) -> str:
    kind = message.get("msgtype")
    if kind == "markdown":
        content = message.get("markdown", {}).get("content")
    elif kind == "text":
        content = message.get("text", {}).get("content")
        mentions = message.get("text", {}).get("mentioned_mobile_list", [])
        if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
            return "mentioned_mobile_list is not a list of strings"
    else:
        return f"unknown msgtype {kind!r}"
    if not isinstance(content, str) or not content:
        return "content missing"
    if len(content.encode("utf-8")) > 2048:
        return f"content is {len(content.encode('utf-8'))} bytes, over 2048"
    return "ok"


def check_dingtalk(message: dict, query: dict) -> str:
    # A robot secured by keyword instead of signature is simulated with unsigned=1.
    if query.get("unsigned", [""])[0] != "1":
        timestamp = query.get("timestamp", [""])[0]
        sign = query.get("sign", [""])[0]  # parse_qs has already percent-decoded it
        if not timestamp.isdigit():
            return "sign: missing timestamp"
        if abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return "sign: timestamp is more than an hour off"
        mac = hmac.new(DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256)
        if not hmac.compare_digest(base64.b64encode(mac.digest()).decode(), sign):
            return "sign not match"
    if message.get("msgtype") != "markdown":
        return f"unexpected msgtype {message.get('msgtype')!r}"
    markdown = message.get("markdown", {})
    if not isinstance(markdown.get("title"), str) or not isinstance(markdown.get("text"), str):
        return "markdown.title or markdown.text missing"
    mentions = message.get("at", {}).get("atMobiles", [])
    if not isinstance(mentions, list):
        return "at.atMobiles is not a list"
    return "ok"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test's output clean
        pass

    def answer(self, status: int, payload=None) -> None:
        data = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        url = urlsplit(self.path)
        query = parse_qs(url.query)
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        entry = {
            "path": url.path,
            "query": {k: v[0] for k, v in query.items()},
            "headers": {k: v for k, v in self.headers.items()},
            "body": body.decode("utf-8", "replace"),
            "received": time.time(),
        }
        forced_status = query.get("status", [None])[0]
        fail = query.get("fail", [None])[0]
        try:
            if url.path == "/webhook":
                verdict = check_webhook(self.headers, body)
            elif url.path == "/wecom":
                verdict = check_wecom(json.loads(body))
            elif url.path == "/dingtalk":
                verdict = check_dingtalk(json.loads(body), query)
            else:
                verdict = "unknown path"
        except (ValueError, AttributeError) as error:
            verdict = f"bad body: {error}"
        entry["verdict"] = verdict
        record(entry)

        if forced_status is not None:
            return self.answer(int(forced_status), {"error": "forced"})
        if url.path == "/webhook":
            return self.answer(204 if verdict == "ok" else 401, None if verdict == "ok" else {"error": verdict})
        if url.path == "/wecom":
            if verdict != "ok":
                return self.answer(200, {"errcode": 40008, "errmsg": f"invalid message type, {verdict}"})
            if fail == "rate":
                return self.answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
            if fail == "busy":
                return self.answer(200, {"errcode": -1, "errmsg": "system busy"})
            if fail == "key":
                return self.answer(200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [1700000000_1]"})
            return self.answer(200, {"errcode": 0, "errmsg": "ok"})
        if url.path == "/dingtalk":
            if verdict != "ok":
                return self.answer(200, {"errcode": 310000, "errmsg": f"{verdict}, more: [https://ding-doc]"})
            if fail == "rate":
                return self.answer(200, {"errcode": 130101, "errmsg": "send too fast"})
            if fail == "busy":
                return self.answer(200, {"errcode": -1, "errmsg": "系统繁忙"})
            return self.answer(200, {"errcode": 0, "errmsg": "ok"})
        return self.answer(404, {"error": "not found"})


def main() -> int:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready {server.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the test closes our stdin or exits
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
