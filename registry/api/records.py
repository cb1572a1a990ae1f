"""Exercise notifications and the workflow of every record type, over the services the pages call.

Reads go through the same scoping as the pages (`visible`, `exercise_rows`, `shown_revision_number`); every
change through the same service functions (services/exercises.py, services/submissions.py `perform`), which
check the permission and the workflow, write the audit entry and queue the notifications.
"""

from flask import request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.db import db, utcnow
from registry.enums import RecordType, Role, SubmissionStatus
from registry.exercises.routes import FIELD_ALIASES
from registry.i18n import _
from registry.models import MemberState, Submission
from registry.records_ui.routes import available_actions, shown_revision_number, timeline, visible_submission_or_404
from registry.services import exercises as svc
from registry.services import inquiries as inquiry_svc
from registry.services import submissions as workflow
from registry.services.errors import ValidationFailed
from registry.services.exercise_queries import AMENDMENT_STATUSES, exercise_rows, parse_filters
from registry.services.scoping import may_read_comment, sees_working_version
from registry.services.submissions import IDEMPOTENCY_KEY

RECORD_ERRORS = (401, 403, 404)
WRITE_ERRORS = (401, 403, 404, 409, 412, 422, 428)


# --- versions: ETag and If-Match ----------------------------------------------------------------------------


def etag(submission: Submission) -> str:
    return f'"{submission.lock_version}"'


def if_match(submission: Submission):
    """None when the client names the current version; else the problem to answer (428 or 412)."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        return problem(428, "if-match-required", _("Read the record first and send its ETag in If-Match."))
    tags = [t.strip().removeprefix("W/").strip('"') for t in header.split(",")]
    if str(submission.lock_version) not in tags:
        return problem(412, "stale-version", _("This record changed since you opened it. Reload it to see the "
                                                "change, then try again."), headers={"ETag": etag(submission)})
    return None


# --- what a reader sees -------------------------------------------------------------------------------------


def shown_status(submission: Submission) -> str:
    """Readers of the accepted version see an amendment under way as accepted (as on the pages)."""
    if sees_working_version(current_user, submission) or submission.status not in AMENDMENT_STATUSES:
        return submission.status.value
    return SubmissionStatus.ACCEPTED.value


def envelope(submission: Submission, revision_no: int | None = None) -> dict:
    return {
        "reference": submission.reference, "record_type": submission.record_type.value,
        "state": submission.state.code, "status": shown_status(submission),
        "visibility": submission.visibility.value, "is_nil": submission.is_nil, "is_late": submission.is_late,
        "due_date": submission.due_date, "original_language": submission.original_language,
        "entered_on_behalf": submission.entered_on_behalf,
        "source_document": submission.source_document if sees_working_version(current_user, submission) else None,
        "version": submission.lock_version,
        "revision_no": revision_no if revision_no is not None else shown_revision_number(submission),
        "current_revision_no": (submission.current_revision_no if sees_working_version(current_user, submission)
                                else submission.accepted_revision_no),
        "accepted_revision_no": submission.accepted_revision_no, "created_at": submission.created_at,
        "submitted_at": submission.submitted_at, "decided_at": submission.decided_at,
        "actions": [a for a in available_actions(submission)],
    }


def details_out(details) -> dict | None:
    if details is None:
        return None
    data = {name: getattr(details, name) for name in s.ExerciseDetailsOut.model_fields
            if name not in ("participants", "phases", "exercise_type")}
    data["exercise_type"] = details.exercise_type.value if details.exercise_type else None
    data["participants"] = [{"state": p.state.code if p.state else None, "role": p.role.value if p.role else None,
                             "contribution": p.contribution, "troops": p.troops} for p in details.participants]
    data["phases"] = [{"name": p.name.value, "start_date": p.start_date, "end_date": p.end_date}
                      for p in details.phases]
    return data


def exercise_out(submission: Submission, *, with_findings: bool = True) -> s.ExerciseOut:
    revision_no = shown_revision_number(submission)
    revision = submission.revision(revision_no)
    details = svc.details_of(revision)
    findings = []
    if with_findings and details is not None and sees_working_version(current_user, submission):
        findings = (revision.findings or []) if revision.is_frozen else svc.findings_for(submission, details)
    return s.ExerciseOut(**envelope(submission, revision_no), exercise=details_out(details), findings=findings)


# --- input: the API's fields -> the service's input ---------------------------------------------------------


def _state_ids() -> dict[str, int]:
    return {code: ident for code, ident in db.session.execute(select(MemberState.code, MemberState.id))}


def to_input(body) -> svc.ExerciseInput:
    codes = _state_ids()
    values = {name: getattr(body, name) for name in (*svc.TEXT_FIELDS, *svc.BOOL_FIELDS, *svc.COUNT_FIELDS,
                                                     "exercise_type", "start_date", "end_date", "latitude",
                                                     "longitude")}
    participants = [svc.ParticipantInput(state_id=codes.get(p.state), role=p.role, contribution=p.contribution,
                                         troops=p.troops) for p in body.participants]
    phases = [svc.PhaseInput(name=p.name, start_date=p.start_date, end_date=p.end_date) for p in body.phases]
    return svc.ExerciseInput(values=values, participants=participants, phases=phases,
                             calendar_entry_id=body.calendar_entry_id)


def api_field(name: str) -> str:
    """A service or rule field name as the API's body names it."""
    name = FIELD_ALIASES.get(name, name)
    if name == "state_id":
        return "state"
    if name.startswith("participants-") and name.endswith("-state_id"):
        return name.removesuffix("_id")
    return name


