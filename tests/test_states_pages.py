"""Member states and partners: the list, one state's page, and recording a change of status."""

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.models import AuditEntry, MemberState, StatusPeriod
from tests.conftest import csrf_token

MEMBERS = {"CN", "IN", "IR", "KZ", "KG", "PK", "RU", "TJ", "UZ", "BY"}
PARTNERS = {"AF", "MN", "AM", "AZ", "BH", "KH", "EG", "KW", "MV", "MM", "NP", "QA", "SA", "LK", "TR", "AE", "LA"}


# --- helpers ---------------------------------------------------------------------------------------------------


def listed_codes(html: str) -> list[str]:
    return re.findall(r'<td><a href="/states/([A-Z]{2})">[A-Z]{2}</a></td>', html)


def list_row(html: str, code: str) -> list[str]:
    """The text of each cell in the list row of one state."""
    row = re.search(rf'<tr>\s*<td><a href="/states/{code}">.*?</tr>', html, re.S)
    assert row, f"{code} is not in the list"
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)]


def history_rows(html: str) -> list[tuple[str, str, str, str]]:
    """(status label, from, until, source) for each row of the status history, newest first."""
    return re.findall(r'<tr>\s*<td><span class="badge \w+">([^<]+)</span></td>\s*<td>([^<]*)</td>\s*'
                      r'<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*</tr>', html)


def status_today(html: str) -> str:
    match = re.search(r'<dt>Status today</dt>\s*<dd><span class="badge \w+">([^<]+)</span>', html)
    assert match, "no 'Status today' on the page"
    return match.group(1)


def error_beside(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def periods(app, code: str) -> list[tuple[str, date, date | None, str]]:
    with app.app_context():
        rows = db.session.execute(
            select(StatusPeriod.status, StatusPeriod.valid_from, StatusPeriod.valid_to, StatusPeriod.source)
            .join(MemberState).where(MemberState.code == code).order_by(StatusPeriod.valid_from)
        ).all()
        return [(status.value, start, end, source) for status, start, end, source in rows]


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def record_status(client, code: str, **data):
    url = f"/states/{code}/status"
    return client.post(url, data={**data, "csrf_token": csrf_token(client, url)})


# --- the list --------------------------------------------------------------------------------------------------


def test_the_list_shows_all_27_states_members_first(client, login_as):
    login_as("officer", state="KZ")
    html = client.get("/states/").get_data(as_text=True)

    codes = listed_codes(html)
    assert len(codes) == 27 and set(codes) == MEMBERS | PARTNERS
    assert set(codes[:10]) == MEMBERS, "member states are listed before partners"
    assert '<p class="count">27 states</p>' in html
    assert "Казахстан" in html and "哈萨克斯坦" in html
    assert list_row(html, "BY") == ["BY", "Belarus", "Беларусь", "白俄罗斯", "Member state", "2024-07-04",
                                    "Dialogue partner, Observer"]
    assert list_row(html, "AF")[4:] == ["SCO partner", "2025-09-01", "Observer"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("member", MEMBERS), ("partner", PARTNERS), ("observer", set()), ("dialogue_partner", set())],
)
def test_filter_by_status_today(client, login_as, status, expected):
    login_as("secretariat")
    html = client.get(f"/states/?status={status}").get_data(as_text=True)

    codes = listed_codes(html)
    assert len(codes) == len(expected) and set(codes) == expected
    assert f'<option value="{status}" selected>' in html
    if not expected:
        assert "No state has this status." in html


@pytest.mark.parametrize("value", ["bogus", "MEMBER", "member%00", "member'--", "%25", "x" * 5000])
def test_an_unknown_status_filter_is_ignored(client, login_as, value):
    login_as("auditor")
    response = client.get(f"/states/?status={value}")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert len(listed_codes(html)) == 27
    assert " selected>" not in html


def test_the_list_needs_a_signed_in_user(client):
    response = client.get("/states/")
    assert response.status_code == 302 and response.location.startswith("/login")


# --- one state's page ------------------------------------------------------------------------------------------


def test_belarus_page_shows_names_and_status_history(client, login_as):
    login_as("officer", state="KZ")
    response = client.get("/states/BY")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Belarus" in html and "BY / BLR" in html
    assert '<dd lang="ru">Беларусь</dd>' in html
    assert '<dd lang="zh">白俄罗斯</dd>' in html
    assert status_today(html) == "Member state"
    assert [row[:3] for row in history_rows(html)] == [
        ("Member state", "2024-07-04", "today"),
        ("Observer", "2015-07-10", "2024-07-04"),
        ("Dialogue partner", "2009-06-16", "2015-07-10"),
    ]
    assert "Record a change of status" not in html, "only administrators see the link"


def test_lower_case_code_finds_the_state(client, login_as):
    login_as("officer", state="KZ")
    response = client.get("/states/by")
    assert response.status_code == 200
    assert "<h1>Belarus" in response.get_data(as_text=True)


def test_state_page_lists_its_active_liaison_officers(client, login_as, make_user):
    make_user(role="officer", state="BY", name="Alena Active")
    make_user(role="officer", state="BY", name="Pavel Gone", active=False)
    make_user(role="officer", state="KZ", name="Kazakh Officer")
    login_as("secretariat")

    html = client.get("/states/BY").get_data(as_text=True)

    assert "<li>Alena Active</li>" in html
    assert "Pavel Gone" not in html
    assert "Kazakh Officer" not in html
    assert "No liaison officer is registered" not in html


