from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, BigId, UTCDateTime, utcnow
from registry.enums import Role, db_enum
from registry.models.state import MemberState

EMAIL_MAX = 254
DISPLAY_NAME_MAX = 120


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        # A liaison officer belongs to exactly one state; no other role belongs to any.
        CheckConstraint(
            "(role = 'officer' AND state_id IS NOT NULL) OR (role <> 'officer' AND state_id IS NULL)",
            name="officer_has_state",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX))
    role: Mapped[Role] = mapped_column(db_enum(Role, "role"))
    state_id: Mapped[int | None] = mapped_column(ForeignKey("member_states.id"), index=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    locale: Mapped[str | None] = mapped_column(String(5))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Second factor (RFC 6238 TOTP): a secret with no enabled_at is an enrolment not yet confirmed. Stored as a
    # Fernet token under SECOND_FACTOR_KEY_FILE (services/totp_keys.py), never in the clear.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last time-step accepted, so a code cannot be used twice within its window.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # A password an administrator chose (new account or reset) is temporary: the user must choose their own at the
    # next sign-in before anything else (ASVS 6.4.1; registry/auth/routes.py::require_password_change).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Optimistic locking: two administrators cannot silently overwrite each other.
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    state: Mapped[MemberState | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    @property
    def has_second_factor(self) -> bool:
        return self.totp_enabled_at is not None

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class LoginSession(Base):
    """A server-side record of one login, so logout and revocation work even on a copied cookie."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(200))

    user: Mapped[User] = relationship()
