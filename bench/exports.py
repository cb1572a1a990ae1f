"""Benchmark (not a test): the auditor's CSV export of exercise notifications at 10 thousand, 100 thousand and a
million rows, against the database's own CSV dump of the same rows and columns in the same run; the peak memory
of the exporting process; and an XLSX export of the largest size.

    .venv/bin/python bench/exports.py                          # SQLite and PostgreSQL, 10k, 100k and 1M rows
    .venv/bin/python bench/exports.py --backend sqlite --sizes 10000,100000
    .venv/bin/python bench/exports.py --xlsx-rows 0            # no XLSX export
    .venv/bin/python bench/exports.py --profile 10000          # also a cProfile of one CSV export of 10k rows
    .venv/bin/python bench/exports.py --repeat 5               # dump and export 5 times each, in turns
    REGISTRY_BENCH_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ .venv/bin/python bench/exports.py

SQLite runs in a temporary file; PostgreSQL in a database created for the run and dropped after it (the server at
REGISTRY_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/). The notifications are
written with SQLAlchemy Core bulk inserts (submissions, revisions, exercise_details), growing one database from
size to size: accepted, version 1, one member state per row cycling over the ten members.

Each export runs in a fresh Python process (`--child`) through the registry's own path,
`registry.services.exports.prepare(auditor, "exercises", fmt, MultiDict())` then `exports.write(...)` into a
file, and reports its time, the SQL statements it sent, and its peak resident memory (`ru_maxrss`) before and
after the export. The database's dump is `sqlite3 -csv -header` or `psql -c "\\copy (...) TO ... CSV HEADER"`
of the same columns in the same order (the auditor's default sort). Results go to bench/results/exports-<backend>.json
and are noted in docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select, text  # noqa: E402

from registry import create_app, migrate  # noqa: E402
from registry.db import db  # noqa: E402
from registry.enums import ExerciseType  # noqa: E402
from registry.models import ExerciseDetails, MemberState, Revision, Submission, User  # noqa: E402
from registry.models.exercise import FORCE_COLUMNS  # noqa: E402

PASSWORD = "benchmark password 2026"  # noqa: S105 - a throw-away database
ADMIN_URL = os.environ.get("REGISTRY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
AUDITOR = "auditor@bench.example.org"
CHUNK = 10_000
SQLITE3, PSQL = shutil.which("sqlite3") or "sqlite3", shutil.which("psql") or "psql"
RESULTS = ROOT / "bench" / "results" / "exports-{backend}.json"

# The auditor's export, column for column (registry.exports.datasets.EXERCISE_COLUMNS), in its default order
# (start date descending, missing first, then the newest submission): what the database dumps.
DUMP_SQL = (
    "SELECT s.reference, m.code AS state, s.status, r.number AS version, s.visibility, d.designation_ru, "
    "d.designation_zh, d.designation_en, d.exercise_type, d.start_date, d.end_date, d.within_border_zone, "
    "d.border_segment, d.latitude, d.longitude, "
    + "".join(f"d.{c}, " for c in FORCE_COLUMNS)
    + "d.observers_invited, d.observer_places_per_state, d.is_alert, d.lead_time_days, d.mandatory_notification, "
    "d.observers_required, s.is_late, s.submitted_at, s.decided_at "
    "FROM submissions s JOIN revisions r ON r.submission_id = s.id AND r.number = s.current_revision_no "
    "JOIN exercise_details d ON d.revision_id = r.id JOIN member_states m ON m.id = s.state_id "
    "WHERE s.status != 'deleted' AND s.record_type = 'exercise' "
    "ORDER BY d.start_date DESC NULLS FIRST, s.id DESC"
)


def app_config(url: str, tmp: str) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
            "AUDIT_SIGNING_KEY_FILE": f"{tmp}/audit-signing.pem", "AUDIT_CHECKPOINT_LOG": f"{tmp}/checkpoints.log",
            "EXPORT_DIR": f"{tmp}/exports", "OUTBOX_PUMP_SECONDS": 0, "EXPORT_WORKER_SECONDS": 0}


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


# --- the exporting process -------------------------------------------------------------------------------


def child(url: str, tmp: str, fmt: str, out: str, profile: str | None) -> None:
    """One export through the registry's own path, in this fresh process; prints its figures as JSON."""
    from sqlalchemy import event
    from werkzeug.datastructures import MultiDict

    from registry.services import exports

    if fmt == "xlsx":
        import openpyxl  # noqa: F401 - imported before the baseline, like a worker that has exported before

    app = create_app(app_config(url, tmp))
    with app.app_context():
        auditor = db.session.scalar(select(User).where(User.email == AUDITOR))
        statements = [0]
        event.listen(db.engine, "before_cursor_execute", lambda *a: statements.__setitem__(0, statements[0] + 1))
        before = maxrss_mib()
        profiler = None
        if profile:
            import cProfile

            profiler = cProfile.Profile()
            profiler.enable()
        start = time.perf_counter()
        with open(out, "w+b") as target:
            prepared = exports.prepare(auditor, "exercises", fmt, MultiDict())
            result = exports.write(auditor, "exercises", fmt, prepared, target)
        seconds = time.perf_counter() - start
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        db.session.rollback()  # the export's audit entry is not kept: the next size starts from the same log
        db.engine.dispose()
    print(json.dumps({"seconds": seconds, "rows": result.rows, "bytes": result.size, "statements": statements[0],
                      "maxrss_before_mib": before, "maxrss_peak_mib": maxrss_mib()}))


