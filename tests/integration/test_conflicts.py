"""Which database errors make a write route run again (app.conflicts.must_restart)."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import DBAPIError

from app.conflicts import must_restart


class _Psycopg2Error(Exception):
    pgcode = "40001"


class _Psycopg3Error(Exception):
    sqlstate = "40P01"


class _UniqueViolationError(Exception):
    sqlstate = "23505"


@pytest.mark.parametrize(
    ("original", "restart"),
    [
        (_Psycopg2Error(), True),  # psycopg2 names the SQLSTATE pgcode
        (_Psycopg3Error(), True),  # psycopg 3 names it sqlstate
        (_UniqueViolationError(), False),
        (Exception(1020, "Record has changed since last read"), True),  # MariaDB 11.6+
        (Exception(1213, "Deadlock found"), True),
        (Exception(1062, "Duplicate entry"), False),
    ],
)
def test_a_restart_is_asked_for_by_its_code_whatever_the_driver(
    original: Exception, restart: bool
) -> None:
    assert must_restart(DBAPIError("UPDATE posts", {}, original)) is restart
