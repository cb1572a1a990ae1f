"""Exercise notification forms and record pages: new, edit, the record page and its inquiries.

Every change goes through a service function (registry/services/exercises.py, submissions.py, inquiries.py),
which checks the permission and validates; the routes turn the form into service input, commit once, or roll
back and show the form again with each message beside its field.
"""

import secrets

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from registry.db import db, utcnow
from registry.enums import RecordType, Role
from registry.exercises import bp
from registry.exercises.forms import (
    AnswerForm,
    ExerciseForm,
    InquiryForm,
    initial_data,
    to_input,
)
from registry.i18n import _, _l
from registry.models import CalendarEntry, Inquiry, MemberState, Submission
from registry.records import envelope_snapshot
from registry.records_ui import filing
from registry.records_ui.routes import (
    after_save,
    page_context,
    shown_revision_number,
    version_diff,
    visible_submission_or_404,
)
from registry.records_ui.rows import RowGroup, error_summary, formdata, place_errors, row_action
from registry.services import exercises as svc
from registry.services import inquiries as inquiry_svc
from registry.services import submissions as workflow
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import can, require
from registry.services.scoping import sees_working_version, visible
from registry.web import apply_errors, get_or_404, login_required, refuse_too_many_fields

bp.before_request(refuse_too_many_fields)

# Fields named by the rules (registry/rules/exercise.py) -> the form field that shows the message.
FIELD_ALIASES = {
    "start": "start_date",
    "end": "end_date",
    "calendar_entry": "calendar_entry_id",
    "participating": "participants",
    "troops_by_service": "troops_total",
    "observer_places_total": "observer_places_per_state",
    "announced_on": "start_date",
    "observers_invited_on": "observers_invited",
}


def _participant_label(n: int, field: str) -> str:
    title = _("Participating state %(n)d", n=n)
    return f"{title}: {field}"


def _phase_label(n: int, field: str) -> str:
    title = _("Phase %(n)d", n=n)
    return f"{title}: {field}"


# The row groups in the order of the form: their buttons (templates/exercises/form.html) and labels.
ROWS = (
    RowGroup("participants", "add_participant", "remove_participant", _l("Participating states"), _participant_label),
    RowGroup("phases", "add_phase", "remove_phase", _l("Phases"), _phase_label),
)


# --- helpers ---------------------------------------------------------------------------------------------


def _exercise_or_404(reference: str) -> Submission:
    """The notification if this user may see it."""
    return visible_submission_or_404(reference, RecordType.EXERCISE)


def _detail_url(submission: Submission) -> str:
    return url_for("exercises.detail", reference=submission.reference)


def _notes(findings: list[dict], warnings_only: bool) -> dict[str, list[dict]]:
    """Findings of the rules by the form field they concern, to show beside it."""
    notes: dict[str, list[dict]] = {}
    for finding in findings:
        if warnings_only and finding["severity"] == "error":
            continue
        key = FIELD_ALIASES.get(finding.get("field") or "", finding.get("field") or "")
        notes.setdefault(key, []).append(finding)
    return notes


def _set_choices(form: ExerciseForm, states: list[MemberState], conducting_id: int | None) -> None:
    """The selects' options: members and partners today (and whatever a row already names), the calendar
    entries of the notifying state."""
    locale = filing.reader_locale()
    candidates = filing.filing_states(states)
    by_id = {s.id: s for s in states}
    if "state_id" in form:
        form.state_id.choices = [("", _("— choose a state —"))] + [(str(s.id), s.name(locale)) for s in candidates]
    base = [s for s in candidates if s.id != conducting_id]
    for entry in form.participants:
        chosen = by_id.get(filing.as_id(entry.form.state_id.data))
        options = base + ([chosen] if chosen is not None and chosen not in base else [])
        entry.form.state_id.choices = [("", _("— choose a state —"))] + [(str(s.id), s.name(locale))
                                                                         for s in options]
    entries = svc.calendar_entries_for(conducting_id) if conducting_id else []
    chosen_entry = filing.as_id(form.calendar_entry_id.data)
    if chosen_entry and chosen_entry not in {e.id for e in entries}:
        entry = db.session.get(CalendarEntry, chosen_entry)
        if entry is not None and entry.calendar.revision.submission.state_id == conducting_id:
            entries.append(entry)
    form.calendar_entry_id.choices = [("", _("— not in an annual calendar —"))] + [
        (str(e.id), f"{e.calendar.year} · {e.designation} · {e.planned_start.isoformat()} – "
                    f"{e.planned_end.isoformat()}")
        for e in entries
    ]


