"""The benchmark suite (`make bench`): how the registry's cost grows with its data, against baselines measured in
the same run on the same machine. Never part of the test suite: no timing is asserted anywhere.

    .venv/bin/python bench/suite.py                              # SQLite and PostgreSQL, 10k, 100k and 1M
    .venv/bin/python bench/suite.py --quick                      # 10k only, fewer samples, short wrk runs
    .venv/bin/python bench/suite.py --backend sqlite --sizes 10000,100000
    .venv/bin/python bench/suite.py --skip exports,throughput    # leave parts out

For each backend one database grows size by size (bench/data.py: notifications of ten member states over 26 years,
visits, structure disclosures); at each size the read pages are timed in-process (bench/pages.py: p50/p95 with the
SQL statement count and the list queries' plans), the logged-in list is loaded under gunicorn against a bare
Flask "hello" (bench/throughput.py, wrk), and 8 writers file notifications through the full service path
(bench/writes.py). The audit chain's verification is measured once per backend (bench/audit.py), and the exports
by bench/exports.py, unchanged, in its own process. Figures: bench/results/suite-<UTC time>.json, and a table per
size and backend printed at the end (copied into docs/benchmarks.md by hand).
"""

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

PARTS = ("pages", "throughput", "writes", "audit", "exports")


def postgres_available() -> bool:
    import data

    done = subprocess.run([sys.executable, str(ROOT / "tests" / "postgres_available.py"),  # noqa: S603
                           data.POSTGRES_ADMIN_URL.rstrip("/") + "/postgres"], capture_output=True, check=False)
    return done.returncode == 0


def machine() -> dict:
    def version(*command: str) -> str:
        if not shutil.which(command[0]):
            return ""
        done = subprocess.run(list(command), capture_output=True, text=True, check=False)  # noqa: S603
        return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr) else ""

    from importlib.metadata import version as package_version

    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S603, S607
                            capture_output=True, text=True, check=False).stdout.strip()
    return {"registry_commit": commit, "python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "load_average_start": os.getloadavg(), "flask": package_version("flask"),
            "sqlalchemy": package_version("sqlalchemy"), "sqlite": __import__("sqlite3").sqlite_version,
            "psql": version("psql", "--version"), "wrk": version("wrk", "-v"),
            "gunicorn": version(str(Path(sys.executable).with_name("gunicorn")), "--version"),
            "shared": "the load averages at the start and the end say how busy the machine was; where it is shared, "
                      "absolute times are noisy: compare the ratios taken within one run"}


def run_backend(backend: str, sizes: list[int], parts: set[str], quick: bool, report: dict, save) -> None:
    import audit
    import data
    import pages
    import throughput
    import writes

    with tempfile.TemporaryDirectory() as tmp:
        bench = data.create(backend, tmp)
        try:
            with bench.app.app_context():
                from sqlalchemy import text

                from registry.db import db
                report["server"] = (db.session.scalar(text("SHOW server_version")) if backend == "postgresql"
                                    else "SQLite " + db.session.scalar(text("SELECT sqlite_version()")))
                db.session.remove()
            for size in sizes:
                entry = {"size": size, "generate_seconds": data.grow(bench, size), "records": data.counts(bench)}
                report["sizes"].append(entry)
                print(f"[{backend}] {size:,} notifications generated in {entry['generate_seconds']:.1f} s "
                      f"{entry['records']}", flush=True)
                if "pages" in parts:
                    entry["pages"] = pages.measure(bench, size, repeat=10 if quick else 40)
                    for name, page in entry["pages"].items():
                        if not name.startswith("_"):
                            print(f"[{backend}] {size:>9,} {name:16} p50 {page['p50_ms']:7.1f} ms  p95 "
                                  f"{page['p95_ms']:7.1f} ms  {page['statements']:3} SQL  "
                                  f"{page['rows_shown']:5} rows", flush=True)
                    save()
                if "throughput" in parts:
                    entry["throughput"] = throughput.measure(bench, seconds=5 if quick else 10,
                                                             rounds=2 if quick else 3)
                    if "list" in entry["throughput"]:
                        print(f"[{backend}] {size:>9,} list under gunicorn "
                              f"{entry['throughput']['list']['requests_per_second']:.0f}/s, hello "
                              f"{entry['throughput']['hello']['requests_per_second']:.0f}/s: "
                              f"{entry['throughput']['list_share_of_hello']:.1%}", flush=True)
                    save()
                if "writes" in parts:
                    entry["writes"] = writes.measure(bench, per_writer=10 if quick else 25)
                    # The baseline: one writer alone, in the same run (what the 8 share).
                    entry["writes"]["one_writer"] = writes.measure(bench, per_writer=10 if quick else 25, writers=1)
                    print(f"[{backend}] {size:>9,} filings {entry['writes']['filings_per_second']:.1f}/s with 8 "
                          f"writers, {entry['writes']['locked']} 'database is locked', "
                          f"{entry['writes']['failed']} other failures; one writer alone "
                          f"{entry['writes']['one_writer']['filings_per_second']:.1f}/s", flush=True)
                    save()
        finally:
            data.close(bench)
    if "audit" in parts:
        with tempfile.TemporaryDirectory() as tmp:
            bench = data.create(backend, tmp, label="bench_audit")
            try:
                report["audit"] = audit.measure(bench.app, 20_000 if quick else 200_000)
                a = report["audit"]
                print(f"[{backend}] audit: verify_database {a['verify_database_per_second']:,.0f}/s "
                      f"({a['verify_database_of_sha256']:.3f} of SHA-256; through the ORM as before "
                      f"{a['verify_database_orm_per_second']:,.0f}/s, {a['verify_database_orm_of_sha256']:.3f}), "
                      f"in memory {a['verify_rows_per_second']:,.0f}/s, tools/verify_audit.py "
                      f"{a['tool_verify_per_second']:,.0f}/s (SHA-256 alone "
                      f"{a['sha256_only_per_second']:,.0f}/s)", flush=True)
            finally:
                data.close(bench)
        save()


