"""The shared submission workflow: create, submit, review, amend, cancel, comment.

One generic `perform()` applies a row of the workflow table (registry/workflow.py); the named
functions below (`submit`, `accept`, `return_for_correction`, ...) are what callers use.
"""

import re
from contextlib import contextmanager
from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.exc import StaleDataError

from registry.db import db, utcnow
from registry.enums import CommentVisibility, RecordType, Role, StateStatus, SubmissionStatus, Visibility
from registry.i18n import _, _l
from registry.models import MemberState, ReferenceCounter, Revision, Submission, SubmissionEvent, User
from registry.models.submission import SOURCE_DOCUMENT_MAX
from registry.records import adapter_for, after_transition
from registry.services import audit, notifications
from registry.services.errors import Conflict, ValidationFailed
from registry.services.permissions import can, require
from registry.services.validation import Errors, clean_text
from registry.workflow import TRANSITIONS, target_status

COMMENT_MAX = 4000
FILING_STATUSES = (StateStatus.MEMBER, StateStatus.PARTNER)
LANGUAGES = ("ru", "zh", "en")


class InvalidTransition(Conflict):
    """The action is not allowed from the record's current status (perhaps it changed meanwhile)."""


def next_reference(record_type: RecordType, year: int) -> str:
    """EXN-2026-0007: an atomic counter per type and year, so two filers never get the same number."""
    return numbered_reference(record_type.value, record_type.prefix, year)


def numbered_reference(counter: str, prefix: str, year: int) -> str:
    """The next number of `counter` in `year`, as PREFIX-YEAR-NNNN (also for records outside the workflow)."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    # One statement: the year's first number creates the counter, every later one increments it (the row is
    # locked by the write until the transaction ends, so two filers never read the same value).
    number = db.session.execute(
        insert(ReferenceCounter)
        .values(record_type=counter, year=year, last=1)
        .on_conflict_do_update(index_elements=["record_type", "year"], set_={"last": ReferenceCounter.last + 1})
        .returning(ReferenceCounter.last)
    ).scalar_one()
    return f"{prefix}-{year}-{number:04d}"


IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}", re.ASCII)


def previously_created(actor, idempotency_key: str | None) -> Submission | None:
    """The record this user already opened with the same form (the key is random per form page)."""
    if not idempotency_key or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        return None
    return db.session.scalar(select(Submission).where(Submission.idempotency_key == idempotency_key,
                                                      Submission.created_by_id == actor.id))


def _usable_key(idempotency_key: str | None) -> str | None:
    """A well-formed key nobody used yet; another user's key (copied or forged) is simply not kept."""
    if not idempotency_key or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
        return None
    taken = db.session.scalar(select(Submission.id).where(Submission.idempotency_key == idempotency_key))
    return None if taken else idempotency_key


def create_submission(
    actor,
    record_type: RecordType,
    state: MemberState,
    *,
    visibility=Visibility.MEMBERS,
    is_nil: bool = False,
    due_date: date | None = None,
    language: str = "ru",
    source_document: str | None = None,
    today: date | None = None,
    idempotency_key: str | None = None,
) -> Submission:
    """Open a new draft. The Secretariat may enter one on a state's behalf, citing the note verbale."""
    require(actor, "submission.file", state)
    today = today or utcnow().date()
    errors = Errors()
    if state.status_on(today) not in FILING_STATUSES:
        errors.add("state_id", _("%(state)s is not a member state or partner today.", state=state.name_en))
    try:
        visibility = Visibility(visibility)
    except ValueError:
        errors.add("visibility", _("Choose who may see the record."))
    if language not in LANGUAGES:
        errors.add("original_language", _("Choose Russian, Chinese or English."))
    on_behalf = actor.role == Role.SECRETARIAT
    if on_behalf:
        source_document = clean_text(errors, "source_document", source_document, max_length=SOURCE_DOCUMENT_MAX)
    else:
        source_document = None
    errors.raise_if_any()

    submission = Submission(
        record_type=record_type,
        reference=next_reference(record_type, today.year),
        state_id=state.id,
        status=SubmissionStatus.DRAFT,
        visibility=visibility,
        is_nil=is_nil,
        due_date=due_date,
        entered_on_behalf=on_behalf,
        source_document=source_document,
        original_language=language,
        created_by_id=actor.id,
        current_revision_no=1,
        idempotency_key=_usable_key(idempotency_key),
    )
    submission.state = state
    submission.revisions.append(Revision(number=1, language=language))
    db.session.add(submission)
    db.session.flush()
    _event(submission, actor, "create", None, SubmissionStatus.DRAFT)
    audit.record("submission.create", actor=actor, object_type=record_type.value, object_id=submission.reference,
                 state_code=state.code,
                 changes={"status": [None, "draft"], "entered_on_behalf": [None, on_behalf],
                          "source_document": [None, source_document]})
    return submission


