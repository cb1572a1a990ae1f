"""The post-visit report (the host's) and the visiting states' remarks: open, edit with the signed document,
read, and download the document of a version the reader may see."""

import io

from flask import abort, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from registry.db import db
from registry.enums import RecordType
from registry.i18n import _
from registry.models import Submission
from registry.records import adapter_for
from registry.records_ui.routes import (
    after_save,
    page_context,
    readable_revisions,
    shown_revision_number,
    version_diff,
    visible_submission_or_404,
)
from registry.services import submissions as workflow
from registry.services import visit_papers as svc
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import require
from registry.services.scoping import sees_working_version
from registry.visits.blueprint import bp
from registry.visits.forms import PaperForm, StartPaperForm
from registry.visits.routes import _visit_or_404
from registry.web import apply_errors, login_required

KINDS = {"report": RecordType.VISIT_REPORT, "remarks": RecordType.VISIT_REMARKS}
# The request body may be MAX_UPLOAD_LENGTH here (registry.RegistryRequest): a little above the document's own
# limit, so a document that is too large gets its message beside the field rather than a bare "too large" page.


def _paper_or_404(reference: str) -> Submission:
    submission = visible_submission_or_404(reference)
    if submission.record_type not in KINDS.values():
        abort(404)
    return submission


@bp.route("/<reference>/papers/<kind>", methods=["POST"])
@login_required
def start_paper(reference: str, kind: str):
    """Open the report (host) or the remarks (a state that took part) as a draft."""
    if kind not in KINDS:
        abort(404)
    submission, visit = _visit_or_404(reference)
    form = StartPaperForm()
    if not form.validate():
        flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
        return redirect(url_for("visits.detail", reference=submission.reference))
    try:
        paper = svc.start_paper(current_user, visit, KINDS[kind], idempotency_key=form.idempotency_key.data)
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(url_for("visits.detail", reference=submission.reference))
    db.session.commit()
    return redirect(url_for("visits.paper_edit", reference=paper.reference))


def _render_form(form: PaperForm, paper: Submission, *, conflict=None, status=200):
    revision = paper.current_revision
    details = svc.paper_of(revision)
    if paper.record_type != RecordType.VISIT_REPORT:
        del form.held_from
        del form.held_to
    findings = adapter_for(paper.record_type).check(paper, revision)
    return render_template("visits/paper_form.html", form=form, paper=paper, details=details, findings=findings,
                           conflict=conflict, limit_mb=svc.MAX_ATTACHMENT_BYTES // (1024 * 1024)), status


@bp.route("/papers/<reference>/edit", methods=["GET", "POST"])
@login_required
def paper_edit(reference: str):
    paper = _paper_or_404(reference)
    if request.method == "GET":
        try:
            revision = workflow.editable_revision(current_user, paper)
        except workflow.InvalidTransition as exc:
            flash(str(exc), "error")
            return redirect(url_for("visits.paper_detail", reference=paper.reference))
        details = svc.paper_of(revision)
        form = PaperForm(formdata=None, data={
            "visibility": paper.visibility.value, "text": details.text,
            "held_from": details.held_from.isoformat() if details.held_from else "",
            "held_to": details.held_to.isoformat() if details.held_to else "",
            "lock_version": str(paper.lock_version)})
        if request.args.get("check") == "1":
            for finding in adapter_for(paper.record_type).check(paper, revision):
                field = form[finding["field"]] if finding["field"] in form else None
                if field is not None:
                    field.errors = list(field.errors) + [str(finding["message"])]
        return _render_form(form, paper)
    require(current_user, "submission.file", paper)
    form = PaperForm()
    if not form.validate():
        return _render_form(form, paper)
    upload = request.files.get("document")
    document = None
    if upload and upload.filename:
        with upload.stream:  # read at most one byte past the limit, then let the spooled file go
            document = (upload.filename, upload.stream.read(svc.MAX_ATTACHMENT_BYTES + 1))
    is_report = paper.record_type == RecordType.VISIT_REPORT
    try:
        svc.update_paper(current_user, paper, text=form.text.data,
                         held_from=form.held_from.as_date() if is_report else None,
                         held_to=form.held_to.as_date() if is_report else None, upload=document,
                         remove_attachment=bool(form.remove_document.data), visibility=form.visibility.data,
                         expected_lock=form.lock_version.data or "missing")
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _render_form(form, paper)
    except Conflict as exc:
        db.session.rollback()
        return _render_form(form, paper, conflict=str(exc), status=409)
    db.session.commit()
    return after_save(paper)


@bp.route("/papers/<reference>")
@login_required
def paper_detail(reference: str):
    paper = _paper_or_404(reference)
    adapter = adapter_for(paper.record_type)
    shown_no = shown_revision_number(paper)
    revision = paper.revision(shown_no)
    details = svc.paper_of(revision) if revision is not None else None
    findings = []
    if details is not None and sees_working_version(current_user, paper):
        findings = (revision.findings or []) if revision.is_frozen else adapter.check(paper, revision)
    return render_template("visits/paper_detail.html", **page_context(paper), shown_no=shown_no, revision=revision,
                           details=details, findings=findings,
                           diff=version_diff(paper, lambda r: adapter.snapshot(paper, r)))


@bp.route("/papers/<reference>/document/<int:number>")
@login_required
def paper_document(reference: str, number: int):
    """The signed document of a version this user may read, as the attachment it is (never shown inline)."""
    paper = _paper_or_404(reference)
    revision = next((r for r in readable_revisions(paper) if r.number == number), None)
    details = svc.paper_of(revision) if revision is not None else None
    if details is None or details.attachment is None:
        abort(404)
    attachment = details.attachment
    response = send_file(io.BytesIO(attachment.data), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename, max_age=0)
    response.headers["X-Checksum-SHA256"] = attachment.sha256
    response.headers["Cache-Control"] = "private, no-store"
    return response
