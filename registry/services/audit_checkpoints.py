"""Signed checkpoints of the audit chain, its full verification, and the exported log auditors verify alone.

A checkpoint is an Ed25519 signature over (origin, seq, head hash, time), made with a key kept in a file outside
the database (AUDIT_SIGNING_KEY_FILE). It is stored in `audit_checkpoints` and appended to a file outside the
database (AUDIT_CHECKPOINT_LOG), and every export carries them. A plain hash chain cannot show that its tail was
cut off, or that someone with write access edited an entry and recomputed every hash after it; a checkpoint held
outside the database shows both, up to the last checkpoint.

`flask --app app audit checkpoint` (meant for cron) and every export call `sign_checkpoint`; the export work calls
`prepare_export` then `write_export`.
"""

import base64
import hashlib
import json
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from registry.db import db, utcnow
from registry.models import AuditCheckpoint, AuditEntry, AuditHead
from registry.services import audit, audit_chain
from registry.services.audit_chain import (
    HASHED_FIELDS,
    Checkpoint,
    ColumnHasher,
    Verification,
    canonical,
    timestamp,
    verify_rows,
)

CHECKPOINT_TAG = b"sco-cbm-registry/audit-checkpoint/v1\x00"
EXPORT_FORMAT = "sco-cbm-registry/audit-log/v1"
VERIFIER = Path(__file__).resolve().parents[2] / "tools" / "verify_audit.py"


class SigningKeyError(RuntimeError):
    """The signing or public key is missing or unreadable; the message says which file and what to do."""


# --- keys -----------------------------------------------------------------------------------------------------------

def _key_path() -> Path:
    path = current_app.config.get("AUDIT_SIGNING_KEY_FILE")
    if not path:
        raise SigningKeyError("AUDIT_SIGNING_KEY_FILE is not set: create a key with `flask --app app audit keygen` "
                        "and point the variable at it")
    return Path(path)


def public_key_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def generate_key(path: Path, force: bool = False) -> Path:
    """Write a new Ed25519 private key (mode 0600) and its public key next to it (`<file>.pub`)."""
    if path.exists() and not force:
        raise SigningKeyError(f"{path} exists already; a new key would not verify older checkpoints (use --force "
                        "only after archiving the old public key)")
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    public_key_path(path).write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return path


def signing_key() -> Ed25519PrivateKey:
    path = _key_path()
    if not path.exists():
        if current_app.config.get("PRODUCTION"):
            raise SigningKeyError(f"the audit signing key {path} is missing: restore it from its backup, or create "
                            "one with `flask --app app audit keygen`")
        generate_key(path)  # development: made once under instance/, like the secret key
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"cannot read the audit signing key {path}: {exc}") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{path} is not an Ed25519 private key")
    return key


def public_key() -> Ed25519PublicKey:
    """AUDIT_PUBLIC_KEY_FILE if set (a verifying host needs no private key), else the signing key's public half."""
    configured = current_app.config.get("AUDIT_PUBLIC_KEY_FILE")
    if configured:
        try:
            key = serialization.load_pem_public_key(Path(configured).read_bytes())
        except (OSError, ValueError) as exc:
            raise SigningKeyError(f"cannot read the audit public key {configured}: {exc}") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise SigningKeyError(f"{configured} is not an Ed25519 public key")
        return key
    path = _key_path()
    if not path.exists():
        raise SigningKeyError(f"no audit key at {path}: set AUDIT_PUBLIC_KEY_FILE or AUDIT_SIGNING_KEY_FILE")
    return signing_key().public_key()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    return hashlib.sha256(raw_public_key(key)).hexdigest()


# --- checkpoints ----------------------------------------------------------------------------------------------------

def checkpoint_message(origin: str, seq: int, head_hash: str, signed_at: str) -> bytes:
    return CHECKPOINT_TAG + canonical({"origin": origin, "seq": seq, "hash": head_hash,
                                       "time": signed_at}).encode("utf-8")


