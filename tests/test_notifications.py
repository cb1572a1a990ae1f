"""Notifications: outbox delivery with retries and claims (fake SMTP only), the in-app list, preferences,
reminders before due dates."""

import re
import smtplib
import ssl
import threading
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from registry.db import db, utcnow
from registry.models import AuditEntry, NotificationPreference, OutboxMessage
from registry.services import notifications
from registry.services.calendars import due_date_for
from tests.conftest import csrf_token
from tests.factories import drive, make_calendar, user


class FakeSMTP:
    """Stands in for smtplib.SMTP: refuses connections while `refusing`, records what it accepted."""

    refusing = False
    delivered: list = []
    tls_contexts: list = []  # the SSL context each STARTTLS was given
    hold = None  # (entered, release) events: block inside send_message until released

    def __init__(self, host, port, timeout=None):
        if FakeSMTP.refusing:
            raise ConnectionRefusedError(111, "Connection refused")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def starttls(self, context=None):
        FakeSMTP.tls_contexts.append(context)

    def login(self, username, password):
        pass

    def send_message(self, message):
        if FakeSMTP.hold:
            entered, release = FakeSMTP.hold
            entered.set()
            release.wait()
        FakeSMTP.delivered.append({"to": message["To"], "subject": message["Subject"],
                                   "id": message["Message-ID"]})


@pytest.fixture
def smtp(app, monkeypatch):
    FakeSMTP.refusing, FakeSMTP.delivered, FakeSMTP.hold, FakeSMTP.tls_contexts = False, [], None, []
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.test.invalid")
    return FakeSMTP


def outbox(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def send(app, now):
    with app.app_context():
        return notifications.send_pending(now=now)


def test_smtp_refusing_then_accepting_delivers_every_message_exactly_once(app, make_user, smtp):
    people = [make_user(role="officer", state=code) for code in ("KZ", "CN", "RU", "IN", "BY")]
    assert len(outbox(app)) == 5
    t0 = utcnow()

    smtp.refusing = True
    assert send(app, t0) == (0, 5)
    assert all(m.attempts == 1 and m.sent_at is None and m.next_attempt_at == t0 + timedelta(minutes=1)
               and "refused" in m.last_error for m in outbox(app))
    assert send(app, t0 + timedelta(seconds=30)) == (0, 0)  # backing off: nothing is due yet
    assert send(app, t0 + timedelta(minutes=1)) == (0, 5)
    assert {m.next_attempt_at for m in outbox(app)} == {t0 + timedelta(minutes=1) + timedelta(minutes=2)}

    smtp.refusing = False
    assert send(app, t0 + timedelta(minutes=3)) == (5, 0)
    assert send(app, t0 + timedelta(hours=10)) == (0, 0)
    assert sorted(d["to"] for d in smtp.delivered) == sorted(p.email for p in people)
    assert len({d["id"] for d in smtp.delivered}) == 5
    assert all(m.sent_at is not None and m.last_error is None and m.attempts == 3 for m in outbox(app))


def test_backoff_doubles_up_to_a_cap_and_gives_up_after_max_attempts(app, make_user, smtp):
    make_user(role="officer")
    smtp.refusing = True
    now = utcnow()
    waits = []
    for _ in range(notifications.MAX_ATTEMPTS):
        assert send(app, now) == (0, 1)
        message = outbox(app)[0]
        waits.append(message.next_attempt_at - now)
        now = message.next_attempt_at
    assert waits[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(waits) == notifications.BACKOFF_MAX
    smtp.refusing = False
    assert send(app, now + timedelta(days=1)) == (0, 0)  # given up: stays in the in-app list


def test_a_claimed_message_is_not_sent_by_a_second_sender(app, make_user, smtp):
    make_user(role="officer")
    entered, release = threading.Event(), threading.Event()
    smtp.hold = (entered, release)
    results = {}

    def first_sender():
        results["first"] = send(app, utcnow())

    worker = threading.Thread(target=first_sender)
    worker.start()
    assert entered.wait(timeout=60)  # the first sender has claimed the message and is talking to SMTP
    smtp.hold = None
    results["second"] = send(app, utcnow())
    release.set()
    worker.join()
    assert results == {"first": (1, 0), "second": (0, 0)}
    assert len(smtp.delivered) == 1


def test_a_sender_that_died_after_claiming_is_taken_over_after_the_claim_timeout(app, make_user, smtp):
    """The at-least-once window: a claim without an outcome is retried once it is stale."""
    make_user(role="officer")
    now = utcnow()
    with app.app_context():
        message_id = db.session.scalar(select(OutboxMessage.id))
        assert notifications._claim(message_id, now) is not None  # ... and the process is killed here
    assert send(app, now + timedelta(minutes=5)) == (0, 0)
    assert send(app, now + notifications.CLAIM_TIMEOUT + timedelta(seconds=1)) == (1, 0)
    assert len(smtp.delivered) == 1


def test_without_a_mail_server_messages_wait_and_appear_in_the_in_app_list(app, client, make_user, login_as):
    me = login_as("officer")
    make_user(role="officer", state="CN")  # someone else's message
    with app.app_context():
        assert notifications.send_pending() == (0, 0)
    assert all(m.sent_at is None and m.attempts == 0 for m in outbox(app))
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Your account in the SCO confidence-building measures registry" in html
    assert "waiting to be e-mailed" in html
    assert html.count("<tr class=") == 1  # only my own notification
    assert me.email  # the list is always the signed-in user's own: no id in the address to change


def test_mark_all_read(app, client, login_as):
    me = login_as("officer")
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Mark all 1 as read" in html
    response = client.post("/notifications/read", data={"csrf_token": csrf_token(client, "/notifications/")})
    assert response.status_code == 302
    assert all(m.read_at is not None for m in outbox(app) if m.recipient_id == me.id)
    assert "Mark all" not in client.get("/notifications/").get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.action).order_by(AuditEntry.seq.desc())) == \
            "notifications.mark_read"


