"""Throughput (part of bench/suite.py): requests per second of the logged-in exercise list under gunicorn,
against a bare Flask "hello" under the same gunicorn, measured one after the other in the same run.

Both run as `gunicorn --workers 2` on the loopback; `wrk` (Debian package `wrk`) loads each for a bounded time with
a few connections. The list is read by the liaison officer of Kazakhstan with a real session cookie (signed in
through the login form first); any response that is not 200 counts against the run (wrk's "Non-2xx").
"""

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

HERE = Path(__file__).resolve().parent
WRK = shutil.which("wrk")
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(app_spec: str, port: int, env: dict) -> subprocess.Popen:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    command = [gunicorn, "--workers", "2", "--bind", f"127.0.0.1:{port}", "--pythonpath", str(HERE),
               "--log-level", "warning", app_spec]
    process = subprocess.Popen(command, env={**os.environ, **env})  # noqa: S603 - our own command
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310 - loopback
                return process
        except OSError:
            time.sleep(0.3)
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn {app_spec} exited with {process.returncode}")
    process.terminate()
    raise RuntimeError(f"gunicorn {app_spec} did not answer within 60 s")


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def session_cookie(port: int, email: str, password: str) -> str:
    """Sign in through the login form; the Cookie header wrk sends."""
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    base = f"http://127.0.0.1:{port}"
    page = opener.open(f"{base}/login", timeout=30).read().decode()
    form = urllib.parse.urlencode({"email": email, "password": password,
                                   "csrf_token": CSRF.search(page).group(1)}).encode()
    opener.open(f"{base}/login", data=form, timeout=30)
    check = opener.open(f"{base}/exercises/", timeout=30)
    assert check.status == 200 and "/login" not in check.geturl(), "the benchmark login failed"
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def run_wrk(url: str, seconds: int, connections: int, cookie: str | None = None) -> dict:
    command = [WRK, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout  # noqa: S603
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    p50 = re.search(r"50%\s+([\d.]+\w+)", output)
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    return {"requests_per_second": rate, "requests": total, "non_2xx": int(bad.group(1)) if bad else 0,
            "socket_errors": errors.group(1) if errors else "", "latency_p50": p50.group(1) if p50 else "",
            "latency_p99": p99.group(1) if p99 else ""}


def measure(bench, seconds: int = 10, connections: int = 4, rounds: int = 3) -> dict:
    """Rounds of: bare hello, the logged-in list with the page cache on (a repeated view of an unchanged registry,
    as users mostly meet it), the list with it off (every request rendered: the first view after any change).
    The three servers run side by side and are loaded in turn; the best rate of each over the rounds is kept
    (the machine is shared: the rounds show how much the load moved)."""
    if WRK is None:
        return {"skipped": "wrk is not installed (Debian: apt-get install wrk)"}
    import data

    results: dict = {"seconds": seconds, "connections": connections, "workers": 2, "rounds": []}
    env = {"BENCH_DATABASE_URL": bench.url, "BENCH_TMP": bench.tmp}
    servers, urls, cookies = [], {}, {}
    try:
        port = free_port()
        servers.append(start_gunicorn("hello_app:app", port, {}))
        urls["hello"] = f"http://127.0.0.1:{port}/"
        for name, cache_bytes in (("list", None), ("list_rendered", "0")):
            port = free_port()
            extra = {} if cache_bytes is None else {"BENCH_PAGE_CACHE_BYTES": cache_bytes}
            servers.append(start_gunicorn("registry_app:app", port, {**env, **extra}))
            urls[name] = f"http://127.0.0.1:{port}/exercises/"
            cookies[name] = session_cookie(port, data.OFFICER.format(code="kz"), data.PASSWORD)
        for name, url in urls.items():
            run_wrk(url, 2, connections, cookies.get(name))  # warm-up: both workers' first requests
        for _round in range(rounds):
            results["rounds"].append({name: run_wrk(url, seconds, connections, cookies.get(name))
                                      for name, url in urls.items()})
    finally:
        for server in servers:
            stop(server)
    for name in urls:
        results[name] = max((r[name] for r in results["rounds"]), key=lambda run: run["requests_per_second"])
    hello = results["hello"]["requests_per_second"]
    results["list_share_of_hello"] = results["list"]["requests_per_second"] / hello
    results["list_rendered_share_of_hello"] = results["list_rendered"]["requests_per_second"] / hello
    return results
