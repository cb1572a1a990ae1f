"""Writing the audit log. Entries join the caller's transaction: no change without its entry.

The entry is numbered and hash-chained when the session flushes (registry/services/audit_chain.py).
"""

from datetime import date, datetime
from enum import Enum
from typing import Any

from flask import has_request_context, request

from registry.db import db
from registry.models import AuditEntry
from registry.services import audit_chain

REDACTED = "(changed)"
SECRET_FIELDS = frozenset({"password_hash"})


def _plain(value: Any) -> Any:
    """JSON-safe, language-neutral form of a field value."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(obj, name)) for name in fields}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list]:
    """{field: [old, new]} for the fields that changed; secrets are named but never stored."""
    changes = {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            changes[key] = [REDACTED, REDACTED] if key in SECRET_FIELDS else [old, new]
    return changes


def record(
    action: str,
    *,
    actor=None,
    actor_label: str | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    state_code: str | None = None,
    changes: dict | None = None,
    outcome: str = "success",
) -> AuditEntry:
    authenticated = actor is not None and getattr(actor, "is_authenticated", False)
    entry = AuditEntry(
        actor_id=actor.id if authenticated else None,
        actor_label=(actor.email if authenticated else (actor_label or ""))[:254],
        actor_role=actor.role.value if authenticated else None,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id)[:64],
        state_code=state_code,
        changes=audit_chain.normalise(changes) if changes else None,
        outcome=outcome,
        ip=request.remote_addr[:45] if has_request_context() and request.remote_addr else None,
    )
    audit_chain.mark_order(entry)
    db.session.add(entry)
    return entry