def run_export(url: str, tmp: str, fmt: str, profile: str | None = None) -> dict:
    out = f"{tmp}/export.{fmt}"
    command = [sys.executable, __file__, "--child", url, tmp, fmt, out] + ([profile] if profile else [])
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - this script
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"the {fmt} export failed:\n{done.stderr[-4000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["process_seconds"] = wall
    os.unlink(out)
    return figures


# --- the database's own dump -----------------------------------------------------------------------------


def count_lines(path: str) -> int:
    lines = 0
    with open(path, "rb") as source:
        for block in iter(lambda: source.read(1 << 20), b""):
            lines += block.count(b"\n")
    return lines


def run_dump(url: str, tmp: str) -> dict:
    out = f"{tmp}/dump.csv"
    if url.startswith("sqlite"):
        command = [SQLITE3, "-csv", "-header", url.removeprefix("sqlite:///"), DUMP_SQL]
    else:
        plain = url.replace("postgresql+psycopg://", "postgresql://")
        command = [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", plain, "-c",
                   f"\\copy ({DUMP_SQL}) TO '{out}' CSV HEADER"]
    start = time.perf_counter()
    if url.startswith("sqlite"):
        with open(out, "wb") as target:
            subprocess.run(command, stdout=target, check=True)  # noqa: S603 - our own SQL
    else:
        subprocess.run(command, check=True)  # noqa: S603 - our own SQL
    seconds = time.perf_counter() - start
    figures = {"seconds": seconds, "rows": count_lines(out) - 1, "bytes": os.path.getsize(out)}
    os.unlink(out)
    return figures


# --- the data --------------------------------------------------------------------------------------------


