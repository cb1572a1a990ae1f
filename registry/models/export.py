"""Export jobs: big exports and bundles are written to a file by a worker, never streamed from a request."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, UTCDateTime, utcnow
from registry.models.user import User

JOB_STATUSES = ("queued", "running", "done", "failed", "expired")


class ExportJob(Base):
    """One export to prepare: a dataset in one format, or a bundle of everything (BagIt zip).

    Claimed by one worker at a time (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: a conditional UPDATE), written to
    EXPORT_DIR under a temporary name and renamed when complete; `sha256` and `size` describe the finished file.
    """

    __tablename__ = "export_jobs"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'expired')", name="status_known"),
        CheckConstraint("status != 'done' OR (sha256 IS NOT NULL AND file_name IS NOT NULL)", name="done_has_file"),
        CheckConstraint("status != 'failed' OR error IS NOT NULL", name="failed_has_error"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "dataset" or "bundle"
    dataset: Mapped[str | None] = mapped_column(String(40))
    format: Mapped[str] = mapped_column(String(10))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker: Mapped[str | None] = mapped_column(String(100))
    rows_done: Mapped[int] = mapped_column(Integer, default=0)
    rows_total: Mapped[int | None] = mapped_column(Integer)
    file_name: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[User] = relationship()
