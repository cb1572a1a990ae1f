"""Administration of accounts: what an administrator sees and what the database and audit log keep."""

import json
import re

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, LoginSession, MemberState, OutboxMessage, User
from registry.passwords import verify_password
from tests.conftest import PASSWORD, csrf_token, fetch, login

NEW_PASSWORD = "a fresh passphrase for you"
CHANGED_MESSAGE = "This account was changed by someone else since you opened it."


# --- helpers ---------------------------------------------------------------------------------------------------


def state_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(MemberState.id).where(MemberState.code == code))


def entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def outbox(app, email: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if email is not None:
            stmt = stmt.where(OutboxMessage.recipient_email == email)
        rows = list(db.session.scalars(stmt))
        for row in rows:
            db.session.expunge(row)
        return rows


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def user_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def live_sessions(app, user_id: int) -> list[LoginSession]:
    with app.app_context():
        rows = list(db.session.scalars(select(LoginSession).where(LoginSession.user_id == user_id,
                                                                  LoginSession.revoked_at.is_(None))))
        for row in rows:
            db.session.expunge(row)
        return rows


def error_beside(html: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else None


def signed_in(client) -> bool:
    response = client.get("/states/")
    return response.status_code == 200


def version_on_page(client, user_id: int) -> str:
    html = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    match = re.search(r'name="version"[^>]*value="(\d+)"', html)
    assert match, "no version hidden field on the account page"
    return match.group(1)


def signed_in_client(app, user):
    """A second browser, signed in as `user`."""
    other = app.test_client()
    assert login(other, user).status_code == 302
    assert signed_in(other)
    return other


def create_form(app, **overrides) -> dict:
    data = {"email": "New.Officer@Example.ORG", "display_name": "Aigerim Nurlanovna", "role": "officer",
            "state_id": str(state_id(app, "KZ")), "password": PASSWORD}
    data.update(overrides)
    return data


def post(client, url: str, data: dict, token_from: str | None = None):
    return client.post(url, data={**data, "csrf_token": csrf_token(client, token_from or url)})


# --- creating an account ---------------------------------------------------------------------------------------


def test_admin_creates_an_officer(app, client, login_as):
    admin = login_as("admin")

    response = post(client, "/admin/users/new", create_form(app))

    user = user_by_email(app, "new.officer@example.org")
    assert user is not None, "the e-mail address is stored in lower case"
    assert response.status_code == 302
    assert response.location == f"/admin/users/{user.id}"
    assert user.display_name == "Aigerim Nurlanovna"
    assert user.role.value == "officer" and user.state_id == state_id(app, "KZ")
    assert user.active and not user.is_demo
    with app.app_context():
        assert verify_password(user.password_hash, PASSWORD)
    assert user_by_email(app, "New.Officer@Example.ORG") is None

    page = client.get(response.location).get_data(as_text=True)
    assert "The account new.officer@example.org was created." in page

    [entry] = [e for e in entries(app, "user.create") if e.object_id == str(user.id)]
    assert entry.actor_id == admin.id and entry.actor_label == admin.email
    assert entry.object_type == "user" and entry.object_id == str(user.id)
    assert entry.state_code == "KZ"
    assert entry.changes["email"] == [None, "new.officer@example.org"]
    assert entry.changes["role"] == [None, "officer"]
    assert entry.changes["state_id"] == [None, state_id(app, "KZ")]
    assert "password_hash" not in entry.changes
    assert "password" not in json.dumps(entry.changes)
    assert user.password_hash not in json.dumps(entry.changes)

    [message] = outbox(app, "new.officer@example.org")
    assert message.recipient_id == user.id and message.kind == "account_created"
    assert message.sent_at is None
    assert PASSWORD not in message.body and user.password_hash not in message.body


def test_new_account_can_sign_in_with_its_initial_password(app, client, login_as):
    login_as("admin")
    post(client, "/admin/users/new", create_form(app, role="auditor", state_id=""))
    other = app.test_client()
    response = other.post("/login", data={"email": "new.officer@example.org", "password": PASSWORD,
                                          "csrf_token": csrf_token(other)})
    assert response.status_code == 302
    # An auditor needs a second factor: signed in, but every page leads to setting it up first.
    page = other.get("/states/")
    assert page.status_code == 302 and page.location == "/account/two-factor"
    assert "Set up a second factor" in other.get("/account/two-factor").get_data(as_text=True)


def test_an_email_taken_in_another_case_is_refused(app, client, login_as, make_user):
    make_user(role="auditor", email="new.officer@example.org")
    login_as("admin")
    before = (user_count(app), len(entries(app, "user.create")), len(outbox(app)))

    response = post(client, "/admin/users/new", create_form(app))

    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), "email") == (
        "An account with this e-mail address already exists.")
    assert (user_count(app), len(entries(app, "user.create")), len(outbox(app))) == before
    assert user_by_email(app, "new.officer@example.org").role.value == "auditor"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"state_id": ""}, "state_id", "A liaison officer must belong to one member state."),
        ({"role": "secretariat"}, "state_id", "Only liaison officers belong to a member state."),
        ({"password": "elevenchars"}, "password", "Field must be between 12 and 128 characters long."),
    ],
    ids=["officer-without-state", "secretariat-with-state", "short-password"],
)
def test_create_refuses_inconsistent_input(app, client, login_as, overrides, field, message):
    login_as("admin")
    before = (user_count(app), len(entries(app, "user.create")), len(outbox(app)))

    response = post(client, "/admin/users/new", create_form(app, **overrides))

    assert response.status_code == 200
    assert error_beside(response.get_data(as_text=True), field) == message
    assert (user_count(app), len(entries(app, "user.create")), len(outbox(app))) == before
    assert user_by_email(app, "new.officer@example.org") is None


