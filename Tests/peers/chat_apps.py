#!/usr/bin/env python3
"""A local stand-in for the personal work-chat APIs: WeCom application messages and DingTalk work notifications.

Usage:
    chat_apps.py LOG_FILE
    chat_apps.py --selftest

Listens on 127.0.0.1 on a free port and prints "ready PORT" once it accepts connections. It exits when its
standard input closes, so it never outlives the test that started it. --selftest starts it in-process, drives every
path below with urllib and exits 0 when all of them answer as documented here.

Fixed credentials and directories:
  WeCom     corpid ww-test-corp, corpsecret wecom-test-secret, agentid 1000002; userids zhangsan, lisi, wangwu.
  DingTalk  appkey ding-test-key, appsecret ding-test-secret, agent_id 2000001; mobiles 13900000001..3 belong to
            dt-user-1..3.
Every other user, mobile or credential is unknown. Tokens are random, live 7,200 s, and belong to the app that
issued them (a WeCom token is "unknown" to DingTalk and the other way round).

WeCom (developer.work.weixin.qq.com), errors in the order they are checked:
  GET  /cgi-bin/gettoken?corpid=ID&corpsecret=SECRET
         {"errcode":0,"errmsg":"ok","access_token":T,"expires_in":7200}; 41002 corpid missing, 40013 invalid corpid,
         41004 corpsecret missing, 40001 invalid credential (wrong secret); 43001 when not GET.
  POST /cgi-bin/message/send?access_token=T   body {"touser":"a|b","msgtype":"text","agentid":1000002,
         "text":{"content":...}, "enable_duplicate_check":1, "duplicate_check_interval":1800} or msgtype markdown
         with {"markdown":{"content":...}}. 43002 when not POST; 41001 access_token missing; 40014 invalid
         access_token; 42001 access_token expired (expired by control, or older than 7,200 s); 45009 api freq out of
         limit (once, when armed); 47001 data format error (body not a JSON object); 41011 missing agentid; 40056
         invalid agentid (not a number); 301002 when the agentid is another app's; 40008 invalid message type;
         44004 empty content; 45002 content over 2,048 bytes (UTF-8); 81013 "user & party & tag all invalid" with
         "invaliduser" when no recipient is known (touser "@all" means every known user). Otherwise
         {"errcode":0,"errmsg":"ok","invaliduser":"x|y" or "","msgid":UNIQUE}.
  Duplicate check: when enable_duplicate_check is 1, a message whose msgtype and content already reached the same
  user within duplicate_check_interval seconds (default 1,800) is accepted with errcode 0 but, like WeCom, not
  delivered to that user: its log line has "duplicate": true and "duplicate_users", and by_user does not count it.

DingTalk (open.dingtalk.com, the old oapi), every answer carrying a request_id except gettoken:
  GET  /gettoken?appkey=KEY&appsecret=SECRET
         {"errcode":0,"errmsg":"ok","access_token":T,"expires_in":7200}; 40089 不合法的corpid或corpsecret for a
         missing or wrong key or secret; 43001 when not GET.
  POST /topapi/v2/user/getbymobile?access_token=T   body {"mobile":"13900000001"}
         {"errcode":0,"errmsg":"ok","result":{"userid":"dt-user-1"},"request_id":R}; 60121 找不到该用户.
  POST /topapi/message/corpconversation/asyncsend_v2?access_token=T   body {"agent_id":2000001,
         "userid_list":"dt-user-1,dt-user-2","msg":{"msgtype":"text","text":{"content":...}}} or msgtype markdown
         with {"markdown":{"title":...,"text":...}} (to_all_user true means every known user).
         {"errcode":0,"errmsg":"ok","task_id":UNIQUE_INT,"request_id":R}. An unknown userid is still errcode 0
         (DingTalk delivers asynchronously) but the log verdict is "unknown user" with "unknown_users". The same
         content to the same user again that day is accepted but marked "duplicate" (DingTalk drops those too).
  Errors, both paths, in the order checked: 43002 when not POST; 41001 缺少access_token参数; 40014 不合法的access_token
  (unknown); {"errcode":88,"errmsg":"不合法的access_token","sub_code":"40014","sub_msg":"不合法的access_token"} for a
  token expired by control (or older than 7,200 s); 90018 当前企业调用该接口超过每分钟限制 (once, when armed; sends
  only); 40035 缺少参数 / bad body; 40056 不合法的agentid (agent_id missing or not 2000001); 40008 不合法的消息类型.

Control (unsigned, for the test):
  POST /_control  {"expire":"wecom"|"dingtalk"} marks every token that app has issued so far as expired;
                  {"rate_limit":"wecom"|"dingtalk"} arms one rate-limit answer for that app's next message send
                  (a send with a missing, unknown or expired token does not use it up). Either value may also be a
                  list of app names; both keys may appear together. Answers {"errcode":0,"errmsg":"ok"}; 400 when the
                  body names nothing known.
  GET  /_stats    {"wecom":{"tokens_issued":N,"sent":N,"duplicates":N,"by_user":{userid:N}},"dingtalk":{...}}
                  where sent counts accepted send calls and by_user counts deliveries (duplicates excluded).

Every request (control included) is appended to LOG_FILE as one JSON line before it is answered, so a client that
has its reply can read the line: app ("wecom", "dingtalk", "control", or null for an unknown path), method, path,
query (first value of each key), body (parsed JSON, or null when empty or not JSON), verdict ("ok" when errcode is
0 and nothing was amiss), errcode (as answered; null for control), received (epoch seconds), and for sends
delivered (userids reached), duplicate, duplicate_users, unknown_users.
"""
import json
import secrets
import string
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

