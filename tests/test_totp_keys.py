"""Second-factor secrets encrypted at rest: the key file, its rotation, production's refusal, the migration."""

from pathlib import Path

import pyotp
import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from registry import migrate
from registry.config import ConfigError, load_config
from registry.db import db
from registry.models import AuditEntry, User
from registry.services import mfa, totp_keys
from tests.conftest import fetch, login
from tests.test_config import PRODUCTION_ENV


def test_the_stored_value_is_not_the_secret_and_sign_in_still_works(app, client, make_user):
    user = make_user(role="secretariat")
    stored = fetch(app, User, user.id).totp_secret
    assert stored != user.totp_secret and user.totp_secret not in stored
    assert stored.startswith("gAAAAA")  # a Fernet token
    response = login(client, user)
    assert response.status_code == 302 and "/login/verify" not in response.location
    assert client.get("/states/").status_code == 200


def test_a_database_copy_without_the_key_cannot_produce_the_code(app, make_user, tmp_path):
    user = make_user(role="admin")
    stored = fetch(app, User, user.id).totp_secret
    other_key = totp_keys.generate_key_file(tmp_path / "other.key")
    with pytest.raises(totp_keys.SecondFactorKeyError):
        totp_keys.decrypt(stored, totp_keys.cipher(str(other_key), []))
    # Nor is the stored text itself usable as a secret.
    with pytest.raises(Exception):  # noqa: B017, PT011 - base32 decoding of the token fails one way or another
        pyotp.TOTP(stored).now()


def test_verify_refuses_when_the_key_file_is_another(app, make_user, tmp_path, monkeypatch):
    user = make_user(role="admin")
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEY_FILE", str(totp_keys.generate_key_file(tmp_path / "new.key")))
    with app.app_context():
        row = db.session.get(User, user.id)
        with pytest.raises(totp_keys.SecondFactorKeyError):
            mfa.verify(row, pyotp.TOTP(user.totp_secret).now())
        db.session.rollback()


def test_rotation_keeps_old_secrets_working_and_reencrypts_them(app, client, make_user, tmp_path, monkeypatch):
    user = make_user(role="auditor")
    old_file = app.config["SECOND_FACTOR_KEY_FILE"]
    before = fetch(app, User, user.id).totp_secret
    new_file = totp_keys.generate_key_file(tmp_path / "rotated.key")
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEY_FILE", str(new_file))
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEY_FALLBACK_FILES", [old_file])

    assert login(client, user).status_code == 302 and client.get("/states/").status_code == 200

    with app.app_context():
        assert mfa.reencrypt_all_secrets() >= 1
        db.session.commit()
        assert db.session.scalar(sa.select(AuditEntry.id).where(
            AuditEntry.action == "security.second_factor_key_rotated")) is not None
    after = fetch(app, User, user.id).totp_secret
    assert after != before
    # Under the new key alone it opens; the old key alone no longer opens it.
    assert totp_keys.decrypt(after, totp_keys.cipher(str(new_file), [])) == user.totp_secret
    with pytest.raises(totp_keys.SecondFactorKeyError):
        totp_keys.decrypt(after, totp_keys.cipher(old_file, []))


def test_the_cli_makes_a_key_and_rotates(app, runner, make_user, tmp_path, monkeypatch):
    user = make_user(role="admin")
    old_file = app.config["SECOND_FACTOR_KEY_FILE"]
    path = tmp_path / "cli.key"
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEY_FILE", str(path))
    result = runner.invoke(args=["second-factor", "keygen"])
    assert result.exit_code == 0, result.output
    Fernet(path.read_bytes().strip())  # a valid key
    assert path.stat().st_mode & 0o077 == 0
    again = runner.invoke(args=["second-factor", "keygen"])
    assert again.exit_code != 0 and "exists" in again.output

    # Without the old key the stored secrets cannot be read: the command says so and changes nothing.
    refused = runner.invoke(args=["second-factor", "rotate-key"])
    assert refused.exit_code != 0 and "decrypt" in refused.output
    monkeypatch.setitem(app.config, "SECOND_FACTOR_KEY_FALLBACK_FILES", [old_file])
    rotated = runner.invoke(args=["second-factor", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    stored = fetch(app, User, user.id).totp_secret
    assert totp_keys.decrypt(stored, totp_keys.cipher(str(path), [])) == user.totp_secret


def test_production_refuses_to_start_without_the_key_file(tmp_path):
    with pytest.raises(ConfigError, match="SECOND_FACTOR_KEY_FILE"):
        load_config(str(tmp_path), environ={k: v for k, v in PRODUCTION_ENV.items()
                                            if k != "SECOND_FACTOR_KEY_FILE"})
    with pytest.raises(ConfigError, match="missing"):
        load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECOND_FACTOR_KEY_FILE": str(tmp_path / "none.key")})
    with pytest.raises(ConfigError, match="FALLBACK"):
        load_config(str(tmp_path), environ={**PRODUCTION_ENV, "SECOND_FACTOR_KEY_FALLBACK_FILES": "/nonexistent"})
    assert load_config(str(tmp_path), environ=PRODUCTION_ENV)["SECOND_FACTOR_KEY_FILE"]


def test_the_migration_encrypts_existing_secrets_and_downgrade_restores_them(app, fresh_database_url):
    url = fresh_database_url()
    secret = pyotp.random_base32()
    engine = sa.create_engine(url)
    try:
        with app.app_context():  # as under `flask --app app db upgrade`: the app's key file
            migrate.upgrade(url, "0011")
            with engine.begin() as connection:
                connection.execute(sa.text(
                    "INSERT INTO users (id, email, display_name, role, password_hash, active, is_demo, "
                    "created_at, version, totp_secret) VALUES (1, 'a@example.org', 'A', 'admin', 'x', true, false, "
                    "CURRENT_TIMESTAMP, 1, :secret)"), {"secret": secret})
            migrate.upgrade(url, "0012")
            with engine.connect() as connection:
                stored = connection.execute(sa.text("SELECT totp_secret FROM users")).scalar()
            assert secret not in stored and totp_keys.decrypt(stored) == secret
            migrate.downgrade(url, "0011")
            with engine.connect() as connection:
                assert connection.execute(sa.text("SELECT totp_secret FROM users")).scalar() == secret
    finally:
        engine.dispose()


def test_the_development_key_is_made_once_under_instance(tmp_path):
    config = load_config(str(tmp_path), environ={})
    assert Path(config["SECOND_FACTOR_KEY_FILE"]) == tmp_path / "second_factor.key"
    box = totp_keys.cipher(config["SECOND_FACTOR_KEY_FILE"], [])
    token = totp_keys.encrypt("JBSWY3DPEHPK3PXP", box)
    assert totp_keys.decrypt(token, totp_keys.cipher(config["SECOND_FACTOR_KEY_FILE"], [])) == "JBSWY3DPEHPK3PXP"