def test_only_admins_reach_account_administration(app, client, login_as):
    login_as("secretariat")
    before = user_count(app)

    assert client.get("/admin/users").status_code == 403
    response = client.post("/admin/users/new", data={**create_form(app), "csrf_token": csrf_token(client, "/states/")})

    assert response.status_code == 403
    assert user_count(app) == before
    assert [e.changes for e in entries(app, "access.denied")][-1] == {"action": ["", "user.create"]}


# --- editing role and state ------------------------------------------------------------------------------------


def test_changing_role_and_state_is_audited_and_ends_the_users_sessions(app, client, login_as, make_user):
    officer = make_user(role="officer", state="KZ", name="Timur Bekov")
    officer_browser = signed_in_client(app, officer)
    admin = login_as("admin")
    version = version_on_page(client, officer.id)

    response = post(client, f"/admin/users/{officer.id}", {
        "display_name": "Timur Bekov", "role": "officer", "state_id": str(state_id(app, "KG")), "version": version,
    })

    assert response.status_code == 302
    assert "The account was updated." in client.get(response.location).get_data(as_text=True)
    stored = fetch(app, User, officer.id)
    assert stored.state_id == state_id(app, "KG") and stored.role.value == "officer"
    [entry] = entries(app, "user.update")
    assert entry.actor_id == admin.id and entry.object_id == str(officer.id) and entry.state_code == "KG"
    assert entry.changes == {"state_id": [state_id(app, "KZ"), state_id(app, "KG")]}
    assert live_sessions(app, officer.id) == []
    assert not signed_in(officer_browser), "a session opened under the old state must end"


def test_promoting_an_officer_clears_the_state_and_ends_sessions(app, client, login_as, make_user):
    officer = make_user(role="officer", state="KZ")
    officer_browser = signed_in_client(app, officer)
    login_as("admin")

    response = post(client, f"/admin/users/{officer.id}", {
        "display_name": "Now Secretariat", "role": "secretariat", "state_id": "",
        "version": version_on_page(client, officer.id),
    })

    assert response.status_code == 302
    stored = fetch(app, User, officer.id)
    assert stored.role.value == "secretariat" and stored.state_id is None
    [entry] = entries(app, "user.update")
    assert entry.changes["role"] == ["officer", "secretariat"]
    assert entry.changes["state_id"] == [state_id(app, "KZ"), None]
    assert entry.changes["display_name"][1] == "Now Secretariat"
    assert not signed_in(officer_browser)