WECOM_CORPID, WECOM_SECRET, WECOM_AGENTID = "ww-test-corp", "wecom-test-secret", 1000002
WECOM_USERS = ("zhangsan", "lisi", "wangwu")
DING_KEY, DING_SECRET, DING_AGENTID = "ding-test-key", "ding-test-secret", 2000001
DING_MOBILES = {"13900000001": "dt-user-1", "13900000002": "dt-user-2", "13900000003": "dt-user-3"}
DING_USERS = tuple(DING_MOBILES.values())
TOKEN_LIFETIME = 7200
WECOM_CONTENT_LIMIT = 2048
DING_DUPLICATE_WINDOW = 24 * 3600
APPS = ("wecom", "dingtalk")


class State:
    """Everything the server remembers; one lock guards all of it and the log file."""

    def __init__(self, log_file: str):
        self.log_file = log_file
        self.lock = threading.Lock()
        self.tokens = {}  # token -> {"app", "issued", "expired"}
        self.rate_limit = {app: 0 for app in APPS}
        self.stats = {app: {"tokens_issued": 0, "sent": 0, "duplicates": 0, "by_user": {}} for app in APPS}
        self.recent = {}  # (app, userid, msgtype, content) -> time it was last delivered
        self.next_task_id = 700000000000 + secrets.randbelow(100000) * 1000

    def record(self, entry: dict) -> None:
        with open(self.log_file, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
            log.flush()

    def issue(self, app: str) -> str:
        token = secrets.token_hex(24)
        self.tokens[token] = {"app": app, "issued": time.time(), "expired": False}
        self.stats[app]["tokens_issued"] += 1
        return token

    def token_status(self, app: str, token) -> str:
        """missing, unknown, expired or ok."""
        if not token:
            return "missing"
        info = self.tokens.get(token)
        if info is None or info["app"] != app:
            return "unknown"
        if info["expired"] or time.time() - info["issued"] > TOKEN_LIFETIME:
            return "expired"
        return "ok"

    def take_rate_limit(self, app: str) -> bool:
        if self.rate_limit[app] > 0:
            self.rate_limit[app] -= 1
            return True
        return False

    def deliver(self, app: str, users, msgtype: str, content: str, window) -> tuple:
        """Counts deliveries; returns (delivered, duplicates). window None means no duplicate check."""
        now = time.time()
        delivered, duplicates = [], []
        for user in users:
            key = (app, user, msgtype, content)
            last = self.recent.get(key)
            if window is not None and last is not None and now - last < window:
                duplicates.append(user)
                continue
            self.recent[key] = now
            delivered.append(user)
            by_user = self.stats[app]["by_user"]
            by_user[user] = by_user.get(user, 0) + 1
        self.stats[app]["sent"] += 1
        if duplicates:
            self.stats[app]["duplicates"] += 1
        return delivered, duplicates


def request_id() -> str:
    return "".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(13))


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def as_agent_id(value):
    """The agent id as an int when it is an int or a string of digits, else None."""
    if is_int(value):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


