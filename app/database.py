"""Engine and session factories, built on demand from the settings (never at import)."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import QueuePool

from app.config import get_settings

# Constraint and index names the migrations can name again on every backend (SQLite's batch
# mode and MySQL's DROP INDEX need a name; a server-chosen one differs from server to server).
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
}


class Base(DeclarativeBase):
    """The declarative base every model derives from."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def is_sqlite(url: URL) -> bool:
    """True when the URL names an SQLite database."""
    return url.get_backend_name() == "sqlite"


def _install_sqlite_transaction_fix(engine: Engine) -> None:
    """SQLAlchemy's documented pysqlite fix: take BEGIN over so SAVEPOINTs nest properly.

    Also turns foreign keys on, which SQLite needs on every new connection.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from emitting BEGIN itself (works for sqlite3 and pysqlite3).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: concurrent writers wait for each other
        # (busy timeout) instead of failing with "database is locked" on lock upgrade.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS = 30.0


def build_engine(
    database_url: str,
    sqlite_module: str | None = None,
    sqlite_busy_timeout_seconds: float = DEFAULT_SQLITE_BUSY_TIMEOUT_SECONDS,
) -> Engine:
    """A new engine for `database_url`; `sqlite_module` picks the SQLite DB-API module.

    On SQLite a connection waits up to `sqlite_busy_timeout_seconds` for another one's write
    lock (every transaction takes it, see `_install_sqlite_transaction_fix`).
    """
    url = make_url(database_url)
    kwargs: dict[str, Any] = {}
    if is_sqlite(url):
        # Requests run in a thread pool, so a pooled connection may change threads.
        kwargs["connect_args"] = {
            "check_same_thread": False,
            "timeout": sqlite_busy_timeout_seconds,
        }
        if sqlite_module:
            kwargs["module"] = importlib.import_module(sqlite_module)
        if url.database in (None, "", ":memory:"):
            # An in-memory database lives in its one connection: threads take turns on it.
            kwargs.update(poolclass=QueuePool, pool_size=1, max_overflow=0)
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if is_sqlite(url):
        _install_sqlite_transaction_fix(engine)
    return engine


_engines: dict[tuple[str, str | None, float], Engine] = {}
_engines_lock = threading.Lock()


def get_engine() -> Engine:
    """The process's engine for the current settings (one per URL, built on first use)."""
    settings = get_settings()
    key = (settings.database_url, settings.sqlite_module, settings.sqlite_busy_timeout_seconds)
    with _engines_lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = build_engine(*key)
        return engine


def dispose_engines() -> None:
    """Close every engine built by `get_engine` and forget them."""
    with _engines_lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


def session_factory() -> sessionmaker[Session]:
    """A sessionmaker bound to the current engine."""
    return sessionmaker(bind=get_engine(), expire_on_commit=False)


def get_db() -> Iterator[Session]:
    """FastAPI dependency: one session per request, closed afterwards."""
    with session_factory()() as session:
        yield session
