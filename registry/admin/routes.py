"""Administration of user accounts and of the registry-wide security settings."""

import unicodedata

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask_login import current_user

from registry.admin.forms import (
    PlainForm,
    ResetPasswordForm,
    SecuritySettingsForm,
    UserCreateForm,
    UserEditForm,
    VersionForm,
)
from registry.db import db
from registry.enums import Role
from registry.i18n import _
from registry.models import MemberState, User
from registry.services import mfa
from registry.services import users as user_service
from registry.services.errors import ValidationFailed
from registry.services.permissions import require
from registry.services.scoping import visible
from registry.web import apply_errors, get_or_404, requires

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _state_choices() -> list[tuple[str, str]]:
    states = db.session.scalars(visible(current_user, MemberState).order_by(MemberState.name_en)).all()
    return [("", _("(none)"))] + [(str(s.id), f"{s.name_en} ({s.code})") for s in states]


def _matches(user: User, needle: str) -> bool:
    return needle in user.email.casefold() or needle in user.display_name.casefold()


@bp.route("/users")
@requires("user.list")
def users():
    role = request.args.get("role", "")
    state_code = request.args.get("state", "")
    active = request.args.get("active", "")
    query = request.args.get("q", "").strip()[:100]
    stmt = visible(current_user, User).order_by(User.role, User.display_name, User.id)
    if role in Role._value2member_map_:
        stmt = stmt.where(User.role == role)
    if state_code:
        # A garbled code matches nothing (and a NUL byte would be refused by PostgreSQL with a 500).
        code = state_code if len(state_code) == 2 and state_code.isascii() and state_code.isalpha() else ""
        stmt = stmt.join(MemberState, User.state_id == MemberState.id).where(MemberState.code == code)
    if active in ("yes", "no"):
        stmt = stmt.where(User.active.is_(active == "yes"))
    accounts = db.session.scalars(stmt).all()
    if query:
        # Matched in Python, not with SQL LIKE: SQLite's lower() folds ASCII only (so "иван" missed "Иван"
        # there, not on PostgreSQL), and '%' and '_' are plain characters. The account list is small and unpaged.
        needle = unicodedata.normalize("NFC", query).casefold()
        accounts = [user for user in accounts if _matches(user, needle)]
    states = db.session.scalars(visible(current_user, MemberState).order_by(MemberState.name_en)).all()
    return render_template("admin/users.html", users=accounts, roles=Role, states=states,
                           filters={"role": role, "state": state_code, "active": active, "q": query})


@bp.route("/users/new", methods=["GET", "POST"])
@requires("user.create")
def user_new():
    form = UserCreateForm()
    form.state_id.choices = _state_choices()
    if form.validate_on_submit():
        try:
            user = user_service.create_user(
                current_user, email=form.email.data, display_name=form.display_name.data,
                role=form.role.data, state_id=form.state_id.data, password=form.password.data,
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The account %(email)s was created.", email=user.email), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@requires("user.view")
def user_detail(user_id: int):
    user = get_or_404(User, user_id)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    form.state_id.choices = _state_choices()
    if request.method == "GET":
        form.version.data = user.version
    else:
        # Before the form is read: one's own account has no edit form, so a refused post must say why (403).
        require(current_user, "user.update", user)
    if form.validate_on_submit():
        try:
            user_service.update_user(
                current_user, user, display_name=form.display_name.data, role=form.role.data,
                state_id=form.state_id.data, expected_version=form.version.data or "",
            )
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The account was updated."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    return render_template("admin/user_detail.html", user=user, form=form,
                           action_form=VersionForm(version=user.version), reset_form=ResetPasswordForm(),
                           plain_form=PlainForm())


def _one_button_action(user_id: int, service_function, done_message: str):
    user = get_or_404(User, user_id)
    form = VersionForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
    else:
        try:
            service_function(current_user, user, expected_version=form.version.data or "")
        except ValidationFailed as exc:
            db.session.rollback()
            for messages in exc.errors.values():
                for message in messages:
                    flash(message, "error")
        else:
            db.session.commit()
            flash(done_message, "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("user.deactivate")
def user_deactivate(user_id: int):
    return _one_button_action(user_id, user_service.deactivate_user,
                              _("The account was deactivated and its sessions were ended."))


@bp.route("/users/<int:user_id>/reactivate", methods=["POST"])
@requires("user.reactivate")
def user_reactivate(user_id: int):
    return _one_button_action(user_id, user_service.reactivate_user, _("The account was reactivated."))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires("user.reset_password")
def user_reset_password(user_id: int):
    user = get_or_404(User, user_id)
    require(current_user, "user.reset_password", user)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user_service.reset_password(current_user, user, form.password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("The password was reset and the user's sessions were ended."), "success")
            return redirect(url_for("admin.user_detail", user_id=user.id))
    edit_form = UserEditForm(obj=user)
    edit_form.state_id.choices = _state_choices()
    edit_form.version.data = user.version
    return render_template("admin/user_detail.html", user=user, form=edit_form,
                           action_form=VersionForm(version=user.version), reset_form=form, plain_form=PlainForm()), 400


@bp.route("/users/<int:user_id>/second-factor", methods=["POST"])
@requires("user.reset_second_factor")
def user_reset_second_factor(user_id: int):
    user = get_or_404(User, user_id)
    form = PlainForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
    else:
        mfa.reset_second_factor(current_user, user)
        db.session.commit()
        flash(_("The second factor was removed and the user's sessions were ended. They set up a new one at "
                "their next sign-in."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@requires("user.end_sessions")
def user_end_sessions(user_id: int):
    user = get_or_404(User, user_id)
    form = PlainForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
    else:
        user_service.end_sessions_of(current_user, user)
        db.session.commit()
        flash(_("Every session of this account was ended."), "success")
    return redirect(url_for("admin.user_detail", user_id=user_id))


@bp.route("/security/end-every-session", methods=["POST"])
@requires("security.settings")
def end_every_session():
    form = PlainForm()
    if not form.validate_on_submit():
        flash(_("The form expired. Please try again."), "error")
    else:
        keep = g.login_session.id if g.get("login_session") else None
        ended = user_service.end_every_session(current_user, keep_session_id=keep)
        db.session.commit()
        flash(_("%(n)d sessions were ended. Everyone else signs in again.", n=ended), "success")
    return redirect(url_for("admin.security"))


@bp.route("/security", methods=["GET", "POST"])
@requires("security.settings")
def security():
    form = SecuritySettingsForm()
    if request.method == "GET":
        form.second_factor_for_everyone.data = mfa.required_for_everyone()
    if form.validate_on_submit():
        mfa.set_required_for_everyone(current_user, bool(form.second_factor_for_everyone.data))
        db.session.commit()
        flash(_("The security settings were saved."), "success")
        return redirect(url_for("admin.security"))
    return render_template("admin/security.html", form=form, plain_form=PlainForm())
