"""Bad input on the login form, the account forms and the status form (shared/RELIABILITY.md, "Bad input to try").

Every case must answer with a message beside the field concerned (or 400/404/413), never a 500, and store nothing.
"""

import re
from urllib.parse import quote

import pytest
from sqlalchemy import func, select

from registry.db import db
from registry.models import AuditEntry, LoginSession, MemberState, OutboxMessage, StatusPeriod, User
from tests.conftest import PASSWORD, csrf_token, login

REQUIRED = "This field is required."
CONTROL = "Remove the control characters from this field."
BAD_CREDENTIALS = "The e-mail address or the password is not right."
NOT_A_CHOICE = "Not a valid choice."
NO_STATE = "A liaison officer must belong to one member state."
BAD_DATE = "Not a valid date value."
PASSWORD_LENGTH = "Field must be between 12 and 128 characters long."


def too_long(n: int) -> str:
    return f"Field cannot be longer than {n} characters."


def email_of_length(n: int) -> str:
    """A syntactically valid address of exactly n characters (n >= 80): 64-char local part, labels of <= 63."""
    domain_length = n - 65
    labels, left = [], domain_length - 4  # ".org"
    while left > 0:
        label = min(63, left if left <= 63 else 62)
        labels.append("d" * label)
        left -= label + 1
    address = "l" * 64 + "@" + ".".join(labels) + ".org"
    assert len(address) == n, len(address)
    return address


# Characters that must never be stored in a single-line text field.
CONTROL_CHARACTERS = {
    "nul": "\x00", "bell": "\x07", "escape": "\x1b", "delete": "\x7f", "c1-next-line": "\x85",
    "newline": "\n", "carriage-return": "\r", "rtl-override": "\u202e", "bidi-isolate": "\u2066",
}
MARKUP = ["<script>alert(1)</script>", "{{7*7}}", '"><img src=x onerror=alert(1)>', "{% print 7*7 %}"]
HUGE_IDS = [2**31, 2**63, 2**64, -1, 0, 99999]


# --- helpers ---------------------------------------------------------------------------------------------------


def error_beside(html: str, field_id: str) -> str:
    """The error text rendered beside one field ('' when there is none)."""
    match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', html)
    return match.group(1) if match else ""


def stored(app):
    """Everything a refused form must leave as it was."""
    with app.app_context():
        users = db.session.execute(
            select(User.id, User.email, User.display_name, User.role, User.state_id, User.password_hash,
                   User.active, User.version).order_by(User.id)
        ).all()
        periods = db.session.execute(
            select(StatusPeriod.id, StatusPeriod.status, StatusPeriod.valid_from, StatusPeriod.valid_to,
                   StatusPeriod.source).order_by(StatusPeriod.id)
        ).all()
        counts = [db.session.scalar(select(func.count()).select_from(model))
                  for model in (AuditEntry, OutboxMessage, LoginSession)]
        return users, periods, counts


def state_id(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(MemberState.id).where(MemberState.code == code))


def post(client, url: str, data, token_from: str | None = None):
    """POST with a valid CSRF token; `data` is a dict, or a list of pairs to repeat a key."""
    pairs = list(data.items()) if isinstance(data, dict) else list(data)
    pairs.append(("csrf_token", csrf_token(client, token_from or url)))
    body = "&".join(f"{quote(str(k), safe='')}={quote(str(v), safe='')}" for k, v in pairs)
    return client.post(url, data=body, content_type="application/x-www-form-urlencoded")


def assert_refused_beside(response, field_id: str, message: str, status: int = 200) -> None:
    assert response.status_code == status, response.status_code
    html = response.get_data(as_text=True)
    assert message in error_beside(html, field_id), (field_id, error_beside(html, field_id))


@pytest.fixture
def admin(login_as):
    return login_as("admin", email="root@example.org", name="Root Admin")


@pytest.fixture
def officer(make_user):
    return make_user(role="officer", state="KZ", email="officer@example.org", name="Dana Officer")


# --- the login form --------------------------------------------------------------------------------------------


