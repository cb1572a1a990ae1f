"""Annual calendars of notifiable activities: the list, the form (new and edit) and the record page.

A calendar is a state's forecast of next year's notifiable activities, due by the date of the threshold profile
(15 November of the year before in the Vienna Document benchmark). Every change goes through a service function
(registry/services/calendars.py and submissions.py), which checks the permission and validates; the routes turn
the form into service input, commit once, or roll back and show the form again with each message beside its
field.
"""

import re
import secrets
from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from registry.calendars.forms import CalendarForm, initial_data, to_entries
from registry.db import db, utcnow
from registry.enums import RecordType, Role, StateStatus, SubmissionStatus
from registry.i18n import _, _l
from registry.models import CalendarDetails, CalendarEntry, MemberState, Revision, Submission
from registry.records import adapter_for
from registry.records_ui import filing
from registry.records_ui.routes import (
    after_save,
    page_context,
    shown_revision_number,
    version_diff,
    visible_submission_or_404,
)
from registry.records_ui.rows import RowGroup, error_summary, formdata, place_errors, row_action
from registry.services import calendars as svc
from registry.services import submissions as workflow
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import can, require
from registry.services.scoping import reads_revision, sees_working_version, visible
from registry.web import login_required

bp = Blueprint("calendars", __name__, url_prefix="/calendars")

# The activity rows: their buttons (templates/calendars/form.html) and labels in the list of problems.
ROWS = (
    RowGroup("entries", "add_entry", "remove_entry", _l("Planned activities"),
             lambda n, field: _("Activity %(n)d: %(field)s", n=n, field=field)),
)
YEAR_TEXT = re.compile(r"\d{4}", re.ASCII)
STATE_CODE = re.compile(r"[A-Za-z]{2}", re.ASCII)
LIST_LIMIT = 1000  # a calendar per state and year: far fewer than this in any real registry
# A calendar no longer counts for its year once it is in one of these.
GONE = (SubmissionStatus.DELETED, SubmissionStatus.WITHDRAWN, SubmissionStatus.CANCELLED)


# --- helpers ---------------------------------------------------------------------------------------------


def _detail_url(submission: Submission) -> str:
    return url_for("calendars.detail", reference=submission.reference)


def _edit_url(submission: Submission) -> str:
    return url_for("calendars.edit", reference=submission.reference)


def _next_year() -> int:
    return utcnow().year + 1


def _render_form(form: CalendarForm, submission: Submission | None, *, groups=None, conflict: str | None = None,
                 status: int = 200):
    groups = groups or {}
    if "state_id" in form:
        form.state_id.choices = [("", _("— choose a state —"))] + [
            (str(s.id), s.name(filing.reader_locale())) for s in filing.filing_states(filing.all_states())]
    findings, year = [], None
    if submission is not None:
        revision = submission.current_revision
        details = svc.details_of(revision)
        year = details.year
        findings = adapter_for(RecordType.CALENDAR).check(submission, revision)
    return render_template(
        "calendars/form.html", form=form, submission=submission, year=year, groups=groups, findings=findings,
        summary=error_summary(form, groups, ROWS, _("The calendar")), conflict=conflict,
        action_url=_edit_url(submission) if submission else url_for("calendars.new"),
    ), status


def _calendar_rows(year: int | None, state: MemberState | None) -> list[tuple[Submission, int, int]]:
    """(submission, year, number of entries) of the calendars this user may see, in the version they read."""
    entries = (select(func.count(CalendarEntry.id)).where(CalendarEntry.calendar_id == CalendarDetails.id)
               .correlate(CalendarDetails).scalar_subquery())
    stmt = (
        visible(current_user, Submission)
        .where(Submission.record_type == RecordType.CALENDAR)
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(current_user))
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .join(MemberState, MemberState.id == Submission.state_id)
        .add_columns(CalendarDetails.year, entries)
        .options(selectinload(Submission.state))
        .order_by(CalendarDetails.year.desc(), MemberState.code, Submission.id)
        .limit(LIST_LIMIT + 1)
    )
    if year is not None:
        stmt = stmt.where(CalendarDetails.year == year)
    if state is not None:
        stmt = stmt.where(Submission.state_id == state.id)
    return [(row[0], row[1], row[2]) for row in db.session.execute(stmt)]


