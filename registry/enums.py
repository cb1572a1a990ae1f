"""Enumerations that carry their own label (translated) and badge colour."""

import enum
import functools

from sqlalchemy import Enum as SAEnum

from registry.i18n import _l


@functools.cache
def _label_table(cls) -> dict:
    """The class's lazy labels, built once: a list page reads a label per row, and `_labels()` builds a dict."""
    return cls._labels()


class LabelledEnum(enum.StrEnum):
    @property
    def label(self) -> str:
        return str(_label_table(type(self))[self])

    @property
    def lazy_label(self):
        """The label, translated when shown: for text built now and read later in another language."""
        return _label_table(type(self))[self]

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


class RecordType(LabelledEnum):
    """The kinds of record filed through the shared submission workflow, with their reference prefix."""

    EXERCISE = "exercise"
    CALENDAR = "calendar"
    VISIT = "visit"
    STRUCTURE = "structure"
    VISIT_REPORT = "visit_report"
    VISIT_REMARKS = "visit_remarks"

    @property
    def prefix(self) -> str:
        return {"exercise": "EXN", "calendar": "CAL", "visit": "VIS", "structure": "MOD", "visit_report": "VRP",
                "visit_remarks": "VRM"}[self.value]

    @classmethod
    def _labels(cls):
        return {
            cls.EXERCISE: _l("Exercise notification"),
            cls.CALENDAR: _l("Annual calendar"),
            cls.VISIT: _l("Voluntary facility visit"),
            cls.STRUCTURE: _l("Defence ministry structure"),
            cls.VISIT_REPORT: _l("Post-visit report"),
            cls.VISIT_REMARKS: _l("Visiting state's remarks"),
        }


