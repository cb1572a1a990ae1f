"""Each user's notifications (works with no mail server at all) and their e-mail preferences."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from registry.db import db
from registry.i18n import _
from registry.models import OutboxMessage
from registry.notifications.forms import PreferencesForm
from registry.services import notifications as svc
from registry.services.errors import ValidationFailed
from registry.web import apply_errors, requires

bp = Blueprint("notifications", __name__, url_prefix="/notifications")
PAGE_SIZE = 50


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and int(value) < 2**63 else None


@bp.route("/")
@requires("notifications.own")
def index():
    before = _int_arg("before")
    stmt = (select(OutboxMessage).where(OutboxMessage.recipient_id == current_user.id)
            .order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE + 1))
    if before:
        stmt = stmt.where(OutboxMessage.id < before)
    messages = db.session.scalars(stmt).all()
    next_before = messages[PAGE_SIZE - 1].id if len(messages) > PAGE_SIZE else None
    return render_template("notifications/index.html", messages=messages[:PAGE_SIZE], next_before=next_before,
                           unread=svc.unread_count(current_user), form=FlaskForm(),
                           max_attempts=svc.MAX_ATTEMPTS)


@bp.route("/read", methods=["POST"])
@requires("notifications.own")
def mark_read():
    form = FlaskForm()
    if form.validate_on_submit():
        count = svc.mark_all_read(current_user, current_user)
        db.session.commit()
        flash(_("%(n)d notification(s) marked as read.", n=count), "success")
    return redirect(url_for("notifications.index"))


@bp.route("/settings", methods=["GET", "POST"])
@requires("notifications.own")
def settings():
    prefs = svc.preferences_of(current_user)
    muted = set(prefs.muted or []) if prefs else set()
    form = PreferencesForm(data={"wanted": [c for c in svc.CATEGORIES if c not in muted],
                                 "paused_until": prefs.paused_until if prefs else None})
    if form.validate_on_submit():
        try:
            svc.set_preferences(current_user, current_user, wanted=form.wanted.data or [],
                                paused_until=form.paused_until.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your notification settings were saved."), "success")
            return redirect(url_for("notifications.settings"))
    return render_template("notifications/settings.html", form=form)