LOGIN_CASES = [
    ("email", "", "email", REQUIRED),
    ("email", "   ", "email", REQUIRED),
    ("email", email_of_length(255), "email", too_long(254)),
    ("email", "e" * 2540, "email", too_long(254)),
    *[("email", f"known@example.org{ch}", "email", CONTROL) for ch in CONTROL_CHARACTERS.values()],
    ("password", "", "password", REQUIRED),
    ("password", "   ", "password", REQUIRED),
    ("password", "p" * 129, "password", too_long(128)),
    ("password", "p" * 1280, "password", too_long(128)),
]
LOGIN_IDS = ["email-empty", "email-spaces", "email-255", "email-2540",
             *[f"email-{name}" for name in CONTROL_CHARACTERS],
             "password-empty", "password-spaces", "password-129", "password-1280"]


@pytest.mark.parametrize(("field", "value", "field_id", "message"), LOGIN_CASES, ids=LOGIN_IDS)
def test_login_form_refuses_bad_input_beside_the_field(app, client, make_user, field, value, field_id, message):
    make_user(role="auditor", email="known@example.org")
    before = stored(app)
    data = {"email": "known@example.org", "password": PASSWORD, field: value}

    response = post(client, "/login", data)

    assert_refused_beside(response, field_id, message)
    assert stored(app) == before, "nothing stored, not even a failed-login entry: the form never reached the check"
    assert client.get("/states/").status_code == 302


@pytest.mark.parametrize(
    ("email", "password"),
    [(email_of_length(254), PASSWORD), ("known@example.org", "p" * 128), ("known@example.org", "pass\x00word pass"),
     ("known@example.org", "\u202epassword password"), ("<script>@example.org", PASSWORD), ("'; --", PASSWORD)],
    ids=["email-254", "password-128", "nul-in-password", "rtl-in-password", "markup-email", "sql-email"],
)
def test_login_at_the_limits_is_a_plain_failed_login(app, client, make_user, email, password):
    make_user(role="auditor", email="known@example.org")
    failed_before = stored(app)[2][0]

    response = post(client, "/login", {"email": email, "password": password})

    assert_refused_beside(response, "password", BAD_CREDENTIALS)
    html = response.get_data(as_text=True)
    assert "<script>@" not in html
    assert stored(app)[2][0] == failed_before + 1, "exactly one audit entry: the failed attempt"
    assert client.get("/states/").status_code == 302


# --- the new-account form --------------------------------------------------------------------------------------


def new_account(app, **overrides) -> dict:
    data = {"email": "new.person@example.org", "display_name": "New Person", "role": "officer",
            "state_id": str(state_id(app, "KZ")), "password": PASSWORD}
    data.update(overrides)
    return data


