"""Many logins and registrations at once: no 500, on every backend (SQLite included).

Past the password hashing pool a request is answered 429 with Retry-After; retried as told,
every one succeeds.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient
from passlib.context import CryptContext
from sqlalchemy import Engine, insert

from app.config import Settings
from app.main import app
from app.models import User
from app.routers import auth as auth_routes
from tests.support.fixtures import CommittedEmails
from tests.support.live_server import live_app_server
from tests.support.race_probes import all_at_once, retrying_busy

PARALLEL = 40
PASSWORD = "parallel-password"


def _production_cost_hash() -> str:
    """A hash at the service's default argon2 cost: verifying it takes real time."""
    defaults = Settings(jwt_secret="unused")
    context = CryptContext(
        schemes=["argon2"],
        argon2__time_cost=defaults.argon2_time_cost,
        argon2__memory_cost=defaults.argon2_memory_cost_kib,
        argon2__parallelism=defaults.argon2_parallelism,
    )
    return str(context.hash(PASSWORD))


def _committed_users(engine: Engine, emails: list[str], password_hash: str) -> None:
    rows = [
        {"name": "Parallel", "email": email, "password_hash": password_hash} for email in emails
    ]
    with engine.begin() as connection:
        connection.execute(insert(User), rows)


@pytest.mark.slow
def test_forty_parallel_logins_and_registrations_give_no_500(
    engine: Engine, committed_emails: CommittedEmails
) -> None:
    login_emails = [committed_emails.new() for _ in range(PARALLEL)]
    register_emails = [committed_emails.new() for _ in range(PARALLEL)]
    _committed_users(engine, login_emails, _production_cost_hash())

    with live_app_server() as base_url, httpx.Client(base_url=base_url, timeout=120) as http:

        def login(email: str) -> int:
            body = {"email": email, "password": PASSWORD}
            return retrying_busy(lambda: http.post("/auth/login", json=body)).status_code

        def register(email: str) -> int:
            body = {"name": "New", "email": email, "password": PASSWORD}
            return retrying_busy(lambda: http.post("/auth/register", json=body)).status_code

        logins = all_at_once([lambda email=email: login(email) for email in login_emails])
        assert logins == [200] * PARALLEL
        registrations = all_at_once(
            [lambda email=email: register(email) for email in register_emails]
        )
        assert registrations == [201] * PARALLEL


def test_login_holds_no_database_connection_while_it_checks_the_password(
    engine: Engine, committed_emails: CommittedEmails, monkeypatch: pytest.MonkeyPatch
) -> None:
    # On SQLite an open transaction holds the write lock; elsewhere a pooled connection.
    email = committed_emails.new()
    _committed_users(engine, [email], _production_cost_hash())
    checked_out: list[int] = []
    verify = auth_routes.verify_password

    def watched_verify(password: str, password_hash: str | None) -> bool:
        checked_out.append(engine.pool.checkedout())
        return verify(password, password_hash)

    monkeypatch.setattr(auth_routes, "verify_password", watched_verify)
    with TestClient(app) as client:  # the app's own sessions, not the test's transaction
        assert (
            client.post("/auth/login", json={"email": email, "password": PASSWORD}).status_code
            == 200
        )
    assert checked_out == [0]
