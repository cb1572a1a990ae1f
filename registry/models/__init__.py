"""All tables, one module per area; importing this package registers them on the metadata."""

from registry.models.api_token import ApiToken
from registry.models.audit import AuditCheckpoint, AuditEntry, AuditHead
from registry.models.exercise import (
    CalendarDetails,
    CalendarEntry,
    ExerciseDetails,
    ExerciseParticipant,
    ExercisePhase,
)
from registry.models.export import ExportJob
from registry.models.inquiry import Inquiry
from registry.models.outbox import NotificationPreference, OutboxMessage
from registry.models.security import LoginThrottle, PasswordResetToken, RecoveryCode, SecuritySetting
from registry.models.setting import ProfileInForce
from registry.models.state import MemberState, StatusPeriod
from registry.models.structure import StructureDetails, StructureHolder, StructurePosition, StructureUnit
from registry.models.submission import ReferenceCounter, Revision, Submission, SubmissionEvent
from registry.models.user import LoginSession, User
from registry.models.visit import (
    Attachment,
    Visit,
    VisitAnswer,
    VisitDetails,
    VisitInvitation,
    VisitPaper,
    VisitParticipant,
    VisitRequest,
)

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditCheckpoint",
    "AuditEntry",
    "AuditHead",
    "CalendarDetails",
    "CalendarEntry",
    "ExerciseDetails",
    "ExerciseParticipant",
    "ExercisePhase",
    "ExportJob",
    "Inquiry",
    "LoginSession",
    "LoginThrottle",
    "MemberState",
    "NotificationPreference",
    "OutboxMessage",
    "PasswordResetToken",
    "ProfileInForce",
    "RecoveryCode",
    "ReferenceCounter",
    "Revision",
    "SecuritySetting",
    "StatusPeriod",
    "StructureDetails",
    "StructureHolder",
    "StructurePosition",
    "StructureUnit",
    "Submission",
    "SubmissionEvent",
    "User",
    "Visit",
    "VisitAnswer",
    "VisitDetails",
    "VisitInvitation",
    "VisitPaper",
    "VisitParticipant",
    "VisitRequest",
]
