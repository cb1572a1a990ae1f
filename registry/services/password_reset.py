"""Forgotten passwords: a single-use link, valid for a short time, sent to the account's address.

The answer to a request is the same whether the address belongs to an account or not, and the mail goes
through the outbox. Only the SHA-256 of the token is stored.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import func, select, update

from registry.db import db, utcnow
from registry.i18n import _
from registry.models import PasswordResetToken, User
from registry.passwords import hash_password
from registry.services import audit, notifications, throttle
from registry.services.sessions import revoke_all_sessions
from registry.services.users import check_password
from registry.services.validation import Errors

# At most one mail per account in this interval, however often the form is sent.
RESEND_INTERVAL = timedelta(minutes=2)
TOKEN_MAX = 128


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def request_reset(email: str) -> None:
    """Queue a reset link if `email` is an active account; do nothing visible otherwise. Never commits."""
    email = (email or "").strip().lower()
    user = db.session.scalar(select(User).where(func.lower(User.email) == email)) if email else None
    if user is None or not user.active:
        audit.record("auth.password_reset_requested", actor_label=email[:254], outcome="failure",
                     changes={"reason": ["", "unknown_or_inactive"], "address": ["", throttle.client_address()]})
        return
    now = utcnow()
    recent = db.session.scalar(select(PasswordResetToken.id).where(
        PasswordResetToken.user_id == user.id, PasswordResetToken.created_at > now - RESEND_INTERVAL,
    ).limit(1))
    if recent is not None:
        audit.record("auth.password_reset_requested", actor_label=user.email, object_type="user", object_id=user.id,
                     outcome="denied", changes={"reason": ["", "too_soon"]})
        return
    token = secrets.token_urlsafe(32)
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=_hash(token), created_at=now,
                                      expires_at=now + timedelta(minutes=minutes)))
    link = url_for("auth.reset_password", token=token, _external=True)
    notifications.queue(
        user,
        "password_reset_link",
        _("Set a new registry password"),
        _("Someone, probably you, asked to set a new password for your registry account. Open this link within "
          "%(minutes)d minutes to choose one; it works once:\n\n%(link)s\n\nIf you did not ask for this, ignore "
          "this message: your password stays as it is.", minutes=minutes, link=link),
    )
    audit.record("auth.password_reset_requested", actor_label=user.email, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None)


def find_valid(token: str | None) -> PasswordResetToken | None:
    """The unused, unexpired reset row for this token, or None."""
    if not token or len(token) > TOKEN_MAX:
        return None
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_hash == _hash(token)))
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        return None
    user = db.session.get(User, row.user_id)
    return row if user is not None and user.active else None


def complete_reset(token: str, new_password: str) -> User | None:
    """Set the new password from a valid link (None if the link is not valid). Raises ValidationFailed.

    Marks the link used (and every other open link of the account), ends every session, clears the
    account's failed sign-ins, audits and tells the user by mail.
    """
    row = find_valid(token)
    if row is None:
        return None
    errors = Errors()
    account = db.session.get(User, row.user_id)
    new_password = check_password(errors, "new_password", new_password, (account.email, account.display_name))
    errors.raise_if_any()
    # Single use, also under two concurrent submissions: only the request that flips used_at goes on.
    now = utcnow()
    used = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not used:
        return None
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == row.user_id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    user = db.session.get(User, row.user_id)
    user.password_hash = hash_password(new_password)
    user.must_change_password = False  # chosen by the user through the link, not by an administrator
    revoke_all_sessions(user, "password_reset")
    throttle.clear_account(user.email)
    audit.record("auth.password_reset_completed", actor_label=user.email, object_type="user", object_id=user.id,
                 state_code=user.state.code if user.state else None,
                 changes={"password_hash": [audit.REDACTED] * 2})
    notifications.queue(
        user,
        "password_changed",
        _("Your registry password was changed"),
        _("The password of your registry account was changed with a reset link. If this was not you, tell the "
          "Secretariat at once."),
    )
    return user