# --- WeCom ---------------------------------------------------------------------------------------------------------

def wecom_gettoken(state: State, method: str, query: dict, body) -> dict:
    if method != "GET":
        return {"errcode": 43001, "errmsg": "require GET method", "verdict": "not GET"}
    corpid, secret = query.get("corpid"), query.get("corpsecret")
    if not corpid:
        return {"errcode": 41002, "errmsg": "corpid missing", "verdict": "corpid missing"}
    if corpid != WECOM_CORPID:
        return {"errcode": 40013, "errmsg": "invalid corpid", "verdict": "unknown corp"}
    if not secret:
        return {"errcode": 41004, "errmsg": "corpsecret missing", "verdict": "corpsecret missing"}
    if secret != WECOM_SECRET:
        return {"errcode": 40001, "errmsg": "invalid credential", "verdict": "wrong secret"}
    token = state.issue("wecom")
    return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": TOKEN_LIFETIME, "verdict": "ok"}


def wecom_send(state: State, method: str, query: dict, body) -> dict:
    if method != "POST":
        return {"errcode": 43002, "errmsg": "require POST method", "verdict": "not POST"}
    status = state.token_status("wecom", query.get("access_token"))
    if status == "missing":
        return {"errcode": 41001, "errmsg": "access_token missing", "verdict": "token missing"}
    if status == "unknown":
        return {"errcode": 40014, "errmsg": "invalid access_token", "verdict": "unknown token"}
    if status == "expired":
        return {"errcode": 42001, "errmsg": "access_token expired", "verdict": "token expired"}
    if state.take_rate_limit("wecom"):
        return {"errcode": 45009, "errmsg": "api freq out of limit", "verdict": "rate limited"}
    if not isinstance(body, dict):
        return {"errcode": 47001, "errmsg": "data format error", "verdict": "bad body"}
    if "agentid" not in body:
        return {"errcode": 41011, "errmsg": "missing agentid", "verdict": "agentid missing"}
    agentid = as_agent_id(body.get("agentid"))
    if agentid is None:
        return {"errcode": 40056, "errmsg": "invalid agentid", "verdict": "wrong agentid"}
    if agentid != WECOM_AGENTID:
        return {"errcode": 301002, "errmsg": "not allow operate another agent with this accesstoken.",
                "verdict": "wrong agentid"}
    msgtype = body.get("msgtype")
    if msgtype not in ("text", "markdown"):
        return {"errcode": 40008, "errmsg": "invalid message type", "verdict": f"unknown msgtype {msgtype!r}"}
    part = body.get(msgtype)
    content = part.get("content") if isinstance(part, dict) else None
    if not isinstance(content, str) or not content:
        return {"errcode": 44004, "errmsg": "empty content", "verdict": "content missing"}
    size = len(content.encode("utf-8"))
    if size > WECOM_CONTENT_LIMIT:
        return {"errcode": 45002, "errmsg": "content size out of limit",
                "verdict": f"content is {size} bytes, over {WECOM_CONTENT_LIMIT}"}
    touser = body.get("touser")
    named = [u for u in touser.split("|") if u] if isinstance(touser, str) else []
    if "@all" in named:
        named = list(WECOM_USERS)
    known = [u for u in dict.fromkeys(named) if u in WECOM_USERS]
    unknown = [u for u in dict.fromkeys(named) if u not in WECOM_USERS]
    if not known:
        return {"errcode": 81013, "errmsg": "user & party & tag all invalid", "invaliduser": "|".join(unknown),
                "verdict": "all users unknown", "unknown_users": unknown}
    window = None
    if body.get("enable_duplicate_check") in (1, "1", True):
        interval = body.get("duplicate_check_interval", 1800)
        window = interval if is_int(interval) and interval > 0 else 1800
    delivered, duplicates = state.deliver("wecom", known, msgtype, content, window)
    return {"errcode": 0, "errmsg": "ok", "invaliduser": "|".join(unknown), "msgid": secrets.token_urlsafe(32),
            "verdict": "unknown user" if unknown else "ok", "unknown_users": unknown, "delivered": delivered,
            "duplicate": bool(duplicates), "duplicate_users": duplicates}


