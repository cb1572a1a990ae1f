"""Exercise notifications: drafting, the checks of the threshold profiles, snapshots.

Saving a draft checks only what the database itself would refuse (lengths, ranges, dates in order), so a
half-finished draft is never lost; submitting runs every rule of the profiles in force (registry/rules).
"""

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from registry.db import db, transaction_memo, utcnow
from registry.enums import ExerciseType, ParticipantRole, PhaseName, RecordType, StateStatus, SubmissionStatus
from registry.i18n import _
from registry.models import (
    CalendarDetails,
    CalendarEntry,
    ExerciseDetails,
    ExerciseParticipant,
    ExercisePhase,
    MemberState,
    Revision,
    Submission,
)
from registry.models.exercise import FORCE_COLUMNS, NAME_MAX, SHORT_MAX, TEXT_MAX, TROOP_SERVICES
from registry.records import envelope_snapshot, register
from registry.rules import exercise as rules
from registry.services import audit
from registry.services import submissions as workflow
from registry.services.permissions import require
from registry.services.profiles import profiles_in_force
from registry.services.validation import INT32_MAX, Errors, clean_text

TEXT_FIELDS = {  # field -> (max length, multiline)
    "designation_ru": (NAME_MAX, False), "designation_zh": (NAME_MAX, False), "designation_en": (NAME_MAX, False),
    "purpose": (TEXT_MAX, True), "command_level": (SHORT_MAX, False), "headquarters": (SHORT_MAX, False),
    "area_description": (TEXT_MAX, True), "border_segment": (SHORT_MAX, False),
    "observer_programme": (TEXT_MAX, True), "observer_arrival_point": (SHORT_MAX, False),
    "not_forecast_reason": (TEXT_MAX, True), "alert_justification": (TEXT_MAX, True),
    "late_explanation": (TEXT_MAX, True),
}
BOOL_FIELDS = ("within_border_zone", "observers_invited", "is_alert")
COUNT_FIELDS = FORCE_COLUMNS + ("observer_places_per_state",)
EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)
FILED_STATUSES = (SubmissionStatus.SUBMITTED, SubmissionStatus.ACCEPTED, SubmissionStatus.CANCELLATION_REQUESTED)


@dataclass
class ParticipantInput:
    state_id: Any = None
    role: Any = ParticipantRole.PARTICIPANT.value
    contribution: Any = ""
    troops: Any = None


@dataclass
class PhaseInput:
    name: Any = None
    start_date: Any = None
    end_date: Any = None


@dataclass
class ExerciseInput:
    """What a filer may set, and nothing else (no status, no state, no reviewer: no mass assignment)."""

    values: dict[str, Any] = field(default_factory=dict)
    participants: list[ParticipantInput] = field(default_factory=list)
    phases: list[PhaseInput] = field(default_factory=list)
    calendar_entry_id: Any = None


def _clean_count(errors: Errors, name: str, value) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        errors.add(name, _("Enter a whole number."))
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        errors.add(name, _("Enter a whole number."))
        return None
    if number < 0:
        errors.add(name, _("Enter a number of 0 or more."))
        return None
    if number > INT32_MAX:
        errors.add(name, _("This number is too large: at most %(n)s.", n=f"{INT32_MAX:,}"))
        return None
    return number


def _clean_date(errors: Errors, name: str, value) -> date | None:
    if value in (None, ""):
        return None
    if not isinstance(value, date):
        errors.add(name, _("Enter a date as YYYY-MM-DD."))
        return None
    if not EARLIEST <= value <= LATEST:
        errors.add(name, _("Enter a date between %(a)s and %(b)s.", a=EARLIEST.isoformat(), b=LATEST.isoformat()))
        return None
    return value


def _clean_coordinate(errors: Errors, name: str, value, limit: int) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        errors.add(name, _("Enter a number in decimal degrees."))
        return None
    if not math.isfinite(number) or not -limit <= number <= limit:
        errors.add(name, _("Enter a value from -%(n)d to %(n)d degrees.", n=limit))
        return None
    return number


def _clean_enum(errors: Errors, name: str, enum_cls, value, required: bool = False):
    if value in (None, ""):
        if required:
            errors.add(name, _("Choose a value from the list."))
        return None
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(name, _("Choose a value from the list."))
        return None


def _state_by_id(value) -> MemberState | None:
    try:
        ident = int(value)
    except (TypeError, ValueError):
        return None
    return db.session.get(MemberState, ident) if 0 < ident <= INT32_MAX else None


