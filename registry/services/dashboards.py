"""What each role sees first: the queries behind the dashboards, read-only.

Every list starts from `scoping.visible(...)` (or the exercise query built on it), so a dashboard never shows
more than the list pages. Each function runs a fixed number of queries, whatever the number of rows: lists
are cut at `LIMIT` and figures per state come from GROUP BY queries, never from a query per row
(tests/test_dashboards.py counts them).
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload, selectinload

from registry.db import db, utcnow
from registry.enums import RecordType, Role, StateStatus, SubmissionStatus, VisitRequestStatus, VisitStatus
from registry.models import (
    AuditEntry,
    CalendarDetails,
    ExerciseDetails,
    Inquiry,
    MemberState,
    Revision,
    StructureDetails,
    Submission,
    User,
    Visit,
    VisitAnswer,
    VisitDetails,
    VisitInvitation,
    VisitRequest,
)
from registry.rules import exercise as rules
from registry.services import audit_checkpoints, mfa
from registry.services import calendars as calendar_service
from registry.services import structures as structure_service
from registry.services.exercise_queries import ExerciseFilters, exercise_query
from registry.services.profiles import profiles_in_force
from registry.services.scoping import visible

LIMIT = 20
SOON_DAYS = 60  # "exercises starting soon": within this many days
FILED = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED, SubmissionStatus.CANCELLATION_REQUESTED)
WORKING = (SubmissionStatus.DRAFT, SubmissionStatus.RETURNED)
LIVE_VISITS = (VisitStatus.INVITATIONS_SENT, VisitStatus.POSTPONED)
# Review-queue age bands in days: (lowest, highest or None).
AGE_BANDS = ((0, 2), (3, 7), (8, 14), (15, None))


def _today(today: date | None) -> date:
    return today or utcnow().date()


# --- liaison officer -------------------------------------------------------------------------------------------


@dataclass
class DueItem:
    """Something the officer's state has to file by a date."""

    kind: str  # "calendar" or "structure"
    year: int
    due: date | None
    days_left: int | None
    submission: Submission | None  # the record filed or being prepared, if any

    @property
    def done(self) -> bool:
        return self.submission is not None and self.submission.status in FILED


@dataclass
class OfficerDashboard:
    working: list[Submission]  # drafts and records returned for correction
    answers_due: list[dict]  # visit invitations not answered yet
    requests: list[VisitRequest]  # requests for a visit to my state, open
    inquiries: list[Inquiry]  # questions about my state's notifications, not answered
    due: list[DueItem]  # calendars and structure disclosures
    soon: list[dict]  # my state's exercises starting soon
    soon_days: int = SOON_DAYS


def officer_dashboard(user, today: date | None = None) -> OfficerDashboard:
    today = _today(today)
    own = visible(user, Submission).where(Submission.state_id == user.state_id)
    working = list(db.session.scalars(
        own.where(Submission.status.in_(WORKING)).order_by(Submission.status.desc(), Submission.created_at)
        .limit(LIMIT)))
    return OfficerDashboard(working=working, answers_due=_answers_due(user, today),
                            requests=_open_requests(user), inquiries=_open_inquiries(user),
                            due=_due_items(user, today), soon=_starting_soon(user, today))


def _answers_due(user, today: date) -> list[dict]:
    """Invitations to the officer's state in force, open for answers, that the state has not answered."""
    answered = select(VisitAnswer.id).where(VisitAnswer.visit_id == Visit.id, VisitAnswer.state_id == user.state_id)
    stmt = (
        visible(user, Submission)
        .where(Submission.record_type == RecordType.VISIT, Submission.accepted_revision_no.is_not(None))
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.accepted_revision_no))
        .join(VisitDetails, VisitDetails.revision_id == Revision.id)
        .join(VisitInvitation, and_(VisitInvitation.details_id == VisitDetails.id,
                                    VisitInvitation.state_id == user.state_id))
        .join(Visit, Visit.submission_id == Submission.id)
        .where(Visit.status.in_(LIVE_VISITS), (Visit.answer_by >= today) | Visit.answer_by.is_(None),
               ~answered.exists())
        .add_columns(VisitDetails, Visit, VisitInvitation.places)
        .options(joinedload(Submission.state))
        .order_by(Visit.answer_by, Submission.id)
        .limit(LIMIT)
    )
    return [{"submission": s, "details": d, "visit": v, "places": places,
             "days_left": (v.answer_by - today).days if v.answer_by else None}
            for s, d, v, places in db.session.execute(stmt)]


