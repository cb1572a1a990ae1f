"""Accounts: create, update, deactivate, reactivate, reset and change passwords."""

from sqlalchemy import func, select, update

from registry.db import db, utcnow
from registry.enums import Role
from registry.i18n import _, _l
from registry.models import LoginSession, MemberState, User
from registry.models.user import DISPLAY_NAME_MAX
from registry.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    hash_password,
    is_common,
    is_context_specific,
    verify_password,
)
from registry.services import audit, notifications
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import require
from registry.services.sessions import revoke_all_sessions
from registry.services.validation import INT32_MAX, Errors, clean_email, clean_text, control_character_message

AUDITED_FIELDS = ["email", "display_name", "role", "state_id", "active", "is_demo", "locale"]


def check_password(errors: Errors, field: str, password: str | None, personal: tuple[str, ...] = ()) -> str:
    """Length, the common-password list and the context words (plus `personal`: the account's e-mail and name);
    no composition rules."""
    password = password or ""
    message = control_character_message(password)
    if message:
        errors.add(field, message)
    elif len(password) < PASSWORD_MIN:
        errors.add(field, _("Use at least %(n)d characters.", n=PASSWORD_MIN))
    elif len(password) > PASSWORD_MAX:
        errors.add(field, _("At most %(n)d characters.", n=PASSWORD_MAX))
    elif is_common(password):
        errors.add(field, _("This password is on a list of commonly used passwords. Choose another one."))
    elif is_context_specific(password, personal):
        errors.add(field, _("This password is made only of words easy to guess here (the registry, the SCO, "
                            "places, your name or e-mail). Add words of your own."))
    return password


def _resolve_role_and_state(errors: Errors, role, state_id) -> tuple[Role | None, MemberState | None]:
    try:
        role = Role(role)
    except ValueError:
        errors.add("role", _("Choose a role from the list."))
        return None, None
    state = None
    if role == Role.OFFICER:
        # Out-of-range ids are simply unknown (SQLite raises OverflowError from 2**63 on).
        known_range = isinstance(state_id, int) and 0 < state_id <= INT32_MAX
        state = db.session.get(MemberState, state_id) if known_range else None
        if state is None:
            errors.add("state_id", _("A liaison officer must belong to one member state."))
    elif state_id not in (None, "", 0):
        errors.add("state_id", _("Only liaison officers belong to a member state."))
    return role, state


def _email_taken(email: str, except_id: int | None = None) -> bool:
    stmt = select(func.count()).select_from(User).where(func.lower(User.email) == email.lower())
    if except_id is not None:
        stmt = stmt.where(User.id != except_id)
    return db.session.scalar(stmt) > 0


def create_user(actor, *, email, display_name, role, state_id=None, password, is_demo=False,
                temporary_password=True) -> User:
    """A new account. The password is the administrator's choice, so temporary unless `temporary_password` is
    False (demonstration accounts, test fixtures): the user replaces it at the first sign-in."""
    require(actor, "user.create")
    errors = Errors()
    email = clean_email(errors, "email", email)
    display_name = clean_text(errors, "display_name", display_name, max_length=DISPLAY_NAME_MAX)
    role, state = _resolve_role_and_state(errors, role, state_id)
    password = check_password(errors, "password", password, (email, display_name))
    if "email" not in errors.by_field and _email_taken(email):
        errors.add("email", _("An account with this e-mail address already exists."))
    errors.raise_if_any()

    user = User(
        email=email,
        display_name=display_name,
        role=role,
        state_id=state.id if state else None,
        password_hash=hash_password(password),
        active=True,
        is_demo=is_demo,
        must_change_password=temporary_password,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.create",
        actor=actor,
        object_type="user",
        object_id=user.id,
        state_code=state.code if state else None,
        changes=audit.diff({}, audit.snapshot(user, AUDITED_FIELDS)),
    )
    notifications.queue(
        user,
        "account_created",
        _l("Your account in the SCO confidence-building measures registry"),
        _l("An account has been created for you (%(role)s). Your administrator will give you the password.",
           role=user.role.lazy_label),
    )
    return user


def _check_version(user: User, expected_version) -> None:
    if expected_version is None:
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):  # a garbled or forged hidden field cannot name the current version
        expected = None
    if expected != user.version:
        raise Conflict(_("This account was changed by someone else since you opened it. Reload and try again."))


def update_user(actor, user: User, *, display_name, role, state_id, expected_version=None) -> User:
    require(actor, "user.update", user)
    _check_version(user, expected_version)
    errors = Errors()
    display_name = clean_text(errors, "display_name", display_name, max_length=DISPLAY_NAME_MAX)
    role, state = _resolve_role_and_state(errors, role, state_id)
    errors.raise_if_any()

    before = audit.snapshot(user, AUDITED_FIELDS)
    privilege_changed = role != user.role or (state.id if state else None) != user.state_id
    user.display_name = display_name
    user.role = role
    user.state_id = state.id if state else None
    changes = audit.diff(before, audit.snapshot(user, AUDITED_FIELDS))
    if privilege_changed:
        # A session opened under the old role must not keep the old rights.
        revoke_all_sessions(user, "privilege_change")
    audit.record(
        "user.update", actor=actor, object_type="user", object_id=user.id,
        state_code=state.code if state else None, changes=changes,
    )
    return user


