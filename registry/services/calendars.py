"""Annual calendars: a state's forecast of next year's notifiable activities, due by the profile's date
(15 November in the Vienna Document benchmark), filed through the shared workflow."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from registry.db import db
from registry.enums import ExerciseType, RecordType, SubmissionStatus
from registry.i18n import _
from registry.models import CalendarDetails, CalendarEntry, MemberState, Revision, Submission
from registry.models.exercise import NAME_MAX, SHORT_MAX, TEXT_MAX
from registry.records import envelope_snapshot, register
from registry.services import audit
from registry.services import submissions as workflow
from registry.services.errors import ValidationFailed
from registry.services.exercises import _clean_count, _clean_enum
from registry.services.profiles import profile_value
from registry.services.validation import Errors, clean_text

MIN_YEAR, MAX_YEAR = 1990, 2100


@dataclass
class EntryInput:
    designation: Any = ""
    exercise_type: Any = None
    planned_start: Any = None
    planned_end: Any = None
    area: Any = ""
    troops: Any = None


def due_date_for(year: int) -> date | None:
    """A calendar for `year` is due on the profile's month and day of the year before."""
    due = profile_value("calendar_due", only_in_force=True)
    return date(year - 1, *due) if due else None


def _clean_year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed({"year": [_("Enter a year from %(a)d to %(b)d.", a=MIN_YEAR, b=MAX_YEAR)]})
    return year


def _clean_entries(errors: Errors, rows: list[EntryInput], year: int) -> list[dict]:
    cleaned = []
    for index, row in enumerate(rows):
        prefix = f"entries-{index}-"
        designation = clean_text(errors, prefix + "designation", row.designation, max_length=NAME_MAX)
        kind = _clean_enum(errors, prefix + "exercise_type", ExerciseType, row.exercise_type, required=True)
        dates = {}
        for name in ("planned_start", "planned_end"):
            value = getattr(row, name)
            if not isinstance(value, date):
                errors.add(prefix + name, _("Enter a date as YYYY-MM-DD."))
            elif value.year != year:
                errors.add(prefix + name, _("The date must fall in %(year)d, the calendar's year.", year=year))
            else:
                dates[name] = value
        if len(dates) == 2 and dates["planned_end"] < dates["planned_start"]:
            errors.add(prefix + "planned_end", _("The end date cannot be before the start date."))
        area = clean_text(errors, prefix + "area", row.area, max_length=SHORT_MAX, required=False)
        troops = _clean_count(errors, prefix + "troops", row.troops)
        cleaned.append({"designation": designation, "exercise_type": kind, "area": area, "troops": troops,
                        "planned_start": dates.get("planned_start"), "planned_end": dates.get("planned_end")})
    return cleaned


def _year_taken(state_id: int, year: int, except_id: int | None = None) -> bool:
    stmt = (
        select(Submission.id)
        .join(Revision, (Revision.submission_id == Submission.id) & (Revision.number == Submission.current_revision_no))
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .where(Submission.state_id == state_id, CalendarDetails.year == year,
               Submission.status.not_in([SubmissionStatus.DELETED, SubmissionStatus.WITHDRAWN,
                                         SubmissionStatus.CANCELLED]))
    )
    if except_id:
        stmt = stmt.where(Submission.id != except_id)
    return db.session.scalar(stmt.limit(1)) is not None


def details_of(revision: Revision) -> CalendarDetails:
    return db.session.scalar(
        select(CalendarDetails).where(CalendarDetails.revision_id == revision.id)
        .options(selectinload(CalendarDetails.entries))
    )


def _apply(details: CalendarDetails, remarks: str, entries: list[dict]) -> None:
    details.remarks = remarks
    details.entries = [CalendarEntry(position=i, **entry) for i, entry in enumerate(entries)]


