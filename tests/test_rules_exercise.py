"""Checks of an exercise notification (DOMAIN.md section 6, rules 1-5) against the threshold profiles.

Figures are derived from the loaded profiles where possible, so that a corrected number in the data file moves
the tests with it; a few literal cases (12,700 against 13,000) pin the practice the rule is about.
"""

import dataclasses
import datetime
import math

import flask
import flask_babel
import pytest

from registry.rules.exercise import (
    COUNT_LIMIT,
    ERROR,
    FORCE_FIELDS,
    PARAMETER_FIELDS,
    WARNING,
    ExerciseFacts,
    OtherActivity,
    Participant,
    Phase,
    applicable_profiles,
    evaluate,
)
from registry.rules.profiles import load_profiles

PROFILES = load_profiles()
SHANGHAI = PROFILES["shanghai_1996"]
VIENNA = PROFILES["vienna_2011"]
SCO = PROFILES["sco_agreement"]
ALL = list(PROFILES.values())
PARTIES = frozenset({"CN", "RU", "KZ", "KG", "TJ"})

START = datetime.date(2026, 9, 1)
DAY = datetime.timedelta(days=1)


def facts(**changes) -> ExerciseFacts:
    """A small, consistent, well-notified exercise that raises nothing under any profile."""
    values = {
        "conducting_state": "KZ",
        "start": START,
        "end": START + 9 * DAY,
        "submitted_on": START - 60 * DAY,
        "border_party_states": PARTIES,
        "troops_total": 1000,
    }
    values.update(changes)
    return ExerciseFacts(**values)


def codes(evaluation, profile="any") -> set[str]:
    return {f.code for f in evaluation.findings if profile == "any" or f.profile == profile}


def only(evaluation, code: str):
    found = [f for f in evaluation.findings if f.code == code]
    assert len(found) == 1, [(f.code, f.profile) for f in evaluation.findings]
    return found[0]


def figure(parameter: str, value: int) -> dict:
    """Only this figure declared: no troops unless the parameter is troops."""
    return {"troops_total": 0} | {PARAMETER_FIELDS[parameter]: value}


def near_floor(threshold: int) -> int:
    """The lowest figure inside the near-threshold band: 95 % of the threshold, rounded up."""
    return math.ceil(threshold * (100 - VIENNA.near_margin_percent) / 100)


# --- the baseline ---


def test_a_clean_notification_raises_nothing():
    evaluation = evaluate(facts(), ALL)
    assert evaluation.findings == []
    assert evaluation.lead_time_days == 60
    assert evaluation.mandatory_notification is False
    assert evaluation.observers_required is False
    assert evaluation.profiles == ("vienna_2011", "sco_agreement")


def test_severity_helpers_split_errors_and_warnings():
    evaluation = evaluate(facts(end=START - DAY, troops_total=12700, calendar_entry=True), [VIENNA])
    assert {f.code for f in evaluation.errors} == {"end_before_start"}
    assert {f.code for f in evaluation.warnings} == {"near_threshold"}
    assert evaluation.codes() == {"end_before_start", "near_threshold"}


# --- rule 3: consistency ---


def test_end_before_start_is_an_error_without_profile():
    finding = only(evaluate(facts(end=START - DAY), ALL), "end_before_start")
    assert (finding.severity, finding.field, finding.profile) == (ERROR, "end", None)
    assert "end_before_start" not in codes(evaluate(facts(end=START), ALL))


def test_consistency_runs_once_whatever_the_profiles():
    for profiles in ([], [SCO], ALL):
        evaluation = evaluate(facts(end=START - DAY, within_border_zone=True), profiles)
        assert [f.code for f in evaluation.findings].count("end_before_start") == 1


def test_phase_ending_before_it_starts():
    phases = [Phase("concentration", START + 3 * DAY, START + 2 * DAY)]
    finding = only(evaluate(facts(phases=phases), ALL), "phase_end_before_start")
    assert (finding.severity, finding.field, finding.params["index"]) == (ERROR, "phases", 0)


