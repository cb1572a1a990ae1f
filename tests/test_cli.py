"""The command line (`flask --app app ...`): every change goes through the services and is audited as 'cli'."""

import pytest
from sqlalchemy import delete, func, select

from registry.db import db
from registry.demo import DEMO_PASSWORD, DEMO_USERS
from registry.models import AuditEntry, LoginSession, MemberState, OutboxMessage, StatusPeriod, User
from registry.passwords import verify_password
from tests.conftest import PASSWORD, login

NEW_PASSWORD = "another long passphrase"


# --- helpers ---------------------------------------------------------------------------------------------------


class Account:
    """What `login()` needs to sign in an account made by a command."""

    def __init__(self, email: str, password: str = PASSWORD):
        self.email, self.password = email, password


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def user_by_email(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def entries(app, action: str) -> list[AuditEntry]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def stored(app) -> tuple[int, int, int]:
    """What a refused command must leave unchanged: users, audit entries, queued messages."""
    return count(app, User), count(app, AuditEntry), count(app, OutboxMessage)


def assert_audited_as_cli(entry: AuditEntry) -> None:
    assert entry.actor_label == "cli"
    assert entry.actor_id is None
    assert entry.outcome == "success"


def create_user(runner, *args):
    return runner.invoke(args=["create-user", *args])


# --- seed ------------------------------------------------------------------------------------------------------


def test_seed_on_an_empty_database_then_again(app, runner):
    with app.app_context():
        db.session.execute(delete(StatusPeriod))
        db.session.execute(delete(MemberState))
        db.session.commit()
    seed_entries = len(entries(app, "state.seed"))

    first = runner.invoke(args=["seed"])

    assert first.exit_code == 0, first.output
    assert "states: 27 created, 0 updated, 27 in all" in first.output
    assert count(app, MemberState) == 27
    assert count(app, StatusPeriod) > 27
    assert len(entries(app, "state.seed")) == seed_entries + 27
    assert all(e.actor_label == "seed" for e in entries(app, "state.seed"))

    second = runner.invoke(args=["seed"])

    assert second.exit_code == 0, second.output
    assert "states: 0 created, 0 updated, 27 in all" in second.output
    assert len(entries(app, "state.seed")) == seed_entries + 27, "a second run writes no audit entry"


def test_seed_twice_on_a_seeded_database_changes_nothing(app, runner):
    periods_before = count(app, StatusPeriod)
    for _ in range(2):
        result = runner.invoke(args=["seed"])
        assert result.exit_code == 0, result.output
        assert "0 created, 0 updated, 27 in all" in result.output
    assert count(app, StatusPeriod) == periods_before


# --- create-user -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "state_args", "state_code"),
    [("officer", ["--state", "KZ"], "KZ"), ("officer", ["--state", "kg"], "KG"),
     ("secretariat", [], None), ("auditor", [], None), ("admin", [], None)],
    ids=["officer", "officer-lower-case-code", "secretariat", "auditor", "admin"],
)
def test_create_user_for_each_role(app, runner, role, state_args, state_code):
    result = create_user(runner, "--email", "Someone@Example.ORG", "--name", "Someone", "--role", role,
                         *state_args, "--password", PASSWORD)

    assert result.exit_code == 0, result.output
    assert f"created someone@example.org ({role})" in result.output
    user = user_by_email(app, "someone@example.org")
    assert user is not None and user.role.value == role and user.active and not user.is_demo
    with app.app_context():
        assert verify_password(user.password_hash, PASSWORD)
        code = db.session.scalar(select(MemberState.code).where(MemberState.id == user.state_id))
    assert code == state_code
    [entry] = entries(app, "user.create")
    assert_audited_as_cli(entry)
    assert entry.actor_role == "admin"
    assert entry.object_id == str(user.id) and entry.state_code == state_code
    assert "password_hash" not in entry.changes
    assert count(app, OutboxMessage, OutboxMessage.recipient_id == user.id) == 1
    assert login(app.test_client(), Account(user.email)).status_code == 302, "the new account can sign in"


