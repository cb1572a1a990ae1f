"""Signing in and out. Every attempt, good or bad, is in the audit log.

Order of the checks at sign-in: the throttle first (a locked account or address costs no password hash),
then the password, then, for an account with a second factor, the code on a second page.
"""

from dataclasses import dataclass

from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.models import LoginSession, User
from registry.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from registry.services import audit, mfa, throttle
from registry.services.sessions import open_session, revoke_session

OK, SECOND_FACTOR, FAILED, LOCKED = "ok", "second_factor", "failed", "locked"


@dataclass
class SignIn:
    status: str  # OK, SECOND_FACTOR (the password was right; a code is needed), FAILED or LOCKED
    user: User | None = None
    token: str | None = None  # the new session's token, when status is OK


def _state_code(user: User) -> str | None:
    return user.state.code if user.state else None


def _refused_while_locked(email: str, user: User | None) -> SignIn:
    audit.record("auth.login_throttled", actor_label=email, object_type="user" if user else None,
                 object_id=user.id if user else None, outcome="denied",
                 changes={"address": ["", throttle.client_address()]})
    return SignIn(LOCKED)


def _failure(email: str, user: User | None, reason: str) -> SignIn:
    audit.record("auth.login_failed", actor_label=(user.email if user else email),
                 object_type="user" if user else None, object_id=user.id if user else None,
                 changes={"reason": ["", reason]}, outcome="failure")
    locked = throttle.register_failure(email, user=user)
    return SignIn(LOCKED if locked else FAILED)


def authenticate(email: str, password: str) -> SignIn:
    """The first step: e-mail and password. Audits either way; never commits."""
    email = (email or "").strip().lower()
    if throttle.locked_until(email) is not None:
        # Before any hashing: a locked account or address costs us nothing.
        return _refused_while_locked(email, None)
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None:
        burn_verification_time(password)
        return _failure(email, None, "unknown_user")
    if not verify_password(user.password_hash, password):
        return _failure(email, user, "bad_password")
    if not user.active:
        return _failure(email, user, "inactive")
    if needs_rehash(user.password_hash):
        # Parameters were raised since this hash was made: upgrade it while we have the password.
        user.password_hash = hash_password(password)
    if user.has_second_factor:
        audit.record("auth.password_accepted", actor_label=user.email, object_type="user", object_id=user.id,
                     state_code=_state_code(user))
        return SignIn(SECOND_FACTOR, user)
    return SignIn(OK, user, _finish(user, email))


def second_factor(user_id: int, code: str) -> SignIn:
    """The second step, for a user whose password was accepted moments ago (the route keeps that in the session)."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or not user.has_second_factor:
        return SignIn(FAILED)
    email = user.email.lower()
    if throttle.locked_until(email) is not None:
        return _refused_while_locked(email, user)
    if mfa.verify(user, code) is None:
        locked = throttle.register_failure(email, user=user)
        return SignIn(LOCKED if locked else FAILED, user)
    return SignIn(OK, user, _finish(user, email))


def _finish(user: User, email: str) -> str:
    throttle.clear_account(email)
    user.last_login_at = utcnow()
    token, _row = open_session(user)
    audit.record("auth.login", actor=user, object_type="user", object_id=user.id, state_code=_state_code(user),
                 changes={"second_factor": ["", user.has_second_factor]})
    return token


def logout(user: User, session_row: LoginSession | None) -> None:
    if session_row is not None:
        revoke_session(session_row, "logout")
    audit.record("auth.logout", actor=user, object_type="user", object_id=user.id, state_code=_state_code(user))
