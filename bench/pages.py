"""Page timings (part of bench/suite.py): p50 and p95 server time of the registry's read pages, in-process.

The Flask test client calls the application without a network; the time is taken around the request (routing,
session, queries, template), after warm-up requests. A liaison officer of Kazakhstan reads: their view is the
most involved (own state's working versions, other states' accepted ones, visibility), and it is the page most
users open. Each page also reports its SQL statement count, and the list queries their plans (EXPLAIN).
"""

import re
import statistics
import time
from datetime import date

from sqlalchemy import event, text

from registry.db import db
from registry.services.exercise_queries import encode_cursor

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
SHOWN = re.compile(r'href="/exercises/(EXN-\d{4}-\d+)"')
LIST_PAGES = ("list", "list_state_date", "list_search", "list_deep")


def login(client, email: str, password: str) -> None:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    # A temporary password or a second factor would send every page to their forms instead.
    assert response.status_code == 302 and response.location.rstrip("/").endswith(("", "/exercises")) and \
        "verify" not in response.location and "password" not in response.location, "the benchmark login failed"


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered) + 0.5) - 1))]


def pages_for(size: int, members: dict[str, int]) -> dict[str, str]:
    """The pages measured at a size: their paths. Records are picked by number, so they exist at every size."""
    kz_accepted = next(n for n in range(size // 2, size) if n % 10 == members["KZ"] and n % 100 < 80)
    cn_public = next(n for n in range(size // 2, size)
                     if n % 10 == members["CN"] and n % 100 < 80 and n % 4 in (0, 1, 2))
    from data import _start  # the generator's dates: the record's reference holds its year

    def reference(n: int) -> str:
        return f"EXN-{_start(n).year}-{n:07d}"

    # A cursor in the middle of the data: the next page after a mid-2013 exercise (keyset, not OFFSET).
    deep = encode_cursor("start_desc", date(2013, 6, 30), size // 2)
    return {
        "list": "/exercises/",
        "list_state_date": "/exercises/?state=CN&from=2015-03-01&to=2015-05-31",
        "list_search": "/exercises/?q=Vostok-1235",
        "list_deep": f"/exercises/?after={deep}",
        "detail_own": f"/exercises/{reference(kz_accepted)}",
        "detail_other": f"/exercises/{reference(cn_public)}",
        "year": "/exercises/year/2015",
        "dashboard": "/",  # the officer's first page: what the state must do next
        "states": "/states/",
        "bare": "/healthz",
    }


class StatementLog:
    """The SQL statements (with parameters) sent while it is active."""

    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def _record(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._record)


def explain(engine, statement: str, parameters) -> list[str]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
        conn.rollback()
    if engine.dialect.name == "sqlite":
        return [f"{'  ' * (row[1] != 0)}{row[3]}" for row in rows]
    return [row[0] for row in rows]


def main_query(statements: list) -> tuple[str, object] | None:
    """The list's own query: the one that joins the exercise details."""
    for statement, parameters in statements:
        if "exercise_details" in statement and "ORDER BY" in statement and "LIMIT" in statement:
            return statement, parameters
    return None


def measure(bench, size: int, repeat: int, warmup: int = 3) -> dict:
    """p50/p95 (milliseconds), SQL statements and HTML size of each page; plans of the list queries."""
    app = bench.app
    members = {code: bench.members.index(sid) for sid, code in bench.codes.items()}
    client = app.test_client()
    login(client, "officer.kz@bench.example.org", "benchmark password 2026")
    results = {}
    with app.app_context():
        engine = db.engine
    for name, path in pages_for(size, members).items():
        for _ in range(warmup):
            start = time.perf_counter()
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            if time.perf_counter() - start > 2:
                break  # a page of seconds (the year view, a search at a million) is warm after one request
        with StatementLog(engine) as log:
            response = client.get(path)
        html = response.get_data(as_text=True)
        times = []
        start = time.perf_counter()
        client.get(path)
        first = time.perf_counter() - start
        # A slow page (the year view, a search at a million rows) gets fewer samples: about 20 s of them.
        for _ in range(max(3, min(repeat, int(20 / max(first, 1e-3))))):
            start = time.perf_counter()
            response = client.get(path)
            times.append((time.perf_counter() - start) * 1000)
        entry = {"path": path, "p50_ms": statistics.median(times), "p95_ms": percentile(times, 0.95),
                 "min_ms": min(times), "samples": len(times), "statements": len(log.statements),
                 "html_kib": len(html.encode()) / 1024, "rows_shown": len(set(SHOWN.findall(html)))}
        if name in LIST_PAGES or name == "year":
            query = main_query(log.statements) or next(
                ((s, p) for s, p in log.statements if "exercise_details" in s), None)
            if query:
                entry["plan"] = explain(engine, *query)
        results[name] = entry
    baseline = results["bare"]["p50_ms"]
    for entry in results.values():
        entry["x_bare_p50"] = entry["p50_ms"] / baseline
    with app.app_context():
        db.session.remove()
        if engine.dialect.name == "postgresql":
            results["_server"] = db.session.scalar(text("SHOW server_version"))
        db.session.remove()
    return results
