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
from registry.models.security import LoginThrottle, PasswordResetToken, RecoveryCode, SecuritySetting
from registry.models.setting import ProfileInForce
from registry.models.state import MemberState, StatusPeriod
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
    "Attachment",
    "AuditEntry",
    "CalendarDetails",
    "CalendarEntry",
    "ExerciseDetails",
    "ExerciseParticipant",
    "ExercisePhase",
    "Inquiry",
    "LoginSession",
    "LoginThrottle",
    "MemberState",
    "OutboxMessage",
    "PasswordResetToken",
    "ProfileInForce",
    "RecoveryCode",
    "ReferenceCounter",
    "Revision",
    "SecuritySetting",
    "StatusPeriod",
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