def deactivate_user(actor, user: User, expected_version=None) -> User:
    require(actor, "user.deactivate", user)
    _check_version(user, expected_version)
    if not user.active:
        raise ValidationFailed({"": [_("This account is already deactivated.")]})
    user.active = False
    revoke_all_sessions(user, "deactivated")
    audit.record(
        "user.deactivate", actor=actor, object_type="user", object_id=user.id,
        state_code=user.state.code if user.state else None, changes={"active": [True, False]},
    )
    return user


def reactivate_user(actor, user: User, expected_version=None) -> User:
    require(actor, "user.reactivate", user)
    _check_version(user, expected_version)
    if user.active:
        raise ValidationFailed({"": [_("This account is already active.")]})
    user.active = True
    audit.record(
        "user.reactivate", actor=actor, object_type="user", object_id=user.id,
        state_code=user.state.code if user.state else None, changes={"active": [False, True]},
    )
    return user


def reset_password(actor, user: User, new_password: str) -> User:
    """An administrator sets a new password; every session of the user ends."""
    require(actor, "user.reset_password", user)
    errors = Errors()
    new_password = check_password(errors, "password", new_password, (user.email, user.display_name))
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    user.must_change_password = True  # the administrator knows it: the user chooses their own at the next sign-in
    revoke_all_sessions(user, "password_reset")
    audit.record(
        "user.reset_password", actor=actor, object_type="user", object_id=user.id,
        state_code=user.state.code if user.state else None, changes={"password_hash": [audit.REDACTED] * 2},
    )
    notifications.queue(
        user,
        "password_reset",
        _l("Your registry password was reset"),
        _l("An administrator has reset your password. If you did not expect this, tell the Secretariat."),
    )
    return user


def change_own_password(user: User, current_password: str, new_password: str, keep_session_id=None) -> User:
    require(user, "account.change_password", user)
    errors = Errors()
    if not verify_password(user.password_hash, current_password or ""):
        errors.add("current_password", _("This is not your current password."))
    new_password = check_password(errors, "new_password", new_password, (user.email, user.display_name))
    if not errors.by_field and new_password == current_password:
        errors.add("new_password", _("Choose a password different from the current one."))
    errors.raise_if_any()
    user.password_hash = hash_password(new_password)
    user.must_change_password = False
    revoke_all_sessions(user, "password_change", except_id=keep_session_id)
    audit.record(
        "account.change_password", actor=user, object_type="user", object_id=user.id,
        state_code=user.state.code if user.state else None, changes={"password_hash": [audit.REDACTED] * 2},
    )
    return user


LANGUAGE_CODES = ("en", "ru", "zh")


def set_language(user: User, language: str) -> User:
    """The language the user reads the registry in (saved in the account, used at every sign-in)."""
    if language not in LANGUAGE_CODES:
        raise ValidationFailed({"lang": [_("Choose Russian, Chinese or English.")]})
    if user.locale != language:
        before = user.locale
        user.locale = language
        audit.record("user.set_language", actor=user, object_type="user", object_id=user.id,
                     changes={"locale": [before, language]})
    return user


def end_all_sessions(user: User, current_password: str) -> None:
    """"Sign out everywhere": every session of the user ends, the current one too. The password is asked again."""
    require(user, "account.end_sessions", user)
    from registry.services import reauth

    reauth.require_password(user, current_password)
    revoke_all_sessions(user, "signed_out_everywhere")
    audit.record("account.end_all_sessions", actor=user, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None)


def end_sessions_of(actor, user: User) -> None:
    """An administrator ends every session of one account (a lost laptop, a suspicion)."""
    require(actor, "user.end_sessions", user)
    revoke_all_sessions(user, "ended_by_admin")
    audit.record("user.end_sessions", actor=actor, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None)


def end_every_session(actor, keep_session_id: int | None = None) -> int:
    """An administrator ends the sessions of every account (their own current one excepted); returns how many."""
    require(actor, "security.settings")
    stmt = (
        update(LoginSession)
        .where(LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason="ended_by_admin")
        .execution_options(synchronize_session=False)
    )
    if keep_session_id is not None:
        stmt = stmt.where(LoginSession.id != keep_session_id)
    ended = db.session.execute(stmt).rowcount
    audit.record("security.end_every_session", actor=actor, object_type="setting", object_id="sessions",
                 changes={"sessions_ended": ["", ended]})
    return ended