def clean_input(data: ExerciseInput, state_id: int) -> dict[str, Any]:
    """Validate everything the database would refuse; returns clean values or raises ValidationFailed.

    `state_id` is the conducting state's. Nothing is read from or written to the record itself, so a new
    notification is checked before its envelope (and its reference number) exists."""
    errors = Errors()
    values = data.values
    clean: dict[str, Any] = {}
    for name, (limit, multiline) in TEXT_FIELDS.items():
        clean[name] = clean_text(errors, name, values.get(name), max_length=limit, required=False,
                                 multiline=multiline)
    for name in BOOL_FIELDS:
        clean[name] = bool(values.get(name))
    for name in COUNT_FIELDS:
        clean[name] = _clean_count(errors, name, values.get(name))
    clean["exercise_type"] = _clean_enum(errors, "exercise_type", ExerciseType, values.get("exercise_type"))
    clean["start_date"] = _clean_date(errors, "start_date", values.get("start_date"))
    clean["end_date"] = _clean_date(errors, "end_date", values.get("end_date"))
    if clean["start_date"] and clean["end_date"] and clean["end_date"] < clean["start_date"]:
        errors.add("end_date", _("The end date cannot be before the start date."))
    clean["latitude"] = _clean_coordinate(errors, "latitude", values.get("latitude"), 90)
    clean["longitude"] = _clean_coordinate(errors, "longitude", values.get("longitude"), 180)
    clean["participants"] = _clean_participants(errors, data.participants, state_id)
    clean["phases"] = _clean_phases(errors, data.phases)
    clean["calendar_entry"] = _clean_calendar_entry(errors, data.calendar_entry_id, state_id)
    errors.raise_if_any()
    return clean


def _clean_participants(errors: Errors, rows: list[ParticipantInput], state_id: int) -> list[dict]:
    cleaned = []
    for index, row in enumerate(rows):
        prefix = f"participants-{index}-"
        state = _state_by_id(row.state_id)
        if state is None:
            errors.add(prefix + "state_id", _("Choose a member state or partner from the list."))
        elif state.id == state_id:
            errors.add(prefix + "state_id", _("The conducting state is not listed among the participants."))
        role = _clean_enum(errors, prefix + "role", ParticipantRole, row.role, required=True)
        contribution = clean_text(errors, prefix + "contribution", row.contribution, max_length=SHORT_MAX,
                                  required=False)
        troops = _clean_count(errors, prefix + "troops", row.troops)
        cleaned.append({"state": state, "role": role, "contribution": contribution, "troops": troops})
    return cleaned


def _clean_phases(errors: Errors, rows: list[PhaseInput]) -> list[dict]:
    cleaned = []
    for index, row in enumerate(rows):
        prefix = f"phases-{index}-"
        name = _clean_enum(errors, prefix + "name", PhaseName, row.name, required=True)
        start = _clean_date(errors, prefix + "start_date", row.start_date)
        end = _clean_date(errors, prefix + "end_date", row.end_date)
        if start is None and f"{prefix}start_date" not in errors.by_field:
            errors.add(prefix + "start_date", _("Enter the date the phase starts."))
        if end is None and f"{prefix}end_date" not in errors.by_field:
            errors.add(prefix + "end_date", _("Enter the date the phase ends."))
        if start and end and end < start:
            errors.add(prefix + "end_date", _("The end date cannot be before the start date."))
        cleaned.append({"name": name, "start_date": start, "end_date": end})
    return cleaned


def _clean_calendar_entry(errors: Errors, value, state_id: int) -> CalendarEntry | None:
    """Only an entry of an accepted calendar version of the same state can be pointed at."""
    if value in (None, ""):
        return None
    try:
        ident = int(value)
    except (TypeError, ValueError):
        ident = 0
    entry = db.session.get(CalendarEntry, ident) if 0 < ident <= INT32_MAX else None
    if entry is not None:
        revision = entry.calendar.revision
        calendar = revision.submission
        if calendar.state_id != state_id or not revision.is_frozen:
            entry = None
    if entry is None:
        errors.add("calendar_entry_id", _("Choose an entry of your state's accepted annual calendar."))
    return entry


# --- writing -------------------------------------------------------------------------------------------


