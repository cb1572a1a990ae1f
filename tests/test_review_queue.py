"""The Secretariat's review queue: what waits for a decision, the longest-waiting first; overdue inquiries."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import update

from registry.db import db, utcnow
from registry.models import Inquiry, Submission, SubmissionEvent
from registry.services import inquiries
from registry.services import submissions as svc
from tests.factories import make_submission, user
from tests.test_exercise_listing import client_for, make_exercise


@pytest.fixture
def people(make_user):
    return {
        "kz": make_user("officer", "KZ"),
        "cn": make_user("officer", "CN"),
        "sec": make_user("secretariat"),
        "auditor": make_user("auditor"),
        "admin": make_user("admin"),
    }


def queued_references(html: str) -> list[str]:
    return re.findall(r'<td><a href="/records/([A-Z]{3}-\d{4}-\d{4})">', html.split('id="overdue-h"')[0])


def queue_row(html: str, reference: str) -> str:
    row = re.search(rf'<td><a href="/records/{reference}">.*?</tr>', html, re.S)
    assert row, f"{reference} is not in the queue"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row.group(0)))


def wait_since(submission_id: int, days: int) -> None:
    """Pretend the record entered the queue `days` ago."""
    db.session.execute(update(SubmissionEvent)
                       .where(SubmissionEvent.submission_id == submission_id,
                              SubmissionEvent.action.in_(("submit", "request_cancellation")))
                       .values(occurred_at=utcnow() - timedelta(days=days)))
    db.session.commit()


def test_queue_lists_every_record_awaiting_a_decision_longest_waiting_first(app, people):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    with app.app_context():
        newest_id, newest = make_exercise(kz, sec, "submitted")
        oldest_id, oldest = make_exercise(cn, sec, "submitted", "CN")
        calendar = make_submission(kz, sec, "submitted")  # another record type
        middle_id, middle = calendar.id, calendar.reference
        cancelling_id, cancelling = make_exercise(kz, sec, "cancellation_requested")
        amending_id, amending = make_exercise(cn, sec, "amend_submitted", "CN")
        not_waiting = [make_exercise(kz, sec, status)[1]
                       for status in ("draft", "returned", "accepted", "withdrawn", "cancelled", "amend_draft")]
        wait_since(oldest_id, 20)
        wait_since(middle_id, 10)
        wait_since(newest_id, 1)
        wait_since(amending_id, 3)
        # Submitted long ago, but its cancellation was asked for today: it waits since today.
        db.session.execute(update(Submission).where(Submission.id == cancelling_id)
                           .values(submitted_at=utcnow() - timedelta(days=400)))
        db.session.commit()

    html = client_for(app, people["sec"]).get("/review/").get_data(as_text=True)
    assert queued_references(html) == [oldest, middle, amending, newest, cancelling]
    assert not set(not_waiting) & set(queued_references(html))
    assert " 20 " in queue_row(html, oldest) and " 10 " in queue_row(html, middle)
    assert " 0 " in queue_row(html, cancelling)
    assert "Annual calendar" in queue_row(html, middle)
    assert "Cancellation requested" in queue_row(html, cancelling)
    assert "amendment of version 1" in queue_row(html, amending) and "version 2" in queue_row(html, amending)
    assert "5 records await a decision" in html


def test_queue_shows_late_and_threshold_flags_and_warnings(app, people):
    cn, sec = people["cn"].id, people["sec"].id
    today = utcnow().date()
    with app.app_context():
        # Above the Vienna Document's notification (9,000) and observation (13,000) troop numbers, notified late.
        _, flagged = make_exercise(cn, sec, "submitted", "CN", troops_total=14000, observers_invited=True,
                                   late_explanation="Short notice", not_forecast_reason="Not planned",
                                   start_date=today + timedelta(days=10), end_date=today + timedelta(days=12))
        _, plain = make_exercise(cn, sec, "submitted", "CN", start_date=date(2031, 5, 10),
                                 end_date=date(2031, 5, 12))
        stored = db.session.scalar(
            db.select(Submission).where(Submission.reference == flagged)).current_revision.findings
        warnings = sum(1 for f in stored if f["severity"] == "warning")
    assert warnings >= 2  # late, not forecast
    html = client_for(app, people["sec"]).get("/review/").get_data(as_text=True)
    row = queue_row(html, flagged)
    assert "late" in row and "mandatory" in row and "observers required" in row
    assert f"{warnings} warnings" in row
    row = queue_row(html, plain)
    assert "late" not in row and "mandatory" not in row and "observers required" not in row and "warning" not in row


@pytest.mark.parametrize("role, status", [("officer", 403), ("admin", 403), ("auditor", 200), ("secretariat", 200)])
def test_queue_is_for_the_secretariat_and_auditors(client, login_as, role, status):
    login_as(role, "KZ")
    assert client.get("/review/").status_code == status


def test_queue_needs_a_signed_in_user(client):
    response = client.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_empty_queue_says_so(client, login_as):
    login_as("secretariat")
    html = client.get("/review/").get_data(as_text=True)
    assert "Nothing awaits a decision." in html and "No inquiry is overdue." in html


def test_overdue_inquiries_are_listed(app, people):
    kz, cn, sec = people["kz"].id, people["cn"].id, people["sec"].id
    with app.app_context():
        submission_id, reference = make_exercise(kz, sec, "accepted")
        submission = db.session.get(Submission, submission_id)
        late = inquiries.ask(user(cn), submission, "Why so many tanks?")
        on_time = inquiries.ask(user(cn), submission, "Which ground exactly?")
        answered = inquiries.ask(user(cn), submission, "Observers?", emergency=True)
        db.session.commit()
        inquiries.answer(user(kz), answered, "Yes, six.")
        db.session.execute(update(Inquiry).where(Inquiry.id.in_((late.id, answered.id)))
                           .values(due_at=utcnow() - timedelta(days=3, hours=1)))
        db.session.commit()
        assert on_time.id
    html = client_for(app, people["auditor"]).get("/review/").get_data(as_text=True)
    overdue = html.split('id="overdue-h"')[1]
    assert "Why so many tanks?" in overdue
    assert "Which ground exactly?" not in overdue and "Observers?" not in overdue
    assert reference in overdue and "China" in overdue and "Kazakhstan" in overdue
    assert re.search(r"<td>3</td>", overdue)


def test_withdrawn_submission_leaves_the_queue(app, people):
    kz, sec = people["kz"].id, people["sec"].id
    with app.app_context():
        submission_id, reference = make_exercise(kz, sec, "submitted")
        client = client_for(app, people["sec"])
        assert queued_references(client.get("/review/").get_data(as_text=True)) == [reference]
        svc.withdraw(user(kz), db.session.get(Submission, submission_id))
        db.session.commit()
    assert queued_references(client.get("/review/").get_data(as_text=True)) == []
