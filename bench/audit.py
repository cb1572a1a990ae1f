"""Audit chain verification speed (part of bench/suite.py): entries verified per second.

Fills the audit log with `entries` realistic entries (the registry's own hashing, `audit_chain.entry_hash`, bulk
inserted with Core, the head row moved to the last one), signs a checkpoint over them, then measures, in the same
run:

- `verify_database()`, what `flask --app app audit verify` runs: reads every entry from the database (the
  driver's cursor, tuples) and recomputes the chain (`audit_chain.ColumnHasher`), the head row and the checkpoint;
  with the number of entries it handed to the ORM's reading (`_reference_hash`: 0 on an intact log);
- the same verification the way it was done before (the ORM's rows, `entry_hash`), for the before/after ratio;
- `verify_rows()` alone on the same entries already in memory: the hashing, without the database;
- tools/verify_audit.py (the auditor's stand-alone verifier) on the exported JSON Lines file, its own function
  `verify()` on the parsed entries (parsing timed apart);
- the baseline: SHA-256 of the same canonical payloads with nothing else (the cost of hashing itself).

The database figures are the best of `repeat` runs (the machine is shared); each `*_per_second` also comes as a
share of the SHA-256 floor of the same run (`*_of_sha256`), the figure to compare between runs.
"""

import hashlib
import importlib.util
import io
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select, update

ROOT = Path(__file__).resolve().parents[1]
ACTIONS = ("submission.create", "exercise.save_draft", "submission.submit", "submission.accept", "auth.login",
           "visit.answer", "structure.import", "export.download")


def _verifier_tool():
    spec = importlib.util.spec_from_file_location("verify_audit", ROOT / "tools" / "verify_audit.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fill(entries: int, chunk: int = 10_000) -> float:
    """`entries` more entries after the head, chained as the registry chains them; returns the seconds taken."""
    from registry.db import db
    from registry.models import AuditEntry, AuditHead
    from registry.services.audit_chain import entry_hash

    start = time.perf_counter()
    when = datetime(2020, 1, 1, tzinfo=UTC)
    with db.engine.begin() as conn:
        first, prev = conn.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).one()
        last = first + entries
        for low in range(first + 1, last + 1, chunk):
            rows = []
            for seq in range(low, min(low + chunk, last + 1)):
                fields = {
                    "seq": seq, "occurred_at": when + timedelta(seconds=seq * 7), "actor_id": None,
                    "actor_label": f"officer{seq % 40}@ministry.example", "actor_role": "officer",
                    "action": ACTIONS[seq % len(ACTIONS)], "object_type": "exercise",
                    "object_id": f"EXN-2025-{seq % 9999:04d}", "state_code": ("KZ", "CN", "RU", "IN")[seq % 4],
                    "changes": {"status": ["draft", "submitted"], "troops_total": [None, str(1000 + seq % 9000)],
                                "designation_ru": ["", f"Учение «Мирная миссия-{seq}»"]},
                    "outcome": "success", "ip": f"10.0.{seq % 250}.{seq % 199}",
                }
                digest = entry_hash(prev, fields)
                rows.append({**fields, "prev_hash": prev, "hash": digest})
                prev = digest
            conn.execute(insert(AuditEntry.__table__), rows)
        conn.execute(update(AuditHead.__table__).where(AuditHead.id == 1).values(seq=last, hash=prev))
    return time.perf_counter() - start


def _best(run, repeat: int) -> tuple[float, object]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


def measure(app, entries: int, repeat: int = 3) -> dict:
    from registry.db import db
    from registry.services import audit_checkpoints
    from registry.services.audit_chain import canonical, entry_document, verify_rows

    tool = _verifier_tool()
    with app.app_context():
        generate = fill(entries)
        checkpoint = audit_checkpoints.sign_checkpoint(force=True)
        db.session.commit()

        reference, handed_over = audit_checkpoints._reference_hash, []

        def counting(prev, seq):
            handed_over.append(seq)
            return reference(prev, seq)

        audit_checkpoints._reference_hash = counting
        try:
            database_seconds, result = _best(audit_checkpoints.verify_database, repeat)
        finally:
            audit_checkpoints._reference_hash = reference
        assert result.ok and result.entries >= entries, result.lines()
        entries = result.entries  # with the few the set-up wrote (accounts created)

        def through_the_orm():  # verify_database before the driver's cursor and ColumnHasher
            rows = audit_checkpoints._entry_rows()
            try:
                return verify_rows(rows, audit_checkpoints.all_checkpoints(), lambda cp: True)
            finally:
                rows.close()

        orm_seconds, orm_result = _best(through_the_orm, repeat)
        assert orm_result.ok

        rows = list(audit_checkpoints._entry_rows())
        start = time.perf_counter()
        in_memory = verify_rows(rows, [], lambda cp: True)
        memory_seconds = time.perf_counter() - start
        assert in_memory.ok

        # Before the fast path (bench/suite.py's own before/after, same rows, same run): the RFC 8785 rules alone.
        from registry.services import audit_chain

        fast = audit_chain.canonical
        audit_chain.canonical = audit_chain._canonical
        try:
            start = time.perf_counter()
            assert verify_rows(rows, [], lambda cp: True).ok
            rules_seconds = time.perf_counter() - start
        finally:
            audit_chain.canonical = fast

        payloads = [canonical(entry_document(r)).encode() for r in rows]
        start = time.perf_counter()
        for payload in payloads:
            hashlib.sha256(b"tag" + bytes(32) + payload).hexdigest()
        sha_seconds = time.perf_counter() - start

        exported = io.StringIO()
        checkpoint = audit_checkpoints.sign_checkpoint(force=True) or checkpoint
        db.session.commit()
        audit_checkpoints.write_export(exported, checkpoint)
        key = audit_checkpoints.public_key()
        db.session.remove()
    exported.seek(0)
    start = time.perf_counter()
    header, parsed, checkpoints = tool.parse_export(exported)
    parse_seconds = time.perf_counter() - start
    start = time.perf_counter()
    checked = tool.verify(parsed, checkpoints, key)
    tool_seconds = time.perf_counter() - start
    assert checked.ok, checked.lines()
    sha = entries / sha_seconds
    return {
        "entries": entries, "generate_seconds": generate, "repeat": repeat,
        "verify_database_seconds": database_seconds, "verify_database_per_second": entries / database_seconds,
        "verify_database_of_sha256": sha_seconds / database_seconds,
        "verify_database_handed_to_orm": len(handed_over),
        "verify_database_orm_seconds": orm_seconds, "verify_database_orm_per_second": entries / orm_seconds,
        "verify_database_orm_of_sha256": sha_seconds / orm_seconds,
        "verify_rows_of_sha256": sha_seconds / memory_seconds,
        "verify_rows_seconds": memory_seconds, "verify_rows_per_second": entries / memory_seconds,
        "verify_rows_before_per_second": entries / rules_seconds,
        "tool_parse_seconds": parse_seconds, "tool_verify_seconds": tool_seconds,
        "tool_verify_per_second": len(parsed) / tool_seconds,
        "sha256_only_per_second": sha,
        "load_average": os.getloadavg(),
    }
