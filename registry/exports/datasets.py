"""What can be exported: one dataset per list, read through the list's own query and filters.

Each dataset turns the request's query string into the same filters as its list page (and the same messages for
bad ones), and yields rows of language-neutral columns, the reference number first. The queries start from
`visible(user, ...)`, so an export never holds more than the list the user would see.
"""

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from registry.db import db
from registry.exports.sql_csv import stream_lines
from registry.i18n import _, _l
from registry.models import (
    AuditEntry,
    CalendarDetails,
    CalendarEntry,
    MemberState,
    Revision,
    Submission,
    Visit,
    VisitAnswer,
)
from registry.models.exercise import FORCE_COLUMNS
from registry.services.scoping import reads_revision, visible

BATCH = 1000  # rows fetched per round trip while streaming


@dataclass(frozen=True)
class Prepared:
    """A dataset ready to write: its columns, the filters as understood, the problems, and a row iterator."""

    columns: Sequence[str]
    filters: dict[str, Any]
    problems: list[str]
    rows: Callable[[], Iterator[tuple]]
    count: Callable[[], int]
    # Blocks of finished CSV lines made by the database (exports/sql_csv.py), where the dataset is plain columns.
    csv_lines: Callable[[], Iterator[Any]] | None = None


@dataclass(frozen=True)
class Dataset:
    name: str
    label: object  # a lazy translation
    permission: str
    prepare: Callable  # (user, args) -> Prepared


def _stream(stmt, convert) -> Callable[[], Iterator[tuple]]:
    def rows() -> Iterator[tuple]:
        with db.session.execute(stmt.execution_options(yield_per=BATCH)) as result:  # closed if given up
            for row in result:
                yield convert(row)
    return rows


def _count(stmt) -> Callable[[], int]:
    def count() -> int:
        from sqlalchemy import func

        return db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    return count


# --- exercise notifications --------------------------------------------------------------------------------

# The first five and last three from the envelope; the ones between are ExerciseDetails columns of that name.
EXERCISE_COLUMNS = (
    "reference", "state", "status", "version", "visibility", "designation_ru", "designation_zh", "designation_en",
    "exercise_type", "start_date", "end_date", "within_border_zone", "border_segment", "latitude", "longitude",
    *FORCE_COLUMNS, "observers_invited", "observer_places_per_state", "is_alert", "lead_time_days",
    "mandatory_notification", "observers_required", "is_late", "submitted_at", "decided_at",
)


def _exercises(user, args) -> Prepared:
    """Plain columns from the list's own query (the same joins, filters, scoping and order): no ORM object and no
    query per row, so a million rows stream at the database's pace."""
    from registry.models import ExerciseDetails
    from registry.services.exercise_queries import clean_sort, exercise_query, parse_filters, shown_status

    parsed = parse_filters(args)
    details = [getattr(ExerciseDetails, name) for name in EXERCISE_COLUMNS[5:-3]]
    stmt = (
        exercise_query(user, parsed.filters, sort=clean_sort(args.get("sort")), load_state=False)
        .join(MemberState, MemberState.id == Submission.state_id)
        .with_only_columns(Submission.reference, MemberState.code, shown_status(user), Revision.number,
                           Submission.visibility, *details, Submission.is_late, Submission.submitted_at,
                           Submission.decided_at, maintain_column_froms=True)
    )
    return Prepared(EXERCISE_COLUMNS, parsed.filters.as_args(), list(parsed.problems), _stream(stmt, tuple),
                    _count(stmt), csv_lines=stream_lines(stmt))


# --- annual calendars: one row per planned activity --------------------------------------------------------

CALENDAR_COLUMNS = ("reference", "state", "status", "version", "year", "position", "designation", "exercise_type",
                    "planned_start", "planned_end", "area", "troops", "is_nil", "is_late")