def test_renaming_only_keeps_the_users_sessions(app, client, login_as, make_user):
    officer = make_user(role="officer", state="KZ", name="Old Name")
    officer_browser = signed_in_client(app, officer)
    login_as("admin")

    response = post(client, f"/admin/users/{officer.id}", {
        "display_name": "New Name", "role": "officer", "state_id": str(state_id(app, "KZ")),
        "version": version_on_page(client, officer.id),
    })

    assert response.status_code == 302
    assert fetch(app, User, officer.id).display_name == "New Name"
    assert entries(app, "user.update")[0].changes == {"display_name": ["Old Name", "New Name"]}
    assert len(live_sessions(app, officer.id)) == 1
    assert signed_in(officer_browser)


def test_an_admin_cannot_change_their_own_account(app, client, login_as):
    admin = login_as("admin")
    page = client.get(f"/admin/users/{admin.id}").get_data(as_text=True)
    assert "You cannot change your own role or access here" in page

    response = post(client, f"/admin/users/{admin.id}", {"display_name": "Me", "role": "officer",
                                                          "state_id": str(state_id(app, "KZ")), "version": "1"})

    assert response.status_code == 403
    assert fetch(app, User, admin.id).role.value == "admin"
    assert entries(app, "user.update") == []


# --- optimistic locking ----------------------------------------------------------------------------------------


def test_a_stale_version_is_refused_with_409_and_changes_nothing(app, client, login_as, make_user):
    officer = make_user(role="officer", state="KZ", name="First Name")
    login_as("admin")
    stale = version_on_page(client, officer.id)
    # A second administrator saves first.
    other_admin = make_user(role="admin")
    other = signed_in_client(app, other_admin)
    assert post(other, f"/admin/users/{officer.id}", {
        "display_name": "Second Admin's Name", "role": "officer", "state_id": str(state_id(app, "KZ")),
        "version": version_on_page(other, officer.id),
    }).status_code == 302
    saved = fetch(app, User, officer.id)

    response = post(client, f"/admin/users/{officer.id}", {
        "display_name": "First Admin's Name", "role": "officer", "state_id": str(state_id(app, "TJ")),
        "version": stale,
    })

    assert response.status_code == 409
    assert CHANGED_MESSAGE in response.get_data(as_text=True)
    after = fetch(app, User, officer.id)
    assert (after.display_name, after.state_id, after.version) == (saved.display_name, saved.state_id, saved.version)
    assert len(entries(app, "user.update")) == 1


def test_deactivating_with_a_stale_version_is_refused(app, client, login_as, make_user):
    officer = make_user(role="officer", state="KZ")
    login_as("admin")
    stale = version_on_page(client, officer.id)
    post(client, f"/admin/users/{officer.id}", {"display_name": "Renamed", "role": "officer",
                                                "state_id": str(state_id(app, "KZ")), "version": stale})

    response = post(client, f"/admin/users/{officer.id}/deactivate", {"version": stale},
                    token_from=f"/admin/users/{officer.id}")

    assert response.status_code == 409
    assert CHANGED_MESSAGE in response.get_data(as_text=True)
    assert fetch(app, User, officer.id).active is True
    assert entries(app, "user.deactivate") == []


# --- deactivating and reactivating -----------------------------------------------------------------------------


