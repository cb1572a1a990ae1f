"""The audit log, for auditors and administrators, newest first with keyset pagination."""

from flask import Blueprint, render_template, request
from flask_login import current_user

from registry.db import db
from registry.models import AuditEntry
from registry.services.scoping import visible
from registry.web import requires

bp = Blueprint("audit", __name__, url_prefix="/audit")


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and int(value) < 2**63 else None


@bp.route("/")
@requires("audit.view")
def index():
    page_size = 100
    action = request.args.get("action", "").strip()[:64]
    state = request.args.get("state", "").strip().upper()[:2]
    outcome = request.args.get("outcome", "")
    before = _int_arg("before")
    stmt = visible(current_user, AuditEntry).order_by(AuditEntry.id.desc()).limit(page_size + 1)
    if action and "\x00" not in action:
        stmt = stmt.where(AuditEntry.action.startswith(action, autoescape=True))
    if state:
        # A garbled code matches nothing (and a NUL byte would be refused by PostgreSQL with a 500).
        stmt = stmt.where(AuditEntry.state_code == (state if state.isascii() and state.isalpha() else ""))
    if outcome in ("success", "failure", "denied"):
        stmt = stmt.where(AuditEntry.outcome == outcome)
    if before:
        stmt = stmt.where(AuditEntry.id < before)
    entries = db.session.scalars(stmt).all()
    next_before = entries[page_size - 1].id if len(entries) > page_size else None
    return render_template("audit/index.html", entries=entries[:page_size], next_before=next_before,
                           filters={"action": action, "state": state, "outcome": outcome})
