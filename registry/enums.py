"""Enumerations that carry their own label (translated) and badge colour."""

import enum

from sqlalchemy import Enum as SAEnum

from registry.i18n import _l


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return str(self._labels()[self])

    @property
    def badge(self) -> str:
        return self._badges().get(self, "neutral")

    @classmethod
    def _labels(cls) -> dict:
        return {}

    @classmethod
    def _badges(cls) -> dict:
        return {}

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]


def db_enum(enum_cls: type[enum.Enum], name: str) -> SAEnum:
    """A VARCHAR column with a CHECK constraint: portable, and readable in the database."""
    return SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(m.value) for m in enum_cls),
        values_callable=lambda cls: [m.value for m in cls],
        validate_strings=True,
    )


class Role(LabelledEnum):
    OFFICER = "officer"
    SECRETARIAT = "secretariat"
    AUDITOR = "auditor"
    ADMIN = "admin"

    @classmethod
    def _labels(cls):
        return {
            cls.OFFICER: _l("Liaison officer"),
            cls.SECRETARIAT: _l("Secretariat reviewer"),
            cls.AUDITOR: _l("Auditor"),
            cls.ADMIN: _l("Administrator"),
        }

    @classmethod
    def _badges(cls):
        return {cls.OFFICER: "blue", cls.SECRETARIAT: "green", cls.AUDITOR: "purple", cls.ADMIN: "red"}


class StateStatus(LabelledEnum):
    MEMBER = "member"
    OBSERVER = "observer"
    DIALOGUE_PARTNER = "dialogue_partner"
    PARTNER = "partner"

    @classmethod
    def _labels(cls):
        return {
            cls.MEMBER: _l("Member state"),
            cls.OBSERVER: _l("Observer"),
            cls.DIALOGUE_PARTNER: _l("Dialogue partner"),
            cls.PARTNER: _l("SCO partner"),
        }

    @classmethod
    def _badges(cls):
        return {cls.MEMBER: "green", cls.PARTNER: "blue", cls.OBSERVER: "neutral", cls.DIALOGUE_PARTNER: "neutral"}


class BorderParty(LabelledEnum):
    """Sides of the 1996 Shanghai and 1997 Moscow border agreements."""

    CHINA = "china"
    JOINT_PARTY = "joint_party"

    @classmethod
    def _labels(cls):
        return {cls.CHINA: _l("China"), cls.JOINT_PARTY: _l("Joint Party (Russia, Kazakhstan, Kyrgyzstan, Tajikistan)")}