def test_deactivate_then_reactivate(app, client, login_as, make_user):
    officer = make_user(role="officer", state="UZ")
    officer_browser = signed_in_client(app, officer)
    admin = login_as("admin")
    page = f"/admin/users/{officer.id}"

    response = post(client, f"{page}/deactivate", {"version": version_on_page(client, officer.id)}, token_from=page)

    assert response.status_code == 302 and response.location == page
    html = client.get(page).get_data(as_text=True)
    assert "The account was deactivated and its sessions were ended." in html
    assert "Reactivate" in html
    assert fetch(app, User, officer.id).active is False
    assert not signed_in(officer_browser)
    assert live_sessions(app, officer.id) == []
    assert login(app.test_client(), officer).status_code == 200, "a deactivated account cannot sign in"
    [entry] = entries(app, "user.deactivate")
    assert entry.actor_id == admin.id and entry.changes == {"active": [True, False]} and entry.state_code == "UZ"

    response = post(client, f"{page}/reactivate", {"version": version_on_page(client, officer.id)}, token_from=page)

    assert response.status_code == 302
    assert "The account was reactivated." in client.get(page).get_data(as_text=True)
    assert fetch(app, User, officer.id).active is True
    assert login(app.test_client(), officer).status_code == 302
    [entry] = entries(app, "user.reactivate")
    assert entry.changes == {"active": [False, True]}
    assert not signed_in(officer_browser), "reactivation does not bring old sessions back"


def test_deactivating_twice_says_so_and_writes_one_entry(app, client, login_as, make_user):
    officer = make_user(role="officer", state="UZ", active=False)
    login_as("admin")
    page = f"/admin/users/{officer.id}"

    response = post(client, f"{page}/deactivate", {"version": version_on_page(client, officer.id)}, token_from=page)

    assert response.status_code == 302
    assert "This account is already deactivated." in client.get(page).get_data(as_text=True)
    assert len(entries(app, "user.deactivate")) == 1  # the fixture's, not a second one


def test_deactivate_by_get_is_not_allowed(app, client, login_as, make_user):
    officer = make_user(role="officer", state="UZ")
    login_as("admin")
    assert client.get(f"/admin/users/{officer.id}/deactivate").status_code == 405
    assert fetch(app, User, officer.id).active is True


# --- resetting a password --------------------------------------------------------------------------------------


def test_admin_resets_a_password(app, client, login_as, make_user):
    officer = make_user(role="officer", state="RU")
    officer_browser = signed_in_client(app, officer)
    admin = login_as("admin")
    page = f"/admin/users/{officer.id}"
    hash_before = fetch(app, User, officer.id).password_hash

    response = post(client, f"{page}/password", {"password": NEW_PASSWORD}, token_from=page)

    assert response.status_code == 302 and response.location == page
    assert "The password was reset and the user&#39;s sessions were ended." in client.get(page).get_data(as_text=True)
    assert not signed_in(officer_browser)
    assert live_sessions(app, officer.id) == []
    assert login(app.test_client(), officer).status_code == 200, "the old password no longer works"
    assert login(app.test_client(), officer, password=NEW_PASSWORD).status_code == 302
    [entry] = entries(app, "user.reset_password")
    assert entry.actor_id == admin.id and entry.object_id == str(officer.id) and entry.state_code == "RU"
    assert entry.changes == {"password_hash": ["(changed)", "(changed)"]}
    stored_hash = fetch(app, User, officer.id).password_hash
    assert hash_before not in json.dumps(entry.changes) and stored_hash not in json.dumps(entry.changes)
    [message] = [m for m in outbox(app, officer.email) if m.kind == "password_reset"]
    assert NEW_PASSWORD not in message.body


def test_a_short_new_password_is_refused_beside_the_field(app, client, login_as, make_user):
    officer = make_user(role="officer", state="RU")
    login_as("admin")
    page = f"/admin/users/{officer.id}"
    hash_before = fetch(app, User, officer.id).password_hash

    response = post(client, f"{page}/password", {"password": "short"}, token_from=page)

    assert response.status_code == 400
    assert error_beside(response.get_data(as_text=True), "password") == (
        "Field must be between 12 and 128 characters long.")
    assert fetch(app, User, officer.id).password_hash == hash_before
    assert entries(app, "user.reset_password") == []
    assert [m for m in outbox(app, officer.email) if m.kind == "password_reset"] == []
    assert login(app.test_client(), officer).status_code == 302


