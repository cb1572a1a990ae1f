"""Filing throughput (part of bench/suite.py): notifications filed per second by 8 concurrent writers.

Each writer is its own process (as gunicorn workers are), with its own application and connection pool, acting as
the liaison officer of one member state. A filing is what "Save and submit" does: `exercises.create_exercise`
(validation, reference number, audit entry) then `submissions.submit` (the rules, the frozen snapshot, the
timeline event, the audit entry, the Secretariat's notification in the outbox), each committed as the route does. Every
"database is locked" (SQLite) or other failure is counted, not retried.
"""

import multiprocessing
import sys
import time
import traceback
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

WRITERS = 8


def _input(n: int):
    from registry.services.exercises import ExerciseInput

    start = date(2031, 1, 1) + timedelta(days=n % 300)
    return ExerciseInput(values={
        "designation_ru": f"Учение «Степь-{n}»", "designation_en": f"Steppe-{n}", "exercise_type": "command_post",
        "purpose": "Command and control of a joint group", "start_date": start, "end_date": start + timedelta(days=4),
        "troops_total": 1500 + n % 500, "troops_ground": 1000, "area_description": "Training ground 12",
        "latitude": "43.2", "longitude": "76.9", "not_forecast_reason": "Planned after the calendar exchange",
    })


def _writer(url: str, tmp: str, email: str, count: int, barrier, results) -> None:
    import data
    from sqlalchemy import select
    from sqlalchemy.exc import OperationalError

    from registry import create_app
    from registry.db import db
    from registry.models import User
    from registry.services import exercises
    from registry.services import submissions as workflow

    app = create_app(data.app_config(url, tmp))
    done, locked, failed, first_error = 0, 0, 0, ""
    with app.app_context():
        officer = db.session.scalar(select(User).where(User.email == email))
        state = officer.state
        db.session.commit()
        barrier.wait(timeout=300)
        start = time.perf_counter()
        for n in range(count):
            try:
                # As the "Save and submit" button: the draft is saved (committed), then submitted (committed).
                submission = exercises.create_exercise(officer, state, _input(n), visibility="members")
                db.session.commit()
                workflow.submit(officer, submission)
                db.session.commit()
                done += 1
            except OperationalError as exc:
                db.session.rollback()
                if "locked" in str(exc):
                    locked += 1
                else:
                    failed += 1
                first_error = first_error or str(exc).splitlines()[0]
            except Exception as exc:  # noqa: BLE001 - counted and reported, the run goes on
                db.session.rollback()
                failed += 1
                first_error = first_error or "".join(traceback.format_exception_only(exc)).strip()
        seconds = time.perf_counter() - start
        db.session.remove()
        db.engine.dispose()
    results.put({"email": email, "filed": done, "locked": locked, "failed": failed, "seconds": seconds,
                 "first_error": first_error})


def measure(bench, per_writer: int, writers: int = WRITERS) -> dict:
    """Filings per second with `writers` processes filing `per_writer` notifications each, at the same moment."""
    import data

    emails = [data.OFFICER.format(code=bench.codes[sid].lower()) for sid in bench.members]
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(writers + 1), context.Queue()
    processes = [context.Process(target=_writer, args=(bench.url, bench.tmp, emails[k % len(emails)], per_writer,
                                                       barrier, results)) for k in range(writers)]
    for process in processes:
        process.start()
    barrier.wait(timeout=300)  # every writer has started its application: time the filings only
    start = time.perf_counter()
    reports = [results.get(timeout=900) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    filed = sum(r["filed"] for r in reports)
    return {"writers": writers, "per_writer": per_writer, "filed": filed,
            "locked": sum(r["locked"] for r in reports), "failed": sum(r["failed"] for r in reports),
            "seconds": wall, "filings_per_second": filed / wall,
            "errors": sorted({r["first_error"] for r in reports if r["first_error"]})}
