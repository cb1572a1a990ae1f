"""Configuration comes from the environment when the app is built."""

import sqlite3
import tempfile
from pathlib import Path

import pytest
from sqlalchemy import text

from registry import create_app
from registry.config import ConfigError, load_config
from registry.db import db
from registry.services import totp_keys

GOOD_SECRET = "3f9c1e7a5b2d4f608e1c9a7b5d3f1e2c"
# Production needs the second-factor key file to exist; one made for this module's tests.
SECOND_FACTOR_KEY = totp_keys.generate_key_file(Path(tempfile.mkdtemp()) / "second_factor.key")
PRODUCTION_ENV = {"REGISTRY_ENV": "production", "SECRET_KEY": GOOD_SECRET,
                  "DATABASE_URL": "postgresql://registry@db.internal/registry",
                  "SECOND_FACTOR_KEY_FILE": str(SECOND_FACTOR_KEY)}


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), environ={"REGISTRY_ENV": "production"})


def test_production_switches_on_secure_cookies(tmp_path):
    config = load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECRET_KEY": "0123456789abcdef" * 4,
                                                 "DATABASE_URL": "postgresql://u@db/registry"})
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/registry"


def test_development_generates_a_secret_key_once_and_keeps_it(tmp_path):
    first = load_config(str(tmp_path), environ={})
    second = load_config(str(tmp_path), environ={})
    assert len(first["SECRET_KEY"]) >= 32
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    assert first["SESSION_COOKIE_SECURE"] is False


def test_a_urlencoded_body_is_limited(tmp_path):
    config = load_config(str(tmp_path), environ={})
    assert 0 < config["MAX_CONTENT_LENGTH"] <= 16 * 1024 * 1024


def test_sqlite_runs_with_wal_foreign_keys_and_busy_timeout(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        db.engine.dispose()
    assert sqlite3.sqlite_version_info >= (3, 35)


def test_trusted_proxy_hops_decide_the_client_address(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    for hops, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app({"SECRET_KEY": "k", "SQLALCHEMY_DATABASE_URI": url, "TRUSTED_PROXY_HOPS": hops})

        @app.get("/_ip")
        def ip():
            from flask import request

            return request.remote_addr or ""

        response = app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.9"})
        assert response.get_data(as_text=True) == expected


# --- production refuses to start when it is not set up for production ----------------------------------------------

def test_a_production_environment_with_everything_set_starts(tmp_path):
    config = load_config(str(tmp_path), environ=PRODUCTION_ENV)
    assert config["PRODUCTION"] is True and config["DEBUG"] is False


@pytest.mark.parametrize("secret", ["changeme", "dev", "test-secret-key", "short-but-random-9f3a", "x" * 40,
                                    "abababababababababababababababab"])
def test_production_refuses_a_default_or_weak_secret(tmp_path, secret):
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECRET_KEY": secret})


def test_production_refuses_a_weak_fallback_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY_FALLBACKS"):
        load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": f"{GOOD_SECRET[::-1]},dev"})
    config = load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECRET_KEY_FALLBACKS": GOOD_SECRET[::-1]})
    assert config["SECRET_KEY_FALLBACKS"] == [GOOD_SECRET[::-1]]


def test_production_refuses_debug_mode(tmp_path):
    with pytest.raises(ConfigError, match="debug"):
        load_config(str(tmp_path), environ={**PRODUCTION_ENV, "FLASK_DEBUG": "1"})


def test_production_refuses_sqlite_unless_asked_for_explicitly(tmp_path):
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DATABASE_URL"}
    with pytest.raises(ConfigError, match="SQLite"):
        load_config(str(tmp_path), environ=env)
    config = load_config(str(tmp_path), environ={**env, "REGISTRY_ALLOW_SQLITE": "1"})
    assert config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


def test_development_may_run_with_debug_and_sqlite(tmp_path):
    config = load_config(str(tmp_path), environ={"FLASK_DEBUG": "1"})
    assert config["DEBUG"] is True and config["PRODUCTION"] is False


def test_a_rotated_key_still_reads_sessions_signed_with_the_old_one(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite3'}"
    old = create_app({"SECRET_KEY": "old-" + GOOD_SECRET, "SQLALCHEMY_DATABASE_URI": url})

    @old.get("/_set")
    def set_value():
        from flask import session

        session["probe"] = "kept"
        return "ok"

    client = old.test_client()
    client.get("/_set")
    cookie = client.get_cookie("session").value
    new = create_app({"SECRET_KEY": "new-" + GOOD_SECRET, "SECRET_KEY_FALLBACKS": ["old-" + GOOD_SECRET],
                      "SQLALCHEMY_DATABASE_URI": url})

    @new.get("/_get")
    def get_value():
        from flask import session

        return session.get("probe", "lost")

    other = new.test_client()
    other.set_cookie("session", cookie)
    assert other.get("/_get").get_data(as_text=True) == "kept"
    for application in (old, new):
        with application.app_context():
            db.engine.dispose()
