"""Voluntary visits to military facilities: the offer's details per revision, the visit's own life, the invited
states' answers, requests for a visit, the post-visit report and remarks, and their signed attachments.

The offer is a submission (record type "visit") reviewed like every record; what happens after the Secretariat
accepts it (invitations, answers, postponement, the visit being held) lives on the `visits` row, one per offer.
"""

from datetime import date, datetime, time

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    Time,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, deferred, mapped_column, object_session, relationship

from registry.db import Base, UTCDateTime, utcnow
from registry.enums import AnswerDecision, CostBearer, VisitKind, VisitRequestStatus, VisitStatus, db_enum
from registry.models.state import MemberState
from registry.models.submission import REFERENCE_MAX, Revision, Submission
from registry.models.user import User

NAME_MAX = 300
SHORT_MAX = 200
TEXT_MAX = 4000
PERSON_MAX = 200
COST_FIELDS = ("cost_travel", "cost_local_transport", "cost_accommodation", "cost_interpretation")
FILENAME_MAX = 200


class VisitDetails(Base):
    """The offer as filed in one revision: facility, dates, programme, costs, the invited states."""

    __tablename__ = "visit_details"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
        CheckConstraint("places_each IS NULL OR places_each >= 1", name="places_each_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), unique=True)
    kind: Mapped[VisitKind | None] = mapped_column(db_enum(VisitKind, "visit_kind"))
    facility_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    facility_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    facility_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    unit: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    location: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    within_border_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    border_segment: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_time: Mapped[time | None] = mapped_column(Time)
    programme: Mapped[str] = mapped_column(Text, default="")
    point_of_entry: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    cost_travel: Mapped[CostBearer | None] = mapped_column(db_enum(CostBearer, "cost_travel"))
    cost_local_transport: Mapped[CostBearer | None] = mapped_column(db_enum(CostBearer, "cost_local_transport"))
    cost_accommodation: Mapped[CostBearer | None] = mapped_column(db_enum(CostBearer, "cost_accommodation"))
    cost_interpretation: Mapped[CostBearer | None] = mapped_column(db_enum(CostBearer, "cost_interpretation"))
    costs_note: Mapped[str] = mapped_column(Text, default="")
    interpret_ru: Mapped[bool] = mapped_column(Boolean, default=False)
    interpret_zh: Mapped[bool] = mapped_column(Boolean, default=False)
    interpret_en: Mapped[bool] = mapped_column(Boolean, default=False)
    interpretation_other: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    # "All member states" (kept as a choice, so an amendment still says so) or the selection in `invitations`.
    invite_all_members: Mapped[bool] = mapped_column(Boolean, default=False)
    places_each: Mapped[int | None] = mapped_column(Integer)
    answer_by: Mapped[date | None] = mapped_column(Date)
    # The request this offer answers, when a state asked for the visit.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("visit_requests.id"))

    revision: Mapped[Revision] = relationship()
    invitations: Mapped[list["VisitInvitation"]] = relationship(
        order_by="VisitInvitation.position", cascade="all, delete-orphan"
    )

    def facility(self, locale: str | None = None) -> str:
        """The facility's name in the reader's language first, then the others."""
        order = {"ru": ("ru", "zh", "en"), "zh": ("zh", "ru", "en")}.get(locale or "en", ("en", "ru", "zh"))
        return next((getattr(self, f"facility_{lang}") for lang in order if getattr(self, f"facility_{lang}")), "")

    @property
    def interpretation_languages(self) -> list[str]:
        return [lang for lang in ("ru", "zh", "en") if getattr(self, f"interpret_{lang}")]


class VisitInvitation(Base):
    """One invited state and its places, as offered in one revision."""

    __tablename__ = "visit_invitations"
    __table_args__ = (
        UniqueConstraint("details_id", "state_id"),
        CheckConstraint("places >= 1", name="places_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    details_id: Mapped[int] = mapped_column(ForeignKey("visit_details.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"))
    places: Mapped[int] = mapped_column(Integer)

    state: Mapped[MemberState] = relationship()


class Visit(Base):
    """The visit's life once offered: one row per offer. Dates here are the ones in force (the accepted offer's,
    or the new ones of a postponement); `lock_version` makes two hosts' changes refuse each other."""

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("status != 'cancelled' OR cancel_reason IS NOT NULL", name="cancelled_has_reason"),
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), unique=True)
    status: Mapped[VisitStatus] = mapped_column(db_enum(VisitStatus, "visit_status"), index=True)
    start_date: Mapped[date | None] = mapped_column(Date, index=True)
    start_time: Mapped[time | None] = mapped_column(Time)
    end_date: Mapped[date | None] = mapped_column(Date)
    end_time: Mapped[time | None] = mapped_column(Time)
    answer_by: Mapped[date | None] = mapped_column(Date)
    invitations_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    held_on: Mapped[date | None] = mapped_column(Date)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    postponements: Mapped[int] = mapped_column(Integer, default=0)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}

    submission: Mapped[Submission] = relationship()
    answers: Mapped[list["VisitAnswer"]] = relationship(back_populates="visit", order_by="VisitAnswer.id",
                                                        cascade="all, delete-orphan")

    def invitations_in_force(self) -> list["VisitInvitation"]:
        """The invitations of the accepted offer (none before the Secretariat accepts it)."""
        number = self.submission.accepted_revision_no
        if number is None:
            return []
        return list(object_session(self).scalars(
            select(VisitInvitation)
            .join(VisitDetails, VisitDetails.id == VisitInvitation.details_id)
            .join(Revision, Revision.id == VisitDetails.revision_id)
            .where(Revision.submission_id == self.submission_id, Revision.number == number)
            .order_by(VisitInvitation.position)
        ))

    @property
    def invited_state_ids(self) -> set[int]:
        return {invitation.state_id for invitation in self.invitations_in_force()}

    def answer_of(self, state_id: int | None) -> "VisitAnswer | None":
        return next((a for a in self.answers if a.state_id == state_id), None)


