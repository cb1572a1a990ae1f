"""A retried POST of a "new record" form (lost response, double click) does not open a second record."""

import re

from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, Submission
from tests.conftest import csrf_token, login
from tests.test_exercise_pages import valid_form

KEY = re.compile(r'name="idempotency_key"[^>]*value="([^"]+)"')


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _key(client, url: str) -> str:
    match = KEY.search(client.get(url).get_data(as_text=True))
    assert match, "the form carries no idempotency key"
    return match.group(1)


def test_the_same_exercise_form_sent_twice_opens_one_draft(app, client, login_as):
    login_as("officer", "KZ")
    key = _key(client, "/exercises/new")
    data = {**valid_form(app), "idempotency_key": key, "action": "save"}
    first = client.post("/exercises/new", data={**data, "csrf_token": csrf_token(client, "/exercises/new")})
    again = client.post("/exercises/new", data={**data, "csrf_token": csrf_token(client, "/exercises/new")})
    assert first.status_code == again.status_code == 302
    assert first.location == again.location  # both lead to the one draft
    assert _count(app, Submission) == 1
    assert _count(app, AuditEntry, AuditEntry.action == "submission.create") == 1
    # A new page is a new form: a second notification is a second record.
    other = {**data, "idempotency_key": _key(client, "/exercises/new")}
    client.post("/exercises/new", data={**other, "csrf_token": csrf_token(client, "/exercises/new")})
    assert _count(app, Submission) == 2


def test_the_same_calendar_form_sent_twice_opens_one_draft(app, client, login_as):
    login_as("officer", "KZ")
    key = _key(client, "/calendars/new")
    data = {"year": "2031", "visibility": "members", "original_language": "ru", "idempotency_key": key,
            "entries-0-designation": "Tien Shan", "entries-0-exercise_type": "command_post",
            "entries-0-planned_start": "2031-05-10", "entries-0-planned_end": "2031-05-20", "action": "save"}
    for _ in range(2):
        response = client.post("/calendars/new", data={**data, "csrf_token": csrf_token(client, "/calendars/new")})
        assert response.status_code == 302
    assert _count(app, Submission) == 1


def test_another_users_key_or_a_garbled_one_finds_nothing(app, client, login_as, make_user):
    """The key only finds the sender's own record; a forged or malformed one just opens a new record."""
    login_as("officer", "KZ")
    key = _key(client, "/exercises/new")
    data = {**valid_form(app), "idempotency_key": key, "action": "save"}
    client.post("/exercises/new", data={**data, "csrf_token": csrf_token(client, "/exercises/new")})
    colleague = app.test_client()
    login(colleague, make_user("officer", "KZ"))
    response = colleague.post("/exercises/new", data={**data, "csrf_token": csrf_token(colleague, "/exercises/new")})
    assert response.status_code == 302
    assert _count(app, Submission) == 2  # the colleague's own record, not a view of the first officer's
    for garbled in ("short", "x" * 65, "key\x00with-nul-byte-inside", "../../etc/passwd-padding-long"):
        response = client.post("/exercises/new", data={**data, "idempotency_key": garbled,
                                                       "csrf_token": csrf_token(client, "/exercises/new")})
        assert response.status_code == 302, garbled
    assert _count(app, Submission, Submission.idempotency_key.is_(None)) == 5  # the colleague's and these four
