"""Defence-ministry structure disclosures: the organisation chart of a state's defence ministry as of 1 January,
due 15 December of the year before (shared/DOMAIN.md sections 5 and 6), filed through the shared workflow.

Every edit of the tree is one function here: it takes the draft version through `editable_revision` (permission,
status and lock), changes the rows, bumps the record's lock version (another open copy of a form becomes stale)
and writes its audit entry in the same transaction. Nothing here commits.

A new disclosure starts as a copy of the state's last accepted one, keys included, so that the comparison
(registry/services/structure_compare.py) matches units and posts across years.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from registry.db import db
from registry.enums import PositionKind, RecordType, SubmissionStatus, UnitKind
from registry.i18n import _
from registry.models import MemberState, Revision, Submission
from registry.models.structure import (
    NAME_MAX,
    SHORT_MAX,
    StructureDetails,
    StructureHolder,
    StructurePosition,
    StructureUnit,
)
from registry.records import envelope_snapshot, register
from registry.services import audit
from registry.services import submissions as workflow
from registry.services.errors import ValidationFailed
from registry.services.validation import Errors, clean_text

MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_UNITS = 5000  # a ministry's senior structure is a few hundred units at most
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", re.ASCII)
GONE = (SubmissionStatus.DELETED, SubmissionStatus.WITHDRAWN, SubmissionStatus.CANCELLED)
HOLDER_FIELDS = ("name_native", "name_ru", "name_zh", "name_latin", "rank", "appointed_on", "left_on")


@dataclass
class UnitInput:
    kind: Any = None
    name_ru: Any = ""
    name_zh: Any = ""
    name_en: Any = ""
    hq_location: Any = ""


@dataclass
class PositionInput:
    kind: Any = None
    title_ru: Any = ""
    title_zh: Any = ""
    title_en: Any = ""


@dataclass
class HolderInput:
    name_native: Any = ""
    name_ru: Any = ""
    name_zh: Any = ""
    name_latin: Any = ""
    rank: Any = ""
    appointed_on: Any = None
    left_on: Any = None


# --- dates --------------------------------------------------------------------------------------------------


def as_of_for(year: int) -> date:
    """Disclosures describe the structure as of 1 January (the Vienna Document convention)."""
    return date(year, 1, 1)


def due_date_for(year: int) -> date:
    """Due on 15 December of the year before the as-of date."""
    return date(year - 1, 12, 15)


def clean_year(value) -> int:
    try:
        year = int(value)
    except (TypeError, ValueError):
        year = 0
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed({"year": [_("Enter a year from %(a)d to %(b)d.", a=MIN_YEAR, b=MAX_YEAR)]})
    return year


# --- reading ------------------------------------------------------------------------------------------------


def details_of(revision: Revision) -> StructureDetails:
    return db.session.scalar(
        select(StructureDetails).where(StructureDetails.revision_id == revision.id)
        .options(selectinload(StructureDetails.units).selectinload(StructureUnit.positions)
                 .selectinload(StructurePosition.holders))
    )


def _year_taken(state_id: int, as_of: date) -> bool:
    stmt = (
        select(Submission.id)
        .join(Revision, (Revision.submission_id == Submission.id) & (Revision.number == Submission.current_revision_no))
        .join(StructureDetails, StructureDetails.revision_id == Revision.id)
        .where(Submission.state_id == state_id, StructureDetails.as_of == as_of, Submission.status.not_in(GONE))
    )
    return db.session.scalar(stmt.limit(1)) is not None


def accepted_disclosures(stmt_base) -> list[tuple[Submission, Revision, date]]:
    """(submission, accepted revision, as-of date) of the disclosures `stmt_base` (a select of Submission) holds,
    newest as-of date first."""
    stmt = (
        stmt_base.where(Submission.record_type == RecordType.STRUCTURE, Submission.accepted_revision_no.is_not(None),
                        Submission.status.not_in(GONE))
        .join(Revision, (Revision.submission_id == Submission.id)
              & (Revision.number == Submission.accepted_revision_no))
        .join(StructureDetails, StructureDetails.revision_id == Revision.id)
        .add_columns(Revision, StructureDetails.as_of)
        .order_by(StructureDetails.as_of.desc(), Submission.id.desc())
    )
    return [(row[0], row[1], row[2]) for row in db.session.execute(stmt)]


def last_accepted(state: MemberState, before: date) -> tuple[Submission, StructureDetails] | None:
    """The state's accepted disclosure with the latest as-of date before `before`, if any."""
    for submission, revision, as_of in accepted_disclosures(select(Submission).where(Submission.state_id == state.id)):
        if as_of < before:
            return submission, details_of(revision)
    return None


