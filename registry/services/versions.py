"""What changed between two versions of a record: a field-by-field diff of their snapshots."""

from typing import Any


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """{"exercise.participants[2].troops": 300, ...}: one entry per leaf, so lists diff row by row."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key in value:
            items.update(flatten(value[key], f"{prefix}.{key}" if prefix else str(key)))
        return items
    if isinstance(value, list):
        items = {}
        for index, element in enumerate(value):
            items.update(flatten(element, f"{prefix}[{index + 1}]"))
        return items or {prefix: []}
    return {prefix: value}


def diff_snapshots(old: dict | None, new: dict | None) -> list[tuple[str, Any, Any]]:
    """(field, old value, new value) for every field that differs, in a stable order."""
    before, after = flatten(old or {}), flatten(new or {})
    keys = list(before) + [k for k in after if k not in before]
    return [(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)]
