"""Checks of an exercise notification against the threshold profiles (DOMAIN.md section 6, rules 1-5).

Plain functions on plain data: the caller gathers the facts (from a form or a stored record) and the profiles
in force; nothing here needs the database or an app context. Every number comes from a profile; messages are
lazy strings, rendered later in the reader's language. Errors block a submission; warnings inform the
reviewer.
"""

import calendar
import dataclasses
import datetime
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from flask_babel import lazy_gettext as _l

from registry.rules.profiles import ThresholdProfile

ERROR = "error"
WARNING = "warning"
# Counts are stored as 32-bit integers (PostgreSQL `integer`); a storage limit, not a regime's threshold.
COUNT_LIMIT = 2**31

FORCE_FIELDS = (
    "troops_total",
    "battle_tanks",
    "acv",
    "artillery",
    "combat_aircraft",
    "helicopters",
    "sorties",
    "warships",
    "amphibious_airborne",
)
# Profile parameter -> the ExerciseFacts field that declares it.
PARAMETER_FIELDS = {
    "troops": "troops_total",
    "battle_tanks": "battle_tanks",
    "acv": "acv",
    "artillery": "artillery",
    "sorties": "sorties",
    "amphibious_airborne": "amphibious_airborne",
}
PARAMETER_LABELS = {
    "troops": _l("Troops"),
    "battle_tanks": _l("Battle tanks"),
    "acv": _l("Armoured combat vehicles"),
    "artillery": _l("Artillery pieces (100 mm and above)"),
    "sorties": _l("Fixed-wing sorties"),
    "amphibious_airborne": _l("Amphibious or airborne troops"),
}


class Phase(NamedTuple):
    name: str
    start: datetime.date
    end: datetime.date


class Participant(NamedTuple):
    state: str  # ISO 3166-1 alpha-2
    status_allows: bool  # the state exists and its status on the exercise dates allows taking part


class OtherActivity(NamedTuple):
    """Another submitted or accepted activity of the same state, for the constraint counters."""

    start: datetime.date
    troops: int | None
    battle_tanks: int | None


@dataclasses.dataclass(frozen=True)
class ExerciseFacts:
    conducting_state: str
    start: datetime.date
    end: datetime.date
    submitted_on: datetime.date
    is_alert: bool = False
    alert_justification: str = ""
    late_explanation: str = ""
    # Inside the 1996 zone: within 100 km of the border between China and the Joint Party.
    within_border_zone: bool = False
    border_party_states: frozenset[str] = frozenset()  # parties to the 1996 agreement (seeds/states.toml)
    troops_total: int | None = None
    troops_by_service: Mapping[str, int] = dataclasses.field(default_factory=dict)
    battle_tanks: int | None = None
    acv: int | None = None
    artillery: int | None = None
    combat_aircraft: int | None = None
    helicopters: int | None = None
    sorties: int | None = None
    warships: int | None = None
    amphibious_airborne: int | None = None
    phases: Sequence[Phase] = ()
    latitude: float | None = None
    longitude: float | None = None
    participating: Sequence[Participant] = ()
    observers_invited: bool = False
    observers_invited_on: datetime.date | None = None
    observer_places_per_state: int | None = None
    observer_places_total: int | None = None
    calendar_entry: bool = False
    not_forecast_reason: str = ""
    announced_on: datetime.date | None = None  # first announcement; the submission date if absent
    counters: Sequence[OtherActivity] = ()  # the state's other activities in the years around this one


@dataclasses.dataclass(frozen=True)
class Finding:
    code: str
    severity: str  # ERROR or WARNING
    field: str
    message: object  # a lazy string; str() it inside a request or app context
    profile: str | None = None
    params: Mapping = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class Evaluation:
    findings: list[Finding]
    lead_time_days: int
    mandatory_notification: bool
    observers_required: bool
    profiles: tuple[str, ...] = ()  # codes of the profiles that applied

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARNING]

    def codes(self) -> set[str]:
        return {f.code for f in self.findings}


def evaluate(facts: ExerciseFacts, profiles: Iterable[ThresholdProfile]) -> Evaluation:
    """All findings for one notification: consistency once, then each applicable profile."""
    findings = check_consistency(facts) + _alert_findings(facts)
    figures = declared_figures(facts)
    lead_time = (facts.start - facts.submitted_on).days
    applied = applicable_profiles(facts, profiles)
    mandatory = observers = False
    for profile in applied:
        notify = _reached(figures, profile.notification)
        required = _observer_reasons(profile, figures)
        mandatory = mandatory or bool(notify)
        observers = observers or bool(required)
        findings += _lead_time_findings(facts, profile, lead_time, notify)
        findings += _observer_findings(facts, profile, figures, required)
        findings += _near_threshold_findings(profile, figures)
        findings += _constraint_findings(facts, profile, figures)
        findings += _calendar_findings(facts, profile, notify)
    return Evaluation(findings, lead_time, mandatory, observers, tuple(p.code for p in applied))