# --- the snapshot: the whole disclosure as plain data --------------------------------------------------------


def _holder_dict(h: StructureHolder) -> dict[str, Any]:
    return {"name_native": h.name_native, "name_ru": h.name_ru, "name_zh": h.name_zh, "name_latin": h.name_latin,
            "rank": h.rank, "appointed_on": h.appointed_on.isoformat() if h.appointed_on else None,
            "left_on": h.left_on.isoformat() if h.left_on else None}


def snapshot_details(details: StructureDetails) -> dict[str, Any]:
    return {
        "as_of": details.as_of.isoformat(),
        "ministry": {"ru": details.ministry_name_ru, "zh": details.ministry_name_zh, "en": details.ministry_name_en,
                     "native": details.ministry_name_native},
        "units": [
            {"key": u.key, "parent": u.parent_key, "kind": u.kind.value, "name_ru": u.name_ru, "name_zh": u.name_zh,
             "name_en": u.name_en, "hq_location": u.hq_location,
             "positions": [
                 {"key": p.key, "kind": p.kind.value, "title_ru": p.title_ru, "title_zh": p.title_zh,
                  "title_en": p.title_en, "holders": [_holder_dict(h) for h in p.holders]}
                 for p in u.positions
             ]}
            for u in details.units
        ],
    }


# --- the rules (shared/DOMAIN.md section 6, rule 6) ------------------------------------------------------------


def has_names(ru: str, zh: str, latin: str) -> bool:
    return bool((ru or zh) and latin)


def cycle_keys(parents: dict[str, str | None]) -> set[str]:
    """Keys of the units that are their own ancestor (following parent keys)."""
    in_cycle: set[str] = set()
    for start in parents:
        seen: list[str] = []
        key: str | None = start
        while key is not None and key in parents and key not in seen:
            seen.append(key)
            key = parents[key]
        if key is not None and key in seen:
            in_cycle.update(seen[seen.index(key):])
    return in_cycle


def _finding(code: str, field: str, message: str) -> dict[str, Any]:
    return {"code": code, "severity": "error", "field": field, "profile": None, "params": {}, "message": message}


def check_snapshot(snap: dict[str, Any]) -> list[dict[str, Any]]:
    """Rule 6 as blocking findings: one current holder per post, appointed on or before the as-of date, left on or
    after appointed, no cycle or unknown parent in the tree, each name in Russian or Chinese plus Latin."""
    findings = []
    as_of = snap["as_of"]
    ministry = snap["ministry"]
    if not has_names(ministry["ru"], ministry["zh"], ministry["en"]):
        findings.append(_finding("structure_names", "ministry_name_ru",
                                 _("Give the ministry's name in Russian or Chinese, and in English (Latin script).")))
    units = snap["units"]
    if not units:
        findings.append(_finding("structure_empty", "units", _("Add at least the ministry itself to the chart.")))
    parents = {u["key"]: u["parent"] for u in units}
    for key in sorted(cycle_keys(parents)):
        findings.append(_finding("structure_cycle", f"unit:{key}",
                                 _("Unit %(key)s is placed under itself (a cycle in the chart).", key=key)))
    for unit in units:
        label = unit["name_en"] or unit["name_ru"] or unit["name_zh"] or unit["key"]
        field = f"unit:{unit['key']}"
        if unit["parent"] is not None and unit["parent"] not in parents:
            findings.append(_finding("structure_orphan", field, _("Unit %(unit)s is placed under a unit that is not "
                                                                   "in the chart.", unit=label)))
        if not has_names(unit["name_ru"], unit["name_zh"], unit["name_en"]):
            findings.append(_finding("structure_names", field, _("Unit %(unit)s: give its name in Russian or "
                                                                 "Chinese, and in English.", unit=label)))
        for position in unit["positions"]:
            current = [h for h in position["holders"] if h["left_on"] is None]
            if len(current) > 1:
                findings.append(_finding("structure_two_holders", field, _(
                    "Unit %(unit)s: a post has %(n)d current holders; give the left-on date of those who left.",
                    unit=label, n=len(current))))
            for holder in position["holders"]:
                who = holder["name_latin"] or holder["name_ru"] or holder["name_zh"] or holder["name_native"]
                if not has_names(holder["name_ru"], holder["name_zh"], holder["name_latin"]):
                    findings.append(_finding("structure_names", field, _(
                        "Unit %(unit)s: give the name of %(who)s in Russian or Chinese, and in Latin script.",
                        unit=label, who=who or "?")))
                appointed, left = holder["appointed_on"], holder["left_on"]
                if appointed is None:
                    findings.append(_finding("structure_appointed", field, _(
                        "Unit %(unit)s: give the date %(who)s was appointed.", unit=label, who=who)))
                elif appointed > as_of:
                    findings.append(_finding("structure_appointed", field, _(
                        "Unit %(unit)s: %(who)s was appointed after the as-of date %(date)s.", unit=label, who=who,
                        date=as_of)))
                if appointed and left and left < appointed:
                    findings.append(_finding("structure_left", field, _(
                        "Unit %(unit)s: %(who)s left before being appointed.", unit=label, who=who)))
    return findings