@pytest.mark.parametrize(
    ("args", "message", "exit_code"),
    [
        (["--role", "officer"], "state_id: A liaison officer must belong to one member state.", 2),
        (["--role", "officer", "--state", "ZZ"], "unknown state code ZZ", 1),
        (["--role", "officer", "--state", "KAZ"], "unknown state code KAZ", 1),
        (["--role", "admin", "--state", "KZ"], "state_id: Only liaison officers belong to a member state.", 2),
        (["--role", "superuser"], "Invalid value for '--role'", 2),
        (["--role", "auditor", "--email", "not-an-address"], "email: Enter a valid e-mail address.", 2),
        (["--role", "auditor", "--email", "a@b"], "email: Enter a valid e-mail address.", 2),
        (["--role", "auditor", "--password", "elevenchars"], "password: Use at least 12 characters.", 2),
        (["--role", "auditor", "--password", "p" * 129], "password: At most 128 characters.", 2),
        (["--role", "auditor", "--name", "   "], "display_name: This field is required.", 2),
        (["--role", "auditor", "--name", "Bell\x07"], "display_name: Remove the control characters", 2),
        (["--role", "auditor", "--name", "n" * 121], "display_name: At most 120 characters.", 2),
    ],
    ids=["officer-without-state", "unknown-state", "three-letter-code", "admin-with-state", "unknown-role",
         "invalid-email", "email-without-domain-dot", "11-char-password", "129-char-password", "blank-name",
         "control-character-in-name", "121-char-name"],
)
def test_create_user_refuses_bad_input(app, runner, args, message, exit_code):
    before = stored(app)
    defaults = {"--email": "someone@example.org", "--name": "Someone", "--password": PASSWORD}
    for option, value in defaults.items():
        if option not in args:
            args = [*args, option, value]

    result = create_user(runner, *args)

    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert stored(app) == before


def test_create_user_refuses_an_existing_email_in_another_case(app, runner, make_user):
    make_user(role="auditor", email="taken@example.org")
    before = stored(app)

    result = create_user(runner, "--email", "TAKEN@example.org", "--name", "Twin", "--role", "admin",
                         "--password", PASSWORD)

    assert result.exit_code == 2
    assert "email: An account with this e-mail address already exists." in result.output
    assert stored(app) == before
    assert user_by_email(app, "taken@example.org").role.value == "auditor"


# --- deactivate-user and reset-password ------------------------------------------------------------------------


def test_deactivate_user_ends_sessions_and_is_audited(app, runner, make_user):
    officer = make_user(role="officer", state="KZ")
    browser = app.test_client()
    assert login(browser, officer).status_code == 302

    result = runner.invoke(args=["deactivate-user", officer.email.upper()])

    assert result.exit_code == 0, result.output
    assert f"deactivated {officer.email}" in result.output
    assert user_by_email(app, officer.email).active is False
    assert count(app, LoginSession, LoginSession.user_id == officer.id, LoginSession.revoked_at.is_(None)) == 0
    assert browser.get("/states/").status_code == 302
    assert login(app.test_client(), officer).status_code == 200
    [entry] = entries(app, "user.deactivate")
    assert_audited_as_cli(entry)
    assert entry.object_id == str(officer.id) and entry.changes == {"active": [True, False]}


def test_deactivating_an_inactive_user_says_so(app, runner, make_user):
    officer = make_user(role="officer", state="KZ", active=False)
    before = stored(app)

    result = runner.invoke(args=["deactivate-user", officer.email])

    assert result.exit_code == 2
    assert "This account is already deactivated." in result.output
    assert stored(app) == before


@pytest.mark.parametrize("command", [["deactivate-user"], ["reset-password", "--password", NEW_PASSWORD]])
def test_unknown_email_is_reported(app, runner, command):
    before = stored(app)
    result = runner.invoke(args=[command[0], "nobody@example.org", *command[1:]])
    assert result.exit_code == 1
    assert "no user with e-mail nobody@example.org" in result.output
    assert stored(app) == before


def test_reset_password(app, runner, make_user):
    officer = make_user(role="officer", state="KZ")
    browser = app.test_client()
    assert login(browser, officer).status_code == 302

    result = runner.invoke(args=["reset-password", officer.email, "--password", NEW_PASSWORD])

    assert result.exit_code == 0, result.output
    assert f"password reset for {officer.email}" in result.output
    assert browser.get("/states/").status_code == 302, "the user's sessions end"
    assert login(app.test_client(), officer).status_code == 200, "the old password no longer works"
    assert login(app.test_client(), officer, password=NEW_PASSWORD).status_code == 302
    [entry] = entries(app, "user.reset_password")
    assert_audited_as_cli(entry)
    assert entry.changes == {"password_hash": ["(changed)", "(changed)"]}
    assert count(app, OutboxMessage, OutboxMessage.recipient_id == officer.id,
                 OutboxMessage.kind == "password_reset") == 1


