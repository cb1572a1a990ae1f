"""Synthetic but realistic registry data for the benchmarks, written with SQLAlchemy Core bulk inserts.

Ten member states file exercise notifications over the years 2001-2026 in every workflow status (mostly
accepted, some drafts, submissions under review, returned, withdrawn and cancelled ones, amendments with a second
version), with all three visibilities; one offered visit per 50 notifications (with its invitations) and one
defence-ministry structure disclosure per member state and year (a small tree of units, posts and holders).

    import data                                   # from a script in bench/
    bench_db = data.create("sqlite", tmp)         # schema (migrations), states, users: a BenchDatabase
    data.grow(bench_db, 10_000)                   # notifications 1..10,000 (and their visits, structures)
    data.grow(bench_db, 100_000)                  # adds 10,001..100,000: one database grows from size to size

Bulk inserts, not the ORM's unit of work (shared/RELIABILITY.md, finding 14: 0.7 s against 9-12 s per 100k rows).
Everything is deterministic (a row's values follow from its number), so two runs hold the same data.
"""

import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from registry import create_app, migrate  # noqa: E402
from registry.db import db  # noqa: E402
from registry.enums import ExerciseType, PositionKind, UnitKind, VisitKind  # noqa: E402
from registry.models import (  # noqa: E402
    ExerciseDetails,
    MemberState,
    Revision,
    StructureDetails,
    StructureHolder,
    StructurePosition,
    StructureUnit,
    Submission,
    Visit,
    VisitDetails,
    VisitInvitation,
)
from registry.models.exercise import FORCE_COLUMNS  # noqa: E402

