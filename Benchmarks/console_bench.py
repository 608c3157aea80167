#!/usr/bin/env python3
"""The web console's figures for `make bench` (issue 16): each page's server time (p50, p99 over repeated
requests from a signed-in clerk), its size, and its first contentful paint in headless Chromium.

Targets: p50 <= 15 ms, p99 <= 50 ms, <= 100 KB per page (style sheet included), first contentful paint <= 300 ms.

It starts the release `mediationd` on a temporary folder with the console on a free loopback port, makes the sample
offices, experts, disputes and a booked session with the release `mediationctl`, and an account for the clerk.
"""
import argparse
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
    daemon = subprocess.Popen([os.path.join(a.bin, "mediationd")], env=env, stderr=subprocess.DEVNULL)
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
        ctl("expert", "import", os.path.join(root, "Config/examples/experts.csv"))
        numbers = []
        for i in range(40):
            opened = json.loads(ctl("--json", "dispute", "open", "--office", "jinshan", "--title", f"邻里纠纷 {i}",
                                    "--category", "neighbour"))
            numbers.append(opened["dispute"]["number"])
        today = time.strftime("%Y-%m-%d")
        later = time.strftime("%Y-%m-%d", time.localtime(time.time() + 13 * 86400))
        ctl("session", "find", numbers[0], "--from", today, "--to", later)
        ctl("session", "book", numbers[0], "--option", "1")
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

        pages = ["/", "/disputes", f"/disputes/{numbers[0]}", "/disputes/new", "/week", "/review"]
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

        print("console pages (signed-in clerk, release build; targets p50 <= 15 ms, p99 <= 50 ms, <= 100 KB, "
              "first contentful paint <= 300 ms):")
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