def applicable_profiles(facts: ExerciseFacts, profiles: Iterable[ThresholdProfile]) -> list[ThresholdProfile]:
    """A border-zone profile applies only inside the zone and to an exercise of one of its parties."""
    in_zone = facts.within_border_zone and _code(facts.conducting_state) in {
        _code(s) for s in facts.border_party_states
    }
    return [p for p in profiles if p.applies_to == "all" or (p.applies_to == "border_zone" and in_zone)]


def declared_figures(facts: ExerciseFacts) -> dict[str, int]:
    """Valid declared figures per profile parameter; invalid counts are left out (they are errors already)."""
    figures = {p: getattr(facts, f) for p, f in PARAMETER_FIELDS.items() if _valid_count(getattr(facts, f))}
    # The larger of total and sum of services, so an inconsistent form cannot hide a threshold.
    components = _service_sum(facts)
    if components is not None and components > figures.get("troops", -1):
        figures["troops"] = components
    return figures


# --- rule 3: consistency (errors, independent of any profile) ---


def check_consistency(facts: ExerciseFacts) -> list[Finding]:
    return (
        _date_findings(facts)
        + _count_findings(facts)
        + _coordinate_findings(facts.latitude, facts.longitude)
        + _participant_findings(facts.participating)
    )


def _date_findings(facts: ExerciseFacts) -> list[Finding]:
    out = []
    if facts.end < facts.start:
        out.append(_error("end_before_start", "end", _l("The exercise ends before it starts.")))
    for index, phase in enumerate(facts.phases):
        params = {"index": index, "name": phase.name}
        if phase.end < phase.start:
            message = _l("Phase “%(name)s” ends before it starts.", name=phase.name)
            out.append(_error("phase_end_before_start", "phases", message, params=params))
        elif facts.start <= facts.end and (phase.start < facts.start or phase.end > facts.end):
            message = _l("Phase “%(name)s” lies outside the exercise dates.", name=phase.name)
            out.append(_error("phase_outside_exercise", "phases", message, params=params))
    return out


def _count_findings(facts: ExerciseFacts) -> list[Finding]:
    out = []
    fields = FORCE_FIELDS + ("observer_places_per_state", "observer_places_total")
    for name in fields:
        value = getattr(facts, name)
        if value is not None and not _valid_count(value):
            out.append(_count_error(name, {"value": repr(value)}))
    for service, value in facts.troops_by_service.items():
        if not _valid_count(value):
            out.append(_count_error("troops_by_service", {"service": service, "value": repr(value)}))
    total, components = facts.troops_total, _service_sum(facts)
    if _valid_count(total) and components is not None and total < components:
        message = _l(
            "The total of %(total)d troops is below the sum of the services, %(sum)d.",
            total=total,
            sum=components,
        )
        out.append(
            _error(
                "troops_total_below_components",
                "troops_total",
                message,
                params={"total": total, "sum": components},
            )
        )
    return out


def _count_error(field: str, params: dict) -> Finding:
    message = _l("Enter a whole number from 0 to %(max)d.", max=COUNT_LIMIT - 1)
    return _error("count_invalid", field, message, params=params)


def _coordinate_findings(latitude, longitude) -> list[Finding]:
    if latitude is None and longitude is None:
        return []
    if latitude is None or longitude is None:
        missing = "latitude" if latitude is None else "longitude"
        message = _l("Give both latitude and longitude, or neither.")
        return [_error("coordinates_invalid", missing, message, params={"reason": "pair"})]
    out = []
    if not _within(latitude, 90):
        message = _l("Enter a latitude from -90 to 90 degrees.")
        out.append(_error("coordinates_invalid", "latitude", message, params={"reason": "range"}))
    if not _within(longitude, 180):
        message = _l("Enter a longitude from -180 to 180 degrees.")
        out.append(_error("coordinates_invalid", "longitude", message, params={"reason": "range"}))
    return out