def _open_requests(user) -> list[VisitRequest]:
    return list(db.session.scalars(
        visible(user, VisitRequest)
        .where(VisitRequest.host_state_id == user.state_id, VisitRequest.status == VisitRequestStatus.OPEN)
        .options(joinedload(VisitRequest.requesting_state))
        .order_by(VisitRequest.id).limit(LIMIT)))


def _open_inquiries(user) -> list[Inquiry]:
    return list(db.session.scalars(
        select(Inquiry)
        .where(Inquiry.answer.is_(None),
               Inquiry.submission_id.in_(visible(user, Submission).where(Submission.state_id == user.state_id)
                                         .with_only_columns(Submission.id)))
        .options(joinedload(Inquiry.submission), joinedload(Inquiry.asking_state))
        .order_by(Inquiry.due_at).limit(LIMIT)))


def _due_items(user, today: date) -> list[DueItem]:
    """This year's and next year's calendar and structure disclosure: due dates, and what is filed for them."""
    years = (today.year, today.year + 1)
    calendars = db.session.execute(
        visible(user, Submission).where(Submission.state_id == user.state_id,
                                        Submission.record_type == RecordType.CALENDAR)
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.current_revision_no))
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .where(CalendarDetails.year.in_(years))
        .add_columns(CalendarDetails.year)).all()
    structures = db.session.execute(
        visible(user, Submission).where(Submission.state_id == user.state_id,
                                        Submission.record_type == RecordType.STRUCTURE)
        .join(Revision, and_(Revision.submission_id == Submission.id,
                             Revision.number == Submission.current_revision_no))
        .join(StructureDetails, StructureDetails.revision_id == Revision.id)
        .where(StructureDetails.as_of.in_([structure_service.as_of_for(y) for y in years]))
        .add_columns(StructureDetails.as_of)).all()
    by_calendar = _best_by_year((s, y) for s, y in calendars)
    by_structure = _best_by_year((s, as_of.year) for s, as_of in structures)
    items = []
    for year in years:
        due = calendar_service.due_date_for(year)
        items.append(DueItem("calendar", year, due, (due - today).days if due else None, by_calendar.get(year)))
        due = structure_service.due_date_for(year)
        items.append(DueItem("structure", year, due, (due - today).days, by_structure.get(year)))
    # What is still to do first, nearest date first; what is done last.
    return sorted(items, key=lambda i: (i.done, i.due or date.max))


def _best_by_year(pairs) -> dict[int, Submission]:
    """One record per year: a filed one rather than a draft (a state has one per year anyway)."""
    best: dict[int, Submission] = {}
    for submission, year in pairs:
        if submission.status in (SubmissionStatus.WITHDRAWN, SubmissionStatus.CANCELLED):
            continue
        if year not in best or (submission.status in FILED and best[year].status not in FILED):
            best[year] = submission
    return best


def _starting_soon(user, today: date) -> list[dict]:
    code = user.state.code if user.state else ""
    filters = ExerciseFilters(states=(code,), date_from=today, date_to=today + timedelta(days=SOON_DAYS))
    stmt = exercise_query(user, filters, sort="start_asc").where(
        Submission.status.not_in([SubmissionStatus.CANCELLED.value, SubmissionStatus.WITHDRAWN.value]),
        ExerciseDetails.start_date >= today).limit(LIMIT)
    return [{"submission": s, "details": d, "status": SubmissionStatus(status),
             "days_left": (d.start_date - today).days} for s, d, status in db.session.execute(stmt)]


# --- Secretariat -------------------------------------------------------------------------------------------------


@dataclass
class StateYear:
    """One member state's year at a glance."""

    state: MemberState
    filed: int = 0
    on_time: int = 0
    late: int = 0
    visits_offered: int = 0
    visits_held: int = 0
    structure: Submission | None = None
    calendar: Submission | None = None  # this year's calendar
    next_calendar: Submission | None = None  # next year's, due this year
    warnings: list[dict] = field(default_factory=list)  # constraint counters at or over their limit


@dataclass
class SecretariatDashboard:
    year: int
    bands: list[dict]  # review queue by age: {"low", "high", "items"}
    queue_total: int
    oldest: list  # the longest-waiting queue items
    flagged: list[dict]  # this year's notifications that are late or crossed a threshold
    states: list[StateYear]
    calendar_due: date | None
    next_calendar_due: date | None
    structure_due: date


