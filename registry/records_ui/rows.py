"""Repeatable rows on a plain HTML form that works without JavaScript.

A record form lists its rows as WTForms FieldLists: a group named "entries" posts `entries-0-planned_start`,
`entries-1-planned_start`, ... Its "Add" button posts `action=<add_action>` and each row's "Remove" button
`action=<remove_action>-<index>`; either brings the form back without saving. The service names a row's
problems by position (`entries-0-planned_start`), so the posted rows are renumbered 0, 1, 2, ... before the
form reads them, and a removed row is dropped there, so what was typed in the other rows stays as typed.

The blueprints describe their groups with RowGroup and keep what is their own (labels, field aliases).
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from flask import flash
from flask_babel import LazyString
from werkzeug.datastructures import MultiDict

from registry.i18n import _

NO_ALIASES: Mapping[str, str] = {}


@dataclass(frozen=True)
class RowGroup:
    """One group of repeatable rows: a FieldList of the form and its buttons."""

    name: str  # the FieldList, and the prefix of its posted fields
    add_action: str  # the value of its "Add" button
    remove_action: str  # its "Remove" buttons post f"{remove_action}-{index}"
    label: str | LazyString  # heading of the messages about the whole group (_l: groups are defined at import)
    label_for_row: Callable[[int, str], str]  # (position from 1, field label) -> label in the list of problems


def _row_key(groups: Sequence[RowGroup]) -> re.Pattern:
    """`<group>-<index>-<field>`; at most three digits, as no group allows a thousand rows."""
    names = "|".join(re.escape(group.name) for group in groups)
    return re.compile(rf"({names})-(\d{{1,3}})-(\w{{1,40}})", re.ASCII)


def _removed_row(action: str, groups: Sequence[RowGroup]) -> tuple[str, int] | None:
    """(group name, index) of the row whose "Remove" button was pressed, if one was."""
    for group in groups:
        match = re.fullmatch(rf"{re.escape(group.remove_action)}-(\d{{1,3}})", action, re.ASCII)
        if match:
            return group.name, int(match[1])
    return None


def formdata(posted: MultiDict, groups: Sequence[RowGroup]) -> MultiDict:
    """The posted form with each group's rows numbered 0, 1, 2, ... and the removed row left out."""
    removed = _removed_row(posted.get("action", ""), groups)
    row_key = _row_key(groups)
    prefixes = tuple(f"{group.name}-" for group in groups)
    rows: dict[str, dict[int, list]] = {group.name: {} for group in groups}
    data = MultiDict()
    for key, values in posted.lists():
        row = row_key.fullmatch(key)
        if row:
            rows[row[1]].setdefault(int(row[2]), []).append((row[3], values))
        elif not key.startswith(prefixes):  # a malformed row key is dropped, not passed on as a field
            data.setlist(key, values)
    for name, by_index in rows.items():
        kept = [index for index in sorted(by_index) if (name, index) != removed]
        for position, index in enumerate(kept):
            for field, values in by_index[index]:
                data.setlist(f"{name}-{position}-{field}", values)
    return data


def row_action(form, posted: MultiDict, groups: Sequence[RowGroup]) -> bool:
    """True when an "Add" or "Remove" button was pressed: the form comes back, nothing is saved."""
    action = posted.get("action", "")
    for group in groups:
        if action == group.add_action:
            rows = form[group.name]
            if len(rows.entries) < rows.max_entries:
                rows.append_entry()
            else:
                flash(_("At most %(n)d rows can be listed.", n=rows.max_entries), "error")
            return True
    return _removed_row(action, groups) is not None  # formdata() already left the removed row out


def field_for(form, key: str, groups: Sequence[RowGroup]):
    """The field that shows a message named `key` (a row field or a plain field), or None."""
    row = _row_key(groups).fullmatch(key)
    if row:
        entries = form[row[1]].entries
        index = int(row[2])
        if index < len(entries) and row[3] in entries[index].form:
            return entries[index].form[row[3]]
        return None
    if key in form and key not in {group.name for group in groups}:
        return form[key]
    return None


def place_errors(form, errors: Mapping[str, list], groups: Sequence[RowGroup],
                 aliases: Mapping[str, str] = NO_ALIASES) -> dict[str, list[str]]:
    """Each message beside its field; returns those about a whole group (by its name) or the whole form ('').

    `aliases` maps a name the service uses to the form field that shows its message.
    """
    names = {group.name for group in groups}
    unplaced: dict[str, list[str]] = {}
    for key, messages in errors.items():
        key = aliases.get(key, key)
        field = field_for(form, key, groups)
        if field is None:
            unplaced.setdefault(key if key in names else "", []).extend(str(m) for m in messages)
        else:
            field.errors = list(field.errors) + [str(m) for m in messages if str(m) not in field.errors]
    return unplaced


def error_summary(form, unplaced: Mapping[str, list[str]], groups: Sequence[RowGroup],
                  form_label: str) -> list[tuple[str, str, list[str]]]:
    """(anchor, label, messages) for the list of problems at the top of the form."""
    by_name = {group.name: group for group in groups}
    items = []
    for field in form:
        group = by_name.get(field.name)
        if group is not None:
            for position, entry in enumerate(field.entries, 1):
                for sub in entry.form:
                    if sub.errors:
                        items.append((sub.id, group.label_for_row(position, sub.label.text), list(sub.errors)))
        elif field.errors and field.type != "CSRFTokenField":
            items.append((field.id, str(field.label.text), list(field.errors)))
    labels = {"": form_label, **{group.name: group.label for group in groups}}
    for key, messages in unplaced.items():
        items.append((f"{key or 'form'}-h", str(labels.get(key, key)), messages))
    return items
