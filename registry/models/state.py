from datetime import date

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.db import Base
from registry.enums import BorderParty, StateStatus, db_enum


class MemberState(Base):
    """A member state or partner of the SCO, keyed by its ISO 3166-1 alpha-2 code."""

    __tablename__ = "member_states"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(2), unique=True)
    iso3: Mapped[str] = mapped_column(String(3), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_ru: Mapped[str] = mapped_column(String(100))
    name_zh: Mapped[str] = mapped_column(String(100))
    border_party: Mapped[BorderParty | None] = mapped_column(db_enum(BorderParty, "border_party"))

    status_periods: Mapped[list["StatusPeriod"]] = relationship(
        back_populates="state", order_by="StatusPeriod.valid_from", cascade="all, delete-orphan"
    )

    def name(self, locale: str | None) -> str:
        return {"ru": self.name_ru, "zh": self.name_zh}.get(locale or "en", self.name_en)

    def status_on(self, day: date) -> StateStatus | None:
        for period in self.status_periods:
            if period.valid_from <= day and (period.valid_to is None or day < period.valid_to):
                return period.status
        return None

    @property
    def current_period(self) -> "StatusPeriod | None":
        return next((p for p in self.status_periods if p.valid_to is None), None)

    @property
    def current_status(self) -> StateStatus | None:
        period = self.current_period
        return period.status if period else None

    @property
    def former_statuses(self) -> list[StateStatus]:
        """Statuses held before the current one, e.g. a partner that was formerly an observer."""
        current = self.current_status
        seen = []
        for period in self.status_periods:
            if period.valid_to is not None and period.status != current and period.status not in seen:
                seen.append(period.status)
        return seen

    def __repr__(self) -> str:
        return f"<MemberState {self.code}>"


class StatusPeriod(Base):
    """One stretch of a state's status; the open-ended one (valid_to NULL) is the current status."""

    __tablename__ = "state_status_periods"
    __table_args__ = (
        UniqueConstraint("state_id", "valid_from"),
        CheckConstraint("valid_to IS NULL OR valid_to > valid_from", name="period_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    state_id: Mapped[int] = mapped_column(ForeignKey("member_states.id", ondelete="CASCADE"), index=True)
    status: Mapped[StateStatus] = mapped_column(db_enum(StateStatus, "state_status"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(300), default="")

    state: Mapped[MemberState] = relationship(back_populates="status_periods")
