from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, BigId, UTCDateTime, utcnow


class AuditEntry(Base):
    """Append-only record of who did what. Ordered by id (the sequence), never by wall clock.

    Written in the same transaction as the change it records. A later migration adds the
    hash chain (sequence, previous hash, hash) over these same columns.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_state_code_id", "state_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # What the actor was called at the time (or the e-mail typed at a failed login).
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    actor_role: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(64))
    state_code: Mapped[str | None] = mapped_column(String(2))
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    outcome: Mapped[str] = mapped_column(String(10), default="success")
    ip: Mapped[str | None] = mapped_column(String(45))