def details_of(revision: Revision) -> ExerciseDetails | None:
    """The version's details with their participants and phases; read once per transaction (submitting checks
    them and then takes their snapshot: the same rows, already in the session)."""
    memo = transaction_memo()
    key = ("exercise_details", revision.id)
    if key in memo:
        return memo[key]
    details = db.session.scalar(
        select(ExerciseDetails)
        .where(ExerciseDetails.revision_id == revision.id)
        # The participants' states too: the record page names each one (a SELECT per participant otherwise).
        .options(selectinload(ExerciseDetails.participants).joinedload(ExerciseParticipant.state),
                 selectinload(ExerciseDetails.phases))
    )
    if details is not None:  # a version without details yet may get them later in the transaction
        memo[key] = details
    return details


def _apply(details: ExerciseDetails, clean: dict[str, Any]) -> None:
    for name in (*TEXT_FIELDS, *BOOL_FIELDS, *COUNT_FIELDS, "exercise_type", "start_date", "end_date",
                 "latitude", "longitude"):
        setattr(details, name, clean[name])
    details.calendar_entry = clean["calendar_entry"]
    # The id too, as for the participants' states: the rules read it before a new record's details are flushed.
    details.calendar_entry_id = clean["calendar_entry"].id if clean["calendar_entry"] is not None else None
    details.participants = [
        ExerciseParticipant(position=i, state=p["state"], state_id=p["state"].id, role=p["role"],
                            contribution=p["contribution"], troops=p["troops"])
        for i, p in enumerate(clean["participants"])
    ]
    details.phases = [
        ExercisePhase(position=i, name=p["name"], start_date=p["start_date"], end_date=p["end_date"])
        for i, p in enumerate(clean["phases"])
    ]


def create_exercise(actor, state: MemberState, data: ExerciseInput, *, visibility="members", language="ru",
                    source_document=None, is_nil=False, idempotency_key=None) -> Submission:
    """A new draft notification with what the filer typed so far (or the one this form already opened)."""
    require(actor, "submission.file", state)
    existing = workflow.previously_created(actor, idempotency_key)
    if existing is not None:
        return existing
    clean = clean_input(data, state.id)  # before anything is written: bad input uses no reference number
    # The details are made, the rules evaluated and the audit snapshot taken before the first write (the reference
    # number): on SQLite that write takes the database's write lock, held until the commit. The details are not
    # in the session yet, so the rules' reads flush nothing.
    details = ExerciseDetails()
    _apply(details, clean)
    assessment = assess(state, details)
    _refresh_computed(details, assessment)
    changes = audit.diff({}, snapshot_details(details))
    submission = workflow.create_submission(actor, RecordType.EXERCISE, state, visibility=visibility,
                                            language=language, source_document=source_document, is_nil=is_nil,
                                            idempotency_key=idempotency_key)
    details.revision_id = submission.current_revision.id
    submission.due_date = _due_date(details, assessment)
    db.session.add(details)
    # Both audit entries (the record's creation, its first draft) are chained in this one flush.
    audit.record("exercise.save_draft", actor=actor, object_type="exercise", object_id=submission.reference,
                 state_code=state.code, changes=changes)
    db.session.flush()
    return submission


def update_exercise(actor, submission: Submission, data: ExerciseInput, *, expected_lock=None,
                    visibility=None, language=None) -> Submission:
    """Save the draft (or the returned version being corrected); the submitted versions are untouched."""
    revision = workflow.editable_revision(actor, submission, expected_lock)
    clean = clean_input(data, submission.state_id)
    new_visibility = workflow.clean_visibility(visibility) if visibility is not None else None
    details = details_of(revision)
    before = snapshot_details(details)
    before_envelope = audit.snapshot(submission, ["visibility", "original_language"])
    # Any flush from here on (autoflush included) may find that another tab saved first.
    with workflow.stale_as_conflict():
        _apply(details, clean)
        if new_visibility is not None:
            submission.visibility = new_visibility
        if language is not None:
            submission.original_language = (language if language in workflow.LANGUAGES
                                             else submission.original_language)
            revision.language = submission.original_language
        assessment = assess(submission.state, details, submission.id)
        _refresh_computed(details, assessment)
        submission.due_date = _due_date(details, assessment)
        db.session.flush()
        changes = audit.diff(before, snapshot_details(details))
        changes.update(audit.diff(before_envelope, audit.snapshot(submission, ["visibility", "original_language"])))
        # Saving bumps the record's version, so a second tab holding the old page is told it changed.
        flag_modified(submission, "visibility")
        db.session.flush()
    audit.record("exercise.save_draft", actor=actor, object_type="exercise", object_id=submission.reference,
                 state_code=submission.state.code, changes=changes)
    return submission


