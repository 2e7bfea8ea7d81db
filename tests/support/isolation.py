"""How one test's database changes are undone: a rolled-back SAVEPOINT, or recreated tables.

`savepoint` (the default) joins the test's session into an outer transaction that is rolled
back at the end. `recreate` (COMPAT_TEST_ISOLATION=recreate, the harness's `--isolation
recreate`) lets the test commit for real, then drops every table and runs the migrations
again: what a suite without the SAVEPOINT pattern does, kept as the benchmark's baseline. The
isolation benchmark (scripts/bench/isolation.py) measures `savepoint_session` itself, not a
copy of it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session

from app.schema import upgrade_to_head
from scripts.suite_switches import Isolation, isolation_from


@contextmanager
def savepoint_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back at the end.

    The seed's pattern breaks on session.commit() under SQLAlchemy 2; joining with
    create_savepoint turns each commit into a released SAVEPOINT instead.
    """
    with engine.connect() as connection:
        transaction = connection.begin()
        session = Session(bind=connection, join_transaction_mode="create_savepoint")
        try:
            yield session
        finally:
            session.close()
            transaction.rollback()


@contextmanager
def recreated_tables_session(engine: Engine) -> Iterator[Session]:
    """A plain session whose commits are real; every table (Alembic's own included) is dropped
    at the end and the migrations run again, so the next test starts from empty tables."""
    session = Session(bind=engine)
    try:
        yield session
    finally:
        session.close()
        existing = MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
        upgrade_to_head(engine)


@contextmanager
def isolated_session(engine: Engine, isolation: Isolation | None = None) -> Iterator[Session]:
    """A test's session, isolated as `isolation` says (default: as the environment says)."""
    chosen = isolation_from() if isolation is None else isolation
    session_of = recreated_tables_session if chosen == "recreate" else savepoint_session
    with session_of(engine) as session:
        yield session
