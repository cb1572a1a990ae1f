"""The audit log's hash chain: canonical form, hashing, serialised appends and verification.

Every entry gets a gapless `seq` and

    hash = SHA-256(DOMAIN_TAG || bytes(prev_hash) || canonical JSON of the entry)

with the first entry's `prev_hash` all zeros. The canonical JSON follows RFC 8785 for the values an entry may
hold (objects with keys sorted by UTF-16 code units, arrays, strings, integers, true/false/null; no whitespace;
UTF-8). Floats are never stored: `normalise` turns them into strings before the entry is written, so what is
hashed is exactly what the database holds. tools/verify_audit.py repeats this code without importing the registry;
a test checks that both give the same hashes.

Appends are serialised and happen at flush time, in the caller's transaction (`before_flush` below):
- PostgreSQL: the one row of `audit_head` is locked FOR UPDATE until the transaction ends;
- SQLite: a no-op UPDATE of that row. pysqlite begins its (deferred) transaction just before the first write, so
  this statement, or an earlier write of the same transaction, takes SQLite's single write lock with the busy
  timeout and keeps it until commit: from there on the transaction is as serialised as one opened with
  BEGIN IMMEDIATE, without making every read-only request take the write lock.
The head is then read, the new entries are numbered and hashed, and the head is moved, all before the entries are
inserted. A rolled-back transaction leaves neither entry nor head change; an append that fails fails the flush,
so the change it records is rolled back with it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from itertools import count
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from registry.db import utcnow
from registry.models import AuditEntry, AuditHead
from registry.models.audit import GENESIS_HASH

DOMAIN_TAG = b"sco-cbm-registry/audit-entry/v1\x00"
HASHED_FIELDS = ("seq", "occurred_at", "actor_id", "actor_label", "actor_role", "action", "object_type",
                 "object_id", "state_code", "changes", "outcome", "ip")
_order = count()


# --- canonical form -------------------------------------------------------------------------------------------------

def _escape(text: str) -> str:
    # json.dumps without ASCII escaping writes exactly the escapes RFC 8785 (ECMAScript JSON.stringify) writes:
    # \" \\ \b \f \n \r \t and \u00xx (lower-case hex) for the other control characters; nothing else.
    return json.dumps(text, ensure_ascii=False)


# The C encoder writes RFC 8785 for what `_plain` accepts: keys sorted by code point (the same order as by UTF-16
# code units for ASCII keys), the same string escapes as `_escape`, integers as digits, no whitespace.
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False).encode


def _plain(value: Any) -> bool:
    """Only dicts with ASCII keys, lists, strings, integers, booleans and None: `_encode` is then canonical."""
    stack = [value]  # a loop, not recursion: this check is half of the hashing's time
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            for key, inner in item.items():
                if type(key) is not str or not key.isascii():
                    return False
                stack.append(inner)
        elif kind is list:
            stack.extend(item)
        elif not (kind is str or kind is int or kind is bool or item is None):
            return False
    return True


def canonical(value: Any) -> str:
    """RFC 8785 JSON of a value made of dicts, lists, strings, integers, booleans and None.

    Audit entries take the fast path (the C encoder, 10 times faster: verification is bound by this); anything
    else (non-ASCII keys, tuples, enums, floats refused) the rules below, which define the form.
    """
    if _plain(value):
        return _encode(value)
    return _canonical(value)


def _canonical(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return _escape(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(_canonical(item) for item in value) + "]"
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise TypeError(f"object keys must be strings, not {type(key).__name__}")
        keys = sorted(value, key=lambda k: k.encode("utf-16-be"))
        return "{" + ",".join(_escape(k) + ":" + _canonical(value[k]) for k in keys) + "}"
    raise TypeError(f"{type(value).__name__} has no canonical form (only strings, integers, booleans, null)")


def normalise(value: Any) -> Any:
    """What `changes` may hold: floats, decimals, dates and enums become strings; tuples and sets lists."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Enum):
        return normalise(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float | Decimal):
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dict):
        return {str(k): normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [normalise(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((normalise(v) for v in value), key=canonical)
    return str(value)


def timestamp(value: datetime) -> str:
    """The one text form of a time in the chain: UTC, microseconds, 'Z'."""
    # What the database gives back takes the fast way (isoformat is several times faster than strftime).
    if value.tzinfo is UTC and value.year >= 1000:
        return value.isoformat(timespec="microseconds")[:-6] + "Z"
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def entry_document(fields: dict[str, Any]) -> dict[str, Any]:
    """The hashed content of an entry, from its column values."""
    document = {name: fields.get(name) for name in HASHED_FIELDS}
    when = fields["occurred_at"]
    document["occurred_at"] = when if isinstance(when, str) else timestamp(when)  # exported logs hold the text
    return document


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = canonical(entry_document(fields)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(DOMAIN_TAG + bytes.fromhex(prev_hash) + payload).hexdigest()


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


# --- appending ------------------------------------------------------------------------------------------------------

def mark_order(entry: AuditEntry) -> None:
    """Entries of one flush are chained in the order they were recorded."""
    entry.info_order = next(_order)


def _lock_head(session: Session) -> tuple[int, str]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        connection.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq))
        row = connection.execute(select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1)).first()
    else:
        row = connection.execute(
            select(AuditHead.seq, AuditHead.hash).where(AuditHead.id == 1).with_for_update()
        ).first()
    if row is None:
        raise RuntimeError("the audit_head row is missing: run `flask --app app db upgrade`")
    return row.seq, row.hash


@event.listens_for(Session, "before_flush")
def _chain_new_entries(session: Session, flush_context, instances) -> None:
    pending = [obj for obj in session.new if isinstance(obj, AuditEntry) and obj.seq is None]
    if not pending:
        return
    pending.sort(key=lambda e: getattr(e, "info_order", -1))
    seq, head = _lock_head(session)
    for entry in pending:
        seq += 1
        if entry.occurred_at is None:
            entry.occurred_at = utcnow()
        entry.changes = normalise(entry.changes) if entry.changes else None
        entry.seq, entry.prev_hash = seq, head
        head = entry.hash = entry_hash(head, _fields(entry))
    session.connection().execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, hash=head))


