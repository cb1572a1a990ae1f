"""Issue 3, "done when", through the web pages as its users would do it, on both backends.

A liaison officer files a notification above the observation threshold without inviting observers and is
stopped; fixes it and submits; the Secretariat returns it with a shared comment; the officer corrects and
resubmits; the Secretariat accepts; every step is on the timeline and in the audit log; another member's
officer finds the accepted exercise in the year view and the .ics feed.
"""

import html
from datetime import timedelta

import icalendar
from sqlalchemy import select

from registry.db import db, utcnow
from registry.models import AuditEntry, Submission
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import error_beside, valid_form


def _post(client, url, data, token_page):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_page)})


def _record(app) -> Submission:
    with app.app_context():
        submission = db.session.scalar(select(Submission))
        db.session.expunge(submission)
        return submission


def test_the_notification_journey(app, make_user):
    kz, reviewer, cn = make_user("officer", "KZ"), make_user("secretariat"), make_user("officer", "CN")
    officer, secretariat, other = app.test_client(), app.test_client(), app.test_client()
    for client, user in ((officer, kz), (secretariat, reviewer), (other, cn)):
        assert login(client, user).status_code == 302

    # 1. Above the observation threshold, observers not invited: saved as a draft, but not submitted.
    form = valid_form(app, observers_invited=None, observer_places_per_state="", observer_programme="",
                      observer_arrival_point="")
    response = _post(officer, "/exercises/new", {**form, "action": "submit"}, "/exercises/new")
    assert response.status_code == 302 and "check=1" in response.location
    page = officer.get(response.location)
    assert "Observers must be invited" in error_beside(page, "observers_invited")
    record = _record(app)
    assert record.status.value == "draft"
    edit_url = f"/exercises/{record.reference}/edit"

    # 2. The officer invites observers and submits.
    response = _post(officer, edit_url, {**valid_form(app), "lock_version": str(record.lock_version),
                                         "action": "submit"}, edit_url)
    assert response.status_code == 302, html.unescape(response.get_data(as_text=True))[:2000]
    assert _record(app).status.value == "submitted"
    detail = f"/exercises/{record.reference}"

    # 3. The Secretariat returns it with a comment shared with the filing state.
    queue = secretariat.get("/review/").get_data(as_text=True)
    assert record.reference in queue
    lock = _record(app).lock_version
    response = _post(secretariat, f"/records/{record.reference}/act/return",
                     {"lock_version": str(lock), "comment": "Give the troops of Kyrgyzstan by service, please.",
                      "comment_visibility": "shared"}, detail)
    assert response.status_code == 302
    assert _record(app).status.value == "returned"
    assert "Give the troops of Kyrgyzstan by service" in html.unescape(officer.get(detail).get_data(as_text=True))

    # 4. The officer corrects and resubmits.
    record = _record(app)
    corrected = valid_form(app, **{"participants-0-contribution": "Motor rifle company, 300 ground troops"})
    response = _post(officer, edit_url, {**corrected, "lock_version": str(record.lock_version), "action": "submit"},
                     edit_url)
    assert response.status_code == 302
    assert _record(app).status.value == "submitted"

    # 5. The Secretariat accepts.
    response = _post(secretariat, f"/records/{record.reference}/act/accept",
                     {"lock_version": str(_record(app).lock_version)}, detail)
    assert response.status_code == 302
    record = _record(app)
    assert record.status.value == "accepted"
    assert record.accepted_revision_no == 2  # version 1 was returned, version 2 corrected it

    # Every step is on the timeline ...
    timeline = html.unescape(officer.get(detail).get_data(as_text=True))
    for step in ("created", "submitted", "returned for correction", "accepted"):
        assert step in timeline, step
    # ... and in the audit log, in order.
    with app.app_context():
        actions = list(db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.object_id == record.reference).order_by(AuditEntry.id)))
    assert [a for a in actions if a.startswith("submission.")] == [
        "submission.create", "submission.submit", "submission.return", "submission.submit", "submission.accept"]

    # 6. Another member's officer sees the accepted exercise in the year view and the .ics feed.
    start = utcnow().date() + timedelta(days=60)
    year_page = html.unescape(other.get(f"/exercises/year/{start.year}").get_data(as_text=True))
    assert record.reference in year_page and "Peace Mission 2026" in year_page
    feed = other.get("/exercises/calendar.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = [e for e in icalendar.Calendar.from_ical(feed.data).walk("VEVENT")]
    [event] = [e for e in events if record.reference in str(e.get("UID"))]
    assert event.decoded("DTSTART") == start
    # The returned comment was for Kazakhstan only.
    assert "Give the troops of Kyrgyzstan" not in html.unescape(other.get(detail).get_data(as_text=True))
