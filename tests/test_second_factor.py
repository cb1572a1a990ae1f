"""The second factor: enrolment, two-step sign-in, single-use codes, recovery codes, who must have one."""

import re
import time

import pyotp
from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, LoginSession, RecoveryCode, User
from registry.services import mfa, totp_keys
from tests.conftest import csrf_token, fetch, login

SECRET_RE = re.compile(r'<code class="secret">([A-Z2-7]{16,})</code>')
CODE_RE = re.compile(r"<li><code>((?:[a-z2-7]{7}-){3}[a-z2-7]{7})</code></li>")
WRONG_CODE = "This code is not right, or it was used already."


def entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def code_now(secret: str, offset_steps: int = 0) -> str:
    return pyotp.TOTP(secret).at((int(time.time()) // 30 + offset_steps) * 30)


def enrol(client, app) -> tuple[str, list[str]]:
    """Set up a second factor through the pages; returns the secret shown and the recovery codes."""
    page = client.post("/account/two-factor/start", data={"csrf_token": csrf_token(client, "/account/two-factor")})
    assert page.status_code == 200
    secret = SECRET_RE.search(page.get_data(as_text=True)).group(1)
    assert "otpauth://totp/" in page.get_data(as_text=True)
    done = client.post("/account/two-factor/confirm",
                       data={"code": code_now(secret), "csrf_token": csrf_token(client, "/account/two-factor")})
    assert done.status_code == 200
    codes = CODE_RE.findall(done.get_data(as_text=True))
    return secret, codes


def password_step(client, user):
    return client.post("/login", data={"email": user.email, "password": user.password,
                                       "csrf_token": csrf_token(client, "/login")})


def code_step(client, code):
    return client.post("/login/verify", data={"code": code, "csrf_token": csrf_token(client, "/login/verify")})


def signed_in(client) -> bool:
    return client.get("/states/").status_code == 200


# --- enrolment -----------------------------------------------------------------------------------------------------


def test_an_officer_may_enrol_and_then_signs_in_in_two_steps(app, client, make_user):
    user = make_user(role="officer")
    assert login(client, user).status_code == 302 and signed_in(client)  # optional for officers
    assert "It is optional for your account" in client.get("/account/two-factor").get_data(as_text=True)

    secret, codes = enrol(client, app)

    assert len(codes) == 10 and len(set(codes)) == 10
    stored = fetch(app, User, user.id)
    # Stored encrypted: not the secret, not containing it, and it opens only with the key file.
    assert stored.totp_enabled_at is not None and secret not in stored.totp_secret
    with app.app_context():
        assert totp_keys.decrypt(stored.totp_secret) == secret
    with app.app_context():
        hashes = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)))
    assert len(hashes) == 10 and not any(code.replace("-", "") in h for code in codes for h in hashes)
    [enrolled] = entries(app, "auth.second_factor_enrolled")
    assert enrolled.actor_id == user.id

    other = app.test_client()
    first = password_step(other, user)
    assert first.status_code == 302 and first.location == "/login/verify"
    assert not signed_in(other)  # the password alone opens nothing
    assert code_step(other, code_now(secret, +1)).status_code == 302
    assert signed_in(other)


def test_a_wrong_code_at_enrolment_is_refused_beside_the_field_and_audited(app, client, login_as):
    user = login_as("officer")
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(client, "/account/two-factor")})
    page = client.post("/account/two-factor/confirm",
                       data={"code": "000000", "csrf_token": csrf_token(client, "/account/two-factor")})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="code-error"' in html and "This code is not right" in html
    assert SECRET_RE.search(html)  # shown again to type the code once more
    assert fetch(app, User, user.id).totp_enabled_at is None
    assert len(entries(app, "auth.second_factor_enrol_failed")) == 1


def test_a_new_start_replaces_the_unconfirmed_secret(app, client, login_as):
    login_as("officer")
    token = csrf_token(client, "/account/two-factor")
    first = SECRET_RE.search(client.post("/account/two-factor/start", data={"csrf_token": token})
                             .get_data(as_text=True)).group(1)
    second = SECRET_RE.search(client.post("/account/two-factor/start", data={"csrf_token": token})
                              .get_data(as_text=True)).group(1)
    assert first != second
    page = client.post("/account/two-factor/confirm", data={"code": code_now(first), "csrf_token": token})
    assert "This code is not right" in page.get_data(as_text=True)