# --- creating a disclosure ----------------------------------------------------------------------------------


def _copy_tree(source: StructureDetails, target: StructureDetails) -> None:
    """Copy the names and the whole chart, keys included, into `target` (new and empty)."""
    target.ministry_name_ru, target.ministry_name_zh = source.ministry_name_ru, source.ministry_name_zh
    target.ministry_name_en, target.ministry_name_native = source.ministry_name_en, source.ministry_name_native
    db.session.add(target)
    db.session.flush()  # the target's id
    units, positions, holders = [], [], []
    for u in source.units:
        units.append({"key": u.key, "parent_key": u.parent_key, "sort_order": u.sort_order, "kind": u.kind,
                      "name_ru": u.name_ru, "name_zh": u.name_zh, "name_en": u.name_en, "hq_location": u.hq_location})
        for p in u.positions:
            positions.append({"unit_key": u.key, "key": p.key, "sort_order": p.sort_order, "kind": p.kind,
                              "title_ru": p.title_ru, "title_zh": p.title_zh, "title_en": p.title_en})
            holders.extend({"position_key": p.key, "sort_order": h.sort_order,
                            **{f: getattr(h, f) for f in HOLDER_FIELDS}} for h in p.holders)
    _insert_tree(target, units, positions, holders)


def _insert_tree(details: StructureDetails, units: list[dict], positions: list[dict], holders: list[dict]) -> None:
    """Insert a whole chart with three bulk INSERTs (Core, not the unit of work: a 2,000-unit import in a fraction
    of the time, shared/RELIABILITY.md finding 14). Posts name their unit and holders their post by key."""
    if units:
        db.session.execute(insert(StructureUnit), [{"details_id": details.id, **u} for u in units])
    unit_ids = dict(db.session.execute(select(StructureUnit.key, StructureUnit.id)
                                       .where(StructureUnit.details_id == details.id)).all())
    if positions:
        db.session.execute(insert(StructurePosition), [
            {"details_id": details.id, "unit_id": unit_ids[p["unit_key"]],
             **{k: v for k, v in p.items() if k != "unit_key"}} for p in positions])
    position_ids = dict(db.session.execute(select(StructurePosition.key, StructurePosition.id)
                                           .where(StructurePosition.details_id == details.id)).all())
    if holders:
        db.session.execute(insert(StructureHolder), [
            {"position_id": position_ids[h["position_key"]], **{k: v for k, v in h.items() if k != "position_key"}}
            for h in holders])
    db.session.expire(details, ["units"])


def _delete_tree(details: StructureDetails) -> None:
    positions = select(StructurePosition.id).where(StructurePosition.details_id == details.id)
    db.session.execute(delete(StructureHolder).where(StructureHolder.position_id.in_(positions)))
    db.session.execute(delete(StructurePosition).where(StructurePosition.details_id == details.id))
    db.session.execute(delete(StructureUnit).where(StructureUnit.details_id == details.id))
    db.session.expire(details, ["units"])


