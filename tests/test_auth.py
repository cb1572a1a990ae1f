"""Signing in and out, sessions, and one's own password: what a user notices, and what the audit log keeps."""

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from registry.db import db, utcnow
from registry.models import AuditEntry, LoginSession, User
from tests.conftest import PASSWORD, audit_actions, csrf_token, fetch, login

BAD_CREDENTIALS = "The e-mail address or the password is not right."
NEW_PASSWORD = "a much longer new passphrase"


# --- helpers ---------------------------------------------------------------------------------------------------


def audit_entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                          .order_by(AuditEntry.id)))
        for entry in entries:
            db.session.expunge(entry)
        return entries


def sessions_of(app, user_id: int) -> list[LoginSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(LoginSession).where(LoginSession.user_id == user_id)
                                       .order_by(LoginSession.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def error_beside(html: str, field_id: str) -> str | None:
    """The text of the error paragraph rendered beside one form field, or None."""
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def assert_signed_in(client) -> None:
    response = client.get("/states/")
    assert response.status_code == 200, response.status_code
    assert "Sign out" in response.get_data(as_text=True)


def assert_anonymous(client) -> None:
    response = client.get("/states/")
    assert response.status_code == 302
    assert response.location.startswith("/login")


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "no session cookie was set"
    return cookie.value


# --- signing in ------------------------------------------------------------------------------------------------


def test_login_success_opens_a_session_and_is_audited(app, client, make_user):
    user = make_user(role="secretariat")
    assert fetch(app, User, user.id).last_login_at is None

    response = login(client, user)

    assert response.status_code == 302
    assert response.location == "/"
    assert_signed_in(client)
    assert fetch(app, User, user.id).last_login_at is not None
    entries = audit_entries(app, "auth.login")
    assert len(entries) == 1
    assert entries[0].actor_id == user.id and entries[0].outcome == "success"
    assert "auth.login_failed" not in audit_actions(app)
    rows = sessions_of(app, user.id)
    assert len(rows) == 1 and rows[0].revoked_at is None


def test_email_is_matched_without_regard_to_case_and_spaces(client, make_user):
    user = make_user(role="officer", email="mixed.case@example.org")
    response = client.post("/login", data={"email": "  Mixed.Case@EXAMPLE.org ", "password": user.password,
                                           "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert_signed_in(client)


def test_wrong_password_shows_message_beside_password_and_opens_no_session(app, client, make_user):
    user = make_user(role="officer")

    response = login(client, user, password="not the password at all")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_beside(html, "password") == BAD_CREDENTIALS
    assert error_beside(html, "email") is None
    assert 'value="not the password at all"' not in html  # the typed password is not echoed back
    assert_anonymous(client)
    assert sessions_of(app, user.id) == []
    assert fetch(app, User, user.id).last_login_at is None
    entries = audit_entries(app, "auth.login_failed")
    assert len(entries) == 1
    assert entries[0].outcome == "failure"
    assert entries[0].actor_label == user.email
    assert entries[0].changes == {"reason": ["", "bad_password"]}
    assert "auth.login" not in audit_actions(app)


def test_unknown_email_gets_the_same_message_and_is_audited(app, client, make_user):
    make_user(role="officer", email="known@example.org")
    response = client.post("/login", data={"email": "nobody@example.org", "password": PASSWORD,
                                           "csrf_token": csrf_token(client)})

    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), "password") == BAD_CREDENTIALS
    assert_anonymous(client)
    entries = audit_entries(app, "auth.login_failed")
    assert len(entries) == 1
    assert entries[0].outcome == "failure"
    assert entries[0].actor_id is None
    assert entries[0].actor_label == "nobody@example.org"
    assert entries[0].changes == {"reason": ["", "unknown_user"]}


def test_deactivated_user_cannot_sign_in(app, client, make_user):
    user = make_user(role="secretariat", active=False)

    response = login(client, user)

    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), "password") == BAD_CREDENTIALS
    assert_anonymous(client)
    assert sessions_of(app, user.id) == []
    entries = audit_entries(app, "auth.login_failed")
    assert [e.changes for e in entries] == [{"reason": ["", "inactive"]}]
    assert entries[0].outcome == "failure"


def test_login_post_without_csrf_token_is_refused(app, client, make_user):
    user = make_user(role="officer")
    client.get("/login")
    response = client.post("/login", data={"email": user.email, "password": user.password})
    assert response.status_code == 400
    assert_anonymous(client)
    assert sessions_of(app, user.id) == []


# --- ending sessions -------------------------------------------------------------------------------------------


