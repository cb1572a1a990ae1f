"""Asking a signed-in user for their password again before a change to how they sign in (ASVS 5.0 7.5.1, 7.5.2).

A wrong password here counts as a failed sign-in (a stolen session must not become a password oracle).
"""

from registry.i18n import _
from registry.models import User
from registry.passwords import verify_password
from registry.services import audit, throttle
from registry.services.errors import ValidationFailed


def require_password(user: User, password: str | None, field: str = "current_password") -> None:
    """Raise ValidationFailed (message beside `field`) unless `password` is the user's password. Never commits;
    on a refusal the caller commits, so that the audit entry and the failure count stay."""
    if throttle.locked_until(user.email) is not None:
        raise ValidationFailed({field: [_("Too many failed sign-in attempts. Sign-in is paused for a few minutes; "
                                          "try again later.")]})
    if not verify_password(user.password_hash, password or ""):
        audit.record("auth.reauthentication_failed", actor=user, object_type="user", object_id=user.id,
                     state_code=user.state.code if user.state else None, outcome="failure")
        throttle.register_failure(user.email, user=user)
        raise ValidationFailed({field: [_("This is not your current password.")]})
