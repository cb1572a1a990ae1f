"""The tamper-evident audit log: chain, triggers, checkpoints, verification (built in and stand-alone), export."""

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from registry.db import db
from registry.models import AuditEntry, AuditHead, User
from registry.services import audit, audit_chain
from registry.services import audit_checkpoints as checkpoints
from registry.services import users as user_service
from registry.services.actors import CLI
from tests.conftest import SQLITE_AUDIT_TRIGGERS

ROOT = Path(__file__).resolve().parents[1]
VERIFIER = ROOT / "tools" / "verify_audit.py"


def write_entries(app, n: int, start: int = 1) -> None:
    with app.app_context():
        for i in range(start, start + n):
            audit.record("test.change", actor_label=f"tester{i}@example.org", object_type="exercise",
                         object_id=f"EXN-2026-{i:04d}", state_code="KZ",
                         changes={"troops": [i, i + 1], "note": ["", "Учения «Мирная миссия» 和平使命"],
                                  "nested": [{"b": 1, "a": None}, True]})
            db.session.commit()


def checkpoint(app) -> int:
    with app.app_context():
        cp = checkpoints.sign_checkpoint()
        db.session.commit()
        return cp.seq


def superuser_sql(app, *statements: str) -> None:
    """What a database superuser can do and the application cannot: change the log past its triggers."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in statements:
                db.session.execute(text(statement))
        else:
            db.session.execute(text("UPDATE audit_head SET seq = seq"))
            for name in SQLITE_AUDIT_TRIGGERS:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            for statement in statements:
                db.session.execute(text(statement))
            for ddl in SQLITE_AUDIT_TRIGGERS.values():
                db.session.execute(text(ddl))
        db.session.commit()


def fix_head(app) -> None:
    """The careful attacker also moves the head row to the new end of the log."""
    with app.app_context():
        last = db.session.execute(select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc())).first()
        seq, digest = (last.seq, last.hash) if last else (0, "0" * 64)
        db.session.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": seq, "h": digest})
        db.session.commit()


def recompute_chain_from(app, seq: int) -> None:
    """The insider's full cover-up: rehash every entry from `seq` on, as the application would."""
    with app.app_context():
        columns = [getattr(AuditEntry, n) for n in ("id", "prev_hash", "hash", *audit_chain.HASHED_FIELDS)]
        rows = [r._asdict() for r in db.session.execute(select(*columns).order_by(AuditEntry.seq))]
    prev, statements = "0" * 64, []
    for row in rows:
        if row["seq"] >= seq:
            digest = audit_chain.entry_hash(prev, row)
            statements.append(f"UPDATE audit_log SET prev_hash = '{prev}', hash = '{digest}' WHERE id = {row['id']}")
            prev = digest
        else:
            prev = row["hash"]
    superuser_sql(app, *statements)
    fix_head(app)


def verify(app):
    with app.app_context():
        return checkpoints.verify_database()


def test_entries_are_numbered_without_gaps_and_verify(app, runner):
    write_entries(app, 15)
    with app.app_context():
        rows = db.session.execute(select(AuditEntry.seq, AuditEntry.prev_hash, AuditEntry.hash)
                                  .order_by(AuditEntry.seq)).all()
        head = db.session.get(AuditHead, 1)
        assert [r.seq for r in rows] == list(range(1, 16))
        assert rows[0].prev_hash == "0" * 64
        assert all(rows[i].prev_hash == rows[i - 1].hash for i in range(1, 15))
        assert (head.seq, head.hash) == (15, rows[-1].hash)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "OK: 15 entries" in result.output


def test_the_database_refuses_update_and_delete_of_the_log(app):
    write_entries(app, 2)
    with app.app_context():
        for statement in ("UPDATE audit_log SET action = 'x' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 2"):
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2
        if db.engine.dialect.name == "postgresql":
            with pytest.raises(DatabaseError, match="append-only"):
                db.session.execute(text("TRUNCATE audit_log"))
            db.session.rollback()
    assert verify(app).ok