def test_deactivating_a_user_ends_their_open_session(app, client, make_user):
    officer = make_user(role="officer")
    assert login(client, officer).status_code == 302
    assert_signed_in(client)

    admin_client = app.test_client()
    admin = make_user(role="admin")
    assert login(admin_client, admin).status_code == 302
    page = f"/admin/users/{officer.id}"
    response = admin_client.post(f"{page}/deactivate", data={"csrf_token": csrf_token(admin_client, page),
                                                             "version": str(fetch(app, User, officer.id).version)})
    assert response.status_code == 302
    assert fetch(app, User, officer.id).active is False

    response = client.get("/states/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert [row.revoked_reason for row in sessions_of(app, officer.id)] == ["deactivated"]


def test_logout_by_get_is_not_allowed(client, login_as):
    login_as("officer")
    response = client.get("/logout")
    assert response.status_code == 405
    assert_signed_in(client)


def test_logout_post_without_csrf_token_does_not_sign_out(app, client, login_as):
    user = login_as("officer")
    response = client.post("/logout")
    assert response.status_code == 400
    assert_signed_in(client)
    assert "auth.logout" not in audit_actions(app)
    assert sessions_of(app, user.id)[0].revoked_at is None


def test_logout_with_csrf_token_signs_out(app, client, login_as):
    user = login_as("officer")
    response = client.post("/logout", data={"csrf_token": csrf_token(client, "/states/")})
    assert response.status_code == 302
    assert response.location == "/login"
    assert_anonymous(client)
    assert audit_actions(app)[-1] == "auth.logout"
    assert [row.revoked_reason for row in sessions_of(app, user.id)] == ["logout"]


def test_session_cookie_copied_before_logout_no_longer_signs_in(app, client, login_as):
    login_as("secretariat")
    assert_signed_in(client)
    copied = session_cookie(client)

    # The copy works while the session is alive (so the test below can fail for the right reason).
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert_signed_in(thief)

    client.post("/logout", data={"csrf_token": csrf_token(client, "/states/")})
    assert_anonymous(client)

    replay = app.test_client()
    replay.set_cookie("session", copied)
    response = replay.get("/states/")
    assert response.status_code == 302
    assert response.location.startswith("/login")
    assert "Sign out" not in replay.get("/login").get_data(as_text=True)


def test_idle_session_expires(app, client, login_as):
    user = login_as("auditor")
    assert_signed_in(client)
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)
    with app.app_context():
        row = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
        row.last_seen_at = utcnow() - idle
        db.session.commit()

    assert_anonymous(client)
    rows = sessions_of(app, user.id)
    assert rows[0].revoked_reason == "expired"


def test_session_recently_seen_stays_alive(app, client, login_as):
    user = login_as("auditor")
    almost_idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    with app.app_context():
        row = db.session.scalar(select(LoginSession).where(LoginSession.user_id == user.id))
        row.last_seen_at = utcnow() - almost_idle
        db.session.commit()

    assert_signed_in(client)
    rows = sessions_of(app, user.id)
    assert rows[0].revoked_at is None
    assert utcnow() - rows[0].last_seen_at < timedelta(minutes=1)  # the visit refreshed it


# --- where to go after signing in --------------------------------------------------------------------------------


def test_safe_next_path_is_followed(client, make_user):
    user = make_user(role="officer")
    page = client.get("/login?next=/states/KZ")
    assert 'value="/states/KZ"' in page.get_data(as_text=True)  # carried in the form's hidden field
    response = client.post("/login?next=/states/KZ", data={
        "email": user.email, "password": user.password, "next": "/states/KZ", "csrf_token": csrf_token(client),
    })
    assert response.status_code == 302
    assert response.location == "/states/KZ"


def test_protected_page_sends_anonymous_user_to_login_and_back(client, make_user):
    user = make_user(role="officer")
    response = client.get("/states/KZ")
    assert response.status_code == 302
    assert response.location == "/login?next=/states/KZ"
    response = client.post(response.location, data={
        "email": user.email, "password": user.password, "next": "/states/KZ", "csrf_token": csrf_token(client),
    })
    assert response.location == "/states/KZ"


def test_form_post_after_session_ended_does_not_lead_to_a_dead_end(client, make_user):
    """Signing out (POST-only) with an expired session: after signing in again, land on a page, not a 405."""
    user = make_user(role="officer")
    client.get("/login")
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.location == "/login"
    response = client.post(response.location, data={
        "email": user.email, "password": user.password, "csrf_token": csrf_token(client),
    })
    assert response.location == "/"
    assert client.get(response.location).status_code == 200


def test_next_with_markup_is_escaped_in_the_login_form(client):
    page = client.get("/login", query_string={"next": '/"><script>alert(1)</script>'})
    assert page.status_code == 200
    assert "<script>alert(1)" not in page.get_data(as_text=True)