CREATE_CASES = [
    # display name
    ("display_name", "", REQUIRED),
    ("display_name", "   ", REQUIRED),
    ("display_name", "n" * 121, too_long(120)),
    ("display_name", "n" * 1200, too_long(120)),
    *[("display_name", f"Name{ch}Surname", CONTROL) for ch in CONTROL_CHARACTERS.values()],
    # e-mail
    ("email", "", REQUIRED),
    ("email", "   ", REQUIRED),
    ("email", email_of_length(255), too_long(254)),
    ("email", email_of_length(254) * 10, too_long(254)),
    ("email", "plainaddress", "Invalid email address."),
    ("email", "@example.org", "Invalid email address."),
    ("email", "someone@", "Invalid email address."),
    ("email", "two@@example.org", "Invalid email address."),
    ("email", "with space@example.org", "Invalid email address."),
    ("email", "dots@example..org", "Invalid email address."),
    ("email", "<script>@example.org", "Invalid email address."),
    ("email", "someone@example.org\r\nBcc: victim@example.org", CONTROL),
    ("email", "some\x00one@example.org", CONTROL),
    ("email", "\u202egro.elpmaxe@enoemos", CONTROL),
    # password
    ("password", "", REQUIRED),
    ("password", " " * 12, REQUIRED),
    ("password", "p" * 11, PASSWORD_LENGTH),
    ("password", "p" * 129, PASSWORD_LENGTH),
    ("password", "p" * 1280, PASSWORD_LENGTH),
    ("password", "long password\x00", CONTROL),
    ("password", "long password\u202e", CONTROL),
    # role and state
    ("role", "", REQUIRED),
    ("role", "superuser", NOT_A_CHOICE),
    ("role", "ADMIN", NOT_A_CHOICE),
    ("role", "admin\x00", NOT_A_CHOICE),
    ("state_id", str(2**31), NO_STATE),
    ("state_id", "99999", NO_STATE),
    ("state_id", str(2**63), NO_STATE),
    ("state_id", str(2**64), NO_STATE),
    ("state_id", "-1", NO_STATE),
    ("state_id", "0", NO_STATE),
    ("state_id", "abc", NO_STATE),
    ("state_id", "1.5", NO_STATE),
    ("state_id", "9" * 5000, NO_STATE),
]
CREATE_IDS = [
    "name-empty", "name-spaces", "name-121", "name-1200", *[f"name-{name}" for name in CONTROL_CHARACTERS],
    "email-empty", "email-spaces", "email-255", "email-2540", "email-no-at", "email-no-local", "email-no-domain",
    "email-two-at", "email-space", "email-double-dot", "email-markup", "email-header-injection", "email-nul",
    "email-rtl", "password-empty", "password-spaces", "password-11", "password-129", "password-1280",
    "password-nul", "password-rtl", "role-empty", "role-forged", "role-upper-case", "role-nul",
    "state-2**31", "state-99999", "state-2**63", "state-2**64", "state-negative", "state-zero", "state-text",
    "state-decimal", "state-5000-digits",
]


@pytest.mark.parametrize(("field", "value", "message"), CREATE_CASES, ids=CREATE_IDS)
def test_new_account_form_refuses_bad_input_beside_the_field(app, client, admin, field, value, message):
    before = stored(app)

    response = post(client, "/admin/users/new", new_account(app, **{field: value}))

    assert_refused_beside(response, field, message)
    assert stored(app) == before


@pytest.mark.parametrize(
    ("field", "value"),
    [("display_name", "n" * 120), ("display_name", "\U0001d518" * 120), ("display_name", "  Trimmed Name  "),
     ("email", email_of_length(254)), ("password", "p" * 128),
     ("password", "steppe walks")],  # 12 characters and not a leaked password ("p" * 12 is one)
    ids=["name-120", "name-120-four-byte", "name-trimmed", "email-254", "password-128", "password-12"],
)
def test_new_account_form_accepts_exactly_the_maximum(app, client, admin, field, value):
    response = post(client, "/admin/users/new", new_account(app, **{field: value}))

    assert response.status_code == 302, error_beside(response.get_data(as_text=True), field)
    email = value.lower() if field == "email" else "new.person@example.org"
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        assert user is not None
        if field == "display_name":
            assert user.display_name == value.strip()


def test_an_unknown_state_for_a_non_officer_is_refused(app, client, admin):
    before = stored(app)
    response = post(client, "/admin/users/new", new_account(app, role="auditor", state_id="99999"))
    assert_refused_beside(response, "state_id", "Only liaison officers belong to a member state.")
    assert stored(app) == before


@pytest.mark.parametrize(
    "pairs",
    [[("role", "admin"), ("role", "officer")], [("role", "officer"), ("role", "admin")]],
    ids=["admin-then-officer", "officer-then-admin"],
)
def test_a_duplicated_role_is_refused(app, client, admin, pairs):
    before = stored(app)
    data = [(k, v) for k, v in new_account(app).items() if k != "role"] + pairs

    response = post(client, "/admin/users/new", data)

    assert_refused_beside(response, "role", "Choose only one value.")
    assert stored(app) == before


