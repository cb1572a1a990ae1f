"""Server-side login sessions: the cookie holds a random token, the database holds its hash.

Logging out revokes the row, so a cookie copied before logout no longer signs anyone in.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import bindparam, select, update

from registry.db import db, utcnow
from registry.models import LoginSession, User

# last_seen_at is written at most this often, not on every request.
TOUCH_INTERVAL = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User) -> tuple[str, LoginSession]:
    token = secrets.token_urlsafe(32)
    row = LoginSession(user_id=user.id, token_hash=_hash(token))
    if has_request_context():
        row.ip = (request.remote_addr or "")[:45] or None
        row.user_agent = (request.user_agent.string or "")[:200] or None
    db.session.add(row)
    db.session.flush()
    return token, row


def is_live(row: LoginSession) -> bool:
    """Not revoked, and within both the idle and the absolute timeout."""
    now = utcnow()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"]
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return row.revoked_at is None and now - row.created_at <= absolute and now - row.last_seen_at <= idle


# Built once: every signed-in request runs it, and building the statement costs as much as running it on SQLite.
_LIVE_SESSION = (select(LoginSession, User).join(User, User.id == LoginSession.user_id)
                 .where(LoginSession.token_hash == bindparam("token_hash")))


def find_live_session(user_id: int, token: str | None) -> tuple[LoginSession, User] | None:
    """The session for this cookie token and its user, if the session is still valid; expired ones are revoked on
    the way. One query for both: every signed-in request asks."""
    if not token:
        return None
    found = db.session.execute(_LIVE_SESSION, {"token_hash": _hash(token)}).first()
    if found is None:
        return None
    row, user = found
    if row.user_id != user_id or row.revoked_at is not None:
        return None
    now = utcnow()
    absolute = current_app.config["PERMANENT_SESSION_LIFETIME"]
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    if now - row.created_at > absolute or now - row.last_seen_at > idle:
        row.revoked_at, row.revoked_reason = now, "expired"
        db.session.commit()
        return None
    if now - row.last_seen_at > TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    return row, user


def revoke_session(row: LoginSession, reason: str) -> None:
    if row.revoked_at is None:
        row.revoked_at, row.revoked_reason = utcnow(), reason


def revoke_all_sessions(user: User, reason: str, except_id: int | None = None) -> None:
    stmt = (
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    if except_id is not None:
        stmt = stmt.where(LoginSession.id != except_id)
    db.session.execute(stmt)
