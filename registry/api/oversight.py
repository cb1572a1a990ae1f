"""Reference data, the caller's token, the review queue, the audit log and export jobs."""

from flask import request, send_file, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import MultiDict

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.audit.forms import AuditFilterForm
from registry.audit.routes import filtered_entries
from registry.db import db, utcnow
from registry.exports.writers import FORMATS
from registry.i18n import _
from registry.models import AuditEntry, ExportJob, MemberState
from registry.review.routes import queue_items
from registry.services import export_jobs as jobs
from registry.services.errors import NotFound, ValidationFailed
from registry.services.permissions import require
from registry.services.scoping import visible


def _state_out(state: MemberState, with_history: bool = False) -> s.StateOut:
    status = state.status_on(utcnow().date())
    history = None
    if with_history:
        history = [{"status": p.status.value, "valid_from": p.valid_from, "valid_to": p.valid_to, "source": p.source}
                   for p in sorted(state.status_periods, key=lambda p: p.valid_from)]
    return s.StateOut(code=state.code, iso3=state.iso3, names={"en": state.name_en, "ru": state.name_ru,
                                                                "zh": state.name_zh},
                      status=status.value if status else None, history=history)


@endpoint("/me", "GET", scope="read", tag="Account", response=s.MeOut, errors=(401, 403),
          summary="Who this token acts for", description="The token's owner, role, state and scopes.")
def me():
    from flask import g

    token = g.api_token
    user = current_user
    return ok(s.MeOut(email=user.email, display_name=user.display_name, role=user.role.value,
                      state=user.state.code if user.state else None, token_name=token.name,
                      scopes=token.scope_list, token_expires_at=token.expires_at))


@endpoint("/states", "GET", scope="read", tag="Member states", response=s.StateList, errors=(401, 403),
          summary="Member states and partners", description="Every state with its names and status today.")
def list_states():
    states = db.session.scalars(visible(current_user, MemberState).order_by(MemberState.code)
                                .options(selectinload(MemberState.status_periods))).all()
    return ok(s.StateList(items=[_state_out(state) for state in states]))


@endpoint("/states/<code>", "GET", scope="read", tag="Member states", response=s.StateOut, errors=(401, 403, 404),
          summary="One state with its status history")
def get_state(code: str):
    state = None
    if len(code) == 2 and code.isascii() and code.isalpha():
        state = db.session.scalar(visible(current_user, MemberState).where(MemberState.code == code.upper()))
    if state is None:
        return problem(404, "not-found")
    return ok(_state_out(state, with_history=True))


@endpoint("/review/queue", "GET", scope="read", tag="Review", response=s.QueueOut, errors=(401, 403),
          summary="What awaits a decision (the Secretariat, auditors)",
          description="Every record of every type awaiting a decision, the longest-waiting first, as the "
                      "review queue page shows it.")
def review_queue():
    require(current_user, "submission.review_queue")
    items, truncated = queue_items(current_user)
    return ok(s.QueueOut(items=[
        s.QueueItemOut(reference=i.submission.reference, record_type=i.submission.record_type.value,
                       state=i.submission.state.code, status=i.submission.status.value, revision_no=i.revision.number,
                       waiting_since=i.waiting_since, age_days=i.age_days, warnings=i.warnings)
        for i in items], truncated=truncated))


@endpoint("/audit", "GET", scope="read", tag="Audit log", query=s.AuditQuery, response=s.AuditPage,
          errors=(401, 403, 422), summary="The audit log, newest first (auditors, administrators)",
          description="The audit page's filters, checked by the page's own form; keyset pages by sequence "
                      "number: pass `next_before` as `before`.")
def audit_log(query):
    require(current_user, "audit.view")
    form = AuditFilterForm(MultiDict([(k, v) for k, v in request.args.items(multi=True)
                                      if k not in ("before", "limit")]))
    if not form.validate():
        return problem(422, "invalid-query", errors={k: [str(m) for m in v] for k, v in form.errors.items()})
    stmt = filtered_entries(current_user, form.data).limit(query.limit + 1)
    if query.before:
        stmt = stmt.where(AuditEntry.seq < query.before)
    entries = db.session.scalars(stmt).all()
    next_before = entries[query.limit - 1].seq if len(entries) > query.limit else None
    return ok(s.AuditPage(items=[
        s.AuditEntryOut(seq=e.seq, occurred_at=e.occurred_at, actor=e.actor_label, actor_role=e.actor_role,
                        action=e.action, object_type=e.object_type, object_id=e.object_id, state_code=e.state_code,
                        outcome=e.outcome, changes=e.changes if isinstance(e.changes, dict) else None, hash=e.hash)
        for e in entries[:query.limit]], next_before=next_before))