def _conducting_id(form: ExerciseForm, submission: Submission | None) -> int | None:
    if submission is not None:
        return submission.state_id
    if "state_id" in form:
        return filing.as_id(form.state_id.data)
    return current_user.state_id


def _render_form(form: ExerciseForm, submission: Submission | None, *, groups=None, conflict: str | None = None,
                 status: int = 200, submit_failed: bool = False):
    groups = groups or {}
    states = filing.all_states()
    _set_choices(form, states, _conducting_id(form, submission))
    findings = []
    if submission is not None:
        details = svc.details_of(submission.current_revision)
        if details is not None:
            findings = svc.findings_for(submission, details)
    return render_template(
        "exercises/form.html", form=form, submission=submission, groups=groups, findings=findings,
        notes=_notes(findings, warnings_only=submit_failed),
        summary=error_summary(form, groups, ROWS, _("The notification")), conflict=conflict,
        action_url=(url_for("exercises.edit", reference=submission.reference) if submission
                    else url_for("exercises.new")),
    ), status


def _drop_creation_fields(form: ExerciseForm) -> None:
    """The notifying state, the source document and the nil flag are set when the record is opened."""
    del form.state_id
    del form.source_document
    del form.is_nil
    del form.idempotency_key


# --- new and edit ----------------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """A new notification: an officer for their own state, the Secretariat on a state's behalf."""
    on_behalf = current_user.role == Role.SECRETARIAT
    states = filing.all_states()
    filing.check_may_file(on_behalf, filing.filing_states(states))
    if request.method == "GET":
        form = ExerciseForm(formdata=None, data={"original_language": filing.default_language(),
                                                 "idempotency_key": secrets.token_urlsafe(24)})
    else:
        form = ExerciseForm(formdata=formdata(request.form, ROWS))
    if not on_behalf:
        del form.state_id
        del form.source_document
    if request.method == "GET" or row_action(form, request.form, ROWS) or not form.validate():
        return _render_form(form, None)

    if on_behalf:
        ident = filing.as_id(form.state_id.data)
        state = next((s for s in states if s.id == ident), None)
    else:
        state = current_user.state
    if state is None:
        form.state_id.errors = [_("Choose a member state or partner from the list.")]
        return _render_form(form, None)
    try:
        submission = svc.create_exercise(
            current_user, state, to_input(form), visibility=form.visibility.data,
            language=form.original_language.data, is_nil=bool(form.is_nil.data),
            source_document=form.source_document.data if on_behalf else None,
            idempotency_key=form.idempotency_key.data,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(form, None, groups=place_errors(form, exc.errors, ROWS, FIELD_ALIASES))
    db.session.commit()
    return after_save(submission)


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@login_required
def edit(reference: str):
    """Edit the draft or returned version; the lock version in the form catches a change made meanwhile."""
    submission = _exercise_or_404(reference)
    if request.method == "GET":
        try:
            revision = workflow.editable_revision(current_user, submission)
        except workflow.InvalidTransition as exc:
            flash(str(exc), "error")
            return redirect(_detail_url(submission))
        form = ExerciseForm(formdata=None, data=initial_data(submission, svc.details_of(revision)))
        _drop_creation_fields(form)
        check = request.args.get("check") == "1"
        groups = {}
        if check:  # after a refused submission: the blocking findings as errors beside their fields
            blocking = [f for f in svc.findings_for(submission, svc.details_of(revision)) if f["severity"] == "error"]
            groups = place_errors(form, workflow.findings_by_field(blocking), ROWS, FIELD_ALIASES)
        return _render_form(form, submission, groups=groups, submit_failed=check)

    require(current_user, "submission.file", submission)  # the status and the lock are checked when saving
    form = ExerciseForm(formdata=formdata(request.form, ROWS))
    _drop_creation_fields(form)
    if row_action(form, request.form, ROWS) or not form.validate():
        return _render_form(form, submission)
    try:
        svc.update_exercise(
            current_user, submission, to_input(form),
            # A form without its lock version is treated as stale: never save over a change blindly.
            expected_lock=form.lock_version.data or "missing",
            visibility=form.visibility.data, language=form.original_language.data,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(form, submission, groups=place_errors(form, exc.errors, ROWS, FIELD_ALIASES))
    except Conflict as exc:
        db.session.rollback()
        return _render_form(form, submission, conflict=str(exc), status=409)
    db.session.commit()
    return after_save(submission)


# --- the record page -------------------------------------------------------------------------------------


def _snapshot(submission: Submission, revision) -> dict:
    """The snapshot of a draft version, shaped like the one stored at submission (ExerciseAdapter.snapshot)."""
    return {"envelope": envelope_snapshot(submission), "exercise": svc.snapshot_details(svc.details_of(revision))}


def _calendar_reference(details) -> Submission | None:
    """The calendar the notification points at, if this user may open it."""
    if details is None or details.calendar_entry is None:
        return None
    submission_id = details.calendar_entry.calendar.revision.submission_id
    return db.session.scalar(visible(current_user, Submission).where(Submission.id == submission_id))


def _detail_page(submission: Submission, *, ask_form: InquiryForm | None = None,
                 answer_forms: dict[int, AnswerForm] | None = None):
    shown_no = shown_revision_number(submission)
    revision = submission.revision(shown_no)
    details = svc.details_of(revision)
    findings: list[dict] = []
    # The checks are for the filing state and the reviewers; other states read the record itself.
    if details is not None and sees_working_version(current_user, submission):
        findings = (revision.findings or []) if revision.is_frozen else svc.findings_for(submission, details)
    inquiries = inquiry_svc.visible_inquiries(current_user, submission)
    context = page_context(submission)
    return render_template(
        "exercises/detail.html", **context, shown_no=shown_no, revision=revision, details=details,
        findings=findings, diff=version_diff(submission, lambda r: _snapshot(submission, r)),
        calendar_submission=_calendar_reference(details), inquiries=inquiries, now=utcnow(),
        may_ask=can(current_user, "inquiry.ask", submission) and submission.status in inquiry_svc.ASKABLE,
        may_answer=can(current_user, "inquiry.answer", submission),
        ask_form=ask_form or InquiryForm(formdata=None), answer_forms=answer_forms or {},
        blank_answer=AnswerForm(formdata=None),
    )


@bp.route("/<reference>")
@login_required
def detail(reference: str):
    submission = _exercise_or_404(reference)
    return _detail_page(submission)


@bp.route("/<reference>/inquiries", methods=["POST"])
@login_required
def ask_inquiry(reference: str):
    """Another state's officer asks the notifying state about the exercise (1996 agreement, art. 9)."""
    submission = _exercise_or_404(reference)
    form = InquiryForm()
    if form.validate_on_submit():
        try:
            inquiry = inquiry_svc.ask(current_user, submission, form.question.data, bool(form.emergency.data))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your question was sent. The answer is due by %(due)s.",
                    due=inquiry.due_at.strftime("%Y-%m-%d %H:%M UTC")), "success")
            return redirect(_detail_url(submission) + "#inquiries")
    return _detail_page(submission, ask_form=form)


@bp.route("/<reference>/inquiries/<int:inquiry_id>/answer", methods=["POST"])
@login_required
def answer_inquiry(reference: str, inquiry_id: int):
    """The notifying state's officer answers an inquiry."""
    submission = _exercise_or_404(reference)
    inquiry = get_or_404(Inquiry, inquiry_id)
    if inquiry.submission_id != submission.id or inquiry not in inquiry_svc.visible_inquiries(current_user,
                                                                                               submission):
        abort(404)
    form = AnswerForm()
    if form.validate_on_submit():
        try:
            inquiry_svc.answer(current_user, inquiry, form.answer.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your answer was recorded and sent to the asking state."), "success")
            return redirect(_detail_url(submission) + "#inquiries")
    return _detail_page(submission, answer_forms={inquiry.id: form})