class Assessment(NamedTuple):
    """The rules evaluated once for a notification as it stands, shared by what one service call derives from them
    (the computed flags, the due date, the findings)."""

    facts: rules.ExerciseFacts
    profiles: list
    evaluation: rules.Evaluation


def assess(state: MemberState, details: ExerciseDetails, submission_id: int | None = None,
           today: date | None = None) -> Assessment | None:
    """The rules for `details` of a notification of `state` (None until it has both dates); `submission_id` is
    the record's own, left out of the counters of the state's other activities (None for a new record)."""
    if details.start_date is None or details.end_date is None:
        return None
    facts, profiles = _facts(state, submission_id, details, today), profiles_in_force()
    return Assessment(facts, profiles, rules.evaluate(facts, profiles))


def _refresh_computed(details: ExerciseDetails, assessment: Assessment | None) -> None:
    """Lead time and the mandatory-notification and observers-required flags, from the profiles."""
    evaluation = assessment.evaluation if assessment else None
    details.lead_time_days = evaluation.lead_time_days if evaluation else None
    details.mandatory_notification = evaluation.mandatory_notification if evaluation else False
    details.observers_required = evaluation.observers_required if evaluation else False


def _due_date(details: ExerciseDetails, assessment: Assessment | None) -> date | None:
    """Only a lead time that binds this activity makes it due (and late): not for an alert activity, nor for a
    voluntary notification below the thresholds, nor under a border-zone profile that does not apply."""
    if assessment is None:
        return None
    lead_time = rules.due_lead_time(assessment.facts, assessment.profiles)
    return details.start_date - timedelta(days=lead_time) if lead_time else None


# --- the rules ---------------------------------------------------------------------------------------


def _facts(state: MemberState, submission_id: int | None, details: ExerciseDetails,
           today: date | None = None) -> rules.ExerciseFacts:
    today = today or utcnow().date()
    start = details.start_date or today
    parties = frozenset(db.session.scalars(select(MemberState.code).where(MemberState.border_party.is_not(None))))
    return rules.ExerciseFacts(
        conducting_state=state.code,
        start=start,
        end=details.end_date or start,
        submitted_on=today,
        is_alert=details.is_alert,
        alert_justification=details.alert_justification,
        late_explanation=details.late_explanation,
        within_border_zone=details.within_border_zone,
        border_party_states=parties,
        troops_total=details.troops_total,
        troops_by_service={s: getattr(details, s) for s in TROOP_SERVICES if getattr(details, s) is not None},
        battle_tanks=details.battle_tanks,
        acv=details.acv,
        artillery=details.artillery,
        combat_aircraft=details.combat_aircraft,
        helicopters=details.helicopters,
        sorties=details.sorties,
        warships=details.warships,
        amphibious_airborne=details.amphibious_airborne,
        phases=[rules.Phase(p.name.value, p.start_date, p.end_date) for p in details.phases],
        latitude=details.latitude,
        longitude=details.longitude,
        participating=[
            rules.Participant(p.state.code, p.state.status_on(start) in (StateStatus.MEMBER, StateStatus.PARTNER))
            for p in details.participants
        ],
        observers_invited=details.observers_invited,
        observer_places_per_state=details.observer_places_per_state,
        calendar_entry=details.calendar_entry_id is not None,
        not_forecast_reason=details.not_forecast_reason,
        counters=_other_activities(state.id, submission_id, start),
    )


def _other_activities(state_id: int, submission_id: int | None, start: date) -> list[rules.OtherActivity]:
    """The same state's other filed exercises in the years around this one, for the constraint counters."""
    window = (date(start.year - 3, 1, 1), date(start.year + 3, 12, 31))
    rows = db.session.execute(
        select(ExerciseDetails.start_date, ExerciseDetails.troops_total, ExerciseDetails.battle_tanks)
        .join(Revision, Revision.id == ExerciseDetails.revision_id)
        .join(Submission, (Submission.id == Revision.submission_id)
              & (Revision.number == Submission.current_revision_no))
        .where(Submission.state_id == state_id,
               *([Submission.id != submission_id] if submission_id is not None else []),
               Submission.record_type == RecordType.EXERCISE, Submission.status.in_(FILED_STATUSES),
               ExerciseDetails.start_date.between(*window))
    )
    return [rules.OtherActivity(start=r[0], troops=r[1], battle_tanks=r[2]) for r in rows]


