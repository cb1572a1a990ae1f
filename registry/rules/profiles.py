"""Threshold profiles: the numbers of each regime, read from seeds/threshold_profiles.toml.

No number lives in code: every figure comes from the reviewed data file with its source and mark, so a
recalled number ([r]) can be corrected without a release. Loading refuses anything it does not understand
rather than guessing, because a silently ignored typo would switch a rule off.
"""

import datetime
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "seeds" / "threshold_profiles.toml"

# Figures an exercise notification declares that a threshold may refer to.
PARAMETERS = ("troops", "battle_tanks", "acv", "artillery", "sorties", "amphibious_airborne")
MARKS = ("v", "s", "r", "d")
APPLIES_TO = ("all", "border_zone")
LANGUAGES = ("en", "ru", "zh")
MARGIN_KEY = "near_threshold_margin_percent"

# Rule keys holding one number, and the ThresholdProfile field each fills.
_SCALAR_FIELDS = {
    "lead_time_days": "lead_time_days",
    "observers.invite_troops": "observers_invite_troops",
    "observers.mutual_troops": "observers_mutual_troops",
    "observers.per_state": "observers_per_state",
    "observers.total": "observers_total",
    "observers.invitation_days": "invitation_days",
    "observers.answer_days": "invitation_answer_days",
    "announce.troops": "announce_troops",
    "announce.years": "announce_years",
    "inquiry.answer_days": "inquiry_days",
    "inquiry.emergency_days": "inquiry_emergency_days",
    "zone.width_km": "zone_width_km",
    "visits.invitation_days": "visit_invitation_days",
    "visits.air_base_years": "visit_air_base_years",
}
# Rule keys "<group>.<parameter>", collected into one mapping per group.
_GROUPS = ("notification", "observation", "observation_voluntary")
_CALENDAR_KEYS = ("calendar.due_month", "calendar.due_day")
_CONSTRAINT_FIELDS = ("period_years", "max_activities", "troops", "battle_tanks")
_CONSTRAINT_KEY = re.compile(r"^constraint\.([a-z][a-z0-9_]*)\.([a-z_]+)$")
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
_RULE_FIELDS = {"key", "value", "unit", "source", "mark"}
_PROFILE_FIELDS = ({"code", "description", "applies_to", "rule"} | {f"name_{lang}" for lang in LANGUAGES}
                   | {"description_ru", "description_zh"})
_TOP_FIELDS = {MARGIN_KEY, "near_threshold_margin_source", "near_threshold_margin_mark", "profile"}


class ProfileError(ValueError):
    """The profiles file is missing, unreadable or holds a value the rules cannot use."""


@dataclass(frozen=True)
class Constraint:
    """At most `max_activities` activities above `troops` or `battle_tanks` within `period_years` years."""

    key: str
    period_years: int
    max_activities: int
    troops: int | None
    battle_tanks: int | None


@dataclass(frozen=True)
class ThresholdProfile:
    code: str
    names: Mapping[str, str]
    description: str  # English
    descriptions: Mapping[str, str]  # by language: en, ru, zh (falling back to English)
    applies_to: str
    lead_time_days: int | None
    notification: Mapping[str, int]
    observation: Mapping[str, int]
    # 1996 art. 6: the conducting party invites (35,000) / the parties invite each other (25,000).
    observers_invite_troops: int | None
    observers_mutual_troops: int | None
    observation_voluntary: Mapping[str, int]
    observers_per_state: int | None
    observers_total: int | None
    invitation_days: int | None
    invitation_answer_days: int | None
    constraints: tuple[Constraint, ...]
    announce_troops: int | None
    announce_years: int | None
    calendar_due: tuple[int, int] | None
    inquiry_days: int | None
    inquiry_emergency_days: int | None
    zone_width_km: int | None
    visit_invitation_days: int | None
    visit_air_base_years: int | None
    near_margin_percent: int
    sources: Mapping[str, tuple[str, str]]  # rule key -> (source, mark)
    units: Mapping[str, str]  # rule key -> unit
    values: Mapping[str, int]  # rule key -> the number as written in the file

    @property
    def has_thresholds(self) -> bool:
        return bool(self.sources.keys() - {MARGIN_KEY})

    def observers_mandatory_troops(self) -> int | None:
        """The lowest troop figure at which observers must be invited under art. 6-style rules."""
        levels = [n for n in (self.observers_invite_troops, self.observers_mutual_troops) if n is not None]
        return min(levels) if levels else None


