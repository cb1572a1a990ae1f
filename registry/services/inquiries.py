"""Inquiries about a notified activity (1996 Shanghai agreement, art. 9): another state asks, the notifying
state answers within the profile's days (7, or 2 in an emergency). Both appear on the record's timeline."""

from datetime import timedelta

from sqlalchemy import select

from registry.db import db, utcnow
from registry.enums import CommentVisibility, Role, SubmissionStatus
from registry.i18n import _, _l
from registry.models import Inquiry, Submission, SubmissionEvent
from registry.services import audit, notifications
from registry.services.errors import PermissionDenied, ValidationFailed
from registry.services.permissions import require
from registry.services.profiles import profile_value
from registry.services.scoping import visible
from registry.services.validation import Errors, clean_text

QUESTION_MAX = 4000
ASKABLE = (SubmissionStatus.ACCEPTED, SubmissionStatus.CANCELLATION_REQUESTED)


def _timeline(submission: Submission, actor, action: str, text: str) -> None:
    submission.events.append(SubmissionEvent(
        revision_no=submission.current_revision_no, action=action, from_status=None, to_status=None,
        actor_id=actor.id, actor_label=actor.email, comment=text, comment_visibility=CommentVisibility.SHARED,
    ))


def ask(actor, submission: Submission, question: str, emergency: bool = False) -> Inquiry:
    require(actor, "inquiry.ask", submission)
    # Only a record the officer can see, and one that was notified (accepted), can be asked about.
    if db.session.scalar(visible(actor, Submission).where(Submission.id == submission.id)) is None:
        raise PermissionDenied("inquiry.ask")
    errors = Errors()
    question = clean_text(errors, "question", question, max_length=QUESTION_MAX, multiline=True)
    if submission.status not in ASKABLE:
        errors.add("question", _("Questions can be asked about accepted notifications only."))
    days = profile_value("inquiry_emergency_days" if emergency else "inquiry_days")
    if days is None:
        errors.add("question", _("No threshold profile defines the time to answer an inquiry."))
    errors.raise_if_any()
    now = utcnow()
    inquiry = Inquiry(submission_id=submission.id, asking_state_id=actor.state_id, asked_by_id=actor.id,
                      asked_at=now, question=question, emergency=bool(emergency), due_at=now + timedelta(days=days))
    db.session.add(inquiry)
    _timeline(submission, actor, "inquiry", question)
    db.session.flush()
    audit.record("inquiry.ask", actor=actor, object_type="inquiry", object_id=inquiry.id,
                 state_code=actor.state.code, changes={"submission": [None, submission.reference],
                                                       "emergency": [None, bool(emergency)],
                                                       "due_at": [None, inquiry.due_at.isoformat()]})
    for officer in notifications.officers_of(submission.state_id):
        notifications.queue(officer, "inquiry.ask", _l("Inquiry about %(ref)s", ref=submission.reference),
                            _l("A question about %(ref)s is due for an answer by %(due)s.",
                              ref=submission.reference, due=inquiry.due_at.strftime("%Y-%m-%d %H:%M UTC")))
    return inquiry


def answer(actor, inquiry: Inquiry, text: str) -> Inquiry:
    require(actor, "inquiry.answer", inquiry.submission)
    errors = Errors()
    text = clean_text(errors, "answer", text, max_length=QUESTION_MAX, multiline=True)
    if inquiry.answered_at is not None:
        errors.add("answer", _("This inquiry was answered already."))
    errors.raise_if_any()
    inquiry.answer, inquiry.answered_by_id, inquiry.answered_at = text, actor.id, utcnow()
    _timeline(inquiry.submission, actor, "inquiry_answer", text)
    audit.record("inquiry.answer", actor=actor, object_type="inquiry", object_id=inquiry.id,
                 state_code=inquiry.submission.state.code,
                 changes={"answered_at": [None, inquiry.answered_at.isoformat()],
                          "late": [None, inquiry.answered_at > inquiry.due_at]})
    for officer in notifications.officers_of(inquiry.asking_state_id):
        notifications.queue(officer, "inquiry.answer",
                            _l("Answer to your inquiry about %(ref)s", ref=inquiry.submission.reference),
                            _l("The notifying state has answered your question about %(ref)s.",
                              ref=inquiry.submission.reference))
    return inquiry


def visible_inquiries(user, submission: Submission) -> list[Inquiry]:
    """The asking and the notifying state, the Secretariat and auditors see an inquiry."""
    stmt = select(Inquiry).where(Inquiry.submission_id == submission.id).order_by(Inquiry.id)
    if user.role == Role.OFFICER and user.state_id != submission.state_id:
        stmt = stmt.where(Inquiry.asking_state_id == user.state_id)
    elif user.role not in (Role.OFFICER, Role.SECRETARIAT, Role.AUDITOR):
        return []
    return list(db.session.scalars(stmt))


def overdue(now=None) -> list[Inquiry]:
    now = now or utcnow()
    return list(db.session.scalars(
        select(Inquiry).where(Inquiry.answered_at.is_(None), Inquiry.due_at < now).order_by(Inquiry.due_at)
    ))


def check_can_answer(actor, inquiry: Inquiry) -> None:
    require(actor, "inquiry.answer", inquiry.submission)
    if inquiry.answered_at is not None:
        raise ValidationFailed({"answer": [_("This inquiry was answered already.")]})
