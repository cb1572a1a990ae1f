"""The audit log, for auditors and administrators: newest first by sequence number (keyset pagination),
filters, each entry's field-level changes, and the chain's status and last checkpoint at the top."""

import json
from datetime import UTC, datetime, time, timedelta

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import func

from registry.audit.forms import AuditFilterForm
from registry.db import db
from registry.models import AuditEntry
from registry.services import audit_checkpoints
from registry.services.scoping import visible
from registry.web import requires

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 100
FILTERS = ("actor", "action", "state", "object", "date_from", "date_to", "outcome")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and int(value) < 2**63 else None


def _shown(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def field_changes(changes) -> list[tuple[str, str, str]]:
    """(field, before, after) rows from the {field: [before, after]} the services write."""
    if not isinstance(changes, dict):
        return [("", "", _shown(changes))] if changes else []
    rows = []
    for name, value in changes.items():
        if isinstance(value, list) and len(value) == 2:
            rows.append((name, _shown(value[0]), _shown(value[1])))
        else:
            rows.append((name, "", _shown(value)))
    return rows


def filtered_entries(user, data: dict):
    """The entries `user` may read that match the filters (a validated AuditFilterForm's data), newest first.
    The page and the export both read through this."""
    stmt = visible(user, AuditEntry).order_by(AuditEntry.seq.desc())
    if data["actor"]:
        stmt = stmt.where(func.lower(AuditEntry.actor_label).contains(data["actor"].lower(), autoescape=True))
    if data["action"]:
        stmt = stmt.where(AuditEntry.action.startswith(data["action"], autoescape=True))
    if data["state"]:
        stmt = stmt.where(AuditEntry.state_code == data["state"])
    if data["object"]:
        stmt = stmt.where(AuditEntry.object_id.in_({data["object"], data["object"].upper()}))
    if data["date_from"]:
        stmt = stmt.where(AuditEntry.occurred_at >= datetime.combine(data["date_from"], time.min, UTC))
    if data["date_to"]:
        end = datetime.combine(data["date_to"], time.min, UTC) + timedelta(days=1)
        stmt = stmt.where(AuditEntry.occurred_at < end)
    if data["outcome"]:
        stmt = stmt.where(AuditEntry.outcome == data["outcome"])
    return stmt


def _query(form: AuditFilterForm, before: int | None):
    stmt = filtered_entries(current_user, form.data).limit(PAGE_SIZE + 1)
    if before:
        stmt = stmt.where(AuditEntry.seq < before)
    return stmt


@bp.route("/")
@requires("audit.view")
def index():
    form = AuditFilterForm(request.args)
    valid = form.validate()
    before = _int_arg("before")
    entries = db.session.scalars(_query(form, before)).all() if valid else []
    next_before = entries[PAGE_SIZE - 1].seq if len(entries) > PAGE_SIZE else None
    entries = entries[:PAGE_SIZE]
    filters = {name: request.args.get(name, "")[:254] for name in FILTERS if request.args.get(name)} if valid else {}
    return render_template("audit/index.html", form=form, valid=valid, entries=entries,
                           changes={e.id: field_changes(e.changes) for e in entries}, next_before=next_before,
                           filters=filters, on_later_page=bool(before), status=audit_checkpoints.chain_status())
