"""Export jobs: big exports and bundles written to a file by a worker, with progress, kept for a while.

A streamed response cut by a worker timeout would still say 200 with half a file, so anything big is a job: the
worker writes the file under a temporary name, renames it when complete, and records its size and SHA-256; a
failure is recorded with its reason. Workers claim jobs one at a time: on PostgreSQL with FOR UPDATE SKIP LOCKED
(several workers on several hosts), on SQLite with a conditional UPDATE (its writers are serialised anyway).
"""

import logging
import os
import socket
from datetime import date, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import select, update

from registry.db import db, utcnow
from registry.exports.writers import FORMATS
from registry.i18n import _
from registry.models import ExportJob, User
from registry.services import audit, exports
from registry.services.errors import NotFound, PermissionDenied, ValidationFailed
from registry.services.permissions import require
from registry.services.validation import INT32_MAX

log = logging.getLogger(__name__)
STALE_AFTER = timedelta(hours=2)  # a job running this long lost its worker
PROGRESS_EVERY = 5000


def export_dir() -> Path:
    path = Path(current_app.config["EXPORT_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def request_dataset(actor, dataset: str, fmt: str, args) -> ExportJob:
    """Queue the export of a list (checked now: permission, format, filters), for a worker to write."""
    prepared = exports.prepare(actor, dataset, fmt, args)
    job = ExportJob(kind="dataset", dataset=dataset, format=fmt, filters={k: args.getlist(k) for k in args},
                    requested_by_id=actor.id, status="queued", rows_total=prepared.count())
    db.session.add(job)
    db.session.flush()
    audit.record("export.request", actor=actor, object_type="export_job", object_id=job.id,
                 changes={"dataset": [None, dataset], "format": [None, fmt],
                          "filters": [None, exports.plain_filters(prepared.filters)]})
    return job


def request_bundle(actor, period_from: date | None = None, period_to: date | None = None) -> ExportJob:
    """Queue "export everything" (or everything in a period) as a bundle; auditors only."""
    require(actor, "export.bundle")
    if period_from and period_to and period_to < period_from:
        raise ValidationFailed({"period_to": [_("The end date cannot be before the start date.")]})
    filters = {"from": period_from.isoformat() if period_from else None,
               "to": period_to.isoformat() if period_to else None}
    job = ExportJob(kind="bundle", dataset=None, format="zip", filters={k: v for k, v in filters.items() if v},
                    requested_by_id=actor.id, status="queued")
    db.session.add(job)
    db.session.flush()
    audit.record("export.request", actor=actor, object_type="export_job", object_id=job.id,
                 changes={"bundle": [None, True], "filters": [None, job.filters]})
    return job


def visible_jobs(user) -> list[ExportJob]:
    return list(db.session.scalars(select(ExportJob).where(ExportJob.requested_by_id == user.id)
                                   .order_by(ExportJob.id.desc()).limit(50)))


def job_file(user, job_id: int) -> tuple[ExportJob, Path]:
    """The finished file of one's own job (others' jobs do not exist for this user)."""
    # Ids beyond the key column's range are unknown, not a database error (PostgreSQL: 2**31, SQLite: 2**63).
    job = db.session.get(ExportJob, job_id) if 0 < job_id <= INT32_MAX else None
    if job is None or job.requested_by_id != user.id:
        raise NotFound("export_job")
    path = export_dir() / (job.file_name or "")
    if job.status != "done" or not job.file_name or not path.is_file():
        raise NotFound("export_file")
    return job, path


# --- the worker --------------------------------------------------------------------------------------------


def _worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:100]


def claim_next(worker: str | None = None) -> ExportJob | None:
    """Take the oldest queued job for this worker, or None. Commits the claim."""
    worker = worker or _worker_name()
    now = utcnow()
    db.session.execute(update(ExportJob).where(ExportJob.status == "running", ExportJob.started_at < now - STALE_AFTER)
                       .values(status="failed", error="The worker stopped before the export was complete.",
                               finished_at=now))
    stmt = select(ExportJob.id).where(ExportJob.status == "queued").order_by(ExportJob.id).limit(1)
    if db.engine.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    job_id = db.session.scalar(stmt)
    if job_id is None:
        db.session.commit()
        return None
    claimed = db.session.execute(update(ExportJob).where(ExportJob.id == job_id, ExportJob.status == "queued")
                                 .values(status="running", worker=worker, started_at=now))
    db.session.commit()
    if claimed.rowcount != 1:  # another worker took it between our read and our update (SQLite)
        return None
    return db.session.get(ExportJob, job_id)


def _progress(job_id: int):
    """Record progress on its own connection, so the job's transaction stays a reader until the end."""
    count = {"rows": 0}

    def tick(rows: int = 1) -> None:
        before = count["rows"]
        count["rows"] += rows
        if count["rows"] // PROGRESS_EVERY != before // PROGRESS_EVERY:
            with db.engine.begin() as connection:
                connection.execute(update(ExportJob).where(ExportJob.id == job_id).values(rows_done=count["rows"]))
    return tick


def run(job: ExportJob) -> ExportJob:
    """Write the job's file as its requester sees the data; mark it done or failed (with why). Commits."""
    from werkzeug.datastructures import MultiDict

    from registry.exports.bundle import build_bundle

    job_id = job.id
    actor = db.session.get(User, job.requested_by_id)
    extension = "zip" if job.kind == "bundle" else FORMATS[job.format][2]
    name = f"export-{job_id}-{job.dataset or 'bundle'}-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.{extension}"
    target = export_dir() / name
    partial = target.with_name(f".{name}.part")
    try:
        if actor is None or not actor.active:
            raise PermissionDenied("export")
        if job.kind == "bundle":
            result = build_bundle(actor, target, period_from=_date(job.filters.get("from")),
                                  period_to=_date(job.filters.get("to")))
            sha256, size, rows = result["sha256"], target.stat().st_size, sum(result["files"].values())
        else:
            args = MultiDict([(k, v) for k, values in job.filters.items() for v in values])
            prepared = exports.prepare(actor, job.dataset, job.format, args)
            prepared = exports.with_progress(prepared, _progress(job_id))
            with partial.open("w+b") as out:
                written = exports.write(actor, job.dataset, job.format, prepared, out)
                out.flush()
                os.fsync(out.fileno())
            partial.replace(target)
            sha256, size, rows = written.sha256, written.size, written.rows
        job = db.session.get(ExportJob, job_id)
        job.status, job.file_name, job.sha256, job.size = "done", name, sha256, size
        job.rows_done, job.finished_at = rows, utcnow()
        job.expires_at = job.finished_at + timedelta(days=current_app.config["EXPORT_KEEP_DAYS"])
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure is recorded on the job, with its reason
        db.session.rollback()
        partial.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        log.exception("export job %s failed", job_id)
        job = db.session.get(ExportJob, job_id)
        job.status, job.finished_at = "failed", utcnow()
        job.error = _failure_text(exc)
        db.session.commit()
    return job


def _failure_text(exc: Exception) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(str(m) for messages in exc.errors.values() for m in messages)
    if isinstance(exc, PermissionDenied):
        return _("The account that asked for this export may no longer export it.")
    if isinstance(exc, OSError):
        return _("The export could not be written: %(reason)s", reason=exc.strerror or str(exc))
    return f"{type(exc).__name__}: {exc}"[:2000]


def _date(value) -> date | None:
    return date.fromisoformat(value) if value else None


def run_pending(limit: int = 10) -> int:
    """Run up to `limit` queued jobs; returns how many ran."""
    done = 0
    while done < limit:
        job = claim_next()
        if job is None:
            break
        run(job)
        done += 1
    return done


def remove_expired() -> int:
    """Delete the files of jobs past their keeping time (the job rows stay, as history)."""
    now, removed = utcnow(), 0
    for job in db.session.scalars(select(ExportJob).where(ExportJob.status == "done", ExportJob.expires_at < now,
                                                          ExportJob.file_name.is_not(None))):
        (export_dir() / job.file_name).unlink(missing_ok=True)
        job.file_name, job.status = None, "expired"  # the digest stays: what was delivered
        removed += 1
    db.session.commit()
    return removed
