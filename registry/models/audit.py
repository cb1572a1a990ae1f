from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, BigId, UTCDateTime, utcnow

GENESIS_HASH = "0" * 64


class AuditEntry(Base):
    """Append-only, hash-chained record of who did what. Ordered by `seq`, never by wall clock.

    Written in the same transaction as the change it records. `seq`, `prev_hash` and `hash` are filled in at flush
    time under the chain's lock (registry/services/audit_chain.py); database triggers refuse UPDATE and DELETE.
    """

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_object", "object_type", "object_id"),
        Index("ix_audit_log_state_code_id", "state_code", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # Gapless position in the chain: 1, 2, 3, ... assigned under the lock on audit_head.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
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


class AuditHead(Base):
    """The one row naming the chain's last entry. Appends lock it (FOR UPDATE, or SQLite's write lock)."""

    __tablename__ = "audit_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class AuditCheckpoint(Base):
    """A signed statement "the chain of `origin` had `seq` entries ending in `head_hash` at `signed_at`".

    Also appended to a file outside the database (AUDIT_CHECKPOINT_LOG) and included in every export, since an
    insider who rewrites the log could also rewrite this table.
    """

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    origin: Mapped[str] = mapped_column(String(100))
    seq: Mapped[int] = mapped_column(BigInteger, index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    # The signed time, exactly as signed (ISO 8601, UTC, microseconds, "Z").
    signed_at: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(Text)
