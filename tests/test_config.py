"""Configuration comes from the environment when the app is built."""

import sqlite3

import pytest
from sqlalchemy import text

from registry import create_app
from registry.config import ConfigError, load_config
from registry.db import db


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError):
        load_config(str(tmp_path), environ={"REGISTRY_ENV": "production"})


def test_production_switches_on_secure_cookies(tmp_path):
    config = load_config(str(tmp_path), environ={"REGISTRY_ENV": "production", "SECRET_KEY": "0123456789abcdef" * 4,
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