# --- the list and its filters ----------------------------------------------------------------------------------


def listed_emails(client, query: str = "") -> set[str]:
    response = client.get("/admin/users" + query)
    assert response.status_code == 200, response.status_code
    return set(re.findall(r"<td>([^<@\s]+@[^<\s]+)</td>", response.get_data(as_text=True)))


@pytest.fixture
def directory(app, client, login_as, make_user):
    """An administrator signed in, and a handful of accounts to filter."""
    admin = login_as("admin", email="root@example.org", name="Root Admin")
    make_user(role="officer", state="KZ", email="kz.active@example.org", name="Zhanna ALIMOVA")
    make_user(role="officer", state="KZ", email="kz.gone@example.org", name="Percent 100% Sure", active=False)
    make_user(role="officer", state="CN", email="cn.officer@example.org", name="Percent 1000 Sure")
    make_user(role="secretariat", email="reviewer@example.org", name="Under_score Reviewer")
    make_user(role="auditor", email="auditor@example.org", name="Underxscore Auditor")
    return admin


ALL = {"root@example.org", "kz.active@example.org", "kz.gone@example.org", "cn.officer@example.org",
       "reviewer@example.org", "auditor@example.org"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ALL),
        ("?role=officer", {"kz.active@example.org", "kz.gone@example.org", "cn.officer@example.org"}),
        ("?role=auditor", {"auditor@example.org"}),
        ("?role=superuser", ALL),  # an unknown role is ignored, not an error
        ("?state=KZ", {"kz.active@example.org", "kz.gone@example.org"}),
        ("?state=IN", set()),
        ("?active=no", {"kz.gone@example.org"}),
        ("?active=yes", ALL - {"kz.gone@example.org"}),
        ("?role=officer&state=KZ&active=yes", {"kz.active@example.org"}),
        ("?q=100%25", {"kz.gone@example.org"}),
        ("?q=%25", {"kz.gone@example.org"}),
        ("?q=r_s", {"reviewer@example.org"}),
        ("?q=_", {"reviewer@example.org"}),
        ("?q=alimova", {"kz.active@example.org"}),
        ("?q=zhanna", {"kz.active@example.org"}),
        ("?q=KZ.ACTIVE%40EXAMPLE", {"kz.active@example.org"}),
        ("?q=%20%20percent%20", {"kz.gone@example.org", "cn.officer@example.org"}),
        ("?q=nobody", set()),
        ("?q=%27%3B%20drop%20table%20users%3B--", set()),
        ("?q=%5C", set()),
    ],
    ids=["all", "officers", "auditors", "unknown-role", "state", "state-without-users", "deactivated", "active",
         "combined", "percent-literal", "percent-alone", "underscore-literal", "underscore-alone", "lower-case",
         "mixed-case", "upper-case-email", "spaces-trimmed", "nobody", "sql", "backslash"],
)
def test_users_list_filters(client, directory, query, expected):
    assert listed_emails(client, query) == expected


def test_an_empty_result_says_so(client, directory):
    html = client.get("/admin/users?q=nobody").get_data(as_text=True)
    assert "No account matches these filters." in html


def test_search_in_cyrillic_ignores_case(client, login_as, make_user):
    login_as("admin", email="root@example.org")
    make_user(role="officer", state="RU", email="ru.officer@example.org", name="Иван Петров")
    make_user(role="officer", state="BY", email="by.officer@example.org", name="Ольга Сидорова")

    assert listed_emails(client, "?q=иван") == {"ru.officer@example.org"}
    assert listed_emails(client, "?q=ПЕТРОВ") == {"ru.officer@example.org"}
    assert listed_emails(client, "?q=Сидорова") == {"by.officer@example.org"}
