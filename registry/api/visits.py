"""Voluntary visits: the host's offer (a reviewed record) and the invited states' answers, over the visit
service (services/visits.py) and the visit list's own query (registry/visits/listing.py)."""

from datetime import time

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
from registry.db import db
from registry.enums import RecordType
from registry.i18n import _
from registry.models import MemberState
from registry.records_ui import filing
from registry.records_ui.routes import shown_revision_number, visible_submission_or_404
from registry.services import submissions as workflow
from registry.services import visits as svc
from registry.services.errors import ValidationFailed
from registry.services.permissions import require
from registry.services.scoping import sees_working_version
from registry.visits.listing import parse_filters, visit_rows

OFFER_FIELDS = (*svc.TEXT_FIELDS, *svc.BOOL_FIELDS, *svc.DATE_FIELDS, *svc.TIME_FIELDS, *svc.COST_FIELDS, "kind",
                "latitude", "longitude", "places_each")


def _plain(value):
    if hasattr(value, "value"):  # an enum
        return value.value
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def offer_out(details) -> dict | None:
    if details is None:
        return None
    data = {name: _plain(getattr(details, name)) for name in OFFER_FIELDS}
    data["invitations"] = [{"state": i.state.code, "places": i.places} for i in details.invitations]
    return data


def life_out(visit) -> dict:
    return {"version": visit.lock_version, "status": visit.status.value, "start_date": visit.start_date,
            "end_date": visit.end_date,
            "answer_by": visit.answer_by, "invitations_sent_at": visit.invitations_sent_at, "held_on": visit.held_on,
            "cancel_reason": visit.cancel_reason, "postponements": visit.postponements}


def answers_out(submission, visit) -> list[dict]:
    """As the visit page shows them: participants' names for insiders and the answering state only."""
    insiders = sees_working_version(current_user, submission)
    return [{"state": a.state.code, "decision": a.decision.value, "places": a.places,
             "participant_count": a.participant_count, "answered_at": a.answered_at, "version": a.lock_version,
             "participants": ([{"name": p.name, "rank": p.rank, "post": p.post} for p in a.participants]
                              if insiders or a.state_id == current_user.state_id else None)}
            for a in visit.answers]


def visit_out(submission) -> s.VisitOut:
    revision_no = shown_revision_number(submission)
    visit = svc.visit_of(submission)
    return s.VisitOut(**envelope(submission, revision_no), offer=offer_out(svc.details_of(submission.revision(
        revision_no))), visit=life_out(visit), answers=answers_out(submission, visit))


def to_offer(body) -> svc.OfferInput:
    codes = {code: ident for code, ident in db.session.execute(db.select(MemberState.code, MemberState.id))}
    return svc.OfferInput(values={name: getattr(body, name) for name in OFFER_FIELDS},
                          invitations=[svc.InvitationInput(state_id=codes.get(i.state), places=i.places)
                                       for i in body.invitations])


def renamed(exc: ValidationFailed) -> ValidationFailed:
    errors: dict[str, list[str]] = {}
    for name, messages in exc.errors.items():
        key = name.removesuffix("_id") if name.startswith("invitations-") and name.endswith("-state_id") else name
        errors.setdefault("state" if key == "state_id" else key, []).extend(messages)
    return ValidationFailed(errors)


@endpoint("/visits", "GET", scope="read", tag="Visits", query=s.VisitListQuery, response=s.VisitList,
          errors=(401, 403, 422), summary="List visit offers",
          description="Upcoming (default), past or all visits the caller may see, with the visit list's filters.")
def list_visits(query):
    filters, problems = parse_filters(request.args, filing.all_states())
    if problems:
        return problem(422, "invalid-query", errors={"": problems})
    rows, truncated = visit_rows(current_user, filters)
    return ok(s.VisitList(items=[
        s.VisitSummary(**envelope(submission), visit=life_out(visit), facility_en=details.facility_en,
                       kind=details.kind.value if details.kind else None)
        for submission, details, visit in rows], truncated=truncated))


@endpoint("/visits/<reference>", "GET", scope="read", tag="Visits", response=s.VisitOut, etag=True,
          errors=RECORD_ERRORS, summary="Read a visit: the offer, its life and the answers")
def get_visit(reference: str):
    submission = visible_submission_or_404(reference, RecordType.VISIT)
    return ok(visit_out(submission), headers={"ETag": etag(submission)})


@endpoint("/visits", "POST", scope="file", tag="Visits", body=s.VisitOfferCreate, response=s.VisitOut, status=201,
          etag=True, idempotent_create=True, errors=(401, 403, 422), summary="Create a draft visit offer",
          description="The host state's officer (or the Secretariat on its behalf). Submit it through "
                      "/records/{reference}/submit; once accepted, the invitations go out.")