def signature_ok(key: Ed25519PublicKey, cp: Checkpoint) -> bool:
    if cp.key_id != key_id(key):
        return False
    try:
        key.verify(base64.b64decode(cp.signature, validate=True),
                   checkpoint_message(cp.origin, cp.seq, cp.head_hash, cp.signed_at))
    except (InvalidSignature, ValueError):
        return False
    return True


def _as_dict(cp: AuditCheckpoint | Checkpoint) -> dict:
    return {"origin": cp.origin, "seq": cp.seq, "head_hash": cp.head_hash, "signed_at": cp.signed_at,
            "key_id": cp.key_id, "signature": cp.signature}


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalar(select(AuditCheckpoint).order_by(AuditCheckpoint.seq.desc(),
                                                              AuditCheckpoint.id.desc()).limit(1))


def sign_checkpoint(force: bool = True) -> AuditCheckpoint | None:
    """Sign the chain's current head and add the checkpoint to the session (the caller commits).

    After the commit the checkpoint is also appended to AUDIT_CHECKPOINT_LOG. With force=False nothing is signed
    when the last checkpoint already covers the head (the cron job then does nothing). Not itself audited: an
    audit entry would move the head it signs.
    """
    key = signing_key()
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    if head is None:
        raise RuntimeError("the audit_head row is missing: run `flask --app app db upgrade`")
    last = latest_checkpoint()
    if not force and last is not None and last.seq == head.seq and last.head_hash == head.hash:
        return None
    origin = current_app.config["AUDIT_ORIGIN"]
    signed_at = timestamp(utcnow())
    signature = key.sign(checkpoint_message(origin, head.seq, head.hash, signed_at))
    cp = AuditCheckpoint(origin=origin, seq=head.seq, head_hash=head.hash, signed_at=signed_at,
                         key_id=key_id(key.public_key()), signature=base64.b64encode(signature).decode("ascii"))
    db.session.add(cp)
    db.session.info.setdefault("audit_checkpoints_to_log", []).append(
        (current_app.config.get("AUDIT_CHECKPOINT_LOG"), _as_dict(cp)))
    return cp


@event.listens_for(Session, "after_commit")
def _log_checkpoints_outside_the_database(session: Session) -> None:
    for path, record in session.info.pop("audit_checkpoints_to_log", []):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as out:
                out.write(json.dumps(record, sort_keys=True) + "\n")


@event.listens_for(Session, "after_rollback")
def _forget_checkpoints(session: Session) -> None:
    session.info.pop("audit_checkpoints_to_log", None)


def _file_checkpoints() -> list[Checkpoint]:
    path = current_app.config.get("AUDIT_CHECKPOINT_LOG")
    if not path or not Path(path).exists():
        return []
    found = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            found.append(Checkpoint(**{k: data[k] for k in ("origin", "seq", "head_hash", "signed_at", "key_id",
                                                            "signature")}, source=f"{path}:{number}"))
        except (ValueError, KeyError, TypeError):
            found.append(Checkpoint("?", 0, "", f"line {number}", "", "", source=f"{path}:{number}"))
    return found


def all_checkpoints() -> list[Checkpoint]:
    """The checkpoints in the database and in the file outside it (the same one once from each place)."""
    found = [Checkpoint(**_as_dict(row)) for row in db.session.scalars(select(AuditCheckpoint))]
    found += _file_checkpoints()
    unique = {}
    for cp in found:
        unique.setdefault((cp.seq, cp.head_hash, cp.signed_at, cp.signature), cp)
    return list(unique.values())


# --- verification ---------------------------------------------------------------------------------------------------

def _entry_rows(up_to: int | None = None) -> Generator[dict, None, None]:
    columns = [getattr(AuditEntry, name) for name in ("prev_hash", "hash", *HASHED_FIELDS)]
    stmt = select(*columns).order_by(AuditEntry.seq)
    if up_to is not None:
        stmt = stmt.where(AuditEntry.seq <= up_to)
    result = db.session.execute(stmt.execution_options(yield_per=2000))
    try:
        for row in result:
            yield row._asdict()
    finally:
        result.close()  # a verification that stops early must not leave PostgreSQL's server-side cursor open