# --- DingTalk ------------------------------------------------------------------------------------------------------

def ding_gettoken(state: State, method: str, query: dict, body) -> dict:
    if method != "GET":
        return {"errcode": 43001, "errmsg": "需要GET请求", "verdict": "not GET"}
    key, secret = query.get("appkey"), query.get("appsecret")
    if key != DING_KEY or secret != DING_SECRET:
        verdict = "unknown appkey" if key != DING_KEY else "wrong secret"
        return {"errcode": 40089, "errmsg": "不合法的corpid或corpsecret", "verdict": verdict}
    token = state.issue("dingtalk")
    return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": TOKEN_LIFETIME, "verdict": "ok"}


def ding_token_error(state: State, method: str, query: dict):
    """The answer for a bad method or token, or None when the call may go on."""
    if method != "POST":
        return {"errcode": 43002, "errmsg": "需要POST请求", "verdict": "not POST"}
    status = state.token_status("dingtalk", query.get("access_token"))
    if status == "missing":
        return {"errcode": 41001, "errmsg": "缺少access_token参数", "verdict": "token missing"}
    if status == "unknown":
        return {"errcode": 40014, "errmsg": "不合法的access_token", "verdict": "unknown token"}
    if status == "expired":
        return {"errcode": 88, "errmsg": "不合法的access_token", "sub_code": "40014", "sub_msg": "不合法的access_token",
                "verdict": "token expired"}
    return None


def ding_getbymobile(state: State, method: str, query: dict, body) -> dict:
    error = ding_token_error(state, method, query)
    if error:
        return error
    mobile = body.get("mobile") if isinstance(body, dict) else None
    if not isinstance(mobile, str) or not mobile:
        return {"errcode": 40035, "errmsg": "缺少参数 mobile", "verdict": "mobile missing"}
    userid = DING_MOBILES.get(mobile)
    if userid is None:
        return {"errcode": 60121, "errmsg": "找不到该用户", "verdict": "unknown mobile"}
    return {"errcode": 0, "errmsg": "ok", "result": {"userid": userid}, "verdict": "ok"}