def test_extra_fields_cannot_set_what_the_form_does_not_offer(app, client, admin):
    data = {**new_account(app), "active": "false", "is_demo": "1", "version": "42",
            "password_hash": "$argon2id$forged", "locale": "zh"}

    response = post(client, "/admin/users/new", data)

    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert (user.active, user.is_demo, user.locale) == (True, False, None)
        assert user.password_hash.startswith("$argon2id$") and "forged" not in user.password_hash
        assert user.version == 1


# --- markup in a display name ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MARKUP, ids=["script", "template-expression", "attribute-break", "template-tag"])
def test_markup_in_a_display_name_is_stored_and_shown_literally(app, client, admin, name):
    response = post(client, "/admin/users/new", new_account(app, display_name=name, state_id=str(state_id(app, "BY"))))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
        assert user.display_name == name
        user_id = user.id

    escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    for page in [f"/admin/users/{user_id}", "/admin/users", "/states/BY", "/audit/"]:
        html = client.get(page).get_data(as_text=True)
        assert escaped in html, page
        assert name not in html or name == escaped, f"{page} shows the raw markup"
        assert "<script>alert" not in html and "<img src=x" not in html, page
    if "7*7" in name:
        detail = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
        assert f"<h1>{escaped}</h1>" in detail, "the template expression is shown, not evaluated to 49"


# --- the edit form ---------------------------------------------------------------------------------------------


def edit_form(app, client, user_id: int, **overrides) -> dict:
    html = client.get(f"/admin/users/{user_id}").get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="(\d+)"', html).group(1)
    data = {"display_name": "Dana Officer", "role": "officer", "state_id": str(state_id(app, "KZ")),
            "version": version}
    data.update(overrides)
    return data


EDIT_CASES = [
    ("display_name", "", REQUIRED),
    ("display_name", "   ", REQUIRED),
    ("display_name", "n" * 121, too_long(120)),
    ("display_name", "n" * 1200, too_long(120)),
    *[("display_name", f"Name{ch}", CONTROL) for ch in CONTROL_CHARACTERS.values()],
    ("role", "superuser", NOT_A_CHOICE),
    ("state_id", str(2**31), NO_STATE),
    ("state_id", "99999", NO_STATE),
    ("state_id", str(2**63), NO_STATE),
    ("state_id", "-1", NO_STATE),
]
EDIT_IDS = ["name-empty", "name-spaces", "name-121", "name-1200", *[f"name-{name}" for name in CONTROL_CHARACTERS],
            "role-forged", "state-2**31", "state-99999", "state-2**63", "state-negative"]


@pytest.mark.parametrize(("field", "value", "message"), EDIT_CASES, ids=EDIT_IDS)
def test_edit_form_refuses_bad_input_beside_the_field(app, client, admin, officer, field, value, message):
    data = edit_form(app, client, officer.id, **{field: value})
    before = stored(app)

    response = post(client, f"/admin/users/{officer.id}", data)

    assert_refused_beside(response, field, message)
    assert stored(app) == before


def test_edit_form_refuses_a_duplicated_role(app, client, admin, officer):
    data = [(k, v) for k, v in edit_form(app, client, officer.id).items() if k != "role"]
    before = stored(app)

    response = post(client, f"/admin/users/{officer.id}", [*data, ("role", "admin"), ("role", "officer")])

    assert_refused_beside(response, "role", "Choose only one value.")
    assert stored(app) == before


@pytest.mark.parametrize("version", ["abc", "1.0", "-1", str(2**64), "9" * 5000, "\x00"],
                         ids=["text", "decimal", "negative", "2**64", "5000-digits", "nul"])
def test_a_forged_version_is_a_conflict_not_a_crash(app, client, admin, officer, version):
    data = edit_form(app, client, officer.id, display_name="Changed Name", version=version)
    before = stored(app)

    response = post(client, f"/admin/users/{officer.id}", data)

    assert response.status_code == 409
    assert "changed by someone else" in response.get_data(as_text=True)
    assert stored(app) == before