@pytest.mark.parametrize(
    ("phase_start", "phase_end"),
    [(START - DAY, START + DAY), (START + 8 * DAY, START + 10 * DAY), (START - 5 * DAY, START - 2 * DAY)],
)
def test_phase_outside_the_exercise(phase_start, phase_end):
    phases = [Phase("deployment", START, START + DAY), Phase("recovery", phase_start, phase_end)]
    finding = only(evaluate(facts(phases=phases), ALL), "phase_outside_exercise")
    assert (finding.severity, finding.params["index"], finding.params["name"]) == (ERROR, 1, "recovery")


def test_phases_on_the_exercise_bounds_are_inside():
    phases = [Phase("active", START, START + 9 * DAY), Phase("one day", START + 9 * DAY, START + 9 * DAY)]
    assert codes(evaluate(facts(phases=phases), ALL)) == set()


@pytest.mark.parametrize("field", FORCE_FIELDS + ("observer_places_per_state", "observer_places_total"))
@pytest.mark.parametrize("value", [-1, COUNT_LIMIT, 2**31, 1.5, 12.0, True, "12", float("nan")])
def test_invalid_counts_are_errors(field, value):
    evaluation = evaluate(facts(**{field: value}), ALL)
    finding = only(evaluation, "count_invalid")
    assert (finding.severity, finding.field, finding.profile) == (ERROR, field, None)


@pytest.mark.parametrize("field", FORCE_FIELDS)
@pytest.mark.parametrize("value", [0, COUNT_LIMIT - 1, None])
def test_valid_counts_pass(field, value):
    assert "count_invalid" not in codes(evaluate(facts(**{field: value}), [SCO]))


def test_two_to_the_31_troops_is_refused_and_sets_no_flag():
    evaluation = evaluate(facts(troops_total=2**31), ALL)
    assert only(evaluation, "count_invalid").field == "troops_total"
    # An invalid figure is not compared with thresholds: it is an error to fix first.
    assert evaluation.mandatory_notification is False
    assert not codes(evaluation) & {"observers_not_invited", "late", "constraint_exceeded", "two_year_rule"}


def test_negative_count_by_service():
    evaluation = evaluate(facts(troops_by_service={"ground": 800, "air": -5}), ALL)
    finding = only(evaluation, "count_invalid")
    assert (finding.field, finding.params["service"]) == ("troops_by_service", "air")
    assert "troops_total_below_components" not in codes(evaluation)


def test_total_below_the_sum_of_services():
    finding = only(
        evaluate(facts(troops_by_service={"ground": 800, "air": 201}), ALL), "troops_total_below_components"
    )
    assert (finding.severity, finding.field, finding.params) == (
        ERROR,
        "troops_total",
        {"total": 1000, "sum": 1001},
    )
    assert codes(evaluate(facts(troops_by_service={"ground": 800, "air": 200}), ALL)) == set()


def test_missing_total_uses_the_sum_of_services_for_thresholds():
    troops = VIENNA.notification["troops"]
    evaluation = evaluate(
        facts(troops_total=None, troops_by_service={"ground": troops - 1, "air": 1}), [VIENNA]
    )
    assert evaluation.mandatory_notification is True
    assert "troops_total_below_components" not in codes(evaluation)


def test_a_low_total_cannot_hide_a_threshold():
    troops = VIENNA.notification["troops"]
    evaluation = evaluate(facts(troops_total=10, troops_by_service={"ground": troops}), [VIENNA])
    assert evaluation.mandatory_notification is True
    assert "troops_total_below_components" in codes(evaluation)


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (91, 10, "latitude"),
        (-90.0001, 10, "latitude"),
        (45, -181, "longitude"),
        (45, 180.5, "longitude"),
        (float("nan"), 10, "latitude"),
        (45, float("nan"), "longitude"),
        (float("inf"), 10, "latitude"),
        (45, float("-inf"), "longitude"),
        ("45", 10, "latitude"),
        (True, 10, "latitude"),
        (None, 10, "latitude"),
        (45, None, "longitude"),
    ],
)
def test_invalid_coordinates(latitude, longitude, field):
    finding = only(evaluate(facts(latitude=latitude, longitude=longitude), ALL), "coordinates_invalid")
    assert (finding.severity, finding.field, finding.profile) == (ERROR, field, None)


