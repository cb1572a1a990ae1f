"""Defence-ministry structure disclosures: the details of one revision of a submission.

Each revision owns its own rows (like ExerciseDetails), so a submitted version stays exactly as filed. Units,
positions and holders carry a stable `key` within the disclosure: a new version (or next year's disclosure,
which starts as a copy) keeps the keys, which is how the comparison matches a unit that moved or was renamed.
A unit names its parent by key; the rules (registry/services/structures.py) refuse cycles and unknown parents.
"""

from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base
from registry.enums import PositionKind, UnitKind, db_enum
from registry.models.submission import Revision

KEY_MAX = 40
NAME_MAX = 300
SHORT_MAX = 200


class StructureDetails(Base):
    __tablename__ = "structure_details"

    id: Mapped[int] = mapped_column(primary_key=True)
    revision_id: Mapped[int] = mapped_column(ForeignKey("revisions.id", ondelete="CASCADE"), unique=True)
    as_of: Mapped[date] = mapped_column(Date, index=True)
    ministry_name_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    ministry_name_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    ministry_name_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    ministry_name_native: Mapped[str] = mapped_column(String(NAME_MAX), default="")

    revision: Mapped[Revision] = relationship()
    units: Mapped[list["StructureUnit"]] = relationship(
        back_populates="details", order_by="StructureUnit.sort_order", cascade="all, delete-orphan"
    )


class StructureUnit(Base):
    __tablename__ = "structure_units"
    __table_args__ = (
        UniqueConstraint("details_id", "key"),
        CheckConstraint("parent_key IS NULL OR parent_key <> key", name="not_own_parent"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    details_id: Mapped[int] = mapped_column(ForeignKey("structure_details.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    parent_key: Mapped[str | None] = mapped_column(String(KEY_MAX))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[UnitKind] = mapped_column(db_enum(UnitKind, "unit_kind"))
    name_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    hq_location: Mapped[str] = mapped_column(String(SHORT_MAX), default="")

    details: Mapped[StructureDetails] = relationship(back_populates="units")
    positions: Mapped[list["StructurePosition"]] = relationship(
        back_populates="unit", order_by="StructurePosition.sort_order", cascade="all, delete-orphan"
    )


class StructurePosition(Base):
    __tablename__ = "structure_positions"
    __table_args__ = (UniqueConstraint("details_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The disclosure, so that position keys are unique across the whole tree (a position may move).
    details_id: Mapped[int] = mapped_column(ForeignKey("structure_details.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("structure_units.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(KEY_MAX))
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    kind: Mapped[PositionKind] = mapped_column(db_enum(PositionKind, "position_kind"))
    title_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    title_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    title_en: Mapped[str] = mapped_column(String(NAME_MAX), default="")

    unit: Mapped[StructureUnit] = relationship(back_populates="positions")
    holders: Mapped[list["StructureHolder"]] = relationship(
        back_populates="position", order_by="StructureHolder.sort_order", cascade="all, delete-orphan"
    )


class StructureHolder(Base):
    """Who holds (or held) a post: only name, rank and dates (no other personal data)."""

    __tablename__ = "structure_holders"
    __table_args__ = (
        CheckConstraint("left_on IS NULL OR appointed_on IS NULL OR left_on >= appointed_on", name="dates_ordered"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    position_id: Mapped[int] = mapped_column(ForeignKey("structure_positions.id", ondelete="CASCADE"), index=True)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    name_native: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_ru: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_zh: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    name_latin: Mapped[str] = mapped_column(String(NAME_MAX), default="")
    rank: Mapped[str] = mapped_column(String(SHORT_MAX), default="")
    appointed_on: Mapped[date | None] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)

    position: Mapped[StructurePosition] = relationship(back_populates="holders")

    @property
    def is_current(self) -> bool:
        return self.left_on is None
