"""The bundled service's own fixtures (re-exported by tests/integration/conftest.py), with the
seed's names, on top of the harness's plugin (`scripts.pytest_plugin`: `worker_servers`,
`db_session`, `redis_client`)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from celery import Celery
from celery.contrib.testing.worker import start_worker
from celery.worker import WorkController
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from app.auth import create_access_token, hash_password
from app.database import get_engine
from app.mail import InMemoryOutbox, use_email_sender
from app.main import app, get_db
from app.models import User
from app.schema import upgrade_to_head
from app.tasks import celery_config, configure_celery
from scripts.pytest_plugin.workers import WorkerServers
from tests.factories import PostFactory, UserFactory
from tests.support.celery_worker import FailFastWorkController
from tests.support.worker import WorkerResources, service_worker

AUTH_USER_PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="session")
def worker_resources(worker_servers: WorkerServers) -> Iterator[WorkerResources]:
    """This worker's servers (the plugin's), with the app's settings and Celery read from them."""
    with service_worker(worker_servers) as resources:
        yield resources


@pytest.fixture(scope="session")
def engine(worker_resources: WorkerResources) -> Engine:
    """The app's own engine (its SQLite pragmas and events), connected to this worker's
    database: replaces the plugin's."""
    return get_engine()


@pytest.fixture(scope="session")
def make_schema() -> Callable[[Engine], None]:
    """Migrations straight on the engine (COMPAT_TEST_ISOLATION=recreate): replaces the
    plugin's, which runs the whole preparing step."""
    return upgrade_to_head


@pytest.fixture
def client(db_session: Session, worker_resources: WorkerResources) -> Iterator[TestClient]:
    """A TestClient whose requests use the test's rolled-back session and an empty cache."""

    def override_get_db() -> Iterator[Session]:
        yield db_session

    # Rolled-back ids are reused (SQLite), so a cache entry must not outlive its test.
    flushing = redis.Redis.from_url(worker_resources.redis_url)
    try:
        flushing.flushdb()
    finally:
        flushing.close()
    app.dependency_overrides[get_db] = override_get_db
    test_client = TestClient(app)
    try:
        yield test_client
    finally:
        test_client.close()
        app.dependency_overrides.pop(get_db, None)


@pytest.fixture
def factories(db_session: Session) -> Iterator[dict[str, Any]]:
    """The factory-boy factories, bound to the test's session."""
    for factory in (UserFactory, PostFactory):
        factory._meta.sqlalchemy_session = db_session
    try:
        yield {"User": UserFactory, "Post": PostFactory}
    finally:
        for factory in (UserFactory, PostFactory):
            factory._meta.sqlalchemy_session = None


@pytest.fixture
def auth_user(factories: dict[str, Any]) -> User:
    """A real user with a password (AUTH_USER_PASSWORD)."""
    user: User = factories["User"].create(password_hash=hash_password(AUTH_USER_PASSWORD))
    return user


@pytest.fixture
def auth_token(auth_user: User) -> str:
    """A valid access token of `auth_user` (the seed's token belonged to no user)."""
    return create_access_token(auth_user)


@pytest.fixture
def auth_headers(auth_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_token}"}


@pytest.fixture
def email_outbox() -> Iterator[InMemoryOutbox]:
    """Welcome emails land here instead of the log during the test."""
    with use_email_sender(InMemoryOutbox()) as outbox:
        yield outbox


@pytest.fixture
def celery_app(worker_resources: WorkerResources) -> Iterator[Celery]:
    """The app's Celery, in eager mode (tasks run synchronously) for the test."""
    celery = configure_celery(worker_resources.settings, task_always_eager=True)
    try:
        yield celery
    finally:
        configure_celery(worker_resources.settings)


@pytest.fixture
def live_celery_worker(worker_resources: WorkerResources) -> Iterator[WorkController]:
    """A real Celery worker thread consuming this worker's queue from the real Redis broker."""
    settings = worker_resources.settings
    options = {**celery_config(settings)["broker_transport_options"], "polling_interval": 0.1}
    # A short BRPOP timeout lets the worker thread stop in ~0.1 s instead of 1 s.
    celery = configure_celery(settings, broker_transport_options=options)
    try:
        with start_worker(
            celery,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            queues=[worker_resources.celery_queue],
            loglevel="WARNING",
            shutdown_timeout=15.0,
            WorkController=FailFastWorkController,
        ) as worker:
            yield worker
    finally:
        configure_celery(settings)


class CommittedEmails:
    """Unique emails for users a test commits for real (through the app's own sessions)."""

    def __init__(self, prefix: str) -> None:
        self._prefix = prefix
        self.issued: list[str] = []

    def new(self) -> str:
        email = f"{self._prefix}-{len(self.issued)}@example.com"
        self.issued.append(email)
        return email


@pytest.fixture
def committed_emails(engine: Engine, request: pytest.FixtureRequest) -> Iterator[CommittedEmails]:
    """Emails for committed users; those users (and their posts) are deleted after the test."""
    emails = CommittedEmails(re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40])
    try:
        yield emails
    finally:
        if emails.issued:
            with engine.begin() as connection:
                connection.execute(delete(User).where(User.email.in_(emails.issued)))