def ding_send(state: State, method: str, query: dict, body) -> dict:
    error = ding_token_error(state, method, query)
    if error:
        return error
    if state.take_rate_limit("dingtalk"):
        return {"errcode": 90018, "errmsg": "当前企业调用该接口超过每分钟限制", "verdict": "rate limited"}
    if not isinstance(body, dict):
        return {"errcode": 40035, "errmsg": "缺少参数 json", "verdict": "bad body"}
    if as_agent_id(body.get("agent_id")) != DING_AGENTID:
        return {"errcode": 40056, "errmsg": "不合法的agentid", "verdict": "wrong agent_id"}
    msg = body.get("msg")
    if not isinstance(msg, dict):
        return {"errcode": 40035, "errmsg": "缺少参数 msg", "verdict": "msg missing"}
    msgtype = msg.get("msgtype")
    if msgtype == "text":
        text = msg.get("text")
        content = text.get("content") if isinstance(text, dict) else None
        if not isinstance(content, str) or not content:
            return {"errcode": 40035, "errmsg": "缺少参数 text.content", "verdict": "content missing"}
    elif msgtype == "markdown":
        markdown = msg.get("markdown")
        title = markdown.get("title") if isinstance(markdown, dict) else None
        content = markdown.get("text") if isinstance(markdown, dict) else None
        if not isinstance(title, str) or not title or not isinstance(content, str) or not content:
            return {"errcode": 40035, "errmsg": "缺少参数 markdown.title或markdown.text",
                    "verdict": "markdown.title or markdown.text missing"}
        content = title + "\n" + content
    else:
        return {"errcode": 40008, "errmsg": "不合法的消息类型", "verdict": f"unknown msgtype {msgtype!r}"}
    userid_list = body.get("userid_list")
    if userid_list is not None and not isinstance(userid_list, str):
        return {"errcode": 40035, "errmsg": "userid_list 参数格式错误，应为逗号分隔的字符串",
                "verdict": "userid_list is not a comma-separated string"}
    named = [u.strip() for u in (userid_list or "").split(",") if u.strip()]
    if body.get("to_all_user") is True:
        named = list(DING_USERS)
    if not named and not body.get("dept_id_list"):
        return {"errcode": 40035, "errmsg": "缺少参数 userid_list", "verdict": "no recipients"}
    known = [u for u in dict.fromkeys(named) if u in DING_USERS]
    unknown = [u for u in dict.fromkeys(named) if u not in DING_USERS]
    delivered, duplicates = state.deliver("dingtalk", known, msgtype, content, DING_DUPLICATE_WINDOW)
    task_id = state.next_task_id
    state.next_task_id += 1
    return {"errcode": 0, "errmsg": "ok", "task_id": task_id, "verdict": "unknown user" if unknown else "ok",
            "unknown_users": unknown, "delivered": delivered, "duplicate": bool(duplicates),
            "duplicate_users": duplicates}


ROUTES = {
    "/cgi-bin/gettoken": ("wecom", wecom_gettoken),
    "/cgi-bin/message/send": ("wecom", wecom_send),
    "/gettoken": ("dingtalk", ding_gettoken),
    "/topapi/v2/user/getbymobile": ("dingtalk", ding_getbymobile),
    "/topapi/message/corpconversation/asyncsend_v2": ("dingtalk", ding_send),
}
LOG_ONLY = ("verdict", "unknown_users", "delivered", "duplicate", "duplicate_users")