# --- export jobs ------------------------------------------------------------------------------------------------


def _job_out(job: ExportJob) -> s.ExportJobOut:
    return s.ExportJobOut(
        id=job.id, kind=job.kind, dataset=job.dataset, format=job.format, filters=job.filters or {},
        status=job.status, created_at=job.created_at, started_at=job.started_at, finished_at=job.finished_at,
        expires_at=job.expires_at, rows_done=job.rows_done, rows_total=job.rows_total, size=job.size,
        sha256=job.sha256, error=job.error,
        file_url=url_for("api.export_job_file", job_id=job.id) if job.status == "done" else None)


def _own_job(job_id: int) -> ExportJob | None:
    job = db.session.get(ExportJob, job_id) if 0 < job_id < 2**31 else None
    return job if job is not None and job.requested_by_id == current_user.id else None


@endpoint("/export-jobs", "GET", scope="export", tag="Export jobs", response=s.ExportJobList, errors=(401, 403),
          summary="Your export jobs", description="The caller's own jobs, newest first (as on the exports page).")
def list_export_jobs():
    return ok(s.ExportJobList(items=[_job_out(job) for job in jobs.visible_jobs(current_user)]))


@endpoint("/export-jobs", "POST", scope="export", tag="Export jobs", body=s.ExportJobIn, response=s.ExportJobOut,
          status=202, errors=(401, 403, 422), summary="Queue the export of a list",
          description="The dataset with the list's filters, in the format asked; a worker writes the file. "
                      "Checked now like the page's export: permission, format and filters.")
def create_export_job(body):
    args = MultiDict([(key, value) for key, values in body.filters.items() for value in values])
    try:
        job = jobs.request_dataset(current_user, body.dataset, body.format, args)
    except NotFound as exc:
        raise ValidationFailed({"dataset": [_("Choose a value from the list.")]}) from exc
    db.session.commit()
    return ok(_job_out(job), 202, headers={"Location": url_for("api.get_export_job", job_id=job.id)})


@endpoint("/export-jobs/bundle", "POST", scope="export", tag="Export jobs", body=s.BundleIn,
          response=s.ExportJobOut, status=202, errors=(401, 403, 422), summary="Queue the bundle of everything",
          description="Auditors: every record (or those of a period) as one signed bundle.")
def create_bundle_job(body):
    job = jobs.request_bundle(current_user, body.period_from, body.period_to)
    db.session.commit()
    return ok(_job_out(job), 202, headers={"Location": url_for("api.get_export_job", job_id=job.id)})


@endpoint("/export-jobs/<int:job_id>", "GET", scope="export", tag="Export jobs", response=s.ExportJobOut,
          errors=(401, 403, 404), summary="One of your export jobs, with its progress")
def get_export_job(job_id: int):
    job = _own_job(job_id)
    if job is None:
        return problem(404, "not-found")
    return ok(_job_out(job))


@endpoint("/export-jobs/<int:job_id>/file", "GET", scope="export", tag="Export jobs", errors=(401, 403, 404),
          media_type="application/octet-stream", summary="Download a finished export",
          description="The file, with its SHA-256 in X-Checksum-SHA256 (also in the job).")
def export_job_file(job_id: int):
    if _own_job(job_id) is None:  # also keeps ids beyond the key's range away from the database
        return problem(404, "not-found")
    try:
        job, path = jobs.job_file(current_user, job_id)
    except NotFound:
        return problem(404, "not-found")
    media = "application/zip" if job.kind == "bundle" else FORMATS[job.format][1]
    response = send_file(path, mimetype=media, as_attachment=True, download_name=job.file_name, max_age=0)
    response.headers["X-Checksum-SHA256"] = job.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
