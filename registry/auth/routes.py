"""Signing in (password, then the second factor), out and everywhere; one's password, second factor and sessions."""

import time

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from registry.auth.forms import (
    ButtonForm,
    ChangePasswordForm,
    ConfirmSecondFactorForm,
    ForgotPasswordForm,
    LoginForm,
    LogoutForm,
    NewPasswordForm,
    ReauthenticateForm,
    SecondFactorForm,
)
from registry.db import db
from registry.i18n import _
from registry.models import LoginSession
from registry.services import auth as auth_service
from registry.services import mfa, password_reset
from registry.services import users as user_service
from registry.services.errors import ValidationFailed
from registry.services.sessions import is_live, open_session
from registry.web import apply_errors, is_safe_next, login_required, public, redirect_next

bp = Blueprint("auth", __name__)

# The password step is remembered for this long while the user fetches the code from the app.
PENDING_SECONDS = 300
# Pages open to a signed-in user who must still set up the second factor.
ENROLMENT_ENDPOINTS = frozenset({"auth.two_factor", "auth.two_factor_start", "auth.two_factor_confirm",
                                 "auth.logout", "static", "core.health"})


def _locked_message() -> str:
    # The same words for an account and an address, known or not: they reveal nothing about who exists.
    return _("Too many failed sign-in attempts. Sign-in is paused for a few minutes; try again later.")


def _fresh_session() -> None:
    """Nothing carried over from before the sign-in step, the CSRF token included.

    Flask-WTF caches the token in `g`; a caller that keeps one app context over several requests (a script,
    a test) would otherwise be handed the old session's token.
    """
    session.clear()
    g.pop("csrf_token", None)


def _start_session(result) -> None:
    _fresh_session()  # a fresh session at every login: nothing carried over from before
    session["sid"] = result.token
    login_user(result.user)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect_next("core.home")
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "") if is_safe_next(request.args.get("next")) else ""
    if form.validate_on_submit():
        result = auth_service.authenticate(form.email.data, form.password.data)
        next_target = form.next.data if is_safe_next(form.next.data) else ""
        db.session.commit()  # keeps the audit entries and the throttle counters, whatever the outcome
        if result.status == auth_service.LOCKED:
            form.password.errors = [_locked_message()]
        elif result.status == auth_service.FAILED:
            form.password.errors = [_("The e-mail address or the password is not right.")]
        elif result.status == auth_service.SECOND_FACTOR:
            _fresh_session()
            session["pending_second_factor"] = [result.user.id, int(time.time())]
            return redirect(url_for("auth.login_verify", next=next_target or None))
        else:
            _start_session(result)
            return redirect_next("core.home")
    return render_template("auth/login.html", form=form)


