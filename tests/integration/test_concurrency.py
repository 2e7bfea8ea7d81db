"""The concurrency group: races and bursts against a real uvicorn on the cell's own servers.

Real threads send a bounded number of requests at once to the app served by uvicorn, whose
sessions commit for real on this worker's database (not the test's SAVEPOINT): deletes racing
writes, registrations of one email, logins beyond the password hashing pool. No answer may be
a 5xx, and each must be one the route documents. Each test records its request and 5xx counts
as JUnit properties (`requests`, `server_errors`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app import auth
from app.auth import hashing_pool
from app.config import get_settings
from app.conflicts import retried_on_conflict
from tests.support.fixtures import CommittedEmails
from tests.support.live_server import live_app_server
from tests.support.race_probes import (
    ProbeResult,
    account_delete_race,
    all_at_once,
    login_burst,
    post_delete_race,
    same_email_registrations,
)

pytestmark = pytest.mark.concurrency

RecordProperty = Callable[[str, object], None]


@pytest.fixture
def record_counts(request: pytest.FixtureRequest) -> RecordProperty:
    """Adds a property to the test's JUnit entry. pytest's record_property does the same but
    warns (an error here) when the suite runs in one process, whose JUnit family is xunit2."""

    def record(name: str, value: object) -> None:
        request.node.user_properties.append((name, value))

    return record


@pytest.fixture
def live_http(committed_emails: CommittedEmails) -> Iterator[httpx.Client]:
    """A client of the app under a real uvicorn (users it creates are deleted afterwards)."""
    with live_app_server() as base_url, httpx.Client(base_url=base_url, timeout=60) as http:
        yield http


def _assert_documented(result: ProbeResult, record_counts: RecordProperty) -> None:
    record_counts("requests", result.requests)
    record_counts("server_errors", result.server_errors)
    print(result.summary())  # in the cell's pytest.log with -rA / on failure
    assert result.unexpected == [], result.summary()
    assert result.server_errors == 0


def test_a_post_deleted_while_its_author_updates_it_is_404_never_500(
    live_http: httpx.Client, committed_emails: CommittedEmails, record_counts: RecordProperty
) -> None:
    result = post_delete_race(live_http, committed_emails.new)
    _assert_documented(result, record_counts)
    assert result.count("DELETE /posts/{id}", 204) == 2  # one per round


def test_an_account_deleted_during_its_own_writes_is_401_never_500(
    live_http: httpx.Client, committed_emails: CommittedEmails, record_counts: RecordProperty
) -> None:
    result = account_delete_race(live_http, committed_emails.new)
    _assert_documented(result, record_counts)
    assert result.count("DELETE /users/{id}", 204) == 2
    assert result.count("GET /users/{id} afterwards", 404) == 2


def test_parallel_registrations_of_one_email_create_one_account(
    live_http: httpx.Client, committed_emails: CommittedEmails, record_counts: RecordProperty
) -> None:
    result = same_email_registrations(live_http, committed_emails.new())
    _assert_documented(result, record_counts)
    assert result.count("POST /auth/register", 201) == 1


class CountingContext:
    """Wraps the password context: counts the hashes running at once, each made to last a
    little longer (HASH_SECONDS) so that a burst's hashes would overlap if allowed to."""

    HASH_SECONDS = 0.05

    def __init__(self, real: Any) -> None:
        self._real = real
        self._lock = threading.Lock()
        self._running = 0
        self.most_at_once = 0

    def _counted(self, work: Callable[[], Any]) -> Any:
        with self._lock:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            threading.Event().wait(self.HASH_SECONDS)
            return work()
        finally:
            with self._lock:
                self._running -= 1

    def dummy_verify(self) -> Any:
        return self._counted(self._real.dummy_verify)

    def verify(self, password: str, password_hash: str) -> Any:
        return self._counted(lambda: self._real.verify(password, password_hash))

    def hash(self, password: str) -> Any:
        return self._counted(lambda: self._real.hash(password))


def test_a_login_burst_hashes_at_most_the_pool_at_once_and_is_401_or_429_never_500(
    live_http: httpx.Client,
    committed_emails: CommittedEmails,
    record_counts: RecordProperty,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each hash holds ARGON2_MEMORY_COST_KIB (64 MiB by default) while it runs: before the
    # pool, 40 logins hashed 40 at once (2.5 GB), and held every worker thread.
    counting = CountingContext(auth.password_context())
    monkeypatch.setattr(auth, "password_context", lambda settings=None: counting)
    result = login_burst(live_http, committed_emails.new, count=40)
    _assert_documented(result, record_counts)
    assert 1 <= counting.most_at_once <= get_settings().password_hashing_slots


@pytest.fixture
def one_hashing_slot(monkeypatch: pytest.MonkeyPatch) -> None:
    """PASSWORD_HASHING_SLOTS=1, no queue, a short wait: the pool is easy to fill."""
    settings = get_settings()
    monkeypatch.setattr(settings, "password_hashing_slots", 1)
    monkeypatch.setattr(settings, "password_hashing_queue", 0)
    monkeypatch.setattr(settings, "password_hashing_wait_seconds", 0.5)


def test_with_the_hashing_pool_full_logins_and_registrations_are_429_with_retry_after(
    one_hashing_slot: None,
    live_http: httpx.Client,
    committed_emails: CommittedEmails,
    record_counts: RecordProperty,
) -> None:
    login = {"email": committed_emails.new(), "password": "whatever-password"}
    register = {"name": "Late", "email": committed_emails.new(), "password": "long-enough"}
    result = ProbeResult("logins and registrations with the hashing pool full")
    with hashing_pool().slot():  # the only slot, held here: every request is beyond the pool
        answers = all_at_once(
            [lambda: live_http.post("/auth/login", json=login)] * 10
            + [lambda: live_http.post("/auth/register", json=register)] * 10
        )
    for response in answers:
        result.record(f"POST {response.request.url.path}", response.status_code, {429})
        assert response.headers["Retry-After"] == "1"
    _assert_documented(result, record_counts)
    # The slot is free again: the same requests are served.
    assert live_http.post("/auth/login", json=login).status_code == 401
    assert live_http.post("/auth/register", json=register).status_code == 201


class _DriverError(Exception):
    """Stands for a driver's error: MySQL/MariaDB put the error code first in `args`."""


@pytest.mark.parametrize(
    ("code", "runs"), [(1020, 2), (1213, 2), (1062, 1)], ids=["1020", "1213", "1062"]
)
def test_a_write_the_database_asks_to_restart_runs_again_with_a_fresh_session(
    db_session: Session, code: int, runs: int
) -> None:
    # MariaDB 11.6+ (snapshot isolation) refuses an UPDATE of a row changed since the
    # transaction's snapshot with 1020; the mariadb-11.8 cell's races gave 25 x 500 of it.
    attempts: list[int] = []

    @retried_on_conflict
    def route(db: Session) -> str:
        attempts.append(len(attempts))
        if len(attempts) == 1:
            raise OperationalError("UPDATE posts ...", {}, _DriverError(code, "try restarting"))
        return "done"

    if runs == 1:  # anything else is not retried
        with pytest.raises(OperationalError):
            route(db=db_session)
    else:
        assert route(db=db_session) == "done"
    assert len(attempts) == runs