def clean_visibility(value) -> Visibility:
    try:
        return Visibility(value)
    except ValueError as exc:
        raise ValidationFailed({"visibility": [_("Choose who may see the record.")]}) from exc


def check_version(current: int, expected_lock, message: str | None = None) -> None:
    """The version the user saw must still be the current one: otherwise someone changed the row meanwhile.

    None means "not from a form" (the CLI, a test); a form always sends one, and an empty or garbled
    value cannot name the current version. Every optimistically locked row (records, visits, answers,
    requests) is checked here."""
    if expected_lock is None:
        return
    try:
        expected = int(expected_lock)
    except (TypeError, ValueError):
        expected = -1
    if expected != current:
        raise Conflict(message or _("This record changed since you opened it. Reload it to see the change, then "
                                    "try again."))


def check_lock(submission: Submission, expected_lock) -> None:
    check_version(submission.lock_version, expected_lock)


def can_perform(user, submission: Submission, action: str) -> bool:
    transition = TRANSITIONS[action]
    return submission.status in transition.sources and can(user, transition.who, submission)


def editable_revision(actor, submission: Submission, expected_lock=None) -> Revision:
    """The draft revision a filer may change now; checked like any other workflow action."""
    _check(actor, submission, "edit", expected_lock)
    revision = submission.current_revision
    if revision.is_frozen:  # never happens by construction; refuse rather than alter a submitted version
        raise InvalidTransition(_("This version was submitted and can no longer be changed."))
    return revision


def _check(actor, submission: Submission, action: str, expected_lock) -> None:
    transition = TRANSITIONS[action]
    require(actor, transition.who, submission)
    check_lock(submission, expected_lock)
    if submission.status not in transition.sources:
        raise InvalidTransition(
            _("This record is %(status)s: it cannot be %(action)s now.", status=submission.status.label,
              action=_action_words().get(action, action))
        )


def _action_words() -> dict[str, str]:
    """What each workflow action does to a record, as the refusal message says it."""
    return {
        "edit": _("edited"), "submit": _("submitted"), "delete": _("deleted"), "withdraw": _("withdrawn"),
        "accept": _("accepted"), "return": _("returned for correction"), "amend": _("amended"),
        "request_cancellation": _("proposed for cancellation"), "accept_cancellation": _("cancelled"),
        "reject_cancellation": _("kept after a cancellation request"), "comment": _("commented on"),
    }


def perform(actor, submission: Submission, action: str, *, expected_lock=None, comment: str | None = None,
            comment_visibility=None, today: date | None = None) -> Submission:
    """Apply one row of the workflow table. Raises PermissionDenied, InvalidTransition, Conflict or
    ValidationFailed; on success the change, its timeline event, audit entry and notifications are
    in the session, flushed but not committed."""
    with stale_as_conflict():
        return _perform(actor, submission, action, expected_lock=expected_lock, comment=comment,
                        comment_visibility=comment_visibility, today=today)


@contextmanager
def stale_as_conflict():
    """Another user's change reached the database first (our UPDATE matched no row of the version we read)."""
    try:
        yield
    except StaleDataError as exc:
        raise Conflict(_("This record changed since you opened it. Reload it to see the change, then try again.")) \
            from exc


