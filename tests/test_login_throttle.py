"""Failed sign-ins: counted in the database per account and per address, checked before the password hash."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from registry import create_app
from registry.db import db, utcnow
from registry.models import AuditEntry, LoginThrottle
from registry.services import auth as auth_service
from tests.conftest import csrf_token, login, make_test_config

LOCKED = "Too many failed sign-in attempts. Sign-in is paused for a few minutes; try again later."
BAD = "The e-mail address or the password is not right."


WRONG_PASSWORD = "not the password at all"


def attempt(client, email, password=WRONG_PASSWORD):
    return client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture
def hash_calls(monkeypatch):
    """Counts every password verification, real or dummy (the unknown-address path burns the same time)."""
    calls = []
    real_verify, real_burn = auth_service.verify_password, auth_service.burn_verification_time

    def verify(password_hash, password):
        calls.append("verify")
        return real_verify(password_hash, password)

    def burn(password):
        calls.append("burn")
        return real_burn(password)

    monkeypatch.setattr(auth_service, "verify_password", verify)
    monkeypatch.setattr(auth_service, "burn_verification_time", burn)
    return calls


def test_five_wrong_passwords_lock_the_account_before_any_hashing(app, client, make_user, hash_calls):
    user = make_user(role="officer")
    for _i in range(4):
        assert BAD in attempt(client, user.email).get_data(as_text=True)
    fifth = attempt(client, user.email).get_data(as_text=True)
    assert LOCKED in fifth and BAD not in fifth
    hashed = len(hash_calls)

    right = attempt(client, user.email, user.password)

    assert right.status_code == 200 and LOCKED in right.get_data(as_text=True)
    assert len(hash_calls) == hashed  # refused without computing argon2
    assert client.get("/states/").status_code == 302
    log = actions(app)
    assert log.count("auth.login_failed") == 5
    assert log.count("auth.locked") == 1 and log[-1] == "auth.login_throttled"


def test_an_unknown_address_gets_the_same_answers_as_a_known_one(app, client, make_user):
    user = make_user(role="officer")
    known = [attempt(client, user.email).get_data(as_text=True) for _i in range(6)]
    unknown = [attempt(client, "nobody@example.org").get_data(as_text=True) for _i in range(6)]
    strip = lambda pages: [(BAD in p, LOCKED in p) for p in pages]  # noqa: E731
    assert strip(known) == strip(unknown)
    assert strip(known)[-1] == (False, True)


def test_the_lock_ends_after_its_time(app, client, make_user):
    user = make_user(role="officer")
    for _i in range(5):
        attempt(client, user.email)
    assert LOCKED in attempt(client, user.email, user.password).get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert login(client, user).status_code == 302
    assert client.get("/states/").status_code == 200


def test_failures_outside_the_window_start_a_new_count(app, client, make_user):
    user = make_user(role="officer")
    for _i in range(4):
        attempt(client, user.email)
    with app.app_context():
        db.session.execute(update(LoginThrottle).values(window_started_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    for _i in range(4):
        assert LOCKED not in attempt(client, user.email).get_data(as_text=True)
    assert login(client, user).status_code == 302


def test_a_successful_sign_in_clears_the_account_count(app, client, make_user):
    user = make_user(role="officer")
    for _i in range(4):
        attempt(client, user.email)
    login(client, user)
    other = app.test_client()
    for _i in range(4):
        assert LOCKED not in attempt(other, user.email).get_data(as_text=True)


def test_many_accounts_from_one_address_lock_the_address(app, client, make_user, monkeypatch):
    monkeypatch.setitem(app.config, "LOGIN_MAX_FAILURES_PER_ADDRESS", 6)
    victims = [make_user(role="officer") for _i in range(3)]
    for victim in victims:
        attempt(client, victim.email)
        attempt(client, victim.email)
    bystander = make_user(role="officer")
    response = attempt(client, bystander.email, bystander.password)
    assert LOCKED in response.get_data(as_text=True)
    # The same account from another address is not locked: the lock was on the address.
    elsewhere = app.test_client()
    response = elsewhere.post("/login", environ_base={"REMOTE_ADDR": "198.51.100.7"},
                              data={"email": bystander.email, "password": bystander.password,
                                    "csrf_token": csrf_token(elsewhere)})
    assert response.status_code == 302


def test_wrong_second_factor_codes_count_towards_the_lock(app, client, make_user):
    user = make_user(role="secretariat")
    client.post("/login", data={"email": user.email, "password": user.password, "csrf_token": csrf_token(client)})
    token = csrf_token(client, "/login/verify")
    for _i in range(4):
        page = client.post("/login/verify", data={"code": "000000", "csrf_token": token})
        assert page.status_code == 200
    fifth = client.post("/login/verify", data={"code": "000000", "csrf_token": token})
    assert fifth.status_code == 302 and fifth.location == "/login"
    assert LOCKED in client.get("/login").get_data(as_text=True)
    assert LOCKED in attempt(client, user.email, user.password).get_data(as_text=True)


def test_the_counters_are_shared_by_every_instance_of_the_app(app, client, make_user, tmp_path):
    """Two app objects on one database stand for two workers or two servers: one's failures lock the other."""
    user = make_user(role="officer")
    second = create_app(make_test_config(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path))
    try:
        other_client = second.test_client()
        for _i in range(5):
            attempt(other_client, user.email)
        assert LOCKED in attempt(client, user.email, user.password).get_data(as_text=True)
    finally:
        with second.app_context():
            db.engine.dispose()


def test_no_typed_address_is_stored_in_the_counters(app, client):
    attempt(client, "someone.secret@example.org")
    with app.app_context():
        keys = db.session.scalars(select(LoginThrottle.key)).all()
    assert keys and all(len(key) == 64 and "@" not in key for key in keys)
