"""Exercise notifications through the service layer: drafting, computed fields, the checks at submission,
snapshots and versions, locking and the audit trail.

Every threshold, lead time and limit is read from the profiles (`services.profiles`), never written here, so a
corrected number in seeds/threshold_profiles.toml moves these tests with it.
"""

import math
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, func, select

from registry.db import db, utcnow
from registry.enums import SubmissionStatus
from registry.models import (
    AuditEntry,
    ExerciseDetails,
    ExerciseParticipant,
    MemberState,
    ReferenceCounter,
    Submission,
)
from registry.rules.exercise import PARAMETER_FIELDS
from registry.services import exercises as svc
from registry.services import submissions as workflow
from registry.services.errors import Conflict, PermissionDenied, ValidationFailed
from registry.services.exercises import ExerciseInput, ParticipantInput, PhaseInput
from registry.services.profiles import all_profiles, profiles_in_force, set_in_force
from registry.services.versions import diff_snapshots
from tests.factories import state, user

DAY = timedelta(days=1)
# Parties to the 1996 Shanghai agreement (DOMAIN.md section 2), written out independently of seeds/states.toml.
PARTIES_1996 = {"CN", "KZ", "RU", "KG", "TJ"}


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        kz=make_user("officer", "KZ"),
        kz_second=make_user("officer", "KZ"),
        cn=make_user("officer", "CN"),
        reviewer=make_user("secretariat"),
        admin=make_user("admin"),
    )


def today() -> date:
    return utcnow().date()


def peace_mission(start: date, **changes) -> ExerciseInput:
    """A "Peace Mission"-like joint counter-terrorism exercise of Kazakhstan with China and Russia."""
    values = {
        "designation_ru": "Мирная миссия — 2028",
        "designation_zh": "和平使命-2028",
        "designation_en": "Peace Mission 2028",
        "exercise_type": "counter_terrorism",
        "purpose": "Joint planning and conduct of a counter-terrorism operation\nby forces of SCO member states.",
        "command_level": "Joint operational headquarters",
        "headquarters": "Matybulak training ground, Zhambyl Region",
        "start_date": start,
        "end_date": start + 16 * DAY,
        "area_description": "Matybulak training ground, Zhambyl Region, Kazakhstan",
        "latitude": "43.55",
        "longitude": "73.95",
        "within_border_zone": False,
        "border_segment": "",
        "troops_total": "5000",
        "troops_ground": "3500",
        "troops_air": "1000",
        "troops_airborne": "500",
        "battle_tanks": "60",
        "acv": "150",
        "artillery": "40",
        "combat_aircraft": "24",
        "helicopters": "18",
        "sorties": "120",
        "warships": "0",
        "amphibious_airborne": "500",
        "observers_invited": True,
        "observer_programme": "Observation of the active phase; briefing at the headquarters.",
        "observer_places_per_state": "2",
        "observer_arrival_point": "Almaty International Airport",
        "not_forecast_reason": "Agreed by the defence ministers after the calendar exchange.",
    }
    values.update(changes)
    participants = [
        ParticipantInput(state("CN").id, "co_organiser", "Battalion group of the Western Theatre Command", "1000"),
        ParticipantInput(state("RU").id, "participant", "Motor rifle company of the Central Military District",
                         "700"),
    ]
    phases = [
        PhaseInput("deployment", start, start + 3 * DAY),
        PhaseInput("active", start + 4 * DAY, start + 13 * DAY),
        PhaseInput("recovery", start + 14 * DAY, start + 16 * DAY),
    ]
    return ExerciseInput(values=values, participants=participants, phases=phases)


def minimal(start: date, **changes) -> ExerciseInput:
    """Only what submission requires; every force figure absent unless given."""
    values = {"designation_ru": "Учение", "exercise_type": "field_training", "start_date": start,
              "end_date": start + 5 * DAY, "area_description": "Training ground"}
    values.update(changes)
    return ExerciseInput(values=values)


def only_in_force(admin_id: int, *codes: str) -> None:
    admin = user(admin_id)
    for code in all_profiles():
        set_in_force(admin, code, code in codes)
    db.session.flush()
    assert {p.code for p in profiles_in_force()} == set(codes)


def audit_entries(action: str, reference: str | None = None) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
    if reference:
        stmt = stmt.where(AuditEntry.object_id == reference)
    return list(db.session.scalars(stmt))


def codes_of(findings) -> set[str]:
    return {f["code"] for f in findings or []}