def parse_filters(args, states: list[MemberState]) -> tuple[int | None, MemberState | None, list[str]]:
    """The year and state asked for; a value that is not one is ignored with a message, never an error page."""
    problems = []
    year = None
    text = (args.get("year") or "").strip()
    if text:
        if YEAR_TEXT.fullmatch(text) and svc.MIN_YEAR <= int(text) <= svc.MAX_YEAR:
            year = int(text)
        else:
            problems.append(_("Enter a year from %(a)d to %(b)d.", a=svc.MIN_YEAR, b=svc.MAX_YEAR))
    state = None
    code = (args.get("state") or "").strip()
    if code:
        by_code = {s.code: s for s in states}
        state = by_code.get(code.upper()) if STATE_CODE.fullmatch(code) else None
        if state is None:
            problems.append(_("Choose a state from the list."))
    return year, state, problems


def _timeliness(submission: Submission, today: date) -> str | None:
    """'late' when it was submitted after its due date; 'overdue' when it is past due and not yet submitted."""
    if submission.is_late:
        return "late"
    if submission.submitted_at is None and submission.due_date and today > submission.due_date:
        return "overdue"
    return None


def _overview(year: int, states: list[MemberState]) -> dict:
    """For the Secretariat: which member states have filed their calendar for `year`, and which have not."""
    due = svc.due_date_for(year)
    on = due or utcnow().date()
    locale = filing.reader_locale()
    members = sorted((s for s in states if s.status_on(on) == StateStatus.MEMBER), key=lambda s: s.name(locale))
    stmt = (
        visible(current_user, Submission)
        .where(Submission.record_type == RecordType.CALENDAR, Submission.status.not_in(GONE))
        .join(Revision, (Revision.submission_id == Submission.id)
              & (Revision.number == Submission.current_revision_no))
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .where(CalendarDetails.year == year)
        .order_by(Submission.id)
    )
    by_state = {s.state_id: s for s in db.session.scalars(stmt)}
    rows = []
    for state in members:
        submission = by_state.get(state.id)
        if submission is None:
            filed = "missing"
        elif submission.submitted_at is None:
            filed = "draft"
        else:
            filed = "filed"
        rows.append({"state": state, "submission": submission, "filed": filed})
    return {
        "year": year, "due": due, "rows": rows, "past_due": bool(due and utcnow().date() > due),
        "filed": sum(1 for r in rows if r["filed"] == "filed"),
        "missing": sum(1 for r in rows if r["filed"] != "filed"),
    }


@bp.route("/")
@login_required
def index():
    """The calendars this user may see, in the version they read; for the Secretariat who has filed."""
    states = filing.all_states()
    year, state, problems = parse_filters(request.args, states)
    rows = _calendar_rows(year, state)
    truncated = len(rows) > LIST_LIMIT
    today = utcnow().date()
    overview = None
    if can(current_user, "submission.review_queue"):
        overview = _overview(year or _next_year(), states)
    return render_template(
        "calendars/index.html",
        rows=[{"submission": s, "year": y, "entries": n, "timeliness": _timeliness(s, today)}
              for s, y, n in rows[:LIST_LIMIT]],
        truncated=truncated, limit=LIST_LIMIT, problems=problems, overview=overview,
        filters={"year": year, "state": state.code if state else "", "any": bool(year or state)},
        states=sorted(states, key=lambda s: s.code), locale=filing.reader_locale(),
        may_file=current_user.role in (Role.OFFICER, Role.SECRETARIAT),
    )