REQUIRED_FOR_SUBMISSION = ("exercise_type", "start_date", "end_date", "troops_total", "area_description")


def findings_for(submission: Submission, details: ExerciseDetails, today: date | None = None,
                 assessment: Assessment | None = None) -> list[dict]:
    """Everything a filer and a reviewer should know, as plain dicts (stored with the version). `assessment`: the
    rules already evaluated for these details in this service call (evaluated here otherwise)."""
    if submission.is_nil:
        return []
    found = []
    for name in REQUIRED_FOR_SUBMISSION:
        if getattr(details, name) in (None, ""):
            found.append(_finding("required", "error", name, _("This field is required to submit.")))
    if not (details.designation_ru or details.designation_zh):
        found.append(_finding("designation_missing", "error", "designation_ru",
                              _("Give the designation in Russian or Chinese.")))
    if details.start_date is None or details.end_date is None:
        return found
    if assessment is None:
        assessment = assess(submission.state, details, submission.id, today)
    assert assessment is not None  # both dates are set
    for f in assessment.evaluation.findings:
        found.append(_finding(f.code, f.severity, f.field, str(f.message), f.profile, f.params))
    return found


def _finding(code, severity, field_name, message, profile=None, params=None) -> dict:
    plain_params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in (params or {}).items()}
    return {"code": code, "severity": severity, "field": field_name, "message": str(message),
            "profile": profile, "params": {k: v for k, v in plain_params.items()
                                           if isinstance(v, str | int | float | bool | type(None))}}


# --- snapshots ---------------------------------------------------------------------------------------


def snapshot_details(details: ExerciseDetails) -> dict[str, Any]:
    data = audit.snapshot(details, [*TEXT_FIELDS, *BOOL_FIELDS, *COUNT_FIELDS, "exercise_type", "start_date",
                                    "end_date", "latitude", "longitude", "lead_time_days",
                                    "mandatory_notification", "observers_required"])
    data["participants"] = [
        {"state": p.state.code if p.state else None, "role": p.role.value if p.role else None,
         "contribution": p.contribution, "troops": p.troops}
        for p in details.participants
    ]
    data["phases"] = [
        {"name": p.name.value, "start_date": p.start_date.isoformat(), "end_date": p.end_date.isoformat()}
        for p in details.phases
    ]
    entry = details.calendar_entry
    data["calendar_entry"] = (
        f"{entry.calendar.revision.submission.reference} #{entry.position + 1}" if entry else None
    )
    return data


class ExerciseAdapter:
    def copy_details(self, source: Revision, target: Revision) -> None:
        old = details_of(source)
        new = ExerciseDetails(revision_id=target.id)
        for column in ExerciseDetails.__table__.columns:
            if column.name not in ("id", "revision_id"):
                setattr(new, column.key, getattr(old, column.key))
        new.participants = [
            ExerciseParticipant(position=p.position, state_id=p.state_id, role=p.role, contribution=p.contribution,
                                troops=p.troops)
            for p in old.participants
        ]
        new.phases = [ExercisePhase(position=p.position, name=p.name, start_date=p.start_date, end_date=p.end_date)
                      for p in old.phases]
        db.session.add(new)

    def snapshot(self, submission: Submission, revision: Revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission), "exercise": snapshot_details(details_of(revision))}

    def check(self, submission: Submission, revision: Revision) -> list[dict]:
        details = details_of(revision)
        assessment = assess(submission.state, details, submission.id)  # once for the flags and the findings
        _refresh_computed(details, assessment)
        submission.due_date = _due_date(details, assessment)
        return findings_for(submission, details, assessment=assessment)


register(RecordType.EXERCISE, ExerciseAdapter())


def calendar_entries_for(state_id: int, year: int | None = None) -> list[CalendarEntry]:
    """Entries of the state's accepted calendars that a notification may point at."""
    stmt = (
        select(CalendarEntry)
        .join(CalendarDetails, CalendarDetails.id == CalendarEntry.calendar_id)
        .join(Revision, Revision.id == CalendarDetails.revision_id)
        .join(Submission, (Submission.id == Revision.submission_id)
              & (Revision.number == Submission.accepted_revision_no))
        .where(Submission.state_id == state_id, Submission.record_type == RecordType.CALENDAR)
        .order_by(CalendarDetails.year, CalendarEntry.position)
    )
    if year is not None:
        stmt = stmt.where(CalendarDetails.year == year)
    return list(db.session.scalars(stmt))