def test_admin_sees_deactivated_officers_marked(client, login_as, make_user):
    make_user(role="officer", state="BY", name="Pavel Gone", active=False)
    login_as("admin")
    html = client.get("/states/BY").get_data(as_text=True)
    assert "<li>Pavel Gone (deactivated)</li>" in html


def test_state_without_officers_says_so(client, login_as):
    login_as("auditor")
    html = client.get("/states/LA").get_data(as_text=True)
    assert "No liaison officer is registered for this state." in html


@pytest.mark.parametrize("code", ["ZZ", "zz", "KAZ", "%00", "K%00", "%20KZ", "К%D0%97", "%EF%BC%AB%EF%BC%BA", "K"])
def test_unknown_code_is_404(client, login_as, code):
    login_as("officer", state="KZ")
    response = client.get(f"/states/{code}")
    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)


# --- recording a change of status ------------------------------------------------------------------------------


def test_admin_records_a_change_of_status(app, client, login_as):
    admin = login_as("admin")
    assert "Record a change of status" in client.get("/states/LA").get_data(as_text=True)
    form = client.get("/states/LA/status").get_data(as_text=True)
    assert "Current status: SCO partner since 2025-09-01." in form

    response = record_status(client, "LA", status="observer", valid_from="2026-01-15",
                             source="Decision of the Council of Heads of State")

    assert response.status_code == 302 and response.location == "/states/LA"
    assert periods(app, "LA") == [
        ("partner", date(2025, 9, 1), date(2026, 1, 15), periods(app, "LA")[0][3]),
        ("observer", date(2026, 1, 15), None, "Decision of the Council of Heads of State"),
    ]
    html = client.get("/states/LA").get_data(as_text=True)
    assert "The status of Laos was recorded." in html
    assert status_today(html) == "Observer"
    assert [row[:3] for row in history_rows(html)] == [
        ("Observer", "2026-01-15", "today"), ("SCO partner", "2025-09-01", "2026-01-15"),
    ]
    [entry] = audit_entries(app, "state.change_status")
    assert entry.actor_id == admin.id and entry.object_id == "LA" and entry.state_code == "LA"
    assert entry.changes == {"status_history": [
        [["partner", "2025-09-01", None]],
        [["partner", "2025-09-01", "2026-01-15"], ["observer", "2026-01-15", None]],
    ]}
    assert "LA" not in listed_codes(client.get("/states/?status=partner").get_data(as_text=True))


def test_a_change_that_takes_effect_later_leaves_todays_status(app, client, login_as):
    login_as("admin")
    later = (utcnow().date() + timedelta(days=30)).isoformat()

    response = record_status(client, "LA", status="member", valid_from=later, source="Accession treaty")

    assert response.status_code == 302
    html = client.get("/states/LA").get_data(as_text=True)
    assert status_today(html) == "SCO partner"
    assert [row[:3] for row in history_rows(html)] == [
        ("Member state", later, "not yet in force"), ("SCO partner", "2025-09-01", later),
    ]
    members = client.get("/states/?status=member").get_data(as_text=True)
    assert "LA" not in listed_codes(members)
    partners = client.get("/states/?status=partner").get_data(as_text=True)
    assert list_row(partners, "LA") == ["LA", "Laos", "Лаос", "老挝", "SCO partner", "2025-09-01", ""]



@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"valid_from": "2025-08-31"}, "valid_from", "The new status must start after the current one (2025-09-01)."),
        ({"valid_from": "2025-09-01"}, "valid_from", "The new status must start after the current one (2025-09-01)."),
        ({"status": "partner"}, "status", "The state already has this status."),
        ({"source": "Decision\x00 of the Council"}, "source", "Remove the control characters from this field."),
        ({"source": "x" * 301}, "source", "Field cannot be longer than 300 characters."),
    ],
    ids=["before-current", "same-day-as-current", "same-status", "nul-in-source", "301-char-source"],
)
def test_bad_change_of_status_is_refused_beside_the_field(app, client, login_as, data, field, message):
    login_as("admin")
    before = (periods(app, "LA"), audit_count(app))
    form = {"status": "observer", "valid_from": "2026-01-15", "source": "Council decision", **data}

    response = record_status(client, "LA", **form)

    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), field) == message
    assert (periods(app, "LA"), audit_count(app)) == before


def test_exactly_300_characters_of_source_are_accepted(app, client, login_as):
    login_as("admin")
    response = record_status(client, "LA", status="observer", valid_from="2026-01-15", source="s" * 300)
    assert response.status_code == 302
    assert periods(app, "LA")[-1][3] == "s" * 300


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor"])
def test_only_admins_record_a_change_of_status(app, client, login_as, role):
    login_as(role, state="KZ")
    before = periods(app, "LA")

    assert client.get("/states/LA/status").status_code == 403
    response = client.post("/states/LA/status", data={
        "status": "observer", "valid_from": "2026-01-15", "source": "x", "csrf_token": csrf_token(client, "/states/"),
    })

    assert response.status_code == 403
    assert periods(app, "LA") == before
    assert audit_entries(app, "state.change_status") == []


def test_status_form_of_an_unknown_state_is_404(client, login_as):
    login_as("admin")
    assert client.get("/states/ZZ/status").status_code == 404


def test_state_page_links_to_the_states_records(client, login_as):
    login_as("officer", "CN")
    page = client.get("/states/KZ").get_data(as_text=True)
    assert 'href="/exercises/?state=KZ"' in page
    assert 'href="/calendars/?state=KZ"' in page
