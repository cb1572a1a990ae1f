from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from registry.db import Base, UTCDateTime, utcnow


class ProfileInForce(Base):
    """Which threshold profiles (seeds/threshold_profiles.toml) the registry applies; chosen by an admin."""

    __tablename__ = "profiles_in_force"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    in_force: Mapped[bool] = mapped_column(Boolean, default=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
