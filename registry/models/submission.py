"""The submission envelope shared by every record type, its immutable revisions and its timeline."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base, BigId, UTCDateTime, utcnow
from registry.enums import CommentVisibility, RecordType, SubmissionStatus, Visibility, db_enum
from registry.models.state import MemberState
from registry.models.user import User

REFERENCE_MAX = 20
SOURCE_DOCUMENT_MAX = 200


class Submission(Base):
    """One record filed by a state (an exercise notification, a calendar, ...), across all its versions.

    `current_revision_no` is the version being drafted or reviewed; `accepted_revision_no` the one
    other states see. While an amendment is under review the accepted version stays visible.
    """

    __tablename__ = "submissions"
    __table_args__ = (
        CheckConstraint(
            "status NOT IN ('accepted', 'cancellation_requested', 'cancelled') OR "
            "(accepted_revision_no IS NOT NULL AND decided_by_id IS NOT NULL AND decided_at IS NOT NULL)",
            name="accepted_has_decision",
        ),
        CheckConstraint(
            "status NOT IN ('submitted', 'accepted') OR (submitted_by_id IS NOT NULL AND submitted_at IS NOT NULL)",
            name="submitted_has_submitter",
        ),
        CheckConstraint("NOT entered_on_behalf OR source_document IS NOT NULL", name="on_behalf_cites_source"),
        CheckConstraint("current_revision_no >= 1", name="revision_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[RecordType] = mapped_column(db_enum(RecordType, "record_type"))
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX), unique=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(db_enum(SubmissionStatus, "submission_status"), index=True)
    visibility: Mapped[Visibility] = mapped_column(db_enum(Visibility, "visibility"), default=Visibility.MEMBERS)
    # "Nothing to declare" for a period (e.g. no notifiable exercise in a year).
    is_nil: Mapped[bool] = mapped_column(Boolean, default=False)
    due_date: Mapped[date | None] = mapped_column(Date)
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_on_behalf: Mapped[bool] = mapped_column(Boolean, default=False)
    source_document: Mapped[str | None] = mapped_column(String(SOURCE_DOCUMENT_MAX))
    original_language: Mapped[str] = mapped_column(String(5), default="ru")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the list's sort
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    current_revision_no: Mapped[int] = mapped_column(Integer, default=1)
    accepted_revision_no: Mapped[int | None] = mapped_column(Integer)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    # Sent by the creating form: a retried POST (a lost response, a double click) finds this record
    # instead of opening a second one.
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Optimistic locking: the version travels in every form; a stale one is refused.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}

    state: Mapped[MemberState] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    submitted_by: Mapped[User | None] = relationship(foreign_keys=[submitted_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    revisions: Mapped[list["Revision"]] = relationship(
        back_populates="submission", order_by="Revision.number", cascade="all, delete-orphan"
    )
    events: Mapped[list["SubmissionEvent"]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id", cascade="all, delete-orphan"
    )

    def revision(self, number: int | None) -> "Revision | None":
        return next((r for r in self.revisions if r.number == number), None) if number else None

    @property
    def current_revision(self) -> "Revision":
        return self.revision(self.current_revision_no)

    @property
    def accepted_revision(self) -> "Revision | None":
        return self.revision(self.accepted_revision_no)

    @property
    def is_amendment(self) -> bool:
        """A new version of an accepted record is being drafted or reviewed."""
        return self.accepted_revision_no is not None and self.current_revision_no != self.accepted_revision_no

    def __repr__(self) -> str:
        return f"<Submission {self.reference} {self.status}>"


class Revision(Base):
    """One version of a submission. Editable while a draft; frozen (with its snapshot) once submitted."""

    __tablename__ = "revisions"
    __table_args__ = (
        UniqueConstraint("submission_id", "number"),
        CheckConstraint("frozen_at IS NULL OR snapshot IS NOT NULL", name="frozen_has_snapshot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    language: Mapped[str] = mapped_column(String(5), default="ru")
    # Set at submission: the whole record as filed, and the rule findings shown to the reviewer.
    frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    snapshot: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    findings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    submission: Mapped[Submission] = relationship(back_populates="revisions")

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class SubmissionEvent(Base):
    """The record's timeline: every state change and every comment, in order."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    revision_no: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str | None] = mapped_column(String(30))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(254), default="")
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    comment: Mapped[str | None] = mapped_column(Text)
    comment_visibility: Mapped[CommentVisibility | None] = mapped_column(
        db_enum(CommentVisibility, "comment_visibility")
    )

    submission: Mapped[Submission] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class ReferenceCounter(Base):
    """Last reference number used per record type and year; numbers are never reused."""

    __tablename__ = "reference_counters"

    record_type: Mapped[str] = mapped_column(String(20), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)
