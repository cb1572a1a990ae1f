"""What changed between two structure disclosures: units and posts added, removed, moved, renamed, and
holders changed, matched by their stable keys (a new disclosure starts as a copy of the last one, keys included).

Works on snapshots (plain data), so a frozen version and a draft compare the same way.
"""

from dataclasses import dataclass
from typing import Any

from registry.enums import PositionKind, UnitKind
from registry.i18n import _

UNIT_NAMES = ("name_ru", "name_zh", "name_en")
TITLES = ("title_ru", "title_zh", "title_en")


@dataclass(frozen=True)
class Change:
    kind: str  # unit_added, unit_removed, unit_moved, unit_renamed, unit_changed, position_added, ...
    key: str  # the unit's or post's key
    unit_key: str  # the unit to highlight on the chart
    text: str


def unit_label(unit: dict[str, Any], locale: str = "en") -> str:
    order = {"ru": ("name_ru", "name_zh", "name_en"), "zh": ("name_zh", "name_ru", "name_en")}.get(
        locale, ("name_en", "name_ru", "name_zh"))
    return next((unit[n] for n in order if unit.get(n)), unit["key"])


def position_label(position: dict[str, Any], locale: str = "en") -> str:
    order = {"ru": ("title_ru", "title_zh", "title_en"), "zh": ("title_zh", "title_ru", "title_en")}.get(
        locale, ("title_en", "title_ru", "title_zh"))
    title = next((position[n] for n in order if position.get(n)), "")
    return title or PositionKind(position["kind"]).label


def holder_label(holder: dict[str, Any], locale: str = "en") -> str:
    order = {"ru": ("name_ru", "name_latin", "name_zh"), "zh": ("name_zh", "name_latin", "name_ru")}.get(
        locale, ("name_latin", "name_ru", "name_zh"))
    name = next((holder[n] for n in order if holder.get(n)), holder.get("name_native") or "?")
    return f"{holder['rank']} {name}".strip() if holder.get("rank") else name


def current_holders(position: dict[str, Any]) -> list[dict[str, Any]]:
    return [h for h in position["holders"] if h["left_on"] is None]


def _person(holder: dict[str, Any]) -> tuple:
    return (holder["name_latin"], holder["name_ru"], holder["name_zh"], holder["name_native"], holder["appointed_on"])


def compare(old: dict[str, Any], new: dict[str, Any], locale: str = "en") -> list[Change]:
    """The changes from disclosure `old` to disclosure `new` (their "structure" snapshots)."""
    changes: list[Change] = []
    old_units = {u["key"]: u for u in old["units"]}
    new_units = {u["key"]: u for u in new["units"]}

    def name_of(units, key):
        return unit_label(units[key], locale) if key in units else _("the top of the chart")

    for key, unit in new_units.items():
        label = unit_label(unit, locale)
        if key not in old_units:
            changes.append(Change("unit_added", key, key, _("Unit added: %(unit)s, under %(parent)s.", unit=label,
                                                            parent=name_of(new_units, unit["parent"]))))
            continue
        before = old_units[key]
        if before["parent"] != unit["parent"]:
            changes.append(Change("unit_moved", key, key, _("Unit moved: %(unit)s, from under %(old)s to under "
                                                            "%(new)s.", unit=label,
                                                            old=name_of(old_units, before["parent"]),
                                                            new=name_of(new_units, unit["parent"]))))
        if any(before[n] != unit[n] for n in UNIT_NAMES):
            changes.append(Change("unit_renamed", key, key, _("Unit renamed: %(old)s is now %(new)s.",
                                                              old=unit_label(before, locale), new=label)))
        if before["kind"] != unit["kind"] or before["hq_location"] != unit["hq_location"]:
            changes.append(Change("unit_changed", key, key, _(
                "Unit %(unit)s: now %(kind)s, headquarters %(hq)s.", unit=label, kind=UnitKind(unit["kind"]).label,
                hq=unit["hq_location"] or "—")))
    for key, unit in old_units.items():
        if key not in new_units:
            changes.append(Change("unit_removed", key, unit["parent"] or "", _(
                "Unit removed: %(unit)s (was under %(parent)s).", unit=unit_label(unit, locale),
                parent=name_of(old_units, unit["parent"]))))

    old_posts = {p["key"]: (u, p) for u in old["units"] for p in u["positions"]}
    new_posts = {p["key"]: (u, p) for u in new["units"] for p in u["positions"]}
    for key, (unit, post) in new_posts.items():
        label = position_label(post, locale)
        where = unit_label(unit, locale)
        if key not in old_posts:
            changes.append(Change("position_added", key, unit["key"], _("Post added: %(post)s in %(unit)s.",
                                                                        post=label, unit=where)))
            continue
        old_unit, before = old_posts[key]
        if old_unit["key"] != unit["key"]:
            changes.append(Change("position_moved", key, unit["key"], _(
                "Post moved: %(post)s, from %(old)s to %(new)s.", post=label, old=unit_label(old_unit, locale),
                new=where)))
        if any(before[n] != post[n] for n in TITLES) or before["kind"] != post["kind"]:
            changes.append(Change("position_renamed", key, unit["key"], _(
                "Post renamed in %(unit)s: %(old)s is now %(new)s.", unit=where, old=position_label(before, locale),
                new=label)))
        was, now = current_holders(before), current_holders(post)
        if [_person(h) for h in was] != [_person(h) for h in now]:
            changes.append(Change("holder_changed", key, unit["key"], _(
                "%(post)s (%(unit)s): %(old)s replaced by %(new)s.", post=label, unit=where,
                old=", ".join(holder_label(h, locale) for h in was) or _("vacant"),
                new=", ".join(holder_label(h, locale) for h in now) or _("vacant"))))
        elif [h["rank"] for h in was] != [h["rank"] for h in now]:
            changes.append(Change("holder_changed", key, unit["key"], _(
                "%(post)s (%(unit)s): the holder's rank is now %(rank)s.", post=label, unit=where,
                rank=", ".join(h["rank"] for h in now) or "—")))
    for key, (unit, post) in old_posts.items():
        if key not in new_posts:
            changes.append(Change("position_removed", key, unit["key"], _(
                "Post removed: %(post)s in %(unit)s.", post=position_label(post, locale),
                unit=unit_label(unit, locale))))
    if old["ministry"] != new["ministry"]:
        changes.insert(0, Change("ministry_renamed", "", "", _("The ministry's name changed: %(old)s is now %(new)s.",
                                                              old=old["ministry"]["en"] or old["ministry"]["ru"],
                                                              new=new["ministry"]["en"] or new["ministry"]["ru"])))
    return changes


def marks(changes: list[Change]) -> dict[str, set[str]]:
    """CSS classes per unit key, to highlight the changes on the newer chart."""
    by_unit: dict[str, set[str]] = {}
    for change in changes:
        if change.unit_key:
            by_unit.setdefault(change.unit_key, set()).add(change.kind.replace("_", "-"))
    return by_unit