# The entries as the database holds them, in COLUMN_ORDER, for ColumnHasher: the timestamp and `changes` as text.
_FAST_SQL = {
    "sqlite": "SELECT seq, prev_hash, hash, occurred_at, actor_id, actor_label, actor_role, action, object_type, "
              "object_id, state_code, changes, outcome, ip FROM audit_log",
    "postgresql": "SELECT seq, prev_hash, hash, "
                  "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"AD'), actor_id, "
                  "actor_label, actor_role, action, object_type, object_id, state_code, changes::text, outcome, ip "
                  "FROM audit_log",
}
# Small chunks are faster (measured; probably the tuples of one chunk stay in the CPU cache and are freed early):
# 1,000 against 5,000 rows gave 10-20% more entries/s on both backends; 500 a little more, with twice the
# round trips to a PostgreSQL server.
FAST_CHUNK = 1000


def _fast_path(connection) -> bool:
    return connection.dialect.name in _FAST_SQL and connection.dialect.driver in ("pysqlite", "psycopg")


def _fast_rows(connection, after: int | None = None) -> Generator[tuple, None, None]:
    """The entries (after seq `after`) as plain tuples from the driver's own cursor, read in chunks (PostgreSQL: a
    server-side one, in binary)."""
    dialect = connection.dialect.name
    driver = connection.connection.driver_connection
    cursor = driver.cursor(name="audit_verify", binary=True) if dialect == "postgresql" else driver.cursor()
    try:
        if after is None:  # every entry, also one whose seq is NULL (it fails the verification)
            cursor.execute(_FAST_SQL[dialect] + " ORDER BY seq")
        else:
            placeholder = "?" if dialect == "sqlite" else "%s"
            cursor.execute(f"{_FAST_SQL[dialect]} WHERE seq > {placeholder} ORDER BY seq", (after,))
        while chunk := cursor.fetchmany(FAST_CHUNK):
            yield from chunk
    finally:
        cursor.close()  # a verification that stops early must not leave PostgreSQL's server-side cursor open


def _reference_hash(prev: str, seq: int) -> str:
    """`entry_hash` over one entry as the ORM reads it: what ColumnHasher defers to."""
    columns = [getattr(AuditEntry, name) for name in ("prev_hash", "hash", *HASHED_FIELDS)]
    row = db.session.execute(select(*columns).where(AuditEntry.seq == seq)).one()
    return audit_chain.entry_hash(prev, row._asdict())


def verify_database() -> Verification:
    """The whole chain, the head row and every checkpoint (database and file), with the configured public key.

    The entries come straight from the driver's cursor as tuples and are hashed by `ColumnHasher`, which hands
    anything unusual to the ORM's reading and `entry_hash` (the same verdicts as `verify_rows` over `_entry_rows`,
    about three times faster). Other drivers than pysqlite and psycopg take the ORM's way.
    """
    checkpoints = all_checkpoints()
    key = public_key() if checkpoints else None
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    connection = db.session.connection()
    fast = _fast_path(connection)
    rows = _fast_rows(connection) if fast else _entry_rows()
    hasher = ColumnHasher(_reference_hash, sqlite=connection.dialect.name == "sqlite") if fast else None
    try:
        return verify_rows(rows, checkpoints, lambda cp: signature_ok(key, cp), head=tuple(head) if head else None,
                           hasher=hasher, keys=(0, 1, 2) if fast else ("seq", "prev_hash", "hash"))
    finally:
        rows.close()