def secretariat_dashboard(user, today: date | None = None, now: datetime | None = None) -> SecretariatDashboard:
    from registry.review.routes import queue_items  # the queue page's own query, so both agree

    today, now = _today(today), now or utcnow()
    year = today.year
    items, _cut = queue_items(user, now)
    bands = [{"low": low, "high": high,
              "items": [i for i in items if i.age_days >= low and (high is None or i.age_days <= high)]}
             for low, high in AGE_BANDS]
    return SecretariatDashboard(year=year, bands=bands, queue_total=len(items), oldest=items[:5],
                                flagged=_flagged(user, year), states=_state_years(user, year, today),
                                calendar_due=calendar_service.due_date_for(year),
                                next_calendar_due=calendar_service.due_date_for(year + 1),
                                structure_due=structure_service.due_date_for(year))


def _flagged(user, year: int) -> list[dict]:
    """Notifications submitted this year that were late, must be notified or need observers, or drew warnings."""
    stmt = (exercise_query(user, sort="start_asc")
            .where(Submission.status.in_([s.value for s in FILED]), *_submitted_in(year))
            .add_columns(Revision.findings))
    rows = []
    for submission, details, status, findings in db.session.execute(stmt):
        warnings = [f for f in findings or [] if isinstance(f, dict) and f.get("severity") == "warning"]
        if submission.is_late or details.mandatory_notification or details.observers_required or warnings:
            rows.append({"submission": submission, "details": details, "status": SubmissionStatus(status),
                         "warnings": len(warnings)})
    return rows[:LIMIT * 2]


def _submitted_in(year: int) -> tuple:
    return (Submission.submitted_at >= datetime(year, 1, 1, tzinfo=UTC),
            Submission.submitted_at < datetime(year + 1, 1, 1, tzinfo=UTC))


def _members(year: int) -> list[MemberState]:
    """States that were members at some time this year."""
    states = db.session.scalars(select(MemberState).options(selectinload(MemberState.status_periods))
                                .order_by(MemberState.code)).all()
    first, last = date(year, 1, 1), date(year, 12, 31)
    return [s for s in states if StateStatus.MEMBER in (s.status_on(first), s.status_on(last))]


def _state_years(user, year: int, today: date) -> list[StateYear]:
    members = _members(year)
    rows = {s.id: StateYear(s) for s in members}
    first, last = date(year, 1, 1), date(year, 12, 31)
    current = and_(Revision.submission_id == Submission.id, Revision.number == Submission.current_revision_no)
    filed = Submission.status.in_([s.value for s in FILED])
    # Notifications filed (submitted) this year, on time and late.
    for state_id, late, count in db.session.execute(
            visible(user, Submission).with_only_columns(Submission.state_id, Submission.is_late, func.count())
            .where(Submission.record_type == RecordType.EXERCISE, filed, *_submitted_in(year))
            .group_by(Submission.state_id, Submission.is_late)):
        if state_id in rows:
            rows[state_id].filed += count
            if late:
                rows[state_id].late += count
            else:
                rows[state_id].on_time += count
    # Visits offered (starting this year) and held.
    for state_id, status, count in db.session.execute(
            visible(user, Submission).with_only_columns(Submission.state_id, Visit.status, func.count())
            .where(Submission.record_type == RecordType.VISIT, filed)
            .join(Visit, Visit.submission_id == Submission.id)
            .where(Visit.start_date.between(first, last))
            .group_by(Submission.state_id, Visit.status)):
        if state_id in rows and status != VisitStatus.CANCELLED:
            rows[state_id].visits_offered += count
            if status == VisitStatus.HELD:
                rows[state_id].visits_held += count
    # Structure as of 1 January this year; calendars for this year and the next.
    for submission, _as_of in db.session.execute(
            visible(user, Submission).where(Submission.record_type == RecordType.STRUCTURE)
            .join(Revision, current).join(StructureDetails, StructureDetails.revision_id == Revision.id)
            .where(StructureDetails.as_of == structure_service.as_of_for(year))
            .add_columns(StructureDetails.as_of)):
        if submission.state_id in rows:
            rows[submission.state_id].structure = _better(rows[submission.state_id].structure, submission)
    for submission, cal_year in db.session.execute(
            visible(user, Submission).where(Submission.record_type == RecordType.CALENDAR)
            .join(Revision, current).join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
            .where(CalendarDetails.year.in_((year, year + 1)))
            .add_columns(CalendarDetails.year)):
        row = rows.get(submission.state_id)
        if row and cal_year == year:
            row.calendar = _better(row.calendar, submission)
        elif row:
            row.next_calendar = _better(row.next_calendar, submission)
    _constraint_warnings(user, year, rows)
    return [rows[s.id] for s in members]