class SubmissionStatus(LabelledEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    WITHDRAWN = "withdrawn"
    CANCELLATION_REQUESTED = "cancellation_requested"
    CANCELLED = "cancelled"
    DELETED = "deleted"

    @classmethod
    def _labels(cls):
        return {
            cls.DRAFT: _l("Draft"),
            cls.SUBMITTED: _l("Submitted, awaiting review"),
            cls.RETURNED: _l("Returned for correction"),
            cls.ACCEPTED: _l("Accepted"),
            cls.WITHDRAWN: _l("Withdrawn"),
            cls.CANCELLATION_REQUESTED: _l("Cancellation requested"),
            cls.CANCELLED: _l("Cancelled"),
            cls.DELETED: _l("Deleted draft"),
        }

    @classmethod
    def _badges(cls):
        return {
            cls.DRAFT: "neutral", cls.SUBMITTED: "blue", cls.RETURNED: "red", cls.ACCEPTED: "green",
            cls.WITHDRAWN: "neutral", cls.CANCELLATION_REQUESTED: "purple", cls.CANCELLED: "neutral",
            cls.DELETED: "neutral",
        }


class Visibility(LabelledEnum):
    """Chosen by the filing state for its accepted record."""

    PUBLIC = "public"
    MEMBERS = "members"
    SECRETARIAT = "secretariat"

    @classmethod
    def _labels(cls):
        return {
            cls.PUBLIC: _l("Public: every user of the registry"),
            cls.MEMBERS: _l("Member states only"),
            cls.SECRETARIAT: _l("Secretariat and auditors only"),
        }


class CommentVisibility(LabelledEnum):
    INTERNAL = "internal"
    SHARED = "shared"

    @classmethod
    def _labels(cls):
        return {
            cls.INTERNAL: _l("Internal: Secretariat and auditors"),
            cls.SHARED: _l("Shared with the filing state"),
        }


class ExerciseType(LabelledEnum):
    FIELD_TRAINING = "field_training"
    COMMAND_POST = "command_post"
    LIVE_FIRE = "live_fire"
    TRANSFER = "transfer"
    CONCENTRATION = "concentration"
    AMPHIBIOUS = "amphibious"
    AIRBORNE = "airborne"
    JOINT_MULTINATIONAL = "joint_multinational"
    COUNTER_TERRORISM = "counter_terrorism"

    @classmethod
    def _labels(cls):
        return {
            cls.FIELD_TRAINING: _l("Field training exercise"),
            cls.COMMAND_POST: _l("Command post exercise"),
            cls.LIVE_FIRE: _l("Live-fire exercise"),
            cls.TRANSFER: _l("Transfer of forces"),
            cls.CONCENTRATION: _l("Concentration of forces"),
            cls.AMPHIBIOUS: _l("Amphibious landing"),
            cls.AIRBORNE: _l("Parachute (airborne) assault"),
            cls.JOINT_MULTINATIONAL: _l("Joint multinational exercise"),
            cls.COUNTER_TERRORISM: _l("Counter-terrorism exercise"),
        }


class ParticipantRole(LabelledEnum):
    CO_ORGANISER = "co_organiser"
    PARTICIPANT = "participant"
    OBSERVER = "observer"

    @classmethod
    def _labels(cls):
        return {
            cls.CO_ORGANISER: _l("Co-organiser"),
            cls.PARTICIPANT: _l("Participant"),
            cls.OBSERVER: _l("Observer"),
        }


class PhaseName(LabelledEnum):
    DEPLOYMENT = "deployment"
    CONCENTRATION = "concentration"
    ACTIVE = "active"
    RECOVERY = "recovery"

    @classmethod
    def _labels(cls):
        return {
            cls.DEPLOYMENT: _l("Deployment"),
            cls.CONCENTRATION: _l("Concentration"),
            cls.ACTIVE: _l("Active phase"),
            cls.RECOVERY: _l("Recovery"),
        }


class VisitKind(LabelledEnum):
    AIR_BASE = "air_base"
    UNIT = "unit"
    TRAINING_GROUND = "training_ground"
    NAVAL_BASE = "naval_base"
    ACADEMY = "academy"
    WEAPON_DEMONSTRATION = "weapon_demonstration"
    DISPEL_CONCERNS = "dispel_concerns"
    BORDER_POST = "border_post"

    @classmethod
    def _labels(cls):
        return {
            cls.AIR_BASE: _l("Air base"),
            cls.UNIT: _l("Unit or formation"),
            cls.TRAINING_GROUND: _l("Training ground"),
            cls.NAVAL_BASE: _l("Naval base"),
            cls.ACADEMY: _l("Military academy"),
            cls.WEAPON_DEMONSTRATION: _l("Demonstration of a new weapon system"),
            cls.DISPEL_CONCERNS: _l("Visit to dispel concerns"),
            cls.BORDER_POST: _l("Border post"),
        }


class VisitStatus(LabelledEnum):
    """The visit's own life, apart from the review of the offer: planned until the Secretariat accepts the offer
    and the invitations go out; then held, postponed (new dates) or cancelled."""

    PLANNED = "planned"
    INVITATIONS_SENT = "invitations_sent"
    POSTPONED = "postponed"
    HELD = "held"
    CANCELLED = "cancelled"

    @classmethod
    def _labels(cls):
        return {
            cls.PLANNED: _l("Planned"),
            cls.INVITATIONS_SENT: _l("Invitations sent"),
            cls.POSTPONED: _l("Postponed"),
            cls.HELD: _l("Held"),
            cls.CANCELLED: _l("Cancelled"),
        }

    @classmethod
    def _badges(cls):
        return {cls.PLANNED: "neutral", cls.INVITATIONS_SENT: "blue", cls.POSTPONED: "purple", cls.HELD: "green",
                cls.CANCELLED: "red"}


class CostBearer(LabelledEnum):
    HOST = "host"
    VISITING = "visiting"
    SHARED = "shared"

    @classmethod
    def _labels(cls):
        return {
            cls.HOST: _l("The host state"),
            cls.VISITING: _l("Each visiting state"),
            cls.SHARED: _l("Shared, as described in the note"),
        }


class AnswerDecision(LabelledEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"

    @classmethod
    def _labels(cls):
        return {cls.ACCEPTED: _l("Accepted"), cls.DECLINED: _l("Declined")}

    @classmethod
    def _badges(cls):
        return {cls.ACCEPTED: "green", cls.DECLINED: "neutral"}


class VisitRequestStatus(LabelledEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"

    @classmethod
    def _labels(cls):
        return {
            cls.OPEN: _l("Awaiting the host's answer"),
            cls.ACCEPTED: _l("Accepted by the host"),
            cls.DECLINED: _l("Declined by the host"),
            cls.WITHDRAWN: _l("Withdrawn"),
        }

    @classmethod
    def _badges(cls):
        return {cls.OPEN: "blue", cls.ACCEPTED: "green", cls.DECLINED: "neutral", cls.WITHDRAWN: "neutral"}


class UnitKind(LabelledEnum):
    """Kinds of unit in a defence ministry's organisation chart."""

    MINISTRY = "ministry"
    GENERAL_STAFF = "general_staff"
    SERVICE = "service"
    MILITARY_DISTRICT = "military_district"
    DIRECTORATE = "directorate"
    BORDER_TROOPS = "border_troops"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.MINISTRY: _l("Ministry"),
            cls.GENERAL_STAFF: _l("General staff"),
            cls.SERVICE: _l("Service (branch of the armed forces)"),
            cls.MILITARY_DISTRICT: _l("Military district"),
            cls.DIRECTORATE: _l("Directorate"),
            cls.BORDER_TROOPS: _l("Border troops"),
            cls.OTHER: _l("Other unit"),
        }


class PositionKind(LabelledEnum):
    """Senior official posts disclosed in a structure disclosure."""

    MINISTER = "minister"
    FIRST_DEPUTY = "first_deputy"
    DEPUTY = "deputy"
    CHIEF_OF_GENERAL_STAFF = "chief_of_general_staff"
    SERVICE_COMMANDER = "service_commander"
    HEAD_OF_DIRECTORATE = "head_of_directorate"
    COOPERATION_CONTACT = "cooperation_contact"
    OTHER = "other"

    @classmethod
    def _labels(cls):
        return {
            cls.MINISTER: _l("Minister"),
            cls.FIRST_DEPUTY: _l("First deputy minister"),
            cls.DEPUTY: _l("Deputy minister"),
            cls.CHIEF_OF_GENERAL_STAFF: _l("Chief of the general staff"),
            cls.SERVICE_COMMANDER: _l("Service commander"),
            cls.HEAD_OF_DIRECTORATE: _l("Head of directorate"),
            cls.COOPERATION_CONTACT: _l("International-cooperation contact"),
            cls.OTHER: _l("Other post"),
        }