def _calendars(user, args) -> Prepared:
    from registry.calendars.routes import parse_filters

    states = list(db.session.scalars(visible(user, MemberState)))
    year, state, problems = parse_filters(args, states)
    stmt = (
        visible(user, Submission).where(Submission.record_type == "calendar")
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(user))
        .join(CalendarDetails, CalendarDetails.revision_id == Revision.id)
        .outerjoin(CalendarEntry, CalendarEntry.calendar_id == CalendarDetails.id)
        .join(MemberState, MemberState.id == Submission.state_id)
        .add_columns(MemberState.code, Revision.number, CalendarDetails.year, CalendarEntry)
        .order_by(CalendarDetails.year.desc(), MemberState.code, Submission.id, CalendarEntry.position)
    )
    if year is not None:
        stmt = stmt.where(CalendarDetails.year == year)
    if state is not None:
        stmt = stmt.where(Submission.state_id == state.id)

    def convert(result):
        submission, code, number, year_, entry = result
        entry_values = ((entry.position + 1, entry.designation, entry.exercise_type, entry.planned_start,
                         entry.planned_end, entry.area, entry.troops) if entry else (None,) * 7)
        return (submission.reference, code, submission.status, number, year_, *entry_values, submission.is_nil,
                submission.is_late)

    filters = {"year": year, "state": state.code if state else None}
    return Prepared(CALENDAR_COLUMNS, {k: v for k, v in filters.items() if v}, problems, _stream(stmt, convert),
                    _count(stmt))


# --- visits and their answers ------------------------------------------------------------------------------

VISIT_COLUMNS = ("reference", "host_state", "status", "version", "visit_status", "kind", "facility_ru",
                 "facility_zh", "facility_en", "location", "latitude", "longitude", "within_border_zone",
                 "start_date", "start_time", "end_date", "end_time", "answer_by", "invited_states", "places",
                 "invitations_sent_at", "held_on", "cancel_reason")
ANSWER_COLUMNS = ("reference", "host_state", "invited_state", "places", "decision", "participants",
                  "participant_count", "decline_reason", "answered_at")


def _visit_filters(user, args):
    from registry.visits import listing

    states = list(db.session.scalars(visible(user, MemberState)))
    filters, problems = listing.parse_filters(args, states)
    return filters, problems


def _visit_stmt(user, filters):
    from registry.visits import listing

    return listing.filtered_stmt(user, filters)


def _plain_filters(filters: dict) -> dict:
    return {key: (value.code if hasattr(value, "code") else value) for key, value in filters.items() if value}


def _visits(user, args) -> Prepared:
    from sqlalchemy.orm import joinedload, selectinload

    from registry.models import VisitDetails, VisitInvitation

    filters, problems = _visit_filters(user, args)
    # Each batch of rows loads its versions and invitations in a few queries, not a query per row.
    stmt = _visit_stmt(user, filters).options(
        joinedload(VisitDetails.revision), selectinload(VisitDetails.invitations).joinedload(VisitInvitation.state))

    def convert(result):
        submission, details, visit = result
        invited = sorted(i.state.code for i in details.invitations)
        return (submission.reference, submission.state.code, submission.status, details.revision.number,
                visit.status, details.kind, details.facility_ru, details.facility_zh, details.facility_en,
                details.location, details.latitude, details.longitude, details.within_border_zone,
                visit.start_date, visit.start_time, visit.end_date, visit.end_time, visit.answer_by,
                " ".join(invited), sum(i.places for i in details.invitations), visit.invitations_sent_at,
                visit.held_on, visit.cancel_reason)

    return Prepared(VISIT_COLUMNS, _plain_filters(filters), problems, _stream(stmt, convert), _count(stmt))