def submit_refused(filer, submission) -> dict[str, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        workflow.submit(filer, submission)
    db.session.rollback()
    assert submission.status == SubmissionStatus.DRAFT
    assert not submission.current_revision.is_frozen
    return caught.value.errors


# --- drafting ------------------------------------------------------------------------------------------


def test_a_peace_mission_notification_keeps_everything_typed(app, people):
    with app.app_context():
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(user(people.kz.id), state("KZ"), peace_mission(start))
        db.session.commit()
        submission_id = submission.id
        db.session.expire_all()

        submission = db.session.get(Submission, submission_id)
        details = svc.details_of(submission.current_revision)
        assert submission.status == SubmissionStatus.DRAFT and submission.state.code == "KZ"
        assert details.designation_ru == "Мирная миссия — 2028" and details.designation_zh == "和平使命-2028"
        assert details.purpose.count("\n") == 1  # multi-line text kept as typed
        assert details.exercise_type.value == "counter_terrorism"
        assert (details.start_date, details.end_date) == (start, start + 16 * DAY)
        assert math.isclose(details.latitude, 43.55) and math.isclose(details.longitude, 73.95)
        assert (details.troops_total, details.troops_ground, details.troops_air, details.troops_airborne) == (
            5000, 3500, 1000, 500)
        assert details.troops_naval is None and details.troops_other is None  # left blank, not 0
        assert (details.battle_tanks, details.acv, details.artillery, details.warships) == (60, 150, 40, 0)
        assert details.observers_invited and details.observer_places_per_state == 2
        assert [(p.state.code, p.role.value, p.troops) for p in details.participants] == [
            ("CN", "co_organiser", 1000), ("RU", "participant", 700)]
        assert [(p.name.value, p.start_date, p.end_date) for p in details.phases] == [
            ("deployment", start, start + 3 * DAY), ("active", start + 4 * DAY, start + 13 * DAY),
            ("recovery", start + 14 * DAY, start + 16 * DAY)]
        assert details.lead_time_days == (start - today()).days
        # 5,000 troops and these figures reach no threshold of the profiles in force: a voluntary notification.
        assert not details.mandatory_notification and not details.observers_required


def test_a_draft_saves_with_partial_data_and_nothing_is_lost(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        partial = ExerciseInput(values={"designation_en": "Peace Mission (dates to be agreed)",
                                        "purpose": "Counter-terrorism", "troops_total": "4000"},
                                participants=[ParticipantInput(state("CN").id, "participant", "", "")])
        submission = svc.create_exercise(filer, state("KZ"), partial)
        db.session.commit()
        details = svc.details_of(submission.current_revision)
        assert details.start_date is None and details.end_date is None
        assert details.lead_time_days is None and submission.due_date is None
        assert not details.mandatory_notification and not details.observers_required
        assert details.designation_en == "Peace Mission (dates to be agreed)" and details.troops_total == 4000
        assert [p.state.code for p in details.participants] == ["CN"] and details.participants[0].troops is None

        # The next save adds the dates; what was there stays.
        start = date(today().year + 2, 6, 1)
        more = ExerciseInput(values={**partial.values, "start_date": start, "end_date": start + 4 * DAY},
                             participants=partial.participants)
        svc.update_exercise(filer, submission, more, expected_lock=submission.lock_version)
        db.session.commit()
        db.session.expire_all()
        details = svc.details_of(submission.current_revision)
        assert details.designation_en == "Peace Mission (dates to be agreed)" and details.purpose == "Counter-terrorism"
        assert details.troops_total == 4000 and [p.state.code for p in details.participants] == ["CN"]
        assert details.lead_time_days == (start - today()).days


# --- bad input: refused by clean_input, before anything reaches the database --------------------------

BAD_VALUES = [
    # field, value, key of the error
    ("designation_en", "Peace\x00Mission", "designation_en"),
    ("designation_ru", "М" * 301, "designation_ru"),
    ("purpose", "text\x00", "purpose"),
    ("headquarters", "line one\nline two", "headquarters"),
    ("troops_total", 2**31, "troops_total"),
    ("troops_total", str(2**31), "troops_total"),
    ("troops_total", -1, "troops_total"),
    ("battle_tanks", "-1", "battle_tanks"),
    ("troops_total", 1.5, "troops_total"),
    ("troops_total", "1.5", "troops_total"),
    ("acv", "ten", "acv"),
    ("observer_places_per_state", 2**31, "observer_places_per_state"),
    ("latitude", "NaN", "latitude"),
    ("latitude", float("nan"), "latitude"),
    ("longitude", "inf", "longitude"),
    ("longitude", float("-inf"), "longitude"),
    ("latitude", "1e309", "latitude"),
    ("latitude", 10**400, "latitude"),
    ("latitude", "91", "latitude"),
    ("latitude", -90.0001, "latitude"),
    ("longitude", "-181", "longitude"),
    ("longitude", 180.5, "longitude"),
    ("start_date", date(1, 1, 1), "start_date"),
    ("end_date", date(9999, 12, 31), "end_date"),
    ("start_date", "2027-02-29", "start_date"),
    ("exercise_type", "naval_parade", "exercise_type"),
]


@pytest.mark.parametrize(("field", "value", "key"), BAD_VALUES,
                         ids=[f"{field}={value!r:.20}" for field, value, _key in BAD_VALUES])
def test_bad_input_is_refused_beside_its_field_before_the_database(app, people, field, value, key):
    with app.app_context():
        start = date(today().year + 2, 9, 9)
        data = peace_mission(start, **{field: value})
        with pytest.raises(ValidationFailed) as caught:
            svc.create_exercise(user(people.kz.id), state("KZ"), data)
        assert list(caught.value.errors) == [key]
        assert all(str(message).strip() for message in caught.value.errors[key])
        # Nothing was written: no record, no detail row, no reference number used, no audit entry.
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 0
        assert db.session.scalar(select(func.count()).select_from(ExerciseDetails)) == 0
        assert db.session.scalar(select(func.count()).select_from(ReferenceCounter)) == 0
        assert audit_entries("submission.create") == [] and audit_entries("exercise.save_draft") == []
        db.session.rollback()


def test_values_at_the_limits_are_accepted(app, people):
    with app.app_context():
        start, end = svc.EARLIEST, svc.LATEST
        data = peace_mission(start, end_date=end, designation_ru="М" * 300, troops_total=str(2**31 - 1),
                             battle_tanks="0", latitude="90", longitude="-180")
        data.phases = [PhaseInput("active", start, end)]
        submission = svc.create_exercise(user(people.kz.id), state("KZ"), data)
        db.session.commit()
        db.session.expire_all()
        details = svc.details_of(submission.current_revision)
        assert len(details.designation_ru) == 300 and details.troops_total == 2**31 - 1 and details.battle_tanks == 0
        assert (details.latitude, details.longitude) == (90.0, -180.0)
        assert (details.start_date, details.end_date) == (start, end)


def test_every_bad_field_is_reported_at_once(app, people):
    with app.app_context():
        start = date(today().year + 2, 9, 9)
        data = peace_mission(start, designation_en="x\x00", troops_total=-1, acv="1.5", latitude="91",
                             longitude="-181", end_date=start - DAY)
        data.participants.append(ParticipantInput("not-a-number", "participant", "", "-5"))
        data.phases.append(PhaseInput("active", start + 5 * DAY, start + 2 * DAY))
        with pytest.raises(ValidationFailed) as caught:
            svc.create_exercise(user(people.kz.id), state("KZ"), data)
        assert set(caught.value.errors) == {
            "designation_en", "troops_total", "acv", "latitude", "longitude", "end_date",
            "participants-2-state_id", "participants-2-troops", "phases-3-end_date"}
        db.session.rollback()


def test_bad_input_on_update_leaves_the_draft_as_it_was(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        saves = len(audit_entries("exercise.save_draft"))
        with pytest.raises(ValidationFailed) as caught:
            svc.update_exercise(filer, submission, peace_mission(start, troops_total=2**31, latitude="91"),
                                expected_lock=submission.lock_version)
        assert set(caught.value.errors) == {"troops_total", "latitude"}
        db.session.rollback()
        details = svc.details_of(submission.current_revision)
        assert details.troops_total == 5000 and math.isclose(details.latitude, 43.55)
        assert len(audit_entries("exercise.save_draft")) == saves


def test_end_before_start_is_refused_even_in_a_draft(app, people):
    with app.app_context():
        start = date(today().year + 2, 9, 9)
        with pytest.raises(ValidationFailed) as caught:
            svc.create_exercise(user(people.kz.id), state("KZ"), minimal(start, end_date=start - DAY))
        assert list(caught.value.errors) == ["end_date"]
        db.session.rollback()
        # The same day is a one-day exercise, not an error.
        svc.create_exercise(user(people.kz.id), state("KZ"), minimal(start, end_date=start))


def test_a_phase_outside_the_exercise_blocks_submission(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        start = date(today().year + 2, 9, 9)
        data = peace_mission(start)
        data.phases[-1] = PhaseInput("recovery", start + 14 * DAY, start + 20 * DAY)  # ends after the exercise
        submission = svc.create_exercise(filer, state("KZ"), data)  # a draft may hold it ...
        db.session.commit()
        errors = submit_refused(filer, submission)  # ... submission may not
        assert list(errors) == ["phases"]
        data.phases[-1] = PhaseInput("recovery", start + 14 * DAY, start + 16 * DAY)
        svc.update_exercise(filer, submission, data, expected_lock=submission.lock_version)
        workflow.submit(filer, submission)
        assert submission.status == SubmissionStatus.SUBMITTED


# --- participants ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("state_id", [999_999, 2**31, -1, 0, "abc", "", None])
def test_an_unknown_participating_state_is_refused(app, people, state_id):
    with app.app_context():
        data = peace_mission(date(today().year + 2, 9, 9))
        data.participants.append(ParticipantInput(state_id, "participant", "", "10"))
        with pytest.raises(ValidationFailed) as caught:
            svc.create_exercise(user(people.kz.id), state("KZ"), data)
        assert list(caught.value.errors) == ["participants-2-state_id"]
        db.session.rollback()


def test_the_conducting_state_is_not_its_own_participant(app, people):
    with app.app_context():
        data = peace_mission(date(today().year + 2, 9, 9))
        data.participants.insert(0, ParticipantInput(state("KZ").id, "participant", "", "100"))
        with pytest.raises(ValidationFailed) as caught:
            svc.create_exercise(user(people.kz.id), state("KZ"), data)
        assert list(caught.value.errors) == ["participants-0-state_id"]
        db.session.rollback()


def test_a_participant_needs_a_status_that_allows_it_on_the_exercise_dates(app, people):
    """Mongolia was an observer until the Tianjin summit (1 Sep 2025) and is an SCO partner since."""
    with app.app_context():
        filer = user(people.kz.id)
        mongolia = state("MN")
        as_observer = minimal(date(2024, 9, 10), troops_total="500")
        as_observer.participants = [ParticipantInput(mongolia.id, "participant", "", "50")]
        submission = svc.create_exercise(filer, state("KZ"), as_observer)
        db.session.commit()
        errors = submit_refused(filer, submission)
        assert list(errors) == ["participating"] and "MN" in errors["participating"][0]

        as_partner = minimal(date(today().year + 2, 9, 10), troops_total="500")
        as_partner.participants = [ParticipantInput(mongolia.id, "participant", "", "50")]
        svc.update_exercise(filer, submission, as_partner, expected_lock=submission.lock_version)
        workflow.submit(filer, submission)
        assert submission.status == SubmissionStatus.SUBMITTED


@pytest.fixture
def outsider(app):
    """A state known to the registry that never held an SCO status (removed again after the test)."""
    with app.app_context():
        row = MemberState(code="US", iso3="USA", name_en="United States", name_ru="США", name_zh="美国")
        db.session.add(row)
        db.session.commit()
        ident = row.id
    yield ident
    with app.app_context():
        db.session.execute(delete(ExerciseParticipant).where(ExerciseParticipant.state_id == ident))
        db.session.execute(delete(MemberState).where(MemberState.id == ident))
        db.session.commit()


def test_a_non_sco_state_cannot_take_part(app, people, outsider):
    with app.app_context():
        filer = user(people.kz.id)
        data = minimal(date(today().year + 2, 9, 10), troops_total="500")
        data.participants = [ParticipantInput(state("CN").id, "participant", "", "50"),
                             ParticipantInput(outsider, "participant", "", "50")]
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        errors = submit_refused(filer, submission)
        assert list(errors) == ["participating"]
        assert len(errors["participating"]) == 1 and "US" in errors["participating"][0]


def test_a_participant_listed_twice_is_refused_at_submission(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        data = peace_mission(date(today().year + 2, 9, 9))
        data.participants.append(ParticipantInput(state("CN").id, "participant", "Second contingent", "100"))
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        errors = submit_refused(filer, submission)
        assert list(errors) == ["participating"] and "CN" in errors["participating"][0]


# --- computed fields at and just below every threshold of the profiles in force ------------------------------


def threshold_cases() -> list[tuple]:
    """(profile, flag, parameter, threshold, lowest threshold of that flag and parameter) for every threshold."""
    cases = []
    for profile in profiles_in_force():
        groups = {
            "mandatory_notification": [(p, t) for p, t in profile.notification.items()],
            "observers_required": [(p, t) for p, t in profile.observation.items()] + [
                ("troops", t) for t in (profile.observers_invite_troops, profile.observers_mutual_troops)
                if t is not None],
        }
        for flag, pairs in groups.items():
            for parameter, threshold in pairs:
                lowest = min(t for p, t in pairs if p == parameter)
                cases.append((profile, flag, parameter, threshold, lowest))
    return cases


@pytest.mark.parametrize("flag", ["mandatory_notification", "observers_required"])
def test_flags_at_and_just_below_every_threshold(app, people, flag):
    with app.app_context():
        filer = user(people.kz.id)
        start = today() + 400 * DAY
        cases = [case for case in threshold_cases() if case[1] == flag]
        assert cases, f"no profile in force sets a threshold for {flag}"
        wrong = []
        for profile, _flag, parameter, threshold, lowest in cases:
            only_in_force(people.admin.id, profile.code)
            zone = profile.applies_to == "border_zone"
            for value, expected in ((threshold, True), (threshold - 1, threshold - 1 >= lowest)):
                data = minimal(start, within_border_zone=zone, **{PARAMETER_FIELDS[parameter]: str(value)})
                submission = svc.create_exercise(filer, state("KZ"), data)
                details = svc.details_of(submission.current_revision)
                if getattr(details, flag) is not expected:
                    wrong.append((profile.code, parameter, value, getattr(details, flag)))
        assert not wrong, f"{flag} wrong for (profile, parameter, value, got): {wrong}"


def test_a_figure_below_every_threshold_sets_no_flag(app, people):
    with app.app_context():
        thresholds = [t for *_, t, _lowest in threshold_cases()]
        figure = min(thresholds) - 1
        values = {field: str(figure) for field in PARAMETER_FIELDS.values()}
        submission = svc.create_exercise(user(people.kz.id), state("KZ"),
                                         minimal(today() + 400 * DAY, within_border_zone=True, **values))
        details = svc.details_of(submission.current_revision)
        assert not details.mandatory_notification and not details.observers_required


def _notifiable_troops() -> tuple:
    """The profile in force with the largest lead time, and a troop figure that makes notification mandatory."""
    profiles = [p for p in profiles_in_force() if p.lead_time_days and p.applies_to == "all"]
    assert profiles, "no profile in force sets a lead time"
    profile = max(profiles, key=lambda p: p.lead_time_days)
    troops = profile.notification.get("troops")
    assert troops, f"{profile.code} has no troop threshold for notification"
    return profile, troops


def test_due_date_is_the_start_less_the_largest_lead_time_in_force(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        profile, troops = _notifiable_troops()
        start = today() + 400 * DAY
        largest = max(p.lead_time_days for p in profiles_in_force() if p.lead_time_days)
        notifiable = svc.create_exercise(filer, state("KZ"), minimal(start, troops_total=str(troops)))
        assert svc.details_of(notifiable.current_revision).mandatory_notification
        assert notifiable.due_date == start - timedelta(days=largest)

        # With no profile that sets a lead time in force, nothing is due.
        only_in_force(people.admin.id, *[p.code for p in all_profiles().values() if not p.lead_time_days])
        svc.update_exercise(filer, notifiable, minimal(start, troops_total=str(troops)))
        assert notifiable.due_date is None


def test_neither_a_voluntary_notification_nor_an_alert_has_a_due_date(app, people):
    """Below every notification threshold the lead time does not bind; an alert is exempt from it."""
    with app.app_context():
        filer = user(people.kz.id)
        _profile, troops = _notifiable_troops()
        start = today() + 400 * DAY
        voluntary = svc.create_exercise(filer, state("KZ"), minimal(start, troops_total=str(troops // 10)))
        alert = svc.create_exercise(filer, state("KZ"), minimal(start, troops_total=str(troops), is_alert=True,
                                                                alert_justification="Snap readiness check"))
        assert voluntary.due_date is None and alert.due_date is None


# --- submission: errors block and come back by field; warnings stay with the version ------------------------


def test_observers_required_but_not_invited_blocks_submission(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        observation = [(p, t) for p in profiles_in_force() for t in [p.observation.get("troops")] if t]
        assert observation, "no profile in force requires observers by troop numbers"
        profile, level = observation[0]
        start = today() + 400 * DAY
        data = peace_mission(start, troops_total=str(level), troops_ground=str(level - 1500), observers_invited=False,
                             observer_places_per_state="")
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        assert svc.details_of(submission.current_revision).observers_required
        errors = submit_refused(filer, submission)
        assert list(errors) == ["observers_invited"]
        assert audit_entries("submission.submit") == []

        svc.update_exercise(filer, submission, peace_mission(start, troops_total=str(level),
                                                             troops_ground=str(level - 1500)))
        workflow.submit(filer, submission)
        db.session.commit()
        assert submission.status == SubmissionStatus.SUBMITTED
        assert "observers_not_invited" not in codes_of(submission.current_revision.findings)


def test_required_fields_and_a_designation_in_russian_or_chinese(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        submission = svc.create_exercise(filer, state("KZ"), ExerciseInput(values={"designation_en": "Only English"}))
        db.session.commit()
        errors = submit_refused(filer, submission)
        assert set(errors) == {"exercise_type", "start_date", "end_date", "troops_total", "area_description",
                               "designation_ru"}

        start = today() + 400 * DAY
        chinese_only = minimal(start, designation_ru="", designation_zh="和平使命", troops_total="100")
        svc.update_exercise(filer, submission, chinese_only)
        workflow.submit(filer, submission)
        assert submission.status == SubmissionStatus.SUBMITTED


def test_only_english_designation_is_refused(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        data = minimal(today() + 400 * DAY, designation_ru="", designation_en="Peace Mission", troops_total="100")
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        assert list(submit_refused(filer, submission)) == ["designation_ru"]


@pytest.mark.parametrize("days_short", [0, 1])
def test_lead_time_at_and_below_the_profile(app, people, days_short):
    with app.app_context():
        filer = user(people.kz.id)
        profile, troops = _notifiable_troops()
        only_in_force(people.admin.id, profile.code)
        start = today() + timedelta(days=profile.lead_time_days - days_short)
        data = peace_mission(start, troops_total=str(troops), troops_ground=str(troops - 1500))
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        assert svc.details_of(submission.current_revision).lead_time_days == profile.lead_time_days - days_short
        if not days_short:
            workflow.submit(filer, submission)
            assert not submission.is_late and "late" not in codes_of(submission.current_revision.findings)
            return
        assert list(submit_refused(filer, submission)) == ["late_explanation"]

        svc.update_exercise(filer, submission, peace_mission(start, troops_total=str(troops),
                                                             troops_ground=str(troops - 1500),
                                                             late_explanation="The host nation confirmed late."))
        workflow.submit(filer, submission)
        db.session.commit()
        revision = submission.revision(1)
        late = [f for f in revision.findings if f["code"] == "late"]
        assert submission.is_late and len(late) == 1
        assert late[0]["severity"] == "warning" and late[0]["profile"] == profile.code
        assert late[0]["params"] == {"lead_time_days": profile.lead_time_days - 1, "required": profile.lead_time_days}


def test_warnings_are_stored_on_the_frozen_revision(app, people):
    """A figure just below a threshold (the 12,700-below-13,000 practice) is a warning the reviewer sees."""
    with app.app_context():
        filer = user(people.kz.id)
        near = [(p, t) for p in profiles_in_force() for t in [p.observation.get("troops")] if t]
        profile, level = near[0]
        figure = level * (100 - profile.near_margin_percent) // 100 + 1  # inside the margin, below the level
        assert figure < level
        data = peace_mission(today() + 400 * DAY, troops_total=str(figure), troops_ground=str(figure - 1500),
                             observers_invited=False, observer_places_per_state="")
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        workflow.submit(filer, submission)
        db.session.commit()
        db.session.expire_all()
        findings = submission.revision(1).findings
        near_findings = [f for f in findings if f["code"] == "near_threshold" and f["params"]["threshold"] == level]
        assert near_findings and all(f["severity"] == "warning" for f in near_findings)
        assert all(f["severity"] == "warning" for f in findings)  # it was submitted: no error among them
        assert not submission.is_late


def test_an_alert_activity_needs_a_justification_and_is_not_late(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        _profile, troops = _notifiable_troops()
        start = today() + DAY  # notified as it starts
        data = peace_mission(start, troops_total=str(troops), troops_ground=str(troops - 1500), is_alert=True,
                             alert_justification="")
        submission = svc.create_exercise(filer, state("KZ"), data)
        db.session.commit()
        assert list(submit_refused(filer, submission)) == ["alert_justification"]

        data.values["alert_justification"] = "Snap combat-readiness inspection ordered by the Minister."
        svc.update_exercise(filer, submission, data)
        workflow.submit(filer, submission)
        db.session.commit()
        assert submission.status == SubmissionStatus.SUBMITTED
        assert not submission.is_late and "late" not in codes_of(submission.revision(1).findings)


def test_a_voluntary_notification_is_never_late(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(today() + 3 * DAY))
        assert not svc.details_of(submission.current_revision).mandatory_notification
        workflow.submit(filer, submission)
        assert not submission.is_late and "late" not in codes_of(submission.revision(1).findings)


@pytest.mark.parametrize("code", ["KZ", "CN", "RU", "KG", "TJ", "IN", "UZ", "PK"])
def test_the_border_zone_profile_applies_only_to_its_parties_inside_the_zone(app, make_user, people, code):
    conducting = make_user("officer", code)
    with app.app_context():
        zone_profiles = [p for p in all_profiles().values() if p.applies_to == "border_zone"]
        assert zone_profiles, "no border-zone profile in the data"
        profile = zone_profiles[0]
        level = profile.observers_mandatory_troops()
        assert level, f"{profile.code} sets no troop level for mandatory observers"
        only_in_force(people.admin.id, profile.code)
        filer = user(conducting.id)
        start = today() + 400 * DAY
        inside = svc.create_exercise(filer, state(code), minimal(start, troops_total=str(level),
                                                                 within_border_zone=True))
        outside = svc.create_exercise(filer, state(code), minimal(start, troops_total=str(level)))
        db.session.commit()
        party = code in PARTIES_1996
        assert svc.details_of(inside.current_revision).observers_required is party
        assert svc.details_of(outside.current_revision).observers_required is False
        if party:
            errors = submit_refused(filer, inside)
            assert list(errors) == ["observers_invited"]
        else:
            workflow.submit(filer, inside)
            assert not [f for f in inside.revision(1).findings if f["profile"] == profile.code]
        workflow.submit(filer, outside)
        assert not [f for f in outside.revision(1).findings if f["profile"] == profile.code]


# --- constraint counters ------------------------------------------------------------------------------------


def test_the_activity_above_the_yearly_limit_gets_the_constraint_warning(app, people, make_user):
    russian_officer = make_user("officer", "RU")
    with app.app_context():
        filer = user(people.kz.id)
        pairs = [(p, c) for p in profiles_in_force() for c in p.constraints if c.period_years == 1 and c.troops]
        assert pairs, "no profile in force limits the number of large activities a year"
        profile, limit = min(pairs, key=lambda pair: pair[1].max_activities)
        troops = limit.troops + 1  # constraints count activities of MORE than the figure
        # No other constraint of this size is stricter, so the warning can only come from this one.
        for other in profile.constraints:
            if other is not limit and other.troops is not None and other.troops < troops:
                assert other.max_activities > limit.max_activities
        only_in_force(people.admin.id, profile.code)
        year = today().year + 2

        def file(month: int, figure: int, submit: bool = True) -> Submission:
            data = peace_mission(date(year, month, 1), troops_total=str(figure), troops_ground=str(figure - 1500),
                                 designation_ru=f"Учение {month}")
            submission = svc.create_exercise(filer, state("KZ"), data)
            if submit:
                workflow.submit(filer, submission)
            db.session.commit()
            return submission

        file(1, troops + 5, submit=False)  # a draft does not count
        file(2, limit.troops)  # not MORE than the figure: does not count
        first = [file(3 + i, troops) for i in range(limit.max_activities)]
        workflow.accept(user(people.reviewer.id), first[0])  # accepted ones count too
        db.session.commit()
        for submission in first:
            assert "constraint_exceeded" not in codes_of(submission.revision(1).findings)
        one_more = file(3 + limit.max_activities, troops)
        warnings = [f for f in one_more.revision(1).findings if f["code"] == "constraint_exceeded"]
        assert len(warnings) == 1 and warnings[0]["severity"] == "warning"
        assert warnings[0]["params"]["constraint"] == limit.key
        assert warnings[0]["params"]["count"] == limit.max_activities + 1
        assert warnings[0]["params"]["limit"] == limit.max_activities
        # Another state's activities are counted for that state only.
        other = user(russian_officer.id)
        data = peace_mission(date(year, 11, 1), troops_total=str(troops), troops_ground=str(troops - 1500))
        data.participants = [ParticipantInput(state("KZ").id, "participant", "", "100")]
        russian = svc.create_exercise(other, state("RU"), data)
        workflow.submit(other, russian)
        assert "constraint_exceeded" not in codes_of(russian.revision(1).findings)


# --- snapshots, amendments and what changed -----------------------------------------------------------------


def test_snapshots_amendments_and_the_diff_of_two_versions(app, people):
    with app.app_context():
        filer, reviewer = user(people.kz.id), user(people.reviewer.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        workflow.submit(filer, submission)
        first = submission.revision(1)
        at_submission = svc.snapshot_details(svc.details_of(first))
        assert first.snapshot["exercise"] == at_submission
        assert first.snapshot["envelope"]["reference"] == submission.reference
        workflow.accept(reviewer, submission)
        db.session.commit()

        workflow.amend(filer, submission)
        db.session.commit()
        second = submission.current_revision
        assert second.number == 2 and not second.is_frozen and submission.accepted_revision_no == 1
        old_details, new_details = svc.details_of(first), svc.details_of(second)
        assert svc.snapshot_details(new_details) == at_submission  # participants and phases copied
        assert len(new_details.participants) == 2 and len(new_details.phases) == 3
        assert not {p.id for p in new_details.participants} & {p.id for p in old_details.participants}
        assert not {p.id for p in new_details.phases} & {p.id for p in old_details.phases}
        old_rows = [(p.id, p.state_id, p.troops) for p in old_details.participants]

        changed = peace_mission(start, troops_total="5200")
        changed.participants[1].troops = "900"
        svc.update_exercise(filer, submission, changed, expected_lock=submission.lock_version)
        db.session.commit()
        db.session.expire_all()
        # The accepted version is untouched: its rows and its snapshot.
        assert [(p.id, p.state_id, p.troops) for p in svc.details_of(first).participants] == old_rows
        assert svc.details_of(first).troops_total == 5000
        assert submission.revision(1).snapshot["exercise"] == at_submission

        workflow.submit(filer, submission)
        db.session.commit()
        db.session.expire_all()
        assert submission.revision(2).snapshot["exercise"] == svc.snapshot_details(svc.details_of(second))
        assert diff_snapshots(submission.revision(1).snapshot, submission.revision(2).snapshot) == [
            ("exercise.troops_total", 5000, 5200),
            ("exercise.participants[2].troops", 700, 900),
        ]
        assert diff_snapshots(submission.revision(2).snapshot, submission.revision(2).snapshot) == []


def test_a_submitted_version_cannot_be_edited(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(date(today().year + 2, 9, 9)))
        workflow.submit(filer, submission)
        db.session.commit()
        with pytest.raises(workflow.InvalidTransition):
            svc.update_exercise(filer, submission, peace_mission(date(today().year + 2, 9, 9), troops_total="1"))
        db.session.rollback()
        assert svc.details_of(submission.revision(1)).troops_total == 5000


def test_only_the_own_state_officer_edits(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(date(today().year + 2, 9, 9)))
        db.session.commit()
        for intruder in (people.cn, people.reviewer, people.admin):
            with pytest.raises(PermissionDenied):
                svc.update_exercise(user(intruder.id), submission, minimal(date(today().year + 2, 9, 9)))
            db.session.rollback()
        with pytest.raises(PermissionDenied):
            svc.create_exercise(user(people.cn.id), state("KZ"), minimal(date(today().year + 2, 9, 9)))
        db.session.rollback()
        assert svc.details_of(submission.current_revision).troops_total == 5000
        assert db.session.scalar(select(func.count()).select_from(Submission)) == 1


# --- locking and the audit trail ---------------------------------------------------------------------------


def test_a_stale_lock_is_a_conflict(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        for stale in (submission.lock_version - 1, submission.lock_version + 1, "forged", 2**63):
            with pytest.raises(Conflict):
                svc.update_exercise(filer, submission, peace_mission(start, troops_total="1"), expected_lock=stale)
            db.session.rollback()
        assert svc.details_of(submission.current_revision).troops_total == 5000


def test_two_tabs_the_second_save_is_refused(app, people):
    with app.app_context():
        filer, colleague = user(people.kz.id), user(people.kz_second.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        seen = submission.lock_version  # both tabs opened the form at this version
        svc.update_exercise(filer, submission, peace_mission(start, troops_total="5100"), expected_lock=seen)
        db.session.commit()
        assert submission.lock_version != seen
        with pytest.raises(Conflict):
            svc.update_exercise(colleague, submission, peace_mission(start, troops_total="4900"), expected_lock=seen)
        db.session.rollback()
        assert svc.details_of(submission.current_revision).troops_total == 5100
        assert len(audit_entries("exercise.save_draft", submission.reference)) == 2  # create + the first save


@pytest.mark.parametrize("second_change", ["troops", "start_date", "visibility"])
def test_two_tabs_saving_at_the_same_moment(app, people, second_change):
    """Both saves pass the version check; the database refuses the one that comes second (no lost update),
    whatever the second one changes (a new start date changes the due date of the envelope too)."""
    with app.app_context():
        filer = user(people.kz.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        submission_id, seen = submission.id, submission.lock_version
        tab_two = db.session.get(Submission, submission_id)
        with app.app_context():  # the first tab, in its own session, saves and commits first
            svc.update_exercise(user(people.kz_second.id), db.session.get(Submission, submission_id),
                                peace_mission(start + DAY, troops_total="5100"), expected_lock=seen)
            db.session.commit()
        late_save = {
            "troops": {"data": peace_mission(start, troops_total="4900")},
            "start_date": {"data": peace_mission(start + 7 * DAY)},
            "visibility": {"data": peace_mission(start), "visibility": "public"},
        }[second_change]
        with pytest.raises(Conflict):
            svc.update_exercise(filer, tab_two, late_save["data"], expected_lock=seen,
                                visibility=late_save.get("visibility"))
        db.session.rollback()
        db.session.expire_all()
        submission = db.session.get(Submission, submission_id)
        details = svc.details_of(submission.current_revision)
        assert (details.troops_total, details.start_date) == (5100, start + DAY)
        assert submission.visibility.value == "members"
        assert len(audit_entries("exercise.save_draft", submission.reference)) == 2


def test_every_save_writes_a_field_diff_to_the_audit_log(app, people):
    with app.app_context():
        filer = user(people.kz.id)
        start = date(today().year + 2, 9, 9)
        submission = svc.create_exercise(filer, state("KZ"), peace_mission(start))
        db.session.commit()
        created = audit_entries("exercise.save_draft", submission.reference)
        assert len(created) == 1
        assert created[0].actor_id == filer.id and created[0].state_code == "KZ"
        assert created[0].changes["designation_en"] == [None, "Peace Mission 2028"]
        assert created[0].changes["troops_total"] == [None, 5000]
        assert created[0].changes["participants"][1] == [
            {"state": "CN", "role": "co_organiser", "troops": 1000,
             "contribution": "Battalion group of the Western Theatre Command"},
            {"state": "RU", "role": "participant", "troops": 700,
             "contribution": "Motor rifle company of the Central Military District"}]
        assert "troops_naval" not in created[0].changes  # left blank: not a change

        changed = peace_mission(start, troops_total="5200", troops_ground="3700")
        svc.update_exercise(filer, submission, changed, expected_lock=submission.lock_version, visibility="public")
        db.session.commit()
        saved = audit_entries("exercise.save_draft", submission.reference)
        assert len(saved) == 2
        assert saved[1].changes == {"troops_total": [5000, 5200], "troops_ground": [3500, 3700],
                                    "visibility": ["members", "public"]}

        svc.update_exercise(filer, submission, changed, expected_lock=submission.lock_version)
        db.session.commit()
        unchanged = audit_entries("exercise.save_draft", submission.reference)
        assert len(unchanged) == 3 and not unchanged[2].changes  # saved, with nothing changed