def test_a_rolled_back_change_leaves_no_entry_and_no_gap(app):
    write_entries(app, 3)
    with app.app_context():
        audit.record("test.rolled_back", actor_label="x")
        db.session.flush()
        db.session.rollback()
        assert db.session.get(AuditHead, 1).seq == 3
    write_entries(app, 1, start=4)
    with app.app_context():
        assert list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq))) == [1, 2, 3, 4]
        assert "test.rolled_back" not in db.session.scalars(select(AuditEntry.action)).all()
    assert verify(app).ok


def test_a_failed_audit_write_rolls_back_the_change(app, monkeypatch):
    def broken(prev_hash, fields):
        raise RuntimeError("hashing failed")

    monkeypatch.setattr(audit_chain, "entry_hash", broken)
    with app.app_context():
        with pytest.raises(RuntimeError, match="hashing failed"):
            user_service.create_user(CLI, email="new.officer@example.org", display_name="New", role="auditor",
                                     state_id=None, password="a long enough password")
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(User)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


# --- the tamper matrix --------------------------------------------------------------------------------------------

def _edit_10(app):
    superuser_sql(app, "UPDATE audit_log SET actor_label = 'tester1O@example.org' WHERE seq = 10")


def _delete_10(app):
    superuser_sql(app, "DELETE FROM audit_log WHERE seq = 10")


def _swap_10_11(app):
    superuser_sql(app, "UPDATE audit_log SET seq = -10 WHERE seq = 10", "UPDATE audit_log SET seq = 10 WHERE seq = 11",
                  "UPDATE audit_log SET seq = 11 WHERE seq = -10")


def _truncate_from_13_with_head(app):
    superuser_sql(app, "DELETE FROM audit_log WHERE seq >= 13")
    fix_head(app)


def _truncate_from_13_and_checkpoints_in_db(app):
    superuser_sql(app, "DELETE FROM audit_log WHERE seq >= 13", "DELETE FROM audit_checkpoints")
    fix_head(app)


def _edit_10_and_recompute(app):
    _edit_10(app)
    recompute_chain_from(app, 10)


@pytest.mark.parametrize(("tamper", "first_bad", "words"), [
    (_edit_10, 10, "does not match its hash"),
    (_delete_10, 10, "entry 10 is missing"),
    (_swap_10_11, 10, "previous-hash does not match"),
    (_truncate_from_13_with_head, 13, "entries 13 to 14 were removed"),
    # The checkpoint file outside the database still holds what the insider deleted from the table.
    (_truncate_from_13_and_checkpoints_in_db, 13, "entries 13 to 14 were removed"),
    (_edit_10_and_recompute, 10, "an entry between 10 and 14 was changed"),
], ids=["edit", "delete", "swap", "truncate-before-checkpoint", "truncate-and-delete-checkpoints",
        "edit-and-recompute"])
def test_tampering_is_detected_with_the_first_bad_sequence_number(app, runner, tamper, first_bad, words):
    write_entries(app, 9)
    assert checkpoint(app) == 9
    write_entries(app, 5, start=10)
    assert checkpoint(app) == 14
    write_entries(app, 3, start=15)
    assert verify(app).ok
    tamper(app)
    result = verify(app)
    assert not result.ok
    assert result.first_bad_seq == first_bad
    assert words in result.message
    cli = runner.invoke(args=["audit", "verify"])
    assert cli.exit_code == 1
    assert f"FAILED at seq {first_bad}" in cli.output


def test_a_tail_cut_after_the_last_checkpoint_shows_only_in_the_head_row(app):
    """The design's limit: after the last checkpoint only the head row (which the insider can also move) tells."""
    write_entries(app, 12)
    checkpoint(app)
    write_entries(app, 3, start=13)
    superuser_sql(app, "DELETE FROM audit_log WHERE seq >= 14")
    result = verify(app)
    assert (result.ok, result.first_bad_seq) == (False, 14)
    assert "head row says the chain ends at seq 15" in result.message
    fix_head(app)
    assert verify(app).ok  # undetectable until the next checkpoint: run `audit checkpoint` often


def test_a_recomputed_chain_without_a_checkpoint_is_not_detectable(app):
    write_entries(app, 12)
    _edit_10_and_recompute(app)
    assert verify(app).ok


