"""Personal API tokens: made on the account page (password asked again), shown once, stored as a digest,
scopes within the owner's role, refused when revoked, expired or its owner is deactivated, and guessing
throttled per client address."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from registry.db import db, utcnow
from registry.models import ApiToken, AuditEntry, User
from registry.services import api_tokens
from registry.services import users as user_service
from registry.services.actors import CLI
from registry.services.errors import ValidationFailed
from tests.api_helpers import call, make_token
from tests.conftest import audit_actions, csrf_token

TOKEN_RE = re.compile(r'<code id="new-token">(cbm_[A-Za-z0-9_-]+)</code>')


def _create(client, **data):
    form = {"name": "Ministry records system", "scopes": ["read"], "days": "30", **data}
    form["csrf_token"] = csrf_token(client, "/account/tokens/")
    return client.post("/account/tokens/", data=form)


def test_a_token_is_created_on_the_account_page_shown_once_and_stored_as_a_digest(app, client, login_as):
    me = login_as("officer")
    response = _create(client, password=me.password, scopes=["read", "file"])
    assert response.status_code == 200
    token = TOKEN_RE.search(response.get_data(as_text=True)).group(1)
    with app.app_context():
        row = db.session.scalar(select(ApiToken))
        assert row.token_hash == api_tokens.digest(token) and token not in (row.token_hash, row.prefix)
        assert row.scope_list == ["read", "file"] and row.user_id == me.id
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
    # Shown once: the list afterwards has only its first characters.
    page = client.get("/account/tokens/").get_data(as_text=True)
    assert token not in page and token[:12] in page and "never" in page
    # It works on the API, and its last use is then shown.
    assert call(client, "GET", "/api/v1/me", token).get_json()["scopes"] == ["read", "file"]
    assert client.get("/account/tokens/").get_data(as_text=True).count(" UTC") >= 3
    assert "api_token.create" in audit_actions(app)


def test_the_password_is_asked_again_and_a_wrong_one_counts_as_a_failed_sign_in(app, client, login_as):
    login_as("officer")
    response = _create(client, password="not my password")
    assert "This is not your current password." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None
    assert "auth.reauthentication_failed" in audit_actions(app)


@pytest.mark.parametrize(("role", "allowed"), [
    ("officer", ["read", "file", "export"]),
    ("secretariat", ["read", "file", "review", "export"]),
    ("auditor", ["read", "export"]),
    ("admin", ["read"]),
])
def test_scopes_never_exceed_the_owners_role(app, make_user, role, allowed):
    user = make_user(role=role)
    with app.app_context():
        account = db.session.get(User, user.id)
        assert api_tokens.scopes_for_role(account.role) == allowed
        for scope in set(api_tokens.SCOPES) - set(allowed):
            with pytest.raises(ValidationFailed) as refused:
                api_tokens.create_token(account, name="x", scopes=["read", scope], days=5, password=user.password)
            assert "Your role allows only these scopes" in refused.value.errors["scopes"][0]
        db.session.rollback()
        assert db.session.scalar(select(ApiToken)) is None


def test_a_scope_the_role_lacks_is_refused_on_the_page_too(app, client, login_as):
    me = login_as("auditor")
    response = _create(client, password=me.password, scopes=["read", "review"])
    assert "Your role allows only these scopes: read, export." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(ApiToken)) is None


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "", "This field is required."),
    ("name", "x" * 81, "At most 80 characters."),
    ("name", "bad\x00name", "Remove the control characters from this field."),
    ("days", "0", "Enter a number from 1 to 365."),
    ("days", "366", "Enter a number from 1 to 365."),
    ("days", "1e9", "Enter a number from 1 to 365."),
    ("scopes", [], "Choose at least one scope."),
])
def test_bad_token_input_is_refused_beside_the_field(app, make_user, field, value, message):
    user = make_user(role="officer")
    values = {"name": "x", "scopes": ["read"], "days": "30", field: value}
    with app.app_context():
        with pytest.raises(ValidationFailed) as refused:
            api_tokens.create_token(db.session.get(User, user.id), password=user.password, **values)
        assert refused.value.errors[field] == [message]


def test_a_revoked_token_is_refused(app, client, login_as):
    me = login_as("officer")
    token = make_token(app, me)
    assert call(client, "GET", "/api/v1/me", token).status_code == 200
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/tokens/")})
    assert response.status_code == 302
    refused = call(client, "GET", "/api/v1/me", token)
    assert refused.status_code == 401 and refused.get_json()["type"].endswith("/invalid-token")
    assert "api_token.revoke" in audit_actions(app)
    assert "revoked" in client.get("/account/tokens/").get_data(as_text=True)


def test_nobody_revokes_another_users_token(app, client, login_as, make_user):
    other = make_user(role="officer", state="KG")
    token = make_token(app, other)
    login_as("admin")
    with app.app_context():
        token_id = db.session.scalar(select(ApiToken.id))
    response = client.post(f"/account/tokens/{token_id}/revoke",
                           data={"csrf_token": csrf_token(client, "/account/tokens/")})
    assert response.status_code == 404
    assert call(client, "GET", "/api/v1/me", token).status_code == 200


def test_an_expired_token_is_refused(app, client, make_user):
    user = make_user(role="officer")
    token = make_token(app, user, days=1)
    with app.app_context():
        db.session.execute(update(ApiToken).values(created_at=utcnow() - timedelta(days=3),
                                                   expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert call(client, "GET", "/api/v1/me", token).status_code == 401


def test_a_deactivated_owners_token_is_refused(app, client, make_user):
    user = make_user(role="officer")
    token = make_token(app, user)
    with app.app_context():
        user_service.deactivate_user(CLI, db.session.get(User, user.id))
        db.session.commit()
    assert call(client, "GET", "/api/v1/me", token).status_code == 401


def test_a_token_of_a_role_that_lost_its_second_factor_is_refused(app, client, make_user):
    """Tokens of the Secretariat, auditors and administrators need their owner to keep a second factor."""
    user = make_user(role="secretariat")
    token = make_token(app, user)
    with app.app_context():
        account = db.session.get(User, user.id)
        account.totp_enabled_at = None
        db.session.commit()
    assert call(client, "GET", "/api/v1/me", token).status_code == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token cbm_x", "Bearer cbm_x",
                                    "Bearer " + "a" * 300, "Bearer cbm_\u0436"])
def test_missing_or_malformed_credentials_get_401(client, header):
    response = client.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_guessing_tokens_locks_the_address_out(app, client, make_user):
    user = make_user(role="officer")
    token = make_token(app, user)
    limit = app.config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]
    for n in range(limit):
        assert call(client, "GET", "/api/v1/me", f"cbm_guess{n}").status_code == 401
    locked = call(client, "GET", "/api/v1/me", token)
    assert locked.status_code == 429 and locked.headers["Retry-After"]
    with app.app_context():
        assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.locked")) is not None
    # Another address is not affected.
    assert call(client, "GET", "/api/v1/me", token, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200


def test_the_session_cookie_does_not_authenticate_the_api(client, login_as):
    """Signed in on the pages, the same browser gets nothing from the API without a token."""
    login_as("auditor")
    assert client.get("/audit/").status_code == 200
    response = client.get("/api/v1/audit")
    assert response.status_code == 401


def test_api_responses_set_no_cookie_and_are_not_cached(app, client, make_user):
    token = make_token(app, make_user(role="officer"))
    response = call(client, "GET", "/api/v1/me", token)
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_the_api_needs_no_csrf_token_and_still_refuses_a_cookie_only_post(client, login_as):
    login_as("officer")
    response = client.post("/api/v1/exercises", json={})
    assert response.status_code == 401  # not 400 "CSRF token missing": the API does not use cookies at all


def test_live_tokens_are_limited(app, make_user):
    user = make_user(role="officer")
    with app.app_context():
        account = db.session.get(User, user.id)
        for n in range(api_tokens.MAX_LIVE_TOKENS):
            api_tokens.create_token(account, name=f"t{n}", scopes=["read"], days=1, password=user.password)
        with pytest.raises(ValidationFailed) as refused:
            api_tokens.create_token(account, name="one more", scopes=["read"], days=1, password=user.password)
        assert "revoke one" in refused.value.errors[""][0]
