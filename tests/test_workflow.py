"""The shared submission workflow: every action from every status by every kind of actor."""

import threading
from datetime import date

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.enums import RecordType
from registry.models import AuditEntry, OutboxMessage, Submission, SubmissionEvent
from registry.services import calendars
from registry.services import submissions as svc
from registry.services.errors import Conflict, PermissionDenied, ValidationFailed
from registry.services.submissions import InvalidTransition
from tests.factories import PATHS, make_submission, state, user

# The specification, written out independently of registry/workflow.py.
# action: (statuses it is allowed from, resulting status, resulting status for an amendment)
SPEC = {
    "edit": ({"draft", "returned"}, None, None),
    "submit": ({"draft", "returned"}, "submitted", "submitted"),
    "delete": ({"draft"}, "deleted", "accepted"),
    "withdraw": ({"submitted", "returned"}, "withdrawn", "accepted"),
    "accept": ({"submitted"}, "accepted", "accepted"),
    "return": ({"submitted"}, "returned", "returned"),
    "amend": ({"accepted"}, "draft", "draft"),
    "request_cancellation": ({"accepted"}, "cancellation_requested", None),
    "accept_cancellation": ({"cancellation_requested"}, "cancelled", None),
    "reject_cancellation": ({"cancellation_requested"}, "accepted", None),
    "comment": ({"draft", "submitted", "returned", "accepted", "withdrawn", "cancellation_requested",
                 "cancelled"}, None, None),
}
FILER_ACTIONS = {"edit", "submit", "delete", "withdraw", "amend", "request_cancellation"}
REVIEWER_ACTIONS = {"accept", "return", "accept_cancellation", "reject_cancellation"}
# Who may do what, for a record filed by an officer of Kazakhstan.
ACTORS = {
    "officer_own": FILER_ACTIONS | {"comment"},
    "officer_other": set(),
    "reviewer": REVIEWER_ACTIONS | {"comment"},
    "auditor": set(),
    "admin": set(),
}


@pytest.fixture
def people(make_user):
    return {
        "officer_own": make_user("officer", "KZ"),
        "officer_other": make_user("officer", "CN"),
        "reviewer": make_user("secretariat"),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }


def _audit_count() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


@pytest.mark.parametrize("status", list(PATHS))
@pytest.mark.parametrize("action", list(SPEC))
@pytest.mark.parametrize("actor_key", list(ACTORS))
def test_transition_table(app, people, status, action, actor_key):
    sources, target, amendment_target = SPEC[action]
    amendment = status.startswith("amend_")
    plain_status = status.removeprefix("amend_")
    with app.app_context():
        submission = make_submission(people["officer_own"].id, people["reviewer"].id, status)
        actor = user(people[actor_key].id)
        audits_before = _audit_count()
        allowed_by_role = action in ACTORS[actor_key]
        allowed_by_status = plain_status in sources
        if allowed_by_role and allowed_by_status:
            if action == "edit":
                revision = svc.editable_revision(actor, submission)
                assert not revision.is_frozen
                return
            svc.perform(actor, submission, action, comment="because")
            db.session.commit()
            expected = (amendment_target if amendment else target) or plain_status
            assert submission.status.value == expected
            assert _audit_count() == audits_before + 1
            assert submission.events[-1].action == action
            return
        expected_error = PermissionDenied if not allowed_by_role else InvalidTransition
        # A filer acting on a status that forbids it is refused by the workflow; a stranger by the policy.
        if action == "edit":
            with pytest.raises((PermissionDenied, InvalidTransition)) as caught:
                svc.editable_revision(actor, submission)
        else:
            with pytest.raises((PermissionDenied, InvalidTransition)) as caught:
                svc.perform(actor, submission, action, comment="because")
        assert isinstance(caught.value, expected_error)
        db.session.rollback()
        db.session.expire_all()
        assert submission.status.value == plain_status
        assert _audit_count() == audits_before


def test_reference_numbers_are_per_type_and_year_and_never_reused(app, people):
    with app.app_context():
        first = make_submission(people["officer_own"].id, people["reviewer"].id, "draft")
        second = make_submission(people["officer_own"].id, people["reviewer"].id, "deleted")
        third = make_submission(people["officer_own"].id, people["reviewer"].id, "draft")
        year = first.created_at.year  # numbered by the year of filing
        assert [first.reference, second.reference, third.reference] == [
            f"CAL-{year}-0001", f"CAL-{year}-0002", f"CAL-{year}-0003"]


def test_nobody_reviews_their_own_entry(app, people, make_user):
    """The Secretariat enters a record on a state's behalf; the same person cannot accept it."""
    with app.app_context():
        clerk = user(people["reviewer"].id)
        record = calendars.create_calendar(
            clerk, state("KZ"), 2095,
            [calendars.EntryInput("Vostok", "field_training", date(2095, 9, 1), date(2095, 9, 7))],
            source_document="Note verbale No. 12/345 of 1 March 2026")
        svc.submit(clerk, record)
        db.session.commit()
        assert record.entered_on_behalf
        with pytest.raises(PermissionDenied):
            svc.accept(clerk, record)
        db.session.rollback()
        other = user(make_user("secretariat").id)
        svc.accept(other, record)
        db.session.commit()
        assert record.status.value == "accepted"