def test_enrolment_ends_the_other_sessions_of_the_account(app, client, make_user):
    user = make_user(role="officer")
    other = app.test_client()
    login(other, user)
    login(client, user)
    enrol(client, app)
    assert signed_in(client)
    assert not signed_in(other)


def test_starting_again_once_enrolled_is_refused(app, client, login_as):
    me = login_as("secretariat")
    before = fetch(app, User, me.id).totp_secret
    client.post("/account/two-factor/start", data={"csrf_token": csrf_token(client, "/account/two-factor")})
    assert fetch(app, User, me.id).totp_secret == before


# --- who must have one ---------------------------------------------------------------------------------------------


def test_secretariat_auditor_admin_without_second_factor_can_only_enrol(app, client, make_user):
    for role in ("secretariat", "auditor", "admin"):
        browser = app.test_client()
        user = make_user(role=role, second_factor=False)
        assert login(browser, user).status_code == 302
        for path in ("/states/", "/exercises/", "/account/password", "/account/sessions"):
            response = browser.get(path)
            assert response.status_code == 302 and response.location == "/account/two-factor", (role, path)
        page = browser.get("/account/two-factor").get_data(as_text=True)
        assert "Your account must have a second factor" in page
        enrol(browser, app)
        assert signed_in(browser)


def test_a_post_is_also_held_until_enrolment(app, client, make_user):
    user = make_user(role="admin", second_factor=False)
    target = make_user(role="officer", state="KG")
    login(client, user)
    response = client.post(f"/admin/users/{target.id}/deactivate",
                           data={"csrf_token": csrf_token(client, "/account/two-factor"), "version": "1"})
    assert response.status_code == 302 and response.location == "/account/two-factor"
    assert fetch(app, User, target.id).active


def test_an_admin_can_require_a_second_factor_for_everyone(app, client, make_user, login_as):
    officer = make_user(role="officer")
    browser = app.test_client()
    login(browser, officer)
    assert signed_in(browser)

    login_as("admin")
    page = client.get("/admin/security")
    assert 'name="second_factor_for_everyone"' in page.get_data(as_text=True)
    response = client.post("/admin/security", data={"second_factor_for_everyone": "y",
                                                    "csrf_token": csrf_token(client, "/admin/security")})
    assert response.status_code == 302
    [changed] = entries(app, "security.setting_changed")
    assert changed.changes == {"second_factor_for_everyone": [False, True]}

    assert browser.get("/states/").location == "/account/two-factor"
    enrol(browser, app)
    assert signed_in(browser)

    client.post("/admin/security", data={"csrf_token": csrf_token(client, "/admin/security")})
    with app.app_context():
        assert mfa.required_for_everyone() is False


def test_an_admin_removes_a_lost_second_factor(app, client, make_user, login_as):
    target = make_user(role="auditor")
    browser = app.test_client()
    login(browser, target)
    assert signed_in(browser)
    login_as("admin")
    page = client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert "Remove the second factor" in page

    response = client.post(f"/admin/users/{target.id}/second-factor",
                           data={"csrf_token": csrf_token(client, f"/admin/users/{target.id}")})

    assert response.status_code == 302
    stored = fetch(app, User, target.id)
    assert stored.totp_secret is None and stored.totp_enabled_at is None
    with app.app_context():
        assert db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == target.id)).all() == []
    assert not signed_in(browser)  # every session ended
    assert [e.object_id for e in entries(app, "user.reset_second_factor")] == [str(target.id)]
    # Next sign-in: password only, then straight to enrolment.
    again = app.test_client()
    assert password_step(again, target).location == "/"
    assert again.get("/states/").location == "/account/two-factor"


# --- the second step of signing in ---------------------------------------------------------------------------------


def test_a_code_cannot_be_used_twice(app, client, make_user):
    user = make_user(role="secretariat")
    code = code_now(user.totp_secret)
    password_step(client, user)
    assert code_step(client, code).status_code == 302
    assert signed_in(client)

    other = app.test_client()
    password_step(other, user)
    page = code_step(other, code)
    assert page.status_code == 200 and WRONG_CODE in page.get_data(as_text=True)
    assert not signed_in(other)
    [failed] = entries(app, "auth.second_factor_failed")
    assert failed.changes == {"reason": ["", "reused_code"]} and failed.outcome == "failure"


def test_an_earlier_code_is_refused_after_a_later_one(app, client, make_user):
    user = make_user(role="secretariat")
    password_step(client, user)
    assert code_step(client, code_now(user.totp_secret, +1)).status_code == 302
    other = app.test_client()
    password_step(other, user)
    assert WRONG_CODE in code_step(other, code_now(user.totp_secret)).get_data(as_text=True)