def run_exports(backend: str, sizes: list[int], stamp: str) -> dict:
    """bench/exports.py as it is, in its own process, its figures in its own JSON file next to ours."""
    target = HERE / "results" / f"suite-{stamp}-exports-{{backend}}.json"
    command = [sys.executable, str(HERE / "exports.py"), "--backend", backend, "--sizes",
               ",".join(str(s) for s in sizes), "--xlsx-rows", "0", "--results", str(target)]
    print("== " + " ".join(command[1:]), flush=True)
    done = subprocess.run(command, check=False)  # noqa: S603 - our own script
    return {"returncode": done.returncode, "results": str(target.relative_to(ROOT)).format(backend=backend)}


def summary(results: dict) -> list[str]:
    lines = []
    for report in results["backends"]:
        for entry in report["sizes"]:
            lines.append(f"\n{report['backend']} ({report.get('server', '')}), {entry['size']:,} notifications")
            first = report["sizes"][0].get("pages", {})
            for name, page in entry.get("pages", {}).items():
                if name.startswith("_"):
                    continue
                growth = page["p95_ms"] / first[name]["p95_ms"] if name in first else 0
                lines.append(f"  {name:16} p50 {page['p50_ms']:7.1f}  p95 {page['p95_ms']:7.1f} ms  "
                             f"x bare {page['x_bare_p50']:6.1f}  p95 x smallest size {growth:4.2f}  "
                             f"SQL {page['statements']}")
            if "throughput" in entry and "list" in entry["throughput"]:
                t = entry["throughput"]
                lines.append(f"  throughput (best of {len(t['rounds'])} rounds): list "
                             f"{t['list']['requests_per_second']:.0f}/s, hello "
                             f"{t['hello']['requests_per_second']:.0f}/s: {t['list_share_of_hello']:.1%} "
                             "(target >= 25%)"
                             + (f"; page cache off {t['list_rendered']['requests_per_second']:.0f}/s "
                                f"{t['list_rendered_share_of_hello']:.1%}" if "list_rendered" in t else ""))
            if "writes" in entry:
                w = entry["writes"]
                lines.append(f"  writes: {w['filings_per_second']:.1f} filings/s, 8 writers, {w['locked']} locked, "
                             f"{w['failed']} failed (target >= 200/s on SQLite, 0 locked)")
        if "audit" in report:
            a = report["audit"]
            lines.append(f"  audit: {a['entries']:,} entries, verify_database "
                         f"{a['verify_database_per_second']:,.0f}/s ({a.get('verify_database_handed_to_orm', 0)} "
                         f"handed to the ORM; before: {a.get('verify_database_orm_per_second', 0):,.0f}/s), "
                         f"in memory {a['verify_rows_per_second']:,.0f}/s, tool {a['tool_verify_per_second']:,.0f}/s "
                         f"(target >= 100,000/s)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="notification counts, comma-separated")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both", "auto"), default="auto",
                        help="auto: both when PostgreSQL answers, else SQLite")
    parser.add_argument("--quick", action="store_true", help="10k only, fewer samples, short runs")
    parser.add_argument("--skip", default="", help=f"parts left out, comma-separated: {','.join(PARTS)}")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # temporary databases are still dropped
    sizes = [10_000] if args.quick else sorted({int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()})
    parts = set(PARTS) - {p.strip() for p in args.skip.split(",") if p.strip()}
    backends = {"sqlite": ["sqlite"], "postgresql": ["postgresql"], "both": ["sqlite", "postgresql"],
                "auto": ["sqlite", "postgresql"] if postgres_available() else ["sqlite"]}[args.backend]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = HERE / "results" / f"suite-{stamp}.json"
    results = {"started": stamp, "sizes": sizes, "parts": sorted(parts), "quick": args.quick, "machine": machine(),
               "backends": []}

    def save() -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")

    for backend in backends:
        report = {"backend": backend, "sizes": []}
        results["backends"].append(report)
        run_backend(backend, sizes, parts, args.quick, report, save)
        if "exports" in parts:
            report["exports"] = run_exports(backend, sizes, stamp)
        save()
    results["load_average_end"] = os.getloadavg()
    save()
    print("\n".join(summary(results)))
    print(f"\nfigures written to {target.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
