"""One's active sessions, and signing out everywhere; the session id changes at sign-in and privilege change."""

from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, LoginSession, User
from tests.conftest import csrf_token, fetch, login


def live_rows(app, user_id):
    with app.app_context():
        return db.session.scalars(select(LoginSession).where(LoginSession.user_id == user_id,
                                                              LoginSession.revoked_at.is_(None))).all()


def test_the_page_lists_each_live_session_and_marks_this_one(app, client, make_user):
    user = make_user(role="officer")
    phone = app.test_client()
    phone.post("/login", headers={"User-Agent": "<script>alert(1)</script> Phone"},
               data={"email": user.email, "password": user.password, "csrf_token": csrf_token(phone)})
    login(client, user)

    html = client.get("/account/sessions").get_data(as_text=True)

    assert html.count("<tr>") == 3  # header and two sessions
    assert html.count("this session") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Phone" in html and "<script>alert" not in html


def test_a_signed_out_session_is_not_listed(app, client, make_user):
    user = make_user(role="officer")
    other = app.test_client()
    login(other, user)
    other.post("/logout", data={"csrf_token": csrf_token(other, "/states/")})
    login(client, user)
    assert client.get("/account/sessions").get_data(as_text=True).count("<tr>") == 2


def test_sign_out_everywhere_ends_every_session_this_one_too(app, client, make_user):
    user = make_user(role="auditor")
    others = [app.test_client() for _i in range(2)]
    for browser in others + [client]:
        assert login(browser, user).status_code == 302

    token = csrf_token(client, "/account/sessions")
    wrong = client.post("/account/sessions/end-all", data={"current_password": "not my password at all",
                                                           "csrf_token": token})
    assert wrong.status_code == 200 and "This is not your current password." in wrong.get_data(as_text=True)
    assert all(browser.get("/states/").status_code == 200 for browser in others)

    response = client.post("/account/sessions/end-all", data={"current_password": user.password,
                                                              "csrf_token": token})

    assert response.status_code == 302 and response.location == "/login"
    for browser in others + [client]:
        assert browser.get("/states/").status_code == 302
    assert live_rows(app, user.id) == []
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "account.end_all_sessions")).all()
        assert entry.actor_id == user.id
        [failed] = db.session.scalars(select(AuditEntry)
                                      .where(AuditEntry.action == "auth.reauthentication_failed")).all()
        assert failed.actor_id == user.id and failed.outcome == "failure"


def test_sign_out_everywhere_needs_the_form_token(app, client, make_user):
    user = make_user(role="officer")
    login(client, user)
    response = client.post("/account/sessions/end-all", data={"current_password": user.password})
    assert response.status_code == 400 and "The form expired" in response.get_data(as_text=True)
    assert client.get("/states/").status_code == 200
    assert len(live_rows(app, user.id)) == 1


def test_one_users_page_never_lists_another_users_sessions(app, client, make_user):
    mine, theirs = make_user(role="officer"), make_user(role="officer", state="KG")
    stranger = app.test_client()
    stranger.post("/login", headers={"User-Agent": "Their browser"},
                  data={"email": theirs.email, "password": theirs.password, "csrf_token": csrf_token(stranger)})
    login(client, mine)
    assert "Their browser" not in client.get("/account/sessions").get_data(as_text=True)


def test_the_session_cookie_changes_at_sign_in(app, client, make_user):
    user = make_user(role="secretariat")
    client.get("/login")
    before = client.get_cookie("session").value
    login(client, user)
    after = client.get_cookie("session").value
    assert before != after
    with client.session_transaction() as session:
        token = session["sid"]
    # A second sign-in gives a new server-side session token.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/states/")})
    login(client, user)
    with client.session_transaction() as session:
        assert session["sid"] != token


def test_a_role_change_ends_the_sessions_of_that_user(app, client, make_user, login_as):
    target = make_user(role="officer", state="KG")
    browser = app.test_client()
    login(browser, target)
    login_as("admin")
    response = client.post(f"/admin/users/{target.id}", data={
        "display_name": "Moved", "role": "auditor", "state_id": "", "version": str(fetch(app, User, target.id).version),
        "csrf_token": csrf_token(client, "/states/")})
    assert response.status_code == 302, response.get_data(as_text=True)
    assert fetch(app, User, target.id).role.value == "auditor"
    assert browser.get("/states/").status_code == 302
    assert live_rows(app, target.id) == []


def test_setting_up_a_second_factor_gives_this_browser_a_new_session_id(app, client, make_user):
    import pyotp

    user = make_user(role="officer")
    login(client, user)
    with client.session_transaction() as session:
        before = session["sid"]
    rows_before = {row.id for row in live_rows(app, user.id)}
    token = csrf_token(client, "/account/two-factor")
    page = client.post("/account/two-factor/start", data={"csrf_token": token}).get_data(as_text=True)
    secret = page.split('<code class="secret">', 1)[1].split("<", 1)[0]
    done = client.post("/account/two-factor/confirm", data={"code": pyotp.TOTP(secret).now(), "csrf_token": token})
    assert done.status_code == 200
    with client.session_transaction() as session:
        assert session["sid"] != before
    assert client.get("/states/").status_code == 200
    after = {row.id for row in live_rows(app, user.id)}
    assert len(after) == 1 and not after & rows_before


def test_an_admin_ends_the_sessions_of_one_account(app, client, make_user, login_as):
    target, bystander = make_user(role="officer", state="KG"), make_user(role="officer")
    browsers = {who.id: app.test_client() for who in (target, bystander)}
    login(browsers[target.id], target)
    login(browsers[bystander.id], bystander)
    login_as("admin")
    response = client.post(f"/admin/users/{target.id}/sessions/end",
                           data={"csrf_token": csrf_token(client, f"/admin/users/{target.id}")})
    assert response.status_code == 302
    assert browsers[target.id].get("/states/").status_code == 302
    assert browsers[bystander.id].get("/states/").status_code == 200
    with app.app_context():
        [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.end_sessions")).all()
        assert entry.object_id == str(target.id)


def test_an_admin_ends_every_session_but_their_own(app, client, make_user, login_as):
    people = [make_user(role="officer"), make_user(role="auditor")]
    browsers = [app.test_client() for _person in people]
    for browser, person in zip(browsers, people, strict=True):
        login(browser, person)
    login_as("admin")
    response = client.post("/admin/security/end-every-session",
                           data={"csrf_token": csrf_token(client, "/admin/security")}, follow_redirects=True)
    assert "2 sessions were ended." in response.get_data(as_text=True)
    assert all(browser.get("/states/").status_code == 302 for browser in browsers)
    assert client.get("/states/").status_code == 200


def test_a_session_ends_after_its_absolute_lifetime_even_when_active(app, client, make_user):
    from datetime import timedelta

    from sqlalchemy import update

    from registry.db import utcnow

    user = make_user(role="officer")
    login(client, user)
    with app.app_context():
        db.session.execute(update(LoginSession).values(created_at=utcnow() - timedelta(hours=12, minutes=1),
                                                       last_seen_at=utcnow()))
        db.session.commit()
    assert client.get("/states/").status_code == 302
    with app.app_context():
        [row] = db.session.scalars(select(LoginSession).where(LoginSession.user_id == user.id)).all()
        assert row.revoked_reason == "expired"
