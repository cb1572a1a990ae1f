"""Markdown tables of one or more bench/suite.py result files, for docs/benchmarks.md, and a comparison of runs.

    .venv/bin/python bench/report.py bench/results/suite-<time>.json [more files]
    .venv/bin/python bench/report.py --compare bench/results/suite-<before>.json bench/results/suite-<after>.json
"""

import argparse
import json
import sys
from pathlib import Path

TARGET_PAGES = {"list", "detail_own", "detail_other"}
LABELS = {
    "list": "list, first page", "list_state_date": "list, one state, three months", "list_search": "list, text search",
    "list_deep": "list, a page in the middle (keyset)", "detail_own": "record page, own state",
    "detail_other": "record page, another state", "year": "year view (every exercise of 2015)",
    "home": "home (`/`, before the dashboards: the states list)", "dashboard": "dashboard (`/`, the officer's)",
    "states": "member states list", "bare": "bare page `/healthz` (baseline)",
}


def load(paths: list[str]) -> list[dict]:
    return [json.loads(Path(p).read_text(encoding="utf-8")) for p in paths]


def pages_table(report: dict, entry: dict, smallest: dict | None) -> list[str]:
    lines = ["| page | p50 ms | p95 ms | p50 x bare | p95 x smallest size | SQL statements | rows shown |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, page in entry["pages"].items():
        if name.startswith("_"):
            continue
        growth = ""
        if smallest and name in smallest.get("pages", {}):
            growth = f"{page['p95_ms'] / smallest['pages'][name]['p95_ms']:.2f}"
        bold = "**" if name in TARGET_PAGES else ""
        lines.append(f"| {LABELS.get(name, name)} | {page['p50_ms']:.1f} | {bold}{page['p95_ms']:.1f}{bold} | "
                     f"{page['x_bare_p50']:.1f} | {growth} | {page['statements']} | {page['rows_shown']} |")
    return lines


def render(results: dict) -> list[str]:
    machine = results["machine"]
    out = [f"Run {results['started']}, registry at {machine['registry_commit']}: Python {machine['python']}, "
           f"Flask {machine['flask']}, SQLAlchemy {machine['sqlalchemy']}, SQLite {machine['sqlite']}, "
           f"{machine['psql']}, {machine['gunicorn']}, {machine['wrk']}; {machine['cpus']} CPUs, load average "
           f"{machine['load_average_start'][0]:.1f} at the start and "
           + (f"{results['load_average_end'][0]:.1f} at the end" if "load_average_end" in results
              else "the run stopped before its end (its figures so far are kept)")
           + f" ({machine['shared']})."]
    for report in results["backends"]:
        smallest = report["sizes"][0] if report["sizes"] else None
        for entry in report["sizes"]:
            out += ["", f"#### {report.get('server', report['backend'])}, {entry['size']:,} notifications "
                        f"({entry['records'].get('visit', 0):,} visits, {entry['records'].get('structure', 0)} "
                        f"structure disclosures; generated in {entry['generate_seconds']:.0f} s)", ""]
            if "pages" in entry:
                out += pages_table(report, entry, smallest)
            if "throughput" in entry and "list" in entry["throughput"]:
                t = entry["throughput"]
                rounds = "; ".join(" / ".join(f"{r[n]['requests_per_second']:.0f}" for n in ("hello", "list",
                                                                                              "list_rendered"))
                                   for r in t.get("rounds", []))
                out += ["", f"Throughput under gunicorn (2 workers, wrk, {t['connections']} connections, "
                            f"{t['seconds']} s each, best of {len(t.get('rounds', [])) or 1} rounds): bare Flask hello "
                            f"{t['hello']['requests_per_second']:.0f}/s; logged-in list "
                            f"{t['list']['requests_per_second']:.1f}/s (p50 latency {t['list']['latency_p50']}, "
                            f"{t['list']['non_2xx']} non-2xx): **{t['list_share_of_hello']:.1%}** of hello "
                            "(target >= 25%)" + (
                                f"; with every request rendered (page cache off) "
                                f"{t['list_rendered']['requests_per_second']:.1f}/s, "
                                f"{t['list_rendered_share_of_hello']:.1%} of hello" if "list_rendered" in t else "")
                            + (f". Rounds (hello / list / list rendered, requests/s): {rounds}." if rounds else ".")]
            if "writes" in entry:
                w = entry["writes"]
                out += ["", f"Filings (create + submit, each committed) by {w['writers']} writer processes, "
                            f"{w['per_writer']} each: **{w['filings_per_second']:.1f}/s** ({w['filed']} filed in "
                            f"{w['seconds']:.1f} s), **{w['locked']}** 'database is locked', {w['failed']} other "
                            "failures" + (f"; one writer alone, same run: {w['one_writer']['filings_per_second']:.1f}/s"
                                          if "one_writer" in w else "") + "."]
        if "audit" in report:
            a = report["audit"]
            out += ["", f"Audit verification ({report.get('server', report['backend'])}, {a['entries']:,} entries): "
                        f"`verify_database()` **{a['verify_database_per_second']:,.0f}/s**; the chain in memory "
                        f"(`verify_rows`) {a['verify_rows_per_second']:,.0f}/s"
                        + (f" (before the fast canonical form, same run: {a['verify_rows_before_per_second']:,.0f}/s)"
                           if "verify_rows_before_per_second" in a else "") + "; tools/verify_audit.py "
                        f"{a['tool_verify_per_second']:,.0f}/s (+ {a['tool_parse_seconds']:.1f} s to parse the file); "
                        f"SHA-256 of the same payloads alone {a['sha256_only_per_second']:,.0f}/s."]
    return out


def compare(before: dict, after: dict) -> list[str]:
    lines = ["| backend | size | page | p95 before ms | p95 after ms | after / before |",
             "|---|---:|---|---:|---:|---:|"]
    old = {(r["backend"], e["size"], n): p for r in before["backends"] for e in r["sizes"]
           for n, p in e.get("pages", {}).items() if not n.startswith("_")}
    for report in after["backends"]:
        for entry in report["sizes"]:
            for name, page in entry.get("pages", {}).items():
                key = (report["backend"], entry["size"], name)
                if key in old:
                    lines.append(f"| {key[0]} | {key[1]:,} | {name} | {old[key]['p95_ms']:.1f} | "
                                 f"{page['p95_ms']:.1f} | {page['p95_ms'] / old[key]['p95_ms']:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--compare", action="store_true", help="two files: p95 of each page, before and after")
    parser.add_argument("--plans", action="store_true", help="also print the list queries' plans")
    args = parser.parse_args()
    runs = load(args.files)
    if args.compare:
        print("\n".join(compare(runs[0], runs[1])))
        return
    for results in runs:
        print("\n".join(render(results)))
        if args.plans:
            for report in results["backends"]:
                for entry in report["sizes"]:
                    for name, page in entry.get("pages", {}).items():
                        if "plan" in page:
                            print(f"\n{report['backend']} {entry['size']:,} {name} {page['path']}\n    "
                                  + "\n    ".join(page["plan"]))


if __name__ == "__main__":
    sys.exit(main())
