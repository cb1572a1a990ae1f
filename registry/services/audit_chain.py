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


# --- the database reader's hashing ---------------------------------------------------------------------------------

# The columns `ColumnHasher` takes, in this order, as the database gives them (no ORM, no type processing):
# `occurred_at` and `changes` as text (see audit_checkpoints._fast_rows for the SQL of each backend).
COLUMN_ORDER = ("seq", "prev_hash", "hash", "occurred_at", "actor_id", "actor_label", "actor_role", "action",
                "object_type", "object_id", "state_code", "changes", "outcome", "ip")
_escape_c = json.encoder.c_encode_basestring or json.encoder.py_encode_basestring
# The same C encoder `_encode` uses (`_encode` itself builds it anew at every call, a third of its time).
_make_encoder = json.encoder.c_make_encoder
_encode_chunks = (_make_encoder(None, None, _escape_c, None, ":", ",", True, False, False)
                  if _make_encoder is not None else None)
# json.loads without its layers: the scanner it ends in, on a text that must be one JSON value and nothing else.
_scan_once = json.JSONDecoder().scan_once


class ColumnHasher:
    """`hasher` for `verify_rows` over raw column tuples (COLUMN_ORDER): the entry hash without the ORM.

    The canonical document is written from a template: the keys in their sorted order, strings escaped by the C
    escaper (what `_encode` escapes with), integers as digits, null; `changes` decoded with json.loads and
    encoded by the C encoder, the timestamp's text rearranged. Nothing else is assumed about the columns: a value
    of an unexpected type or form (a text where a number is, a timestamp in another format, a float, a
    non-ASCII key) and any hash that does not match the stored one are handed to `reference(prev_hash, seq)`,
    the registry's own `entry_hash` over the row as the ORM reads it - which is then the verdict. So this
    shortcut never decides a failure, and it accepts only a document whose bytes equal those the stored hash
    was made of: every field is escaped JSON except `changes`, whose text is its own encoding of a decoded
    value; the keys between them cannot be shifted into another field; and that document decodes to the same
    values the reference would read (tests/test_audit_chain.py holds both to the same answers on tampered logs).
    """

    def __init__(self, reference, sqlite: bool):
        self.reference = reference
        self.sqlite = sqlite
        self.fallbacks = 0

    def __call__(self, prev: str, row) -> str:
        (seq, _prev, stored, when, actor_id, actor_label, actor_role, action, object_type, object_id, state_code,
         changes, outcome, ip) = row
        esc = _escape_c
        try:
            # SQLite holds 'YYYY-MM-DD HH:MM:SS.ffffff' (UTC); PostgreSQL's to_char gave the chain's form + 'AD'.
            if self.sqlite:
                if len(when) != 26 or when[10] != " ":
                    raise ValueError(when)
                when = f"{when[:10]}T{when[11:]}Z"
            else:
                if len(when) != 29 or when[27:] != "AD":
                    raise ValueError(when)
                when = when[:27]
            if changes is None:
                changes = "null"
            else:
                value, end = _scan_once(changes, 0)  # StopIteration (no value at 0: space, empty) is caught below
                if end != len(changes):
                    raise ValueError("text after the JSON value")
                changes = "".join(_encode_chunks(value, 0)) if _encode_chunks is not None else _encode(value)
            if type(actor_id) is not int and actor_id is not None:  # bool is not an id
                raise TypeError(actor_id)
            if type(seq) is not int:
                raise TypeError(seq)
            document = (
                f'{{"action":{esc(action)},"actor_id":{"null" if actor_id is None else actor_id},'
                f'"actor_label":{esc(actor_label)},"actor_role":{"null" if actor_role is None else esc(actor_role)},'
                f'"changes":{changes},"ip":{"null" if ip is None else esc(ip)},'
                f'"object_id":{"null" if object_id is None else esc(object_id)},'
                f'"object_type":{"null" if object_type is None else esc(object_type)},"occurred_at":{esc(when)},'
                f'"outcome":{esc(outcome)},"seq":{seq},'
                f'"state_code":{"null" if state_code is None else esc(state_code)}}}'
            )
            digest = hashlib.sha256(DOMAIN_TAG + bytes.fromhex(prev)
                                    + document.encode("utf-8", "surrogatepass")).hexdigest()
        except (TypeError, ValueError, AttributeError, RecursionError, StopIteration):
            digest = ""
        if digest == stored:
            return digest
        self.fallbacks += 1
        return self.reference(prev, seq)


def _fields(entry: AuditEntry) -> dict[str, Any]:
    return {name: getattr(entry, name) for name in HASHED_FIELDS}


# --- appending ------------------------------------------------------------------------------------------------------

def mark_order(entry: AuditEntry) -> None:
    """Entries of one flush are chained in the order they were recorded."""
    entry.info_order = next(_order)


def _lock_head(session: Session) -> tuple[int, str]:
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # The no-op UPDATE takes the write lock and reads the head in one statement.
        row = connection.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
                                 .returning(AuditHead.seq, AuditHead.hash)).first()
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
                start: tuple[int, str] = (0, GENESIS_HASH), hasher=None,
                keys: tuple[Any, Any, Any] = ("seq", "prev_hash", "hash")) -> Verification:
    """Recompute the chain from `rows` (dicts in seq order) and hold it against the signed checkpoints.

    `check_signature(checkpoint) -> bool`; `head` is the (seq, hash) the database's head row claims, if any;
    `start` lets a caller verify a tail from a known-good (seq, hash). `hasher(prev_hash, row)` (default
    `entry_hash`) and `keys` (where a row holds its seq, previous hash and hash) let the database's reader pass
    tuples and its own hashing (`ColumnHasher`); the decisions below are the same for every caller.
    """
    hasher = hasher or entry_hash
    k_seq, k_prev, k_hash = keys
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
        seq = row[k_seq]
        if seq != expected:
            if seq is not None and seq > expected:
                return Verification(False, n - 1, verified_cps, expected,
                                    f"entry {expected} is missing (the next entry is {seq})")
            return Verification(False, n - 1, verified_cps, expected,
                                f"entry out of order or duplicated: seq {seq} where {expected} was expected")
        if row[k_prev] != prev:
            return Verification(False, n - 1, verified_cps, seq,
                                "its previous-hash does not match the entry before it (entries deleted, "
                                "inserted or swapped)")
        try:
            computed = hasher(prev, row)
        except (TypeError, ValueError, AttributeError) as exc:
            return Verification(False, n - 1, verified_cps, seq, f"the entry cannot be hashed: {exc}")
        if computed != row[k_hash]:
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