def _perform(actor, submission: Submission, action: str, *, expected_lock, comment, comment_visibility,
             today) -> Submission:
    transition = TRANSITIONS[action]
    _check(actor, submission, action, expected_lock)
    errors = Errors()
    comment = clean_text(errors, "comment", comment, max_length=COMMENT_MAX, required=transition.needs_comment,
                         multiline=True) or None
    visibility = _comment_visibility(actor, comment_visibility, errors)
    errors.raise_if_any()

    before = audit.snapshot(submission, ["status", "current_revision_no", "accepted_revision_no", "is_late"])
    from_status = submission.status
    is_amendment = submission.is_amendment
    acted_on = submission.current_revision_no  # a review names the version it judged
    _APPLY[action](actor, submission, comment=comment, today=today or utcnow().date())
    submission.status = target_status(transition, from_status, is_amendment)
    _event(submission, actor, action, from_status, submission.status, comment, visibility, revision_no=acted_on)
    changes = audit.diff(before, audit.snapshot(
        submission, ["status", "current_revision_no", "accepted_revision_no", "is_late"]))
    if comment and action != "comment":
        changes["comment"] = [None, comment]
    audit.record(f"submission.{action}", actor=actor, object_type=submission.record_type.value,
                 object_id=submission.reference, state_code=submission.state.code, changes=changes)
    _notify(submission, action, visibility)
    after_transition(actor, submission, action, today or utcnow().date())
    db.session.flush()
    return submission


def _comment_visibility(actor, requested, errors: Errors) -> CommentVisibility:
    if actor.role != Role.SECRETARIAT:
        return CommentVisibility.SHARED  # officers' comments are always seen by the Secretariat and their state
    try:
        return CommentVisibility(requested or CommentVisibility.SHARED)
    except ValueError:
        errors.add("comment_visibility", _("Choose who may read the comment."))
        return CommentVisibility.SHARED


# --- what each action does besides changing the status -------------------------------------------------


def _noop(actor, submission, **kwargs) -> None:
    return None


def _submit(actor, submission: Submission, *, today: date, **kwargs) -> None:
    adapter = adapter_for(submission.record_type)
    revision = submission.current_revision
    findings = adapter.check(submission, revision)
    blocking = [f for f in findings if f["severity"] == "error"]
    if blocking:
        raise ValidationFailed(findings_by_field(blocking))
    now = utcnow()
    revision.snapshot = adapter.snapshot(submission, revision)
    revision.findings = findings
    revision.frozen_at = now
    revision.submitted_by_id = actor.id
    submission.submitted_by_id = actor.id
    submission.submitted_at = now
    submission.is_late = bool(submission.due_date and today > submission.due_date) or any(
        f["code"] == "late" for f in findings
    )


def findings_by_field(findings: list[dict]) -> dict[str, list[str]]:
    """Messages by the field they concern ("" for the whole record): how a form shows blocking findings."""
    by_field: dict[str, list[str]] = {}
    for finding in findings:
        by_field.setdefault(finding.get("field") or "", []).append(str(finding["message"]))
    return by_field


def _decide(actor, submission: Submission, **kwargs) -> None:
    submission.decided_by_id = actor.id
    submission.decided_at = utcnow()


def _accept(actor, submission: Submission, **kwargs) -> None:
    _decide(actor, submission)
    submission.accepted_revision_no = submission.current_revision_no


def _new_draft_revision(submission: Submission, source: Revision) -> None:
    """The next version starts as a copy of `source`; frozen versions are never edited."""
    revision = Revision(number=max(r.number for r in submission.revisions) + 1, language=source.language)
    submission.revisions.append(revision)
    db.session.flush()
    adapter_for(submission.record_type).copy_details(source, revision)
    submission.current_revision_no = revision.number


def _return(actor, submission: Submission, **kwargs) -> None:
    _decide(actor, submission)
    _new_draft_revision(submission, submission.current_revision)


def _amend(actor, submission: Submission, **kwargs) -> None:
    _new_draft_revision(submission, submission.accepted_revision)


def _discard_unfrozen(submission: Submission) -> None:
    """Withdrawing or deleting an amendment: the accepted version is current again."""
    revision = submission.current_revision
    if submission.is_amendment:
        if not revision.is_frozen:
            submission.revisions.remove(revision)
        submission.current_revision_no = submission.accepted_revision_no


def _withdraw(actor, submission: Submission, **kwargs) -> None:
    _discard_unfrozen(submission)


