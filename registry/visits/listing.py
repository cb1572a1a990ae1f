"""The queries behind the visit pages: the filtered list, a state's history, what waits for my state's answer.

All start from `visible(user, Submission)` and read the version the user may read (`reads_revision`), so a list
never shows more than the record pages would.
"""

import re
from datetime import date

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import selectinload

from registry.db import db, utcnow
from registry.enums import AnswerDecision, RecordType, VisitKind, VisitRequestStatus, VisitStatus
from registry.i18n import _
from registry.models import (
    MemberState,
    Revision,
    Submission,
    Visit,
    VisitAnswer,
    VisitDetails,
    VisitInvitation,
    VisitRequest,
)
from registry.services.scoping import reads_revision, visible
from registry.services.visits import LIVE, PUBLISHED

LIST_LIMIT = 500  # visits are few (a handful per state and year); past this the filters narrow the list
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
STATE_CODE = re.compile(r"[A-Za-z]{2}", re.ASCII)
WHEN = ("upcoming", "past", "all")


def _date(text: str) -> date | None:
    if not ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse_filters(args, states: list[MemberState]) -> tuple[dict, list[str]]:
    """The filters asked for; a value that is not one is ignored with a message, never an error page."""
    problems: list[str] = []
    by_code = {s.code: s for s in states}
    filters: dict = {"when": args.get("when", "upcoming")}
    if filters["when"] not in WHEN:
        problems.append(_("Choose upcoming, past or all visits."))
        filters["when"] = "upcoming"
    for name in ("host", "invited"):
        code = (args.get(name) or "").strip()
        if code:
            state = by_code.get(code.upper()) if STATE_CODE.fullmatch(code) else None
            if state is None:
                problems.append(_("Choose a state from the list."))
            filters[name] = state
    for name, enum_cls in (("kind", VisitKind), ("status", VisitStatus)):
        value = (args.get(name) or "").strip()
        if value:
            try:
                filters[name] = enum_cls(value)
            except ValueError:
                problems.append(_("Choose a value from the list."))
    for name in ("from", "to"):
        text = (args.get(name) or "").strip()
        if text:
            filters[name] = _date(text)
            if filters[name] is None:
                problems.append(_("Enter a date as YYYY-MM-DD."))
    return filters, problems


def _rows_stmt(user):
    return (
        visible(user, Submission)
        .where(Submission.record_type == RecordType.VISIT)
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(user))
        .join(VisitDetails, VisitDetails.revision_id == Revision.id)
        .join(Visit, Visit.submission_id == Submission.id)
        .add_columns(VisitDetails, Visit)
        .options(selectinload(Submission.state))
    )


def visit_rows(user, filters: dict) -> tuple[list[tuple[Submission, VisitDetails, Visit]], bool]:
    stmt = filtered_stmt(user, filters)
    rows = [(row[0], row[1], row[2]) for row in db.session.execute(stmt.limit(LIST_LIMIT + 1))]
    return rows[:LIST_LIMIT], len(rows) > LIST_LIMIT


def filtered_stmt(user, filters: dict):
    """(Submission, VisitDetails, Visit) rows the user may see, filtered and ordered as the list shows them."""
    today = utcnow().date()
    stmt = _rows_stmt(user)
    if filters.get("host"):
        stmt = stmt.where(Submission.state_id == filters["host"].id)
    if filters.get("invited"):
        stmt = stmt.where(exists(select(VisitInvitation.id).where(
            VisitInvitation.details_id == VisitDetails.id, VisitInvitation.state_id == filters["invited"].id)))
    if filters.get("kind"):
        stmt = stmt.where(VisitDetails.kind == filters["kind"])
    if filters.get("status"):
        stmt = stmt.where(Visit.status == filters["status"])
    if filters.get("from"):
        stmt = stmt.where(Visit.end_date >= filters["from"])
    if filters.get("to"):
        stmt = stmt.where(Visit.start_date <= filters["to"])
    when = filters.get("when", "upcoming")
    if when == "upcoming":
        stmt = stmt.where((Visit.end_date >= today) | Visit.end_date.is_(None)).order_by(
            Visit.start_date.asc().nulls_last(), Submission.id)
    else:
        if when == "past":
            stmt = stmt.where(Visit.end_date < today)
        stmt = stmt.order_by(Visit.start_date.desc().nulls_first(), Submission.id.desc())
    return stmt


def visited_by(user, state: MemberState) -> list[tuple[Submission, VisitDetails, Visit]]:
    """Visits the state accepted to take part in (held, coming or cancelled), as far as `user` may see them."""
    stmt = _rows_stmt(user).where(exists(select(VisitAnswer.id).where(
        VisitAnswer.visit_id == Visit.id, VisitAnswer.state_id == state.id,
        VisitAnswer.decision == AnswerDecision.ACCEPTED))).order_by(Visit.start_date.desc(), Submission.id)
    return [(row[0], row[1], row[2]) for row in db.session.execute(stmt.limit(LIST_LIMIT))]


def awaiting_answer(user, today: date) -> list[dict]:
    """Invitations to the officer's state in force and still open, with its answer so far (None: not answered)."""
    stmt = (
        visible(user, Submission)
        .where(Submission.record_type == RecordType.VISIT, Submission.status.in_(PUBLISHED))
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.accepted_revision_no))
        .join(VisitDetails, VisitDetails.revision_id == Revision.id)
        .join(VisitInvitation, and_(VisitInvitation.details_id == VisitDetails.id,
                                    VisitInvitation.state_id == user.state_id))
        .join(Visit, Visit.submission_id == Submission.id)
        .where(Visit.status.in_(LIVE), (Visit.answer_by >= today) | Visit.answer_by.is_(None))
        .add_columns(VisitDetails, Visit, VisitInvitation.places)
        .order_by(Visit.answer_by, Submission.id)
    )
    rows = []
    for submission, details, visit, places in db.session.execute(stmt.limit(LIST_LIMIT)):
        rows.append({"submission": submission, "details": details, "visit": visit, "places": places,
                     "answer": visit.answer_of(user.state_id),
                     "days_left": (visit.answer_by - today).days if visit.answer_by else None})
    return rows


def requests_to_answer(user) -> list[VisitRequest]:
    return list(db.session.scalars(
        visible(user, VisitRequest)
        .where(VisitRequest.host_state_id == user.state_id, VisitRequest.status == VisitRequestStatus.OPEN)
        .order_by(VisitRequest.id)
    ))