def create_calendar(actor, state: MemberState, year, entries: list[EntryInput], *, remarks="",
                    visibility="members", language="ru", source_document=None, is_nil=False,
                    idempotency_key=None) -> Submission:
    """A new draft calendar (or the one this form already opened: a retried POST finds it)."""
    existing = workflow.previously_created(actor, idempotency_key)
    if existing is not None:
        return existing
    year = _clean_year(year)
    errors = Errors()
    remarks = clean_text(errors, "remarks", remarks, max_length=TEXT_MAX, required=False, multiline=True)
    cleaned = _clean_entries(errors, entries, year)
    if _year_taken(state.id, year):
        errors.add("year", _("Your state already has a calendar for %(year)d: amend that one.", year=year))
    errors.raise_if_any()
    submission = workflow.create_submission(actor, RecordType.CALENDAR, state, visibility=visibility,
                                            language=language, source_document=source_document, is_nil=is_nil,
                                            idempotency_key=idempotency_key)
    submission.due_date = due_date_for(year)
    details = CalendarDetails(revision_id=submission.current_revision.id, year=year)
    _apply(details, remarks, cleaned)
    db.session.add(details)
    db.session.flush()
    audit.record("calendar.save_draft", actor=actor, object_type="calendar", object_id=submission.reference,
                 state_code=state.code, changes=audit.diff({}, snapshot_details(details)))
    return submission


def update_calendar(actor, submission: Submission, entries: list[EntryInput], *, remarks="", expected_lock=None,
                    visibility=None, is_nil=None) -> Submission:
    revision = workflow.editable_revision(actor, submission, expected_lock)
    details = details_of(revision)
    errors = Errors()
    remarks = clean_text(errors, "remarks", remarks, max_length=TEXT_MAX, required=False, multiline=True)
    cleaned = _clean_entries(errors, entries, details.year)
    errors.raise_if_any()
    before = snapshot_details(details) | {"is_nil": submission.is_nil, "visibility": submission.visibility.value}
    _apply(details, remarks, cleaned)
    if visibility is not None:
        submission.visibility = workflow.clean_visibility(visibility)
    if is_nil is not None:
        submission.is_nil = bool(is_nil)
    flag_modified(submission, "visibility")  # a save makes other open copies of the form stale
    with workflow.stale_as_conflict():
        db.session.flush()
    after = snapshot_details(details) | {"is_nil": submission.is_nil, "visibility": submission.visibility.value}
    audit.record("calendar.save_draft", actor=actor, object_type="calendar", object_id=submission.reference,
                 state_code=submission.state.code, changes=audit.diff(before, after))
    return submission


def snapshot_details(details: CalendarDetails) -> dict[str, Any]:
    return {
        "year": details.year,
        "remarks": details.remarks,
        "entries": [
            {"designation": e.designation, "exercise_type": e.exercise_type.value,
             "planned_start": e.planned_start.isoformat(), "planned_end": e.planned_end.isoformat(),
             "area": e.area, "troops": e.troops}
            for e in details.entries
        ],
    }


class CalendarAdapter:
    def copy_details(self, source: Revision, target: Revision) -> None:
        old = details_of(source)
        new = CalendarDetails(revision_id=target.id, year=old.year, remarks=old.remarks)
        new.entries = [
            CalendarEntry(position=e.position, designation=e.designation, exercise_type=e.exercise_type,
                          planned_start=e.planned_start, planned_end=e.planned_end, area=e.area, troops=e.troops)
            for e in old.entries
        ]
        db.session.add(new)

    def snapshot(self, submission: Submission, revision: Revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission), "calendar": snapshot_details(details_of(revision))}

    def check(self, submission: Submission, revision: Revision) -> list[dict]:
        details = details_of(revision)
        if not submission.is_nil and not details.entries:
            return [{"code": "calendar_empty", "severity": "error", "field": "entries", "profile": None,
                     "params": {}, "message": _("List the planned activities, or file a nil report "
                                                "(nothing to declare for the year).")}]
        return []


register(RecordType.CALENDAR, CalendarAdapter())