def _participant_findings(participating: Sequence[Participant]) -> list[Finding]:
    out = []
    seen = set()
    for state, allowed in participating:
        code = _code(state)
        if code in seen:
            message = _l("%(state)s is listed more than once.", state=code)
            out.append(_error("participant_duplicated", "participating", message, params={"state": code}))
            continue
        seen.add(code)
        if not allowed:
            message = _l(
                "%(state)s cannot take part: it is unknown or its status does not allow it.", state=code
            )
            out.append(_error("participant_not_allowed", "participating", message, params={"state": code}))
    return out


# --- rule 1: lead time and alert activities ---


def _alert_findings(facts: ExerciseFacts) -> list[Finding]:
    if facts.is_alert and not facts.alert_justification.strip():
        message = _l("Explain why this alert activity could not be notified in advance.")
        return [_error("alert_justification_missing", "alert_justification", message)]
    return []


def _lead_time_binds(facts: ExerciseFacts, profile: ThresholdProfile, notify: list) -> bool:
    # The lead time binds notifiable activities; a voluntary notification below the thresholds is never late,
    # and an alert activity is notified when it starts.
    return profile.lead_time_days is not None and not facts.is_alert and bool(notify or not profile.notification)


def due_lead_time(facts: ExerciseFacts, profiles: Iterable[ThresholdProfile]) -> int | None:
    """The largest lead time, in days, that binds this activity under the profiles that apply to it; None if
    none binds (the activity then has no due date and cannot be late)."""
    figures = declared_figures(facts)
    days = [
        p.lead_time_days
        for p in applicable_profiles(facts, profiles)
        if _lead_time_binds(facts, p, _reached(figures, p.notification))
    ]
    return max(days) if days else None


def _lead_time_findings(facts, profile: ThresholdProfile, lead_time: int, notify: list) -> list[Finding]:
    if not _lead_time_binds(facts, profile, notify) or lead_time >= profile.lead_time_days:
        return []
    params = {"lead_time_days": lead_time, "required": profile.lead_time_days}
    message = _l(
        "Notified %(days)d days before the start; at least %(required)d days are expected.",
        days=lead_time,
        required=profile.lead_time_days,
    )
    out = [_warning("late", "start", message, profile.code, params)]
    if not facts.late_explanation.strip():
        message = _l("Explain why the notification is late.")
        out.append(_error("late_explanation_missing", "late_explanation", message, profile.code, params))
    return out


# --- rule 2: thresholds and observers ---


def _reached(figures: dict[str, int], thresholds: Mapping[str, int]) -> list[tuple[str, int, int]]:
    """(parameter, declared, threshold) for each threshold reached: "9,000 troops or more"."""
    return [(p, figures[p], t) for p, t in thresholds.items() if p in figures and figures[p] >= t]


def _observer_reasons(profile: ThresholdProfile, figures: dict[str, int]) -> list[tuple[str, int, int, str]]:
    """Why observers must be invited: (parameter, declared, threshold, basis), strongest basis first."""
    troops = figures.get("troops")
    reasons = []
    for basis, level in (
        ("invite", profile.observers_invite_troops),
        ("mutual", profile.observers_mutual_troops),
    ):
        if level is not None and troops is not None and troops >= level:
            reasons.append(("troops", troops, level, basis))
    reasons += [(p, v, t, "observation") for p, v, t in _reached(figures, profile.observation)]
    return reasons


def _observer_findings(
    facts, profile: ThresholdProfile, figures: dict[str, int], required: list
) -> list[Finding]:
    out = []
    if required and not facts.observers_invited:
        parameter, value, threshold, basis = required[0]
        params = {"parameter": parameter, "value": value, "threshold": threshold, "basis": basis}
        message = _l(
            "Observers must be invited: %(parameter)s %(value)d reaches the threshold of %(threshold)d.",
            parameter=PARAMETER_LABELS[parameter],
            value=value,
            threshold=threshold,
        )
        out.append(_error("observers_not_invited", "observers_invited", message, profile.code, params))
    voluntary = _reached(figures, profile.observation_voluntary)
    if voluntary and not required and not facts.observers_invited:
        parameter, value, threshold = voluntary[0]
        params = {"parameter": parameter, "value": value, "threshold": threshold, "basis": "voluntary"}
        message = _l(
            "Observers may be invited on a voluntary basis: %(parameter)s %(value)d reaches %(threshold)d.",
            parameter=PARAMETER_LABELS[parameter],
            value=value,
            threshold=threshold,
        )
        out.append(
            _warning("observers_invitation_voluntary", "observers_invited", message, profile.code, params)
        )
    return out + _invitation_findings(facts, profile) + _place_findings(facts, profile)


