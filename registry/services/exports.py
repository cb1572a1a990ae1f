"""Exports: one dataset (what a list shows, with its filters and scoping) written in one format.

The file is written completely before anything is offered (to a temporary file by the web route, to a file that
is renamed into place by the CLI), so an export is never a half file with a success status. Each export is an
audit entry: who, which dataset, the exact filters, the row count and the SHA-256 of the file.
"""

import hashlib
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from typing import BinaryIO

from registry.db import db
from registry.exports.datasets import DATASETS
from registry.exports.sql_csv import write_csv_lines
from registry.exports.writers import FORMATS
from registry.i18n import _
from registry.services import audit, audit_checkpoints
from registry.services.errors import NotFound, ValidationFailed
from registry.services.permissions import can, require


@dataclass(frozen=True)
class ExportResult:
    dataset: str
    format: str
    rows: int
    size: int
    sha256: str
    filters: dict


class _Digest:
    """A write-only file that passes bytes on and keeps their SHA-256 and count."""

    def __init__(self, target: BinaryIO):
        self.target, self.hash, self.size = target, hashlib.sha256(), 0

    def write(self, data) -> int:
        data = bytes(data)
        self.hash.update(data)
        self.size += len(data)
        return self.target.write(data)

    def flush(self) -> None:
        self.target.flush()

    # openpyxl and io.TextIOWrapper look for these on the file they are given.
    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return False


def plain_filters(filters: dict) -> dict:
    """The filters as strings and lists of strings: what the audit entry and a bundle's record keep."""
    return {key: [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
            for key, value in sorted(filters.items())}


def datasets_for(user) -> list:
    return [d for d in DATASETS.values() if can(user, d.permission)]


def prepare(actor, dataset: str, fmt: str, args):
    """Check the permission, the format and the filters; returns the prepared dataset (not yet written)."""
    if dataset not in DATASETS:
        raise NotFound(dataset)
    require(actor, DATASETS[dataset].permission)
    if fmt not in FORMATS:
        raise ValidationFailed({"format": [_("Choose CSV, JSON, JSON Lines or XLSX.")]})
    prepared = DATASETS[dataset].prepare(actor, args)
    if prepared.problems:
        raise ValidationFailed({"filters": prepared.problems})
    return prepared


def with_progress(prepared, tick: Callable[[int], None]):
    """The same dataset, calling `tick(n)` as each n rows are read (for a progress bar or a job's progress)."""
    rows, lines = prepared.rows, prepared.csv_lines

    def counted_rows():
        with closing(rows()) as source:
            for row in source:
                tick(1)
                yield row

    def counted_lines():
        with closing(lines()) as source:
            for block in source:
                tick(block.lines)
                yield block

    return replace(prepared, rows=counted_rows, csv_lines=counted_lines if lines is not None else None)


def write(actor, dataset: str, fmt: str, prepared, out: BinaryIO) -> ExportResult:
    """Write the whole file to `out`, then record the export in the audit log (in the caller's transaction)."""
    writer = FORMATS[fmt][0]
    by_database = fmt == "csv" and prepared.csv_lines is not None  # the database writes the lines (sql_csv.py)
    # Closed however the writing ends (a full disk, say): the database cursor under it is released at once.
    with closing(prepared.csv_lines() if by_database else prepared.rows()) as source:
        if fmt == "xlsx":  # openpyxl writes a zip, which needs a seekable file: hash it once it is complete
            rows = writer(prepared.columns, source, out)
            out.seek(0)
            digest, size = hashlib.sha256(), 0
            for block in iter(lambda: out.read(1 << 20), b""):
                digest.update(block)
                size += len(block)
            sha256 = digest.hexdigest()
        else:
            tee = _Digest(out)
            rows = (write_csv_lines if by_database else writer)(prepared.columns, source, tee)
            sha256, size = tee.hash.hexdigest(), tee.size
    result = ExportResult(dataset, fmt, rows, size, sha256, dict(prepared.filters))
    audit.record("export.create", actor=actor, object_type="export", object_id=dataset,
                 changes={"dataset": [None, dataset], "format": [None, fmt],
                          "filters": [None, plain_filters(prepared.filters)],
                          "rows": [None, rows], "bytes": [None, size], "sha256": [None, sha256]})
    # Every export is covered by a signed checkpoint of the audit chain (issue 6): its own entry included.
    db.session.flush()
    audit_checkpoints.sign_checkpoint(force=True)
    return result
