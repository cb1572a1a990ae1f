"""Fixtures: a fresh database per run (SQLite file, or a new PostgreSQL database), emptied after each test.

The suite runs on SQLite by default; `REGISTRY_TEST_DATABASE_URL=postgresql+psycopg://...` runs it on
PostgreSQL in a database created for this run and dropped at the end.
"""

import os
import re
import smtplib
import time
import uuid
from contextlib import contextmanager
from types import SimpleNamespace

import psycopg
import pyotp
import pytest
from flask import current_app
from sqlalchemy import event, text

from registry import create_app, migrate
from registry.db import Base, db, utcnow
from registry.models import MemberState, RecoveryCode, User
from registry.services import mfa, totp_keys
from registry.services import states as state_service
from registry.services import users as user_service
from registry.services.actors import CLI

PASSWORD = "correct horse battery"
POSTGRES_ADMIN_URL = os.environ.get("REGISTRY_TEST_DATABASE_URL")
CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _plain_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


class PostgresDatabases:
    """Creates throw-away databases next to the one named by REGISTRY_TEST_DATABASE_URL."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url

    def create(self, prefix: str = "registry_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(_plain_url(self.admin_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.admin_url.rsplit("/", 1)[0] + "/" + name

    def drop(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(_plain_url(self.admin_url), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if POSTGRES_ADMIN_URL else "sqlite"


@pytest.fixture(scope="session")
def fresh_database_url(tmp_path_factory):
    """A factory of empty databases on the backend under test; all are removed at the end."""
    created = []
    postgres = PostgresDatabases(POSTGRES_ADMIN_URL) if POSTGRES_ADMIN_URL else None

    def make() -> str:
        if postgres:
            url = postgres.create()
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'registry.sqlite3'}"
        created.append(url)
        return url

    yield make
    if postgres:
        for url in created:
            postgres.drop(url)


def make_test_config(database_url: str, tmp_path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Cheap hashing in tests; the production parameters are checked in test_passwords.py.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 1024,
        "ARGON2_PARALLELISM": 1,
        "AUDIT_SIGNING_KEY_FILE": str(tmp_path / "audit_signing_key.pem"),
        "AUDIT_CHECKPOINT_LOG": str(tmp_path / "audit_checkpoints.jsonl"),
        "EXPORT_DIR": str(tmp_path / "exports"),
        "SECOND_FACTOR_KEY_FILE": str(tmp_path / "second_factor.key"),
        # The page cache trusts that every change writes an audit entry (registry/page_cache.py); the factories
        # write rows directly, so it is off here and on in tests/test_page_cache.py and the live-server tests.
        "PAGE_CACHE_BYTES": 0,
    }


@pytest.fixture(scope="session")
def app(fresh_database_url, tmp_path_factory):
    url = fresh_database_url()
    application = create_app(make_test_config(url, tmp_path_factory.mktemp("instance")))
    migrate.upgrade(url)  # the schema comes from the migrations, as in production
    yield application
    with application.app_context():
        db.engine.dispose()


REFERENCE_TABLES = {"member_states", "state_status_periods"}
AUDIT_TABLES = {"audit_log", "audit_checkpoints", "audit_head"}
# The append-only triggers of migration 0006 on SQLite (PostgreSQL's are bypassed, not dropped: see below).
SQLITE_AUDIT_TRIGGERS = {
    f"{table}_no_{op}": f"CREATE TRIGGER {table}_no_{op} BEFORE {op.upper()} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {op.upper()} refused'); END"
    for table in ("audit_log", "audit_checkpoints") for op in ("update", "delete")
}


def reset_audit_log() -> None:
    """Empty the append-only audit tables the way a database superuser could, which the app role cannot:
    on PostgreSQL with triggers off for this transaction only (session_replication_role = replica, superuser
    only), on SQLite by dropping and re-creating the triggers in one transaction. Also empties the checkpoint
    file kept outside the database."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL session_replication_role = replica"))
        db.session.execute(text("DELETE FROM audit_checkpoints"))
        db.session.execute(text("DELETE FROM audit_log"))
    else:
        db.session.execute(text("UPDATE audit_head SET seq = seq"))  # opens the transaction: DDL joins it
        for name in SQLITE_AUDIT_TRIGGERS:
            db.session.execute(text(f"DROP TRIGGER {name}"))
        db.session.execute(text("DELETE FROM audit_checkpoints"))
        db.session.execute(text("DELETE FROM audit_log"))
        for ddl in SQLITE_AUDIT_TRIGGERS.values():
            db.session.execute(text(ddl))
    db.session.execute(text("UPDATE audit_head SET seq = 0, hash = :h"), {"h": "0" * 64})
    db.session.commit()
    path = current_app.config.get("AUDIT_CHECKPOINT_LOG")
    if path and os.path.exists(path):
        os.remove(path)