def load_profiles(path: Path | str | None = None) -> dict[str, ThresholdProfile]:
    """Read and validate the profiles file; profiles keep the order of the file."""
    path = Path(path) if path is not None else DEFAULT_PATH
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ProfileError(f"{path}: cannot read the threshold profiles ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from exc
    return _parse_file(data, str(path))


def _parse_file(data: dict, where: str) -> dict[str, ThresholdProfile]:
    _refuse_unknown(data, _TOP_FIELDS, where)
    margin = _number(data.get(MARGIN_KEY), f"{where}: {MARGIN_KEY}", minimum=0)
    if margin >= 100:
        raise ProfileError(f"{where}: {MARGIN_KEY} must be below 100, not {margin}")
    margin_source = _source_and_mark(
        data.get("near_threshold_margin_source"),
        data.get("near_threshold_margin_mark"),
        f"{where}: {MARGIN_KEY}",
    )
    tables = data.get("profile")
    if not isinstance(tables, list) or not tables:
        raise ProfileError(f"{where}: no [[profile]] tables")
    profiles: dict[str, ThresholdProfile] = {}
    for index, table in enumerate(tables):
        profile = _parse_profile(table, f"{where}: profile #{index + 1}", margin, margin_source)
        if profile.code in profiles:
            raise ProfileError(f"{where}: duplicate profile code {profile.code!r}")
        profiles[profile.code] = profile
    return profiles


def _parse_profile(table, where: str, margin: int, margin_source: tuple[str, str]) -> ThresholdProfile:
    if not isinstance(table, dict):
        raise ProfileError(f"{where}: must be a table")
    code = table.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise ProfileError(f"{where}: code must be lower-case letters, digits and '_', not {code!r}")
    where = f"{where} ({code})"
    _refuse_unknown(table, _PROFILE_FIELDS, where)
    names = {lang: _text(table.get(f"name_{lang}"), f"{where}: name_{lang}") for lang in LANGUAGES}
    description = _text(table.get("description"), f"{where}: description")
    descriptions = {"en": description} | {
        lang: _text(table[f"description_{lang}"], f"{where}: description_{lang}")
        for lang in ("ru", "zh") if f"description_{lang}" in table}
    applies_to = table.get("applies_to")
    if applies_to not in APPLIES_TO:
        raise ProfileError(f"{where}: applies_to must be one of {', '.join(APPLIES_TO)}, not {applies_to!r}")
    values, sources, units = _parse_rules(table.get("rule", []), where)
    _check_pairs(values, where)
    sources[MARGIN_KEY] = margin_source
    return ThresholdProfile(
        code=code,
        names=MappingProxyType(names),
        description=description,
        descriptions=MappingProxyType(descriptions),
        applies_to=applies_to,
        **{name: values.get(key) for key, name in _SCALAR_FIELDS.items()},
        **{group: _group(values, group) for group in _GROUPS},
        constraints=_constraints(values, where),
        calendar_due=_calendar_due(values, where),
        near_margin_percent=margin,
        sources=MappingProxyType(sources),
        units=MappingProxyType(units),
        values=MappingProxyType(values | {MARGIN_KEY: margin}),
    )


def _parse_rules(rules, where: str) -> tuple[dict[str, int], dict[str, tuple[str, str]], dict[str, str]]:
    if not isinstance(rules, list):
        raise ProfileError(f"{where}: rule must be a list of [[profile.rule]] tables")
    values: dict[str, int] = {}
    sources: dict[str, tuple[str, str]] = {}
    units: dict[str, str] = {}
    for index, rule in enumerate(rules):
        if not isinstance(rule, dict):
            raise ProfileError(f"{where}: rule #{index + 1} must be a table")
        key = rule.get("key")
        at = f"{where}: rule {key!r}" if isinstance(key, str) else f"{where}: rule #{index + 1}"
        _refuse_unknown(rule, _RULE_FIELDS, at)
        if not _known_key(key):
            raise ProfileError(f"{at}: unknown rule key")
        if key in values:
            raise ProfileError(f"{at}: duplicate rule key")
        minimum = 0 if key.endswith(".max_activities") else 1
        values[key] = _number(rule.get("value"), f"{at}: value", minimum=minimum)
        units[key] = _text(rule.get("unit"), f"{at}: unit")
        sources[key] = _source_and_mark(rule.get("source"), rule.get("mark"), at)
    return values, sources, units


def _known_key(key) -> bool:
    if not isinstance(key, str):
        return False
    if key in _SCALAR_FIELDS or key in _CALENDAR_KEYS:
        return True
    group, _, parameter = key.partition(".")
    if group in _GROUPS:
        return parameter in PARAMETERS
    match = _CONSTRAINT_KEY.match(key)
    return bool(match) and match.group(2) in _CONSTRAINT_FIELDS


def _check_pairs(values: dict[str, int], where: str) -> None:
    # Half a pair would make a rule silently do nothing.
    if ("announce.troops" in values) != ("announce.years" in values):
        raise ProfileError(f"{where}: announce.troops and announce.years go together")


def _group(values: dict[str, int], group: str) -> Mapping[str, int]:
    prefix = f"{group}."
    found = {key.removeprefix(prefix): value for key, value in values.items() if key.startswith(prefix)}
    # Keep the order of PARAMETERS so findings come out in a stable order.
    return MappingProxyType({p: found[p] for p in PARAMETERS if p in found})


def _constraints(values: dict[str, int], where: str) -> tuple[Constraint, ...]:
    fields: dict[str, dict[str, int]] = {}
    for key, value in values.items():
        match = _CONSTRAINT_KEY.match(key)
        if match:
            fields.setdefault(match.group(1), {})[match.group(2)] = value
    constraints = []
    for name, found in fields.items():
        missing = [f for f in ("period_years", "max_activities") if f not in found]
        if missing or ("troops" not in found and "battle_tanks" not in found):
            raise ProfileError(
                f"{where}: constraint {name!r} needs period_years, max_activities and troops or battle_tanks"
            )
        constraints.append(
            Constraint(
                name,
                found["period_years"],
                found["max_activities"],
                found.get("troops"),
                found.get("battle_tanks"),
            )
        )
    return tuple(constraints)


def _calendar_due(values: dict[str, int], where: str) -> tuple[int, int] | None:
    month, day = (values.get(key) for key in _CALENDAR_KEYS)
    if month is None and day is None:
        return None
    if month is None or day is None:
        raise ProfileError(f"{where}: calendar.due_month and calendar.due_day go together")
    try:
        datetime.date(2000, month, day)  # a leap year, so 29 February is accepted
    except ValueError as exc:
        raise ProfileError(f"{where}: calendar due date {month}-{day} is not a date") from exc
    return (month, day)


def _refuse_unknown(table: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(unknown)}")


def _number(value, where: str, *, minimum: int) -> int:
    # bool is an int subclass in Python; `true` in the file is a typo, not 1.
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProfileError(f"{where}: must be a whole number, not {value!r}")
    if value < minimum:
        raise ProfileError(f"{where}: must be at least {minimum}, not {value}")
    return value


def _text(value, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ProfileError(f"{where}: must be a non-empty text")
    return value.strip()


def _source_and_mark(source, mark, where: str) -> tuple[str, str]:
    source = _text(source, f"{where}: source")
    if mark not in MARKS:
        raise ProfileError(f"{where}: mark must be one of {', '.join(MARKS)}, not {mark!r}")
    return (source, mark)