def _invitation_findings(facts: ExerciseFacts, profile: ThresholdProfile) -> list[Finding]:
    if not facts.observers_invited or facts.observers_invited_on is None or profile.invitation_days is None:
        return []
    days = (facts.start - facts.observers_invited_on).days
    if days >= profile.invitation_days:
        return []
    message = _l(
        "Observers were invited %(days)d days before the exercise; the invitation is due "
        "%(required)d days before.",
        days=days,
        required=profile.invitation_days,
    )
    params = {"days": days, "required": profile.invitation_days}
    return [_warning("invitation_late", "observers_invited_on", message, profile.code, params)]


def _place_findings(facts: ExerciseFacts, profile: ThresholdProfile) -> list[Finding]:
    out = []
    per_state, total = facts.observer_places_per_state, facts.observer_places_total
    # A state can never receive more places than the whole invitation allows.
    for limit in (profile.observers_per_state, profile.observers_total):
        if limit is not None and _valid_count(per_state) and per_state > limit:
            message = _l("At most %(limit)d observers per invited state.", limit=limit)
            params = {"value": per_state, "limit": limit}
            out.append(
                _error("observer_places_exceeded", "observer_places_per_state", message, profile.code, params)
            )
            break
    limit = profile.observers_total
    if limit is not None and _valid_count(total) and total > limit:
        message = _l("At most %(limit)d observers in all.", limit=limit)
        params = {"value": total, "limit": limit}
        out.append(_error("observer_places_exceeded", "observer_places_total", message, profile.code, params))
    return out


def _near_threshold_findings(profile: ThresholdProfile, figures: dict[str, int]) -> list[Finding]:
    """Figures just below a threshold that changes a duty (notification or observers), once per threshold."""
    observer_levels = (profile.observers_mutual_troops, profile.observers_invite_troops)
    thresholds = dict.fromkeys(
        list(profile.notification.items())
        + list(profile.observation.items())
        + [("troops", t) for t in observer_levels if t is not None]
    )
    out = []
    margin = profile.near_margin_percent
    for parameter, threshold in thresholds:
        value = figures.get(parameter)
        # Integer arithmetic: 12,700 * 100 >= 13,000 * 95, with no rounding at the edge.
        if value is None or not (threshold * (100 - margin) <= value * 100 < threshold * 100):
            continue
        params = {"parameter": parameter, "value": value, "threshold": threshold, "margin_percent": margin}
        message = _l(
            "%(parameter)s declared as %(value)d, just below the threshold of %(threshold)d.",
            parameter=PARAMETER_LABELS[parameter],
            value=value,
            threshold=threshold,
        )
        out.append(_warning("near_threshold", PARAMETER_FIELDS[parameter], message, profile.code, params))
    return out


# --- rule 4: constraints ---


def _constraint_findings(
    facts: ExerciseFacts, profile: ThresholdProfile, figures: dict[str, int]
) -> list[Finding]:
    troops, tanks = figures.get("troops"), figures.get("battle_tanks")
    out = []
    for constraint in profile.constraints:
        if not _larger(constraint, troops, tanks):
            continue
        others = [o.start.year for o in facts.counters if _larger(constraint, o.troops, o.battle_tanks)]
        years = [facts.start.year, *others]
        finding = _window_finding(constraint, facts.start.year, years, profile)
        if finding:
            out.append(finding)
    return out + _two_year_findings(facts, profile, troops)


class ConstraintCount(NamedTuple):
    """A state's standing against one constraint: the most activities of its size in one window of years."""

    constraint: object  # profiles.Constraint
    count: int
    first_year: int
    last_year: int

    @property
    def exceeded(self) -> bool:
        return self.count > self.constraint.max_activities

    @property
    def at_limit(self) -> bool:
        return self.count == self.constraint.max_activities


def constraint_counts(profile: ThresholdProfile, year: int,
                      activities: Sequence[OtherActivity]) -> list[ConstraintCount]:
    """Rule 4 for a state's year as a whole (the Secretariat's dashboard): per constraint of the profile, the
    window of `period_years` years containing `year` that holds the most of the state's activities of that size.
    The same counting as the warning on a single notification (`_constraint_findings`)."""
    out = []
    for constraint in profile.constraints:
        years = [a.start.year for a in activities if _larger(constraint, a.troops, a.battle_tanks)]
        best = ConstraintCount(constraint, 0, year, year + constraint.period_years - 1)
        for first in range(year - constraint.period_years + 1, year + 1):
            last = first + constraint.period_years - 1
            count = sum(first <= y <= last for y in years)
            if count > best.count:
                best = ConstraintCount(constraint, count, first, last)
        out.append(best)
    return out


