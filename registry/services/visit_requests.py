"""A state asks another for a visit to a named facility; the host accepts or declines.

Visits are voluntary: declining needs no reason (an optional one is kept). Accepting opens the host's draft
offer, prefilled with the facility and inviting the requesting state, which then goes through review like any
offer. Each function checks the permission, audits in the caller's transaction and queues notifications.
"""

from datetime import date

from registry.db import db, utcnow
from registry.enums import StateStatus, VisitKind, VisitRequestStatus
from registry.i18n import _, _l
from registry.models import MemberState, VisitRequest
from registry.models.visit import NAME_MAX, TEXT_MAX
from registry.services import audit, notifications, visits
from registry.services import submissions as workflow
from registry.services.exercises import _clean_date, _clean_enum
from registry.services.permissions import require
from registry.services.validation import Errors, clean_text

PREFIX = "VRQ"


def _tell(state_id: int, kind: str, subject: str, reference: str) -> None:
    for officer in notifications.officers_of(state_id):
        notifications.queue(officer, kind, subject, subject, {"reference": reference})


def _record(actor, request: VisitRequest, action: str, changes: dict) -> None:
    audit.record(f"visit_request.{action}", actor=actor, object_type="visit_request", object_id=request.reference,
                 state_code=request.requesting_state.code, changes=changes)


def create_request(actor, host: MemberState | None, *, facility, kind=None, preferred_from=None,
                   preferred_to=None, purpose="", today: date | None = None) -> VisitRequest:
    today = today or utcnow().date()
    errors = Errors()
    if host is None or host.status_on(today) != StateStatus.MEMBER:
        errors.add("host_state_id", _("Choose a member state from the list."))
        host = None
    elif actor.state_id == host.id:
        errors.add("host_state_id", _("Your state cannot ask itself for a visit."))
        host = None
    if host is not None:
        require(actor, "visit.request", host)
    facility = clean_text(errors, "facility", facility, max_length=NAME_MAX)
    kind = _clean_enum(errors, "kind", VisitKind, kind)
    start = _clean_date(errors, "preferred_from", preferred_from)
    end = _clean_date(errors, "preferred_to", preferred_to)
    if start and start <= today:
        errors.add("preferred_from", _("Choose a date after today."))
    if start and end and end < start:
        errors.add("preferred_to", _("The end date cannot be before the start date."))
    purpose = clean_text(errors, "purpose", purpose, max_length=TEXT_MAX, required=True, multiline=True)
    errors.raise_if_any()
    request = VisitRequest(
        reference=workflow.numbered_reference("visit_request", PREFIX, today.year),
        requesting_state_id=actor.state_id, requesting_state=actor.state, host_state_id=host.id, host_state=host,
        kind=kind, facility=facility, preferred_from=start, preferred_to=end, purpose=purpose,
        status=VisitRequestStatus.OPEN, created_by_id=actor.id,
    )
    db.session.add(request)
    db.session.flush()
    _record(actor, request, "create", {"status": [None, "open"], "host": [None, host.code],
                                       "facility": [None, facility]})
    _tell(host.id, "visit_request.new", _l("%(state)s asks for a visit (%(ref)s)", state=actor.state.name_en,
                                          ref=request.reference), request.reference)
    return request


def _check_open(request: VisitRequest, expected_lock) -> None:
    workflow.check_version(request.lock_version, expected_lock,
                           _("This request changed since you opened it. Reload it, then try again."))
    if request.status != VisitRequestStatus.OPEN:
        raise workflow.InvalidTransition(_("This request is already answered: %(status)s.",
                                           status=request.status.label))


def accept_request(actor, request: VisitRequest, *, places=2, expected_lock=None, today: date | None = None):
    """The host agrees: a draft offer opens, inviting the requesting state; the host completes and submits it."""
    require(actor, "visit.decide_request", request)
    _check_open(request, expected_lock)
    values = {_name_field(request.facility): request.facility, "kind": request.kind.value if request.kind else None,
              "start_date": request.preferred_from, "end_date": request.preferred_to}
    offer = visits.create_offer(actor, request.host_state, visits.OfferInput(
        values=values, invitations=[visits.InvitationInput(state_id=request.requesting_state_id, places=places)]),
        request=request, today=today)
    _decide(actor, request, VisitRequestStatus.ACCEPTED)
    request.offer_id = offer.id
    _record(actor, request, "accept", {"status": ["open", "accepted"], "offer": [None, offer.reference]})
    _tell(request.requesting_state_id, "visit_request.accepted",
          _l("%(ref)s: the host agreed; its offer %(offer)s will follow review", ref=request.reference,
            offer=offer.reference), request.reference)
    return offer


def decline_request(actor, request: VisitRequest, *, reason="", expected_lock=None) -> VisitRequest:
    require(actor, "visit.decide_request", request)
    _check_open(request, expected_lock)
    errors = Errors()
    reason = clean_text(errors, "reason", reason, max_length=TEXT_MAX, required=False, multiline=True)
    errors.raise_if_any()
    _decide(actor, request, VisitRequestStatus.DECLINED)
    request.decline_reason = reason
    _record(actor, request, "decline", {"status": ["open", "declined"], "reason": [None, reason or None]})
    _tell(request.requesting_state_id, "visit_request.declined",
          _l("%(ref)s: the host declined the visit", ref=request.reference), request.reference)
    return request


def withdraw_request(actor, request: VisitRequest, *, expected_lock=None) -> VisitRequest:
    require(actor, "visit.withdraw_request", request)
    _check_open(request, expected_lock)
    with workflow.stale_as_conflict():
        request.status = VisitRequestStatus.WITHDRAWN
        db.session.flush()
    _record(actor, request, "withdraw", {"status": ["open", "withdrawn"]})
    _tell(request.host_state_id, "visit_request.withdrawn",
          _l("%(ref)s was withdrawn", ref=request.reference), request.reference)
    return request


def _decide(actor, request: VisitRequest, status: VisitRequestStatus) -> None:
    with workflow.stale_as_conflict():
        request.status = status
        request.decided_by_id = actor.id
        request.decided_at = utcnow()
        db.session.flush()


def _name_field(name: str) -> str:
    """The offer's facility field for a name as the requester typed it: by its script."""
    if any("\u4e00" <= char <= "\u9fff" for char in name):
        return "facility_zh"
    if any("\u0400" <= char <= "\u04ff" for char in name):
        return "facility_ru"
    return "facility_en"
