"""Signing in and out, and one's own password."""

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from registry.auth.forms import ChangePasswordForm, LoginForm, LogoutForm
from registry.db import db
from registry.i18n import _
from registry.services import auth as auth_service
from registry.services import users as user_service
from registry.services.errors import ValidationFailed
from registry.web import apply_errors, is_safe_next, login_required, public, redirect_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect_next("states.index")
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "") if is_safe_next(request.args.get("next")) else ""
    if form.validate_on_submit():
        user, token = auth_service.authenticate(form.email.data, form.password.data)
        if user is None:
            db.session.commit()  # keep the failed-login audit entry
            form.password.errors = [_("The e-mail address or the password is not right.")]
        else:
            session.clear()  # a fresh session at every login: nothing carried over from before
            session["sid"] = token
            login_user(user)
            db.session.commit()
            return redirect_next("states.index")
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    form = LogoutForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please sign out again."), "error")
        return redirect(url_for("states.index"))
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
            return redirect(url_for("states.index"))
    return render_template("auth/change_password.html", form=form)