def _reset_database() -> None:
    """Empty every table but the reference data, then restore the seeds (idempotent: a no-op unless a test
    changed a state). DELETE on small tables is much faster than TRUNCATE on PostgreSQL."""
    reset_audit_log()
    for table in reversed(Base.metadata.sorted_tables):
        if table.name not in REFERENCE_TABLES | AUDIT_TABLES:
            db.session.execute(table.delete())
    db.session.commit()
    state_service.load_state_seeds()
    db.session.commit()
    if db.session.scalar(text("SELECT seq FROM audit_head")):
        reset_audit_log()  # the seed run logged a restore


@pytest.fixture(autouse=True)
def clean_database(app):
    """Every test starts with the seeded states and nothing else."""
    with app.app_context():
        _reset_database()
    yield
    with app.app_context():
        db.session.remove()


@pytest.fixture(autouse=True)
def no_real_email(monkeypatch):
    """Fail any test that would open a real SMTP connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to send real e-mail")

    monkeypatch.setattr(smtplib, "SMTP", refuse)
    monkeypatch.setattr(smtplib, "SMTP_SSL", refuse)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_user(app):
    """make_user(role="officer", state="KZ", ...) -> a plain record of the new account (id, email, password)."""
    counter = iter(range(1, 10_000))

    def make(role="officer", state="KZ", email=None, password=PASSWORD, active=True, name=None,
             second_factor=None):
        """second_factor: None = as the role requires (set up for secretariat, auditors, admins); True/False."""
        n = next(counter)
        email = email or f"{role}{n}@example.org"
        with app.app_context():
            state_id = None
            if role == "officer":
                state_id = db.session.scalar(db.select(MemberState.id).where(MemberState.code == state))
            user = user_service.create_user(CLI, email=email, display_name=name or f"Test {role} {n}", role=role,
                                            state_id=state_id, password=password, temporary_password=False)
            if not active:
                user_service.deactivate_user(CLI, user)
            secret, codes = None, []
            if second_factor or (second_factor is None and user.role in mfa.ROLES_REQUIRING_SECOND_FACTOR):
                secret, codes = enrol_second_factor(user)
            db.session.commit()
            return SimpleNamespace(id=user.id, email=user.email, password=password, role=role,
                                   state=state if role == "officer" else None, totp_secret=secret,
                                   recovery_codes=codes)

    return make


def enrol_second_factor(user) -> tuple[str, list[str]]:
    """Test set-up: give `user` a second factor directly (no audit entry), as if enrolled earlier."""
    secret = pyotp.random_base32()
    user.totp_secret = totp_keys.encrypt(secret)
    user.totp_enabled_at = utcnow()
    codes = ["-".join(raw[i:i + 7] for i in range(0, 28, 7)) for raw in (uuid.uuid4().hex[:28] for _i in range(10))]
    for code in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_hash=mfa._hash_recovery(code)))
    return secret, codes


def next_totp_code(app, user) -> str:
    """A code the server will accept now for `user`: a time-step not used yet (codes are single use).

    Falls back to one of the user's recovery codes when the three steps of the window are used up.
    """
    with app.app_context():
        last = db.session.get(User, user.id).totp_last_step
    current = int(time.time()) // mfa.STEP_SECONDS
    for step in (current, current + 1):
        if last is None or step > last:
            return pyotp.TOTP(user.totp_secret).at(step * mfa.STEP_SECONDS)
    return user.recovery_codes.pop(0)


def csrf_token(client, url: str = "/login") -> str:
    response = client.get(url)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {url} (status {response.status_code})"
    return match.group(1)


def login(client, user, password=None):
    """Sign in with the password and, if the account has a second factor, a fresh code from its secret."""
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"email": user.email, "password": password or user.password,
                                           "csrf_token": token})
    if response.status_code == 302 and response.location.startswith("/login/verify"):
        if getattr(user, "totp_secret", None) is None:
            return response
        code = next_totp_code(client.application, user)
        response = client.post(response.location, data={"code": code,
                                                        "csrf_token": csrf_token(client, response.location)})
    return response


@pytest.fixture
def login_as(client, make_user):
    """login_as("secretariat") -> signed-in client's user record."""

    def do(role="officer", state="KZ", **kwargs):
        user = make_user(role=role, state=state, **kwargs)
        response = login(client, user)
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return do


def fetch(app, model, ident):
    """Read a row fresh from the database, outside any request."""
    with app.app_context():
        obj = db.session.get(model, ident)
        if obj is not None:
            db.session.expunge(obj)
        return obj


def audit_actions(app) -> list[str]:
    from registry.models import AuditEntry

    with app.app_context():
        return list(db.session.scalars(db.select(AuditEntry.action).order_by(AuditEntry.id)))


__all__ = ["PASSWORD", "User", "audit_actions", "csrf_token", "fetch", "login"]


@contextmanager
def sql_statements(app):
    """The SQL statements the app sends inside the block, as a list filled while it runs."""
    sent: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)