@pytest.mark.parametrize("target", [
    "//evil.example",
    "https://evil.example",
    "https:evil.example",
    "/\\evil.example",
    "javascript:alert(1)",
    "///evil.example",
    "/\t/evil.example",
])
def test_unsafe_next_goes_to_default_page(client, make_user, target):
    user = make_user(role="officer")
    page = client.get("/login", query_string={"next": target})
    assert "evil.example" not in page.get_data(as_text=True)
    assert "javascript:" not in page.get_data(as_text=True)

    response = client.post("/login", query_string={"next": target}, data={
        "email": user.email, "password": user.password, "next": target, "csrf_token": csrf_token(client),
    })
    assert response.status_code == 302
    assert response.location == "/"

    # Already signed in: /login?next=... redirects straight away, and must refuse the same targets.
    again = client.get("/login", query_string={"next": target})
    assert again.status_code == 302
    assert again.location == "/"


# --- changing one's own password -------------------------------------------------------------------------------


def change_password(client, current: str, new: str):
    token = csrf_token(client, "/account/password")
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "csrf_token": token})


def test_change_password_with_wrong_current_password(app, client, login_as):
    user = login_as("officer")
    before = fetch(app, User, user.id).password_hash

    response = change_password(client, "this is not it", NEW_PASSWORD)

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert error_beside(html, "current_password") == "This is not your current password."
    assert error_beside(html, "new_password") is None
    assert fetch(app, User, user.id).password_hash == before
    assert "account.change_password" not in audit_actions(app)
    assert_signed_in(client)


def test_new_password_must_differ_from_the_current_one(app, client, login_as):
    user = login_as("officer")
    before = fetch(app, User, user.id).password_hash
    response = change_password(client, user.password, user.password)
    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), "new_password") == (
        "Choose a password different from the current one.")
    assert fetch(app, User, user.id).password_hash == before


def test_change_password_revokes_other_sessions_but_keeps_this_one(app, client, make_user):
    user = make_user(role="secretariat")
    assert login(client, user).status_code == 302
    other = app.test_client()
    assert login(other, user).status_code == 302
    assert_signed_in(other)
    before = fetch(app, User, user.id).password_hash

    response = change_password(client, user.password, NEW_PASSWORD)

    assert response.status_code == 302
    assert fetch(app, User, user.id).password_hash != before
    assert_signed_in(client)
    assert_anonymous(other)
    reasons = [row.revoked_reason for row in sessions_of(app, user.id)]
    assert reasons == [None, "password_change"]
    assert audit_actions(app)[-1] == "account.change_password"
    entry = audit_entries(app, "account.change_password")[0]
    assert "correct horse" not in str(entry.changes) and NEW_PASSWORD not in str(entry.changes)

    # The new password signs in; the old one no longer does.
    assert login(app.test_client(), user, password=NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), user).status_code == 200


# --- password hashing ------------------------------------------------------------------------------------------


def test_password_is_rehashed_on_login_when_parameters_change(app, client, make_user, monkeypatch):
    user = make_user(role="auditor")
    old_hash = fetch(app, User, user.id).password_hash
    assert "t=1," in old_hash
    higher = app.config["ARGON2_TIME_COST"] + 1
    monkeypatch.setitem(app.config, "ARGON2_TIME_COST", higher)  # restored by monkeypatch after the test

    assert login(client, user).status_code == 302

    new_hash = fetch(app, User, user.id).password_hash
    assert new_hash != old_hash
    assert f"t={higher}," in new_hash
    assert PasswordHasher().verify(new_hash, user.password)
    assert "correct horse" not in new_hash

    # Signing in again with the same parameters leaves the hash alone.
    assert login(app.test_client(), user).status_code == 302
    assert fetch(app, User, user.id).password_hash == new_hash


def test_password_is_not_rehashed_when_parameters_are_unchanged(app, client, make_user):
    user = make_user(role="auditor")
    old_hash = fetch(app, User, user.id).password_hash
    assert login(client, user).status_code == 302
    assert fetch(app, User, user.id).password_hash == old_hash


# --- cookies and headers ---------------------------------------------------------------------------------------


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user(role="officer")
    response = login(client, user)
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1
    attributes = [part.strip().lower() for part in cookies[0].split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


@pytest.mark.parametrize("path", ["/login", "/healthz"])
def test_security_headers_on_public_pages(client, path):
    response = client.get(path)
    assert response.status_code == 200
    csp = response.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_signed_in_pages_are_not_cached(client, login_as):
    login_as("officer")
    response = client.get("/states/")
    assert response.headers.get("Cache-Control") == "no-store"
    assert response.headers.get("X-Frame-Options") == "DENY"


def test_one_login_session_row_per_login(app, make_user):
    user = make_user(role="officer")
    for _ in range(3):
        assert login(app.test_client(), user).status_code == 302
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(LoginSession)
                                  .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None)))
    assert count == 3
