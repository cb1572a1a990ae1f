"""Voluntary visits through the service functions: the offer's checks, the visit's life, answers within places,
requests, reports and remarks with their signed documents, and the hints for the Secretariat."""

import hashlib
import threading
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from registry.db import db, utcnow
from registry.enums import AnswerDecision, RecordType, SubmissionStatus, VisitRequestStatus, VisitStatus
from registry.models import AuditEntry, OutboxMessage, Submission, SubmissionEvent, VisitAnswer
from registry.services import submissions as workflow
from registry.services import visit_papers, visit_requests, visits
from registry.services.errors import Conflict, PermissionDenied, ValidationFailed
from tests import visit_factories as vf
from tests.factories import state, user
from tests.test_exercise_listing import make_exercise


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        kz=make_user("officer", "KZ"), cn=make_user("officer", "CN"), cn_second=make_user("officer", "CN"),
        india=make_user("officer", "IN"), ru=make_user("officer", "RU"), mn=make_user("officer", "MN"),
        reviewer=make_user("secretariat"), auditor=make_user("auditor"),
    )


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield


def _errors(exc_info) -> dict:
    return exc_info.value.errors


# --- the offer ---------------------------------------------------------------------------------------------


def test_an_offer_to_all_members_invites_every_other_member_state_with_its_places(people, ctx):
    offer = vf.make_offer(people.kz.id)
    details = visits.details_of(offer.current_revision)
    codes = {i.state.code: i.places for i in details.invitations}
    assert "KZ" not in codes and "MN" not in codes  # not the host; Mongolia is a partner, not a member
    assert set(codes) == {"CN", "IN", "IR", "KG", "PK", "RU", "TJ", "UZ", "BY"}
    assert set(codes.values()) == {2}
    assert offer.reference.startswith("VIS-")
    assert vf.visit(offer).status == VisitStatus.PLANNED


def test_acceptance_sends_the_invitations_and_tells_the_invited_officers(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    the_visit = vf.visit(offer)
    assert the_visit.status == VisitStatus.INVITATIONS_SENT
    assert the_visit.invitations_sent_at is not None
    told = set(db.session.scalars(select(OutboxMessage.recipient_id).where(OutboxMessage.kind == "visit.invitation")))
    assert {people.cn.id, people.cn_second.id, people.india.id, people.ru.id} <= told
    assert people.kz.id not in told and people.mn.id not in told
    actions = [e.action for e in offer.events]
    assert actions[-2:] == ["accept", "invitations_sent"]
    assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.id.desc())) == "visit.invitations_sent"


def test_an_unfinished_offer_cannot_be_submitted_and_each_problem_names_its_field(people, ctx):
    offer = vf.make_offer(people.kz.id, kind="", facility_ru="", facility_zh="", programme="", answer_by=None,
                          cost_travel="")
    with pytest.raises(ValidationFailed) as refused:
        workflow.submit(user(people.kz.id), offer)
    assert {"kind", "facility_ru", "programme", "answer_by", "cost_travel"} <= set(_errors(refused))


@pytest.mark.parametrize("overrides, field, message", [
    ({"answer_by_days": 0}, "answer_by", "before the visit starts"),
    ({"start_days": 0}, "start_date", "after today"),
    ({"end_time": "08:00", "same_day": True}, "end_date", "end after it starts"),
])
def test_rule_7_dates_block_submission(people, ctx, overrides, field, message):
    start = utcnow().date() + timedelta(days=overrides.get("start_days", 60))
    values = {"start_date": start}
    if "answer_by_days" in overrides:
        values["answer_by"] = start
    if overrides.get("same_day"):
        values.update(end_date=start, end_time=overrides["end_time"])
    if "start_days" in overrides:
        values.update(end_date=start + timedelta(days=1), answer_by=start - timedelta(days=1))
    offer = vf.make_offer(people.kz.id, **values)
    with pytest.raises(ValidationFailed) as refused:
        workflow.submit(user(people.kz.id), offer)
    assert any(message in m for m in _errors(refused)[field])


def test_draft_save_refuses_what_the_database_would(people, ctx):
    start = utcnow().date() + timedelta(days=60)
    values = vf.offer_values(start, end_date=start - timedelta(days=1), latitude="91", places_each="0",
                             start_time="25:00", facility_en="x" * 301, kind="castle")
    with pytest.raises(ValidationFailed) as refused:
        visits.create_offer(user(people.kz.id), state("KZ"), visits.OfferInput(values=values))
    assert set(_errors(refused)) == {"end_date", "latitude", "places_each", "start_time", "facility_en", "kind"}
    assert db.session.scalar(select(Submission.id)) is None  # nothing stored, no reference used