@pytest.mark.parametrize(("action", "active"), [("deactivate", True), ("reactivate", False)])
def test_a_forged_version_on_a_one_button_action_is_a_conflict(app, client, admin, make_user, action, active):
    account = make_user(role="auditor", active=active)
    before = stored(app)

    response = post(client, f"/admin/users/{account.id}/{action}", {"version": "abc"}, token_from="/admin/users")

    assert response.status_code == 409
    assert stored(app) == before


def test_extra_fields_on_the_edit_form_change_nothing_else(app, client, admin, officer):
    data = edit_form(app, client, officer.id, display_name="Renamed")
    data.update({"email": "hijack@example.org", "active": "false", "is_demo": "1",
                 "password_hash": "$argon2id$forged", "password": "new password here"})

    response = post(client, f"/admin/users/{officer.id}", data)

    assert response.status_code == 302
    with app.app_context():
        user = db.session.get(User, officer.id)
        assert user.display_name == "Renamed"
        assert (user.email, user.active, user.is_demo) == ("officer@example.org", True, False)
    assert login(app.test_client(), officer).status_code == 302, "the password did not change"


# --- the reset-password form -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "message"),
    [("", REQUIRED), (" " * 12, REQUIRED), ("p" * 11, PASSWORD_LENGTH), ("p" * 129, PASSWORD_LENGTH),
     ("p" * 1280, PASSWORD_LENGTH), ("long password\x00", CONTROL), ("long password\x1b", CONTROL),
     ("long password\u202e", CONTROL)],
    ids=["empty", "spaces", "11", "129", "1280", "nul", "escape", "rtl"],
)
def test_reset_password_form_refuses_bad_input_beside_the_field(app, client, admin, officer, value, message):
    before = stored(app)

    response = post(client, f"/admin/users/{officer.id}/password", {"password": value}, token_from="/admin/users")

    assert_refused_beside(response, "password", message, status=400)
    assert stored(app) == before
    assert login(app.test_client(), officer).status_code == 302


# --- ids in URLs -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("user_id", HUGE_IDS, ids=[str(i) for i in HUGE_IDS])
@pytest.mark.parametrize(
    ("method", "suffix", "data"),
    [("GET", "", None), ("POST", "", {"display_name": "x", "role": "auditor", "state_id": "", "version": "1"}),
     ("POST", "/deactivate", {"version": "1"}), ("POST", "/reactivate", {"version": "1"}),
     ("POST", "/password", {"password": "a long enough password"})],
    ids=["view", "edit", "deactivate", "reactivate", "reset-password"],
)
def test_unknown_or_huge_user_ids_are_404(app, client, admin, user_id, method, suffix, data):
    url = f"/admin/users/{user_id}{suffix}"
    before = stored(app)

    response = client.get(url) if method == "GET" else post(client, url, data, token_from="/admin/users")

    assert response.status_code == 404
    assert "Not found" in response.get_data(as_text=True)
    assert stored(app) == before


# --- the status form -------------------------------------------------------------------------------------------


STATUS_CASES = [
    ("status", "", REQUIRED),
    ("status", "emperor", NOT_A_CHOICE),
    ("status", "MEMBER", NOT_A_CHOICE),
    ("status", "observer\x00", NOT_A_CHOICE),
    ("valid_from", "", REQUIRED),
    ("valid_from", "   ", BAD_DATE),
    ("valid_from", "0000-00-00", BAD_DATE),
    ("valid_from", "2027-02-29", BAD_DATE),
    ("valid_from", "2026-13-01", BAD_DATE),
    ("valid_from", "15.01.2026", BAD_DATE),
    ("valid_from", "2026-01-15\x00", BAD_DATE),
    ("valid_from", "9" * 5000, BAD_DATE),
    ("source", "", REQUIRED),
    ("source", "   ", REQUIRED),
    ("source", "s" * 301, too_long(300)),
    ("source", "s" * 3000, too_long(300)),
    *[("source", f"Decision{ch}of the Council", CONTROL) for ch in CONTROL_CHARACTERS.values()],
]
STATUS_IDS = ["status-empty", "status-forged", "status-upper-case", "status-nul", "date-empty", "date-spaces",
              "date-zeros", "date-29-feb-common-year", "date-month-13", "date-other-format", "date-nul",
              "date-5000-digits", "source-empty", "source-spaces", "source-301", "source-3000",
              *[f"source-{name}" for name in CONTROL_CHARACTERS]]


