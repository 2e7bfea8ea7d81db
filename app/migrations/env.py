"""Alembic's environment: which database, and how the migrations run on it.

The database is read when a command runs, never at import: a connection handed over in
`config.attributes["connection"]` (app.schema; pytest-alembic gives an engine there), else
`-x url=...`, else the `sqlalchemy.url` option, else DATABASE_URL. Each revision commits on
its own (MySQL and MariaDB commit DDL anyway), so a failing step leaves the steps before it
recorded. SQLite alters
tables in batch mode (a copy of the table), since its ALTER TABLE cannot change a column.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy.engine import Connection, Engine

from app import models  # noqa: F401  (registers the tables on Base.metadata)
from app.database import Base, build_engine, is_sqlite

config = context.config


class NoDatabaseURLError(RuntimeError):
    """No database was named for the migrations."""


def database_url() -> str:
    """The URL this command runs against (see the module's docstring for the order)."""
    url = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise NoDatabaseURLError(
            "no database to migrate: set DATABASE_URL (e.g. DATABASE_URL=sqlite:///./app.db "
            "alembic upgrade head) or pass -x url=..."
        )
    return url


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=is_sqlite(connection.engine.url),
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_offline() -> None:
    """`alembic upgrade head --sql`: the SQL, printed."""
    context.configure(
        url=database_url(),
        target_metadata=Base.metadata,
        literal_binds=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    given = config.attributes.get("connection")  # pytest-alembic hands over an engine here
    if isinstance(given, Connection):
        run_on(given)
        return
    engine = given if isinstance(given, Engine) else None
    if engine is None:
        engine = build_engine(database_url(), os.environ.get("SQLITE_MODULE") or None)
    try:
        with engine.connect() as connection:
            run_on(connection)
    finally:
        if given is None:
            engine.dispose()


if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)
if context.is_offline_mode():
    run_offline()
else:
    run_online()
