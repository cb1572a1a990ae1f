"""Voluntary visits to military facilities: the offer, the visit's life and the invited states' answers.

The offer is a submission (record type "visit") drafted, submitted and reviewed through the shared workflow
(services/submissions.py); this module gives it its details, its checks (DOMAIN.md section 6, rule 7) and what
happens when the Secretariat accepts it: the invitations go out. After that the host postpones, records the
visit as held, or cancels it (LIFECYCLE below), and each invited state's officer answers within its places.
Every function checks the permission, writes the audit entry and the timeline event in the caller's
transaction, and queues the notifications; none commits.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from registry.db import db, utcnow
from registry.enums import (
    AnswerDecision,
    CostBearer,
    RecordType,
    StateStatus,
    SubmissionStatus,
    VisitKind,
    VisitStatus,
)
from registry.i18n import _, _l
from registry.models import (
    ExerciseDetails,
    MemberState,
    Revision,
    Submission,
    SubmissionEvent,
    Visit,
    VisitAnswer,
    VisitDetails,
    VisitInvitation,
    VisitParticipant,
)
from registry.models.visit import COST_FIELDS, NAME_MAX, PERSON_MAX, SHORT_MAX, TEXT_MAX
from registry.records import envelope_snapshot, register
from registry.services import audit, notifications
from registry.services import submissions as workflow
from registry.services.errors import Conflict, ServiceError, ValidationFailed
from registry.services.exercises import _clean_coordinate, _clean_count, _clean_date, _clean_enum, _state_by_id
from registry.services.permissions import require
from registry.services.profiles import profile_value
from registry.services.validation import Errors, clean_text

TEXT_FIELDS = {  # field -> (max length, multiline)
    "facility_ru": (NAME_MAX, False), "facility_zh": (NAME_MAX, False), "facility_en": (NAME_MAX, False),
    "unit": (SHORT_MAX, False), "location": (TEXT_MAX, True), "border_segment": (SHORT_MAX, False),
    "programme": (TEXT_MAX, True), "point_of_entry": (SHORT_MAX, False), "costs_note": (TEXT_MAX, True),
    "interpretation_other": (SHORT_MAX, False),
}
BOOL_FIELDS = ("within_border_zone", "interpret_ru", "interpret_zh", "interpret_en", "invite_all_members")
DATE_FIELDS = ("start_date", "end_date", "answer_by")
TIME_FIELDS = ("start_time", "end_time")
MAX_PLACES = 50  # per invited state; the 1996 agreement allows 6 observers, visits are usually smaller still
MAX_PARTICIPANTS = MAX_PLACES
REASON_MAX = TEXT_MAX
# The offer's record is live (invitations may go out, answers be given) in these review statuses.
PUBLISHED = (SubmissionStatus.ACCEPTED, SubmissionStatus.CANCELLATION_REQUESTED)


@dataclass
class InvitationInput:
    state_id: Any = None
    places: Any = None


@dataclass
class OfferInput:
    """What a host may set on an offer, and nothing else (no status, no state, no reviewer)."""

    values: dict[str, Any] = field(default_factory=dict)
    invitations: list[InvitationInput] = field(default_factory=list)


@dataclass
class ParticipantInput:
    name: Any = ""
    rank: Any = ""
    post: Any = ""


# --- cleaning what was typed -------------------------------------------------------------------------------


def _clean_time(errors: Errors, name: str, value) -> time | None:
    if value in (None, ""):
        return None
    if isinstance(value, time):
        return value
    text = str(value).strip()
    try:
        parsed = time.fromisoformat(text) if len(text) == 5 and text[2] == ":" else None
    except ValueError:
        parsed = None
    if parsed is None:
        errors.add(name, _("Enter a time as HH:MM (24-hour clock)."))
    return parsed


def _clean_places(errors: Errors, name: str, value, required: bool) -> int | None:
    places = _clean_count(errors, name, value)
    if name in errors.by_field:
        return None
    if places is None:
        if required:
            errors.add(name, _("Enter the number of places."))
        return None
    if not 1 <= places <= MAX_PLACES:
        errors.add(name, _("Enter from %(a)d to %(b)d places.", a=1, b=MAX_PLACES))
        return None
    return places


def members_today(today: date) -> list[MemberState]:
    states = db.session.scalars(select(MemberState).options(selectinload(MemberState.status_periods)))
    return sorted((s for s in states if s.status_on(today) == StateStatus.MEMBER), key=lambda s: s.code)


def clean_offer(data: OfferInput, host: MemberState, today: date | None = None) -> dict[str, Any]:
    """Everything the database would refuse, checked before anything is written (a draft may be unfinished)."""
    today = today or utcnow().date()
    errors = Errors()
    values = data.values
    clean: dict[str, Any] = {}
    for name, (limit, multiline) in TEXT_FIELDS.items():
        clean[name] = clean_text(errors, name, values.get(name), max_length=limit, required=False,
                                 multiline=multiline)
    for name in BOOL_FIELDS:
        clean[name] = bool(values.get(name))
    for name in DATE_FIELDS:
        clean[name] = _clean_date(errors, name, values.get(name))
    for name in TIME_FIELDS:
        clean[name] = _clean_time(errors, name, values.get(name))
    if clean["start_date"] and clean["end_date"] and clean["end_date"] < clean["start_date"]:
        errors.add("end_date", _("The end date cannot be before the start date."))
    clean["kind"] = _clean_enum(errors, "kind", VisitKind, values.get("kind"))
    for name in COST_FIELDS:
        clean[name] = _clean_enum(errors, name, CostBearer, values.get(name))
    clean["latitude"] = _clean_coordinate(errors, "latitude", values.get("latitude"), 90)
    clean["longitude"] = _clean_coordinate(errors, "longitude", values.get("longitude"), 180)
    clean["places_each"] = _clean_places(errors, "places_each", values.get("places_each"),
                                         required=clean["invite_all_members"])
    if clean["invite_all_members"]:
        clean["invitations"] = [{"state": s, "places": clean["places_each"] or 1}
                                for s in members_today(today) if s.id != host.id]
    else:
        clean["invitations"] = _clean_invitations(errors, data.invitations, host, today)
    errors.raise_if_any()
    return clean


def _clean_invitations(errors: Errors, rows: list[InvitationInput], host: MemberState, today: date) -> list[dict]:
    cleaned, seen = [], set()
    for index, row in enumerate(rows):
        prefix = f"invitations-{index}-"
        state = _state_by_id(row.state_id)
        if state is None or state.status_on(today) != StateStatus.MEMBER:
            errors.add(prefix + "state_id", _("Choose a member state from the list."))
            state = None
        elif state.id == host.id:
            errors.add(prefix + "state_id", _("The host state does not invite itself."))
            state = None
        elif state.id in seen:
            errors.add(prefix + "state_id", _("This state is already invited above."))
            state = None
        else:
            seen.add(state.id)
        places = _clean_places(errors, prefix + "places", row.places, required=True)
        cleaned.append({"state": state, "places": places})
    return cleaned


# --- the offer ---------------------------------------------------------------------------------------------


def details_of(revision: Revision) -> VisitDetails | None:
    return db.session.scalar(
        select(VisitDetails).where(VisitDetails.revision_id == revision.id)
        .options(selectinload(VisitDetails.invitations).selectinload(VisitInvitation.state))
    )


def visit_of(submission: Submission) -> Visit:
    return db.session.scalar(select(Visit).where(Visit.submission_id == submission.id)
                             .options(selectinload(Visit.answers).selectinload(VisitAnswer.participants)))


def _apply(details: VisitDetails, clean: dict[str, Any]) -> None:
    for name in (*TEXT_FIELDS, *BOOL_FIELDS, *DATE_FIELDS, *TIME_FIELDS, *COST_FIELDS, "kind", "latitude",
                 "longitude", "places_each"):
        setattr(details, name, clean[name])
    if details.invitations and details.id is not None:
        # Old rows out first: the unit of work inserts before it deletes, and one state is invited once.
        details.invitations = []
        db.session.flush()
    details.invitations = [VisitInvitation(position=i, state_id=row["state"].id, state=row["state"],
                                           places=row["places"])
                           for i, row in enumerate(clean["invitations"])]


def _sync_dates(visit: Visit, details: VisitDetails) -> None:
    for name in ("start_date", "start_time", "end_date", "end_time", "answer_by"):
        setattr(visit, name, getattr(details, name))


def create_offer(actor, host: MemberState, data: OfferInput, *, visibility="members", language="ru",
                 source_document=None, idempotency_key=None, request=None, today: date | None = None) -> Submission:
    """A new draft offer (or the one this form already opened: a retried POST finds it)."""
    require(actor, "submission.file", host)
    existing = workflow.previously_created(actor, idempotency_key)
    if existing is not None:
        return existing
    clean = clean_offer(data, host, today)
    visibility = _clean_offer_visibility(visibility)
    submission = workflow.create_submission(actor, RecordType.VISIT, host, visibility=visibility,
                                            language=language, source_document=source_document,
                                            idempotency_key=idempotency_key, today=today)
    details = VisitDetails(revision_id=submission.current_revision.id, request_id=request.id if request else None)
    _apply(details, clean)
    db.session.add(details)
    visit = Visit(submission=submission, status=VisitStatus.PLANNED)
    _sync_dates(visit, details)
    db.session.add(visit)
    db.session.flush()
    audit.record("visit.save_draft", actor=actor, object_type="visit", object_id=submission.reference,
                 state_code=host.code, changes=audit.diff({}, snapshot_details(details)))
    return submission


def _clean_offer_visibility(value):
    """Invited states must be able to read the offer: "Secretariat only" would hide it from them."""
    visibility = workflow.clean_visibility(value)
    if visibility.value == "secretariat":
        raise ValidationFailed({"visibility": [_("The invited states must be able to read the offer: choose "
                                                 "member states only, or public.")]})
    return visibility


def update_offer(actor, submission: Submission, data: OfferInput, *, expected_lock=None, visibility=None,
                 today: date | None = None) -> Submission:
    """Save the draft (or the returned version being corrected, or an amendment)."""
    revision = workflow.editable_revision(actor, submission, expected_lock)
    clean = clean_offer(data, submission.state, today)
    new_visibility = _clean_offer_visibility(visibility) if visibility is not None else None
    details = details_of(revision)
    before = snapshot_details(details) | {"visibility": submission.visibility.value}
    with workflow.stale_as_conflict():
        _apply(details, clean)
        if new_visibility is not None:
            submission.visibility = new_visibility
        if submission.accepted_revision_no is None:  # never accepted: the draft's dates are the visit's
            _sync_dates(visit_of(submission), details)
        flag_modified(submission, "visibility")  # a save makes other open copies of the form stale
        db.session.flush()
    after = snapshot_details(details) | {"visibility": submission.visibility.value}
    audit.record("visit.save_draft", actor=actor, object_type="visit", object_id=submission.reference,
                 state_code=submission.state.code, changes=audit.diff(before, after))
    return submission


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def snapshot_details(details: VisitDetails) -> dict[str, Any]:
    snapshot = {name: getattr(details, name) for name in (*TEXT_FIELDS, *BOOL_FIELDS, "latitude", "longitude",
                                                          "places_each")}
    snapshot.update({name: _iso(getattr(details, name)) for name in (*DATE_FIELDS, *TIME_FIELDS)})
    snapshot.update({name: getattr(details, name).value if getattr(details, name) else None
                     for name in (*COST_FIELDS, "kind")})
    snapshot["invitations"] = [{"state": i.state.code, "places": i.places} for i in details.invitations]
    snapshot["request_id"] = details.request_id
    return snapshot


# --- the checks before submission (DOMAIN.md section 6, rule 7) --------------------------------------------


def _finding(code: str, severity: str, field_name: str, message: str, params: dict | None = None) -> dict:
    return {"code": code, "severity": severity, "field": field_name, "profile": None, "params": params or {},
            "message": message}


def check_offer(submission: Submission, details: VisitDetails, today: date | None = None) -> list[dict]:
    today = today or utcnow().date()
    findings = []

    def error(code, field_name, message):
        findings.append(_finding(code, "error", field_name, message))

    if details.kind is None:
        error("required", "kind", _("Choose the kind of visit."))
    if not (details.facility_ru or details.facility_zh):
        error("facility_name", "facility_ru", _("Name the facility in Russian or Chinese (English as well, if "
                                                "you can)."))
    for name, message in (("location", _("Describe where the facility is.")),
                          ("programme", _("Describe the programme of the visit.")),
                          ("point_of_entry", _("Name the point of entry of the visitors."))):
        if not getattr(details, name):
            error("required", name, message)
    for name in COST_FIELDS:
        if getattr(details, name) is None:
            error("required", name, _("Say who bears this cost."))
    if not details.interpretation_languages and not details.interpretation_other:
        error("required", "interpret_ru", _("Choose at least one language of interpretation."))
    if details.within_border_zone and not details.border_segment:
        error("required", "border_segment", _("Name the border segment the facility is near."))
    start, end, answer_by = details.start_date, details.end_date, details.answer_by
    if start is None:
        error("required", "start_date", _("Enter the date the visit starts."))
    elif start <= today:
        error("start_past", "start_date", _("The visit must start after today."))
    if end is None:
        error("required", "end_date", _("Enter the date the visit ends."))
    elif start and (end < start or (end == start and details.start_time and details.end_time
                                    and details.end_time <= details.start_time)):
        error("end_before_start", "end_date", _("The visit must end after it starts."))
    if answer_by is None:
        error("required", "answer_by", _("Enter the date by which the invited states answer."))
    elif answer_by < today:
        error("answer_by_past", "answer_by", _("The date for answers has already passed."))
    elif start and answer_by >= start:
        error("answer_after_start", "answer_by", _("The answers must be due before the visit starts."))
    if not details.invitations:
        error("no_invitations", "invitations", _("Invite at least one member state, or all of them."))
    findings.extend(_amendment_findings(submission, details))
    lead = invitation_lead_hint(start, today)
    if lead:
        findings.append(lead)
    return findings


def _amendment_findings(submission: Submission, details: VisitDetails) -> list[dict]:
    """An amendment cannot take places or the invitation from a state that already named its participants."""
    visit = visit_of(submission)
    if visit is None or not visit.answers:
        return []
    places = {i.state_id: i.places for i in details.invitations}
    findings = []
    for answer in visit.answers:
        if answer.decision != AnswerDecision.ACCEPTED:
            continue
        if answer.state_id not in places:
            findings.append(_finding("answered_state_removed", "error", "invitations",
                                     _("%(state)s has accepted the invitation: it cannot be removed.",
                                       state=answer.state.name_en)))
        elif places[answer.state_id] < answer.participant_count:
            findings.append(_finding("places_below_participants", "error", "invitations",
                                     _("%(state)s has named %(n)d participants: give it at least as many places.",
                                       state=answer.state.name_en, n=answer.participant_count)))
    return findings


def invitation_lead_hint(start: date | None, sent_on: date) -> dict | None:
    """A warning (never an error): invitations reaching the invited states fewer days ahead than the profile's
    hint (42 days, Vienna Document 2011 ch. IV)."""
    days = profile_value("visit_invitation_days")
    if start is None or days is None:
        return None
    lead = (start - sent_on).days
    if lead >= days:
        return None
    return _finding("invitation_late", "warning", "start_date",
                    _("Invitations sent on %(on)s reach the invited states %(lead)d days before the visit, fewer "
                      "than the %(days)d days recommended.", on=sent_on.isoformat(), lead=lead, days=days),
                    {"lead_days": lead, "days": days})


class VisitAdapter:
    def copy_details(self, source: Revision, target: Revision) -> None:
        old = details_of(source)
        new = VisitDetails(revision_id=target.id)
        for name in (*TEXT_FIELDS, *BOOL_FIELDS, *DATE_FIELDS, *TIME_FIELDS, *COST_FIELDS, "kind", "latitude",
                     "longitude", "places_each", "request_id"):
            setattr(new, name, getattr(old, name))
        visit = visit_of(source.submission)
        if visit is not None and visit.postponements:  # an amendment after a postponement starts from its dates
            for name in ("start_date", "start_time", "end_date", "end_time", "answer_by"):
                setattr(new, name, getattr(visit, name))
        new.invitations = [VisitInvitation(position=i.position, state_id=i.state_id, places=i.places)
                           for i in old.invitations]
        db.session.add(new)

    def snapshot(self, submission: Submission, revision: Revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission), "visit": snapshot_details(details_of(revision))}

    def check(self, submission: Submission, revision: Revision) -> list[dict]:
        return check_offer(submission, details_of(revision))

    def after_transition(self, actor, submission: Submission, action: str, today: date) -> None:
        visit = visit_of(submission)
        if action == "accept":
            _offer_accepted(actor, submission, visit, today)
        elif action == "accept_cancellation" and visit.status != VisitStatus.CANCELLED:
            visit.cancel_reason = submission.cancel_reason or _("The offer was cancelled.")
            _set_status(actor, visit, "cancel_visit", VisitStatus.CANCELLED, comment=visit.cancel_reason)
            _tell_invitees(visit, "visit.cancelled", _l("Visit %(ref)s is cancelled", ref=submission.reference))


register(RecordType.VISIT, VisitAdapter())


# --- the visit's life --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifeStep:
    sources: frozenset[VisitStatus]
    target: VisitStatus


LIVE = frozenset({VisitStatus.INVITATIONS_SENT, VisitStatus.POSTPONED})
# action -> allowed from -> to. "invitations_sent" happens when the Secretariat accepts the offer.
LIFECYCLE: dict[str, LifeStep] = {
    "postpone": LifeStep(LIVE, VisitStatus.POSTPONED),
    "held": LifeStep(LIVE, VisitStatus.HELD),
    "cancel_visit": LifeStep(LIVE, VisitStatus.CANCELLED),
}


def _event(submission: Submission, actor, action: str, from_status, to_status, comment: str | None = None):
    submission.events.append(SubmissionEvent(
        revision_no=submission.accepted_revision_no or submission.current_revision_no, action=action,
        from_status=from_status.value if from_status else None, to_status=to_status.value if to_status else None,
        actor_id=actor.id if actor is not None else None, actor_label=actor.email if actor is not None else "",
        comment=comment or None,
    ))


def _set_status(actor, visit: Visit, action: str, target: VisitStatus, comment: str | None = None,
                changes: dict | None = None) -> None:
    before = visit.status
    visit.status = target
    _event(visit.submission, actor, action, before, target, comment)
    audit.record(f"visit.{action}", actor=actor, object_type="visit", object_id=visit.submission.reference,
                 state_code=visit.submission.state.code,
                 changes={"status": [before.value, target.value], **(changes or {})})


def _tell_invitees(visit: Visit, kind: str, subject: str, body: str | None = None) -> None:
    reference = visit.submission.reference
    for officer in notifications.officers_of(*visit.invited_state_ids):
        notifications.queue(officer, kind, subject, body or subject, {"reference": reference})


def _tell_host(visit: Visit, kind: str, subject: str) -> None:
    for officer in notifications.officers_of(visit.submission.state_id):
        notifications.queue(officer, kind, subject, subject, {"reference": visit.submission.reference})


def _offer_accepted(actor, submission: Submission, visit: Visit, today: date) -> None:
    """First acceptance: the invitations go out. An accepted amendment: the invited states are told."""
    _sync_dates(visit, details_of(submission.accepted_revision))
    if visit.status == VisitStatus.PLANNED:
        visit.invitations_sent_at = utcnow()
        _set_status(actor, visit, "invitations_sent", VisitStatus.INVITATIONS_SENT,
                    changes={"invitations_sent_on": [None, today.isoformat()]})
        _tell_invitees(visit, "visit.invitation",
                       _l("Invitation to visit %(ref)s: answer by %(date)s", ref=submission.reference,
                         date=_iso(visit.answer_by)))
    else:
        _tell_invitees(visit, "visit.amended", _l("The offer of visit %(ref)s was amended", ref=submission.reference))


def _check_life(actor, visit: Visit, action: str, expected_lock) -> None:
    require(actor, "visit.manage", visit)
    _check_visit_lock(visit, expected_lock)
    step = LIFECYCLE[action]
    if visit.submission.status not in PUBLISHED or visit.status not in step.sources:
        words = {"postpone": _("postponed"), "held": _("recorded as held"), "cancel_visit": _("cancelled")}
        raise workflow.InvalidTransition(_("This visit is %(status)s: it cannot be %(action)s now.",
                                           status=visit.status.label, action=words[action]))


def _check_visit_lock(visit: Visit, expected_lock) -> None:
    workflow.check_version(visit.lock_version, expected_lock,
                           _("This visit changed since you opened it. Reload it to see the change, then try again."))


def can_act(user, visit: Visit, action: str) -> bool:
    try:
        _check_life(user, visit, action, None)
    except ServiceError:  # refused: not allowed, or not from this status
        return False
    return True


def postpone(actor, visit: Visit, *, start_date, end_date, answer_by, start_time=None, end_time=None,
             reason="", expected_lock=None, today: date | None = None) -> Visit:
    """New dates; the answers given stay, and the invited states may change them until the new date."""
    today = today or utcnow().date()
    _check_life(actor, visit, "postpone", expected_lock)
    errors = Errors()
    start = _clean_date(errors, "start_date", start_date)
    end = _clean_date(errors, "end_date", end_date)
    due = _clean_date(errors, "answer_by", answer_by)
    start_t = _clean_time(errors, "start_time", start_time)
    end_t = _clean_time(errors, "end_time", end_time)
    reason = clean_text(errors, "reason", reason, max_length=REASON_MAX, required=False, multiline=True)
    for name, value, message in (("start_date", start, _("Enter the new start date.")),
                                 ("end_date", end, _("Enter the new end date.")),
                                 ("answer_by", due, _("Enter the new date for answers."))):
        if value is None and name not in errors.by_field:
            errors.add(name, message)
    if start and start <= today:
        errors.add("start_date", _("The visit must start after today."))
    if start and end and (end < start or (end == start and start_t and end_t and end_t <= start_t)):
        errors.add("end_date", _("The visit must end after it starts."))
    if due and due < today:
        errors.add("answer_by", _("The date for answers has already passed."))
    elif due and start and due >= start:
        errors.add("answer_by", _("The answers must be due before the visit starts."))
    if start and visit.start_date and start == visit.start_date and end == visit.end_date and start_t == \
            visit.start_time:
        errors.add("start_date", _("These are the visit's dates already: enter the new ones."))
    errors.raise_if_any()
    before = {name: _iso(getattr(visit, name)) for name in ("start_date", "start_time", "end_date", "end_time",
                                                            "answer_by")}
    with workflow.stale_as_conflict():
        visit.start_date, visit.start_time, visit.end_date, visit.end_time, visit.answer_by = (
            start, start_t, end, end_t, due)
        visit.postponements += 1
        after = {name: _iso(getattr(visit, name)) for name in before}
        comment = _("New dates: %(start)s to %(end)s; answers by %(due)s.", start=start.isoformat(),
                    end=end.isoformat(), due=due.isoformat()) + (f"\n{reason}" if reason else "")
        _set_status(actor, visit, "postpone", VisitStatus.POSTPONED, comment=comment,
                    changes=audit.diff(before, after) | ({"reason": [None, reason]} if reason else {}))
        _tell_invitees(visit, "visit.postponed",
                       _l("Visit %(ref)s is postponed to %(start)s", ref=visit.submission.reference,
                         start=start.isoformat()), comment)
        db.session.flush()
    return visit


def mark_held(actor, visit: Visit, *, expected_lock=None, today: date | None = None) -> Visit:
    today = today or utcnow().date()
    _check_life(actor, visit, "held", expected_lock)
    if visit.start_date and today < visit.start_date:
        raise ValidationFailed({"": [_("The visit starts on %(date)s: it can be recorded as held from that day.",
                                       date=visit.start_date.isoformat())]})
    if not any(a.decision == AnswerDecision.ACCEPTED for a in visit.answers):
        raise ValidationFailed({"": [_("No invited state accepted: the visit cannot have been held. Cancel it "
                                       "instead.")]})
    with workflow.stale_as_conflict():
        visit.held_on = today
        _set_status(actor, visit, "held", VisitStatus.HELD, changes={"held_on": [None, today.isoformat()]})
        db.session.flush()
    return visit


def cancel(actor, visit: Visit, *, reason, expected_lock=None) -> Visit:
    _check_life(actor, visit, "cancel_visit", expected_lock)
    errors = Errors()
    reason = clean_text(errors, "reason", reason, max_length=REASON_MAX, required=True, multiline=True)
    errors.raise_if_any()
    with workflow.stale_as_conflict():
        visit.cancel_reason = reason
        _set_status(actor, visit, "cancel_visit", VisitStatus.CANCELLED, comment=reason,
                    changes={"cancel_reason": [None, reason]})
        _tell_invitees(visit, "visit.cancelled", _l("Visit %(ref)s is cancelled", ref=visit.submission.reference),
                       reason)
        db.session.flush()
    return visit


# --- the invited states' answers ---------------------------------------------------------------------------


def invitation_for(visit: Visit, state_id: int | None) -> VisitInvitation | None:
    return next((i for i in visit.invitations_in_force() if i.state_id == state_id), None)


def answer_refusal(visit: Visit, today: date | None = None) -> str | None:
    """Why answers cannot be given now, or None."""
    today = today or utcnow().date()
    if visit.submission.status not in PUBLISHED or visit.status not in LIVE:
        return _("This visit is %(status)s: invitations cannot be answered now.", status=visit.status.label)
    if visit.answer_by and today > visit.answer_by:
        return _("Answers were due by %(date)s; it is too late to answer. Contact the host state.",
                 date=visit.answer_by.isoformat())
    if visit.start_date and today >= visit.start_date:
        return _("The visit has started; it is too late to answer.")
    return None


def answer(actor, visit: Visit, *, decision, participants: list[ParticipantInput], decline_reason="",
           expected_lock=None, today: date | None = None) -> VisitAnswer:
    """The invited state's answer: accepted with its participants (within its places), or declined.

    A second answer by the same state replaces the first until the date for answers. Two officers answering at
    once: the version each one saw is checked, and the database refuses a second answer row for the state."""
    today = today or utcnow().date()
    require(actor, "visit.answer", visit)
    refusal = answer_refusal(visit, today)
    if refusal:
        raise ValidationFailed({"": [refusal]})
    invitation = invitation_for(visit, actor.state_id)
    existing = visit.answer_of(actor.state_id)
    if existing is not None:
        _check_answer_lock(existing, expected_lock)
    errors = Errors()
    decision = _clean_enum(errors, "decision", AnswerDecision, decision, required=True)
    decline_reason = clean_text(errors, "decline_reason", decline_reason, max_length=REASON_MAX, required=False,
                                multiline=True)
    people = _clean_participants(errors, participants)
    if decision == AnswerDecision.ACCEPTED:
        if not people and "participants" not in errors.by_field:
            errors.add("participants", _("Name at least one participant."))
        elif len(people) > invitation.places:
            errors.add("participants", _("Your state has %(n)d places on this visit: name at most %(n)d "
                                         "participants.", n=invitation.places))
    elif decision == AnswerDecision.DECLINED and people:
        errors.add("participants", _("A declined invitation names no participants: remove them, or accept."))
    errors.raise_if_any()

    before = _answer_snapshot(existing) if existing else {}
    row = existing or VisitAnswer(visit=visit, state_id=actor.state_id)
    with workflow.stale_as_conflict():
        row.decision = decision
        row.decline_reason = decline_reason if decision == AnswerDecision.DECLINED else ""
        row.places = invitation.places
        row.participant_count = len(people)
        row.answered_by_id = actor.id
        row.answered_at = utcnow()
        row.participants = [VisitParticipant(position=i, **person) for i, person in enumerate(people)]
        if existing is None:
            db.session.add(row)
        try:
            db.session.flush()
        except IntegrityError as exc:  # another officer of the state answered at the same moment
            raise Conflict(_("Another officer of your state answered meanwhile. Reload the visit to see the "
                             "answer, then change it if needed.")) from exc
    state = db.session.get(MemberState, actor.state_id)
    summary = (_l("%(state)s accepted with %(n)d participants.", state=state.name_en, n=len(people))
               if decision == AnswerDecision.ACCEPTED else _l("%(state)s declined.", state=state.name_en))
    _event(visit.submission, actor, "answer", None, None, str(summary))
    audit.record("visit.answer", actor=actor, object_type="visit", object_id=visit.submission.reference,
                 state_code=state.code, changes=audit.diff(before, _answer_snapshot(row)))
    _tell_host(visit, "visit.answer", _l("%(ref)s: %(summary)s", ref=visit.submission.reference, summary=summary))
    return row


def _check_answer_lock(existing: VisitAnswer, expected_lock) -> None:
    workflow.check_version(existing.lock_version, expected_lock,
                           _("Your state's answer changed since you opened it. Reload the visit to see it, then "
                             "try again."))


def _clean_participants(errors: Errors, rows: list[ParticipantInput]) -> list[dict]:
    people = []
    if len(rows) > MAX_PARTICIPANTS:
        errors.add("participants", _("At most %(n)d participants.", n=MAX_PARTICIPANTS))
        return []
    for index, row in enumerate(rows):
        prefix = f"participants-{index}-"
        name = clean_text(errors, prefix + "name", row.name, max_length=PERSON_MAX)
        rank = clean_text(errors, prefix + "rank", row.rank, max_length=PERSON_MAX, required=False)
        post = clean_text(errors, prefix + "post", row.post, max_length=PERSON_MAX, required=False)
        people.append({"name": name, "rank": rank, "post": post})
    return people


def _answer_snapshot(row: VisitAnswer) -> dict[str, Any]:
    return {"decision": row.decision.value, "decline_reason": row.decline_reason,
            "participants": [{"name": p.name, "rank": p.rank, "post": p.post} for p in row.participants]}


# --- hints for the Secretariat (warnings, never errors) ----------------------------------------------------


def air_base_hints(today: date | None = None) -> list[dict]:
    """Member states that declared air combat forces in an accepted exercise notification within the profile's
    period (5 years, Vienna Document 2011 ch. IV) and hosted no air-base visit that was held in that period."""
    today = today or utcnow().date()
    years = profile_value("visit_air_base_years")
    if not years:
        return []
    since = today.replace(year=today.year - years) if not (today.month == 2 and today.day == 29) \
        else today - timedelta(days=365 * years)
    air_forces = (
        select(Submission.state_id)
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.accepted_revision_no))
        .join(ExerciseDetails, ExerciseDetails.revision_id == Revision.id)
        .where(Submission.record_type == RecordType.EXERCISE, Submission.status.in_(PUBLISHED),
               ExerciseDetails.start_date >= since,
               (func.coalesce(ExerciseDetails.combat_aircraft, 0) > 0)
               | (func.coalesce(ExerciseDetails.troops_air, 0) > 0))
    )
    held_air_base = (
        select(Visit.id)
        .join(Submission, Submission.id == Visit.submission_id)
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.accepted_revision_no))
        .join(VisitDetails, VisitDetails.revision_id == Revision.id)
        .where(Submission.state_id == MemberState.id, Visit.status == VisitStatus.HELD,
               Visit.held_on >= since, VisitDetails.kind == VisitKind.AIR_BASE)
    )
    states = db.session.scalars(
        select(MemberState).where(MemberState.id.in_(air_forces), ~exists(held_air_base)).order_by(MemberState.code)
    )
    return [{"state": state, "years": years, "since": since} for state in states]


# --- reminders (flask --app app notifications remind, from cron) -------------------------------------------


@notifications.reminder("visit_answers")
def answer_reminders(today: date) -> list[notifications.Reminder]:
    """Invited states that have not answered yet, in the windows before the date for answers."""
    reminders = []
    live = db.session.scalars(
        select(Visit).join(Submission, Submission.id == Visit.submission_id)
        .where(Visit.status.in_(LIVE), Submission.status.in_(PUBLISHED), Visit.answer_by >= today)
        .options(selectinload(Visit.answers)).order_by(Visit.id)
    )
    for visit in live:
        code = notifications.window((visit.answer_by - today).days)
        if code is None:
            continue
        answered = {a.state_id for a in visit.answers}
        reference = visit.submission.reference
        for state_id in sorted(visit.invited_state_ids - answered):
            officers = notifications.officers_of(state_id)
            if not officers:
                continue
            reminders.append(notifications.Reminder(
                recipients=officers, kind="reminder.visit_answer",
                subject=_l("Visit %(ref)s: answer by %(date)s", ref=reference, date=visit.answer_by.isoformat()),
                body=_l("Your state is invited to visit %(ref)s and has not answered yet. Answers are due by "
                       "%(date)s.", ref=reference, date=visit.answer_by.isoformat()),
                dedupe_key=f"visit_answer:{visit.id}:{state_id}:{visit.answer_by.isoformat()}:{code}",
                context={"reference": reference}))
    return reminders
