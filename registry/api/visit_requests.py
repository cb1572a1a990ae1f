"""Requests for a visit: a state asks another for a visit to a named facility; the host accepts (which opens
its draft offer) or declines; the asking state may withdraw an open request. Over the service the pages call
(services/visit_requests.py), with the pages' scoping (`visible`) and the request's version in If-Match."""


from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import select

from registry.api import schemas as s
from registry.api.core import endpoint, ok
from registry.api.problems import problem
from registry.db import db
from registry.enums import VisitRequestStatus
from registry.i18n import _
from registry.models import MemberState, Submission, VisitRequest
from registry.services import visit_requests as svc
from registry.services.errors import ValidationFailed
from registry.services.permissions import can, require
from registry.services.scoping import visible
from registry.visits.requests import request_or_404 as _request_or_404

LIST_LIMIT = 500  # as the requests page
TAG = "Visit requests"
DECIDE_ERRORS = (401, 403, 404, 409, 412, 422, 428)


def _actions(item: VisitRequest) -> list[str]:
    if item.status != VisitRequestStatus.OPEN:
        return []
    return ([name for name in ("accept", "decline") if can(current_user, "visit.decide_request", item)]
            + (["withdraw"] if can(current_user, "visit.withdraw_request", item) else []))


def request_out(item: VisitRequest) -> s.VisitRequestOut:
    offer = db.session.get(Submission, item.offer_id) if item.offer_id else None
    return s.VisitRequestOut(
        reference=item.reference, version=item.lock_version, status=item.status.value,
        requesting_state=item.requesting_state.code, host_state=item.host_state.code,
        kind=item.kind.value if item.kind else None, facility=item.facility, preferred_from=item.preferred_from,
        preferred_to=item.preferred_to, purpose=item.purpose, created_at=item.created_at,
        decided_at=item.decided_at, decline_reason=item.decline_reason,
        offer=offer.reference if offer is not None else None, actions=_actions(item))


def _etag(item: VisitRequest) -> str:
    return f'"{item.lock_version}"'


def _version():
    """(the version named in If-Match, None) or (None, the 428 problem); the service compares it (412)."""
    header = request.headers.get("If-Match", "").strip().removeprefix("W/").strip('"')
    if not header:
        return None, problem(428, "if-match-required", _("Read the record first and send its ETag in If-Match."))
    return header, None


@endpoint("/visit-requests", "GET", scope="read", tag=TAG, response=s.VisitRequestList, errors=(401, 403),
          summary="List the requests for a visit the caller may see",
          description="Those your state sent or received (all of them for the Secretariat and auditors), newest "
                      "first, at most 500 as on the requests page.")
def list_visit_requests():
    rows = list(db.session.scalars(visible(current_user, VisitRequest).order_by(VisitRequest.id.desc())
                                   .limit(LIST_LIMIT + 1)))
    return ok(s.VisitRequestList(items=[request_out(r) for r in rows[:LIST_LIMIT]],
                                 truncated=len(rows) > LIST_LIMIT))


@endpoint("/visit-requests/<reference>", "GET", scope="read", tag=TAG, response=s.VisitRequestOut, etag=True,
          errors=(401, 403, 404), summary="Read a request for a visit")
def get_visit_request(reference: str):
    item = _request_or_404(reference)
    return ok(request_out(item), headers={"ETag": _etag(item)})


@endpoint("/visit-requests", "POST", scope="file", tag=TAG, body=s.VisitRequestIn, response=s.VisitRequestOut,
          status=201, etag=True, errors=(401, 403, 422), summary="Ask another member state for a visit",
          description="An officer, for the officer's own state; the host state's officers are told.")
def create_visit_request(body):
    require(current_user, "visit.request", None)
    if current_user.state_id is None:
        abort(403)
    host = db.session.scalar(select(MemberState).where(MemberState.code == body.host))
    try:
        item = svc.create_request(current_user, host, facility=body.facility, kind=body.kind,
                                  preferred_from=body.preferred_from, preferred_to=body.preferred_to,
                                  purpose=body.purpose)
    except ValidationFailed as exc:
        raise ValidationFailed({"host" if name == "host_state_id" else name: messages
                                for name, messages in exc.errors.items()}) from exc
    db.session.commit()
    return ok(request_out(item), 201, headers={"ETag": _etag(item),
                                               "Location": url_for("api.get_visit_request",
                                                                   reference=item.reference)})


@endpoint("/visit-requests/<reference>/accept", "POST", scope="file", tag=TAG, body=s.VisitRequestAcceptIn,
          response=s.VisitRequestOut, etag=True, if_match=True, errors=DECIDE_ERRORS,
          summary="Accept a request (the host state)",
          description="Opens the host's draft offer (its reference in `offer`), inviting the requesting state "
                      "with `places`: complete it with PUT /visits/{reference} and submit it for review.")
def accept_visit_request(reference: str, body):
    item = _request_or_404(reference)
    require(current_user, "visit.decide_request", item)
    version, refused = _version()
    if refused is not None:
        return refused
    svc.accept_request(current_user, item, places=body.places, expected_lock=version)
    db.session.commit()
    return ok(request_out(item), headers={"ETag": _etag(item)})


@endpoint("/visit-requests/<reference>/decline", "POST", scope="file", tag=TAG, body=s.VisitRequestDeclineIn,
          response=s.VisitRequestOut, etag=True, if_match=True, errors=DECIDE_ERRORS,
          summary="Decline a request (the host state); a reason is optional")
def decline_visit_request(reference: str, body):
    item = _request_or_404(reference)
    require(current_user, "visit.decide_request", item)
    version, refused = _version()
    if refused is not None:
        return refused
    svc.decline_request(current_user, item, reason=body.reason, expected_lock=version)
    db.session.commit()
    return ok(request_out(item), headers={"ETag": _etag(item)})


@endpoint("/visit-requests/<reference>/withdraw", "POST", scope="file", tag=TAG, body=s.Empty,
          response=s.VisitRequestOut, etag=True, if_match=True, errors=DECIDE_ERRORS,
          summary="Withdraw an open request (the asking state)")
def withdraw_visit_request(reference: str, body):
    item = _request_or_404(reference)
    require(current_user, "visit.withdraw_request", item)
    version, refused = _version()
    if refused is not None:
        return refused
    svc.withdraw_request(current_user, item, expected_lock=version)
    db.session.commit()
    return ok(request_out(item), headers={"ETag": _etag(item)})
