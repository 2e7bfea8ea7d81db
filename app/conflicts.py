"""Write routes that the database asks to run again: a deadlock, a serialization failure, or
MariaDB's snapshot isolation (11.6+: "Record has changed since last read ... try restarting
transaction", error 1020) when concurrent requests change the same rows.

`retried_on_conflict` rolls the route's session back and runs the route again, a few times.
On the next attempt the session reloads what it reads: a row deleted meanwhile is then
simply not there (404), and so is the caller's own account (401).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import ObjectDeletedError

from app.deps import caller_gone

log = logging.getLogger(__name__)

ATTEMPTS = 5
# MySQL/MariaDB: 1213 deadlock, 1020 record changed since last read (snapshot isolation)
_MYSQL_RESTART_CODES = frozenset({1020, 1213})
# PostgreSQL SQLSTATEs: serialization_failure, deadlock_detected
_POSTGRES_RESTART_STATES = frozenset({"40001", "40P01"})

P = ParamSpec("P")
T = TypeVar("T")


def must_restart(error: DBAPIError) -> bool:
    """True when the database refused the transaction and asks for it to be run again."""
    original = error.orig
    # the SQLSTATE: psycopg2 calls it pgcode, psycopg 3 sqlstate
    state = getattr(original, "pgcode", None) or getattr(original, "sqlstate", None)
    if state in _POSTGRES_RESTART_STATES:
        return True
    arguments: tuple[object, ...] = getattr(original, "args", ())
    return bool(arguments) and arguments[0] in _MYSQL_RESTART_CODES


def retried_on_conflict(route: Callable[P, T]) -> Callable[P, T]:
    """Run `route` (whose session is its `db` argument) again after a rollback when the
    database asks for a restart; an account found deleted on a later attempt is 401."""

    @functools.wraps(route)
    def retried(*args: P.args, **kwargs: P.kwargs) -> T:
        db = kwargs["db"]
        assert isinstance(db, Session)
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return route(*args, **kwargs)
            except DBAPIError as error:
                if attempt == ATTEMPTS or not must_restart(error):
                    raise
                log.info("%s: restarting the transaction (%s)", route.__name__, error.orig)
                db.rollback()
            except ObjectDeletedError:
                # the caller (the only row kept across attempts) was deleted meanwhile
                db.rollback()
                raise caller_gone() from None
        raise AssertionError("unreachable")  # pragma: no cover

    return retried