@bp.route("/login/verify", methods=["GET", "POST"])
@public
def login_verify():
    """The second step of signing in: the code from the authenticator app, or a recovery code."""
    if current_user.is_authenticated:
        return redirect_next("core.home")
    pending = session.get("pending_second_factor")
    if not (isinstance(pending, list) and len(pending) == 2 and all(isinstance(x, int) for x in pending)
            and 0 <= time.time() - pending[1] <= PENDING_SECONDS):
        session.pop("pending_second_factor", None)
        flash(_("Sign in with your e-mail address and password first."), "error")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        result = auth_service.second_factor(pending[0], form.code.data)
        db.session.commit()
        if result.status == auth_service.OK:
            _start_session(result)
            return redirect_next("core.home")
        if result.status == auth_service.LOCKED:
            session.pop("pending_second_factor", None)
            flash(_locked_message(), "error")
            return redirect(url_for("auth.login"))
        form.code.errors = [_("This code is not right, or it was used already. Wait for the next code and try "
                              "again.")]
    return render_template("auth/login_verify.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please sign out again."), "error")
        return redirect(url_for("core.home"))
    auth_service.logout(current_user, g.get("login_session"))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            keep = g.login_session.id if g.get("login_session") else None
            user_service.change_own_password(
                current_user, form.current_password.data, form.new_password.data, keep_session_id=keep
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Your password was changed. Your other sessions were signed out."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form)


# --- forgotten password -------------------------------------------------------------------------------------------


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.request_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address has an account.
        flash(_("If this address belongs to an account, a link to set a new password is on its way. It works once "
                "and for %(minutes)d minutes.", minutes=current_app.config["PASSWORD_RESET_MINUTES"]), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str):
    if password_reset.find_valid(token) is None:
        return render_template("auth/reset_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            user = password_reset.complete_reset(token, form.new_password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            if user is None:  # used by a concurrent request a moment ago
                db.session.rollback()
                return render_template("auth/reset_invalid.html"), 404
            db.session.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(_("Your password was changed. Sign in with the new one."), "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


# --- second factor ------------------------------------------------------------------------------------------------


def _two_factor_page(reauth_form=None):
    return render_template("auth/two_factor.html", required=mfa.is_required(current_user),
                           remaining=mfa.remaining_recovery_codes(current_user), form=ButtonForm(),
                           reauth_form=reauth_form or ReauthenticateForm(formdata=None))


@bp.route("/account/two-factor")
@login_required
def two_factor():
    return _two_factor_page()


def _render_enrolment(form, secret=None):
    secret = secret or mfa.pending_secret(current_user)
    return render_template("auth/two_factor_enrol.html", form=form, secret=secret,
                           uri=mfa.provisioning_uri(current_user, secret))


@bp.route("/account/two-factor/start", methods=["POST"])
@login_required
def two_factor_start():
    form = ButtonForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
        return redirect(url_for("auth.two_factor"))
    try:
        secret = mfa.start_enrolment(current_user)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return redirect(url_for("auth.two_factor"))
    db.session.commit()
    # The secret is shown on this response only; a new start makes a new secret.
    return _render_enrolment(ConfirmSecondFactorForm(formdata=None), secret)


@bp.route("/account/two-factor/confirm", methods=["POST"])
@login_required
def two_factor_confirm():
    form = ConfirmSecondFactorForm()
    if current_user.has_second_factor or not current_user.totp_secret:
        return redirect(url_for("auth.two_factor"))
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            # Every session ends, this one too: they were opened with a password only ...
            codes = mfa.confirm_enrolment(user, form.code.data)
        except ValidationFailed as exc:
            db.session.commit()  # keeps the audit entry of the failed confirmation
            apply_errors(form, exc)
        else:
            # ... and this browser goes on in a new one, with a new id (as at any change of privilege).
            token, _row = open_session(user)
            db.session.commit()
            _fresh_session()
            session["sid"] = token
            login_user(user)
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=True)
    return _render_enrolment(form)


@bp.route("/account/two-factor/recovery-codes", methods=["POST"])
@login_required
def recovery_codes():
    form = ReauthenticateForm()
    if form.validate_on_submit():
        try:
            codes = mfa.regenerate_recovery_codes(current_user, form.current_password.data)
        except ValidationFailed as exc:
            db.session.commit()  # keeps the audit entry and the failure count of a wrong password
            apply_errors(form, exc)
        else:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes, enrolled=False)
    return _two_factor_page(form), 200


# --- sessions -----------------------------------------------------------------------------------------------------


def _sessions_page(form):
    rows = db.session.scalars(
        select(LoginSession)
        .where(LoginSession.user_id == current_user.id, LoginSession.revoked_at.is_(None))
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    ).all()
    current_id = g.login_session.id if g.get("login_session") else None
    return render_template("auth/sessions.html", rows=[row for row in rows if is_live(row)], current_id=current_id,
                           form=form)


@bp.route("/account/sessions")
@login_required
def sessions():
    return _sessions_page(ReauthenticateForm(formdata=None))


@bp.route("/account/sessions/end-all", methods=["POST"])
@login_required
def logout_everywhere():
    form = ReauthenticateForm()
    if form.validate_on_submit():
        try:
            user_service.end_all_sessions(current_user, form.current_password.data)
        except ValidationFailed as exc:
            db.session.commit()  # keeps the audit entry and the failure count of a wrong password
            apply_errors(form, exc)
        else:
            db.session.commit()
            logout_user()
            session.clear()
            flash(_("You were signed out everywhere, on this device too."), "success")
            return redirect(url_for("auth.login"))
    return _sessions_page(form)


# Open to a user whose password is temporary: the change page itself and signing out.
PASSWORD_CHANGE_ENDPOINTS = frozenset({"auth.change_password", "auth.logout", "static", "core.health"})


def require_password_change():
    """`before_request`: after an administrator set the password (new account, reset), the user chooses their own
    before anything else. A missing second factor is set up first (require_enrolment), then the password."""
    if request.endpoint in PASSWORD_CHANGE_ENDPOINTS or request.endpoint is None:
        return None
    # An API token is its own credential, made by the user; it is not the password the administrator knows.
    if (current_user.is_authenticated and current_user.must_change_password and g.get("api_token") is None
            and not mfa.must_enrol(current_user)):
        flash(_("Your password was set by an administrator. Choose your own password to continue."), "error")
        return redirect(url_for("auth.change_password"))
    return None


def require_enrolment():
    """`before_request`: a user whose role needs a second factor may only set it up (or sign out) until they do."""
    if request.endpoint in ENROLMENT_ENDPOINTS or request.endpoint is None:
        return None
    if current_user.is_authenticated and mfa.must_enrol(current_user):
        flash(_("Your account needs a second factor. Set it up to continue."), "error")
        return redirect(url_for("auth.two_factor"))
    return None
