from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, BigId, UTCDateTime, utcnow


class OutboxMessage(Base):
    """A notification queued in the same transaction as its cause; sent only after commit.

    Every message is also the recipient's in-app notification (read_at), so nothing depends on a mail server.
    A sender claims a message (claimed_at, claim_token) in a committed update before talking to SMTP.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "sent_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    recipient_email: Mapped[str] = mapped_column(String(254))
    kind: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    context: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Not before this time (exponential backoff after a failure); NULL: as soon as possible.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    # Why no e-mail is sent ("disabled", "paused"): the message stays in the in-app list only.
    email_skipped: Mapped[str | None] = mapped_column(String(20))
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminders and other repeatable notifications are queued once per key.
    dedupe_key: Mapped[str | None] = mapped_column(String(160), unique=True)


class NotificationPreference(Base):
    """Which kinds of notification a user wants by e-mail, and a pause. Absent row: everything, no pause."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    # Category codes (registry/services/notifications.py CATEGORIES) the user does not want e-mailed.
    muted: Mapped[list[str]] = mapped_column(JSON, default=list)
    paused_until: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
