"""The threshold profiles data file and its loader (registry/rules/profiles.py)."""

import dataclasses
import re
from pathlib import Path

import pytest

from registry.rules import profiles as profiles_module
from registry.rules.profiles import MARKS, PARAMETERS, ProfileError, load_profiles

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def profiles():
    return load_profiles()


# --- the reviewed data ---


def test_default_path_is_the_repository_seed_file():
    assert profiles_module.DEFAULT_PATH == REPO / "seeds" / "threshold_profiles.toml"
    assert profiles_module.DEFAULT_PATH.is_file()


def test_the_three_regimes_are_present_in_file_order(profiles):
    assert list(profiles) == ["shanghai_1996", "vienna_2011", "sco_agreement"]
    assert profiles["shanghai_1996"].names["en"] == "Shanghai 1996 border area"
    assert profiles["vienna_2011"].names["en"] == "Vienna Document 2011 benchmark"
    assert profiles["sco_agreement"].names["en"] == "SCO agreement (to be agreed)"
    for profile in profiles.values():
        assert set(profile.names) == {"en", "ru", "zh"}
        assert all(name.strip() for name in profile.names.values())
        assert profile.description


def test_applies_to(profiles):
    assert profiles["shanghai_1996"].applies_to == "border_zone"
    assert profiles["vienna_2011"].applies_to == "all"
    assert profiles["sco_agreement"].applies_to == "all"


def test_vienna_numbers_match_the_domain_table(profiles):
    vienna = profiles["vienna_2011"]
    assert vienna.lead_time_days == 42
    assert dict(vienna.notification) == {
        "troops": 9000,
        "battle_tanks": 250,
        "acv": 500,
        "artillery": 250,
        "sorties": 200,
        "amphibious_airborne": 3000,
    }
    assert dict(vienna.observation) == {"troops": 13000, "battle_tanks": 300, "amphibious_airborne": 3500}
    assert vienna.observers_per_state == 2
    assert vienna.calendar_due == (11, 15)
    constraints = {
        c.key: (c.period_years, c.max_activities, c.troops, c.battle_tanks) for c in vienna.constraints
    }
    assert constraints == {
        "large": (3, 1, 40000, 900),
        "annual": (1, 6, 13000, 300),
        "annual_large": (1, 3, 25000, 400),
    }
    assert (vienna.announce_troops, vienna.announce_years) == (40000, 2)
    # Not Vienna rules: these belong to the 1996 agreement.
    assert vienna.observers_invite_troops is None and vienna.observers_mutual_troops is None
    assert dict(vienna.observation_voluntary) == {}
    assert vienna.inquiry_days is None and vienna.observers_total is None


def test_vienna_marks_follow_the_domain_text(profiles):
    sources = profiles["vienna_2011"].sources
    # DOMAIN.md: "42 days, 9,000 and 13,000 are confirmed in secondary sources".
    for key in ("lead_time_days", "notification.troops", "observation.troops"):
        assert sources[key][1] == "s", key
    recalled = [
        "notification.battle_tanks",
        "notification.acv",
        "notification.artillery",
        "notification.sorties",
        "notification.amphibious_airborne",
        "observation.battle_tanks",
        "observation.amphibious_airborne",
        "observers.per_state",
        "calendar.due_month",
        "calendar.due_day",
    ] + [key for key in sources if key.startswith("constraint.")]
    for key in recalled:
        assert sources[key][1] == "r", key
    assert sources["announce.years"][1] == "v"  # the two-year rule is [v]


def test_shanghai_numbers_are_the_article_6_and_9_numbers(profiles):
    shanghai = profiles["shanghai_1996"]
    assert shanghai.observers_invite_troops == 35000
    assert shanghai.observers_mutual_troops == 25000
    assert shanghai.observers_mandatory_troops() == 25000
    assert dict(shanghai.observation_voluntary) == {"troops": 13000, "battle_tanks": 300}
    assert shanghai.invitation_days == 30
    assert shanghai.invitation_answer_days == 10
    assert shanghai.observers_total == 6
    assert (shanghai.inquiry_days, shanghai.inquiry_emergency_days) == (7, 2)
    assert shanghai.zone_width_km == 100
    marks = {
        key: mark
        for key, (_source, mark) in shanghai.sources.items()
        if key != "near_threshold_margin_percent"
    }
    assert set(marks.values()) == {"v"}


def test_shanghai_carries_no_vienna_number(profiles):
    shanghai = profiles["shanghai_1996"]
    # Arts. 2-5 (notification thresholds, notice periods, limits) were not retrieved: nothing may stand in.
    assert shanghai.lead_time_days is None
    assert dict(shanghai.notification) == {} and dict(shanghai.observation) == {}
    assert shanghai.constraints == () and shanghai.calendar_due is None and shanghai.announce_troops is None
    assert shanghai.observers_per_state is None
    for key, (source, _mark) in shanghai.sources.items():
        if key != "near_threshold_margin_percent":
            assert "Shanghai" in source and "Vienna" not in source, key
    for key, (source, _mark) in profiles["vienna_2011"].sources.items():
        if key != "near_threshold_margin_percent":
            assert "Vienna" in source and "Shanghai" not in source, key


