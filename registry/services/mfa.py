"""The second factor: RFC 6238 time-based codes (pyotp) and single-use recovery codes.

Required for the Secretariat, auditors and administrators, offered to officers; an administrator can require it
for everyone. A code is accepted for the current 30-second step and one on either side (clock drift), and never
twice: the last accepted step is stored and only a later one is accepted.
"""

import hashlib
import hmac
import secrets
import time

import pyotp
from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from registry.db import db, utcnow
from registry.enums import Role
from registry.i18n import _
from registry.models import RecoveryCode, SecuritySetting, User
from registry.services import audit, reauth, totp_keys
from registry.services.errors import ValidationFailed
from registry.services.permissions import require
from registry.services.sessions import revoke_all_sessions

ROLES_REQUIRING_SECOND_FACTOR = frozenset({Role.SECRETARIAT, Role.AUDITOR, Role.ADMIN})
REQUIRE_FOR_ALL = "second_factor_for_everyone"
ISSUER = "SCO CBM Registry"
STEP_SECONDS = 30
DRIFT_STEPS = 1
RECOVERY_CODE_COUNT = 10
# Recovery codes: 28 characters of base32 (140 bits), shown as four groups of seven. With at least 112 bits a plain
# SHA-256 is an adequate store (ASVS 5.0 6.5.2), and 128 bits is the floor for any unguessable value (11.5.1).
RECOVERY_CODE_LENGTH = 28
RECOVERY_GROUP = 7
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def _state_code(user: User) -> str | None:
    return user.state.code if user.state else None


# --- settings -----------------------------------------------------------------------------------------------------

_REQUIRED_FOR_ALL = select(SecuritySetting.value).where(SecuritySetting.key == REQUIRE_FOR_ALL)


def required_for_everyone() -> bool:
    # Every request of a user without a second factor asks: one column, by a statement built once.
    return db.session.scalar(_REQUIRED_FOR_ALL) == "1"


def set_required_for_everyone(actor: User, required: bool) -> None:
    require(actor, "security.settings")
    row = db.session.get(SecuritySetting, REQUIRE_FOR_ALL)
    before = row is not None and row.value == "1"
    if before == required:
        return
    if row is None:
        row = SecuritySetting(key=REQUIRE_FOR_ALL, value="0")
        db.session.add(row)
    row.value = "1" if required else "0"
    row.changed_at, row.changed_by_id = utcnow(), actor.id
    audit.record("security.setting_changed", actor=actor, object_type="setting", object_id=REQUIRE_FOR_ALL,
                 changes={REQUIRE_FOR_ALL: [before, required]})


def is_required(user: User) -> bool:
    return user.role in ROLES_REQUIRING_SECOND_FACTOR or required_for_everyone()


def must_enrol(user: User) -> bool:
    """Signed in with a password only, but a second factor is required: only enrolment is open to them."""
    return not user.has_second_factor and is_required(user)


# --- enrolment ----------------------------------------------------------------------------------------------------


def start_enrolment(user: User) -> str:
    """A new secret, shown once; it is not in force until a code from it is confirmed."""
    if user.has_second_factor:
        raise ValidationFailed({"": [_("A second factor is already set up for this account.")]})
    secret = pyotp.random_base32()
    user.totp_secret = totp_keys.encrypt(secret)  # stored encrypted; only the key file outside the database opens it
    user.totp_last_step = None
    return secret


def pending_secret(user: User) -> str | None:
    """The secret of an enrolment not yet confirmed (shown again if the first code was wrong); never once enabled."""
    if user.has_second_factor or not user.totp_secret:
        return None
    return totp_keys.decrypt(user.totp_secret)


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def _normalise(code: str | None) -> str:
    return "".join(ch for ch in (code or "") if ch not in " -\t").lower()[:64]


def _matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time-step within the drift window whose code this is, or None."""
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def _hash_recovery(code: str) -> str:
    return hashlib.sha256(_normalise(code).encode()).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace the user's recovery codes with fresh ones; only their hashes are stored."""
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    db.session.flush()
    codes = []
    for _i in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _j in range(RECOVERY_CODE_LENGTH))
        codes.append("-".join(raw[i:i + RECOVERY_GROUP] for i in range(0, RECOVERY_CODE_LENGTH, RECOVERY_GROUP)))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(raw)))
    return codes