def test_both_coordinates_out_of_range_give_two_errors():
    evaluation = evaluate(facts(latitude=-91, longitude=181), ALL)
    assert sorted(f.field for f in evaluation.findings if f.code == "coordinates_invalid") == [
        "latitude",
        "longitude",
    ]


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(90, 180), (-90, -180), (0, 0), (43.2, 76.9), (None, None)]
)
def test_valid_coordinates(latitude, longitude):
    assert "coordinates_invalid" not in codes(evaluate(facts(latitude=latitude, longitude=longitude), ALL))


def test_participants_must_be_allowed_and_listed_once():
    participating = [
        Participant("KZ", True),
        Participant("RU", True),
        Participant("kz", True),
        Participant("XX", False),
    ]
    evaluation = evaluate(facts(participating=participating), ALL)
    duplicated = only(evaluation, "participant_duplicated")
    refused = only(evaluation, "participant_not_allowed")
    assert (duplicated.severity, duplicated.field, duplicated.params) == (
        ERROR,
        "participating",
        {"state": "KZ"},
    )
    assert (refused.severity, refused.params) == (ERROR, {"state": "XX"})


def test_allowed_participants_pass():
    participating = [Participant("KZ", True), Participant("CN", True), Participant("IN", True)]
    assert codes(evaluate(facts(participating=participating), ALL)) == set()


# --- rule 1: lead time and alert activities ---


def notifiable(**changes) -> ExerciseFacts:
    """An exercise at the Vienna notification threshold, forecast in the calendar."""
    values = {"troops_total": VIENNA.notification["troops"], "calendar_entry": True}
    values.update(changes)
    return facts(**values)


def test_notified_exactly_at_the_lead_time_is_not_late():
    evaluation = evaluate(notifiable(submitted_on=START - VIENNA.lead_time_days * DAY), ALL)
    assert evaluation.lead_time_days == VIENNA.lead_time_days
    assert codes(evaluation) == set()


def test_one_day_short_is_late_and_needs_an_explanation():
    evaluation = evaluate(notifiable(submitted_on=START - (VIENNA.lead_time_days - 1) * DAY), ALL)
    late = only(evaluation, "late")
    missing = only(evaluation, "late_explanation_missing")
    assert (late.severity, late.profile) == (WARNING, "vienna_2011")
    assert late.params == {"lead_time_days": VIENNA.lead_time_days - 1, "required": VIENNA.lead_time_days}
    assert (missing.severity, missing.field, missing.profile) == (ERROR, "late_explanation", "vienna_2011")


def test_an_explained_late_notification_keeps_only_the_warning():
    evaluation = evaluate(
        notifiable(submitted_on=START - 3 * DAY, late_explanation="Decided on 28 August."), ALL
    )
    assert codes(evaluation) == {"late"}
    blank = evaluate(notifiable(submitted_on=START - 3 * DAY, late_explanation="   "), ALL)
    assert codes(blank) == {"late", "late_explanation_missing"}


def test_submitted_after_the_start_has_a_negative_lead_time():
    evaluation = evaluate(notifiable(submitted_on=START + 2 * DAY, late_explanation="x"), [VIENNA])
    assert evaluation.lead_time_days == -2
    assert "late" in codes(evaluation)


def test_a_voluntary_notification_below_the_thresholds_is_never_late():
    evaluation = evaluate(facts(submitted_on=START - DAY), ALL)
    assert evaluation.mandatory_notification is False
    assert not codes(evaluation) & {"late", "late_explanation_missing"}


