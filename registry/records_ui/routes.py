"""What every record type shares on the web: the workflow buttons, the timeline, versions and their diff.

Record types register their detail and edit endpoints in DETAIL_ENDPOINTS / EDIT_ENDPOINTS; the workflow
actions of every type post to the one `records.act` endpoint here.
"""

import re

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry.db import db
from registry.enums import CommentVisibility, RecordType
from registry.i18n import _
from registry.models import Submission, SubmissionEvent
from registry.records_ui.forms import ActionForm
from registry.services import submissions as svc
from registry.services.errors import Conflict, ValidationFailed
from registry.services.scoping import may_read_comment, sees_working_version, visible
from registry.services.versions import diff_snapshots
from registry.web import login_required
from registry.workflow import TRANSITIONS

bp = Blueprint("records", __name__, url_prefix="/records")

DETAIL_ENDPOINTS = {RecordType.EXERCISE: "exercises.detail", RecordType.CALENDAR: "calendars.detail",
                    RecordType.VISIT: "visits.detail", RecordType.VISIT_REPORT: "visits.paper_detail",
                    RecordType.VISIT_REMARKS: "visits.paper_detail", RecordType.STRUCTURE: "structures.detail"}
EDIT_ENDPOINTS = {RecordType.EXERCISE: "exercises.edit", RecordType.CALENDAR: "calendars.edit",
                  RecordType.VISIT: "visits.edit", RecordType.VISIT_REPORT: "visits.paper_edit",
                  RecordType.VISIT_REMARKS: "visits.paper_edit", RecordType.STRUCTURE: "structures.edit"}
# EXN-2026-0042: anything else cannot be a reference and is not looked up ('EXN\x00' would make PostgreSQL fail).
REFERENCE_PATTERN = re.compile(r"[A-Za-z]{3}-\d{4}-\d{4,8}", re.ASCII)


def visible_submission_or_404(reference: str, record_type: RecordType | None = None) -> Submission:
    """The record if this user may see it; otherwise 404 (never 403: do not confirm that it exists)."""
    if not REFERENCE_PATTERN.fullmatch(reference or ""):
        abort(404)
    stmt = visible(current_user, Submission).where(Submission.reference == reference.upper())
    if record_type is not None:
        stmt = stmt.where(Submission.record_type == record_type)
    submission = db.session.scalar(stmt)
    if submission is None:
        abort(404)
    return submission


def shown_revision_number(submission: Submission) -> int:
    """Own state, Secretariat and auditors read the working version; everyone else the accepted one."""
    if sees_working_version(current_user, submission):
        return submission.current_revision_no
    return submission.accepted_revision_no


def timeline(submission: Submission) -> list[SubmissionEvent]:
    return list(db.session.scalars(
        visible(current_user, SubmissionEvent)
        .where(SubmissionEvent.submission_id == submission.id)
        .order_by(SubmissionEvent.id)
    ))


def available_actions(submission: Submission) -> list[str]:
    """The workflow buttons this user may press now ('edit' is a link, not a button)."""
    return [a for a in TRANSITIONS if a != "edit" and svc.can_perform(current_user, submission, a)]


def readable_revisions(submission: Submission) -> list:
    """Versions this user may compare: all frozen ones (and the draft) for insiders, accepted ones for others."""
    if sees_working_version(current_user, submission):
        return list(submission.revisions)
    accepted = {e.revision_no for e in submission.events if e.action == "accept"}
    return [r for r in submission.revisions if r.number in accepted and r.is_frozen]


def version_diff(submission: Submission, snapshot_of) -> dict | None:
    """The diff asked for with ?a=N&b=M, between versions this user may read; `snapshot_of(revision)` gives
    the snapshot of a draft (frozen versions carry their own)."""
    numbers = {r.number: r for r in readable_revisions(submission)}
    a, b = request.args.get("a", type=int), request.args.get("b", type=int)
    if a is None or b is None:
        return None
    if a not in numbers or b not in numbers:
        abort(404)
    old = numbers[a].snapshot if numbers[a].is_frozen else snapshot_of(numbers[a])
    new = numbers[b].snapshot if numbers[b].is_frozen else snapshot_of(numbers[b])
    return {"a": a, "b": b, "changes": diff_snapshots(old, new)}


