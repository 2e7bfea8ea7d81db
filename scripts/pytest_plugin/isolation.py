"""How one test's database changes are undone: a rolled-back SAVEPOINT, or recreated tables.

`savepoint` (the default) joins the test's session into an outer transaction that is rolled
back at the end. `recreate` (COMPAT_TEST_ISOLATION=recreate, the harness's `--isolation
recreate`) lets the test commit for real, then drops every table and prepares the schema again:
what a suite without the SAVEPOINT pattern does, kept as the benchmark's baseline.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, MetaData
from sqlalchemy.orm import Session

from scripts.suite_switches import Isolation, isolation_from

SchemaMaker = Callable[[Engine], None]
"""Gives an emptied database the service's schema again."""


@contextmanager
def savepoint_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back at the end.

    The common pattern breaks on session.commit() under SQLAlchemy 2; joining with
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
def recreated_tables_session(engine: Engine, make_schema: SchemaMaker) -> Iterator[Session]:
    """A plain session whose commits are real; every table (Alembic's own included) is dropped
    at the end and `make_schema` runs again, so the next test starts from empty tables."""
    session = Session(bind=engine)
    try:
        yield session
    finally:
        session.close()
        existing = MetaData()
        existing.reflect(engine)
        existing.drop_all(engine)
        make_schema(engine)


@contextmanager
def isolated_session(
    engine: Engine, make_schema: SchemaMaker, isolation: Isolation | None = None
) -> Iterator[Session]:
    """A test's session, isolated as `isolation` says (default: as the environment says)."""
    chosen = isolation_from() if isolation is None else isolation
    if chosen == "recreate":
        with recreated_tables_session(engine, make_schema) as session:
            yield session
    else:
        with savepoint_session(engine) as session:
            yield session