@pytest.mark.parametrize("code, places, message", [
    ("KZ", 2, "does not invite itself"),
    ("MN", 2, "member state"),  # a partner is not invited to members' visits
    ("CN", 0, "from 1 to 50"),
    ("CN", 2**31, "too large"),
    ("CN", "two", "whole number"),
])
def test_a_selection_of_invited_states_is_checked(people, ctx, code, places, message):
    start = utcnow().date() + timedelta(days=60)
    values = vf.offer_values(start, invite_all_members=False)
    data = visits.OfferInput(values=values, invitations=[visits.InvitationInput(state_id=state(code).id,
                                                                                places=places)])
    with pytest.raises(ValidationFailed) as refused:
        visits.create_offer(user(people.kz.id), state("KZ"), data)
    assert any(message in m for messages in _errors(refused).values() for m in messages)


def test_a_state_invited_twice_is_refused(people, ctx):
    with pytest.raises(ValidationFailed) as refused:
        vf.make_offer(people.kz.id, invitations=[("CN", 2), ("CN", 1)])
    assert "invitations-1-state_id" in _errors(refused)


def test_an_offer_hidden_from_the_invited_states_is_refused(people, ctx):
    start = utcnow().date() + timedelta(days=60)
    with pytest.raises(ValidationFailed) as refused:
        visits.create_offer(user(people.kz.id), state("KZ"), visits.OfferInput(values=vf.offer_values(start)),
                            visibility="secretariat")
    assert "visibility" in _errors(refused)


def test_an_officer_offers_only_for_their_own_state(people, ctx):
    start = utcnow().date() + timedelta(days=60)
    with pytest.raises(PermissionDenied):
        visits.create_offer(user(people.cn.id), state("KZ"), visits.OfferInput(values=vf.offer_values(start)))
    with pytest.raises(PermissionDenied):
        visits.create_offer(user(people.auditor.id), state("KZ"), visits.OfferInput(values=vf.offer_values(start)))


def test_invitations_sent_late_are_a_warning_not_an_error(people, ctx):
    offer = vf.make_offer(people.kz.id, days_ahead=20)
    workflow.submit(user(people.kz.id), offer)
    warnings = [f for f in offer.current_revision.findings if f["severity"] == "warning"]
    assert [f["code"] for f in warnings] == ["invitation_late"]
    assert warnings[0]["params"] == {"lead_days": 20, "days": 42}


# --- answers -----------------------------------------------------------------------------------------------