def chain_status(limit: int = 5000) -> dict:
    """A cheap status for the audit page: the last checkpoint's signature and hash, and the entries after it.

    The full check is `flask --app app audit verify`; this one reads at most `limit` entries.
    """
    head = db.session.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    last = latest_checkpoint()
    status = {"head_seq": head.seq if head else 0, "head_hash": head.hash if head else "", "checkpoint": last,
              "ok": None, "message": ""}
    if last is None:
        start = (0, "0" * 64)
        checkpoints = []
        if status["head_seq"] > limit:
            status["message"] = "no checkpoint yet"
            return status
    else:
        entry = db.session.execute(select(AuditEntry.hash).where(AuditEntry.seq == last.seq)).first()
        try:
            valid = signature_ok(public_key(), Checkpoint(**_as_dict(last)))
        except SigningKeyError as exc:
            status.update(ok=False, message=str(exc))
            return status
        if not valid:
            status.update(ok=False, message="the last checkpoint's signature does not verify")
            return status
        if entry is None or entry.hash != last.head_hash:
            status.update(ok=False, message="the log no longer matches the last checkpoint")
            return status
        if status["head_seq"] - last.seq > limit:
            status.update(ok=None, message="too many entries since the last checkpoint to check here")
            return status
        start, checkpoints = (last.seq, last.head_hash), []
    connection = db.session.connection()
    if _fast_path(connection):
        fast_rows = _fast_rows(connection, after=start[0])
        try:
            result = verify_rows(fast_rows, checkpoints, lambda cp: True,
                                 head=(head.seq, head.hash) if head else None, start=start,
                                 hasher=ColumnHasher(_reference_hash, sqlite=connection.dialect.name == "sqlite"),
                                 keys=(0, 1, 2))
        finally:
            fast_rows.close()
    else:
        result = verify_rows(_tail_rows(start[0]), checkpoints, lambda cp: True,
                             head=(head.seq, head.hash) if head else None, start=start)
    status.update(ok=result.ok, message="" if result.ok else f"seq {result.first_bad_seq}: {result.message}")
    return status


def _tail_rows(after: int) -> Iterator[dict]:
    columns = [getattr(AuditEntry, name) for name in ("prev_hash", "hash", *HASHED_FIELDS)]
    for row in db.session.execute(select(*columns).where(AuditEntry.seq > after).order_by(AuditEntry.seq)):
        yield row._asdict()


# --- export ---------------------------------------------------------------------------------------------------------

def prepare_export(actor, purpose: str = "audit log export") -> AuditCheckpoint:
    """Audit the export, then sign a checkpoint that covers that entry. The caller commits, then `write_export`."""
    audit.record("audit.export", actor=actor, actor_label=None if actor is not None else "cli",
                 object_type="audit_log", changes={"purpose": ["", purpose]})
    db.session.flush()
    return sign_checkpoint(force=True)


def write_export(out: IO[str], checkpoint: AuditCheckpoint) -> int:
    """JSON Lines: a header with the public key, the entries up to the checkpoint, then every checkpoint up to it.

    Returns the number of entries written. tools/verify_audit.py verifies such a file on its own.
    """
    key = public_key()
    checkpoints = sorted((cp for cp in all_checkpoints() if cp.seq <= checkpoint.seq),
                         key=lambda c: (c.seq, c.signed_at))
    header = {"type": "header", "format": EXPORT_FORMAT, "origin": checkpoint.origin,
              "public_key": base64.b64encode(raw_public_key(key)).decode("ascii"), "key_id": key_id(key),
              "exported_at": timestamp(utcnow()), "entries": checkpoint.seq,
              "verifier": "tools/verify_audit.py (python3 verify_audit.py FILE --public-key KEY.pub)"}
    out.write(json.dumps(header, sort_keys=True, ensure_ascii=False) + "\n")
    n = 0
    for row in _entry_rows(up_to=checkpoint.seq):
        row["occurred_at"] = timestamp(row["occurred_at"])
        out.write(json.dumps({"type": "entry", **row}, sort_keys=True, ensure_ascii=False) + "\n")
        n += 1
    for cp in checkpoints:
        out.write(json.dumps({"type": "checkpoint", **_as_dict(cp)}, sort_keys=True) + "\n")
    return n


def verifier_source() -> str:
    """The stand-alone verifier, for export bundles to carry."""
    return VERIFIER.read_text(encoding="utf-8")
