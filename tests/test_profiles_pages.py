"""The threshold profiles page: every number with its source and mark; administrators choose what is in force."""

import html
import re

import pytest
from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry
from registry.services.profiles import all_profiles, in_force_codes, profiles_in_force
from tests.conftest import audit_actions, csrf_token

PAGE = "/profiles/"


def text_of(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def section(page: str, code: str) -> str:
    match = re.search(rf'<section class="profile" id="profile-{code}".*?</section>', page, re.S)
    assert match, code
    return match.group(0)


def in_force(app) -> set[str]:
    with app.app_context():
        return {p.code for p in profiles_in_force()}


def switch(client, code: str, value: str):
    return client.post(f"/profiles/{code}/in-force", data={"in_force": value, "csrf_token": csrf_token(client, PAGE)})


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor", "admin"])
def test_everyone_reads_every_profile_with_its_sources_and_marks(app, client, login_as, role):
    login_as(role)
    response = client.get(PAGE)
    assert response.status_code == 200
    page = text_of(response)
    with app.app_context():
        profiles = all_profiles()
    assert list(profiles) == ["shanghai_1996", "vienna_2011", "sco_agreement"]
    for code, profile in profiles.items():
        part = section(page, code)
        assert all(name in part for name in profile.names.values())
        assert "in force" in part
        for key, (source, mark) in profile.sources.items():
            line = re.search(rf"<code>{re.escape(key)}</code>.*?</tr>", part, re.S)
            assert line, (code, key)
            assert source in line.group(0) and f"[{mark}]" in line.group(0)
            value = profile.values[key]
            assert f"{value:,}" in line.group(0), (code, key)
    for mark in ("[v]", "[s]", "[r]", "[d]"):
        assert mark in page
    # Where the numbers come from, e.g. the 1996 observer rule and the Vienna Document's 9,000 troops.
    assert "35,000" in section(page, "shanghai_1996") and "art. 6" in section(page, "shanghai_1996")
    assert "9,000" in section(page, "vienna_2011")
    assert "No number of this regime has been agreed yet." in section(page, "sco_agreement")
    assert ("Take " in page) is (role == "admin")


def test_every_rule_of_every_profile_has_its_number(app):
    with app.app_context():
        for profile in all_profiles().values():
            for key in profile.sources:
                assert isinstance(profile.values[key], int), (profile.code, key)
        vienna = all_profiles()["vienna_2011"]
        assert (vienna.values["calendar.due_month"], vienna.values["calendar.due_day"]) == vienna.calendar_due
        assert vienna.values["lead_time_days"] == vienna.lead_time_days


def test_an_administrator_takes_a_profile_out_of_force_and_back(app, client, login_as):
    admin = login_as("admin")
    assert "vienna_2011" in in_force(app)
    response = switch(client, "vienna_2011", "0")
    assert response.status_code == 302
    assert "vienna_2011" not in in_force(app)
    with app.app_context():
        assert "vienna_2011" not in in_force_codes()
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "profiles.set_in_force"))
        assert entry.object_id == "vienna_2011" and entry.actor_id == admin.id
        assert entry.changes == {"in_force": [True, False]}
    page = text_of(client.get(response.location))
    assert "is no longer in force" in page
    assert "not in force" in section(page, "vienna_2011")
    assert "Put Vienna Document 2011 benchmark in force" in section(page, "vienna_2011")

    assert switch(client, "vienna_2011", "1").status_code == 302
    assert "vienna_2011" in in_force(app)
    assert audit_actions(app).count("profiles.set_in_force") == 2


@pytest.mark.parametrize("role", ["officer", "secretariat", "auditor"])
def test_only_administrators_change_what_is_in_force(app, client, login_as, role):
    login_as(role)
    before = in_force(app)
    assert switch(client, "vienna_2011", "0").status_code == 403
    assert in_force(app) == before
    assert "profiles.set_in_force" not in audit_actions(app)
    assert "access.denied" in audit_actions(app)


def test_unknown_profiles_and_bad_values(app, client, login_as):
    login_as("admin")
    before = in_force(app)
    for code in ("kyoto_1997", "VIENNA_2011", "vienna_2011%00"):
        assert switch(client, code, "0").status_code == 404
    for value in ("", "yes", "2", "0\x00"):
        response = switch(client, "vienna_2011", value)
        assert response.status_code == 302
        assert "Choose whether the profile is in force." in text_of(client.get(response.location))
    # A value sent twice is not guessed at either.
    response = client.post("/profiles/vienna_2011/in-force",
                           data={"in_force": ["0", "1"], "csrf_token": csrf_token(client, PAGE)})
    assert response.status_code == 302
    assert in_force(app) == before
    assert "profiles.set_in_force" not in audit_actions(app)


def test_without_a_csrf_token_nothing_changes(app, client, login_as):
    login_as("admin")
    assert client.post("/profiles/vienna_2011/in-force", data={"in_force": "0"}).status_code == 400
    assert "vienna_2011" in in_force(app)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    assert client.get(PAGE).status_code == 302
    assert client.post("/profiles/vienna_2011/in-force", data={"in_force": "0"}).status_code in (302, 400)
