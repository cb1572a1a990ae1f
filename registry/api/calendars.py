"""Annual calendars over the calendar service and the calendar list's own query (registry/calendars)."""

from flask import request
from flask_login import current_user

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.api.records import (
    RECORD_ERRORS,
    WRITE_ERRORS,
    created_response,
    envelope,
    etag,
    filing_state,
    if_match,
    replay,
)
from registry.calendars.routes import _calendar_rows, parse_filters
from registry.db import db
from registry.enums import RecordType
from registry.records_ui import filing
from registry.records_ui.routes import shown_revision_number, visible_submission_or_404
from registry.services import calendars as svc
from registry.services import submissions as workflow
from registry.services.calendars import EntryInput

LIST_LIMIT = 1000


def calendar_out(submission) -> s.CalendarOut:
    revision_no = shown_revision_number(submission)
    details = svc.details_of(submission.revision(revision_no))
    calendar = None
    if details is not None:
        calendar = {"year": details.year, "remarks": details.remarks, "entries": [
            {"id": e.id, "designation": e.designation, "exercise_type": e.exercise_type.value,
             "planned_start": e.planned_start, "planned_end": e.planned_end, "area": e.area, "troops": e.troops}
            for e in details.entries]}
    return s.CalendarOut(**envelope(submission, revision_no), calendar=calendar)


def _entries(body) -> list[EntryInput]:
    return [EntryInput(designation=e.designation, exercise_type=e.exercise_type, planned_start=e.planned_start,
                       planned_end=e.planned_end, area=e.area, troops=e.troops) for e in body.entries]


@endpoint("/calendars", "GET", scope="read", tag="Annual calendars", query=s.CalendarListQuery,
          response=s.CalendarList, errors=(401, 403, 422), summary="List annual calendars",
          description="The calendars the caller may see, in the version they read, newest year first (the "
                      "list page's query and filters).")
def list_calendars(query):
    year, state, problems = parse_filters(request.args, filing.all_states())
    if problems:
        return problem(422, "invalid-query", errors={"": problems})
    rows = _calendar_rows(year, state)
    items = [s.CalendarSummary(**envelope(submission), year=row_year, entry_count=count)
             for submission, row_year, count in rows[:LIST_LIMIT]]
    return ok(s.CalendarList(items=items, truncated=len(rows) > LIST_LIMIT))


@endpoint("/calendars/<reference>", "GET", scope="read", tag="Annual calendars", response=s.CalendarOut,
          etag=True, errors=RECORD_ERRORS, summary="Read an annual calendar")
def get_calendar(reference: str):
    submission = visible_submission_or_404(reference, RecordType.CALENDAR)
    return ok(calendar_out(submission), headers={"ETag": etag(submission)})


@endpoint("/calendars", "POST", scope="file", tag="Annual calendars", body=s.CalendarCreate,
          response=s.CalendarOut, status=201, etag=True, idempotent_create=True, errors=(401, 403, 422),
          summary="Create a draft annual calendar")
def create_calendar(body):
    key, answered = replay(RecordType.CALENDAR, calendar_out, "api.get_calendar")
    if answered is not None:
        return answered
    state, on_behalf = filing_state(body.state)
    submission = svc.create_calendar(current_user, state, body.year, _entries(body), remarks=body.remarks,
                                     visibility=body.visibility, language=body.original_language,
                                     is_nil=body.is_nil, source_document=body.source_document if on_behalf else None,
                                     idempotency_key=key)
    db.session.commit()
    return created_response(submission, calendar_out, "api.get_calendar")


@endpoint("/calendars/<reference>", "PUT", scope="file", tag="Annual calendars", body=s.CalendarUpdate,
          response=s.CalendarOut, etag=True, if_match=True, errors=WRITE_ERRORS,
          summary="Save the draft or returned calendar", description="If-Match is required, as for notifications.")
def update_calendar(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.CALENDAR)
    workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    svc.update_calendar(current_user, submission, _entries(body), remarks=body.remarks,
                        expected_lock=submission.lock_version, visibility=body.visibility, is_nil=body.is_nil)
    db.session.commit()
    return ok(calendar_out(submission), headers={"ETag": etag(submission)})