def grow(first: int, last: int, state_ids: list[int], user_id: int) -> float:
    """Exercise notifications first..last (ids and reference numbers), accepted at version 1; seconds taken."""
    types = [t.value for t in ExerciseType]
    visibilities = ["members", "members", "public", "secretariat"]
    start = time.perf_counter()
    with db.engine.begin() as conn:
        for low in range(first, last + 1, CHUNK):
            submissions, revisions, details = [], [], []
            for n in range(low, min(low + CHUNK, last + 1)):
                begins = date(2010, 1, 1) + timedelta(days=n % 6000)
                filed = datetime(begins.year, begins.month, begins.day, 9, 30, tzinfo=UTC) - timedelta(days=45)
                decided = filed + timedelta(days=3, hours=n % 24)
                submissions.append({
                    "id": n, "record_type": "exercise", "reference": f"EXN-{begins.year}-{n:07d}",
                    "state_id": state_ids[n % len(state_ids)], "status": "accepted",
                    "visibility": visibilities[n % 4], "is_nil": False, "is_late": n % 17 == 0,
                    "entered_on_behalf": False, "original_language": ("ru", "zh", "en")[n % 3],
                    "created_by_id": user_id, "created_at": filed - timedelta(days=2), "submitted_by_id": user_id,
                    "submitted_at": filed, "decided_by_id": user_id, "decided_at": decided,
                    "current_revision_no": 1, "accepted_revision_no": 1, "lock_version": 3,
                })
                revisions.append({"id": n, "submission_id": n, "number": 1, "created_at": filed - timedelta(days=2),
                                  "language": "ru", "frozen_at": filed, "snapshot": {"reference": n},
                                  "findings": [], "submitted_by_id": user_id})
                troops = 500 + (n * 37) % 20_000
                row = {
                    "id": n, "revision_id": n, "designation_ru": f"Учение «Мирная миссия-{n}»",
                    "designation_zh": f"和平使命-{n}联合演习", "designation_en": f"Peace Mission-{n}, joint exercise",
                    "exercise_type": types[n % len(types)], "purpose": "Counter-terrorism cooperation",
                    "command_level": "Joint staff", "headquarters": "Headquarters", "start_date": begins,
                    "end_date": begins + timedelta(days=n % 12), "area_description": "Training area",
                    "latitude": round(38 + (n % 1500) / 100, 4), "longitude": round(60 + (n % 3500) / 100, 4),
                    "within_border_zone": n % 5 == 0, "border_segment": "Segment 3" if n % 5 == 0 else "",
                    "observers_invited": n % 3 == 0, "observer_programme": "",
                    "observer_places_per_state": 2 if n % 3 == 0 else None, "observer_arrival_point": "",
                    "not_forecast_reason": "", "is_alert": n % 50 == 0, "alert_justification": "",
                    "late_explanation": "", "lead_time_days": 45, "mandatory_notification": troops >= 9000,
                    "observers_required": troops >= 13000,
                }
                row.update({c: None for c in FORCE_COLUMNS})
                row.update({"troops_total": troops, "troops_ground": troops // 2, "troops_air": troops // 4,
                            "battle_tanks": n % 300, "artillery": n % 200, "combat_aircraft": n % 40})
                if n % 101 == 0:  # a few texts a spreadsheet would run as a formula: neutralised on export
                    row["border_segment"] = "=HYPERLINK(\"http://example.org\")"
                details.append(row)
            conn.execute(insert(Submission.__table__), submissions)
            conn.execute(insert(Revision.__table__), revisions)
            conn.execute(insert(ExerciseDetails.__table__), details)
        if conn.dialect.name == "postgresql":
            for table in ("submissions", "revisions", "exercise_details"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {last})"))
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as conn:
            conn.execute(text("ANALYZE"))
    return time.perf_counter() - start


# --- one backend -----------------------------------------------------------------------------------------


def best_of(repeat: int, dump, export) -> tuple[dict, dict]:
    """The dump and the export taken in turns `repeat` times; each one's fastest run (the machine is shared, so
    the slower runs measure the neighbours), with every time kept and the highest peak memory reported."""
    dumps, exports_ = [], []
    for _ in range(repeat):
        dumps.append(dump())
        exports_.append(export())
    best_dump, best_export = min(dumps, key=lambda f: f["seconds"]), min(exports_, key=lambda f: f["seconds"])
    best_dump = {**best_dump, "all_seconds": [f["seconds"] for f in dumps]}
    best_export = {**best_export, "all_seconds": [f["seconds"] for f in exports_],
                   "maxrss_peak_mib": max(f["maxrss_peak_mib"] for f in exports_)}
    return best_dump, best_export


