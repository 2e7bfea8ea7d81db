"""Celery tasks: eager mode, a real worker on the real Redis broker, and a broker that is down."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from celery import Celery
from celery.worker import WorkController
from fastapi.testclient import TestClient

from app.mail import InMemoryOutbox
from app.tasks import configure_celery, process_large_file
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


def test_send_email_task(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    # The seed asserted nothing here; the eager task must have delivered the welcome email.
    response = client.post("/users", json={"name": "TaskUser", "email": "task@example.com"})
    assert response.status_code == 201
    [message] = email_outbox.messages
    assert message.to == "task@example.com"
    assert "TaskUser" in message.body


def test_register_sends_the_welcome_email(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    body = {"name": "Reg", "email": "reg-task@example.com", "password": "long-enough-pw"}
    assert client.post("/auth/register", json=body).status_code == 201
    assert [message.to for message in email_outbox.messages] == ["reg-task@example.com"]


def test_duplicate_user_sends_no_second_email(
    celery_app: Celery, client: TestClient, email_outbox: InMemoryOutbox
) -> None:
    body = {"name": "Once", "email": "once@example.com"}
    client.post("/users", json=body)
    assert client.post("/users", json=body).status_code == 400
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
    finally:
        configure_celery(worker_resources.settings)
    assert response.status_code == 201
    assert elapsed < 5.0
    assert "could not enqueue the welcome email" in caplog.text
