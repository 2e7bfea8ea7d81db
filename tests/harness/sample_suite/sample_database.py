"""The cell's database answers, and one real difference between backends."""

from __future__ import annotations

import os

import sqlalchemy as sa

from tests.harness.sample_suite.planted import fail_if_broken_on_purpose


def _engine() -> sa.Engine:
    return sa.create_engine(os.environ["DATABASE_URL"], poolclass=sa.pool.NullPool)


def test_database_answers() -> None:
    fail_if_broken_on_purpose("test_database_answers")
    engine = _engine()
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT 1 + 1")).scalar_one() == 2
    finally:
        engine.dispose()


def test_string_equality_is_case_sensitive() -> None:
    """Fails on MySQL/MariaDB: their default collation says 'a' = 'A'."""
    engine = _engine()
    try:
        with engine.connect() as connection:
            equal = connection.execute(sa.text("SELECT 'a' = 'A'")).scalar_one()
    finally:
        engine.dispose()
    assert not equal, f"{engine.dialect.name} compares 'a' = 'A' as equal (collation)"
