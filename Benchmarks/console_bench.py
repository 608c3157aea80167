#!/usr/bin/env python3
"""The web console's figures for `make bench` (issue 16): each page's server time (p50, p99 over repeated
requests from a signed-in clerk), its size, and its first contentful paint in headless Chromium, with 2,000 experts
and 500 sessions in the week shown, beside `GET /v1/health` of the same run.

Targets: p50 <= 15 ms, p99 <= 50 ms, <= 100 KB per page (style sheet included), first contentful paint <= 300 ms.

It starts the release `mediationd` on a temporary folder with the console on a free loopback port and its clock at
06:00 on the Monday of the week after next (the hidden test clock), makes the sample offices, 2,000 experts (a
roster CSV), 500 disputes each with a session booked in that week (through the API on the socket), and an account
for the clerk.
"""
import argparse
import datetime
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over the daemon's Unix socket."""

    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bin", required=True, help="the folder with the release mediationd and mediationctl")
    p.add_argument("--requests", type=int, default=300, help="requests per page")
    a = p.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folder = tempfile.mkdtemp(prefix="console-bench-")
    port = free_port()
    sock = os.path.join(folder, "api.sock")
    env = dict(os.environ)
    env.update({
        "MEDIATIOND_SOCKET_PATH": sock, "MEDIATIOND_STORE_PATH": os.path.join(folder, "bench.sqlite"),
        "MEDIATIOND_SPOOL_DIRECTORY": os.path.join(folder, "outbox"), "MEDIATIOND_LOG_LEVEL": "warning",
        "MEDIATIOND_WEB_LISTEN": f"127.0.0.1:{port}",
    })
    # The daemon's clock at 06:00 (Shanghai) on the Monday of the week after next: that week is "this week".
    shanghai = datetime.timezone(datetime.timedelta(hours=8))
    today = datetime.datetime.now(shanghai).date()
    monday = today + datetime.timedelta(days=(7 - today.weekday()) + 7)
    moment = datetime.datetime.combine(monday, datetime.time(6, 0), shanghai)
    clock = os.path.join(folder, "clock-offset")
    with open(clock, "w") as f:
        f.write(f"{moment.timestamp() - time.time()}\n")
    daemon = subprocess.Popen([os.path.join(a.bin, "mediationd"), "--test-clock-file", clock], env=env,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.02)

        def ctl(*args):
            out = subprocess.run([os.path.join(a.bin, "mediationctl"), "--socket", sock, *args],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"console bench: mediationctl {' '.join(args)} failed: {out.stderr}")
            return out.stdout

        for office, name in [("jinshan", "金山警务室"), ("xinhua", "新华警务室"), ("hongqiao", "虹桥警务室"),
                             ("binjiang", "滨江警务室")]:
            ctl("office", "add", office, "--name", name)
        # 2,000 experts serving jinshan: legal officers, lawyers and community staff in turn, then retirees.
        roles = ["法制民警", "律师", "综治专干"]
        roster = os.path.join(folder, "experts.csv")
        with open(roster, "w", encoding="utf-8") as f:
            f.write("姓名,角色,手机,服务警务室,每周时段,每日上限,每周上限\n")
            for i in range(2000):
                role = roles[i % 3] if i < 1500 else "退休干部"
                f.write(f"专家{i:04d},{role},139{i:08d},jinshan,mon-sun 08:00-22:00,4,20\n")
        ctl("expert", "import", roster)
        experts = json.loads(ctl("--json", "expert", "list"))["experts"]
        ids = {e["name"]: e["id"] for e in experts}

        def api(method, path, body=None):
            connection = UnixHTTPConnection(sock)
            connection.request(method, path, body=json.dumps(body) if body is not None else None,
                               headers={"Content-Type": "application/json"})
            answer = connection.getresponse()
            data = answer.read()
            connection.close()
            return answer.status, data

        # 500 disputes, each with a session in the week: 4 starts a weekday, 25 sessions at each, every one with
        # its own panel of three (a legal officer, a lawyer, community staff).
        starts = [datetime.datetime.combine(monday + datetime.timedelta(days=d), datetime.time(h, m))
                  for d in range(5) for (h, m) in [(9, 0), (10, 30), (14, 0), (15, 30)]]
        numbers = []
        for k in range(500):
            status, data = api("POST", "/v1/disputes", {"office": "jinshan", "title": f"邻里纠纷 {k}",
                                                        "category": "neighbour"})
            if status != 201:
                sys.exit(f"console bench: opening a dispute answered {status}: {data[:300]}")
            number = json.loads(data)["dispute"]["number"]
            numbers.append(number)
            panel = [str(ids[f"专家{3 * k + j:04d}"]) for j in range(3)]
            start = starts[k % len(starts)].strftime("%Y-%m-%d %H:%M")
            status, data = api("POST", "/v1/sessions", {"dispute": number, "start": start, "panel": panel})
            if status != 201:
                sys.exit(f"console bench: booking {number} at {start} answered {status}: {data[:300]}")
        health = []
        for _ in range(a.requests):
            started = time.perf_counter()
            api("GET", "/v1/health")
            health.append((time.perf_counter() - started) * 1000)
        health.sort()
        added = ctl("user", "add", "bench.clerk", "--role", "staff", "--office", "jinshan")
        one_time = re.search(r"^one-time password: (.+)$", added, re.M)
        if not one_time:
            sys.exit(f"console bench: no one-time password in: {added}")

        base = f"http://127.0.0.1:{port}"
        jar = http.cookiejar.CookieJar()

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

        def get(path):
            try:
                with opener.open(base + path) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        def post(path, fields):
            data = urllib.parse.urlencode(fields).encode()
            try:
                with opener.open(base + path, data=data) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, e.read()

        def csrf(body):
            return re.search(rb'name="csrf" value="([^"]*)"', body).group(1).decode()

        _, login = get("/login")
        post("/login", {"csrf": csrf(login), "name": "bench.clerk", "password": one_time.group(1)})
        _, page = get("/password")
        password = "青松 river lamp 42"
        post("/password", {"csrf": csrf(page), "current": one_time.group(1), "new": password, "repeat": password})

        pages = ["/", "/week", "/disputes", f"/disputes/{numbers[0]}", "/disputes/new", "/review", "/experts"]
        _, css = get("/static/console.css")
        results = []
        for path in pages:
            status, body = get(path)
            if status != 200:
                sys.exit(f"console bench: {path} answered {status}")
            times = []
            for _ in range(a.requests):
                start = time.perf_counter()
                get(path)
                times.append((time.perf_counter() - start) * 1000)
            times.sort()
            results.append({"page": path, "bytes": len(body) + len(css), "p50": times[len(times) // 2],
                            "p99": times[int(len(times) * 0.99) - 1]})

        # First contentful paint in headless Chromium, signed in with the same cookie.
        paints = {}
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
            options = webdriver.ChromeOptions()
            for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]:
                options.add_argument(arg)
            options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
            driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"),
                                      options=options)
            try:
                driver.get(base + "/login")
                for cookie in jar:
                    driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})
                for path in pages:
                    samples = []
                    for _ in range(5):
                        driver.get(base + path)
                        # The paint entry is recorded just after the load event: ask again for up to a second.
                        for _ in range(50):
                            fcp = driver.execute_script(
                                "const e = performance.getEntriesByName('first-contentful-paint')[0];"
                                "return e ? e.startTime : null;")
                            if fcp is not None:
                                samples.append(fcp)
                                break
                            time.sleep(0.02)
                    samples.sort()
                    paints[path] = samples[len(samples) // 2] if samples else None
            finally:
                driver.quit()
        except Exception as e:  # the figures without a browser are still worth printing
            print(f"console: first contentful paint not measured ({e})")

        print("console pages (signed-in clerk, release build, 2,000 experts and 500 sessions in the week; targets "
              "p50 <= 15 ms, p99 <= 50 ms, <= 100 KB, first contentful paint <= 300 ms):")
        print(f"  GET /v1/health on the socket, same run: p50 {health[len(health) // 2]:.1f} ms, "
              f"p99 {health[int(len(health) * 0.99) - 1]:.1f} ms")
        for r in results:
            fcp = paints.get(r["page"])
            print(f"  {r['page']:<28} p50 {r['p50']:5.1f} ms  p99 {r['p99']:5.1f} ms  "
                  f"{r['bytes'] / 1024:5.1f} KB  FCP {'-' if fcp is None else f'{fcp:.0f} ms'}")
    finally:
        daemon.terminate()
        daemon.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