def test_codes_outside_the_drift_window_are_refused(app, client, make_user):
    user = make_user(role="auditor")
    password_step(client, user)
    for offset in (-3, +3):
        assert WRONG_CODE in code_step(client, code_now(user.totp_secret, offset)).get_data(as_text=True)
    assert code_step(client, code_now(user.totp_secret, -1)).status_code == 302


def test_a_recovery_code_works_once_and_is_audited(app, client, make_user):
    user = make_user(role="admin")
    code = user.recovery_codes[0]
    password_step(client, user)
    assert code_step(client, code.upper()).status_code == 302  # case and the dash do not matter
    assert signed_in(client)
    [used] = entries(app, "auth.recovery_code_used")
    assert used.object_id == str(user.id) and used.changes == {"remaining": ["", 9]}

    other = app.test_client()
    password_step(other, user)
    assert WRONG_CODE in code_step(other, code).get_data(as_text=True)
    assert "Unused recovery codes: 9." in client.get("/account/two-factor").get_data(as_text=True)


def test_new_recovery_codes_replace_the_old_ones(app, client, make_user):
    user = make_user(role="auditor")
    login(client, user)
    token = csrf_token(client, "/account/two-factor")
    refused = client.post("/account/two-factor/recovery-codes", data={"current_password": "not the password",
                                                                     "csrf_token": token})
    assert "This is not your current password." in refused.get_data(as_text=True)
    assert not CODE_RE.findall(refused.get_data(as_text=True))
    page = client.post("/account/two-factor/recovery-codes",
                       data={"current_password": user.password, "csrf_token": token})
    fresh = CODE_RE.findall(page.get_data(as_text=True))
    assert len(fresh) == 10
    assert entries(app, "auth.recovery_codes_renewed")
    other = app.test_client()
    password_step(other, user)
    assert WRONG_CODE in code_step(other, user.recovery_codes[-1]).get_data(as_text=True)
    assert code_step(other, fresh[0]).status_code == 302


def test_the_second_step_needs_the_first(app, client, make_user):
    response = client.get("/login/verify")
    assert response.status_code == 302 and response.location == "/login"
    assert "Sign in with your e-mail address and password first." in client.get("/login").get_data(as_text=True)


def test_the_password_step_expires_after_five_minutes(app, client, make_user):
    user = make_user(role="secretariat")
    password_step(client, user)
    token = csrf_token(client, "/login/verify")
    with client.session_transaction() as session:
        session["pending_second_factor"] = [user.id, int(time.time()) - 301]
    response = client.post("/login/verify", data={"code": code_now(user.totp_secret), "csrf_token": token})
    assert response.status_code == 302 and response.location == "/login"
    assert not signed_in(client)


def test_a_forged_pending_value_is_refused(app, client, make_user):
    user = make_user(role="secretariat")
    password_step(client, user)
    token = csrf_token(client, "/login/verify")
    with client.session_transaction() as session:
        session["pending_second_factor"] = ["1", "x"]
    response = client.post("/login/verify", data={"code": code_now(user.totp_secret), "csrf_token": token})
    assert response.location == "/login"


def test_sign_in_with_a_second_factor_opens_one_session_and_audits_it(app, client, make_user):
    user = make_user(role="secretariat")
    assert login(client, user).status_code == 302
    with app.app_context():
        rows = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
    assert len(rows) == 1
    actions = [e.action for e in entries(app, "auth.password_accepted") + entries(app, "auth.login")]
    assert actions == ["auth.password_accepted", "auth.login"]
    assert entries(app, "auth.login")[0].changes == {"second_factor": ["", True]}


def test_bad_input_in_the_code_field_is_answered_not_crashed(app, client, make_user):
    user = make_user(role="secretariat")
    password_step(client, user)
    for bad in ("", " ", "\x00123456", "1" * 5000, "１２３４５６", "12345\u202e6", "' OR 1=1 --"):
        response = code_step(client, bad)
        assert response.status_code in (200, 413), repr(bad)
    assert not signed_in(client)


def test_the_command_line_removes_a_second_factor(app, runner, make_user):
    user = make_user(role="admin")
    result = runner.invoke(args=["reset-second-factor", user.email])
    assert result.exit_code == 0 and "second factor removed" in result.output
    assert fetch(app, User, user.id).totp_enabled_at is None
    [entry] = entries(app, "user.reset_second_factor")
    assert entry.actor_label == "cli"
