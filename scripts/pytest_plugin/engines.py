"""The plugin's engine of a worker's database: no pool (nothing outlives its test) and, on
SQLite, SQLAlchemy's documented pysqlite fix so that the test's SAVEPOINTs nest."""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool


def worker_engine(database_url: str, sqlite_module: str | None = None) -> Engine:
    """An engine of `database_url` (`sqlite_module`: the SQLite DB-API module to load)."""
    url = make_url(database_url)
    options: dict[str, Any] = {"poolclass": NullPool}
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and sqlite_module:
        options["module"] = importlib.import_module(sqlite_module)
    engine = create_engine(url, **options)
    if sqlite:
        _take_over_begin(engine)
    return engine


def _take_over_begin(engine: Engine) -> None:
    """The driver emits no BEGIN of its own (it would skip one before a SAVEPOINT, whose
    release then commits); SQLAlchemy emits it, and foreign keys are on, as on other servers."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")