def test_a_forged_checkpoint_signature_is_refused(app):
    write_entries(app, 5)
    checkpoint(app)
    with app.app_context():
        signature = db.session.scalar(text("SELECT signature FROM audit_checkpoints"))
    forged = ("A" if signature[0] != "A" else "B") + signature[1:]
    superuser_sql(app, f"UPDATE audit_checkpoints SET signature = '{forged}'")
    result = verify(app)
    assert (result.ok, result.first_bad_seq) == (False, 5)
    assert "invalid signature" in result.message


def test_checkpoint_command_signs_only_when_the_log_grew_with_if_changed(app, runner):
    write_entries(app, 3)
    first = runner.invoke(args=["audit", "checkpoint", "--if-changed"])
    assert first.exit_code == 0 and "checkpoint: seq 3" in first.output
    again = runner.invoke(args=["audit", "checkpoint", "--if-changed"])
    assert again.exit_code == 0 and "no new entries" in again.output
    with app.app_context():
        lines = Path(app.config["AUDIT_CHECKPOINT_LOG"]).read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["seq"] == 3


def test_checkpoint_without_a_key_in_production_fails_clearly(app, runner, tmp_path):
    missing = tmp_path / "nowhere" / "key.pem"
    app.config.update(AUDIT_SIGNING_KEY_FILE=str(missing), PRODUCTION=True)
    try:
        result = runner.invoke(args=["audit", "checkpoint"])
    finally:
        app.config.update(AUDIT_SIGNING_KEY_FILE=str(Path(app.config["AUDIT_CHECKPOINT_LOG"]).parent
                                                     / "audit_signing_key.pem"), PRODUCTION=False)
    assert result.exit_code != 0
    assert "audit signing key" in result.output and "missing" in result.output
    assert not missing.exists()


def test_keygen_writes_a_private_and_a_public_key_and_refuses_to_overwrite(app, runner, tmp_path):
    path = tmp_path / "keys" / "audit.pem"
    original = app.config["AUDIT_SIGNING_KEY_FILE"]
    app.config["AUDIT_SIGNING_KEY_FILE"] = str(path)
    try:
        first = runner.invoke(args=["audit", "keygen"])
        second = runner.invoke(args=["audit", "keygen"])
    finally:
        app.config["AUDIT_SIGNING_KEY_FILE"] = original
    assert first.exit_code == 0, first.output
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"PUBLIC KEY" in (tmp_path / "keys" / "audit.pem.pub").read_bytes()
    assert second.exit_code != 0 and "exists already" in second.output


# --- concurrency --------------------------------------------------------------------------------------------------

def test_eight_threads_writing_audited_changes_give_a_gapless_verifying_chain(app):
    threads, per_thread = 8, 5
    barrier = threading.Barrier(threads)
    failures = []

    def work(n: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(per_thread):
                    user_service.create_user(CLI, email=f"t{n}.{i}@example.org", display_name=f"Thread {n} {i}",
                                             role="auditor", state_id=None, password="a long enough password")
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert failures == []
    with app.app_context():
        seqs = list(db.session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq)))
        assert db.session.scalar(select(func.count()).select_from(User)) == threads * per_thread
    assert seqs == list(range(1, threads * per_thread + 1))
    result = verify(app)
    assert result.ok, result.message


# --- export and the stand-alone verifier ---------------------------------------------------------------------------

def run_standalone(path: Path, public_key: Path | None, cwd: Path) -> subprocess.CompletedProcess:
    """Isolated mode (-I) from another directory: the registry cannot be imported, only the standard library
    and cryptography."""
    args = [sys.executable, "-I", str(VERIFIER), str(path)]
    if public_key:
        args += ["--public-key", str(public_key)]
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, check=False)  # noqa: S603


def export(app, runner, path: Path) -> None:
    result = runner.invoke(args=["audit", "export-log", str(path)])
    assert result.exit_code == 0, result.output


def test_the_verifier_imports_nothing_from_the_registry():
    source = VERIFIER.read_text()
    assert "registry" not in [line.split()[1].split(".")[0] for line in source.splitlines()
                              if line.startswith(("import ", "from "))]