def bench_backend(backend: str, sizes: list[int], xlsx_rows: int, profile_rows: int, tmp: str, report: dict,
                  save, xlsx_only: bool = False, repeat: int = 3) -> dict:
    """Grow one database size by size, measuring at each; `save()` keeps the figures so far."""
    from registry.services import states as state_service
    from registry.services import users as user_service
    from registry.services.actors import CLI

    created = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.sqlite3"
    else:
        import psycopg

        name = f"bench_exports_{uuid.uuid4().hex[:10]}"
        admin = ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created = (admin, name)
        url = ADMIN_URL.rstrip("/").rsplit("/", 1)[0] + "/" + name if ADMIN_URL.rstrip("/").count("/") > 2 \
            else ADMIN_URL.rstrip("/") + "/" + name
    report.update({"backend": backend, "sizes": []})
    try:
        migrate.upgrade(url)
        app = create_app(app_config(url, tmp))
        with app.app_context():
            state_service.load_state_seeds()
            user_service.create_user(CLI, email=AUDITOR, display_name="Auditor", role="auditor", password=PASSWORD,
                                     temporary_password=False)
            secretariat = user_service.create_user(CLI, email="secretariat@bench.example.org",
                                                   display_name="Secretariat", role="secretariat", password=PASSWORD,
                                                   temporary_password=False)
            db.session.commit()
            secretariat_id = secretariat.id
            members = list(db.session.scalars(select(MemberState.id).order_by(MemberState.code)))[:10]
            if backend == "postgresql":
                report["server"] = db.session.scalar(text("SHOW server_version"))
            else:
                report["server"] = "SQLite " + db.session.scalar(text("SELECT sqlite_version()"))
            db.session.remove()
            have = 0
            for size in sorted(sizes):
                generated = grow(have + 1, size, members, secretariat_id)
                have = size
                print(f"[{backend}] {size:>9,} rows generated in {generated:.1f} s", flush=True)
                if xlsx_only:
                    if size == xlsx_rows:
                        entry = {"rows": size, "generate_seconds": generated, "xlsx": run_export(url, tmp, "xlsx")}
                        print(f"[{backend}] {size:>9,} rows: XLSX {entry['xlsx']['seconds']:.1f} s, "
                              f"{entry['xlsx']['bytes'] / 2**20:.1f} MiB", flush=True)
                        report["sizes"].append(entry)
                        save()
                    continue
                dump, csv_export = best_of(repeat, lambda: run_dump(url, tmp), lambda: run_export(url, tmp, "csv"))
                assert csv_export["rows"] == dump["rows"] == size, (csv_export["rows"], dump["rows"], size)
                entry = {"rows": size, "generate_seconds": generated, "dump": dump, "csv": csv_export,
                         "registry_rows_per_second": size / csv_export["seconds"],
                         "dump_rows_per_second": size / dump["seconds"],
                         "ratio": dump["seconds"] / csv_export["seconds"]}
                print(f"[{backend}] {size:>9,} rows: dump {dump['seconds']:.2f} s, registry CSV "
                      f"{csv_export['seconds']:.2f} s ({csv_export['statements']:,} SQL statements), ratio "
                      f"{entry['ratio']:.2f}, peak RSS {csv_export['maxrss_peak_mib']:.0f} MiB", flush=True)
                if size == profile_rows:
                    stats = f"{tmp}/profile-{backend}-{size}.prof"
                    run_export(url, tmp, "csv", profile=stats)
                    entry["profile"] = top_functions(stats)
                    print("\n".join(entry["profile"]), flush=True)
                if size == xlsx_rows:
                    entry["xlsx"] = run_export(url, tmp, "xlsx")
                    print(f"[{backend}] {size:>9,} rows: XLSX {entry['xlsx']['seconds']:.1f} s, "
                          f"{entry['xlsx']['bytes'] / 2**20:.1f} MiB, peak RSS "
                          f"{entry['xlsx']['maxrss_peak_mib']:.0f} MiB", flush=True)
                report["sizes"].append(entry)
                save()
            db.engine.dispose()
    finally:
        if created:
            import psycopg

            with psycopg.connect(created[0], autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{created[1]}" WITH (FORCE)')
    if not xlsx_only:
        smallest, largest = report["sizes"][0], report["sizes"][-1]
        report["memory_growth_mib"] = largest["csv"]["maxrss_peak_mib"] - smallest["csv"]["maxrss_peak_mib"]
    return report


def top_functions(stats_path: str, limit: int = 15) -> list[str]:
    import io
    import pstats

    buffer = io.StringIO()
    pstats.Stats(stats_path, stream=buffer).strip_dirs().sort_stats("tottime").print_stats(limit)
    lines = [line.rstrip() for line in buffer.getvalue().splitlines()]
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return [line for line in lines[start:] if line.strip()]


def machine() -> dict:
    def version(tool: str) -> str:
        return subprocess.run([tool, "--version"], capture_output=True, text=True).stdout.strip()  # noqa: S603

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S603, S607
                            capture_output=True, text=True).stdout.strip()
    return {"registry_commit": commit or os.environ.get("BENCH_COMMIT", ""), "python": platform.python_version(),
            "platform": platform.platform(), "cpus": os.cpu_count(),
            "load_average": os.getloadavg(), "sqlite3_cli": version(SQLITE3).split(" ")[0], "psql": version(PSQL)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:6], sys.argv[6] if len(sys.argv) > 6 else None)
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="row counts, comma-separated")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--xlsx-rows", type=int, default=None, help="size exported as XLSX too (default: the "
                        "largest; 0: none)")
    parser.add_argument("--xlsx-only", action="store_true", help="only the XLSX export (no dump, no CSV)")
    parser.add_argument("--repeat", type=int, default=3, help="dump and export taken in turns this many times "
                        "at each size; the fastest of each is compared")
    parser.add_argument("--profile", type=int, default=0, help="profile the CSV export at this size")
    parser.add_argument("--results", default=str(RESULTS), help="JSON file for the figures, {backend} "
                        "replaced by the --backend choice ('' for none)")
    args = parser.parse_args()
    # Stopped with `kill`: still drop the PostgreSQL database and remove the temporary files.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    sizes = sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    xlsx_rows = sizes[-1] if args.xlsx_rows is None else args.xlsx_rows
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]

    results = {"started": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
               "memory": "peak resident set (ru_maxrss) of a fresh process per export", "backends": []}
    target = Path(args.results.format(backend=args.backend)) if args.results else None

    def save() -> None:
        if target:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")

    for backend in backends:
        results["backends"].append({})
        with tempfile.TemporaryDirectory() as tmp:
            bench_backend(backend, sizes, xlsx_rows, args.profile, tmp, results["backends"][-1], save,
                          args.xlsx_only, args.repeat)
    results["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["load_average_end"] = os.getloadavg()

    print(f"\n{'backend':10} {'rows':>9} {'dump s':>8} {'registry s':>10} {'rows/s':>9} {'dump rows/s':>11} "
          f"{'ratio':>6} {'peak MiB':>8}")
    for report in results["backends"]:
        if args.xlsx_only:
            continue
        for entry in report["sizes"]:
            print(f"{report['backend']:10} {entry['rows']:>9,} {entry['dump']['seconds']:>8.2f} "
                  f"{entry['csv']['seconds']:>10.2f} {entry['registry_rows_per_second']:>9,.0f} "
                  f"{entry['dump_rows_per_second']:>11,.0f} {entry['ratio']:>6.2f} "
                  f"{entry['csv']['maxrss_peak_mib']:>8.0f}")
        print(f"{report['backend']:10} peak memory growth {report['sizes'][0]['rows']:,} -> "
              f"{report['sizes'][-1]['rows']:,} rows: {report['memory_growth_mib']:+.0f} MiB "
              f"(target < 50 MB); CSV ratio target >= 0.5")
    save()
    if target:
        print(f"figures written to {target}")


if __name__ == "__main__":
    main()