def _larger(constraint, troops, tanks) -> bool:
    """Constraints count activities of MORE than the figure ("more than 40,000 troops")."""
    return _above(troops, constraint.troops) or _above(tanks, constraint.battle_tanks)


def _window_finding(constraint, year: int, years: list[int], profile: ThresholdProfile) -> Finding | None:
    # Every window of `period_years` calendar years that contains this activity's year.
    for first in range(year - constraint.period_years + 1, year + 1):
        last = first + constraint.period_years - 1
        count = sum(first <= y <= last for y in years)
        if count > constraint.max_activities:
            span = str(first) if first == last else f"{first}-{last}"
            params = {
                "constraint": constraint.key,
                "count": count,
                "limit": constraint.max_activities,
                "period_years": constraint.period_years,
                "troops": constraint.troops,
                "battle_tanks": constraint.battle_tanks,
                "first_year": first,
                "last_year": last,
            }
            message = _l(
                "With this one, %(count)d activities of this size fall in %(span)s; "
                "at most %(limit)d are expected.",
                count=count,
                span=span,
                limit=constraint.max_activities,
            )
            return _warning("constraint_exceeded", "start", message, profile.code, params)
    return None


def _two_year_findings(facts: ExerciseFacts, profile: ThresholdProfile, troops: int | None) -> list[Finding]:
    if profile.announce_troops is None or not _above(troops, profile.announce_troops):
        return []
    deadline = _announce_deadline(facts.start, profile)
    announced = facts.announced_on or facts.submitted_on
    if announced <= deadline:
        return []
    params = {
        "threshold": profile.announce_troops,
        "years": profile.announce_years,
        "deadline": deadline.isoformat(),
        "announced_on": announced.isoformat(),
    }
    message = _l(
        "Activities of more than %(threshold)d troops are announced by %(deadline)s; "
        "this one was announced on %(announced)s.",
        threshold=profile.announce_troops,
        deadline=deadline.isoformat(),
        announced=announced.isoformat(),
    )
    return [_warning("two_year_rule", "announced_on", message, profile.code, params)]


def _announce_deadline(start: datetime.date, profile: ThresholdProfile) -> datetime.date:
    """The calendar date of the year `announce_years` before (the Vienna practice), else that many years."""
    year = start.year - profile.announce_years
    if profile.calendar_due:
        return _clamped_date(year, *profile.calendar_due)
    return _clamped_date(year, start.month, start.day)


# --- rule 5: annual calendar ---


def _calendar_findings(facts: ExerciseFacts, profile: ThresholdProfile, notify: list) -> list[Finding]:
    # Only regimes with an annual calendar; an alert activity cannot have been forecast.
    if profile.calendar_due is None or not notify or facts.is_alert or facts.calendar_entry:
        return []
    message = _l("This notifiable activity was not in the annual calendar.")
    out = [_warning("not_forecast", "calendar_entry", message, profile.code)]
    if not facts.not_forecast_reason.strip():
        message = _l("Explain why this activity was not in the annual calendar.")
        out.append(_error("not_forecast_reason_missing", "not_forecast_reason", message, profile.code))
    return out


# --- helpers ---


def _error(code: str, field: str, message, profile: str | None = None, params: dict | None = None) -> Finding:
    return Finding(code, ERROR, field, message, profile, params or {})


def _warning(code: str, field: str, message, profile: str, params: dict | None = None) -> Finding:
    return Finding(code, WARNING, field, message, profile, params or {})


def _valid_count(value) -> bool:
    # bool is an int subclass; True is not a count.
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < COUNT_LIMIT


def _service_sum(facts: ExerciseFacts) -> int | None:
    values = list(facts.troops_by_service.values())
    if not values or not all(_valid_count(v) for v in values):
        return None
    return sum(values)


def _above(value, limit: int | None) -> bool:
    return limit is not None and isinstance(value, int) and not isinstance(value, bool) and value > limit


def _within(value, limit: int) -> bool:
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return False
    return -limit <= value <= limit


def _code(state) -> str:
    return str(state or "").strip().upper()


def _clamped_date(year: int, month: int, day: int) -> datetime.date:
    # 29 February in a year without it becomes 28 February.
    return datetime.date(year, month, min(day, calendar.monthrange(year, month)[1]))
