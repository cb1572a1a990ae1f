"""Signing in and out. Every attempt, good or bad, is in the audit log."""

from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.models import LoginSession, User
from registry.passwords import burn_verification_time, hash_password, needs_rehash, verify_password
from registry.services import audit
from registry.services.sessions import open_session, revoke_session


def authenticate(email: str, password: str) -> tuple[User | None, str | None]:
    """Check credentials; returns (user, session token) or (None, None). Audits either way."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None:
        burn_verification_time(password)
        audit.record("auth.login_failed", actor_label=email, changes={"reason": ["", "unknown_user"]},
                     outcome="failure")
        return None, None
    if not verify_password(user.password_hash, password):
        audit.record("auth.login_failed", actor_label=user.email, object_type="user", object_id=user.id,
                     changes={"reason": ["", "bad_password"]}, outcome="failure")
        return None, None
    if not user.active:
        audit.record("auth.login_failed", actor_label=user.email, object_type="user", object_id=user.id,
                     changes={"reason": ["", "inactive"]}, outcome="failure")
        return None, None
    if needs_rehash(user.password_hash):
        # Parameters were raised since this hash was made: upgrade it while we have the password.
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    token, _row = open_session(user)
    audit.record("auth.login", actor=user, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None)
    return user, token


def logout(user: User, session_row: LoginSession | None) -> None:
    if session_row is not None:
        revoke_session(session_row, "logout")
    audit.record("auth.logout", actor=user, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None)