# --- new and edit ----------------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """A new calendar: an officer for their own state, the Secretariat on a state's behalf."""
    on_behalf = current_user.role == Role.SECRETARIAT
    states = filing.all_states()
    candidates = filing.filing_states(states)
    filing.check_may_file(on_behalf, candidates)
    if request.method == "GET":
        form = CalendarForm(formdata=None,
                            data={"year": str(_next_year()), "original_language": filing.default_language(),
                                  "idempotency_key": secrets.token_urlsafe(24)})
    else:
        form = CalendarForm(formdata=formdata(request.form, ROWS))
    del form.lock_version
    if not on_behalf:
        del form.state_id
        del form.source_document
    if request.method == "GET" or row_action(form, request.form, ROWS) or not form.validate():
        return _render_form(form, None)

    if on_behalf:
        ident = filing.as_id(form.state_id.data)
        state = next((s for s in candidates if s.id == ident), None)
        if state is None:
            form.state_id.errors = [_("Choose a member state or partner from the list.")]
            return _render_form(form, None)
    else:
        state = current_user.state
    try:
        submission = svc.create_calendar(
            current_user, state, form.year.data, to_entries(form), remarks=form.remarks.data,
            visibility=form.visibility.data, language=form.original_language.data, is_nil=bool(form.is_nil.data),
            source_document=form.source_document.data if on_behalf else None,
            idempotency_key=form.idempotency_key.data,
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(form, None, groups=place_errors(form, exc.errors, ROWS))
    db.session.commit()
    return after_save(submission)


def _drop_creation_fields(form: CalendarForm) -> None:
    """The filing state, the source document, the year and the language are set when the calendar is opened."""
    del form.state_id
    del form.source_document
    del form.year
    del form.original_language
    del form.idempotency_key


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@login_required
def edit(reference: str):
    """Edit the draft or returned version; the lock version in the form catches a change made meanwhile."""
    submission = visible_submission_or_404(reference, RecordType.CALENDAR)
    if request.method == "GET":
        try:
            revision = workflow.editable_revision(current_user, submission)
        except workflow.InvalidTransition as exc:
            flash(str(exc), "error")
            return redirect(_detail_url(submission))
        form = CalendarForm(formdata=None, data=initial_data(submission, svc.details_of(revision)))
        _drop_creation_fields(form)
        groups = {}
        if request.args.get("check") == "1":  # after a refused submission: what blocks it, beside its field
            blocking = [f for f in adapter_for(RecordType.CALENDAR).check(submission, revision)
                        if f["severity"] == "error"]
            groups = place_errors(form, workflow.findings_by_field(blocking), ROWS)
        return _render_form(form, submission, groups=groups)

    require(current_user, "submission.file", submission)  # the status and the lock are checked when saving
    form = CalendarForm(formdata=formdata(request.form, ROWS))
    _drop_creation_fields(form)
    if row_action(form, request.form, ROWS) or not form.validate():
        return _render_form(form, submission)
    try:
        svc.update_calendar(
            current_user, submission, to_entries(form), remarks=form.remarks.data,
            # A form without its lock version is treated as stale: never save over a change blindly.
            expected_lock=form.lock_version.data or "missing",
            visibility=form.visibility.data, is_nil=bool(form.is_nil.data),
        )
    except ValidationFailed as exc:
        db.session.rollback()
        return _render_form(form, submission, groups=place_errors(form, exc.errors, ROWS))
    except Conflict as exc:
        db.session.rollback()
        return _render_form(form, submission, conflict=str(exc), status=409)
    db.session.commit()
    return after_save(submission)


# --- the record page -------------------------------------------------------------------------------------


@bp.route("/<reference>")
@login_required
def detail(reference: str):
    submission = visible_submission_or_404(reference, RecordType.CALENDAR)
    adapter = adapter_for(RecordType.CALENDAR)
    shown_no = shown_revision_number(submission)
    revision = submission.revision(shown_no)
    details = svc.details_of(revision) if revision is not None else None
    findings: list[dict] = []
    # The checks are for the filing state and the reviewers; other states read the calendar itself.
    if details is not None and sees_working_version(current_user, submission):
        findings = (revision.findings or []) if revision.is_frozen else adapter.check(submission, revision)
    return render_template(
        "calendars/detail.html", **page_context(submission), shown_no=shown_no, revision=revision,
        details=details, findings=findings,
        # A draft's snapshot has the same shape as the one stored at submission (CalendarAdapter.snapshot).
        diff=version_diff(submission, lambda r: adapter.snapshot(submission, r)),
    )