def test_an_invited_state_accepts_within_its_places_and_a_third_participant_is_refused(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    with pytest.raises(ValidationFailed) as refused:
        vf.answer(people.cn.id, offer, people=3)
    assert "2 places" in _errors(refused)["participants"][0]
    db.session.rollback()
    row = vf.answer(people.cn.id, offer, people=2)
    assert row.decision == AnswerDecision.ACCEPTED and row.participant_count == 2 == row.places
    host_told = db.session.scalars(select(OutboxMessage.recipient_id).where(OutboxMessage.kind == "visit.answer"))
    assert list(host_told) == [people.kz.id]


def test_declining_needs_no_reason_and_keeps_an_optional_one(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    row = vf.answer(people.india.id, offer, decision="declined", people=0)
    assert row.decision == AnswerDecision.DECLINED and row.decline_reason == ""
    row = vf.answer(people.ru.id, offer, decision="declined", people=0, decline_reason="Exercise season.")
    assert row.decline_reason == "Exercise season."
    with pytest.raises(ValidationFailed):
        vf.answer(people.cn.id, offer, decision="declined", people=1)


def test_an_officer_of_a_state_not_invited_cannot_answer(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id, invitations=[("CN", 2)])
    for who in (people.india.id, people.mn.id, people.kz.id, people.reviewer.id, people.auditor.id):
        with pytest.raises(PermissionDenied):
            vf.answer(who, offer)


def test_a_late_answer_is_refused_with_the_date_it_was_due(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    due = vf.visit(offer).answer_by
    with pytest.raises(ValidationFailed) as refused:
        vf.answer(people.cn.id, offer, today=due + timedelta(days=1))
    assert f"due by {due.isoformat()}" in _errors(refused)[""][0]
    assert vf.answer(people.cn.id, offer, today=due).participant_count == 2  # the last day still counts


def test_answers_wait_for_the_secretariat_to_accept_the_offer(people, ctx):
    offer = vf.make_offer(people.kz.id)
    with pytest.raises(PermissionDenied):  # nothing is in force yet: nobody is invited
        vf.answer(people.cn.id, offer)


def test_an_answer_can_be_changed_until_the_date_and_a_stale_form_is_refused(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    first = vf.answer(people.cn.id, offer, people=1)
    seen = first.lock_version
    vf.answer(people.cn_second.id, offer, people=2, expected_lock=seen)
    with pytest.raises(Conflict):
        vf.answer(people.cn.id, offer, decision="declined", people=0, expected_lock=seen)
    rows = db.session.scalars(select(VisitAnswer)).all()
    assert len(rows) == 1 and rows[0].participant_count == 2


def test_the_database_itself_refuses_more_participants_than_places(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    row = vf.answer(people.cn.id, offer, people=2)
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE visit_answers SET participant_count = 3 WHERE id = :id"), {"id": row.id})
    db.session.rollback()


def test_two_officers_answering_at_the_same_moment_never_exceed_the_places(app, people):
    """Both backends: one answer per state wins; the other officer is told to reload, never a 500."""
    with app.app_context():
        offer = vf.published_offer(people.kz.id, people.reviewer.id)
        offer_id = offer.id
    barrier = threading.Barrier(2)
    outcomes = {}

    def answer_as(officer_id: int) -> None:
        with app.app_context():
            submission = db.session.get(Submission, offer_id)
            the_visit = visits.visit_of(submission)
            people_ = [visits.ParticipantInput(name=f"Officer {officer_id}-{i}") for i in range(2)]
            barrier.wait()
            try:
                visits.answer(user(officer_id), the_visit, decision="accepted", participants=people_)
                db.session.commit()
                outcomes[officer_id] = "answered"
            except Conflict:
                db.session.rollback()
                outcomes[officer_id] = "conflict"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer_as, args=(who,)) for who in (people.cn.id, people.cn_second.id)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes.values()) == ["answered", "conflict"]
    with app.app_context():
        rows = db.session.scalars(select(VisitAnswer)).all()
        assert len(rows) == 1 and rows[0].participant_count == 2 <= rows[0].places
        assert len(rows[0].participants) == 2


# --- the visit's life --------------------------------------------------------------------------------------


STATUSES = list(VisitStatus)


@pytest.mark.parametrize("action", sorted(visits.LIFECYCLE))
@pytest.mark.parametrize("status", STATUSES)
def test_the_lifecycle_table_is_what_the_service_allows(people, ctx, action, status):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    the_visit = vf.visit(offer)
    the_visit.status = status
    if status == VisitStatus.CANCELLED:
        the_visit.cancel_reason = "test"
    db.session.commit()
    allowed = status in visits.LIFECYCLE[action].sources
    assert visits.can_act(user(people.kz.id), the_visit, action) is allowed
    for other in (people.cn.id, people.reviewer.id, people.auditor.id):
        assert visits.can_act(user(other), the_visit, action) is False


def test_postponing_sets_new_dates_keeps_answers_and_tells_the_invitees(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    vf.answer(people.cn.id, offer)
    the_visit = vf.visit(offer)
    start = the_visit.start_date + timedelta(days=30)
    with pytest.raises(ValidationFailed) as refused:
        visits.postpone(user(people.kz.id), the_visit, start_date=start, end_date=start - timedelta(days=1),
                        answer_by=start + timedelta(days=1))
    assert {"end_date", "answer_by"} <= set(_errors(refused))
    visits.postpone(user(people.kz.id), the_visit, start_date=start, end_date=start + timedelta(days=2),
                    answer_by=start - timedelta(days=5), reason="Weather.")
    db.session.commit()
    assert the_visit.status == VisitStatus.POSTPONED and the_visit.start_date == start
    assert len(the_visit.answers) == 1
    told = set(db.session.scalars(select(OutboxMessage.recipient_id).where(OutboxMessage.kind == "visit.postponed")))
    assert people.cn.id in told and people.india.id in told
    event = offer.events[-1]
    assert event.action == "postpone" and "Weather." in event.comment


def test_a_visit_is_held_only_from_its_start_and_with_someone_who_came(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    the_visit = vf.visit(offer)
    with pytest.raises(ValidationFailed):  # nobody accepted yet
        visits.mark_held(user(people.kz.id), the_visit, today=the_visit.start_date)
    vf.answer(people.cn.id, offer)
    with pytest.raises(ValidationFailed) as refused:
        visits.mark_held(user(people.kz.id), the_visit, today=the_visit.start_date - timedelta(days=1))
    assert "from that day" in _errors(refused)[""][0]
    vf.held(people.kz.id, offer)
    assert the_visit.status == VisitStatus.HELD and the_visit.held_on == the_visit.start_date
    with pytest.raises(workflow.InvalidTransition):
        visits.cancel(user(people.kz.id), the_visit, reason="Too late")


def test_cancelling_needs_a_reason(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    the_visit = vf.visit(offer)
    with pytest.raises(ValidationFailed):
        visits.cancel(user(people.kz.id), the_visit, reason="  ")
    visits.cancel(user(people.kz.id), the_visit, reason="Runway repairs.")
    db.session.commit()
    assert the_visit.status == VisitStatus.CANCELLED and the_visit.cancel_reason == "Runway repairs."
    with pytest.raises(ValidationFailed):
        vf.answer(people.cn.id, offer)


def test_a_cancelled_offer_record_cancels_the_visit(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    workflow.request_cancellation(user(people.kz.id), offer, comment="No longer possible.")
    workflow.accept_cancellation(user(people.reviewer.id), offer)
    db.session.commit()
    assert vf.visit(offer).status == VisitStatus.CANCELLED


def test_an_amendment_cannot_take_places_from_a_state_that_named_its_participants(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    vf.answer(people.cn.id, offer, people=2)
    workflow.amend(user(people.kz.id), offer)
    start = vf.visit(offer).start_date
    visits.update_offer(user(people.kz.id), offer, visits.OfferInput(values=vf.offer_values(start, places_each="1")))
    with pytest.raises(ValidationFailed) as refused:
        workflow.submit(user(people.kz.id), offer)
    assert "at least as many places" in _errors(refused)["invitations"][0]


# --- requests ----------------------------------------------------------------------------------------------


def test_a_request_declined_without_a_reason_and_one_accepted_into_a_draft_offer(people, ctx):
    ask = visit_requests.create_request(user(people.cn.id), state("KZ"), facility="Учебный центр Матыбулак",
                                        kind="training_ground", purpose="Peace Mission preparations.")
    db.session.commit()
    assert ask.reference.startswith("VRQ-") and ask.status == VisitRequestStatus.OPEN
    with pytest.raises(PermissionDenied):
        visit_requests.decline_request(user(people.ru.id), ask)
    visit_requests.decline_request(user(people.kz.id), ask)
    db.session.commit()
    assert ask.status == VisitRequestStatus.DECLINED and ask.decline_reason == ""
    with pytest.raises(workflow.InvalidTransition):
        visit_requests.accept_request(user(people.kz.id), ask)
    db.session.rollback()

    second = visit_requests.create_request(user(people.cn.id), state("KZ"), facility="Учебный центр Матыбулак",
                                           purpose="Second try.")
    offer = visit_requests.accept_request(user(people.kz.id), second, places=3)
    db.session.commit()
    details = visits.details_of(offer.current_revision)
    assert details.facility_ru == "Учебный центр Матыбулак" and details.request_id == second.id
    assert [(i.state.code, i.places) for i in details.invitations] == [("CN", 3)]
    assert second.offer_id == offer.id and offer.status == SubmissionStatus.DRAFT


def test_a_state_cannot_ask_itself_and_only_the_requester_withdraws(people, ctx):
    with pytest.raises(ValidationFailed):
        visit_requests.create_request(user(people.kz.id), state("KZ"), facility="x", purpose="y")
    ask = visit_requests.create_request(user(people.cn.id), state("KZ"), facility="Base", purpose="Why not.")
    with pytest.raises(PermissionDenied):
        visit_requests.withdraw_request(user(people.kz.id), ask)
    visit_requests.withdraw_request(user(people.cn.id), ask)
    assert ask.status == VisitRequestStatus.WITHDRAWN


# --- reports and remarks -----------------------------------------------------------------------------------


def _held_visit(people):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    vf.answer(people.cn.id, offer)
    vf.answer(people.india.id, offer, decision="declined", people=0)
    vf.held(people.kz.id, offer)
    return offer


def test_the_report_is_filed_by_the_host_after_the_visit_and_keeps_its_document_hash(people, ctx):
    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    with pytest.raises(ValidationFailed):  # not held yet
        visit_papers.start_paper(user(people.kz.id), vf.visit(offer), RecordType.VISIT_REPORT)
    vf.answer(people.cn.id, offer)
    vf.held(people.kz.id, offer)
    with pytest.raises(ValidationFailed):
        visit_papers.start_paper(user(people.cn.id), vf.visit(offer), RecordType.VISIT_REPORT)
    paper = vf.report(people.kz.id, offer)
    assert paper.reference.startswith("VRP-")
    workflow.submit(user(people.kz.id), paper)
    workflow.accept(user(people.reviewer.id), paper)
    db.session.commit()
    snapshot = paper.accepted_revision.snapshot["paper"]
    assert snapshot["document"]["sha256"] == hashlib.sha256(vf.PDF).hexdigest()
    assert snapshot["visit"] == offer.reference


def test_a_report_without_its_signed_document_cannot_be_submitted(people, ctx):
    offer = _held_visit(people)
    paper = vf.report(people.kz.id, offer, document=None)
    with pytest.raises(ValidationFailed) as refused:
        workflow.submit(user(people.kz.id), paper)
    assert "document" in _errors(refused)


@pytest.mark.parametrize("name, data, message", [
    ("report.pdf", b"%PDF" + b"0" * visit_papers.MAX_ATTACHMENT_BYTES, "too large"),
    ("report.pdf", b"GIF89a...", "PDF, PNG or JPEG"),
    ("report.pdf", b"<script>alert(1)</script>", "PDF, PNG or JPEG"),
    ("../../etc/report.pdf", vf.PDF, "without a folder"),
    ("C:\\reports\\report.pdf", vf.PDF, "without a folder"),
    ("CON.pdf", vf.PDF, "reserved"),
    ("report\r\n.pdf", vf.PDF, "control characters"),
    ("report.pdf", b"", "empty"),
])
def test_attachments_are_refused_when_too_large_of_the_wrong_type_or_named_with_a_path(people, ctx, name, data,
                                                                                        message):
    offer = _held_visit(people)
    paper = vf.report(people.kz.id, offer, document=None)
    with pytest.raises(ValidationFailed) as refused:
        visit_papers.update_paper(user(people.kz.id), paper, text="x", upload=(name, data))
    assert message in _errors(refused)["document"][0]


def test_remarks_come_from_a_state_that_took_part(people, ctx):
    offer = _held_visit(people)
    the_visit = vf.visit(offer)
    with pytest.raises(ValidationFailed):  # India declined
        visit_papers.start_paper(user(people.india.id), the_visit, RecordType.VISIT_REMARKS)
    remarks = visit_papers.start_paper(user(people.cn.id), the_visit, RecordType.VISIT_REMARKS)
    assert remarks.state.code == "CN" and remarks.reference.startswith("VRM-")
    with pytest.raises(ValidationFailed):
        workflow.submit(user(people.cn.id), remarks)  # empty
    visit_papers.update_paper(user(people.cn.id), remarks, text="A well organised visit.")
    workflow.submit(user(people.cn.id), remarks)
    with pytest.raises(ValidationFailed):  # one set of remarks per state: amend it instead
        visit_papers.start_paper(user(people.cn.id), the_visit, RecordType.VISIT_REMARKS)


# --- hints -------------------------------------------------------------------------------------------------


def test_a_state_with_air_combat_forces_and_no_air_base_visit_is_hinted(people, ctx):
    make_exercise(people.ru.id, people.reviewer.id, "accepted", "RU", combat_aircraft=12)
    make_exercise(people.kz.id, people.reviewer.id, "accepted", "KZ", troops_air=300)
    make_exercise(people.cn.id, people.reviewer.id, "accepted", "CN")  # no air forces declared
    assert [h["state"].code for h in visits.air_base_hints()] == ["KZ", "RU"]
    offer = _held_visit(people)  # Kazakhstan hosts an air-base visit, held
    assert vf.visit(offer).status == VisitStatus.HELD
    assert [h["state"].code for h in visits.air_base_hints()] == ["RU"]


def test_events_of_the_visit_are_on_its_timeline(people, ctx):
    offer = _held_visit(people)
    actions = [e.action for e in db.session.scalars(
        select(SubmissionEvent).where(SubmissionEvent.submission_id == offer.id).order_by(SubmissionEvent.id))]
    assert actions == ["create", "submit", "accept", "invitations_sent", "answer", "answer", "held"]


def test_invited_states_that_have_not_answered_are_reminded_once_per_window(people, ctx):
    from registry.services import notifications

    offer = vf.published_offer(people.kz.id, people.reviewer.id)
    vf.answer(people.cn.id, offer)
    due = vf.visit(offer).answer_by
    assert notifications.remind(due - timedelta(days=40)) == 0  # not yet in a window
    queued = notifications.remind(due - timedelta(days=6))
    db.session.commit()
    reminded = set(db.session.scalars(select(OutboxMessage.recipient_id)
                                      .where(OutboxMessage.kind == "reminder.visit_answer")))
    assert people.india.id in reminded and people.ru.id in reminded
    assert people.cn.id not in reminded and people.cn_second.id not in reminded  # China answered
    assert people.kz.id not in reminded and people.mn.id not in reminded
    assert queued >= 2
    assert notifications.remind(due - timedelta(days=5)) == 0  # the same window: not again
