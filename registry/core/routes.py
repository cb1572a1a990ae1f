"""The front door (each role's dashboard) and the health check."""

from flask import Blueprint, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import validate_csrf
from sqlalchemy import text
from wtforms import ValidationError

from registry.db import db, utcnow
from registry.enums import Role
from registry.i18n import _
from registry.page_cache import cached_page
from registry.services import charts, dashboards
from registry.services import users as user_service
from registry.services.errors import ValidationFailed
from registry.web import login_required, public, redirect_next

bp = Blueprint("core", __name__)


@bp.route("/")
@login_required
def home():
    """What this user must do now: the dashboard of their role (the first page after signing in)."""
    now = utcnow()
    locale = str(get_locale() or "en")
    role = current_user.role
    if role == Role.ADMIN:
        return render_template("core/home_admin.html", board=dashboards.admin_dashboard(current_user),
                               today=now.date(), locale=locale)
    if role == Role.AUDITOR:  # its counts run to the minute (refusals of the last 7 days): never cached
        return render_template("core/home_auditor.html", board=dashboards.auditor_dashboard(current_user, now),
                               charts=charts.build(current_user, now.date(), locale), today=now.date(), locale=locale)

    def dashboard() -> str:
        """The officer's and the Secretariat's: what they show changes with the registry and the day only."""
        if role == Role.OFFICER:
            board, template = dashboards.officer_dashboard(current_user, now.date()), "core/home_officer.html"
        else:
            board = dashboards.secretariat_dashboard(current_user, now.date(), now)
            template = "core/home_secretariat.html"
        return render_template(template, board=board, charts=charts.build(current_user, now.date(), locale),
                               today=now.date(), locale=locale)

    return cached_page(dashboard)


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


@bp.route("/language", methods=["POST"])
@public
def language():
    """Switch the language: saved in the account when signed in, else for this browser session. Public, as the
    sign-in page offers it too; it changes nothing but the reader's own language."""
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        flash(_("The form expired or was not sent from this site. Please submit it again."), "error")
        return redirect(url_for("core.home"))
    choice = request.form.get("lang", "")
    try:
        if current_user.is_authenticated:
            user_service.set_language(current_user, choice)
            db.session.commit()
        elif choice in user_service.LANGUAGE_CODES:
            session["lang"] = choice
        else:
            raise ValidationFailed({"lang": [_("Choose Russian, Chinese or English.")]})
    except ValidationFailed as exc:
        db.session.rollback()
        for messages in exc.errors.values():
            for message in messages:
                flash(message, "error")
    return redirect_next("core.home")