def _visit_answers(user, args) -> Prepared:
    """Answers are read with their visit: only visits the user may see, and names of participants only where
    the visit page shows them (the host, the Secretariat, auditors and the answering state)."""
    from sqlalchemy.orm import joinedload, selectinload

    from registry.services.scoping import sees_working_version

    filters, problems = _visit_filters(user, args)
    visit_ids = _visit_stmt(user, filters).with_only_columns(Visit.id).order_by(None)
    stmt = (select(VisitAnswer, Submission).join(Visit, Visit.id == VisitAnswer.visit_id)
            .join(Submission, Submission.id == Visit.submission_id)
            .options(joinedload(VisitAnswer.state), selectinload(VisitAnswer.participants),
                     joinedload(Submission.state))
            .where(VisitAnswer.visit_id.in_(visit_ids))
            .order_by(Submission.id, VisitAnswer.state_id))

    def convert(result):
        answer, submission = result
        names = sees_working_version(user, submission) or answer.state_id == user.state_id
        people = "; ".join(", ".join(x for x in (p.name, p.rank, p.post) if x) for p in answer.participants) \
            if names else ""
        return (submission.reference, submission.state.code, answer.state.code, answer.places, answer.decision,
                people, answer.participant_count, answer.decline_reason if names else "", answer.answered_at)

    return Prepared(ANSWER_COLUMNS, _plain_filters(filters), problems, _stream(stmt, convert), _count(stmt))


PAPER_COLUMNS = ("reference", "record_type", "state", "status", "version", "visit", "held_from", "held_to", "text",
                 "document", "document_sha256", "document_bytes")


def _visit_papers(user, args) -> Prepared:
    """Post-visit reports and visiting states' remarks, in the version this user may read."""
    from registry.models import Attachment, VisitPaper

    visit_submission = Submission.__table__.alias("visit_submission")
    stmt = (
        visible(user, Submission).where(Submission.record_type.in_(["visit_report", "visit_remarks"]))
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(user))
        .join(VisitPaper, VisitPaper.revision_id == Revision.id)
        .join(Visit, Visit.id == VisitPaper.visit_id)
        .join(visit_submission, visit_submission.c.id == Visit.submission_id)
        .outerjoin(Attachment, Attachment.id == VisitPaper.attachment_id)
        .join(MemberState, MemberState.id == Submission.state_id)
        .add_columns(MemberState.code, Revision.number, visit_submission.c.reference, VisitPaper.held_from,
                     VisitPaper.held_to, VisitPaper.text, Attachment.filename, Attachment.sha256, Attachment.size)
        .order_by(Submission.id)
    )

    def convert(result):
        submission, code, number, visit_reference, held_from, held_to, text_, name, sha256, size = result
        return (submission.reference, submission.record_type, code, submission.status, number, visit_reference,
                held_from, held_to, text_, name, sha256, size)

    return Prepared(PAPER_COLUMNS, {}, [], _stream(stmt, convert), _count(stmt))


# --- defence-ministry structure disclosures: one row per unit, post and holder ------------------------------

STRUCTURE_COLUMNS = ("reference", "state", "status", "version", "as_of", "unit_key", "parent_key", "unit_kind",
                     "unit_name_ru", "unit_name_zh", "unit_name_en", "hq_location", "position_key", "position_kind",
                     "title_ru", "title_zh", "title_en", "holder_name_native", "holder_name_ru", "holder_name_zh",
                     "holder_name_latin", "rank", "appointed_on", "left_on")


