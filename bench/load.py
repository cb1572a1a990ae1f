"""Load test (not a test of the suite; `make load`): signed-in officers browsing and filing notifications against
gunicorn on loopback for a bounded time, with no error response allowed.

    .venv/bin/python bench/load.py                           # SQLite, 60 s, 8 users, gunicorn with 2 workers
    .venv/bin/python bench/load.py --backend postgresql --seconds 60 --users 8
    REGISTRY_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ .venv/bin/python bench/load.py ...

The database is new for the run (a temporary SQLite file, or a PostgreSQL database created and dropped), migrated,
seeded with the member states, one officer per user (KZ) and a few accepted-looking drafts to open. The server is
`gunicorn --preload --workers 2` (shared/RELIABILITY.md finding 13: two workers on two cores) started by the
script on a free port. Each user is a thread with its own cookie jar that signs in, then loops over: the list of
notifications, one notification's page, the member states, the calendars, and one time in five a new notification
filed through the form (with its idempotency key). Prints requests per second, latency percentiles per kind, and
every error; exits 1 if any response was an error (>= 400) or a request failed.
"""

import argparse
import os
import platform
import secrets
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.live_server import Browser, Gunicorn, prepare_database, server_env  # noqa: E402
from tests.test_exercise_pages import valid_form  # noqa: E402

POSTGRES = os.environ.get("REGISTRY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")


def make_database(backend: str, workdir: Path) -> tuple[str, callable]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'load.sqlite3'}", lambda: None
    name = f"registry_load_{uuid.uuid4().hex[:8]}"
    admin = POSTGRES.replace("postgresql+psycopg://", "postgresql://").rstrip("/") + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return POSTGRES.rstrip("/") + "/" + name, drop


def user_loop(port: int, email: str, form: dict, deadline: float, results: dict, errors: list, lock) -> None:
    browser = Browser(port, timeout=30)

    def timed(kind: str, method: str, path: str, data=None):
        started = time.perf_counter()
        try:
            status, location, html = browser.post(path, data) if method == "POST" else browser.get(path)
        except OSError as exc:
            with lock:
                errors.append((kind, path, repr(exc)))
            return None, "", ""
        elapsed = time.perf_counter() - started
        with lock:
            results[kind].append(elapsed)
            if status >= 400:
                errors.append((kind, path, status))
        return status, location, html

    timed("sign in", "POST", "/login", {"email": email, "password": "correct horse battery",
                                        "csrf_token": browser.token("/login")})
    token = browser.token("/exercises/new")
    mine: list[str] = []
    n = 0
    while time.monotonic() < deadline:
        n += 1
        timed("list of notifications", "GET", "/exercises/")
        if mine:
            timed("a notification", "GET", mine[n % len(mine)])
        timed("member states", "GET", "/states/")
        timed("calendars", "GET", "/calendars/")
        if n % 5 == 1:
            status, location, _html = timed("file a notification", "POST", "/exercises/new", {
                **form, "action": "save", "csrf_token": token, "idempotency_key": secrets.token_urlsafe(24)})
            if status == 302 and location:
                mine.append(location)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="registry-load-") as tmp:
        workdir = Path(tmp)
        url, drop = make_database(args.backend, workdir)
        try:
            env = server_env(url, workdir / "server")
            emails = [f"load{i}@example.org" for i in range(args.users)]
            app = prepare_database(url, env, officers=[("KZ", email) for email in emails])
            form = valid_form(app)
            server = Gunicorn(env, workers=args.workers, log=workdir / "gunicorn.log")
            results, errors, lock = defaultdict(list), [], threading.Lock()
            try:
                started = time.monotonic()
                deadline = started + args.seconds
                users = [threading.Thread(target=user_loop, args=(server.port, email, form, deadline, results,
                                                                  errors, lock)) for email in emails]
                for thread in users:
                    thread.start()
                for thread in users:
                    thread.join(args.seconds + 120)
                wall = time.monotonic() - started
            finally:
                server.stop()
            from registry.db import db

            with app.app_context():
                db.engine.dispose()
        finally:
            drop()

    total = sum(len(v) for v in results.values())
    print(f"load: {args.backend}, {args.users} users, gunicorn --workers {args.workers}, {wall:.0f} s; "
          f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"{total} requests, {total / wall:.0f} per second, {len(errors)} errors")
    print(f"{'kind':<24}{'count':>7}{'median ms':>11}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}")
    for kind, values in sorted(results.items()):
        print(f"{kind:<24}{len(values):>7}{statistics.median(values) * 1000:>11.0f}"
              f"{percentile(values, 0.95) * 1000:>9.0f}{percentile(values, 0.99) * 1000:>9.0f}"
              f"{max(values) * 1000:>9.0f}")
    for error in errors[:20]:
        print("error:", error)
    return 1 if errors or not total else 0


if __name__ == "__main__":
    sys.exit(main())
