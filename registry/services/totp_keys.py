"""Encryption at rest of the second-factor (TOTP) secrets, with a key kept in a file outside the database.

Anyone holding a copy of the database, or a backup of it, could otherwise produce every user's codes. The
secrets are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256, authenticated) under the key in
SECOND_FACTOR_KEY_FILE; SECOND_FACTOR_KEY_FALLBACK_FILES (comma-separated) lists older keys still accepted for
reading, so a key can be replaced without locking anyone out (`flask --app app second-factor rotate-key`
re-encrypts every secret under the current key). A secret is decrypted only to check a code or to show it during
enrolment.

Like the audit signing key, the key file is made on first use in development (under instance/) and required in
production. The migration that encrypted the existing secrets (0012) reads the key through `key_files`.
"""

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context


class SecondFactorKeyError(RuntimeError):
    """The key file is missing, unreadable or does not match the stored secrets; the message says what to do."""


def generate_key_file(path: Path) -> Path:
    """Write a new Fernet key (mode 0600); refuses to overwrite one (the secrets under it would be lost)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(Fernet.generate_key())
    return path


def _read_key(path: Path) -> Fernet:
    try:
        return Fernet(path.read_bytes().strip())
    except OSError as exc:
        raise SecondFactorKeyError(f"cannot read the second-factor key {path}: {exc}") from exc
    except ValueError as exc:
        raise SecondFactorKeyError(f"{path} is not a second-factor key (a Fernet key, 44 characters of "
                                   "url-safe base64)") from exc


def key_files(config: dict | None = None) -> tuple[str, list[str]]:
    """(current key file, older key files) from the app's configuration, or the environment outside an app."""
    if config is None and has_app_context():
        config = current_app.config
    if config is not None:
        return config.get("SECOND_FACTOR_KEY_FILE", ""), list(config.get("SECOND_FACTOR_KEY_FALLBACK_FILES", []))
    fallbacks = [p for p in os.environ.get("SECOND_FACTOR_KEY_FALLBACK_FILES", "").split(",") if p]
    return os.environ.get("SECOND_FACTOR_KEY_FILE", ""), fallbacks


def cipher(current: str, fallbacks: list[str], production: bool = False) -> MultiFernet:
    """The current key first (it encrypts), then the older ones (they only decrypt)."""
    if not current:
        raise SecondFactorKeyError("SECOND_FACTOR_KEY_FILE is not set: create a key with "
                                   "`flask --app app second-factor keygen` and point the variable at it")
    path = Path(current)
    if not path.exists():
        if production:
            raise SecondFactorKeyError(f"the second-factor key {path} is missing: restore it from its own backup "
                                       "(without it no second factor can be checked)")
        generate_key_file(path)  # development: made once under instance/, like the secret key
    return MultiFernet([_read_key(path)] + [_read_key(Path(p)) for p in fallbacks])


def _app_cipher() -> MultiFernet:
    current, fallbacks = key_files()
    return cipher(current, fallbacks, production=bool(current_app.config.get("PRODUCTION")))


def encrypt(secret: str, box: MultiFernet | None = None) -> str:
    return (box or _app_cipher()).encrypt(secret.encode("ascii")).decode("ascii")


def decrypt(stored: str, box: MultiFernet | None = None) -> str:
    try:
        return (box or _app_cipher()).decrypt(stored.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecondFactorKeyError("a second-factor secret does not decrypt with SECOND_FACTOR_KEY_FILE or "
                                   "SECOND_FACTOR_KEY_FALLBACK_FILES: the key file is not the one it was "
                                   "encrypted with") from exc


def reencrypt(stored: str, box: MultiFernet | None = None) -> str:
    """The same secret under the current key (MultiFernet.rotate); used after a key change."""
    try:
        return (box or _app_cipher()).rotate(stored.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise SecondFactorKeyError("a second-factor secret does not decrypt with any configured key") from exc
