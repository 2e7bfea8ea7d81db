"""One fuzzing scenario at a time, each from the same state: a SAVEPOINT per scenario.

The fuzz group runs inside the test's rolled-back transaction; within it, each stateful
scenario gets its own SAVEPOINT, its own session for the app and its own logged-in user, and
is rolled back at the end, so that no scenario sees what an earlier one left behind (the
state machine must behave the same when Hypothesis replays a scenario).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from app.auth import create_access_token, hash_password
from app.database import get_db
from app.main import app
from app.models import User
from app.timestamps import utc_now

SCENARIO_PASSWORD = "scenario-password"


@contextmanager
def rolled_back_scenario(connection: Connection, cache: redis.Redis) -> Iterator[dict[str, str]]:
    """A scenario's state on `connection`; yields the Authorization header of its user."""
    savepoint = connection.begin_nested()
    session = Session(bind=connection, join_transaction_mode="create_savepoint")
    previous = app.dependency_overrides.get(get_db)

    def scenario_db() -> Iterator[Session]:
        yield session

    app.dependency_overrides[get_db] = scenario_db
    try:
        user = User(
            name="Scenario",
            email="scenario@example.com",
            password_hash=hash_password(SCENARIO_PASSWORD),
            created_at=utc_now(),
        )
        session.add(user)
        session.commit()
        yield {"Authorization": f"Bearer {create_access_token(user)}"}
    finally:
        if previous is None:
            app.dependency_overrides.pop(get_db, None)
        else:
            app.dependency_overrides[get_db] = previous
        session.close()
        savepoint.rollback()
        cache.flushdb()  # cached users of rolled-back rows
