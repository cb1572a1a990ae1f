"""Inquiries about a notified exercise (1996 Shanghai agreement, art. 9): another state asks, the notifying
state answers within the days of the profile; both are on the record's timeline, in the audit log and in the
outbox of the right officers. The days are read from the profiles, never written here."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.enums import CommentVisibility
from registry.models import AuditEntry, Inquiry, OutboxMessage, Submission, SubmissionEvent
from registry.services import exercises
from registry.services import inquiries as svc
from registry.services.errors import PermissionDenied, ValidationFailed
from registry.services.exercises import ExerciseInput, ParticipantInput
from registry.services.profiles import profiles_in_force
from registry.services.scoping import visible
from tests.factories import PATHS, drive, state, user

QUESTION = "Will the live-fire phase take place within 100 km of the border with China?"
ANSWER = "No: the live-fire phase is held at Matybulak, 230 km from the border."


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        kz=make_user("officer", "KZ"),
        kz_second=make_user("officer", "KZ"),
        kz_inactive=make_user("officer", "KZ", active=False),
        cn=make_user("officer", "CN"),
        cn_second=make_user("officer", "CN"),
        ru=make_user("officer", "RU"),
        mn=make_user("officer", "MN"),
        reviewer=make_user("secretariat"),
        auditor=make_user("auditor"),
        admin=make_user("admin"),
    )


def exercise(people, status: str = "accepted", visibility: str = "members") -> Submission:
    """A joint exercise of Kazakhstan with Russia, brought to `status` through the workflow, committed."""
    start = date(utcnow().year + 2, 9, 9)
    data = ExerciseInput(
        values={"designation_ru": "Мирная миссия", "designation_en": "Peace Mission", "exercise_type":
                "counter_terrorism", "start_date": start, "end_date": start + timedelta(days=12),
                "area_description": "Matybulak training ground", "troops_total": "3000"},
        participants=[ParticipantInput(state("RU").id, "participant", "Motor rifle company", "300")])
    filer = user(people.kz.id)
    submission = exercises.create_exercise(filer, state("KZ"), data, visibility=visibility)
    drive(submission, PATHS[status], filer, user(people.reviewer.id))
    db.session.commit()
    return submission


def days_to_answer(attribute: str) -> int:
    """The answer period of the profile in force that sets it (the 1996 agreement, art. 9)."""
    values = {getattr(p, attribute) for p in profiles_in_force() if getattr(p, attribute) is not None}
    assert len(values) == 1, f"expected one profile in force to set {attribute}, found {values}"
    return values.pop()


def outbox_since(first_id: int, kind: str) -> set[int]:
    stmt = select(OutboxMessage.recipient_id).where(OutboxMessage.id > first_id, OutboxMessage.kind == kind)
    return set(db.session.scalars(stmt))


def last_outbox_id() -> int:
    return db.session.scalar(select(func.coalesce(func.max(OutboxMessage.id), 0)))


def audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def counts() -> tuple[int, int, int]:
    """Inquiries, inquiry timeline events and inquiry audit entries: what a refused request must not change."""
    return (
        db.session.scalar(select(func.count()).select_from(Inquiry)),
        db.session.scalar(select(func.count()).select_from(SubmissionEvent).where(
            SubmissionEvent.action.in_(["inquiry", "inquiry_answer"]))),
        db.session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action.like("inquiry.%"))),
    )


@pytest.mark.parametrize(("emergency", "attribute"), [(False, "inquiry_days"), (True, "inquiry_emergency_days")])
def test_a_member_asks_and_the_notifying_state_answers(app, people, emergency, attribute):
    with app.app_context():
        record = exercise(people)
        before = last_outbox_id()
        inquiry = svc.ask(user(people.cn.id), record, QUESTION, emergency=emergency)
        db.session.commit()

        assert inquiry.asking_state.code == "CN" and inquiry.asked_by_id == people.cn.id
        assert inquiry.emergency is emergency and inquiry.answered_at is None
        assert inquiry.due_at - inquiry.asked_at == timedelta(days=days_to_answer(attribute))
        asked = record.events[-1]
        assert (asked.action, asked.comment, asked.actor_id) == ("inquiry", QUESTION, people.cn.id)
        assert asked.comment_visibility == CommentVisibility.SHARED
        [entry] = audit("inquiry.ask")
        assert (entry.actor_id, entry.state_code, entry.object_id) == (people.cn.id, "CN", str(inquiry.id))
        assert entry.changes["submission"] == [None, record.reference]
        assert entry.changes["emergency"] == [None, emergency]
        # The notifying state's active officers are told; nobody else.
        assert outbox_since(before, "inquiry.ask") == {people.kz.id, people.kz_second.id}
        assert outbox_since(before, "inquiry.answer") == set()

        before = last_outbox_id()
        svc.answer(user(people.kz_second.id), inquiry, ANSWER)
        db.session.commit()
        assert (inquiry.answer, inquiry.answered_by_id) == (ANSWER, people.kz_second.id)
        assert inquiry.answered_at is not None and not inquiry.is_overdue()
        answered = record.events[-1]
        assert (answered.action, answered.comment, answered.actor_id) == ("inquiry_answer", ANSWER, people.kz_second.id)
        [entry] = audit("inquiry.answer")
        assert (entry.actor_id, entry.state_code, entry.object_id) == (people.kz_second.id, "KZ", str(inquiry.id))
        assert entry.changes["late"] == [None, False]
        # The asking state's officers get the answer.
        assert outbox_since(before, "inquiry.answer") == {people.cn.id, people.cn_second.id}
        assert outbox_since(before, "inquiry.ask") == set()
        assert record.status.value == "accepted"  # an inquiry changes nothing in the workflow


def test_only_the_two_states_the_secretariat_and_auditors_see_an_inquiry(app, people):
    with app.app_context():
        record = exercise(people, visibility="public")
        inquiry = svc.ask(user(people.cn.id), record, QUESTION)
        svc.answer(user(people.kz.id), inquiry, ANSWER)
        db.session.commit()
        sees = {name: svc.visible_inquiries(user(getattr(people, name).id), record) == [inquiry]
                for name in ("kz", "cn", "ru", "mn", "reviewer", "auditor", "admin")}
        assert sees == {"kz": True, "cn": True, "ru": False, "mn": False, "reviewer": True, "auditor": True,
                        "admin": False}
        # On the timeline: the notifying state and the Secretariat see question and answer; a third state neither.
        for name, expected in (("kz", True), ("reviewer", True), ("ru", False), ("mn", False)):
            actions = {e.action for e in db.session.scalars(
                visible(user(getattr(people, name).id), SubmissionEvent)
                .where(SubmissionEvent.submission_id == record.id))}
            assert ({"inquiry", "inquiry_answer"} <= actions) is expected, name
            assert expected or not actions & {"inquiry", "inquiry_answer"}, name


def test_the_conducting_state_cannot_ask_itself(app, people):
    with app.app_context():
        record = exercise(people, visibility="public")
        with pytest.raises(PermissionDenied):
            svc.ask(user(people.kz.id), record, QUESTION)
        db.session.rollback()
        assert counts() == (0, 0, 0)


# Who may not ask, about what: (status, visibility chosen by Kazakhstan, who asks, the refusal).
REFUSED = [
    ("draft", "public", "cn", PermissionDenied),  # never accepted: another state cannot even see it
    ("submitted", "public", "cn", PermissionDenied),
    ("returned", "public", "cn", PermissionDenied),
    ("withdrawn", "public", "cn", PermissionDenied),
    ("accepted", "secretariat", "cn", PermissionDenied),  # a record China may not see
    ("accepted", "members", "mn", PermissionDenied),  # members only; Mongolia is a partner
    ("amend_draft", "public", "cn", ValidationFailed),  # visible, but the record is a draft again
    ("cancelled", "public", "cn", ValidationFailed),  # the activity no longer takes place
    ("accepted", "public", "reviewer", PermissionDenied),  # states ask states: not the Secretariat
    ("accepted", "public", "auditor", PermissionDenied),
    ("accepted", "public", "admin", PermissionDenied),
]


@pytest.mark.parametrize(("status", "visibility", "asker", "refusal"), REFUSED)
def test_who_cannot_ask_about_what(app, people, status, visibility, asker, refusal):
    with app.app_context():
        record = exercise(people, status, visibility)
        with pytest.raises(refusal) as caught:
            svc.ask(user(getattr(people, asker).id), record, QUESTION)
        if refusal is ValidationFailed:
            assert list(caught.value.errors) == ["question"]
        db.session.rollback()
        assert counts() == (0, 0, 0)


@pytest.mark.parametrize(("status", "visibility", "asker"), [
    ("accepted", "members", "cn"),
    ("accepted", "public", "mn"),  # a partner asks about a public record
    ("cancellation_requested", "members", "ru"),  # still in force until the cancellation is accepted
])
def test_who_may_ask(app, people, status, visibility, asker):
    with app.app_context():
        record = exercise(people, status, visibility)
        inquiry = svc.ask(user(getattr(people, asker).id), record, QUESTION)
        db.session.commit()
        assert inquiry.asking_state.code == getattr(people, asker).state
        assert counts() == (1, 1, 1)


@pytest.mark.parametrize("question", ["", "   ", "Where\x00?", "x" * (svc.QUESTION_MAX + 1)])
def test_a_bad_question_is_refused(app, people, question):
    with app.app_context():
        record = exercise(people)
        with pytest.raises(ValidationFailed) as caught:
            svc.ask(user(people.cn.id), record, question)
        assert list(caught.value.errors) == ["question"]
        db.session.rollback()
        assert counts() == (0, 0, 0)


@pytest.mark.parametrize("answerer", ["ru", "cn", "reviewer", "auditor", "admin"])
def test_only_the_notifying_state_answers(app, people, answerer):
    with app.app_context():
        record = exercise(people, visibility="public")
        inquiry = svc.ask(user(people.cn.id), record, QUESTION)
        db.session.commit()
        with pytest.raises(PermissionDenied):
            svc.check_can_answer(user(getattr(people, answerer).id), inquiry)
        with pytest.raises(PermissionDenied):
            svc.answer(user(getattr(people, answerer).id), inquiry, ANSWER)
        db.session.rollback()
        assert inquiry.answer is None and inquiry.answered_at is None
        assert counts() == (1, 1, 1)


def test_answering_twice_is_refused(app, people):
    with app.app_context():
        record = exercise(people)
        inquiry = svc.ask(user(people.cn.id), record, QUESTION)
        svc.answer(user(people.kz.id), inquiry, ANSWER)
        db.session.commit()
        answered_at = inquiry.answered_at
        for officer in (people.kz, people.kz_second):
            with pytest.raises(ValidationFailed) as caught:
                svc.check_can_answer(user(officer.id), inquiry)
            assert list(caught.value.errors) == ["answer"]
            with pytest.raises(ValidationFailed) as caught:
                svc.answer(user(officer.id), inquiry, "A second, different answer.")
            assert list(caught.value.errors) == ["answer"]
            db.session.rollback()
        assert (inquiry.answer, inquiry.answered_by_id, inquiry.answered_at) == (ANSWER, people.kz.id, answered_at)
        assert counts() == (1, 2, 2)


@pytest.mark.parametrize("text", ["", "  ", "No\x00", "x" * (svc.QUESTION_MAX + 1)])
def test_a_bad_answer_is_refused(app, people, text):
    with app.app_context():
        record = exercise(people)
        inquiry = svc.ask(user(people.cn.id), record, QUESTION)
        db.session.commit()
        with pytest.raises(ValidationFailed) as caught:
            svc.answer(user(people.kz.id), inquiry, text)
        assert list(caught.value.errors) == ["answer"]
        db.session.rollback()
        assert inquiry.answered_at is None and counts() == (1, 1, 1)


def test_overdue_lists_unanswered_inquiries_past_due(app, people):
    with app.app_context():
        record = exercise(people, visibility="public")
        asker = user(people.cn.id)
        long_overdue = svc.ask(asker, record, "First question")
        overdue = svc.ask(asker, record, "Second question", emergency=True)
        answered_late = svc.ask(asker, record, "Third question")
        not_yet_due = svc.ask(asker, record, "Fourth question")
        now = utcnow()
        long_overdue.due_at = now - timedelta(days=5)
        overdue.due_at = now - timedelta(minutes=1)
        answered_late.due_at = now - timedelta(days=3)
        db.session.commit()
        svc.answer(user(people.kz.id), answered_late, ANSWER)
        db.session.commit()

        assert svc.overdue() == [long_overdue, overdue]  # the most overdue first
        assert [i.is_overdue() for i in (long_overdue, overdue, answered_late, not_yet_due)] == [
            True, True, False, False]
        assert audit("inquiry.answer")[0].changes["late"] == [None, True]
        # Seen from a later moment, the one not yet due is overdue too.
        later = not_yet_due.due_at + timedelta(seconds=1)
        assert svc.overdue(now=later) == [long_overdue, overdue, not_yet_due]
