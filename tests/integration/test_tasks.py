"""Celery tasks: eager mode, a real worker on the real Redis broker, a broker that is down,
and one that is silent."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from celery import Celery
from celery.worker import WorkController
from fastapi.testclient import TestClient

from app.config import get_settings
from app.mail import InMemoryOutbox, LoggingEmailSender, welcome_email
from app.tasks import (
    configure_celery,
    enqueue_welcome_email,
    get_publisher,
    process_large_file,
    send_welcome_email,
)
from tests.support.fixtures import CommittedEmails
from tests.support.live_server import live_app_server
from tests.support.race_probes import all_at_once
from tests.support.tcp_proxy import silent_server
from tests.support.worker import WorkerResources

EMAIL_DEADLINE_SECONDS = 15.0


def _wait_for_message(outbox: InMemoryOutbox, to: str) -> bool:
    """Poll the outbox until a message to `to` arrives or the deadline passes."""
    deadline = time.monotonic() + EMAIL_DEADLINE_SECONDS
    arrived = threading.Event()
    while time.monotonic() < deadline:
        if any(message.to == to for message in outbox.messages):
            return True
        arrived.wait(0.01)
    return False


def _published() -> None:
    """Wait until the publishing thread has handed on every queued task."""
    assert get_publisher().wait_until_idle(EMAIL_DEADLINE_SECONDS)


def test_send_email_task(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    # The seed asserted nothing here; the eager task must have delivered the welcome email.
    response = client.post("/users", json={"name": "TaskUser", "email": "task@example.com"})
    assert response.status_code == 201
    _published()
    [message] = email_outbox.messages
    assert message.to == "task@example.com"
    assert "TaskUser" in message.body


def test_register_sends_the_welcome_email(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    body = {"name": "Reg", "email": "reg-task@example.com", "password": "long-enough-pw"}
    assert client.post("/auth/register", json=body).status_code == 201
    _published()
    assert [message.to for message in email_outbox.messages] == ["reg-task@example.com"]


def test_duplicate_user_sends_no_second_email(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    body = {"name": "Once", "email": "once@example.com"}
    client.post("/users", json=body)
    assert client.post("/users", json=body).status_code == 400
    _published()
    assert len(email_outbox.messages) == 1


def test_long_running_task(celery_app: Celery) -> None:
    result = process_large_file.delay(file_id=123)
    assert result.successful()
    assert result.result == {"processed": 123, "status": "complete"}


@pytest.mark.celery_worker
@pytest.mark.slow
def test_real_worker_runs_tasks_from_the_redis_broker(
    live_celery_worker: WorkController,
    client: TestClient,
    email_outbox: InMemoryOutbox,
    worker_resources: WorkerResources,
) -> None:
    result = process_large_file.apply_async(kwargs={"file_id": 7})
    assert result.get(timeout=EMAIL_DEADLINE_SECONDS) == {"processed": 7, "status": "complete"}

    response = client.post("/users", json={"name": "Queued", "email": "queued@example.com"})
    assert response.status_code == 201
    assert _wait_for_message(email_outbox, "queued@example.com")
    assert live_celery_worker.hostname is not None
    assert worker_resources.celery_queue in live_celery_worker.app.amqp.queues


def test_user_creation_survives_a_broker_that_is_down(
    client: TestClient, worker_resources: WorkerResources, caplog: pytest.LogCaptureFixture
) -> None:
    dead_broker = worker_resources.settings.model_copy(
        update={"celery_broker_url": "redis://127.0.0.1:1/0"}
    )
    configure_celery(dead_broker)
    try:
        started = time.monotonic()
        with caplog.at_level(logging.ERROR, logger="app.tasks"):
            response = client.post("/users", json={"name": "Down", "email": "down@example.com"})
            elapsed = time.monotonic() - started
            _published()
    finally:
        configure_celery(worker_resources.settings)
    assert response.status_code == 201
    assert elapsed < 5.0
    assert "could not enqueue a welcome email" in caplog.text
    assert "down@example.com" not in caplog.text  # no address in the logs


def test_the_default_sender_logs_no_address(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="app.mail"):
        LoggingEmailSender().send(welcome_email("someone@example.com", "Someone"))
    assert "someone" not in caplog.text
    assert "example.com" in caplog.text


@pytest.fixture
def silent_broker(
    monkeypatch: pytest.MonkeyPatch, worker_resources: WorkerResources
) -> Iterator[float]:
    """The broker is a port that accepts connections and never answers (the cache works);
    yields the configured socket timeout."""
    with silent_server() as port:
        settings = get_settings()
        monkeypatch.setattr(settings, "celery_broker_url", f"redis://127.0.0.1:{port}/0")
        configure_celery(settings)
        try:
            yield settings.redis_socket_timeout_seconds
        finally:
            monkeypatch.undo()
            configure_celery(worker_resources.settings)


def test_a_publish_to_a_silent_broker_gives_up_within_its_attempts_timeouts(
    silent_broker: float,
) -> None:
    started = time.monotonic()
    assert enqueue_welcome_email("silent@example.com", "Silent") is False
    elapsed = time.monotonic() - started
    # The cache's timeout bounds the publish (one or two of them, with a margin for a loaded
    # machine): before, a silent broker cost it ~8 timeouts (2.1 s)
    assert elapsed < 6 * silent_broker


THREAD_POOL_SIZE = 40  # anyio's default: the threads FastAPI runs sync routes and tasks in


@pytest.fixture
def publishes_that_never_end(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every publish blocks until the test ends: a broker that holds on for ever."""
    release = threading.Event()

    def stuck(*_args: object, **_kwargs: object) -> None:
        release.wait(timeout=60)

    monkeypatch.setattr(send_welcome_email, "apply_async", stuck)
    try:
        yield
    finally:
        release.set()
        _published()  # before the real apply_async is back


def _slowest_of_parallel_reads(http: httpx.Client, path: str, count: int) -> float:
    def timed() -> float:
        started = time.monotonic()
        assert http.get(path).status_code == 200
        return time.monotonic() - started

    return max(all_at_once([timed] * count))


def test_a_broker_that_never_answers_holds_up_no_request(
    publishes_that_never_end: None, committed_emails: CommittedEmails
) -> None:
    # A real server and its thread pool: before, each POST /users left a pool thread
    # publishing; with one per thread, every later request waited for a free one.
    with live_app_server() as base_url, httpx.Client(base_url=base_url, timeout=10) as http:
        first = http.post("/users", json={"name": "Quiet", "email": committed_emails.new()})
        path = f"/users/{first.json()['id']}"
        before = _slowest_of_parallel_reads(http, path, 30)
        emails = [committed_emails.new() for _ in range(THREAD_POOL_SIZE)]
        created = all_at_once(
            [
                lambda email=email: http.post("/users", json={"name": "Q", "email": email})
                for email in emails
            ]
        )
        assert [response.status_code for response in created] == [201] * THREAD_POOL_SIZE
        after = _slowest_of_parallel_reads(http, path, 30)
    # The same reads, with a publish stuck for every pool thread's worth of POSTs: served
    # (before, they never were: every thread was held). The margin is for a loaded machine.
    timeout = get_settings().redis_socket_timeout_seconds
    assert after < 5 * before + 4 * timeout, (before, after)
