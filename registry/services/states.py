"""Member states: loading the reviewed seed file, and recording a change of status."""

import tomllib
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from registry.db import db
from registry.enums import BorderParty, StateStatus
from registry.i18n import _
from registry.models import MemberState, StatusPeriod
from registry.services import audit
from registry.services.permissions import require
from registry.services.validation import Errors, clean_text

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"
STATE_FIELDS = ["code", "iso3", "name_en", "name_ru", "name_zh", "border_party"]


class SeedError(ValueError):
    pass


def read_state_seeds(path: Path | None = None) -> list[dict]:
    """Parse and check the seed file; a mistake in it is reported, never half-loaded."""
    path = path or SEEDS_DIR / "states.toml"
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    states = data.get("state", [])
    codes = set()
    for entry in states:
        code = entry.get("code", "")
        if len(code) != 2 or not code.isascii() or not code.isupper() or code in codes:
            raise SeedError(f"bad or duplicate state code {code!r}")
        codes.add(code)
        for key in ("iso3", "name_en", "name_ru", "name_zh"):
            if not entry.get(key):
                raise SeedError(f"{code}: {key} is missing")
        if entry.get("border_party") is not None:
            BorderParty(entry["border_party"])
        periods = entry.get("status", [])
        if not periods:
            raise SeedError(f"{code}: no status period")
        open_ended = [p for p in periods if p.get("to") is None]
        if len(open_ended) != 1:
            raise SeedError(f"{code}: exactly one status period must be open-ended")
        for period in periods:
            StateStatus(period["status"])
            if not isinstance(period["from"], date):
                raise SeedError(f"{code}: 'from' must be a date")
            if period.get("to") is not None and period["to"] <= period["from"]:
                raise SeedError(f"{code}: a period ends before it starts")
    return states


def load_state_seeds(path: Path | None = None) -> dict[str, int]:
    """Insert or update states and their status history from the seed file. Idempotent.

    Returns counts of created and updated states; a second run reports zero of both and writes
    no audit entry.
    """
    created = updated = 0
    with_history = select(MemberState).options(selectinload(MemberState.status_periods))
    existing = {s.code: s for s in db.session.scalars(with_history)}
    for entry in read_state_seeds(path):
        state = existing.get(entry["code"])
        values = {key: entry.get(key) for key in STATE_FIELDS}
        values["border_party"] = BorderParty(values["border_party"]) if values["border_party"] else None
        wanted_periods = [
            (StateStatus(p["status"]), p["from"], p.get("to"), p.get("source", "")) for p in entry["status"]
        ]
        if state is None:
            state = MemberState(**values)
            db.session.add(state)
            before: dict = {}
            created += 1
        else:
            before = _state_snapshot(state)
            for key, value in values.items():
                setattr(state, key, value)
        have_periods = [(p.status, p.valid_from, p.valid_to, p.source) for p in state.status_periods]
        if sorted(have_periods) != sorted(wanted_periods):
            state.status_periods.clear()
            db.session.flush()
            for status, start, end, source in wanted_periods:
                state.status_periods.append(StatusPeriod(status=status, valid_from=start, valid_to=end, source=source))
        db.session.flush()
        after = _state_snapshot(state)
        changes = audit.diff(before, after)
        if changes:
            if before:
                updated += 1
            audit.record("state.seed", actor_label="seed", object_type="member_state", object_id=state.code,
                         state_code=state.code, changes=changes)
    return {"created": created, "updated": updated}


def _state_snapshot(state: MemberState) -> dict:
    snap = audit.snapshot(state, STATE_FIELDS)
    snap["status_history"] = [
        [p.status.value, p.valid_from.isoformat(), p.valid_to.isoformat() if p.valid_to else None]
        for p in sorted(state.status_periods, key=lambda p: p.valid_from)
    ]
    return snap


def change_status(actor, state: MemberState, *, status, valid_from, source) -> StatusPeriod:
    """Record that a state's status changes on a date: the current period ends, a new one begins."""
    require(actor, "state.change_status", state)
    errors = Errors()
    try:
        status = StateStatus(status)
    except ValueError:
        errors.add("status", _("Choose a status from the list."))
    source = clean_text(errors, "source", source, max_length=300)
    current = state.current_period
    if not isinstance(valid_from, date):
        errors.add("valid_from", _("Enter a date."))
    elif current is not None and valid_from <= current.valid_from:
        errors.add("valid_from", _("The new status must start after the current one (%(day)s).",
                                   day=current.valid_from.isoformat()))
    if current is not None and "status" not in errors.by_field and status == current.status:
        errors.add("status", _("The state already has this status."))
    errors.raise_if_any()

    before = _state_snapshot(state)
    if current is not None:
        current.valid_to = valid_from
    period = StatusPeriod(status=status, valid_from=valid_from, valid_to=None, source=source)
    state.status_periods.append(period)
    db.session.flush()
    audit.record("state.change_status", actor=actor, object_type="member_state", object_id=state.code,
                 state_code=state.code, changes=audit.diff(before, _state_snapshot(state)))
    return period