def test_an_alert_activity_is_exempt_from_the_lead_time_but_needs_a_justification():
    evaluation = evaluate(notifiable(submitted_on=START, is_alert=True), ALL)
    finding = only(evaluation, "alert_justification_missing")
    assert (finding.severity, finding.field, finding.profile) == (ERROR, "alert_justification", None)
    assert not codes(evaluation) & {"late", "late_explanation_missing"}
    justified = evaluate(
        notifiable(submitted_on=START, is_alert=True, alert_justification="Snap check."), ALL
    )
    assert codes(justified) == set()


def test_an_alert_needs_a_justification_even_without_thresholds():
    assert codes(evaluate(facts(is_alert=True, alert_justification=" "), [SCO])) == {
        "alert_justification_missing"
    }
    assert codes(evaluate(facts(is_alert=False), [SCO])) == set()


def test_shanghai_sets_no_lead_time():
    evaluation = evaluate(
        facts(
            troops_total=SHANGHAI.observers_invite_troops,
            within_border_zone=True,
            observers_invited=True,
            submitted_on=START - DAY,
        ),
        [SHANGHAI],
    )
    assert evaluation.profiles == ("shanghai_1996",)
    assert not codes(evaluation) & {"late", "late_explanation_missing"}


# --- rule 2: thresholds (Vienna benchmark) ---


@pytest.mark.parametrize("parameter", list(VIENNA.notification))
def test_notification_threshold_reached_exactly(parameter):
    threshold = VIENNA.notification[parameter]
    evaluation = evaluate(notifiable(**figure(parameter, threshold)), [VIENNA])
    assert evaluation.mandatory_notification is True
    assert "near_threshold" not in codes(evaluation)


@pytest.mark.parametrize("parameter", list(VIENNA.notification))
def test_notification_threshold_one_below_is_near(parameter):
    threshold = VIENNA.notification[parameter]
    evaluation = evaluate(facts(**figure(parameter, threshold - 1)), [VIENNA])
    assert evaluation.mandatory_notification is False
    finding = only(evaluation, "near_threshold")
    assert (finding.severity, finding.field, finding.profile) == (
        WARNING,
        PARAMETER_FIELDS[parameter],
        "vienna_2011",
    )
    assert (finding.params["parameter"], finding.params["threshold"]) == (parameter, threshold)