def control(state: State, body) -> tuple:
    """(HTTP status, answer, verdict) for POST /_control."""
    if not isinstance(body, dict):
        return 400, {"errcode": 1, "errmsg": "body must be a JSON object"}, "bad body"
    done = []
    for key in ("expire", "rate_limit"):
        value = body.get(key)
        if value is None:
            continue
        names = value if isinstance(value, list) else [value]
        if not names or any(name not in APPS for name in names):
            return 400, {"errcode": 1, "errmsg": f"{key} must name wecom or dingtalk"}, f"bad {key}"
        for name in names:
            if key == "expire":
                for info in state.tokens.values():
                    if info["app"] == name:
                        info["expired"] = True
            else:
                state.rate_limit[name] += 1
            done.append(f"{key} {name}")
    if not done:
        return 400, {"errcode": 1, "errmsg": "nothing to do: use expire or rate_limit"}, "nothing to do"
    return 200, {"errcode": 0, "errmsg": "ok"}, ", ".join(done)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # keep the test's output clean
        pass

    def answer(self, status: int, payload) -> None:
        data = json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_any(self, method: str) -> None:
        state: State = self.server.state
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or "0"))
        try:
            body = json.loads(raw) if raw.strip() else None
        except ValueError:
            body = None
        entry = {"method": method, "path": url.path, "query": query, "body": body, "received": time.time()}
        status = 200
        with state.lock:
            if url.path in ROUTES:
                app, route = ROUTES[url.path]
                result = route(state, method, query, body)
                if app == "dingtalk" and url.path != "/gettoken":
                    result["request_id"] = request_id()
                entry.update(app=app, errcode=result["errcode"])
                entry.update({k: result.pop(k) for k in LOG_ONLY if k in result})
                payload = result
            elif url.path == "/_control" and method == "POST":
                status, payload, verdict = control(state, body)
                entry.update(app="control", errcode=None, verdict=verdict)
            elif url.path == "/_stats" and method == "GET":
                payload = json.loads(json.dumps(state.stats))
                entry.update(app="control", errcode=None, verdict="ok")
            else:
                status, payload = 404, {"errcode": 404, "errmsg": "请求的URI地址不存在 / not found"}
                entry.update(app=None, errcode=404, verdict="unknown path")
            state.record(entry)
        self.answer(status, payload)

    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def do_PUT(self):
        self.handle_any("PUT")

    def do_DELETE(self):
        self.handle_any("DELETE")


def make_server(log_file: str) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.state = State(log_file)
    return server


def main(log_file: str) -> int:
    server = make_server(log_file)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"ready {server.server_address[1]}", flush=True)
    sys.stdin.read()  # returns when the test closes our stdin or exits
    server.shutdown()
    return 0


# --- self-test -----------------------------------------------------------------------------------------------------

