"""The audit page: filters, field-level changes, keyset pagination by sequence number, chain status."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from registry.db import db
from registry.models import AuditEntry
from registry.services import audit
from registry.services import audit_checkpoints as checkpoints
from tests.test_audit_chain import superuser_sql


def seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]


@pytest.fixture
def log(app):
    with app.app_context():
        audit.record("exercise.save_draft", actor_label="officer.kz@example.org", object_type="exercise",
                     object_id="EXN-2026-0001", state_code="KZ",
                     changes={"troops_total": [4000, 6500], "designation_en": ["", "Peace Mission 2026"],
                              "alert_activity": [False, True]})
        audit.record("submission.submit", actor_label="officer.kz@example.org", object_type="exercise",
                     object_id="EXN-2026-0001", state_code="KZ", changes={"status": ["draft", "submitted"]})
        audit.record("exercise.save_draft", actor_label="officer.cn@example.org", object_type="exercise",
                     object_id="EXN-2026-0002", state_code="CN", changes={"troops_total": [None, 13000]})
        db.session.commit()


def test_field_level_changes_are_shown_as_before_and_after(client, login_as, log):
    login_as("auditor")
    html = client.get("/audit/").get_data(as_text=True)
    assert re.search(r"<code>troops_total</code></td><td class=\"old\">4000</td><td class=\"new\">6500</td>", html)
    assert re.search(r"<code>designation_en</code></td><td class=\"old\">—</td><td class=\"new\">Peace Mission 2026",
                     html)
    assert re.search(r"<code>alert_activity</code></td><td class=\"old\">✗</td><td class=\"new\">✓</td>", html)


@pytest.mark.parametrize(("query", "expected"), [
    ("?actor=OFFICER.KZ", ["submission.submit EXN-2026-0001", "exercise.save_draft EXN-2026-0001"]),
    ("?action=exercise.", ["exercise.save_draft EXN-2026-0002", "exercise.save_draft EXN-2026-0001"]),
    ("?state=cn", ["exercise.save_draft EXN-2026-0002"]),
    ("?object=exn-2026-0001", ["submission.submit EXN-2026-0001", "exercise.save_draft EXN-2026-0001"]),
    ("?object=EXN-2026-0001&action=submission", ["submission.submit EXN-2026-0001"]),
    ("?outcome=denied", []),
    ("?actor=%25", []),  # a LIKE wildcard is matched literally
])
def test_filters(app, client, login_as, log, query, expected):
    login_as("auditor")
    with app.app_context():
        names = {e.seq: f"{e.action} {e.object_id}" for e in db.session.query(AuditEntry)}
    assert [names[n] for n in seqs(client.get("/audit/" + query).get_data(as_text=True))] == expected


def test_date_range_filter(app, client, login_as, log):
    login_as("auditor")
    today = datetime.now(UTC).date().isoformat()
    assert len(seqs(client.get(f"/audit/?date_from={today}&date_to={today}").get_data(as_text=True))) >= 3
    assert seqs(client.get("/audit/?date_from=2001-01-01&date_to=2001-12-31").get_data(as_text=True)) == []


@pytest.mark.parametrize(("query", "message"), [
    ("?date_from=2026-02-30", "Enter a date as YYYY-MM-DD."),
    ("?date_from=0000-00-00", "Enter a date as YYYY-MM-DD."),
    ("?date_to=9999-12-31", "Choose a date between 2000 and 9000."),
    ("?date_from=2026-05-02&date_to=2026-05-01", "The end date is before the start date."),
    ("?state=KZK", "Two letters, e.g. KZ."),
    ("?state=%D0%9A%D0%97", "Two letters, e.g. KZ."),  # Cyrillic КЗ
    ("?actor=a%00b", "Remove the control characters from this field."),
    ("?object=" + "x" * 65, "At most 64 characters."),
    ("?outcome=%00", "Choose one of the listed outcomes."),
])
def test_bad_filters_are_explained_beside_the_field(client, login_as, log, query, message):
    login_as("auditor")
    response = client.get("/audit/" + query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<p class="error" id="[a-z_]+-error">' + re.escape(message), html), html[:3000]
    assert "Correct the filters marked above" in html
    assert seqs(html) == []


def test_keyset_pagination_by_sequence_number(app, client, login_as):
    with app.app_context():
        for i in range(230):
            audit.record("test.bulk", actor_label="bulk@example.org", changes={"i": [None, i]})
        db.session.commit()
    login_as("admin")
    first = client.get("/audit/?action=test.bulk").get_data(as_text=True)
    page1 = seqs(first)
    assert len(page1) == 100 and page1 == sorted(page1, reverse=True)
    link = re.search(r'href="(/audit/\?[^"]*before=\d+[^"]*)"', first).group(1).replace("&amp;", "&")
    assert "action=test.bulk" in link
    page2 = seqs(client.get(link).get_data(as_text=True))
    assert len(page2) == 100 and max(page2) == min(page1) - 1


def test_chain_status_and_last_checkpoint_at_the_top(app, client, login_as, log):
    login_as("auditor")
    html = client.get("/audit/").get_data(as_text=True)
    assert "intact" in html and "no checkpoint has been signed yet" in html
    with app.app_context():
        cp = checkpoints.sign_checkpoint()
        db.session.commit()
        seq, signed_at = cp.seq, cp.signed_at
    html = client.get("/audit/").get_data(as_text=True)
    assert f"entry {seq}, signed {signed_at}" in html
    assert "The last checkpoint is correctly signed and matches the log" in html


def test_chain_status_shows_a_broken_chain(app, client, login_as, log):
    login_as("auditor")
    with app.app_context():
        last = db.session.scalar(text("SELECT max(seq) FROM audit_log"))
    superuser_sql(app, f"UPDATE audit_log SET state_code = 'RU' WHERE seq = {last - 1}")
    html = client.get("/audit/").get_data(as_text=True)
    assert "broken" in html and f"seq {last - 1}" in html


def test_an_officer_cannot_open_the_audit_page(app, client, login_as, log):
    login_as("officer")
    assert client.get("/audit/").status_code == 403
    with app.app_context():
        assert db.session.query(AuditEntry).filter_by(action="access.denied").count() == 1