def _better(kept: Submission | None, new: Submission) -> Submission:
    """The record that says most about whether it is in: accepted > submitted > draft; withdrawn last."""
    order = {SubmissionStatus.ACCEPTED: 0, SubmissionStatus.CANCELLATION_REQUESTED: 1, SubmissionStatus.SUBMITTED: 2,
             SubmissionStatus.RETURNED: 3, SubmissionStatus.DRAFT: 4}
    if kept is None or order.get(new.status, 9) < order.get(kept.status, 9):
        return new
    return kept


def _constraint_warnings(user, year: int, rows: dict[int, StateYear]) -> None:
    """Rule 4 (DOMAIN.md section 3, Vienna Document ch. VIII) per state for this year, counted by the rules
    module on every filed activity in the windows around this year: one query for all states."""
    profiles = [p for p in profiles_in_force() if p.constraints]
    if not profiles:
        return
    span = max(c.period_years for p in profiles for c in p.constraints)
    activities: dict[int, list[rules.OtherActivity]] = defaultdict(list)
    for state_id, start, troops, tanks in db.session.execute(
            visible(user, Submission)
            .with_only_columns(Submission.state_id, ExerciseDetails.start_date, ExerciseDetails.troops_total,
                               ExerciseDetails.battle_tanks)
            .where(Submission.record_type == RecordType.EXERCISE, Submission.status.in_([s.value for s in FILED]))
            .join(Revision, and_(Revision.submission_id == Submission.id,
                                 Revision.number == Submission.current_revision_no))
            .join(ExerciseDetails, ExerciseDetails.revision_id == Revision.id)
            .where(ExerciseDetails.start_date.between(date(year - span + 1, 1, 1), date(year + span - 1, 12, 31)))):
        activities[state_id].append(rules.OtherActivity(start, troops, tanks))
    for state_id, row in rows.items():
        for profile in profiles:
            for counted in rules.constraint_counts(profile, year, activities.get(state_id, [])):
                if counted.count and (counted.exceeded or counted.at_limit):
                    row.warnings.append({"profile": profile, "counted": counted})


# --- auditor and administrator -----------------------------------------------------------------------------------


@dataclass
class AuditorDashboard:
    recent: list[AuditEntry]
    exports: list[AuditEntry]
    status: dict
    denied: int  # refused attempts in the last 7 days


def auditor_dashboard(user, now: datetime | None = None) -> AuditorDashboard:
    now = now or utcnow()
    entries = visible(user, AuditEntry)
    recent = list(db.session.scalars(entries.order_by(AuditEntry.seq.desc()).limit(LIMIT)))
    exports = list(db.session.scalars(entries.where(AuditEntry.action.startswith("export"))
                                      .order_by(AuditEntry.seq.desc()).limit(10)))
    week = now - timedelta(days=7)
    denied = db.session.scalar(entries.with_only_columns(func.count())
                               .where(AuditEntry.outcome == "denied", AuditEntry.occurred_at >= week))
    return AuditorDashboard(recent=recent, exports=exports, status=audit_checkpoints.chain_status(), denied=denied or 0)


@dataclass
class AdminDashboard:
    by_role: list[dict]  # {"role", "active", "inactive"}
    without_second_factor: list[User]  # accounts whose role needs one and that have not set it up
    recent: list[AuditEntry]  # administrative actions


def admin_dashboard(user) -> AdminDashboard:
    counts = defaultdict(lambda: {"active": 0, "inactive": 0})
    for role, active, count in db.session.execute(
            visible(user, User).with_only_columns(User.role, User.active, func.count())
            .group_by(User.role, User.active)):
        counts[role]["active" if active else "inactive"] += count
    by_role = [{"role": role, **counts[role]} for role in Role]
    missing = list(db.session.scalars(
        visible(user, User).where(User.active.is_(True), User.role.in_(list(mfa.ROLES_REQUIRING_SECOND_FACTOR)),
                                  User.totp_enabled_at.is_(None)).order_by(User.email).limit(LIMIT)))
    recent = list(db.session.scalars(
        visible(user, AuditEntry).where(AuditEntry.action.startswith("user.") | AuditEntry.action.startswith("state.")
                                        | AuditEntry.action.startswith("security."))
        .order_by(AuditEntry.seq.desc()).limit(LIMIT)))
    return AdminDashboard(by_role=by_role, without_second_factor=missing, recent=recent)