@pytest.mark.parametrize(("field", "value", "message"), STATUS_CASES, ids=STATUS_IDS)
def test_status_form_refuses_bad_input_beside_the_field(app, client, admin, field, value, message):
    data = {"status": "observer", "valid_from": "2026-01-15", "source": "Council decision", field: value}
    before = stored(app)

    response = post(client, "/states/LA/status", data)

    assert_refused_beside(response, field, message)
    assert stored(app) == before


@pytest.mark.parametrize("source", ["s" * 300, "\U0001d518" * 300, "<script>alert(1)</script> {{7*7}}"],
                         ids=["300", "300-four-byte", "markup"])
def test_status_form_accepts_the_maximum_and_shows_markup_literally(app, client, admin, source):
    response = post(client, "/states/LA/status", {"status": "observer", "valid_from": "2026-01-15", "source": source})

    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(StatusPeriod.source).where(StatusPeriod.valid_to.is_(None),
                                                                   StatusPeriod.status == "observer")) == source
    html = client.get("/states/LA").get_data(as_text=True)
    assert source.replace("<", "&lt;").replace(">", "&gt;") in html
    assert "<script>" not in html


def test_status_form_refuses_a_duplicated_status(app, client, admin):
    before = stored(app)
    data = [("status", "member"), ("status", "observer"), ("valid_from", "2026-01-15"), ("source", "Council")]

    response = post(client, "/states/LA/status", data)

    assert_refused_beside(response, "status", "Choose only one value.")
    assert stored(app) == before


# --- whole requests: size, field count, wrong content type -----------------------------------------------------


@pytest.fixture(params=["/login", "/admin/users/new", "/states/LA/status"])
def form_url(request, login_as):
    """Each form, with the user who may post it (nobody signed in for the login form)."""
    if request.param != "/login":
        login_as("admin")
    return request.param


def test_a_5_mb_urlencoded_post_is_413(app, client, form_url):
    token = csrf_token(client, form_url)
    before = stored(app)
    body = f"csrf_token={token}&display_name=" + "x" * (5 * 1024 * 1024)

    response = client.post(form_url, data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "Too large" in response.get_data(as_text=True)
    assert stored(app) == before


def test_1500_fields_are_refused(app, client, form_url, request):
    token = csrf_token(client, form_url)
    before = stored(app)
    body = f"csrf_token={token}&" + "&".join(f"f{i}=v" for i in range(1500))

    response = client.post(form_url, data=body, content_type="application/x-www-form-urlencoded")

    assert stored(app) == before
    assert response.status_code in (400, 413)


def test_1000_fields_are_still_a_form(app, client, form_url):
    token = csrf_token(client, form_url)
    body = f"csrf_token={token}&" + "&".join(f"f{i}=v" for i in range(990))

    response = client.post(form_url, data=body, content_type="application/x-www-form-urlencoded")

    assert response.status_code in (200, 400), "answered by the form, with its messages"
    assert "This field is required." in response.get_data(as_text=True)


def test_json_where_a_form_is_expected_is_400(app, client, form_url):
    before = stored(app)
    response = client.post(form_url, json={"email": "x@example.org", "role": "admin", "status": "member"})
    assert response.status_code == 400
    assert stored(app) == before


# --- query strings ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    ["/admin/users?state=%00", "/admin/users?state=K%00", "/admin/users?q=%00", "/admin/users?role=%00&active=%00",
     "/admin/users?q=" + "q" * 5000, "/admin/users?state=%E2%80%AE", "/admin/users?q=%ED%A0%80",
     "/states/?status=%00", "/audit/?state=%00", "/audit/?state=K%00", "/audit/?action=%00",
     f"/audit/?before={2**64}", "/audit/?before=-1", "/audit/?outcome=%00"],
)
def test_bad_query_strings_never_fail(app, client, admin, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