def create_structure(actor, state: MemberState, year, *, visibility="members", language="ru", source_document=None,
                     idempotency_key=None) -> Submission:
    """A new draft disclosure as of 1 January of `year`, starting as a copy of the state's last accepted one."""
    existing = workflow.previously_created(actor, idempotency_key)
    if existing is not None:
        return existing
    year = clean_year(year)
    as_of = as_of_for(year)
    if _year_taken(state.id, as_of):
        raise ValidationFailed({"year": [_("Your state already has a disclosure as of %(date)s: amend that one.",
                                           date=as_of.isoformat())]})
    submission = workflow.create_submission(actor, RecordType.STRUCTURE, state, visibility=visibility,
                                            language=language, source_document=source_document,
                                            idempotency_key=idempotency_key)
    submission.due_date = due_date_for(year)
    details = StructureDetails(revision_id=submission.current_revision.id, as_of=as_of)
    previous = last_accepted(state, as_of)
    if previous is not None:
        _copy_tree(previous[1], details)
    else:
        db.session.add(details)
    db.session.flush()
    audit.record("structure.save_draft", actor=actor, object_type="structure", object_id=submission.reference,
                 state_code=state.code,
                 changes={"as_of": [None, as_of.isoformat()],
                          "copied_from": [None, previous[0].reference if previous else None],
                          "units": [None, len(details.units)]})
    return submission


# --- editing: every function takes the draft through the workflow and audits its change ----------------------


def _begin(actor, submission: Submission, expected_lock) -> StructureDetails:
    return details_of(workflow.editable_revision(actor, submission, expected_lock))


def _finish(actor, submission: Submission, action: str, changes: dict) -> None:
    flag_modified(submission, "visibility")  # bumps the lock version: other open copies of a form become stale
    with workflow.stale_as_conflict():
        db.session.flush()
    audit.record(f"structure.{action}", actor=actor, object_type="structure", object_id=submission.reference,
                 state_code=submission.state.code, changes=changes)


def _clean_enum(errors: Errors, field: str, enum_cls, value):
    try:
        return enum_cls(value)
    except ValueError:
        errors.add(field, _("Choose a value from the list."))
        return None