def create_visit(body):
    key, answered = replay(RecordType.VISIT, visit_out, "api.get_visit")
    if answered is not None:
        return answered
    state, on_behalf = filing_state(body.state)
    try:
        submission = svc.create_offer(current_user, state, to_offer(body), visibility=body.visibility,
                                      language=body.original_language, idempotency_key=key,
                                      source_document=body.source_document if on_behalf else None)
    except ValidationFailed as exc:
        raise renamed(exc) from exc
    db.session.commit()
    return created_response(submission, visit_out, "api.get_visit")


@endpoint("/visits/<reference>", "PUT", scope="file", tag="Visits", body=s.VisitOfferUpdate, response=s.VisitOut,
          etag=True, if_match=True, errors=WRITE_ERRORS, summary="Save the draft or returned offer")
def update_visit(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.VISIT)
    workflow.editable_revision(current_user, submission)
    refused = if_match(submission)
    if refused is not None:
        return refused
    try:
        svc.update_offer(current_user, submission, to_offer(body), expected_lock=submission.lock_version,
                         visibility=body.visibility)
    except ValidationFailed as exc:
        raise renamed(exc) from exc
    db.session.commit()
    return ok(visit_out(submission), headers={"ETag": etag(submission)})


@endpoint("/visits/<reference>/answer", "POST", scope="file", tag="Visits", body=s.VisitAnswerIn,
          response=s.VisitOut, errors=(401, 403, 404, 412, 422, 428), summary="Answer an invitation",
          description="An invited state's officer accepts, naming participants within its places, or declines. "
                      "Replacing the state's earlier answer needs If-Match with that answer's `version`.")
def answer_visit(reference: str, body):
    submission = visible_submission_or_404(reference, RecordType.VISIT)
    visit = svc.visit_of(submission)
    existing = visit.answer_of(current_user.state_id) if current_user.state_id else None
    expected = None
    if existing is not None:
        header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
        if not header:
            return problem(428, "if-match-required", _("Send the version of your state's answer in If-Match."))
        expected = header
    people = [svc.ParticipantInput(name=p.name, rank=p.rank, post=p.post) for p in body.participants]
    svc.answer(current_user, visit, decision=body.decision, participants=people,
               decline_reason=body.decline_reason, expected_lock=expected)
    db.session.commit()
    return ok(visit_out(submission))


# --- the host's decisions: postpone, held, cancel (the visit's own version in If-Match) ----------------------


def _life(reference: str):
    """(submission, visit, None) or (.., .., the 428 problem); the service checks the version given."""
    submission = visible_submission_or_404(reference, RecordType.VISIT)
    visit = svc.visit_of(submission)
    require(current_user, "visit.manage", visit)  # the permission first (403), then the version (428, 412)
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if not header:
        return submission, visit, None, problem(428, "if-match-required",
                                               _("Send the visit's version (visit.version) in If-Match."))
    return submission, visit, header, None


LIFE_ERRORS = (401, 403, 404, 409, 412, 422, 428)


@endpoint("/visits/<reference>/postpone", "POST", scope="file", tag="Visits", body=s.VisitPostponeIn,
          response=s.VisitOut, errors=LIFE_ERRORS, summary="Postpone the visit (the host)",
          description="New dates and date for answers; the invited states are told and may change their answers.")
def postpone_visit(reference: str, body):
    submission, visit, version, refused = _life(reference)
    if refused is not None:
        return refused
    svc.postpone(current_user, visit, start_date=body.start_date, end_date=body.end_date, answer_by=body.answer_by,
                 start_time=body.start_time, end_time=body.end_time, reason=body.reason, expected_lock=version)
    db.session.commit()
    return ok(visit_out(submission))


@endpoint("/visits/<reference>/held", "POST", scope="file", tag="Visits", body=s.Empty, response=s.VisitOut,
          errors=LIFE_ERRORS, summary="Record the visit as held (the host)")
def held_visit(reference: str, body):
    submission, visit, version, refused = _life(reference)
    if refused is not None:
        return refused
    svc.mark_held(current_user, visit, expected_lock=version)
    db.session.commit()
    return ok(visit_out(submission))


@endpoint("/visits/<reference>/cancel", "POST", scope="file", tag="Visits", body=s.VisitCancelIn,
          response=s.VisitOut, errors=LIFE_ERRORS, summary="Cancel the visit, with a reason (the host)")
def cancel_visit(reference: str, body):
    submission, visit, version, refused = _life(reference)
    if refused is not None:
        return refused
    svc.cancel(current_user, visit, reason=body.reason, expected_lock=version)
    db.session.commit()
    return ok(visit_out(submission))
