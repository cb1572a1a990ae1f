"""Exercise notifications and annual calendars: the details of one revision of a submission.

Each revision owns its own rows, so a submitted version stays exactly as it was filed while the next
one is drafted; lists filter on these real columns (not on JSON snapshots).
"""

from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base
from registry.enums import ExerciseType, ParticipantRole, PhaseName, db_enum
from registry.models.state import MemberState
from registry.models.submission import Revision

NAME_MAX = 300
SHORT_MAX = 200
TEXT_MAX = 4000
# Force counts declared in a notification (column name -> what it counts).
FORCE_COLUMNS = (
    "troops_total", "troops_ground", "troops_air", "troops_naval", "troops_airborne", "troops_other",
    "battle_tanks", "acv", "artillery", "combat_aircraft", "helicopters", "sorties", "warships",
    "amphibious_airborne",
)
TROOP_SERVICES = ("troops_ground", "troops_air", "troops_naval", "troops_airborne", "troops_other")


class ExerciseDetails(Base):
    __tablename__ = "exercise_details"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        CheckConstraint("latitude IS NULL OR (latitude >= -90 AND latitude <= 90)", name="latitude_range"),
        CheckConstraint("longitude IS NULL OR (longitude >= -180 AND longitude <= 180)", name="longitude_range"),
        *[CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_not_negative") for c in FORCE_COLUMNS],
        # The list walks it in start-date order and rejects exercises ended before a date range in the index
        # itself, without reading their rows (services/exercise_queries.py).
        Index("ix_exercise_details_start_end", "start_date", "end_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), unique=True)
    designation_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    designation_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    designation_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    exercise_type: Mapped[ExerciseType | None] = mapped_column(db_enum(ExerciseType, "exercise_type"))
    purpose: Mapped[str] = mapped_column(Text, default="")
    command_level: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    headquarters: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    start_date: Mapped[date | None] = mapped_column(Date, index=True)
    end_date: Mapped[date | None] = mapped_column(Date)
    area_description: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    within_border_zone: Mapped[bool] = mapped_column(Boolean, default=False)
    border_segment: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    troops_total: Mapped[int | None] = mapped_column(Integer)
    troops_ground: Mapped[int | None] = mapped_column(Integer)
    troops_air: Mapped[int | None] = mapped_column(Integer)
    troops_naval: Mapped[int | None] = mapped_column(Integer)
    troops_airborne: Mapped[int | None] = mapped_column(Integer)
    troops_other: Mapped[int | None] = mapped_column(Integer)
    battle_tanks: Mapped[int | None] = mapped_column(Integer)
    acv: Mapped[int | None] = mapped_column(Integer)
    artillery: Mapped[int | None] = mapped_column(Integer)
    combat_aircraft: Mapped[int | None] = mapped_column(Integer)
    helicopters: Mapped[int | None] = mapped_column(Integer)
    sorties: Mapped[int | None] = mapped_column(Integer)
    warships: Mapped[int | None] = mapped_column(Integer)
    amphibious_airborne: Mapped[int | None] = mapped_column(Integer)
    observers_invited: Mapped[bool] = mapped_column(Boolean, default=False)
    observer_programme: Mapped[str] = mapped_column(Text, default="")
    observer_places_per_state: Mapped[int | None] = mapped_column(Integer)
    observer_arrival_point: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    calendar_entry_id: Mapped[int | None] = mapped_column(ForeignKey("calendar_entries.id"))
    not_forecast_reason: Mapped[str] = mapped_column(Text, default="")
    is_alert: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_justification: Mapped[str] = mapped_column(Text, default="")
    late_explanation: Mapped[str] = mapped_column(Text, default="")
    # Computed from the profiles in force when saved and when submitted; stored for lists and the queue.
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    mandatory_notification: Mapped[bool] = mapped_column(Boolean, default=False)
    observers_required: Mapped[bool] = mapped_column(Boolean, default=False)

    revision: Mapped[Revision] = relationship()
    participants: Mapped[list["ExerciseParticipant"]] = relationship(
        order_by="ExerciseParticipant.position", cascade="all, delete-orphan"
    )
    phases: Mapped[list["ExercisePhase"]] = relationship(order_by="ExercisePhase.position",
                                                          cascade="all, delete-orphan")
    calendar_entry: Mapped["CalendarEntry | None"] = relationship()

    def designation(self, locale: str | None = None) -> str:
        """The designation in the reader's language first, then the others."""
        order = {"ru": ("ru", "zh", "en"), "zh": ("zh", "ru", "en")}.get(locale or "en", ("en", "ru", "zh"))
        return next((getattr(self, f"designation_{lang}") for lang in order if getattr(self, f"designation_{lang}")),
                    "")


class ExerciseParticipant(Base):
    __tablename__ = "exercise_participants"
    __table_args__ = (CheckConstraint("troops IS NULL OR troops >= 0", name="troops_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    details_id: Mapped[int] = mapped_column(ForeignKey("exercise_details.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id"))
    role: Mapped[ParticipantRole] = mapped_column(db_enum(ParticipantRole, "participant_role"))
    contribution: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    troops: Mapped[int | None] = mapped_column(Integer)

    state: Mapped[MemberState] = relationship()


class ExercisePhase(Base):
    __tablename__ = "exercise_phases"
    __table_args__ = (CheckConstraint("end_date >= start_date", name="dates_ordered"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    details_id: Mapped[int] = mapped_column(ForeignKey("exercise_details.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[PhaseName] = mapped_column(db_enum(PhaseName, "phase_name"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)


class CalendarDetails(Base):
    """An annual calendar: a state's forecast of next year's notifiable activities."""

    __tablename__ = "calendar_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), unique=True)
    year: Mapped[int] = mapped_column(Integer, index=True)
    remarks: Mapped[str] = mapped_column(Text, default="")

    revision: Mapped[Revision] = relationship()
    entries: Mapped[list["CalendarEntry"]] = relationship(
        back_populates="calendar", order_by="CalendarEntry.position", cascade="all, delete-orphan"
    )


class CalendarEntry(Base):
    """One forecast activity. Rows of a submitted calendar version never change, so notifications can point
    at them for good."""

    __tablename__ = "calendar_entries"
    __table_args__ = (
        CheckConstraint("planned_end >= planned_start", name="dates_ordered"),
        CheckConstraint("troops IS NULL OR troops >= 0", name="troops_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    calendar_id: Mapped[int] = mapped_column(ForeignKey("calendar_details.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    designation: Mapped[str] = mapped_column(String(NAME_MAX))
    exercise_type: Mapped[ExerciseType] = mapped_column(db_enum(ExerciseType, "calendar_exercise_type"))
    planned_start: Mapped[date] = mapped_column(Date)
    planned_end: Mapped[date] = mapped_column(Date)
    area: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    troops: Mapped[int | None] = mapped_column(Integer)

    calendar: Mapped[CalendarDetails] = relationship(back_populates="entries")