def test_sco_agreement_has_no_thresholds(profiles):
    sco = profiles["sco_agreement"]
    assert not sco.has_thresholds
    assert set(sco.sources) == {"near_threshold_margin_percent"}
    assert dict(sco.notification) == {} and dict(sco.observation) == {} and sco.constraints == ()
    assert sco.lead_time_days is None and sco.observers_mandatory_troops() is None
    assert profiles["vienna_2011"].has_thresholds and profiles["shanghai_1996"].has_thresholds


def test_every_number_has_a_source_a_mark_and_a_unit(profiles):
    for profile in profiles.values():
        for key, (source, mark) in profile.sources.items():
            assert source.strip(), (profile.code, key)
            assert mark in MARKS, (profile.code, key)
        assert set(profile.units) == set(profile.sources) - {"near_threshold_margin_percent"}
        assert all(unit.strip() for unit in profile.units.values())


def test_near_threshold_margin_is_a_design_rule(profiles):
    for profile in profiles.values():
        assert profile.near_margin_percent == 5
        assert profile.sources["near_threshold_margin_percent"][1] == "d"


def test_profiles_are_read_only(profiles):
    vienna = profiles["vienna_2011"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        vienna.lead_time_days = 1
    with pytest.raises(TypeError):
        vienna.notification["troops"] = 1


def test_no_regime_number_is_written_in_the_rules_code(profiles):
    numbers = {
        value
        for profile in profiles.values()
        for key, value in _rule_values(profile).items()
        if value >= 200  # small numbers (2, 6, 42...) are too common to grep for meaningfully
    }
    assert {9000, 13000, 35000, 25000, 40000, 3500} <= numbers
    for path in (REPO / "registry" / "rules").glob("*.py"):
        code = path.read_text(encoding="utf-8").replace("_", "")
        found = {int(n) for n in re.findall(r"\b\d+\b", code)} & numbers
        assert not found, f"{path.name} hard-codes {sorted(found)}"


def _rule_values(profile) -> dict[str, int]:
    values = {f"notification.{k}": v for k, v in profile.notification.items()}
    values |= {f"observation.{k}": v for k, v in profile.observation.items()}
    values |= {f"observation_voluntary.{k}": v for k, v in profile.observation_voluntary.items()}
    for c in profile.constraints:
        values |= {
            f"constraint.{c.key}.troops": c.troops or 0,
            f"constraint.{c.key}.tanks": c.battle_tanks or 0,
        }
    for name in ("observers_invite_troops", "observers_mutual_troops", "announce_troops", "lead_time_days"):
        values[name] = getattr(profile, name) or 0
    return values


# --- the loader refuses what it does not understand ---

HEADER = """\
near_threshold_margin_percent = 5
near_threshold_margin_source = "design"
near_threshold_margin_mark = "d"
"""

PROFILE = """\
[[profile]]
code = "{code}"
name_en = "Test"
name_ru = "Тест"
name_zh = "测试"
description = "A test profile"
applies_to = "all"
"""


def rule(key, value=10, unit="troops", source="Test source", mark="r", extra=""):
    value = value if isinstance(value, str) else repr(value).lower()
    return (
        f'[[profile.rule]]\nkey = "{key}"\nvalue = {value}\nunit = "{unit}"\n'
        f'source = "{source}"\nmark = "{mark}"\n{extra}'
    )


def write(tmp_path, text: str) -> Path:
    path = tmp_path / "profiles.toml"
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path, text: str):
    return load_profiles(write(tmp_path, text))


def test_a_minimal_valid_file_loads(tmp_path):
    loaded = load_text(
        tmp_path,
        HEADER
        + PROFILE.format(code="demo")
        + rule("notification.troops", 100)
        + rule("constraint.big.period_years", 1, unit="years")
        + rule("constraint.big.max_activities", 0, unit="activities")
        + rule("constraint.big.troops", 1000),
    )
    demo = loaded["demo"]
    assert dict(demo.notification) == {"troops": 100}
    assert demo.constraints[0].max_activities == 0  # "none at all" is a valid limit
    assert demo.constraints[0].battle_tanks is None
    assert demo.sources["notification.troops"] == ("Test source", "r")
    assert demo.units["notification.troops"] == "troops"


