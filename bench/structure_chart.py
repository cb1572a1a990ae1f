"""Benchmark (not a test): import a 2,000-unit ministry structure through the upload page, then time the chart
page, the comparison page and, as baselines in the same run, a bare page and a small database page.

    .venv/bin/python bench/structure_chart.py                 # SQLite in a temporary directory
    .venv/bin/python bench/structure_chart.py --units 2000 --repeat 7
    REGISTRY_BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_structure \
        .venv/bin/python bench/structure_chart.py             # an existing, empty PostgreSQL database

Prints the median of each timing and its ratio to the baseline pages. Figures are noted in docs/benchmarks.md.
"""

import argparse
import io
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402

from registry import create_app, migrate  # noqa: E402
from registry.db import db  # noqa: E402
from registry.models import MemberState  # noqa: E402
from registry.services import states as state_service  # noqa: E402
from registry.services import users as user_service  # noqa: E402
from registry.services.actors import CLI  # noqa: E402
from registry.services.structure_import import COLUMNS  # noqa: E402

PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away database
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
LOCK = re.compile(r'name="lock_version"[^>]*value="(\d+)"')


def structure_csv(units: int) -> bytes:
    """A ministry with services, districts under them and directorates below: `units` units, each with a post
    and its holder."""
    rows = [",".join(COLUMNS), "ministry,,,,Министерство обороны,国防部,Ministry of Defence,,,,,"]
    keys = ["U0"]
    rows.append("unit,U0,,ministry,Министерство обороны,国防部,Ministry of Defence,,Capital,,,")
    for n in range(1, units):
        parent = keys[(n - 1) // 8]  # eight units under each: four levels for 2,000 units
        kind = "service" if n <= 8 else "military_district" if n <= 72 else "directorate"
        rows.append(f"unit,U{n},{parent},{kind},Управление {n},局 {n},Directorate {n},,City {n % 50},,,")
        keys.append(f"U{n}")
    for n in range(units):
        kind = "minister" if n == 0 else "head_of_directorate"
        rows.append(f"position,P{n},U{n},{kind},Начальник {n},局长 {n},Head {n},,,,,")
        rows.append(f"holder,,P{n},,Офицер {n},,Officer {n},,,Colonel,2020-01-01,")
    return ("\n".join(rows) + "\n").encode()


def timed(fn, repeat: int) -> tuple[float, object]:
    results, last = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        last = fn()
        results.append(time.perf_counter() - start)
    return statistics.median(results), last


def login(client, email: str) -> None:
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login failed"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("REGISTRY_BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False,
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1})
        migrate.upgrade(url)
        with app.app_context():
            state_service.load_state_seeds()
            kg = db.session.scalar(select(MemberState.id).where(MemberState.code == "KG"))
            user_service.create_user(CLI, email="officer@bench.example.org", display_name="Officer", role="officer",
                                     state_id=kg, password=PASSWORD, temporary_password=False)
            user_service.create_user(CLI, email="reviewer@bench.example.org", display_name="Reviewer",
                                     role="secretariat", password=PASSWORD, temporary_password=False)
            db.session.commit()

        officer, reviewer = app.test_client(), app.test_client()
        login(officer, "officer@bench.example.org")
        login(reviewer, "reviewer@bench.example.org")

        def open_disclosure(year: int) -> str:
            token = CSRF.search(officer.get("/structures/new").get_data(as_text=True)).group(1)
            response = officer.post("/structures/new", data={"csrf_token": token, "year": str(year),
                                                             "visibility": "members", "original_language": "ru"})
            return re.search(r"(MOD-\d{4}-\d{4})", response.location).group(1)

        content = structure_csv(args.units)
        reference = open_disclosure(2027)
        page = officer.get(f"/structures/{reference}/import").get_data(as_text=True)
        start = time.perf_counter()
        response = officer.post(f"/structures/{reference}/import", content_type="multipart/form-data", data={
            "csrf_token": CSRF.search(page).group(1), "lock_version": LOCK.search(page).group(1),
            "file": (io.BytesIO(content), "structure.csv")})
        import_seconds = time.perf_counter() - start
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]

        def submit_and_accept(ref: str) -> None:
            page = officer.get(f"/structures/{ref}/edit").get_data(as_text=True)
            names = dict(re.findall(r'name="(ministry_name_\w+)"[^>]*value="([^"]*)"', page))
            response = officer.post(f"/structures/{ref}/edit", data={
                "csrf_token": CSRF.search(page).group(1), "lock_version": LOCK.search(page).group(1),
                "visibility": "members", "action": "submit", **names})
            assert response.location.endswith(f"/structures/{ref}"), response.location
            page = reviewer.get(f"/structures/{ref}").get_data(as_text=True)
            response = reviewer.post(f"/records/{ref}/act/accept", data={
                "csrf_token": CSRF.search(page).group(1), "lock_version": LOCK.search(page).group(1)})
            assert response.status_code == 302

        submit_and_accept(reference)
        second = open_disclosure(2028)  # a copy of the first, with one unit moved
        page = officer.get(f"/structures/{second}/units/U100").get_data(as_text=True)
        officer.post(f"/structures/{second}/units/U100", data={
            "csrf_token": CSRF.search(page).group(1), "lock_version": LOCK.search(page).group(1), "op": "move",
            "parent_key": "U3"})
        submit_and_accept(second)

        def get(client, path):
            return lambda: client.get(path)

        officer.get("/healthz")
        officer.get(f"/structures/{reference}")  # warm the template cache
        bare, _ = timed(get(officer, "/healthz"), args.repeat * 4)
        small, _ = timed(get(officer, "/states/"), args.repeat)
        chart, response = timed(get(officer, f"/structures/{reference}"), args.repeat)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and html.count('class="box"') == args.units, "the chart is incomplete"
        compare, response = timed(get(officer, "/structures/compare/KG"), args.repeat)
        assert "Unit moved: Directorate 100" in response.get_data(as_text=True)
        overview, _ = timed(get(reviewer, "/structures/overview"), args.repeat)
        third = open_disclosure(2029)  # a draft copy of the accepted 2028 disclosure, for the editing pages
        edit, response = timed(get(officer, f"/structures/{third}/edit"), args.repeat)
        assert response.get_data(as_text=True).count(f"/structures/{third}/units/") >= args.units
        unit_page, response = timed(get(officer, f"/structures/{third}/units/U10"), args.repeat)
        assert response.status_code == 200

        backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"backend: {backend}; {args.units} units, {args.units} posts, {args.units} holders; "
              f"CSV {len(content) / 1024:.0f} KiB; median of {args.repeat} runs")
        print(f"{'what':44} {'seconds':>9} {'x bare':>9} {'x small page':>13}")
        for label, seconds in [
            ("bare page (/healthz), baseline", bare),
            ("small database page (/states/)", small),
            ("import through the upload page (once)", import_seconds),
            (f"chart page, {args.units} units", chart),
            ("comparison page, 2 x 2,000 units", compare),
            ("Secretariat side-by-side (1 state filed)", overview),
            (f"edit page of a draft (tree of {args.units} links)", edit),
            ("unit page (its forms, selects of every unit)", unit_page),
        ]:
            print(f"{label:44} {seconds:9.3f} {seconds / bare:9.0f} {seconds / small:13.1f}")
        print(f"chart page HTML: {len(html) / 1024:.0f} KiB")
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
