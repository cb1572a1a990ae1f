"""A password an administrator set (new account, reset) is temporary: the user chooses their own before anything."""

from sqlalchemy import select

from registry.db import db
from registry.models import AuditEntry, MemberState, User
from tests.conftest import csrf_token, fetch, login
from tests.test_password_reset import ask, link_for, set_password

ADMIN_SET = "handed-over-by-admin-7431"
OWN = "my own long phrase of steppe grass"
FORCED = "Your password was set by an administrator. Choose your own password to continue."


def kz_id(app) -> int:
    with app.app_context():
        return db.session.scalar(select(MemberState.id).where(MemberState.code == "KZ"))


def admin_creates_officer(app, client, email) -> int:
    response = client.post("/admin/users/new", data={
        "email": email, "display_name": "New Officer", "role": "officer", "state_id": str(kz_id(app)),
        "password": ADMIN_SET, "csrf_token": csrf_token(client, "/admin/users/new")})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.email == email))


def change(client, current, new):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "csrf_token": csrf_token(client, "/account/password")})


def test_an_account_made_by_an_admin_must_choose_its_password_first(app, client, make_user, login_as):
    login_as("admin")
    user_id = admin_creates_officer(app, client, "temp.officer@example.org")
    assert fetch(app, User, user_id).must_change_password is True

    officer = app.test_client()
    user = type("U", (), {"email": "temp.officer@example.org", "password": ADMIN_SET})()
    assert login(officer, user).status_code == 302
    # Every other page sends them to the change page ...
    for path in ("/", "/states/", "/account/two-factor", "/account/sessions", "/states/KZ"):
        response = officer.get(path)
        assert response.status_code == 302 and response.location.endswith("/account/password"), path
    page = officer.get("/account/password", follow_redirects=True)
    assert page.status_code == 200
    assert FORCED in officer.get("/states/", follow_redirects=True).get_data(as_text=True)
    # ... the new one must differ from the administrator's and pass the policy ...
    same = change(officer, ADMIN_SET, ADMIN_SET)
    assert "Choose a password different from the current one." in same.get_data(as_text=True)
    common = change(officer, ADMIN_SET, "qwerty123456")
    assert "commonly used passwords" in common.get_data(as_text=True)
    assert officer.get("/states/").status_code == 302
    assert fetch(app, User, user_id).must_change_password is True
    # ... and after the change, normal access, audited like any change of password.
    done = change(officer, ADMIN_SET, OWN)
    assert done.status_code == 302
    assert officer.get("/states/").status_code == 200
    assert fetch(app, User, user_id).must_change_password is False
    with app.app_context():
        assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "account.change_password",
                                                             AuditEntry.object_id == str(user_id))) is not None


def test_a_reset_by_an_admin_forces_a_change_and_ends_the_sessions(app, client, make_user, login_as):
    officer = make_user(role="officer")
    own_client = app.test_client()
    assert login(own_client, officer).status_code == 302 and own_client.get("/states/").status_code == 200
    login_as("admin")
    path = f"/admin/users/{officer.id}/password"
    response = client.post(path, data={"password": ADMIN_SET,
                                       "csrf_token": csrf_token(client, f"/admin/users/{officer.id}")})
    assert response.status_code == 302
    assert own_client.get("/states/").status_code == 302  # the old session ended
    assert fetch(app, User, officer.id).must_change_password is True
    assert login(own_client, officer, ADMIN_SET).status_code == 302
    assert own_client.get("/states/").location.endswith("/account/password")
    assert change(own_client, ADMIN_SET, OWN).status_code == 302
    assert own_client.get("/states/").status_code == 200


def test_signing_out_stays_open_with_a_temporary_password(app, client, make_user, login_as):
    login_as("admin")
    admin_creates_officer(app, client, "leaving@example.org")
    other = app.test_client()
    login(other, type("U", (), {"email": "leaving@example.org", "password": ADMIN_SET})())
    response = other.post("/logout", data={"csrf_token": csrf_token(other, "/account/password")})
    assert response.status_code == 302 and "/account/password" not in response.location


def test_passwords_the_user_chose_do_not_force_a_change(app, client, make_user, login_as):
    user = login_as("officer")
    assert fetch(app, User, user.id).must_change_password is False
    assert client.get("/states/").status_code == 200
    assert change(client, user.password, OWN).status_code == 302
    assert client.get("/states/").status_code == 200
    assert fetch(app, User, user.id).must_change_password is False


def test_a_reset_link_the_user_followed_clears_the_flag(app, client, make_user):
    user = make_user(role="officer")
    with app.app_context():
        db.session.get(User, user.id).must_change_password = True
        db.session.commit()
    ask(client, user.email)
    assert set_password(client, link_for(app, user), OWN).status_code == 302
    assert fetch(app, User, user.id).must_change_password is False


def test_a_role_needing_a_second_factor_sets_it_up_first_then_the_password(app, client, login_as):
    from tests.test_second_factor import enrol

    login_as("admin")
    response = client.post("/admin/users/new", data={
        "email": "new.secretariat@example.org", "display_name": "New Secretariat", "role": "secretariat",
        "state_id": "", "password": ADMIN_SET, "csrf_token": csrf_token(client, "/admin/users/new")})
    assert response.status_code == 302
    person = app.test_client()
    login(person, type("U", (), {"email": "new.secretariat@example.org", "password": ADMIN_SET})())
    # No loop between the two gates: the set-up page opens, and the password page waits for it.
    assert person.get("/states/").location.endswith("/account/two-factor")
    assert person.get("/account/two-factor").status_code == 200
    enrol(person, app)
    assert person.get("/states/").location.endswith("/account/password")
    assert change(person, ADMIN_SET, OWN).status_code == 302
    assert person.get("/states/").status_code == 200