def page_context(submission: Submission) -> dict:
    """Everything the shared partials (_envelope, _actions, _timeline, _versions) need."""
    events = timeline(submission)
    return {
        "submission": submission,
        "actions": available_actions(submission),
        "action_form": ActionForm(lock_version=submission.lock_version),
        "events": events,
        "readable_comments": {e.id for e in events if e.comment and may_read_comment(current_user, e)},
        "revisions": readable_revisions(submission),
        "can_edit": svc.can_perform(current_user, submission, "edit"),
        "edit_endpoint": EDIT_ENDPOINTS.get(submission.record_type),
        "detail_endpoint": DETAIL_ENDPOINTS.get(submission.record_type),
        "comment_visibilities": CommentVisibility,
    }


def after_save(submission: Submission):
    """After a record form is saved: "Save draft" stays on the form; "Save and submit" submits the saved draft
    when the rules allow it, else the edit page shows each blocking problem beside its field (check=1)."""
    edit_url = url_for(EDIT_ENDPOINTS[submission.record_type], reference=submission.reference)
    if request.form.get("action") != "submit":
        flash(_("Saved as a draft: %(ref)s.", ref=submission.reference), "success")
        return redirect(edit_url)
    try:
        svc.submit(current_user, submission, expected_lock=submission.lock_version)
    except ValidationFailed:
        db.session.rollback()
        flash(_("Your changes to %(ref)s were saved, but it cannot be submitted yet: correct what is marked "
                "below, then submit again.", ref=submission.reference), "error")
        return redirect(url_for(EDIT_ENDPOINTS[submission.record_type], reference=submission.reference, check=1))
    except Conflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(edit_url)
    db.session.commit()
    flash(_("%(ref)s was submitted for review.", ref=submission.reference), "success")
    return redirect(url_for(DETAIL_ENDPOINTS[submission.record_type], reference=submission.reference))


@bp.route("/<reference>")
@login_required
def show(reference: str):
    submission = visible_submission_or_404(reference)
    return redirect(url_for(DETAIL_ENDPOINTS[submission.record_type], reference=submission.reference))


@bp.route("/<reference>/act/<action>", methods=["POST"])
@login_required
def act(reference: str, action: str):
    """Every workflow button of every record type (submit, withdraw, accept, return, amend, cancel, comment)."""
    if action not in TRANSITIONS or action == "edit":
        abort(404)
    submission = visible_submission_or_404(reference)
    detail = url_for(DETAIL_ENDPOINTS[submission.record_type], reference=submission.reference)
    form = ActionForm()
    if not form.validate_on_submit():
        for messages in form.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(detail)
    try:
        svc.perform(current_user, submission, action, expected_lock=form.lock_version.data or "",
                    comment=form.comment.data, comment_visibility=form.comment_visibility.data)
    except ValidationFailed as exc:
        db.session.rollback()
        if action == "submit" and EDIT_ENDPOINTS.get(submission.record_type):
            # The edit page shows each problem beside its field.
            flash(_("The record cannot be submitted yet: correct the problems shown beside the fields."), "error")
            return redirect(url_for(EDIT_ENDPOINTS[submission.record_type], reference=submission.reference,
                                    check=1))
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
        return redirect(detail)
    db.session.commit()
    flash(_("%(ref)s: %(status)s.", ref=submission.reference, status=submission.status.label), "success")
    if submission.status.value == "deleted":
        return redirect(url_for("core.home"))
    if action == "amend" and EDIT_ENDPOINTS.get(submission.record_type):
        return redirect(url_for(EDIT_ENDPOINTS[submission.record_type], reference=submission.reference))
    return redirect(detail)


def events_for_ids(ids: list[int]) -> list[SubmissionEvent]:
    return list(db.session.scalars(select(SubmissionEvent).where(SubmissionEvent.id.in_(ids))))