@pytest.mark.parametrize("parameter", list(VIENNA.notification))
def test_near_band_starts_at_95_percent(parameter):
    threshold = VIENNA.notification[parameter]
    at_floor = evaluate(facts(**figure(parameter, near_floor(threshold))), [VIENNA])
    below_floor = evaluate(facts(**figure(parameter, near_floor(threshold) - 1)), [VIENNA])
    far_below = evaluate(facts(**figure(parameter, threshold // 2)), [VIENNA])
    assert "near_threshold" in codes(at_floor)
    assert codes(below_floor) == set()
    assert codes(far_below) == set()


def test_12700_troops_against_13000_is_the_practice_flagged():
    evaluation = evaluate(notifiable(troops_total=12700), [VIENNA])
    finding = only(evaluation, "near_threshold")
    assert finding.params == {"parameter": "troops", "value": 12700, "threshold": 13000, "margin_percent": 5}
    assert evaluation.mandatory_notification is True  # 12,700 is above the 9,000 notification threshold
    assert evaluation.observers_required is False
    assert "observers_not_invited" not in codes(evaluation)


def test_12349_troops_is_not_near_13000():
    assert "near_threshold" not in codes(evaluate(notifiable(troops_total=12349), [VIENNA]))
    assert "near_threshold" in codes(evaluate(notifiable(troops_total=12350), [VIENNA]))


@pytest.mark.parametrize("parameter", list(VIENNA.observation))
def test_observers_required_at_the_observation_threshold(parameter):
    threshold = VIENNA.observation[parameter]
    evaluation = evaluate(notifiable(**figure(parameter, threshold)), [VIENNA])
    assert evaluation.observers_required is True
    finding = only(evaluation, "observers_not_invited")
    assert (finding.severity, finding.field, finding.profile) == (ERROR, "observers_invited", "vienna_2011")
    assert (finding.params["parameter"], finding.params["threshold"]) == (parameter, threshold)
    invited = evaluate(notifiable(observers_invited=True, **figure(parameter, threshold)), [VIENNA])
    assert "observers_not_invited" not in codes(invited)
    assert invited.observers_required is True


@pytest.mark.parametrize("parameter", list(VIENNA.observation))
def test_observers_not_required_one_below(parameter):
    threshold = VIENNA.observation[parameter]
    evaluation = evaluate(notifiable(**figure(parameter, threshold - 1)), [VIENNA])
    assert evaluation.observers_required is False
    assert "observers_not_invited" not in codes(evaluation)
    assert any(
        f.params.get("threshold") == threshold for f in evaluation.findings if f.code == "near_threshold"
    )


def test_observer_places_per_state_above_the_limit():
    limit = VIENNA.observers_per_state
    evaluation = evaluate(facts(observer_places_per_state=limit + 1), [VIENNA])
    finding = only(evaluation, "observer_places_exceeded")
    assert (finding.severity, finding.field, finding.params["limit"]) == (
        ERROR,
        "observer_places_per_state",
        limit,
    )
    assert codes(evaluate(facts(observer_places_per_state=limit), [VIENNA])) == set()


# --- rule 2: the 1996 Shanghai border area ---


def in_zone(**changes) -> ExerciseFacts:
    values = {"within_border_zone": True, "conducting_state": "KZ"}
    values.update(changes)
    return facts(**values)


def test_shanghai_applies_only_in_the_zone_and_to_its_parties():
    assert SHANGHAI in applicable_profiles(in_zone(), ALL)
    assert SHANGHAI not in applicable_profiles(facts(within_border_zone=False), ALL)
    assert SHANGHAI not in applicable_profiles(in_zone(conducting_state="IN"), ALL)
    assert SHANGHAI in applicable_profiles(in_zone(conducting_state="cn"), ALL)
    assert SHANGHAI not in applicable_profiles(in_zone(border_party_states=frozenset()), ALL)


@pytest.mark.parametrize(
    ("level", "basis"), [("observers_mutual_troops", "mutual"), ("observers_invite_troops", "invite")]
)
def test_shanghai_mandatory_observers(level, basis):
    troops = getattr(SHANGHAI, level)
    evaluation = evaluate(in_zone(troops_total=troops), [SHANGHAI])
    assert evaluation.observers_required is True
    finding = only(evaluation, "observers_not_invited")
    assert (finding.severity, finding.profile, finding.params["basis"]) == (ERROR, "shanghai_1996", basis)
    # The duty replaces the voluntary hint: one finding, not two.
    assert "observers_invitation_voluntary" not in codes(evaluation)
    invited = evaluate(in_zone(troops_total=troops, observers_invited=True), [SHANGHAI])
    assert "observers_not_invited" not in codes(invited)


def test_shanghai_mandatory_observers_need_the_zone():
    troops = SHANGHAI.observers_invite_troops
    outside = evaluate(facts(troops_total=troops, within_border_zone=False), [SHANGHAI])
    assert outside.profiles == () and outside.observers_required is False and outside.findings == []
    not_a_party = evaluate(in_zone(troops_total=troops, conducting_state="PK"), [SHANGHAI])
    assert not_a_party.observers_required is False and not_a_party.findings == []


def test_shanghai_just_below_the_mutual_level():
    troops = SHANGHAI.observers_mutual_troops - 1
    evaluation = evaluate(in_zone(troops_total=troops), [SHANGHAI])
    assert evaluation.observers_required is False
    assert "observers_not_invited" not in codes(evaluation)
    near = only(evaluation, "near_threshold")
    assert (near.profile, near.params["threshold"]) == ("shanghai_1996", SHANGHAI.observers_mutual_troops)
    # The voluntary level is reached, so the reviewer sees the voluntary hint instead.
    assert "observers_invitation_voluntary" in codes(evaluation)


def test_shanghai_near_the_invite_level_while_above_the_mutual_level():
    troops = SHANGHAI.observers_invite_troops - 1
    evaluation = evaluate(in_zone(troops_total=troops, observers_invited=True), [SHANGHAI])
    assert evaluation.observers_required is True
    assert only(evaluation, "near_threshold").params["threshold"] == SHANGHAI.observers_invite_troops


@pytest.mark.parametrize("parameter", ["troops", "battle_tanks"])
def test_shanghai_voluntary_level_is_a_hint_not_a_duty(parameter):
    level = SHANGHAI.observation_voluntary[parameter]
    evaluation = evaluate(in_zone(**figure(parameter, level)), [SHANGHAI])
    assert evaluation.observers_required is False
    finding = only(evaluation, "observers_invitation_voluntary")
    assert (finding.severity, finding.profile, finding.params["basis"]) == (
        WARNING,
        "shanghai_1996",
        "voluntary",
    )
    assert "observers_not_invited" not in codes(evaluation)
    below = evaluate(in_zone(**figure(parameter, level - 1)), [SHANGHAI])
    assert "observers_invitation_voluntary" not in codes(below)
    # No near-threshold warning either: nothing is due at the voluntary level.
    assert "near_threshold" not in codes(below)
    invited = evaluate(in_zone(observers_invited=True, **figure(parameter, level)), [SHANGHAI])
    assert codes(invited) == set()


def test_shanghai_observer_limit():
    limit = SHANGHAI.observers_total
    evaluation = evaluate(
        in_zone(observer_places_per_state=limit + 1, observer_places_total=limit + 1), [SHANGHAI]
    )
    fields = sorted(f.field for f in evaluation.findings if f.code == "observer_places_exceeded")
    assert fields == ["observer_places_per_state", "observer_places_total"]
    assert all(f.severity == ERROR and f.profile == "shanghai_1996" for f in evaluation.findings)
    assert (
        codes(evaluate(in_zone(observer_places_per_state=limit, observer_places_total=limit), [SHANGHAI]))
        == set()
    )


def test_shanghai_invitation_lead_time():
    days = SHANGHAI.invitation_days
    troops = SHANGHAI.observers_mutual_troops
    late = evaluate(
        in_zone(troops_total=troops, observers_invited=True, observers_invited_on=START - (days - 1) * DAY),
        [SHANGHAI],
    )
    finding = only(late, "invitation_late")
    assert (finding.severity, finding.field, finding.params) == (
        WARNING,
        "observers_invited_on",
        {"days": days - 1, "required": days},
    )
    on_time = evaluate(
        in_zone(troops_total=troops, observers_invited=True, observers_invited_on=START - days * DAY),
        [SHANGHAI],
    )
    assert "invitation_late" not in codes(on_time)


# --- several profiles in force ---


def test_findings_carry_the_profile_that_raised_them():
    troops = SHANGHAI.observers_mutual_troops
    evaluation = evaluate(in_zone(troops_total=troops, calendar_entry=True), ALL)
    assert evaluation.profiles == ("shanghai_1996", "vienna_2011", "sco_agreement")
    not_invited = {f.profile for f in evaluation.findings if f.code == "observers_not_invited"}
    assert not_invited == {"shanghai_1996", "vienna_2011"}
    assert "sco_agreement" not in {f.profile for f in evaluation.findings}


def test_the_empty_sco_profile_raises_no_threshold_finding():
    huge = {name: COUNT_LIMIT - 1 for name in FORCE_FIELDS}
    evaluation = evaluate(facts(submitted_on=START, **huge), [SCO])
    assert evaluation.findings == []
    assert evaluation.mandatory_notification is False and evaluation.observers_required is False
    assert evaluation.profiles == ("sco_agreement",)
    broken = evaluate(
        facts(end=START - DAY, troops_total=-1, **{k: v for k, v in huge.items() if k != "troops_total"}),
        [SCO],
    )
    assert codes(broken) == {"end_before_start", "count_invalid"}
    assert {f.profile for f in broken.findings} == {None}


# --- rule 4: constraints (Vienna ch. VIII) ---


def constraint(key):
    return next(c for c in VIENNA.constraints if c.key == key)


def big(**changes) -> ExerciseFacts:
    values = {"observers_invited": True, "calendar_entry": True}
    values.update(changes)
    return facts(**values)


def others(count, year, troops=None, tanks=None):
    return [OtherActivity(datetime.date(year, 3, 1 + i), troops, tanks) for i in range(count)]


def constraint_keys(evaluation) -> set[str]:
    return {f.params["constraint"] for f in evaluation.findings if f.code == "constraint_exceeded"}


def test_annual_limit_counts_this_activity_too():
    annual = constraint("annual")
    troops = annual.troops + 1
    over = evaluate(
        big(troops_total=troops, counters=others(annual.max_activities, START.year, troops)), [VIENNA]
    )
    finding = only(over, "constraint_exceeded")
    assert finding.severity == WARNING and finding.profile == "vienna_2011"
    assert finding.params["constraint"] == "annual"
    assert (finding.params["count"], finding.params["limit"]) == (
        annual.max_activities + 1,
        annual.max_activities,
    )
    at_limit = evaluate(
        big(troops_total=troops, counters=others(annual.max_activities - 1, START.year, troops)), [VIENNA]
    )
    assert "constraint_exceeded" not in codes(at_limit)


def test_annual_limit_ignores_other_years_and_smaller_activities():
    annual = constraint("annual")
    troops = annual.troops + 1
    counters = others(annual.max_activities, START.year - 1, troops) + others(
        annual.max_activities, START.year, annual.troops
    )
    assert "constraint_exceeded" not in codes(evaluate(big(troops_total=troops, counters=counters), [VIENNA]))


def test_constraints_count_more_than_the_figure():
    annual = constraint("annual")
    counters = others(annual.max_activities, START.year, annual.troops + 1)
    # This activity is exactly at the figure: "more than 13,000" does not include it.
    evaluation = evaluate(big(troops_total=annual.troops, counters=counters), [VIENNA])
    assert "constraint_exceeded" not in codes(evaluation)


def test_a_small_activity_never_breaks_a_constraint():
    counters = others(20, START.year, 100000, 2000)
    assert "constraint_exceeded" not in codes(evaluate(big(counters=counters), [VIENNA]))


def test_annual_large_limit_by_tanks():
    annual_large = constraint("annual_large")
    tanks = annual_large.battle_tanks + 1
    counters = others(annual_large.max_activities, START.year, tanks=tanks)
    evaluation = evaluate(big(troops_total=0, battle_tanks=tanks, counters=counters), [VIENNA])
    assert constraint_keys(evaluation) == {"annual_large"}


@pytest.mark.parametrize(("years_before", "exceeded"), [(0, True), (1, True), (2, True), (3, False)])
def test_three_year_window_for_the_largest_activities(years_before, exceeded):
    large = constraint("large")
    troops = large.troops + 1
    counters = others(large.max_activities, START.year - years_before, troops)
    evaluation = evaluate(
        big(troops_total=troops, counters=counters, announced_on=START.replace(year=2020)), [VIENNA]
    )
    assert ("large" in constraint_keys(evaluation)) is exceeded
    if exceeded:
        finding = next(f for f in evaluation.findings if f.params.get("constraint") == "large")
        assert finding.params["last_year"] - finding.params["first_year"] == large.period_years - 1
        assert finding.params["first_year"] <= START.year - years_before


def test_later_activities_count_in_the_window_too():
    large = constraint("large")
    troops = large.troops + 1
    counters = others(large.max_activities, START.year + 2, troops)
    evaluation = evaluate(
        big(troops_total=troops, counters=counters, announced_on=START.replace(year=2020)), [VIENNA]
    )
    assert "large" in constraint_keys(evaluation)


def test_two_year_rule():
    threshold = VIENNA.announce_troops
    month, day = VIENNA.calendar_due
    deadline = datetime.date(START.year - VIENNA.announce_years, month, day)
    late = evaluate(big(troops_total=threshold + 1), [VIENNA])
    finding = only(late, "two_year_rule")
    assert (finding.severity, finding.field, finding.profile) == (WARNING, "announced_on", "vienna_2011")
    assert finding.params["deadline"] == deadline.isoformat()
    assert "two_year_rule" not in codes(
        evaluate(big(troops_total=threshold + 1, announced_on=deadline), [VIENNA])
    )
    assert "two_year_rule" in codes(
        evaluate(big(troops_total=threshold + 1, announced_on=deadline + DAY), [VIENNA])
    )
    assert "two_year_rule" not in codes(evaluate(big(troops_total=threshold), [VIENNA]))


def test_shanghai_has_no_constraints():
    counters = others(10, START.year, 100000, 2000)
    evaluation = evaluate(in_zone(troops_total=100000, observers_invited=True, counters=counters), [SHANGHAI])
    assert not codes(evaluation) & {"constraint_exceeded", "two_year_rule"}


# --- rule 5: annual calendar ---


def test_notifiable_activity_without_calendar_entry():
    with_reason = evaluate(notifiable(calendar_entry=False, not_forecast_reason="Ordered in June."), [VIENNA])
    finding = only(with_reason, "not_forecast")
    assert (finding.severity, finding.field, finding.profile) == (WARNING, "calendar_entry", "vienna_2011")
    assert "not_forecast_reason_missing" not in codes(with_reason)
    without = evaluate(notifiable(calendar_entry=False), [VIENNA])
    missing = only(without, "not_forecast_reason_missing")
    assert (missing.severity, missing.field) == (ERROR, "not_forecast_reason")


def test_calendar_rule_only_for_notifiable_forecastable_activities():
    assert codes(evaluate(notifiable(calendar_entry=True), [VIENNA])) == set()
    below = evaluate(facts(troops_total=VIENNA.notification["troops"] // 2, calendar_entry=False), [VIENNA])
    assert not codes(below) & {"not_forecast", "not_forecast_reason_missing"}
    alert = evaluate(notifiable(calendar_entry=False, is_alert=True, alert_justification="Snap."), [VIENNA])
    assert not codes(alert) & {"not_forecast", "not_forecast_reason_missing"}
    shanghai = evaluate(in_zone(troops_total=100000, observers_invited=True), [SHANGHAI])
    assert not codes(shanghai) & {"not_forecast", "not_forecast_reason_missing"}


# --- messages ---


def test_every_message_renders_with_its_parameters():
    counters = others(10, START.year, 100000, 2000)
    everything = in_zone(
        end=START - DAY,
        submitted_on=START - DAY,
        troops_total=40001,
        troops_by_service={"ground": 50000, "air": -1},
        acv=VIENNA.notification["acv"] - 1,
        helicopters=-3,
        phases=[Phase("active", START + 2 * DAY, START + DAY)],
        latitude=91.0,
        longitude=None,
        participating=[Participant("RU", False), Participant("RU", False)],
        observer_places_per_state=9,
        observer_places_total=9,
        counters=counters,
    )
    evaluation = evaluate(everything, ALL)
    assert len(evaluation.codes()) >= 15
    app = flask.Flask(__name__)
    flask_babel.Babel(app)
    with app.app_context():
        for finding in evaluation.findings:
            text = str(finding.message)
            assert text and "%(" not in text, finding.code


def test_findings_are_immutable():
    finding = only(evaluate(facts(end=START - DAY), ALL), "end_before_start")
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.severity = WARNING