class VisitAnswer(Base):
    """An invited state's answer: accepted (with its participants, within its places) or declined.

    One per state and visit (two officers answering at once: the second is refused); `places` is copied from
    the invitation so the database itself refuses more participants than places.
    """

    __tablename__ = "visit_answers"
    __table_args__ = (
        UniqueConstraint("visit_id", "state_id"),
        CheckConstraint("participant_count >= 0 AND participant_count <= places", name="within_places"),
        CheckConstraint("decision = 'accepted' OR participant_count = 0", name="declined_has_no_participants"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"), index=True)
    decision: Mapped[AnswerDecision] = mapped_column(db_enum(AnswerDecision, "answer_decision"))
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    places: Mapped[int] = mapped_column(Integer)
    participant_count: Mapped[int] = mapped_column(Integer, default=0)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}

    visit: Mapped[Visit] = relationship(back_populates="answers")
    state: Mapped[MemberState] = relationship()
    answered_by: Mapped[User | None] = relationship()
    participants: Mapped[list["VisitParticipant"]] = relationship(
        order_by="VisitParticipant.position", cascade="all, delete-orphan"
    )


class VisitParticipant(Base):
    """A named participant: only name, rank and position, nothing more personal."""

    __tablename__ = "visit_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    answer_id: Mapped[int] = mapped_column(ForeignKey("visit_answers.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(PERSON_MAX))
    rank: Mapped[str] = mapped_column(String(PERSON_MAX), default="")
    post: Mapped[str] = mapped_column(String(PERSON_MAX), default="")


class VisitRequest(Base):
    """A state asks another for a visit to a named facility; the host accepts (and offers it) or declines."""

    __tablename__ = "visit_requests"
    __table_args__ = (
        CheckConstraint("requesting_state_id != host_state_id", name="not_own_state"),
        CheckConstraint("preferred_to IS NULL OR preferred_from IS NULL OR preferred_to >= preferred_from",
                        name="dates_ordered"),
        CheckConstraint("status NOT IN ('accepted', 'declined') OR (decided_by_id IS NOT NULL AND decided_at IS "
                        "NOT NULL)", name="decided_has_decider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(REFERENCE_MAX), unique=True)
    requesting_state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"), index=True)
    host_state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"), index=True)
    kind: Mapped[VisitKind | None] = mapped_column(db_enum(VisitKind, "request_visit_kind"))
    facility: Mapped[str] = mapped_column(String(NAME_MAX))
    preferred_from: Mapped[date | None] = mapped_column(Date)
    preferred_to: Mapped[date | None] = mapped_column(Date)
    purpose: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[VisitRequestStatus] = mapped_column(db_enum(VisitRequestStatus, "visit_request_status"),
                                                       index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    offer_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}

    requesting_state: Mapped[MemberState] = relationship(foreign_keys=[requesting_state_id])
    host_state: Mapped[MemberState] = relationship(foreign_keys=[host_state_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    offer: Mapped[Submission | None] = relationship()


class Attachment(Base):
    """An uploaded document (a signed report as PDF or image), immutable once stored, with its SHA-256.

    Kept in the database so a backup holds the record and its documents together; `data` is loaded only when
    the file itself is downloaded.
    """

    __tablename__ = "attachments"
    __table_args__ = (CheckConstraint("size > 0", name="not_empty"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(FILENAME_MAX))
    content_type: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    data: Mapped[bytes] = deferred(mapped_column(LargeBinary))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VisitPaper(Base):
    """The details of a post-visit report (filed by the host) or of a visiting state's remarks, per revision."""

    __tablename__ = "visit_papers"
    __table_args__ = (CheckConstraint("held_to IS NULL OR held_from IS NULL OR held_to >= held_from",
                                      name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), unique=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id", ondelete="CASCADE"), index=True)
    held_from: Mapped[date | None] = mapped_column(Date)
    held_to: Mapped[date | None] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text, default="")
    attachment_id: Mapped[int | None] = mapped_column(ForeignKey("attachments.id"))

    revision: Mapped[Revision] = relationship()
    visit: Mapped[Visit] = relationship()
    attachment: Mapped[Attachment | None] = relationship()