PASSWORD = "benchmark password 2026"  # noqa: S105 - throw-away databases
POSTGRES_ADMIN_URL = os.environ.get("REGISTRY_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
CHUNK = 10_000
FIRST_YEAR, LAST_YEAR = 2001, 2026
DAYS = (date(LAST_YEAR, 12, 31) - date(FIRST_YEAR, 1, 1)).days
VISIT_EVERY = 50
# Ids of visits and structures live in their own ranges, so notifications can keep growing from 1.
VISIT_BASE, STRUCTURE_BASE = 50_000_000, 60_000_000
UNITS_PER_STRUCTURE = 12
OFFICER = "officer.{code}@bench.example.org"
SECRETARIAT = "secretariat@bench.example.org"
AUDITOR = "auditor@bench.example.org"
TYPES = [t.value for t in ExerciseType]
VISIT_KINDS = [k.value for k in VisitKind]
VISIBILITIES = ("members", "members", "public", "secretariat")
NAMES = [("Мирная миссия", "和平使命", "Peace Mission"), ("Взаимодействие", "协作", "Interaction"),
         ("Тянь-Шань", "天山", "Tien Shan"), ("Восток", "东方", "Vostok"),
         ("Боевое братство", "战斗兄弟", "Combat Brotherhood"),
         ("Каспий", "里海", "Caspian"), ("Рубеж", "边界", "Frontier"), ("Памир", "帕米尔", "Pamir")]


def app_config(url: str, tmp: str) -> dict:
    """The registry's configuration for a benchmark: cheap password hashing, files in the temporary folder."""
    return {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "TESTING": False,
            "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1,
            "AUDIT_SIGNING_KEY_FILE": f"{tmp}/audit-signing.pem", "AUDIT_CHECKPOINT_LOG": f"{tmp}/checkpoints.log",
            "EXPORT_DIR": f"{tmp}/exports", "OUTBOX_PUMP_SECONDS": 0, "EXPORT_WORKER_SECONDS": 0,
            # Page timings measure the work of a page: a repeated request must not be served from the page cache
            # (bench/throughput.py measures the list with and without it).
            "PAGE_CACHE_BYTES": 0}


@dataclass
class BenchDatabase:
    backend: str
    url: str
    tmp: str
    app: object
    members: list[int]  # ids of the ten member states
    codes: dict[int, str]  # state id -> code
    user_ids: dict[str, int]  # e-mail -> id
    rows: int = 0  # notifications so far
    structures_done: bool = False
    created: tuple | None = None  # (admin url, database name) of a PostgreSQL database to drop
    generate_seconds: dict = field(default_factory=dict)


def new_database(backend: str, tmp: str, label: str = "bench") -> tuple[str, tuple | None]:
    """An empty database: a SQLite file in `tmp`, or a PostgreSQL database created for the run."""
    if backend == "sqlite":
        return f"sqlite:///{tmp}/{label}.sqlite3", None
    import psycopg

    name = f"{label}_{uuid.uuid4().hex[:10]}"
    admin = POSTGRES_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN_URL.rstrip("/")
    base = base.rsplit("/", 1)[0] if base.count("/") > 2 else base
    return f"{base}/{name}", (admin, name)


def drop_database(created: tuple | None) -> None:
    if created:
        import psycopg

        with psycopg.connect(created[0], autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{created[1]}" WITH (FORCE)')


def create(backend: str, tmp: str, label: str = "bench") -> BenchDatabase:
    """Schema from the migrations, the seeded states, an officer per member state, the Secretariat, an auditor."""
    from registry.services import states as state_service
    from registry.services import users as user_service
    from registry.services.actors import CLI

    url, created = new_database(backend, tmp, label)
    migrate.upgrade(url)
    app = create_app(app_config(url, tmp))
    with app.app_context():
        state_service.load_state_seeds()
        db.session.commit()
        members = [s for s in db.session.scalars(select(MemberState).order_by(MemberState.code))
                   if s.status_on(date(LAST_YEAR, 12, 31)).value == "member"][:10]
        users = {}
        for state in members:
            user = user_service.create_user(CLI, email=OFFICER.format(code=state.code.lower()),
                                            display_name=f"Liaison officer {state.code}", role="officer",
                                            state_id=state.id, password=PASSWORD,
                                            temporary_password=False)
            users[user.email] = user
        for email, role in ((SECRETARIAT, "secretariat"), (AUDITOR, "auditor")):
            users[email] = user_service.create_user(CLI, email=email, display_name=role.title(), role=role,
                                                    password=PASSWORD, temporary_password=False)
        db.session.commit()
        bench = BenchDatabase(backend, url, tmp, app, [s.id for s in members], {s.id: s.code for s in members},
                              {email: u.id for email, u in users.items()}, created=created)
        db.session.remove()
    return bench


# --- one notification -------------------------------------------------------------------------------------------


def _status(n: int) -> tuple[str, int, int | None, bool]:
    """(status, current version, accepted version, submitted?) of notification n: mostly accepted."""
    bucket = n % 100
    if bucket < 80:
        return "accepted", 1, 1, True
    if bucket < 84:
        return "submitted", 1, None, True
    if bucket < 88:
        return "draft", 1, None, False
    if bucket < 90:
        return "returned", 1, None, True
    if bucket < 92:
        return "cancelled", 1, 1, True
    if bucket < 94:
        return "withdrawn", 1, None, True
    if bucket < 97:
        return "submitted", 2, 1, True  # an amendment under review; readers of other states see version 1
    return "accepted", 2, 2, True  # an amendment accepted


def _start(n: int) -> date:
    # A multiplicative stride spreads consecutive numbers over the 26 years, so each size covers every year.
    return date(FIRST_YEAR, 1, 1) + timedelta(days=(n * 7919) % DAYS)


def _exercise_rows(n: int, bench: BenchDatabase, submitter: int, reviewer: int):
    status, current, accepted, submitted = _status(n)
    state_id = bench.members[n % len(bench.members)]
    begins = _start(n)
    filed = datetime(begins.year, begins.month, begins.day, 9, 30, tzinfo=UTC) - timedelta(days=30 + n % 40)
    decided = filed + timedelta(days=3, hours=n % 24)
    submission = {
        "id": n, "record_type": "exercise", "reference": f"EXN-{begins.year}-{n:07d}", "state_id": state_id,
        "status": status, "visibility": VISIBILITIES[n % 4], "is_nil": False, "is_late": n % 17 == 0,
        "due_date": begins - timedelta(days=42), "entered_on_behalf": False,
        "original_language": ("ru", "zh", "en")[n % 3], "created_by_id": submitter,
        "created_at": filed - timedelta(days=2), "submitted_by_id": submitter if submitted else None,
        "submitted_at": filed if submitted else None,
        "decided_by_id": reviewer if accepted else None, "decided_at": decided if accepted else None,
        "current_revision_no": current, "accepted_revision_no": accepted,
        "cancel_reason": "The exercise was called off." if status == "cancelled" else None,
        "lock_version": 2 + current,
    }
    revisions, details = [], []
    name_ru, name_zh, name_en = NAMES[n % len(NAMES)]
    for number in range(1, current + 1):
        frozen = submitted or number < current
        rid = 2 * n - (2 - number)  # versions 1 and 2 of notification n: ids 2n-1 and 2n
        # (the details' own ids are left to the database: filings made by bench/writes.py take the next ones)
        revisions.append({
            "id": rid, "submission_id": n, "number": number, "created_at": filed - timedelta(days=2 - number),
            "language": submission["original_language"], "frozen_at": filed if frozen else None,
            "snapshot": {"reference": submission["reference"], "version": number} if frozen else None,
            "findings": [] if frozen else None, "submitted_by_id": submitter if frozen else None,
        })
        troops = 500 + (n * 37 + number) % 20_000
        row = {
            "revision_id": rid, "designation_ru": f"«{name_ru}-{n}»", "designation_zh": f"{name_zh}-{n}",
            "designation_en": f"{name_en}-{n}", "exercise_type": TYPES[n % len(TYPES)],
            "purpose": "Counter-terrorism cooperation of the participating forces",
            "command_level": "Joint staff", "headquarters": "Field headquarters", "start_date": begins,
            "end_date": begins + timedelta(days=n % 12), "area_description": f"Training area {n % 300}",
            "latitude": round(38 + (n % 1500) / 100, 4), "longitude": round(60 + (n % 3500) / 100, 4),
            "within_border_zone": n % 5 == 0, "border_segment": f"Segment {n % 7}" if n % 5 == 0 else "",
            "observers_invited": troops >= 13_000 or n % 3 == 0, "observer_programme": "",
            "observer_places_per_state": 2 if troops >= 13_000 or n % 3 == 0 else None,
            "observer_arrival_point": "", "not_forecast_reason": "Not forecast: a response to events",
            "is_alert": n % 50 == 0, "alert_justification": "Readiness check" if n % 50 == 0 else "",
            "late_explanation": "", "lead_time_days": 30 + n % 40, "mandatory_notification": troops >= 9000,
            "observers_required": troops >= 13_000,
        }
        row.update({c: None for c in FORCE_COLUMNS})
        row.update({"troops_total": troops, "troops_ground": troops // 2, "troops_air": troops // 4,
                    "battle_tanks": n % 300, "artillery": n % 200, "combat_aircraft": n % 40})
        details.append(row)
    return submission, revisions, details


def _visit_rows(n: int, bench: BenchDatabase, submitter: int, reviewer: int):
    """A visit offered by the state of notification n: accepted, invitations to three other members."""
    vid = VISIT_BASE + n
    host = bench.members[n % len(bench.members)]
    begins = _start(n) + timedelta(days=20)
    filed = datetime(begins.year, begins.month, begins.day, 8, 0, tzinfo=UTC) - timedelta(days=60)
    submission = {
        "id": vid, "record_type": "visit", "reference": f"VIS-{begins.year}-{n:07d}", "state_id": host,
        "status": "accepted", "visibility": "members", "is_nil": False, "is_late": False, "due_date": None,
        "entered_on_behalf": False, "original_language": "ru", "created_by_id": submitter,
        "created_at": filed, "submitted_by_id": submitter, "submitted_at": filed, "decided_by_id": reviewer,
        "decided_at": filed + timedelta(days=2), "current_revision_no": 1, "accepted_revision_no": 1,
        "cancel_reason": None, "lock_version": 3,
    }
    revision = {"id": vid, "submission_id": vid, "number": 1, "created_at": filed, "language": "ru",
                "frozen_at": filed, "snapshot": {"reference": submission["reference"]}, "findings": [],
                "submitted_by_id": submitter}
    details = {
        "id": vid, "revision_id": vid, "kind": VISIT_KINDS[n % len(VISIT_KINDS)],
        "facility_ru": f"Авиабаза {n % 90}", "facility_zh": f"空军基地 {n % 90}", "facility_en": f"Air base {n % 90}",
        "unit": "", "location": "Near the capital", "latitude": 43.2, "longitude": 76.9, "within_border_zone": False,
        "border_segment": "", "start_date": begins, "start_time": None, "end_date": begins + timedelta(days=2),
        "end_time": None, "programme": "Briefing, tour of the facility, demonstration", "point_of_entry": "Airport",
        "cost_travel": None, "cost_local_transport": None, "cost_accommodation": None, "cost_interpretation": None,
        "costs_note": "", "interpret_ru": True, "interpret_zh": True, "interpret_en": False,
        "interpretation_other": "", "invite_all_members": False, "places_each": 2,
        "answer_by": begins - timedelta(days=14), "request_id": None,
    }
    others = [s for s in bench.members if s != host]
    invitations = [{"id": (n // VISIT_EVERY) * 3 + k + 1, "details_id": vid, "position": k,
                    "state_id": others[(n + k) % len(others)], "places": 2} for k in range(3)]
    visit = {"id": vid, "submission_id": vid, "status": "invitations_sent" if begins.year >= LAST_YEAR else "held",
             "start_date": begins, "start_time": None, "end_date": begins + timedelta(days=2),
             "answer_by": begins - timedelta(days=14), "invitations_sent_at": filed + timedelta(days=2),
             "held_on": begins if begins.year < LAST_YEAR else None, "cancel_reason": None, "postponements": 0,
             "lock_version": 1}
    return submission, revision, details, invitations, visit


def _structures(conn, bench: BenchDatabase, submitter: int, reviewer: int) -> None:
    """One accepted disclosure per member state and year (as of 1 January): a small tree, a post and holder each."""
    n = 0
    for year in range(FIRST_YEAR, LAST_YEAR + 1):
        submissions, revisions, details, units, positions, holders = [], [], [], [], [], []
        for state_id in bench.members:
            n += 1
            sid = STRUCTURE_BASE + n
            filed = datetime(year - 1, 12, 10, 10, 0, tzinfo=UTC)
            submissions.append({
                "id": sid, "record_type": "structure", "reference": f"STR-{year}-{n:07d}", "state_id": state_id,
                "status": "accepted", "visibility": "members", "is_nil": False, "is_late": False,
                "due_date": date(year - 1, 12, 15), "entered_on_behalf": False, "original_language": "ru",
                "created_by_id": submitter, "created_at": filed, "submitted_by_id": submitter, "submitted_at": filed,
                "decided_by_id": reviewer, "decided_at": filed + timedelta(days=3), "current_revision_no": 1,
                "accepted_revision_no": 1, "cancel_reason": None, "lock_version": 3})
            revisions.append({"id": sid, "submission_id": sid, "number": 1, "created_at": filed, "language": "ru",
                              "frozen_at": filed, "snapshot": {"year": year}, "findings": [],
                              "submitted_by_id": submitter})
            details.append({"id": sid, "revision_id": sid, "as_of": date(year, 1, 1),
                            "ministry_name_ru": "Министерство обороны", "ministry_name_zh": "国防部",
                            "ministry_name_en": "Ministry of Defence", "ministry_name_native": ""})
            for u in range(UNITS_PER_STRUCTURE):
                uid = (n - 1) * UNITS_PER_STRUCTURE + u + 1
                kind = UnitKind.MINISTRY if u == 0 else UnitKind.SERVICE if u < 4 else UnitKind.DIRECTORATE
                units.append({"id": uid, "details_id": sid, "key": f"U{u}", "parent_key": None if u == 0 else
                              f"U{(u - 1) // 3}", "sort_order": u, "kind": kind.value, "name_ru": f"Управление {u}",
                              "name_zh": f"局 {u}", "name_en": f"Directorate {u}", "hq_location": "Capital"})
                positions.append({"id": uid, "details_id": sid, "unit_id": uid, "key": f"P{u}", "sort_order": 0,
                                  "kind": (PositionKind.MINISTER if u == 0 else PositionKind.HEAD_OF_DIRECTORATE).value,
                                  "title_ru": f"Начальник {u}", "title_zh": f"局长 {u}", "title_en": f"Head {u}"})
                holders.append({"id": uid, "position_id": uid, "sort_order": 0, "name_native": "",
                                "name_ru": f"Офицер {u}-{year}", "name_zh": "", "name_latin": f"Officer {u}-{year}",
                                "rank": "Colonel", "appointed_on": date(year - 1 - u % 3, 6, 1), "left_on": None})
        conn.execute(insert(Submission.__table__), submissions)
        conn.execute(insert(Revision.__table__), revisions)
        conn.execute(insert(StructureDetails.__table__), details)
        conn.execute(insert(StructureUnit.__table__), units)
        conn.execute(insert(StructurePosition.__table__), positions)
        conn.execute(insert(StructureHolder.__table__), holders)


def grow(bench: BenchDatabase, size: int) -> float:
    """Notifications up to `size` (and the visits among them; structures once); returns the seconds taken."""
    start = time.perf_counter()
    reviewer = bench.user_ids[SECRETARIAT]
    with bench.app.app_context():
        engine = db.engine
        with engine.begin() as conn:
            if not bench.structures_done:
                _structures(conn, bench, bench.user_ids[OFFICER.format(code="kz")], reviewer)
                bench.structures_done = True
            for low in range(bench.rows + 1, size + 1, CHUNK):
                submissions, revisions, details = [], [], []
                visits = ([], [], [], [], [])
                for n in range(low, min(low + CHUNK, size + 1)):
                    state_code = bench.codes[bench.members[n % len(bench.members)]]
                    submitter = bench.user_ids[OFFICER.format(code=state_code.lower())]
                    s, r, d = _exercise_rows(n, bench, submitter, reviewer)
                    submissions.append(s)
                    revisions += r
                    details += d
                    if n % VISIT_EVERY == 0:
                        for bucket, rows in zip(visits, _visit_rows(n, bench, submitter, reviewer), strict=True):
                            bucket.extend(rows if isinstance(rows, list) else [rows])
                conn.execute(insert(Submission.__table__), submissions + visits[0])
                conn.execute(insert(Revision.__table__), revisions + visits[1])
                conn.execute(insert(ExerciseDetails.__table__), details)
                if visits[0]:
                    conn.execute(insert(VisitDetails.__table__), visits[2])
                    conn.execute(insert(VisitInvitation.__table__), visits[3])
                    conn.execute(insert(Visit.__table__), visits[4])
            if conn.dialect.name == "postgresql":
                # Ids were given explicitly: move the sequences past them, so the registry's own inserts work.
                for table in ("submissions", "revisions", "exercise_details", "visit_details", "visit_invitations",
                              "visits", "structure_details", "structure_units", "structure_positions",
                              "structure_holders"):
                    sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                    conn.execute(text(sql))  # our own table names
        analyse(engine)
    bench.rows = size
    seconds = time.perf_counter() - start
    bench.generate_seconds[size] = seconds
    return seconds


def analyse(engine) -> None:
    """Fresh planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` (SQLite) would keep them."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def counts(bench: BenchDatabase) -> dict:
    with bench.app.app_context():
        by_type = dict(db.session.execute(select(Submission.record_type, func.count()).group_by(
            Submission.record_type)).all())
        db.session.remove()
    return {str(getattr(k, "value", k)): v for k, v in by_type.items()}


def close(bench: BenchDatabase) -> None:
    with bench.app.app_context():
        db.session.remove()
        db.engine.dispose()
    drop_database(bench.created)
