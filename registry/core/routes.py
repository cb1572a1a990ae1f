"""The front door and the health check."""

from flask import Blueprint, jsonify, redirect, url_for
from sqlalchemy import text

from registry.db import db
from registry.web import login_required, public

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home():
    return redirect(url_for("states.index"))


@bp.route("/healthz")
@public
def health():
    """For load balancers: answers only whether the database responds, nothing more."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "unhealthy"
        db.session.rollback()
        return jsonify(status="unavailable"), 503
    return jsonify(status="ok")
