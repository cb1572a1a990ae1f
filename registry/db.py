"""The SQLAlchemy handle, the declarative base and types shared by every model."""

import sqlite3
from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, event
from sqlalchemy.dialects.sqlite.base import SQLiteCompiler, SQLiteDialect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so Alembic can find and drop them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# SQLite only auto-increments an INTEGER PRIMARY KEY, so big ids are plain integers there.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def transaction_memo() -> dict:
    """A dict that lives as long as the session's current transaction: for what one transaction reads more than
    once and does not change (a record's details read by the check and again by the snapshot). Emptied whenever a
    transaction or savepoint ends, so nothing is carried into the next one."""
    return db.session.info.setdefault("transaction_memo", {})


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction_memo(session, transaction) -> None:
    session.info.pop("transaction_memo", None)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timestamps stored in UTC and always returned timezone-aware, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use registry.db.utcnow()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _SQLiteCompiler(SQLiteCompiler):
    """SQLite's compiler, rendering table hints (`select().with_hint(Model, "INDEXED BY ix_...", "sqlite")`).

    SQLAlchemy's own drops them for SQLite; the exercise list needs one to walk its start-date index
    (services/exercise_queries.py). Hints for other dialects are still ignored here.
    """

    def get_from_hint_text(self, table, text):
        return text


SQLiteDialect.statement_compiler = _SQLiteCompiler


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # SQLite's own lower() folds only A-Z; searches must ignore case in Cyrillic too, as on PostgreSQL.
    dbapi_connection.create_function("lower", 1, lambda s: s.lower() if isinstance(s, str) else s,
                                     deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def engine_options(config: dict) -> dict:
    """The engine's options for the configured database: the lock wait is bounded on both backends, so a row
    held by another connection ends in a clear "try again" (registry/__init__.py) instead of a hang."""
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    wait_ms = int(config["DB_LOCK_TIMEOUT_MS"])
    url = config["SQLALCHEMY_DATABASE_URI"]
    connect_args = dict(options.get("connect_args") or {})
    if url.startswith("sqlite"):
        connect_args.setdefault("timeout", wait_ms / 1000)  # sqlite3's busy timeout, in seconds
    elif url.startswith("postgresql"):
        connect_args.setdefault("options", f"-c lock_timeout={wait_ms}")
    options["connect_args"] = connect_args
    return options


def is_busy_error(exc: BaseException) -> bool:
    """A lock another connection held too long (SQLite "database is locked", PostgreSQL lock_not_available)."""
    orig = getattr(exc, "orig", exc)
    return "database is locked" in str(orig) or getattr(orig, "sqlstate", None) == "55P03"