def _structures(user, args) -> Prepared:
    from registry.models.structure import StructureDetails, StructureHolder, StructurePosition, StructureUnit

    problems, filters = [], {}
    code = (args.get("state") or "").strip().upper()
    state = None
    if code:
        state = db.session.scalar(visible(user, MemberState).where(MemberState.code == code)) \
            if len(code) == 2 and code.isascii() and code.isalpha() else None
        if state is None:
            problems.append(_("Choose a state from the list."))
        else:
            filters["state"] = code
    stmt = (
        visible(user, Submission).where(Submission.record_type == "structure")
        .join(Revision, (Revision.submission_id == Submission.id) & reads_revision(user))
        .join(StructureDetails, StructureDetails.revision_id == Revision.id)
        .join(StructureUnit, StructureUnit.details_id == StructureDetails.id)
        .outerjoin(StructurePosition, StructurePosition.unit_id == StructureUnit.id)
        .outerjoin(StructureHolder, StructureHolder.position_id == StructurePosition.id)
        .join(MemberState, MemberState.id == Submission.state_id)
        .add_columns(MemberState.code, Revision.number, StructureDetails.as_of, StructureUnit, StructurePosition,
                     StructureHolder)
        .order_by(StructureDetails.as_of.desc(), MemberState.code, Submission.id, StructureUnit.sort_order,
                  StructureUnit.id, StructurePosition.sort_order, StructurePosition.id, StructureHolder.sort_order,
                  StructureHolder.id)
    )
    if state is not None:
        stmt = stmt.where(Submission.state_id == state.id)

    def convert(result):
        submission, code_, number, as_of, unit, position, holder = result
        post = ((position.key, position.kind, position.title_ru, position.title_zh, position.title_en)
                if position else (None,) * 5)
        person = ((holder.name_native, holder.name_ru, holder.name_zh, holder.name_latin, holder.rank,
                   holder.appointed_on, holder.left_on) if holder else (None,) * 7)
        return (submission.reference, code_, submission.status, number, as_of, unit.key, unit.parent_key, unit.kind,
                unit.name_ru, unit.name_zh, unit.name_en, unit.hq_location, *post, *person)

    return Prepared(STRUCTURE_COLUMNS, filters, problems, _stream(stmt, convert), _count(stmt))


# --- member states -----------------------------------------------------------------------------------------

STATE_COLUMNS = ("code", "iso3", "name_en", "name_ru", "name_zh", "status_today", "border_party", "history")


def _states(user, args) -> Prepared:
    from registry.db import utcnow

    today = utcnow().date()
    stmt = visible(user, MemberState).order_by(MemberState.code)

    def convert(state):
        state = state[0]
        history = "; ".join(f"{p.status.value} {p.valid_from.isoformat()}"
                            f"{'–' + p.valid_to.isoformat() if p.valid_to else ''}" for p in state.status_periods)
        return (state.code, state.iso3, state.name_en, state.name_ru, state.name_zh, state.status_on(today),
                state.border_party, history)

    return Prepared(STATE_COLUMNS, {}, [], _stream(stmt, convert), _count(stmt))


# --- the audit log -----------------------------------------------------------------------------------------

AUDIT_COLUMNS = ("seq", "occurred_at", "actor", "actor_role", "action", "object_type", "object_id", "state_code",
                 "outcome", "changes", "ip", "prev_hash", "hash")


def _audit(user, args) -> Prepared:
    from registry.audit.forms import AuditFilterForm
    from registry.audit.routes import filtered_entries

    form = AuditFilterForm(args)
    problems = [str(m) for messages in form.errors.values() for m in messages] if not form.validate() else []
    data = form.data if not problems else {name: None for name in form.data}
    stmt = filtered_entries(user, data).order_by(None).order_by(AuditEntry.seq)

    def convert(result):
        entry = result[0]
        return (entry.seq, entry.occurred_at, entry.actor_label, entry.actor_role, entry.action, entry.object_type,
                entry.object_id, entry.state_code, entry.outcome, entry.changes, entry.ip, entry.prev_hash,
                entry.hash)

    filters = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in data.items() if v}
    return Prepared(AUDIT_COLUMNS, filters, problems, _stream(stmt, convert), _count(stmt))


DATASETS: dict[str, Dataset] = {
    d.name: d for d in (
        Dataset("exercises", _l("Exercise notifications"), "export.records", _exercises),
        Dataset("calendars", _l("Annual calendars (one row per planned activity)"), "export.records", _calendars),
        Dataset("visits", _l("Voluntary facility visits"), "export.records", _visits),
        Dataset("visit_answers", _l("Answers to visit invitations"), "export.records", _visit_answers),
        Dataset("visit_papers", _l("Post-visit reports and remarks"), "export.records", _visit_papers),
        Dataset("structures", _l("Defence-ministry structures (one row per unit, post and holder)"),
                "export.records", _structures),
        Dataset("states", _l("Member states and partners"), "export.records", _states),
        Dataset("audit", _l("Audit log"), "audit.view", _audit),
    )
}