def renamed(exc: ValidationFailed) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    for name, messages in exc.errors.items():
        errors.setdefault(api_field(name), []).extend(messages)
    return ValidationFailed(errors)


# --- creating: the filing state and the idempotency key, as the forms take them ---------------------------


def idempotency_key():
    """(key or None, None) or (None, the 422 problem for a malformed key)."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not IDEMPOTENCY_KEY.fullmatch(key):
        return None, problem(422, "invalid-idempotency-key", errors={"Idempotency-Key": [
            _("Send 16 to 64 letters, digits, '-' or '_'.")]})
    return key, None


def replayed(key: str | None, record_type: RecordType):
    """(the record an earlier request with this key opened, None), or (None, a problem when the key opened a
    record of another type), or (None, None)."""
    existing = workflow.previously_created(current_user, key)
    if existing is None:
        return None, None
    if existing.record_type != record_type:
        return None, problem(422, "invalid-idempotency-key", errors={"Idempotency-Key": [
            _("This key was already used for another record.")]})
    return existing, None


def created_response(submission, render, endpoint: str, status: int = 201):
    """A record just opened (201) or opened by an earlier request with the same key (200): its body, ETag and
    Location."""
    location = url_for(endpoint, reference=submission.reference)
    return ok(render(submission), status, headers={"ETag": etag(submission), "Location": location})


def replay(record_type: RecordType, render, endpoint: str):
    """Before a create: (key, None) to go on, or (None, the response to give): the record an earlier request
    with this Idempotency-Key opened, or the problem of a malformed key or one used for another record type."""
    key, refused = idempotency_key()
    if refused is not None:
        return None, refused
    existing, refused = replayed(key, record_type)
    if refused is not None:
        return None, refused
    if existing is not None:
        return None, created_response(existing, render, endpoint, 200)
    return key, None


def filing_state(code: str | None) -> tuple[MemberState, bool]:
    """The state a new record is filed for: the one named, else the officer's own; the Secretariat must name
    one (it files on a state's behalf). The service checks that the caller may file for it."""
    on_behalf = current_user.role == Role.SECRETARIAT
    if code is not None:
        state = db.session.scalar(select(MemberState).where(MemberState.code == code))
    else:
        state = None if on_behalf else current_user.state
    if state is None:
        raise ValidationFailed({"state": [_("Choose a member state or partner from the list.")]})
    return state, on_behalf


# --- exercise notifications ---------------------------------------------------------------------------------


@endpoint("/exercises", "GET", scope="read", tag="Exercise notifications", query=s.ExerciseListQuery,
          response=s.ExerciseList, errors=(401, 403, 422),
          summary="List exercise notifications",
          description="The same filters, sorting and keyset cursor as the list page, over the same query: "
                      "each record in the version the caller may read. Follow `next_cursor` with `after`.")
def list_exercises(query):
    parsed = parse_filters(request.args)
    if parsed.problems:
        return problem(422, "invalid-query", errors={"": parsed.problems})
    page = exercise_rows(current_user, parsed.filters, after=query.after, sort=query.sort, limit=query.limit)
    if page.cursor_ignored:
        return problem(422, "invalid-query", errors={"after": [_("The page link was not valid: this is the "
                                                                  "first page.")]})
    items = []
    for row in page.rows:
        revision_no = shown_revision_number(row.submission)
        items.append(s.ExerciseOut(**envelope(row.submission, revision_no), exercise=details_out(row.details)))
    return ok(s.ExerciseList(items=items, next_cursor=page.next_cursor))


@endpoint("/exercises/<reference>", "GET", scope="read", tag="Exercise notifications", response=s.ExerciseOut,
          etag=True, errors=RECORD_ERRORS, summary="Read an exercise notification",
          description="The working version for the filing state, the Secretariat and auditors; the accepted "
                      "version for everyone else. The ETag names the record's version for If-Match.")
def get_exercise(reference: str):
    submission = visible_submission_or_404(reference, RecordType.EXERCISE)
    return ok(exercise_out(submission), headers={"ETag": etag(submission)})


@endpoint("/exercises", "POST", scope="file", tag="Exercise notifications", body=s.ExerciseCreate,
          response=s.ExerciseOut, status=201, etag=True, idempotent_create=True, errors=(401, 403, 422),
          summary="Create a draft exercise notification",
          description="Opens a draft, as the form does. With an Idempotency-Key (16-64 letters, digits, - or _) a "
                      "retried request returns the record the first one opened (200) instead of a second one.")
def create_exercise(body):
    key, answered = replay(RecordType.EXERCISE, exercise_out, "api.get_exercise")
    if answered is not None:
        return answered
    state, on_behalf = filing_state(body.state)
    try:
        submission = svc.create_exercise(
            current_user, state, to_input(body), visibility=body.visibility, language=body.original_language,
            is_nil=body.is_nil, source_document=body.source_document if on_behalf else None, idempotency_key=key)
    except ValidationFailed as exc:
        raise renamed(exc) from exc
    db.session.commit()
    return created_response(submission, exercise_out, "api.get_exercise")


@endpoint("/exercises/<reference>", "PUT", scope="file", tag="Exercise notifications", body=s.ExerciseUpdate,
          response=s.ExerciseOut, etag=True, if_match=True, errors=WRITE_ERRORS,
          summary="Save the draft or returned version",
          description="Replaces the details of the version being edited. If-Match is required (428 without it); "
                      "a stale ETag gets 412 and nothing is saved.")
def update_exercise(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.EXERCISE)
    workflow.editable_revision(current_user, submission)  # permission and status first: 403 / 409
    refused = if_match(submission)
    if refused is not None:
        return refused
    try:
        svc.update_exercise(current_user, submission, to_input(body), expected_lock=submission.lock_version,
                            visibility=body.visibility, language=body.original_language)
    except ValidationFailed as exc:
        raise renamed(exc) from exc
    db.session.commit()
    return ok(exercise_out(submission), headers={"ETag": etag(submission)})


# --- the workflow of every record type ----------------------------------------------------------------------


@endpoint("/records/<reference>", "GET", scope="read", tag="Workflow", response=s.RecordOut, etag=True,
          errors=RECORD_ERRORS, summary="Read any record's envelope",
          description="Reference, type, state, status, versions and the actions the caller may take now, for "
                      "every record type (exercise notifications, calendars, visits, reports, structures).")
def get_record(reference: str):
    submission = visible_submission_or_404(reference)
    return ok(s.RecordOut(**envelope(submission)), headers={"ETag": etag(submission)})


def _act(reference: str, action: str, body):
    submission = visible_submission_or_404(reference)
    refused = if_match(submission)
    if refused is not None:
        return refused
    comment = getattr(body, "comment", None)
    visibility = getattr(body, "visibility", None)
    try:
        workflow.perform(current_user, submission, action, expected_lock=submission.lock_version, comment=comment,
                         comment_visibility=visibility)
    except ValidationFailed as exc:
        raise (renamed(exc) if submission.record_type == RecordType.EXERCISE else exc) from exc
    db.session.commit()
    return ok(s.RecordOut(**envelope(submission)), headers={"ETag": etag(submission)})


def _action_endpoint(action: str, scope: str, summary: str, description: str):
    def view(reference: str, body):
        return _act(reference, action, body)

    view.__name__ = f"{action}_record"
    return endpoint(f"/records/<reference>/{action}", "POST", scope=scope, tag="Workflow", body=s.ActionIn,
                    response=s.RecordOut, etag=True, if_match=True, errors=WRITE_ERRORS, summary=summary,
                    description=description)(view)


submit_record = _action_endpoint(
    "submit", "file", "Submit for review",
    "Runs every check of the profiles in force, as the page's Submit button does: blocking problems come back "
    "as field errors (422) and nothing changes.")
withdraw_record = _action_endpoint("withdraw", "file", "Withdraw a submitted or returned record",
                                   "An amendment withdrawn leaves the accepted version in force.")
accept_record = _action_endpoint("accept", "review", "Accept (the Secretariat)",
                                 "Nobody decides a record they submitted or entered themselves.")
return_record = _action_endpoint("return", "review", "Return for correction (the Secretariat)",
                                 "`comment` is required: it tells the filing state what to correct.")
delete_record = _action_endpoint("delete", "file", "Delete a draft never submitted (or discard an amendment)",
                                 "A draft that was once submitted is withdrawn instead; it keeps its history.")
amend_record = _action_endpoint("amend", "file", "Amend an accepted record",
                                "Opens a new draft version; the accepted version stays in force and visible "
                                "while the amendment is prepared and reviewed.")
request_cancellation_record = _action_endpoint(
    "request_cancellation", "file", "Propose cancelling an accepted record",
    "`comment` (the reason) is required; the Secretariat decides.")
accept_cancellation_record = _action_endpoint("accept_cancellation", "review",
                                              "Accept a cancellation request (the Secretariat)", "")
reject_cancellation_record = _action_endpoint("reject_cancellation", "review",
                                              "Reject a cancellation request (the Secretariat)",
                                              "`comment` is required; the record stays accepted.")


@endpoint("/records/<reference>/comments", "POST", scope="file|review", tag="Workflow", body=s.CommentIn,
          response=s.EventOut, status=201, errors=(401, 403, 404, 409, 422), summary="Comment on a record",
          description="Officers of the filing state and the Secretariat; Secretariat comments may be internal.")
def comment_record(reference: str, body):
    submission = visible_submission_or_404(reference)
    workflow.perform(current_user, submission, "comment", comment=body.comment, comment_visibility=body.visibility)
    db.session.commit()
    return ok(s.EventOut(**event_out(submission.events[-1])), 201)


def event_out(event) -> dict:
    readable = event.comment and may_read_comment(current_user, event)
    return {"id": event.id, "action": event.action, "from_status": event.from_status, "to_status": event.to_status,
            "revision_no": event.revision_no, "actor": event.actor_label, "occurred_at": event.occurred_at,
            "comment": event.comment if readable else None,
            "comment_visibility": (event.comment_visibility.value if readable and event.comment_visibility
                                   else None)}


@endpoint("/records/<reference>/events", "GET", scope="read", tag="Workflow", response=s.EventList,
          errors=RECORD_ERRORS, summary="The record's timeline and comments",
          description="State changes and the comments the caller may read, oldest first, as on the record page.")
def record_events(reference: str):
    submission = visible_submission_or_404(reference)
    return ok(s.EventList(items=[s.EventOut(**event_out(e)) for e in timeline(submission)]))



# --- inquiries about a notified exercise (1996 agreement, art. 9) -------------------------------------------


def inquiry_out(inquiry) -> s.InquiryOut:
    return s.InquiryOut(id=inquiry.id, asking_state=inquiry.asking_state.code, asked_at=inquiry.asked_at,
                        question=inquiry.question, emergency=inquiry.emergency, due_at=inquiry.due_at,
                        answer=inquiry.answer, answered_at=inquiry.answered_at,
                        overdue=inquiry.answered_at is None and inquiry.due_at < utcnow())


@endpoint("/exercises/<reference>/inquiries", "GET", scope="read", tag="Exercise notifications",
          response=s.InquiryList, errors=RECORD_ERRORS, summary="Inquiries about a notification",
          description="Those the caller may see: the asking and the notifying state, the Secretariat, auditors.")
def list_inquiries(reference: str):
    submission = visible_submission_or_404(reference, RecordType.EXERCISE)
    return ok(s.InquiryList(items=[inquiry_out(i) for i in inquiry_svc.visible_inquiries(current_user, submission)]))


@endpoint("/exercises/<reference>/inquiries", "POST", scope="file", tag="Exercise notifications",
          body=s.InquiryIn, response=s.InquiryOut, status=201, errors=(401, 403, 404, 422),
          summary="Ask the notifying state about an accepted notification",
          description="Another state's officer; the answer is due within the profile's days (fewer in an "
                      "emergency).")
def ask_inquiry(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.EXERCISE)
    inquiry = inquiry_svc.ask(current_user, submission, body.question, body.emergency)
    db.session.commit()
    return ok(inquiry_out(inquiry), 201)


@endpoint("/exercises/<reference>/inquiries/<int:inquiry_id>/answer", "POST", scope="file",
          tag="Exercise notifications", body=s.InquiryAnswerIn, response=s.InquiryOut, errors=(401, 403, 404, 422),
          summary="Answer an inquiry (the notifying state's officer)")
def answer_inquiry(reference: str, inquiry_id: int, body):
    submission = visible_submission_or_404(reference, RecordType.EXERCISE)
    inquiry = next((i for i in inquiry_svc.visible_inquiries(current_user, submission) if i.id == inquiry_id), None)
    if inquiry is None:
        return problem(404, "not-found")
    inquiry_svc.answer(current_user, inquiry, body.answer)
    db.session.commit()
    return ok(inquiry_out(inquiry))