def test_reset_password_refuses_a_short_password(app, runner, make_user):
    officer = make_user(role="officer", state="KZ")
    hash_before = user_by_email(app, officer.email).password_hash
    before = stored(app)

    result = runner.invoke(args=["reset-password", officer.email, "--password", "elevenchars"])

    assert result.exit_code == 2
    assert "password: Use at least 12 characters." in result.output
    assert user_by_email(app, officer.email).password_hash == hash_before
    assert stored(app) == before


# --- demo-load -------------------------------------------------------------------------------------------------


def test_demo_load_creates_flagged_accounts_once(app, runner):
    result = runner.invoke(args=["demo-load"])

    assert result.exit_code == 0, result.output
    assert f"demo accounts ({len(DEMO_USERS)} new), password for all: {DEMO_PASSWORD}" in result.output
    for email, name, role, code in DEMO_USERS:
        user = user_by_email(app, email)
        assert user is not None, email
        assert user.is_demo and user.active and user.role.value == role and user.display_name == name
        assert user.display_name.startswith("Demo") and email.endswith("@demo.example.org")
        with app.app_context():
            assert db.session.scalar(select(MemberState.code).where(MemberState.id == user.state_id)) == code
    assert count(app, User) == len(DEMO_USERS)
    created = entries(app, "user.create")
    assert len(created) == len(DEMO_USERS)
    for entry in created:
        assert_audited_as_cli(entry)
        assert entry.changes["is_demo"] == [None, True]
    officer = user_by_email(app, "officer.kz@demo.example.org")
    assert login(app.test_client(), Account(officer.email, DEMO_PASSWORD)).status_code == 302

    again = runner.invoke(args=["demo-load"])

    assert again.exit_code == 0, again.output
    assert "demo accounts (0 new)" in again.output
    assert count(app, User) == len(DEMO_USERS)
    assert len(entries(app, "user.create")) == len(DEMO_USERS)


def test_demo_load_if_empty_does_nothing_when_users_exist(app, runner, make_user):
    make_user(role="admin", email="real.admin@example.org")
    before = stored(app)

    result = runner.invoke(args=["demo-load", "--if-empty"])

    assert result.exit_code == 0, result.output
    assert "users exist already: demo data not loaded" in result.output
    assert stored(app) == before
    assert count(app, User, User.is_demo.is_(True)) == 0


def test_demo_load_if_empty_loads_into_an_empty_database(app, runner):
    result = runner.invoke(args=["demo-load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert count(app, User, User.is_demo.is_(True)) == len(DEMO_USERS)


def test_demo_load_is_refused_in_production(app, runner, monkeypatch):
    monkeypatch.setitem(app.config, "PRODUCTION", True)
    result = runner.invoke(args=["demo-load"])
    assert result.exit_code == 1
    assert "demo data is not loaded in production" in result.output
    assert count(app, User) == 0


def test_demo_load_without_states_asks_for_the_seed_first(app, runner):
    with app.app_context():
        db.session.execute(delete(StatusPeriod))
        db.session.execute(delete(MemberState))
        db.session.commit()

    result = runner.invoke(args=["demo-load"])

    assert result.exit_code == 1
    assert "member states CN, IN, KG, KZ, RU are missing: run the seed command first" in result.output
    assert not isinstance(result.exception, KeyError)
    assert count(app, User) == 0


def test_command_line_messages_follow_the_terminals_language(app, runner, monkeypatch):
    """REGISTRY_LANGUAGE (or LANG) chooses the language of the command line's messages."""
    from registry.i18n import cli_locale

    assert cli_locale(["en", "ru", "zh"]) in (None, "en", "ru", "zh")
    monkeypatch.setenv("REGISTRY_LANGUAGE", "ru")
    assert cli_locale(["en", "ru", "zh"]) == "ru"
    result = runner.invoke(args=["deactivate-user", "nobody@example.org"])
    assert result.exit_code != 0 and "nobody@example.org" in result.output
    assert "no user with e-mail" not in result.output  # said in Russian
    monkeypatch.setenv("REGISTRY_LANGUAGE", "")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli_locale(["en", "ru", "zh"]) == "zh"
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    result = runner.invoke(args=["deactivate-user", "nobody@example.org"])
    assert "no user with e-mail nobody@example.org" in result.output