def _clean_date(errors: Errors, field: str, value, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            errors.add(field, _("This field is required."))
        return None
    if not isinstance(value, date):
        errors.add(field, _("Enter a date as YYYY-MM-DD."))
        return None
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        errors.add(field, _("Enter a date from %(a)d to %(b)d.", a=MIN_YEAR, b=MAX_YEAR))
        return None
    return value


def _clean_unit(data: UnitInput) -> dict[str, Any]:
    errors = Errors()
    cleaned = {"kind": _clean_enum(errors, "kind", UnitKind, data.kind)}
    for name in ("name_ru", "name_zh", "name_en"):
        cleaned[name] = clean_text(errors, name, getattr(data, name), max_length=NAME_MAX, required=False)
    cleaned["hq_location"] = clean_text(errors, "hq_location", data.hq_location, max_length=SHORT_MAX, required=False)
    if not any(cleaned[n] for n in ("name_ru", "name_zh", "name_en")) and "name_ru" not in errors.by_field:
        errors.add("name_ru", _("Give the unit's name."))
    errors.raise_if_any()
    return cleaned


def _clean_position(data: PositionInput) -> dict[str, Any]:
    errors = Errors()
    cleaned = {"kind": _clean_enum(errors, "kind", PositionKind, data.kind)}
    for name in ("title_ru", "title_zh", "title_en"):
        cleaned[name] = clean_text(errors, name, getattr(data, name), max_length=NAME_MAX, required=False)
    errors.raise_if_any()
    return cleaned


def _clean_holder(data: HolderInput) -> dict[str, Any]:
    errors = Errors()
    cleaned: dict[str, Any] = {}
    for name in ("name_native", "name_ru", "name_zh", "name_latin"):
        cleaned[name] = clean_text(errors, name, getattr(data, name), max_length=NAME_MAX, required=False)
    if not any(cleaned.values()) and not errors.by_field:
        errors.add("name_latin", _("Give the holder's name."))
    cleaned["rank"] = clean_text(errors, "rank", data.rank, max_length=SHORT_MAX, required=False)
    cleaned["appointed_on"] = _clean_date(errors, "appointed_on", data.appointed_on, required=True)
    cleaned["left_on"] = _clean_date(errors, "left_on", data.left_on, required=False)
    if cleaned["appointed_on"] and cleaned["left_on"] and cleaned["left_on"] < cleaned["appointed_on"]:
        errors.add("left_on", _("The date left cannot be before the date appointed."))
    errors.raise_if_any()
    return cleaned


def _unit(details: StructureDetails, key) -> StructureUnit:
    unit = next((u for u in details.units if u.key == key), None)
    if unit is None:
        raise ValidationFailed({"unit": [_("This unit is no longer in the chart. Reload the page.")]})
    return unit


def _position(details: StructureDetails, key) -> StructurePosition:
    for unit in details.units:
        for position in unit.positions:
            if position.key == key:
                return position
    raise ValidationFailed({"position": [_("This post is no longer in the chart. Reload the page.")]})


def _holder(details: StructureDetails, holder_id) -> StructureHolder:
    for unit in details.units:
        for position in unit.positions:
            for holder in position.holders:
                if str(holder.id) == str(holder_id):
                    return holder
    raise ValidationFailed({"holder": [_("This holder is no longer listed. Reload the page.")]})


def _new_key(taken: Iterable[str], prefix: str) -> str:
    numbers = [int(k[len(prefix):]) for k in taken if k.startswith(prefix) and k[len(prefix):].isdigit()]
    return f"{prefix}{max(numbers, default=0) + 1}"


def descendants(details: StructureDetails, key: str) -> set[str]:
    children: dict[str | None, list[str]] = {}
    for unit in details.units:
        children.setdefault(unit.parent_key, []).append(unit.key)
    found: set[str] = set()
    stack = [key]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def _check_parent(details: StructureDetails, key: str | None, parent_key: str | None) -> None:
    if parent_key in (None, ""):
        return
    if not any(u.key == parent_key for u in details.units):
        raise ValidationFailed({"parent_key": [_("Choose a unit from the list.")]})
    if key is not None and (parent_key == key or parent_key in descendants(details, key)):
        raise ValidationFailed({"parent_key": [_("A unit cannot be placed under itself or one of its own units.")]})


def update_disclosure(actor, submission: Submission, *, ministry_name_ru="", ministry_name_zh="",
                      ministry_name_en="", ministry_name_native="", visibility=None, expected_lock=None) -> None:
    details = _begin(actor, submission, expected_lock)
    errors = Errors()
    names = {name: clean_text(errors, name, value, max_length=NAME_MAX, required=False) for name, value in (
        ("ministry_name_ru", ministry_name_ru), ("ministry_name_zh", ministry_name_zh),
        ("ministry_name_en", ministry_name_en), ("ministry_name_native", ministry_name_native))}
    errors.raise_if_any()
    before = {name: getattr(details, name) for name in names} | {"visibility": submission.visibility.value}
    for name, value in names.items():
        setattr(details, name, value)
    if visibility is not None:
        submission.visibility = workflow.clean_visibility(visibility)
    after = {name: getattr(details, name) for name in names} | {"visibility": submission.visibility.value}
    _finish(actor, submission, "save_draft", audit.diff(before, after))


def add_unit(actor, submission: Submission, parent_key: str | None, data: UnitInput, *,
             expected_lock=None) -> StructureUnit:
    details = _begin(actor, submission, expected_lock)
    cleaned = _clean_unit(data)
    _check_parent(details, None, parent_key)
    if len(details.units) >= MAX_UNITS:
        raise ValidationFailed({"": [_("A chart can hold at most %(n)d units.", n=MAX_UNITS)]})
    unit = StructureUnit(key=_new_key((u.key for u in details.units), "U"), parent_key=parent_key or None,
                         sort_order=max((u.sort_order for u in details.units), default=0) + 1, **cleaned)
    details.units.append(unit)
    _finish(actor, submission, "add_unit", {"unit": [None, unit.key], "parent": [None, unit.parent_key],
                                            "name": [None, unit.name_en or unit.name_ru or unit.name_zh]})
    return unit


def update_unit(actor, submission: Submission, key: str, data: UnitInput, *, expected_lock=None) -> StructureUnit:
    details = _begin(actor, submission, expected_lock)
    unit = _unit(details, key)
    cleaned = _clean_unit(data)
    before = audit.snapshot(unit, list(cleaned))
    for name, value in cleaned.items():
        setattr(unit, name, value)
    after = audit.snapshot(unit, list(cleaned))
    _finish(actor, submission, "update_unit", {"unit": [key, key], **audit.diff(before, after)})
    return unit


def move_unit(actor, submission: Submission, key: str, new_parent_key: str | None, *,
              expected_lock=None) -> StructureUnit:
    details = _begin(actor, submission, expected_lock)
    unit = _unit(details, key)
    _check_parent(details, key, new_parent_key)
    old = unit.parent_key
    unit.parent_key = new_parent_key or None
    unit.sort_order = max((u.sort_order for u in details.units), default=0) + 1  # last among its new siblings
    _finish(actor, submission, "move_unit", {"unit": [key, key], "parent": [old, unit.parent_key]})
    return unit


def remove_unit(actor, submission: Submission, key: str, *, cascade: bool = False, expected_lock=None) -> int:
    """Remove a unit; one with units or posts under it only when `cascade` is asked for. Returns how many units
    were removed."""
    details = _begin(actor, submission, expected_lock)
    unit = _unit(details, key)
    below = descendants(details, key)
    if (below or unit.positions) and not cascade:
        raise ValidationFailed({"cascade": [_(
            "This unit has %(units)d unit(s) and %(posts)d post(s) under it. Tick \"also remove everything under "
            "it\" to remove them all, or move them elsewhere first.", units=len(below), posts=len(unit.positions)
            + sum(len(u.positions) for u in details.units if u.key in below))]})
    gone = below | {key}
    details.units = [u for u in details.units if u.key not in gone]
    _finish(actor, submission, "remove_unit", {"unit": [key, None], "units_removed": [None, sorted(gone)]})
    return len(gone)


def add_position(actor, submission: Submission, unit_key: str, data: PositionInput, *,
                 expected_lock=None) -> StructurePosition:
    details = _begin(actor, submission, expected_lock)
    unit = _unit(details, unit_key)
    cleaned = _clean_position(data)
    position = StructurePosition(details_id=details.id, key=_new_key(
        (p.key for u in details.units for p in u.positions), "P"),
        sort_order=max((p.sort_order for p in unit.positions), default=0) + 1, **cleaned)
    unit.positions.append(position)
    _finish(actor, submission, "add_position", {"position": [None, position.key], "unit": [None, unit_key],
                                                "kind": [None, position.kind.value]})
    return position


def update_position(actor, submission: Submission, key: str, data: PositionInput, *, unit_key: str | None = None,
                    expected_lock=None) -> StructurePosition:
    """Rename a post or change its kind; with `unit_key`, move it to that unit."""
    details = _begin(actor, submission, expected_lock)
    position = _position(details, key)
    cleaned = _clean_position(data)
    before = audit.snapshot(position, list(cleaned)) | {"unit": position.unit.key}
    if unit_key and unit_key != position.unit.key:
        target = next((u for u in details.units if u.key == unit_key), None)
        if target is None:
            raise ValidationFailed({"unit_key": [_("Choose a unit from the list.")]})
        position.unit.positions.remove(position)
        target.positions.append(position)
        position.details_id = details.id
    for name, value in cleaned.items():
        setattr(position, name, value)
    after = audit.snapshot(position, list(cleaned)) | {"unit": position.unit.key}
    _finish(actor, submission, "update_position", {"position": [key, key], **audit.diff(before, after)})
    return position


def remove_position(actor, submission: Submission, key: str, *, expected_lock=None) -> None:
    details = _begin(actor, submission, expected_lock)
    position = _position(details, key)
    unit = position.unit
    unit.positions.remove(position)
    _finish(actor, submission, "remove_position", {"position": [key, None], "unit": [unit.key, None],
                                                   "holders_removed": [None, len(position.holders)]})


def add_holder(actor, submission: Submission, position_key: str, data: HolderInput, *, replaces_current=False,
               expected_lock=None) -> StructureHolder:
    """A new holder of a post; with `replaces_current`, the current holder(s) left on the new one's appointment."""
    details = _begin(actor, submission, expected_lock)
    position = _position(details, position_key)
    cleaned = _clean_holder(data)
    ended = []
    if replaces_current:
        for holder in position.holders:
            if holder.left_on is None:
                if holder.appointed_on and holder.appointed_on > cleaned["appointed_on"]:
                    raise ValidationFailed({"appointed_on": [_(
                        "The current holder was appointed after this date; check the date appointed.")]})
                holder.left_on = cleaned["appointed_on"]
                ended.append(holder.name_latin or holder.name_ru or holder.name_zh)
    holder = StructureHolder(sort_order=max((h.sort_order for h in position.holders), default=0) + 1, **cleaned)
    position.holders.append(holder)
    _finish(actor, submission, "add_holder", {"position": [None, position_key], "holder": [None, _holder_dict(holder)],
                                              "replaced": [None, ended]})
    return holder


def update_holder(actor, submission: Submission, holder_id, data: HolderInput, *,
                  expected_lock=None) -> StructureHolder:
    details = _begin(actor, submission, expected_lock)
    holder = _holder(details, holder_id)
    cleaned = _clean_holder(data)
    before = _holder_dict(holder)
    for name, value in cleaned.items():
        setattr(holder, name, value)
    _finish(actor, submission, "update_holder", {"position": [holder.position.key, holder.position.key],
                                                 **audit.diff(before, _holder_dict(holder))})
    return holder


def remove_holder(actor, submission: Submission, holder_id, *, expected_lock=None) -> None:
    details = _begin(actor, submission, expected_lock)
    holder = _holder(details, holder_id)
    position = holder.position
    position.holders.remove(holder)
    _finish(actor, submission, "remove_holder", {"position": [position.key, position.key],
                                                 "holder": [_holder_dict(holder), None]})


def replace_tree(actor, submission: Submission, parsed, *, expected_lock=None, filename: str = "") -> None:
    """Replace the draft's whole chart with an imported one (registry/services/structure_import.py validated it)."""
    details = _begin(actor, submission, expected_lock)
    before = len(details.units)
    db.session.flush()
    # The rows go below, with Core statements; the session forgets the old objects. Leaves first, and only those
    # still in the session: expunging a unit cascades to its posts and holders (a copied tree has all three).
    for unit in details.units:
        for position in unit.positions:
            for holder in position.holders:
                if holder in db.session:
                    db.session.expunge(holder)
            if position in db.session:
                db.session.expunge(position)
        if unit in db.session:
            db.session.expunge(unit)
    _delete_tree(details)
    if parsed.ministry:
        for name, value in parsed.ministry.items():
            setattr(details, f"ministry_name_{name}", value)
    units = [{"key": row["key"], "parent_key": row["parent"], "sort_order": order, "kind": row["kind"],
              "name_ru": row["name_ru"], "name_zh": row["name_zh"], "name_en": row["name_en"],
              "hq_location": row["hq_location"]} for order, row in enumerate(parsed.units, 1)]
    positions = [{"unit_key": row["unit"], "key": row["key"], "sort_order": order, "kind": row["kind"],
                  "title_ru": row["title_ru"], "title_zh": row["title_zh"], "title_en": row["title_en"]}
                 for order, row in enumerate(parsed.positions, 1)]
    holders = [{"position_key": row["position"], "sort_order": order, **{f: row[f] for f in HOLDER_FIELDS}}
               for order, row in enumerate(parsed.holders, 1)]
    _insert_tree(details, units, positions, holders)
    _finish(actor, submission, "import", {"file": [None, filename[:100]], "units": [before, len(parsed.units)],
                                          "positions": [None, len(parsed.positions)],
                                          "holders": [None, len(parsed.holders)]})


# --- the record adapter -------------------------------------------------------------------------------------


class StructureAdapter:
    def copy_details(self, source: Revision, target: Revision) -> None:
        old = details_of(source)
        new = StructureDetails(revision_id=target.id, as_of=old.as_of)
        _copy_tree(old, new)

    def snapshot(self, submission: Submission, revision: Revision) -> dict[str, Any]:
        return {"envelope": envelope_snapshot(submission), "structure": snapshot_details(details_of(revision))}

    def check(self, submission: Submission, revision: Revision) -> list[dict]:
        return check_snapshot(snapshot_details(details_of(revision)))


register(RecordType.STRUCTURE, StructureAdapter())