def test_export_is_audited_covered_by_a_checkpoint_and_verifies_alone(app, runner, tmp_path):
    write_entries(app, 12)
    path = tmp_path / "audit.jsonl"
    export(app, runner, path)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert records[0]["type"] == "header"
    entries = [r for r in records if r["type"] == "entry"]
    assert [e["seq"] for e in entries] == list(range(1, 14))
    assert entries[-1]["action"] == "audit.export"
    assert [r["seq"] for r in records if r["type"] == "checkpoint"] == [13]
    public_key = Path(app.config["AUDIT_SIGNING_KEY_FILE"] + ".pub")
    result = run_standalone(path, public_key, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 13 entries, chain intact; 1 checkpoint(s) verified" in result.stdout


def test_the_standalone_verifier_refuses_a_file_signed_by_another_key(app, runner, tmp_path):
    write_entries(app, 3)
    path = tmp_path / "audit.jsonl"
    export(app, runner, path)
    other = tmp_path / "other.pem"
    checkpoints.generate_key(other)
    result = run_standalone(path, Path(str(other) + ".pub"), tmp_path)
    assert result.returncode == 1
    assert "invalid signature or was signed by another key" in result.stdout


def _edit_line(records, seq, **values):
    for record in records:
        if record["type"] == "entry" and record["seq"] == seq:
            record.update(values)
    return records


def _file_tamper(kind, records):
    entries = [r for r in records if r["type"] == "entry"]
    if kind == "edit":
        return _edit_line(records, 10, actor_label="tester1O@example.org")
    if kind == "delete":
        return [r for r in records if not (r["type"] == "entry" and r["seq"] == 10)]
    if kind == "swap":
        ten, eleven = entries[9], entries[10]
        ten["seq"], eleven["seq"] = 11, 10
        rest = [r for r in records if r is not ten and r is not eleven]
        return rest[:10] + [eleven, ten] + rest[10:]
    if kind == "truncate":
        return [r for r in records if not (r["type"] == "entry" and r["seq"] >= 13)]
    raise AssertionError(kind)


@pytest.mark.parametrize(("kind", "db_tamper"), [
    ("edit", _edit_10), ("delete", _delete_10), ("swap", _swap_10_11), ("truncate", _truncate_from_13_with_head),
])
def test_the_standalone_verifier_agrees_with_the_built_in_one(app, runner, tmp_path, kind, db_tamper):
    write_entries(app, 14)
    path = tmp_path / "audit.jsonl"
    export(app, runner, path)  # entry 15 is the export itself, checkpoint at 15
    records = [json.loads(line) for line in path.read_text().splitlines()]
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _file_tamper(kind, records)))

    db_tamper(app)
    built_in = verify(app)
    alone = run_standalone(tampered, Path(app.config["AUDIT_SIGNING_KEY_FILE"] + ".pub"), tmp_path)
    assert not built_in.ok and alone.returncode == 1
    assert built_in.lines()[0] in alone.stdout, (built_in.lines(), alone.stdout)


@pytest.mark.parametrize("value", [
    {"b": 1, "a": [None, True, False, -5, 2**40], "é": "x", "\U0001f600": "emoji key", "\ue000": "private use"},
    "control \x00\x01\x1f \" \\ / \u2028 \u007f 𝄞 \u202e",
    [[], {}, "", 0],
])
def test_canonical_json_is_the_same_in_the_registry_and_the_verifier(value):
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_audit", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert audit_chain.canonical(value) == module.canonical(value)


def test_canonical_json_follows_rfc_8785_ordering_and_escapes():
    # RFC 8785 sorts keys by UTF-16 code units: U+1F600 (D83D DE00) comes before U+E000.
    assert audit_chain.canonical({"\ue000": 1, "\U0001f600": 2, "a": 3}) == '{"a":3,"\U0001f600":2,"\ue000":1}'
    assert audit_chain.canonical("\x1f\n\"é") == '"\\u001f\\n\\"é"'
    with pytest.raises(TypeError):
        audit_chain.canonical(1.5)


def test_floats_in_changes_are_stored_as_text_so_the_hash_covers_what_is_stored(app):
    with app.app_context():
        audit.record("test.float", actor_label="x", changes={"latitude": [None, 43.25]})
        db.session.commit()
        assert db.session.scalar(select(AuditEntry.changes)) == {"latitude": [None, "43.25"]}
    assert verify(app).ok