def _delete(actor, submission: Submission, **kwargs) -> None:
    if any(r.is_frozen for r in submission.revisions) and not submission.is_amendment:
        # A draft that was once submitted keeps its history: it is withdrawn, not deleted.
        raise InvalidTransition(_("This record was submitted before; withdraw it instead of deleting it."))
    _discard_unfrozen(submission)


def _request_cancellation(actor, submission: Submission, *, comment: str, **kwargs) -> None:
    submission.cancel_reason = comment


def _reject_cancellation(actor, submission: Submission, **kwargs) -> None:
    _decide(actor, submission)
    submission.cancel_reason = None


_APPLY = {
    "edit": _noop,
    "submit": _submit,
    "delete": _delete,
    "withdraw": _withdraw,
    "accept": _accept,
    "return": _return,
    "amend": _amend,
    "request_cancellation": _request_cancellation,
    "accept_cancellation": _decide,
    "reject_cancellation": _reject_cancellation,
    "comment": _noop,
}
assert set(_APPLY) == set(TRANSITIONS), "every workflow action needs its effect"


def _event(submission, actor, action, from_status, to_status, comment=None, visibility=None,
           revision_no=None) -> None:
    # Set from the event's side: the record's timeline is not loaded (a SELECT) just to append to it; a timeline
    # already loaded gets the event all the same (back_populates).
    db.session.add(SubmissionEvent(
        submission=submission,
        revision_no=revision_no or submission.current_revision_no,
        action=action,
        from_status=from_status.value if from_status else None,
        to_status=to_status.value if to_status else None,
        actor_id=actor.id,
        actor_label=actor.email,
        comment=comment,
        comment_visibility=visibility if comment else None,
    ))


def _secretariat() -> list[User]:
    return list(db.session.scalars(select(User).where(User.role == Role.SECRETARIAT, User.active.is_(True))))


def _notify(submission: Submission, action: str, visibility: CommentVisibility) -> None:
    # The recipients and their preferences do not depend on the action's changes, so they are read before those
    # are flushed: on SQLite the flush takes the database's write lock, held until the commit.
    with db.session.no_autoflush:
        _queue_notifications(submission, action, visibility)


def _queue_notifications(submission: Submission, action: str, visibility: CommentVisibility) -> None:
    reference = submission.reference
    if action in ("submit", "request_cancellation"):
        recipients, subject = _secretariat(), _l("%(ref)s awaits review", ref=reference)
    elif action in ("accept", "return", "accept_cancellation", "reject_cancellation"):
        recipients = notifications.officers_of(submission.state_id)
        subject = _l("%(ref)s: %(status)s", ref=reference, status=submission.status.lazy_label)
    elif action == "comment" and visibility == CommentVisibility.SHARED:
        recipients = notifications.officers_of(submission.state_id) + _secretariat()
        subject = _l("New comment on %(ref)s", ref=reference)
    else:
        return
    for user in recipients:
        notifications.queue(user, f"submission.{action}", subject,
                            _l("%(ref)s is now: %(status)s.", ref=reference, status=submission.status.lazy_label),
                            {"reference": reference, "action": action})


def submit(actor, submission, **kwargs):
    return perform(actor, submission, "submit", **kwargs)


def withdraw(actor, submission, **kwargs):
    return perform(actor, submission, "withdraw", **kwargs)


def delete_draft(actor, submission, **kwargs):
    return perform(actor, submission, "delete", **kwargs)


def accept(actor, submission, **kwargs):
    return perform(actor, submission, "accept", **kwargs)


def return_for_correction(actor, submission, **kwargs):
    return perform(actor, submission, "return", **kwargs)


def amend(actor, submission, **kwargs):
    return perform(actor, submission, "amend", **kwargs)


def request_cancellation(actor, submission, **kwargs):
    return perform(actor, submission, "request_cancellation", **kwargs)


def accept_cancellation(actor, submission, **kwargs):
    return perform(actor, submission, "accept_cancellation", **kwargs)


def reject_cancellation(actor, submission, **kwargs):
    return perform(actor, submission, "reject_cancellation", **kwargs)


def add_comment(actor, submission, **kwargs):
    return perform(actor, submission, "comment", **kwargs)
