"""Every table as JSON Lines, for the restore test of a backup: an auditor's bundle carries them in data/tables/,
and `flask --app app restore-bundle` loads them into an empty registry with the same ids, records, versions and
audit chain.

Left out: live login sessions and export jobs (they belong to one running installation). Password hashes are
replaced by an unusable marker: a restored account gets a new password from an administrator.
"""

import base64
import json
from collections.abc import Iterator
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import Table, func, insert, select, text

from registry.db import Base, db

SKIPPED_TABLES = {"login_sessions", "export_jobs"}
UNUSABLE_PASSWORD = "!restored: set a new password"  # noqa: S105 - a marker no argon2 hash can match
BATCH = 1000


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return {"$base64": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return str(value)
    return value


def tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in SKIPPED_TABLES]


def dump(table: Table) -> Iterator[bytes]:
    """The rows of one table, as JSON Lines, in primary-key order."""
    stmt = select(table).order_by(*table.primary_key.columns)
    for row in db.session.execute(stmt.execution_options(yield_per=BATCH)).mappings():
        values = {name: _plain(value) for name, value in row.items()}
        if table.name == "users":
            values["password_hash"] = UNUSABLE_PASSWORD
        yield json.dumps(values, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"


def _typed(column, value: Any) -> Any:
    """A JSON value back into what the column's type takes."""
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"$base64"}:
        return base64.b64decode(value["$base64"])
    column_type = getattr(column.type, "impl_instance", column.type)  # a TypeDecorator's underlying type
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        return value
    if isinstance(python_type, type) and issubclass(python_type, Enum):
        return python_type(value)
    if python_type is datetime and isinstance(value, str):
        return datetime.fromisoformat(value)
    if python_type is date and isinstance(value, str):
        return date.fromisoformat(value)
    if python_type is time and isinstance(value, str):
        return time.fromisoformat(value)
    return value


class RestoreError(RuntimeError):
    """The bundle cannot be loaded here; the message says why."""


def restore(files: dict[str, bytes]) -> dict[str, int]:
    """Load data/tables/*.jsonl of a verified bundle into this (empty) database; returns rows per table.
    Runs in the caller's transaction; the caller commits."""
    counts = {}
    # A migrated database holds the chain's starting point (seq 0) in audit_head: the bundle's head replaces it.
    db.session.execute(text("DELETE FROM audit_head WHERE seq = 0"))
    for table in tables():
        if db.session.scalar(select(func.count()).select_from(table)):
            raise RestoreError(f"the table {table.name} is not empty: restore into a new, migrated database")
    for table in tables():
        data = files.get(f"data/tables/{table.name}.jsonl")
        if data is None:
            raise RestoreError(f"the bundle has no data/tables/{table.name}.jsonl (not an auditor's bundle, or "
                               "made by another version)")
        columns = table.columns
        batch, n = [], 0
        for line in data.decode("utf-8").splitlines():
            values = json.loads(line)
            unknown = set(values) - set(columns.keys())
            if unknown:
                raise RestoreError(f"{table.name}: unknown columns {sorted(unknown)}")
            batch.append({name: _typed(columns[name], value) for name, value in values.items()})
            n += 1
            if len(batch) >= BATCH:
                db.session.execute(insert(table), batch)
                batch = []
        if batch:
            db.session.execute(insert(table), batch)
        counts[table.name] = n
    if db.engine.dialect.name == "postgresql":
        for table in tables():
            key = list(table.primary_key.columns)
            if len(key) == 1 and key[0].autoincrement is not False and key[0].type.python_type is int:
                # Names come from our own metadata, never from the bundle.
                db.session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "  # noqa: S608
                    f"COALESCE((SELECT MAX({key[0].name}) FROM {table.name}), 0) + 1, false)"))
    return counts