def test_on_behalf_entry_must_cite_its_source(app, people):
    with app.app_context():
        with pytest.raises(ValidationFailed) as caught:
            svc.create_submission(user(people["reviewer"].id), RecordType.CALENDAR, state("KZ"), source_document=" ")
        assert "source_document" in caught.value.errors


def test_an_officer_cannot_create_for_another_state(app, people):
    with app.app_context():
        with pytest.raises(PermissionDenied):
            svc.create_submission(user(people["officer_own"].id), RecordType.CALENDAR, state("CN"))


def test_return_needs_a_reason_and_starts_a_new_version(app, people):
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "submitted")
        reviewer = user(people["reviewer"].id)
        with pytest.raises(ValidationFailed) as caught:
            svc.return_for_correction(reviewer, record, comment="   ")
        assert "comment" in caught.value.errors
        db.session.rollback()
        svc.return_for_correction(reviewer, record, comment="Give the troop numbers by service.",
                                  comment_visibility="shared")
        db.session.commit()
        assert record.current_revision_no == 2
        assert record.revision(1).is_frozen and not record.revision(2).is_frozen
        assert record.events[-1].comment == "Give the troop numbers by service."
        assert record.events[-1].revision_no == 1  # the decision names the version it judged


def test_amendment_keeps_the_accepted_version(app, people):
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "amend_submitted")
        assert record.accepted_revision_no == 1
        assert record.current_revision_no == 2
        assert record.is_amendment
        svc.accept(user(people["reviewer"].id), record)
        db.session.commit()
        assert record.accepted_revision_no == 2 and not record.is_amendment


def test_withdrawing_an_amendment_restores_the_accepted_version(app, people):
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "amend_draft")
        svc.delete_draft(user(people["officer_own"].id), record)
        db.session.commit()
        assert record.status.value == "accepted"
        assert record.current_revision_no == record.accepted_revision_no == 1
        assert [r.number for r in record.revisions] == [1]


def test_submitted_versions_are_frozen_with_a_snapshot(app, people):
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "submitted")
        revision = record.revision(1)
        assert revision.frozen_at is not None
        assert revision.snapshot["envelope"]["reference"] == record.reference
        assert revision.submitted_by_id == people["officer_own"].id


def test_a_stale_version_is_refused(app, people):
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "submitted")
        seen = record.lock_version
        # A comment is not a change to the record: it does not make the reviewer's page stale.
        svc.add_comment(user(people["reviewer"].id), record, comment="first look", expected_lock=seen)
        db.session.commit()
        assert record.lock_version == seen
        # The officer withdraws and files again meanwhile; the reviewer's page still shows the old version.
        svc.withdraw(user(people["officer_own"].id), record, expected_lock=seen)
        db.session.commit()
        with pytest.raises(Conflict):
            svc.accept(user(people["reviewer"].id), record, expected_lock=seen)
        db.session.rollback()
        assert record.status.value == "withdrawn"


def test_notifications_are_queued_with_the_change(app, people):
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
        make_submission(people["officer_own"].id, people["reviewer"].id, "accepted")
        kinds = list(db.session.scalars(select(OutboxMessage.kind).order_by(OutboxMessage.id)))[before:]
        assert "submission.submit" in kinds and "submission.accept" in kinds


def test_two_reviewers_at_the_same_moment_decide_once(app, people, make_user):
    """Both open version N and press accept/return together: exactly one decision is recorded."""
    second = make_user("secretariat")
    with app.app_context():
        record = make_submission(people["officer_own"].id, people["reviewer"].id, "submitted")
        record_id, seen = record.id, record.lock_version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(name: str, reviewer_id: int, action: str) -> None:
        with app.app_context():
            submission = db.session.get(Submission, record_id)
            reviewer = user(reviewer_id)
            barrier.wait()
            try:
                svc.perform(reviewer, submission, action, comment="decision", expected_lock=seen)
                db.session.commit()
                outcomes[name] = "ok"
            except Conflict:
                db.session.rollback()
                outcomes[name] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=decide, args=("a", people["reviewer"].id, "accept")),
               threading.Thread(target=decide, args=("b", second.id, "return"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "ok"]
    with app.app_context():
        decisions = db.session.scalars(select(SubmissionEvent.action).where(
            SubmissionEvent.submission_id == record_id, SubmissionEvent.action.in_(["accept", "return"]))).all()
        assert len(decisions) == 1
        audits = db.session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action.in_(["submission.accept", "submission.return"])))
        assert audits == 1
