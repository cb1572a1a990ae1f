"""Failed sign-ins counted in the database, per account and per client address, checked before any hashing.

An in-memory limiter counts per worker process (n workers allow n times the limit); these counters are rows,
so every worker and instance shares them. Increments are single UPDATE statements (atomic on both backends).
The account key is the e-mail as typed (normalised), known or not, so a lock says nothing about existence.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, has_request_context, request
from sqlalchemy import case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from registry.db import db, utcnow
from registry.models import LoginThrottle
from registry.services import audit

ACCOUNT, ADDRESS = "account", "address"


@dataclass(frozen=True)
class Limit:
    failures: int  # this many failures within `window` ...
    window: timedelta
    lock: timedelta  # ... lock the key for this long


def limits() -> dict[str, Limit]:
    config = current_app.config
    window = timedelta(minutes=config["LOGIN_THROTTLE_WINDOW_MINUTES"])
    lock = timedelta(minutes=config["LOGIN_LOCK_MINUTES"])
    return {
        ACCOUNT: Limit(config["LOGIN_MAX_FAILURES_PER_ACCOUNT"], window, lock),
        ADDRESS: Limit(config["LOGIN_MAX_FAILURES_PER_ADDRESS"], window, lock),
    }


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def client_address() -> str:
    """The client address as seen after ProxyFix (only the configured number of proxies is trusted)."""
    return (request.remote_addr or "unknown") if has_request_context() else "cli"


def keys(email: str, address: str | None = None) -> dict[str, str]:
    return {ACCOUNT: _digest((email or "").strip().lower()), ADDRESS: _digest(address or client_address())}


def locked_until(email: str, address: str | None = None) -> datetime | None:
    """The end of the lock on this account or address, or None. Reads only: no hashing, no writes."""
    now = utcnow()
    ends = []
    for scope, key in keys(email, address).items():
        until = db.session.scalar(
            select(LoginThrottle.locked_until).where(LoginThrottle.scope == scope, LoginThrottle.key == key)
        )
        if until is not None and until > now:
            ends.append(until)
    return max(ends) if ends else None


def _ensure_row(scope: str, key: str) -> None:
    dialect = db.engine.dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(LoginThrottle).values(scope=scope, key=key, failures=0).on_conflict_do_nothing(
        index_elements=["scope", "key"]
    )
    db.session.execute(stmt)


def register_failure(email: str, address: str | None = None, *, user=None) -> bool:
    """Count one failed attempt on the account and the address; lock what reached its limit (audited).

    Returns True when this failure locked the account or the address.
    """
    now = utcnow()
    locked_now = False
    for scope, key in keys(email, address).items():
        limit = limits()[scope]
        _ensure_row(scope, key)
        fresh = LoginThrottle.window_started_at.is_(None) | (LoginThrottle.window_started_at < now - limit.window)
        failures = db.session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
            .values(
                failures=case((fresh, 1), else_=LoginThrottle.failures + 1),
                window_started_at=case((fresh, now), else_=LoginThrottle.window_started_at),
            )
            .returning(LoginThrottle.failures)
            .execution_options(synchronize_session=False)
        ).scalar_one()
        if failures >= limit.failures:
            db.session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.scope == scope, LoginThrottle.key == key)
                .values(locked_until=now + limit.lock, failures=0, window_started_at=None)
                .execution_options(synchronize_session=False)
            )
            locked_now = True
            audit.record(
                "auth.locked", actor_label=(email or "")[:254], object_type="user" if user else None,
                object_id=user.id if user else None, outcome="failure",
                changes={"scope": ["", scope], "address": ["", address or client_address()],
                         "minutes": ["", int(limit.lock.total_seconds() // 60)]},
            )
    return locked_now


def clear_account(email: str) -> None:
    """A successful sign-in (both factors) or a password reset forgets the account's failures."""
    key = keys(email)[ACCOUNT]
    db.session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.scope == ACCOUNT, LoginThrottle.key == key)
        .values(failures=0, window_started_at=None, locked_until=None)
        .execution_options(synchronize_session=False)
    )