def test_the_migration_chains_the_entries_written_before_it(fresh_database_url):
    import sqlalchemy as sa

    from registry import migrate

    url = fresh_database_url()
    migrate.upgrade(url, "0004")
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for i in range(1, 6):
                connection.execute(text(
                    "INSERT INTO audit_log (occurred_at, actor_label, action, outcome, changes) "
                    "VALUES (:t, :who, 'old.action', 'success', :changes)"),
                    {"t": f"2026-01-0{i} 10:00:00.00012{i}", "who": f"old{i}@example.org",
                     "changes": json.dumps({"n": [i, i + 1]})})
        migrate.upgrade(url)
        with engine.connect() as connection:
            columns = [getattr(AuditEntry, n) for n in ("prev_hash", "hash", *audit_chain.HASHED_FIELDS)]
            rows = [r._asdict() for r in connection.execute(select(*columns).order_by(AuditEntry.seq))]
            head = tuple(connection.execute(text("SELECT seq, hash FROM audit_head")).one())
        assert [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
        assert audit_chain.verify_rows(iter(rows), [], lambda cp: True, head=head).ok
        with engine.connect() as connection, pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()


def test_done_when_demo_scenario_verifies_and_one_edited_byte_is_named(app, runner, tmp_path):
    """Issue 6, "done when": after the demo scenario `audit verify` passes; one edited byte in the database makes
    it fail naming the entry; the stand-alone verifier answers the same on the exported log; with no SMTP server
    every notification is in the outbox (and so in its recipient's in-app list)."""
    from registry.models import OutboxMessage

    assert runner.invoke(args=["demo-load"]).exit_code == 0
    assert runner.invoke(args=["audit", "checkpoint"]).exit_code == 0
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "OK:" in result.output, result.output
    with app.app_context():
        accept = db.session.execute(select(AuditEntry.seq, AuditEntry.object_id)
                                    .where(AuditEntry.action == "submission.accept").order_by(AuditEntry.seq)).first()
        waiting = db.session.scalar(select(func.count()).select_from(OutboxMessage)
                                    .where(OutboxMessage.sent_at.is_(None), OutboxMessage.recipient_id.is_not(None)))
        assert waiting > 0
    path = tmp_path / "demo.jsonl"
    export(app, runner, path)

    # One byte: the last digit of the reference number of the first accepted record.
    edited = accept.object_id[:-1] + ("1" if accept.object_id[-1] != "1" else "2")
    superuser_sql(app, f"UPDATE audit_log SET object_id = '{edited}' WHERE seq = {accept.seq}")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"FAILED at seq {accept.seq}: its content does not match its hash" in result.output

    lines = path.read_text().splitlines()
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text("\n".join(
        line.replace(f'"object_id": "{accept.object_id}"', f'"object_id": "{edited}"')
        if f'"seq": {accept.seq},' in line else line for line in lines) + "\n")
    alone = run_standalone(tampered, Path(app.config["AUDIT_SIGNING_KEY_FILE"] + ".pub"), tmp_path)
    assert alone.returncode == 1
    assert f"FAILED at seq {accept.seq}: its content does not match its hash" in alone.stdout
    assert run_standalone(path, Path(app.config["AUDIT_SIGNING_KEY_FILE"] + ".pub"), tmp_path).returncode == 0


def test_export_to_an_unwritable_place_fails_before_recording_anything(app, runner, tmp_path):
    write_entries(app, 2)
    result = runner.invoke(args=["audit", "export-log", str(tmp_path / "missing-dir" / "log.jsonl")])
    assert result.exit_code != 0 and "cannot write" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 2


# JSON values as audit entries hold them: ASCII or any keys, any text (control characters, surrogates, emoji).
_json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**70, max_value=2**70) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_the_fast_canonical_form_is_the_one_the_rules_define(value):
    # The C encoder's output (taken for plain values, which audit entries are) must equal the RFC 8785 rules.
    import importlib.util

    spec = importlib.util.spec_from_file_location("verify_audit", VERIFIER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = audit_chain._canonical(value)
    assert audit_chain.canonical(value) == expected
    assert module.canonical(value) == module._canonical(value) == expected


def test_timestamps_read_back_from_the_database_have_the_chain_s_text_form():
    from datetime import UTC, datetime, timedelta, timezone

    when = datetime(2026, 11, 27, 23, 5, 7, 1234, tzinfo=UTC)
    assert audit_chain.timestamp(when) == "2026-11-27T23:05:07.001234Z"
    assert audit_chain.timestamp(when.replace(microsecond=0)) == "2026-11-27T23:05:07.000000Z"
    assert audit_chain.timestamp(when.astimezone(timezone(timedelta(hours=6)))) == "2026-11-27T23:05:07.001234Z"


# --- the database reader's shortcut (audit_chain.ColumnHasher) -----------------------------------------------------

def verify_by_the_orm(app):
    """What verify_database did before the shortcut: the ORM's rows and `entry_hash` (the reference verdict)."""
    with app.app_context():
        head = db.session.execute(select(AuditHead.seq, AuditHead.hash)).first()
        rows = checkpoints._entry_rows()
        try:
            return audit_chain.verify_rows(rows, checkpoints.all_checkpoints(),
                                           lambda cp: checkpoints.signature_ok(checkpoints.public_key(), cp),
                                           head=tuple(head))
        finally:
            rows.close()


def count_reference_hashes(monkeypatch) -> list[int]:
    """The sequence numbers ColumnHasher handed to the ORM's reading (it does only when its own hash differs)."""
    asked = []
    reference = checkpoints._reference_hash

    def counting(prev, seq):
        asked.append(seq)
        return reference(prev, seq)

    monkeypatch.setattr(checkpoints, "_reference_hash", counting)
    return asked


def test_the_shortcut_hashes_every_intact_entry_itself_with_the_registry_s_hash(app, monkeypatch):
    write_entries(app, 12)
    with app.app_context():
        audit.record("test.empty", actor_label="x")  # no changes, no object: the nulls
        audit.record("test.tricky", actor_label='quote " backslash \\ \x01 \u2028 𝄞', object_type="t",
                     changes={"z": [None, {"b": [True, False, -3, 2**40]}], "A": ["", "\n\t"], "é": [1, 2]})
        db.session.commit()
        connection = db.session.connection()
        hasher = audit_chain.ColumnHasher(checkpoints._reference_hash, sqlite=connection.dialect.name == "sqlite")
        rows = list(checkpoints._fast_rows(connection))
        reference = list(checkpoints._entry_rows())
    with app.app_context():
        for raw, row in zip(rows, reference, strict=True):
            assert hasher(row["prev_hash"], raw) == audit_chain.entry_hash(row["prev_hash"], row) == row["hash"]
    # One entry has a non-ASCII key: the C encoder's order is not the rules' there in general, so it may be
    # handed over; every other one is hashed by the shortcut alone.
    assert hasher.fallbacks <= 1
    asked = count_reference_hashes(monkeypatch)
    assert verify(app).ok
    assert len(asked) <= 1


TAMPERED_COLUMNS = {
    "occurred_at": "occurred_at = '2001-02-03 04:05:06.000007'",
    "actor_label": "actor_label = 'tester1O@example.org'",
    "actor_role": "actor_role = 'secretariat'",
    "action": "action = 'test.chang3'",
    "object_type": "object_type = NULL",
    "object_id": "object_id = 'EXN-2026-0011'",
    "state_code": "state_code = 'CN'",
    "changes": "changes = '{\"troops\": [10, 12], \"note\": [\"\", \"x\"], \"nested\": [{\"b\": 1}, true]}'",
    "changes-null": "changes = NULL",
    "outcome": "outcome = 'failure'",
    "ip": "ip = '10.0.0.1'",
    "label-as-number": None,
    "changes-not-json": None,
}


@pytest.mark.parametrize("column", TAMPERED_COLUMNS)
def test_a_change_to_any_column_fails_the_shortcut_as_it_fails_the_orm_s_reading(app, monkeypatch, column):
    write_entries(app, 14)
    sqlite_only = {"label-as-number": "actor_label = 12345",
                   "changes-not-json": "changes = '{\"troops\": [10, 11]}, \"ip\"'"}
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    if TAMPERED_COLUMNS[column] is None and not sqlite:
        pytest.skip("PostgreSQL's column types refuse this value")
    superuser_sql(app, f"UPDATE audit_log SET {TAMPERED_COLUMNS[column] or sqlite_only[column]} WHERE seq = 10")
    asked = count_reference_hashes(monkeypatch)
    result = verify(app)
    assert (result.ok, result.first_bad_seq) == (False, 10)
    if column == "changes-not-json":
        assert "cannot be hashed" in result.message  # the ORM's reading raised before the shortcut existed
        return
    else:
        assert "does not match its hash" in result.message
        assert asked == [10]  # the verdict is the ORM's reading's, never the shortcut's
    assert result.lines() == verify_by_the_orm(app).lines()


def test_a_rewrite_that_keeps_the_value_verifies_as_it_did_through_the_orm(app, monkeypatch):
    """Another spelling of the same JSON (key order, spaces, escapes) was accepted by the ORM's reading: still is."""
    write_entries(app, 12)
    with app.app_context():
        value = db.session.scalar(select(AuditEntry.changes).where(AuditEntry.seq == 10))
    respelled = json.dumps(dict(reversed(list(value.items()))), indent=2).replace("'", "''")
    superuser_sql(app, f"UPDATE audit_log SET changes = '{respelled}' WHERE seq = 10")
    asked = count_reference_hashes(monkeypatch)
    assert verify(app).ok and verify_by_the_orm(app).ok
    assert asked == []  # decoded and encoded again by the shortcut itself


def test_the_audit_page_s_status_reads_the_tail_after_the_checkpoint_the_same_way(app, monkeypatch):
    write_entries(app, 9)
    checkpoint(app)
    write_entries(app, 4, start=10)
    asked = count_reference_hashes(monkeypatch)
    with app.app_context():
        assert checkpoints.chain_status()["ok"] is True
    assert asked == []
    superuser_sql(app, "UPDATE audit_log SET ip = '10.0.0.1' WHERE seq = 11")
    with app.app_context():
        status = checkpoints.chain_status()
    assert status["ok"] is False and status["message"].startswith("seq 11: its content does not match its hash")
    assert asked == [11]


_texts = st.text() | st.none()


@settings(max_examples=300, deadline=None)
@given(label=st.text(), role=_texts, action=st.text(), object_id=_texts, ip=_texts, actor_id=st.none() | st.integers(),
       changes=st.none() | st.dictionaries(st.text(max_size=6), _json_values, max_size=4),
       micro=st.integers(min_value=0, max_value=999_999), other=st.text(min_size=1))
def test_the_shortcut_accepts_exactly_what_entry_hash_accepts(label, role, action, object_id, ip, actor_id, changes,
                                                              micro, other):
    from datetime import UTC, datetime

    when = datetime(2026, 11, 28, 4, 5, 6, micro, tzinfo=UTC)
    fields = {"seq": 7, "occurred_at": when, "actor_id": actor_id, "actor_label": label, "actor_role": role,
              "action": action, "object_type": "exercise", "object_id": object_id, "state_code": "KZ",
              "changes": changes, "outcome": "success", "ip": ip}
    prev = "ab" * 32
    stored = audit_chain.entry_hash(prev, fields)
    stored_text = json.dumps(changes) if changes is not None else None  # what SQLAlchemy's JSON type writes
    raw = {**fields, "prev_hash": prev, "hash": stored, "changes": stored_text,
           "occurred_at": when.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")}
    hasher = audit_chain.ColumnHasher(lambda p, seq: "the reference's", sqlite=True)
    row = tuple(raw[name] for name in audit_chain.COLUMN_ORDER)
    # Intact: the shortcut's own hash, or (an unusual key order it does not take on) the reference's verdict.
    assert hasher(prev, row) in (stored, "the reference's")
    if changes is None or all(key.isascii() for key in changes):
        assert hasher(prev, row) == stored
    # Any column changed (to a text, or a number where the column is a text): never accepted by the shortcut.
    for index, name in enumerate(audit_chain.COLUMN_ORDER[3:], 3):
        for value in ((json.dumps(other), json.dumps([changes])) if name == "changes" else (other, 5)):
            if value == row[index]:
                continue
            assert hasher(prev, row[:index] + (value,) + row[index + 1:]) == "the reference's", (name, value)
