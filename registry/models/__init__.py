"""All tables, one module per area; importing this package registers them on the metadata."""

from registry.models.audit import AuditEntry
from registry.models.exercise import (
    CalendarDetails,
    CalendarEntry,
    ExerciseDetails,
    ExerciseParticipant,
    ExercisePhase,
)
from registry.models.inquiry import Inquiry
from registry.models.outbox import OutboxMessage
from registry.models.setting import ProfileInForce
from registry.models.state import MemberState, StatusPeriod
from registry.models.structure import StructureDetails, StructureHolder, StructurePosition, StructureUnit
from registry.models.submission import ReferenceCounter, Revision, Submission, SubmissionEvent
from registry.models.user import LoginSession, User

__all__ = [
    "AuditEntry",
    "CalendarDetails",
    "CalendarEntry",
    "ExerciseDetails",
    "ExerciseParticipant",
    "ExercisePhase",
    "Inquiry",
    "LoginSession",
    "MemberState",
    "OutboxMessage",
    "ProfileInForce",
    "ReferenceCounter",
    "Revision",
    "StatusPeriod",
    "StructureDetails",
    "StructureHolder",
    "StructurePosition",
    "StructureUnit",
    "Submission",
    "SubmissionEvent",
    "User",
]
