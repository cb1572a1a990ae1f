"""Personal API tokens: created by their owner (password asked again), shown once, stored as a SHA-256 digest.

Why SHA-256 and not argon2: a token is 256 random bits from `secrets`, not a password a person chose. Slow
hashing protects guessable secrets against a stolen table; nobody can enumerate 2**256 candidates at any speed,
so a fast digest is as safe here, and it lets every API request find its token with one indexed lookup instead
of an argon2 verification (tens of milliseconds and 64 MiB) per call.

Scopes never exceed the owner's role: each scope is allowed to the roles the permission policy gives the
matching permission (services/permissions.py), and the API checks both the scope and the policy on every call,
so a token is never more than its owner signed in.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import has_request_context, request
from sqlalchemy import select, update

from registry.db import db, utcnow
from registry.i18n import _, _l
from registry.models import ApiToken, User
from registry.models.api_token import TOKEN_NAME_MAX
from registry.services import audit, mfa, reauth, throttle
from registry.services.errors import NotFound
from registry.services.permissions import POLICY
from registry.services.validation import Errors, clean_text

TOKEN_PREFIX = "cbm_"  # noqa: S105 - a label that makes leaked tokens easy to find, not a secret
PREFIX_SHOWN = 12  # "cbm_" and 8 random characters, enough to tell tokens apart in a list
MAX_DAYS, DEFAULT_DAYS = 365, 90
MAX_LIVE_TOKENS = 20
TOUCH_INTERVAL = timedelta(minutes=1)  # last use is written at most this often

# scope -> the permissions whose roles may hold it, and what it allows (shown on the token page).
SCOPES: dict[str, tuple[tuple[str, ...], object]] = {
    "read": (("state.view",), _l("Read what your account may read: records, states, the audit log.")),
    "file": (("submission.file",), _l("Create, edit, submit and withdraw your state's records; comment.")),
    "review": (("submission.review",), _l("Accept or return submissions, and comment (the Secretariat).")),
    "export": (("export.records", "export.bundle"), _l("Queue export jobs and download their files.")),
}


def scopes_for_role(role) -> list[str]:
    """The scopes a user of this role may give a token: those whose permissions the role holds."""
    return [scope for scope, (permissions, _text) in SCOPES.items()
            if any(role in POLICY[p].roles for p in permissions)]


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _clean_scopes(errors: Errors, user: User, scopes) -> list[str]:
    chosen = [s for s in dict.fromkeys(scopes or []) if isinstance(s, str)]
    allowed = scopes_for_role(user.role)
    if not chosen:
        errors.add("scopes", _("Choose at least one scope."))
    elif any(s not in allowed for s in chosen):
        errors.add("scopes", _("Your role allows only these scopes: %(scopes)s.", scopes=", ".join(allowed)))
    return [s for s in SCOPES if s in chosen]


def _clean_days(errors: Errors, days) -> int:
    try:
        number = int(days)
    except (TypeError, ValueError, OverflowError):
        number = 0
    if not 1 <= number <= MAX_DAYS:
        errors.add("days", _("Enter a number from %(lo)d to %(hi)d.", lo=1, hi=MAX_DAYS))
    return number


def live_tokens(user: User) -> list[ApiToken]:
    now = utcnow()
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None),
                                                          ApiToken.expires_at > now)
                                   .order_by(ApiToken.id.desc())))


def create_token(user: User, *, name, scopes, days=DEFAULT_DAYS, password=None) -> tuple[str, ApiToken]:
    """A new token for `user` (the plain token is returned once, never stored). The password is asked again:
    a stolen session must not become a long-lived credential. Raises ValidationFailed; never commits."""
    reauth.require_password(user, password, field="password")
    errors = Errors()
    name = clean_text(errors, "name", name, max_length=TOKEN_NAME_MAX)
    chosen = _clean_scopes(errors, user, scopes)
    days = _clean_days(errors, days)
    if len(live_tokens(user)) >= MAX_LIVE_TOKENS:
        errors.add("", _("You have %(n)d tokens in use: revoke one you no longer need first.", n=MAX_LIVE_TOKENS))
    errors.raise_if_any()
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    row = ApiToken(user_id=user.id, name=name, token_hash=digest(token), prefix=token[:PREFIX_SHOWN],
                   scopes=",".join(chosen), created_at=now, expires_at=now + timedelta(days=days))
    db.session.add(row)
    db.session.flush()
    audit.record("api_token.create", actor=user, object_type="api_token", object_id=row.id,
                 state_code=user.state.code if user.state else None,
                 changes={"name": [None, name], "scopes": [None, row.scopes],
                          "expires_at": [None, row.expires_at.isoformat()]})
    return token, row


def revoke_token(user: User, token_id) -> ApiToken:
    """Revoke one of one's own tokens (others' tokens do not exist for this user)."""
    row = db.session.get(ApiToken, token_id) if isinstance(token_id, int) and 0 < token_id < 2**31 else None
    if row is None or row.user_id != user.id:
        raise NotFound("api_token")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record("api_token.revoke", actor=user, object_type="api_token", object_id=row.id,
                     state_code=user.state.code if user.state else None,
                     changes={"revoked_at": [None, row.revoked_at.isoformat()]})
    return row


# --- authenticating an API request ------------------------------------------------------------------------------


def _throttle_key() -> str:
    """Bad tokens are counted per client address, through the sign-in throttle (services/throttle.py): its
    'account' key is this pseudo-account, so guessing tokens locks the address out of the API quickly, and
    also counts towards the address's limit on the sign-in page."""
    return f"api-token:{throttle.client_address()}"


def locked() -> bool:
    return throttle.locked_until(_throttle_key()) is not None


def authenticate(token: str | None) -> tuple[User, ApiToken] | None:
    """The live token's owner, or None (the failure is counted). Commits its own bookkeeping."""
    row = None
    if token and len(token) <= 200 and token.isascii() and token.startswith(TOKEN_PREFIX):
        row = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    now = utcnow()
    user = row.user if row is not None else None
    if row is None or not row.is_live(now) or user is None or not user.active or mfa.must_enrol(user):
        throttle.register_failure(_throttle_key())
        db.session.commit()
        return None
    if row.last_used_at is None or now - row.last_used_at >= TOUCH_INTERVAL:
        # A plain UPDATE: the token row is not part of the request's own changes.
        address = (request.remote_addr or "")[:45] or None if has_request_context() else None
        db.session.execute(update(ApiToken).where(ApiToken.id == row.id)
                           .values(last_used_at=now, last_used_ip=address)
                           .execution_options(synchronize_session=False))
        db.session.commit()
    return user, row



def all_tokens(user: User) -> list[ApiToken]:
    """The user's tokens, newest first, revoked and expired ones too (their last use stays visible)."""
    return list(db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id.desc())
                                   .limit(100)))