def selftest() -> int:
    import os
    import urllib.error
    import urllib.request

    log_file = tempfile.NamedTemporaryFile(prefix="chat_apps_", suffix=".jsonl", delete=False).name
    server = make_server(log_file)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    failures = []

    def call(path, body=None, method=None):
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(base + path, data=data, method=method or ("GET" if data is None else "POST"),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                assert response.headers["Content-Length"] is not None
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    def expect(name, answer, errcode, **fields):
        status, payload = answer
        problems = []
        if payload.get("errcode") != errcode:
            problems.append(f"errcode {payload.get('errcode')} != {errcode}")
        for key, value in fields.items():
            if payload.get(key) != value:
                problems.append(f"{key} {payload.get(key)!r} != {value!r}")
        if problems:
            failures.append(f"{name}: {'; '.join(problems)} in {payload}")
        return payload

    def log_lines():
        with open(log_file, encoding="utf-8") as log:
            return [json.loads(line) for line in log]

    # WeCom token flow.
    expect("wecom wrong secret", call("/cgi-bin/gettoken?corpid=ww-test-corp&corpsecret=nope"), 40001)
    expect("wecom unknown corp", call("/cgi-bin/gettoken?corpid=ww-other&corpsecret=wecom-test-secret"), 40013)
    expect("wecom gettoken POST", call("/cgi-bin/gettoken?corpid=ww-test-corp", {}), 43001)
    got = expect("wecom gettoken", call("/cgi-bin/gettoken?corpid=ww-test-corp&corpsecret=wecom-test-secret"), 0,
                 expires_in=7200, errmsg="ok")
    token = got.get("access_token", "")
    message = {"touser": "zhangsan", "msgtype": "text", "agentid": 1000002, "text": {"content": "新的预约 ✓"},
               "safe": 0, "enable_duplicate_check": 1, "duplicate_check_interval": 1800}
    send = f"/cgi-bin/message/send?access_token={token}"
    first = expect("wecom send", call(send, message), 0, invaliduser="")
    second = expect("wecom duplicate send", call(send, message), 0, invaliduser="")
    if not first.get("msgid") or first.get("msgid") == second.get("msgid"):
        failures.append("wecom msgid missing or not unique")
    markdown = dict(message, msgtype="markdown", markdown={"content": "**预约** 已确认"}, touser="lisi|nobody")
    markdown.pop("text")
    expect("wecom markdown, one unknown", call(send, markdown), 0, invaliduser="nobody")
    expect("wecom all unknown", call(send, dict(message, touser="nobody|ghost")), 81013, invaliduser="nobody|ghost")
    expect("wecom no token", call("/cgi-bin/message/send", message), 41001)
    expect("wecom unknown token", call("/cgi-bin/message/send?access_token=bogus", message), 40014)
    expect("wecom other agent", call(send, dict(message, agentid=1000003)), 301002)
    expect("wecom bad agentid", call(send, dict(message, agentid="x")), 40056)
    expect("wecom long content", call(send, dict(message, text={"content": "预" * 683})), 45002)
    expect("wecom empty content", call(send, dict(message, text={"content": ""})), 44004)
    expect("wecom bad msgtype", call(send, dict(message, msgtype="image")), 40008)
    expect("wecom send GET", call(send), 43002)
    expect("control rate wecom", call("/_control", {"rate_limit": "wecom"}), 0)
    expect("wecom rate limited", call(send, dict(message, touser="wangwu")), 45009)
    expect("wecom after rate limit", call(send, dict(message, touser="wangwu")), 0)
    expect("control expire wecom", call("/_control", {"expire": "wecom"}), 0)
    expect("wecom expired", call(send, dict(message, touser="wangwu")), 42001)
    token2 = expect("wecom new token", call("/cgi-bin/gettoken?corpid=ww-test-corp&corpsecret=wecom-test-secret"),
                    0).get("access_token", "")
    expect("wecom send with new token", call(f"/cgi-bin/message/send?access_token={token2}",
                                             dict(message, touser="@all", text={"content": "all"})), 0)
    expect("dingtalk refuses a wecom token",
           call(f"/topapi/v2/user/getbymobile?access_token={token2}", {"mobile": "13900000001"}), 40014)

    # DingTalk token flow.
    expect("dingtalk wrong secret", call("/gettoken?appkey=ding-test-key&appsecret=nope"), 40089)
    expect("dingtalk unknown key", call("/gettoken?appkey=other&appsecret=ding-test-secret"), 40089)
    dtoken = expect("dingtalk gettoken", call("/gettoken?appkey=ding-test-key&appsecret=ding-test-secret"), 0,
                    expires_in=7200).get("access_token", "")
    lookup = f"/topapi/v2/user/getbymobile?access_token={dtoken}"
    found = expect("dingtalk getbymobile", call(lookup, {"mobile": "13900000002"}), 0, errmsg="ok")
    if found.get("result") != {"userid": "dt-user-2"} or not found.get("request_id"):
        failures.append(f"dingtalk getbymobile result: {found}")
    expect("dingtalk unknown mobile", call(lookup, {"mobile": "13999999999"}), 60121)
    dsend = f"/topapi/message/corpconversation/asyncsend_v2?access_token={dtoken}"
    dmessage = {"agent_id": 2000001, "userid_list": "dt-user-1",
                "msg": {"msgtype": "text", "text": {"content": "新的预约"}}}
    one = expect("dingtalk send", call(dsend, dmessage), 0)
    two = expect("dingtalk markdown send", call(dsend, dict(dmessage, userid_list="dt-user-1,dt-user-3", msg={
        "msgtype": "markdown", "markdown": {"title": "预约", "text": "**已确认**"}})), 0)
    if not is_int(one.get("task_id")) or one.get("task_id") == two.get("task_id") or not one.get("request_id"):
        failures.append(f"dingtalk task_id not a unique int: {one} {two}")
    expect("dingtalk unknown user", call(dsend, dict(dmessage, userid_list="dt-ghost")), 0)
    expect("dingtalk wrong agent", call(dsend, dict(dmessage, agent_id=2000002)), 40056)
    expect("dingtalk list userid_list", call(dsend, dict(dmessage, userid_list=["dt-user-1"])), 40035)
    expect("dingtalk bad msgtype", call(dsend, dict(dmessage, msg={"msgtype": "voice"})), 40008)
    expect("dingtalk no token", call("/topapi/message/corpconversation/asyncsend_v2", dmessage), 41001)
    expect("dingtalk unknown token",
           call("/topapi/message/corpconversation/asyncsend_v2?access_token=bogus", dmessage), 40014)
    expect("control rate dingtalk", call("/_control", {"rate_limit": "dingtalk"}), 0)
    expect("dingtalk rate limited", call(dsend, dmessage), 90018)
    expect("dingtalk after rate limit", call(dsend, dict(dmessage, userid_list="dt-user-2")), 0)
    expect("control expire dingtalk", call("/_control", {"expire": "dingtalk"}), 0)
    expect("dingtalk expired", call(dsend, dmessage), 88, sub_code="40014")
    expect("dingtalk lookup expired", call(lookup, {"mobile": "13900000001"}), 88)
    dtoken2 = expect("dingtalk new token", call("/gettoken?appkey=ding-test-key&appsecret=ding-test-secret"),
                     0).get("access_token", "")
    expect("dingtalk send with new token",
           call(f"/topapi/message/corpconversation/asyncsend_v2?access_token={dtoken2}",
                dict(dmessage, msg={"msgtype": "text", "text": {"content": "again"}})), 0)

    # Control errors, stats, unknown path.
    if call("/_control", {"expire": "slack"})[0] != 400 or call("/_control", {})[0] != 400:
        failures.append("control accepted a bad body")
    if call("/nowhere")[0] != 404:
        failures.append("unknown path not 404")
    status, stats = call("/_stats")
    want = {
        "wecom": {"tokens_issued": 2, "sent": 5, "duplicates": 1,
                  "by_user": {"zhangsan": 2, "lisi": 2, "wangwu": 2}},
        "dingtalk": {"tokens_issued": 2, "sent": 5, "duplicates": 0,
                     "by_user": {"dt-user-1": 3, "dt-user-3": 1, "dt-user-2": 1}},
    }
    if status != 200 or stats != want:
        failures.append(f"stats {stats} != {want}")

    # The log: one line per request, written before the answer, with the documented fields.
    lines = log_lines()
    wecom_sends = [e for e in lines if e["path"] == "/cgi-bin/message/send" and e["errcode"] == 0]
    if [e.get("duplicate") for e in wecom_sends] != [False, True, False, False, False]:
        failures.append(f"wecom duplicate flags: {[e.get('duplicate') for e in wecom_sends]}")
    if wecom_sends and wecom_sends[1].get("duplicate_users") != ["zhangsan"]:
        failures.append(f"wecom duplicate_users: {wecom_sends[1]}")
    verdicts = [e["verdict"] for e in lines if e["app"] == "dingtalk" and e["path"].endswith("asyncsend_v2")]
    if "unknown user" not in verdicts or "token expired" not in verdicts or "rate limited" not in verdicts:
        failures.append(f"dingtalk verdicts: {verdicts}")
    for entry in lines:
        missing = {"app", "path", "query", "body", "verdict", "errcode"} - entry.keys()
        if missing:
            failures.append(f"log line lacks {missing}: {entry}")
            break
    if lines and lines[0]["query"] != {"corpid": "ww-test-corp", "corpsecret": "nope"}:
        failures.append(f"first log line query: {lines[0]}")

    server.shutdown()
    os.unlink(log_file)
    for failure in failures:
        print("FAIL", failure)
    print(f"selftest {'failed' if failures else 'ok'}: {len(lines)} requests, {len(failures)} failures", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--selftest"]:
        sys.exit(selftest())
    if len(sys.argv) != 2:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