# --- verification ---------------------------------------------------------------------------------------------------

@dataclass
class Checkpoint:
    origin: str
    seq: int
    head_hash: str
    signed_at: str
    key_id: str
    signature: str
    source: str = "database"


@dataclass
class Verification:
    ok: bool
    entries: int
    checkpoints: int
    first_bad_seq: int | None = None
    message: str = ""

    def lines(self) -> list[str]:
        if self.ok:
            return [f"OK: {self.entries} entries, chain intact; {self.checkpoints} checkpoint(s) verified"]
        return [f"FAILED at seq {self.first_bad_seq}: {self.message}",
                f"({self.entries} entries read, {self.checkpoints} checkpoint(s) verified before the failure)"]


def verify_rows(rows, checkpoints: list[Checkpoint], check_signature, head: tuple[int, str] | None = None,
                start: tuple[int, str] = (0, GENESIS_HASH)) -> Verification:
    """Recompute the chain from `rows` (dicts in seq order) and hold it against the signed checkpoints.

    `check_signature(checkpoint) -> bool`; `head` is the (seq, hash) the database's head row claims, if any;
    `start` lets a caller verify a tail from a known-good (seq, hash).
    """
    checkpoints = sorted(checkpoints, key=lambda c: (c.seq, c.signed_at))
    for cp in checkpoints:
        if not check_signature(cp):
            return Verification(False, 0, 0, cp.seq,
                                f"checkpoint for seq {cp.seq} ({cp.signed_at}, {cp.source}) has an invalid "
                                "signature or was signed by another key")
    pending = [cp for cp in checkpoints if cp.seq > start[0]]
    good_checkpoint = start[0]
    expected, prev = start[0] + 1, start[1]
    n = verified_cps = 0
    for row in rows:
        n += 1
        seq = row["seq"]
        if seq != expected:
            if seq is not None and seq > expected:
                return Verification(False, n - 1, verified_cps, expected,
                                    f"entry {expected} is missing (the next entry is {seq})")
            return Verification(False, n - 1, verified_cps, expected,
                                f"entry out of order or duplicated: seq {seq} where {expected} was expected")
        if row["prev_hash"] != prev:
            return Verification(False, n - 1, verified_cps, seq,
                                "its previous-hash does not match the entry before it (entries deleted, "
                                "inserted or swapped)")
        try:
            computed = entry_hash(prev, row)
        except (TypeError, ValueError, AttributeError) as exc:
            return Verification(False, n - 1, verified_cps, seq, f"the entry cannot be hashed: {exc}")
        if computed != row["hash"]:
            return Verification(False, n - 1, verified_cps, seq,
                                "its content does not match its hash (the entry was edited)")
        while pending and pending[0].seq == seq:
            cp = pending.pop(0)
            if cp.head_hash != computed:
                return Verification(False, n, verified_cps, good_checkpoint + 1,
                                    f"the chain differs from the checkpoint signed at {cp.signed_at} for seq "
                                    f"{cp.seq}: an entry between {good_checkpoint + 1} and {cp.seq} was changed "
                                    "and the chain recomputed after it")
            verified_cps += 1
            good_checkpoint = cp.seq
        prev, expected = computed, seq + 1
    last = expected - 1
    if pending:
        cp = pending[0]
        return Verification(False, n, verified_cps, last + 1,
                            f"the log ends at seq {last} but a checkpoint signed at {cp.signed_at} covers "
                            f"{cp.seq} entries: entries {last + 1} to {cp.seq} were removed")
    if head is not None and head != (last, prev):
        return Verification(False, n, verified_cps, min(head[0], last) + 1,
                            f"the head row says the chain ends at seq {head[0]}, the log ends at seq {last} "
                            "(entries removed from the end, or appended outside the registry)")
    return Verification(True, n, verified_cps)
