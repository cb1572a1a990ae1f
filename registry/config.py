"""Configuration read from the environment when the app is built, never at import time."""

import os
import secrets
from datetime import timedelta
from pathlib import Path


class ConfigError(RuntimeError):
    """The environment does not describe a runnable registry."""


def _flag(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _development_secret(instance_path: Path) -> str:
    """Generate a secret key once and keep it under instance/, so restarts keep sessions."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# Secrets seen in examples and tutorials; production refuses them, and anything short or repetitive.
KNOWN_DEFAULT_SECRETS = frozenset({"dev", "development", "secret", "secret-key", "secret_key", "changeme", "change-me",
                                   "change_me", "test", "test-secret-key", "please-change-me", "insecure"})
SECRET_MIN_LENGTH = 32


def _weak_secret(key: str) -> bool:
    return key.strip().lower() in KNOWN_DEFAULT_SECRETS or len(key) < SECRET_MIN_LENGTH or len(set(key)) < 10


def check_production(config: dict) -> None:
    """Refuse to run in production with a default or weak secret, debug on, or SQLite without an explicit flag."""
    if not config["PRODUCTION"]:
        return
    problems = []
    if _weak_secret(config["SECRET_KEY"]):
        problems.append(f"SECRET_KEY is a default or weak value: use at least {SECRET_MIN_LENGTH} random "
                        "characters (python -c 'import secrets; print(secrets.token_hex(32))')")
    if any(_weak_secret(key) for key in config["SECRET_KEY_FALLBACKS"]):
        problems.append("a key in SECRET_KEY_FALLBACKS is a default or weak value")
    if config.get("DEBUG"):
        problems.append("debug mode is on (FLASK_DEBUG): it shows code and lets a visitor run it")
    if config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite") and not config["ALLOW_SQLITE_IN_PRODUCTION"]:
        problems.append("the database is SQLite: use PostgreSQL (DATABASE_URL), or set "
                        "REGISTRY_ALLOW_SQLITE=1 to run a single small instance on SQLite on purpose")
    key_file = config.get("SECOND_FACTOR_KEY_FILE")
    if not key_file:
        problems.append("SECOND_FACTOR_KEY_FILE is not set: the second-factor secrets are encrypted with it "
                        "(create one with `flask --app app second-factor keygen`)")
    elif not Path(key_file).is_file():
        problems.append(f"the second-factor key {key_file} is missing: restore it from its own backup, or create "
                        "one with `flask --app app second-factor keygen`")
    for fallback in config.get("SECOND_FACTOR_KEY_FALLBACK_FILES", []):
        if not Path(fallback).is_file():
            problems.append(f"the older second-factor key {fallback} (SECOND_FACTOR_KEY_FALLBACK_FILES) is missing")
    if problems:
        raise ConfigError("refusing to start in production: " + "; ".join(problems))


def load_config(instance_path: str, environ: dict | None = None, overrides: dict | None = None) -> dict:
    """The app's configuration: environment variables, then `overrides` (tests pass theirs here)."""
    env = os.environ if environ is None else environ
    overrides = overrides or {}
    instance = Path(instance_path)
    production = overrides.get("PRODUCTION", env.get("REGISTRY_ENV", "development") == "production")

    secret_key = overrides.get("SECRET_KEY") or env.get("SECRET_KEY")
    if not secret_key:
        if production:
            raise ConfigError("SECRET_KEY must be set when REGISTRY_ENV=production")
        secret_key = _development_secret(instance)

    database_url = env.get("DATABASE_URL")
    if not database_url:
        instance.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{instance / 'registry.sqlite3'}"
    if database_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; plain postgresql:// would ask for psycopg2.
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")

    fallbacks = [k for k in env.get("SECRET_KEY_FALLBACKS", "").split(",") if k]
    config = {
        "PRODUCTION": production,
        "DEBUG": _flag(env.get("FLASK_DEBUG")),
        "ALLOW_SQLITE_IN_PRODUCTION": _flag(env.get("REGISTRY_ALLOW_SQLITE")),
        "SECRET_KEY": secret_key,
        "SECRET_KEY_FALLBACKS": fallbacks,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # pool_pre_ping: a connection dropped by a database restart is replaced before use, not failed on.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # How long a statement waits for a row or table another connection holds before the request gives up
        # with "try again" (PostgreSQL lock_timeout, SQLite busy timeout).
        "DB_LOCK_TIMEOUT_MS": int(env.get("DB_LOCK_TIMEOUT_MS", "5000")),
        # Cookies: Secure and the __Host- prefix need HTTPS, so only in production.
        "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=int(env.get("SESSION_ABSOLUTE_HOURS", "12"))),
        "SESSION_IDLE_MINUTES": int(env.get("SESSION_IDLE_MINUTES", "60")),
        # Flask's form limits only cover multipart bodies; this covers url-encoded ones too.
        "MAX_CONTENT_LENGTH": int(env.get("MAX_CONTENT_LENGTH", str(4 * 1024 * 1024))),
        # The pages that take a document (a signed visit report, a structure spreadsheet) accept this much.
        "MAX_UPLOAD_LENGTH": int(env.get("MAX_UPLOAD_LENGTH", str(11 * 1024 * 1024))),
        # A direct download is built whole before it is sent; beyond this, the command-line export.
        "EXPORT_MAX_ROWS": int(env.get("EXPORT_MAX_ROWS", "200000")),
        # Export jobs and bundles are written here and kept this many days.
        "EXPORT_DIR": env.get("EXPORT_DIR", str(instance / "exports")),
        "EXPORT_KEEP_DAYS": int(env.get("EXPORT_KEEP_DAYS", "7")),
        # The web server runs export jobs itself every this many seconds (`make run`: 5; 0: `flask export-jobs work`).
        "EXPORT_WORKER_SECONDS": int(env.get("EXPORT_WORKER_SECONDS", "0")),
        "MAX_FORM_PARTS": 1000,
        # The CSRF token lives as long as the server-side login session.
        "WTF_CSRF_TIME_LIMIT": None,
        # Number of reverse proxies in front of the app whose X-Forwarded-* headers we trust.
        "TRUSTED_PROXY_HOPS": int(env.get("TRUSTED_PROXY_HOPS", "0")),
        # argon2id, OWASP minimum is m=19 MiB, t=2, p=1; we default above it.
        "ARGON2_TIME_COST": int(env.get("ARGON2_TIME_COST", "3")),
        "ARGON2_MEMORY_COST": int(env.get("ARGON2_MEMORY_COST", str(64 * 1024))),
        "ARGON2_PARALLELISM": int(env.get("ARGON2_PARALLELISM", "1")),
        "LANGUAGES": ["en", "ru", "zh"],
        "BABEL_DEFAULT_LOCALE": "en",
        "BABEL_DEFAULT_TIMEZONE": "UTC",
        "MAIL_SERVER": env.get("MAIL_SERVER", ""),
        "MAIL_PORT": int(env.get("MAIL_PORT", "25")),
        "MAIL_USE_STARTTLS": _flag(env.get("MAIL_USE_STARTTLS")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": env.get("MAIL_FROM", "registry@localhost"),
        "PAGE_SIZE": 50,
        # Rendered lists kept per worker until the registry changes (registry/page_cache.py); 0 turns it off.
        "PAGE_CACHE_BYTES": int(env.get("PAGE_CACHE_BYTES", str(32 * 1024 * 1024))),
        # Audit chain checkpoints: Ed25519 key file (kept outside the database and its backups), the file every
        # checkpoint is also appended to, and the name signed into them. Development defaults live in instance/.
        "AUDIT_SIGNING_KEY_FILE": env.get("AUDIT_SIGNING_KEY_FILE")
        or ("" if production else str(instance / "audit_signing_key.pem")),
        "AUDIT_PUBLIC_KEY_FILE": env.get("AUDIT_PUBLIC_KEY_FILE", ""),
        "AUDIT_CHECKPOINT_LOG": env.get("AUDIT_CHECKPOINT_LOG")
        or ("" if production else str(instance / "audit_checkpoints.jsonl")),
        "AUDIT_ORIGIN": env.get("AUDIT_ORIGIN", "sco-cbm-registry"),
        # Second-factor secrets are encrypted with this key (a file outside the database and its backups); older
        # keys, still accepted for reading after a rotation, in SECOND_FACTOR_KEY_FALLBACK_FILES (comma-separated).
        "SECOND_FACTOR_KEY_FILE": env.get("SECOND_FACTOR_KEY_FILE")
        or ("" if production else str(instance / "second_factor.key")),
        "SECOND_FACTOR_KEY_FALLBACK_FILES": [p for p in env.get("SECOND_FACTOR_KEY_FALLBACK_FILES", "").split(",")
                                             if p],
        # Development server only (`make run` sets it): deliver the outbox every N seconds when MAIL_SERVER is set.
        "OUTBOX_PUMP_SECONDS": int(env.get("OUTBOX_PUMP_SECONDS", "0")),
        # Failed sign-ins, counted in the database: this many within the window lock the account or the
        # client address for LOGIN_LOCK_MINUTES.
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": int(env.get("LOGIN_MAX_FAILURES_PER_ACCOUNT", "5")),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": int(env.get("LOGIN_MAX_FAILURES_PER_ADDRESS", "50")),
        "LOGIN_THROTTLE_WINDOW_MINUTES": int(env.get("LOGIN_THROTTLE_WINDOW_MINUTES", "15")),
        "LOGIN_LOCK_MINUTES": int(env.get("LOGIN_LOCK_MINUTES", "15")),
        "PASSWORD_RESET_MINUTES": int(env.get("PASSWORD_RESET_MINUTES", "30")),
    }
    config.update(overrides)
    check_production(config)
    return config