def confirm_enrolment(user: User, code: str) -> list[str]:
    """Turn the second factor on with a code from the new secret; returns the recovery codes (shown once).

    Every session of the user ends, the caller's too: they were opened with a password only. The web route
    opens a new one for the browser that enrolled.
    """
    if user.has_second_factor or not user.totp_secret:
        raise ValidationFailed({"": [_("Start the set-up again: there is no secret waiting for confirmation.")]})
    step = _matching_step(totp_keys.decrypt(user.totp_secret), _normalise(code))
    if step is None:
        audit.record("auth.second_factor_enrol_failed", actor=user, object_type="user", object_id=user.id,
                     state_code=_state_code(user), outcome="failure")
        raise ValidationFailed({"code": [_("This code is not right. Check the time on your device and try the "
                                           "current code.")]})
    user.totp_enabled_at = utcnow()
    user.totp_last_step = step
    codes = _new_recovery_codes(user)
    revoke_all_sessions(user, "second_factor_enrolled")
    audit.record("auth.second_factor_enrolled", actor=user, object_type="user", object_id=user.id,
                 state_code=_state_code(user), changes={"recovery_codes": ["", RECOVERY_CODE_COUNT]})
    return codes


def regenerate_recovery_codes(user: User, current_password: str) -> list[str]:
    """New recovery codes replace the old ones; the password is asked again first."""
    if not user.has_second_factor:
        raise ValidationFailed({"": [_("Set up a second factor first.")]})
    reauth.require_password(user, current_password)
    codes = _new_recovery_codes(user)
    audit.record("auth.recovery_codes_renewed", actor=user, object_type="user", object_id=user.id,
                 state_code=_state_code(user), changes={"recovery_codes": ["", RECOVERY_CODE_COUNT]})
    return codes


def remaining_recovery_codes(user: User) -> int:
    return len(db.session.scalars(
        select(RecoveryCode.id).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all())


def reset_second_factor(actor: User, user: User) -> None:
    """An administrator removes a lost authenticator; the user enrols again at the next sign-in."""
    require(actor, "user.reset_second_factor", user)
    was_enabled = user.has_second_factor
    user.totp_secret = user.totp_enabled_at = user.totp_last_step = None
    for old in db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == user.id)):
        db.session.delete(old)
    revoke_all_sessions(user, "second_factor_reset")
    audit.record("user.reset_second_factor", actor=actor, object_type="user", object_id=user.id,
                 state_code=_state_code(user), changes={"second_factor": [was_enabled, False]})


# --- signing in ---------------------------------------------------------------------------------------------------


def verify(user: User, code: str) -> str | None:
    """Check a second-factor code at sign-in: "totp", "recovery", or None (audited with the reason)."""
    normalised = _normalise(code)
    if user.has_second_factor and user.totp_secret and normalised.isascii():
        step = _matching_step(totp_keys.decrypt(user.totp_secret), normalised) if _plausible(normalised) else None
        if step is not None:
            # One atomic UPDATE: of two requests racing with the same code, only one moves the step on.
            moved = db.session.execute(
                update(User)
                .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
                .execution_options(synchronize_session=False)
            ).rowcount
            if not moved:
                _failed(user, "reused_code")
                return None
            set_committed_value(user, "totp_last_step", step)
            return "totp"
        if len(normalised) == RECOVERY_CODE_LENGTH:
            row = db.session.scalar(select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(normalised),
                RecoveryCode.used_at.is_(None),
            ))
            if row is not None:
                row.used_at = utcnow()
                db.session.flush()
                audit.record("auth.recovery_code_used", actor_label=user.email, object_type="user",
                             object_id=user.id, state_code=_state_code(user),
                             changes={"remaining": ["", remaining_recovery_codes(user)]})
                return "recovery"
    _failed(user, "wrong_code")
    return None


def _plausible(code: str) -> bool:
    # Decrypt only for something shaped like a code, not for every recovery code or stray input.
    return len(code) == 6 and code.isdigit()


def reencrypt_all_secrets() -> int:
    """After a key change (CLI): every stored secret re-encrypted under the current key; old keys can then go."""
    users = db.session.scalars(select(User).where(User.totp_secret.is_not(None))).all()
    for user in users:
        user.totp_secret = totp_keys.reencrypt(user.totp_secret)
    audit.record("security.second_factor_key_rotated", actor_label="cli", object_type="setting",
                 object_id="second_factor_key", changes={"secrets": ["", len(users)]})
    return len(users)


def _failed(user: User, reason: str) -> None:
    audit.record("auth.second_factor_failed", actor_label=user.email, object_type="user", object_id=user.id,
                 state_code=_state_code(user), changes={"reason": ["", reason]}, outcome="failure")
