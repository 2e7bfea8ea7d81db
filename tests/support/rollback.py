"""The suite's per-test isolation: a session inside an outer transaction, rolled back at the end.

The `db_session` fixture uses it, and so does the isolation benchmark (scripts/bench), so that
the benchmark measures exactly what the suite does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session


@contextmanager
def rolled_back_session(engine: Engine) -> Iterator[Session]:
    """A session inside an outer transaction that is rolled back when the block ends.

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