def test_path_may_be_a_string(tmp_path):
    path = write(tmp_path, HEADER + PROFILE.format(code="demo"))
    assert list(load_profiles(str(path))) == ["demo"]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (PROFILE.format(code="demo"), "near_threshold_margin_percent"),
        (HEADER.replace("= 5", "= 100") + PROFILE.format(code="demo"), "below 100"),
        (HEADER.replace("= 5", "= -1") + PROFILE.format(code="demo"), "at least 0"),
        (HEADER.replace('"d"', '"x"') + PROFILE.format(code="demo"), "mark"),
        (HEADER.replace('"design"', '""') + PROFILE.format(code="demo"), "source"),
        (HEADER + "colour = 1\n" + PROFILE.format(code="demo"), "unknown key(s) colour"),
        (HEADER, "no [[profile]]"),
        (HEADER + PROFILE.format(code="demo") + PROFILE.format(code="demo"), "duplicate profile code 'demo'"),
        (HEADER + PROFILE.format(code="Vienna 2011"), "code must be"),
        (HEADER + PROFILE.format(code="demo").replace('name_zh = "测试"\n', ""), "name_zh"),
        (HEADER + PROFILE.format(code="demo").replace('"A test profile"', '"  "'), "description"),
        (HEADER + PROFILE.format(code="demo").replace('"all"', '"everywhere"'), "applies_to"),
        (HEADER + PROFILE.format(code="demo") + "lead_time = 42\n", "unknown key(s) lead_time"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.troops", -9000), "at least 1"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.troops", 0), "at least 1"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.troops", 9000.5), "whole number"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.troops", True), "whole number"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.troops", '"9000"'), "whole number"),
        (HEADER + PROFILE.format(code="demo") + rule("notification.warships"), "unknown rule key"),
        (HEADER + PROFILE.format(code="demo") + rule("lead_time"), "unknown rule key"),
        (HEADER + PROFILE.format(code="demo") + rule("constraint.big.ships"), "unknown rule key"),
        (
            HEADER + PROFILE.format(code="demo") + rule("lead_time_days") + rule("lead_time_days"),
            "duplicate rule",
        ),
        (HEADER + PROFILE.format(code="demo") + rule("lead_time_days", source=""), "source"),
        (HEADER + PROFILE.format(code="demo") + rule("lead_time_days", mark="V"), "mark"),
        (HEADER + PROFILE.format(code="demo") + rule("lead_time_days", unit=""), "unit"),
        (
            HEADER + PROFILE.format(code="demo") + rule("lead_time_days", extra="note = 'x'\n"),
            "unknown key(s) note",
        ),
        (HEADER + PROFILE.format(code="demo") + rule("calendar.due_month", 11), "go together"),
        (
            HEADER
            + PROFILE.format(code="demo")
            + rule("calendar.due_month", 2)
            + rule("calendar.due_day", 30),
            "not a date",
        ),
        (
            HEADER
            + PROFILE.format(code="demo")
            + rule("calendar.due_month", 13)
            + rule("calendar.due_day", 1),
            "not a date",
        ),
        (HEADER + PROFILE.format(code="demo") + rule("announce.troops", 40000), "go together"),
        (
            HEADER
            + PROFILE.format(code="demo")
            + rule("constraint.big.period_years", 3)
            + rule("constraint.big.troops"),
            "constraint 'big' needs",
        ),
        (
            HEADER
            + PROFILE.format(code="demo")
            + rule("constraint.big.period_years", 3)
            + rule("constraint.big.max_activities", 1),
            "constraint 'big' needs",
        ),
        (HEADER + "profile = 3\n", "no [[profile]]"),
        (HEADER + "this is not toml\n", "not valid TOML"),
    ],
)
def test_invalid_files_are_refused_clearly(tmp_path, text, fragment):
    with pytest.raises(ProfileError) as raised:
        load_text(tmp_path, text)
    assert fragment in str(raised.value)


def test_a_leap_day_calendar_date_is_a_date(tmp_path):
    text = HEADER + PROFILE.format(code="demo") + rule("calendar.due_month", 2) + rule("calendar.due_day", 29)
    assert load_text(tmp_path, text)["demo"].calendar_due == (2, 29)


def test_the_error_names_the_profile_and_the_rule(tmp_path):
    text = HEADER + PROFILE.format(code="vienna_x") + rule("observation.troops", -13000)
    with pytest.raises(ProfileError, match=r"profile #1 \(vienna_x\): rule 'observation.troops': value"):
        load_text(tmp_path, text)


def test_a_missing_file_is_a_profile_error(tmp_path):
    with pytest.raises(ProfileError, match="cannot read"):
        load_profiles(tmp_path / "absent.toml")


def test_every_parameter_is_accepted_in_every_group(tmp_path):
    rules = "".join(
        rule(f"{group}.{parameter}", 100)
        for group in ("notification", "observation", "observation_voluntary")
        for parameter in PARAMETERS
    )
    demo = load_text(tmp_path, HEADER + PROFILE.format(code="demo") + rules)["demo"]
    assert list(demo.notification) == list(PARAMETERS)
    assert list(demo.observation) == list(PARAMETERS)
    assert list(demo.observation_voluntary) == list(PARAMETERS)