def test_mark_read_needs_the_csrf_token(app, client, login_as):
    login_as("officer")
    response = client.post("/notifications/read", data={})
    assert response.status_code == 400
    assert all(m.read_at is None for m in outbox(app))


def _settings(client, **data):
    return client.post("/notifications/settings", data={**data, "csrf_token": csrf_token(client,
                                                                                          "/notifications/settings")})


def test_preferences_mute_categories_and_pause(app, client, login_as, make_user, smtp):
    me = login_as("officer")
    until = (utcnow().date() + timedelta(days=10)).isoformat()
    response = _settings(client, wanted=["review", "inquiries", "visits", "reminders"])
    assert response.status_code == 302
    html = client.get("/notifications/settings").get_data(as_text=True)
    assert re.search(r'value="decisions"(?![^>]*checked)', html) and re.search(r'checked[^>]*value="review"|'
                                                                               r'value="review"[^>]*checked', html)
    with app.app_context():
        officer = user(me.id)
        decision = notifications.queue(officer, "submission.accept", "EXN accepted", "body")
        inquiry = notifications.queue(officer, "inquiry.ask", "Inquiry", "body")
        account = notifications.queue(officer, "password_reset", "Password reset", "body")
        db.session.commit()
        assert (decision.email_skipped, inquiry.email_skipped, account.email_skipped) == ("disabled", None, None)
    _settings(client, wanted=["review", "decisions"], paused_until=until)
    with app.app_context():
        paused = notifications.queue(user(me.id), "submission.accept", "EXN accepted again", "body")
        db.session.commit()
        assert paused.email_skipped == "paused"
        prefs = db.session.get(NotificationPreference, me.id)
        assert prefs.paused_until.isoformat() == until
        assert "notifications.preferences" in db.session.scalars(select(AuditEntry.action)).all()
    send(app, utcnow())
    subjects = {d["subject"] for d in smtp.delivered}
    assert "Inquiry" in subjects and "Password reset" in subjects
    assert not subjects & {"EXN accepted", "EXN accepted again"}
    html = client.get("/notifications/").get_data(as_text=True)
    assert "not e-mailed (turned off in your settings)" in html and "not e-mailed (paused)" in html


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"wanted": ["review", "everything"]}, "wanted", "Choose among the listed kinds of notification."),
    ({"paused_until": "2001-01-01"}, "paused_until", "Choose a date from today to one year ahead"),
    ({"paused_until": "9999-12-31"}, "paused_until", "Choose a date from today to one year ahead"),
    ({"paused_until": "2027-02-29"}, "paused_until", "Enter a date as YYYY-MM-DD."),
    ({"paused_until": "tomorrow\x00"}, "paused_until", "Enter a date as YYYY-MM-DD."),
])
def test_bad_preferences_are_explained_beside_the_field(app, client, login_as, data, field, message):
    me = login_as("officer")
    response = _settings(client, **data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(rf'<p class="error" id="{field}-error">{re.escape(message)}', html), html[-3000:]
    with app.app_context():
        assert db.session.get(NotificationPreference, me.id) is None


# --- reminders ----------------------------------------------------------------------------------------------------

def test_calendar_reminders_go_once_per_window_to_states_that_have_not_filed(app, runner, make_user):
    kz = make_user(role="officer", state="KZ")
    cn = make_user(role="officer", state="CN")
    reviewer = make_user(role="secretariat")
    with app.app_context():
        due = due_date_for(utcnow().year + 1)
    if due is None:
        pytest.skip("no threshold profile in force defines the calendar's due date")
    today = due - timedelta(days=20)
    if today.year != due.year:  # reminders look at next year's calendar from this year's point of view
        pytest.skip("due date too early in the year for this test")
    year = today.year + 1
    with app.app_context():
        submission = make_calendar(user(cn.id), "CN", year=year)
        drive(submission, [("submit", "filer")], user(cn.id), user(reviewer.id))
        db.session.commit()

    def reminders():
        return [m for m in outbox(app) if m.kind == "reminder.calendar"]

    result = runner.invoke(args=["notifications", "remind", "--today", today.isoformat()])
    assert result.exit_code == 0 and "1 reminder(s) queued" in result.output, result.output
    assert [m.recipient_id for m in reminders()] == [kz.id]
    assert f"Annual calendar {year} is due on {due.isoformat()}" == reminders()[0].subject
    assert "0 reminder(s)" in runner.invoke(args=["notifications", "remind", "--today",
                                                  (today + timedelta(days=5)).isoformat()]).output
    assert "1 reminder(s)" in runner.invoke(args=["notifications", "remind", "--today",
                                                  (due - timedelta(days=3)).isoformat()]).output
    assert "0 reminder(s)" in runner.invoke(args=["notifications", "remind", "--today",
                                                  (due + timedelta(days=1)).isoformat()]).output
    assert len(reminders()) == 2


def test_other_record_types_register_their_own_reminders(app, make_user):
    officer = make_user(role="officer")

    @notifications.reminder("test_visit_answers")
    def visit_answers(today: date):
        return [notifications.Reminder(recipients=[user(officer.id)], kind="reminder.visit_answer",
                                       subject="Answer the visit invitation", body="Due in 3 days.",
                                       dedupe_key=f"visit:1:{today.isoformat()}")]

    try:
        with app.app_context():
            assert notifications.remind(date(2031, 3, 1)) >= 1
            assert notifications.remind(date(2031, 3, 1)) == 0
            db.session.commit()
    finally:
        del notifications.REMINDERS["test_visit_answers"]
    assert [m.subject for m in outbox(app) if m.kind == "reminder.visit_answer"] == ["Answer the visit invitation"]


def test_reminder_windows():
    assert [notifications.window(d) for d in (31, 30, 8, 7, 2, 1, 0, -1)] == \
        [None, "30d", "30d", "7d", "7d", "1d", "1d", None]


def test_cli_send_without_a_mail_server_says_so(app, runner, make_user):
    make_user(role="officer")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code != 0 and "MAIL_SERVER is not set" in result.output


def test_cli_send_with_the_fake_server(app, runner, make_user, smtp):
    make_user(role="officer")
    result = runner.invoke(args=["notifications", "send"])
    assert result.exit_code == 0 and "sent 1, failed 0" in result.output
    assert len(smtp.delivered) == 1


def test_the_development_server_pump_delivers_only_with_a_mail_server(app, make_user, smtp, monkeypatch):
    from registry.outbox_pump import pump_once, start_outbox_pump

    make_user(role="officer")
    assert start_outbox_pump(app) is None  # TESTING (and OUTBOX_PUMP_SECONDS unset): no thread in tests
    assert pump_once(app) == (1, 0)
    monkeypatch.setitem(app.config, "MAIL_SERVER", "")
    make_user(role="officer", state="CN")
    assert pump_once(app) == (0, 0)
    assert len(smtp.delivered) == 1


def test_starttls_checks_the_mail_servers_certificate_and_name(app, make_user, smtp, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_USE_STARTTLS", True)
    make_user(role="officer")
    assert send(app, utcnow()) == (1, 0)
    [context] = smtp.tls_contexts
    # Without a context Python's STARTTLS accepts any certificate; the default context checks it and the name.
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_a_failing_delivery_round_does_not_break_the_server(app, make_user, smtp, monkeypatch):
    from registry.outbox_pump import pump_once

    make_user(role="officer")

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(notifications, "send_pending", broken)
    assert pump_once(app) == (0, 0)


def test_nobody_sets_or_reads_off_someone_elses_notifications(app, make_user):
    from registry.services.errors import PermissionDenied

    me, other = make_user(role="admin"), make_user(role="officer")
    with app.app_context():
        with pytest.raises(PermissionDenied):
            notifications.set_preferences(user(me.id), user(other.id), wanted=[], paused_until=None)
        with pytest.raises(PermissionDenied):
            notifications.mark_all_read(user(me.id), user(other.id))
        db.session.rollback()
        assert db.session.get(NotificationPreference, other.id) is None
    assert all(m.read_at is None for m in outbox(app))
