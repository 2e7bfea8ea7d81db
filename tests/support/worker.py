"""The bundled service's side of one xdist worker: its settings and Celery, read from the
servers the harness's plugin gave the worker (`scripts.pytest_plugin.workers`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from app.cache import close_redis_clients
from app.config import Settings, get_settings
from app.database import dispose_engines
from app.tasks import configure_celery, wait_for_publishing
from scripts.pytest_plugin.workers import WorkerServers

PUBLISHING_DRAIN_SECONDS = 10.0
TEST_JWT_SECRET = "integration-suite-secret-0123456789abcdef0123456789"

# Argon2 at its cheapest legal cost (1 pass, 8 KiB, 1 lane): still real argon2 hashes,
# ~0.1 ms instead of ~0.1 s each, so the suite stays fast.
CHEAP_ARGON2 = {"ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST_KIB": "8", "ARGON2_PARALLELISM": "1"}


@dataclass(frozen=True)
class WorkerResources:
    """What one worker was given: names and URLs, and the settings the app reads."""

    name: str
    server_url: str
    database_url: str
    redis_url: str
    celery_queue: str
    settings: Settings


@contextmanager
def _app_environment(environment: dict[str, str]) -> Iterator[Settings]:
    """Set the app's environment variables for this worker process and re-read the settings."""
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
            patch.delenv(variable, raising=False)  # the worker's broker is its own Redis db
        for variable, value in environment.items():
            patch.setenv(variable, value)
        get_settings.cache_clear()
        try:
            yield get_settings()
        finally:
            dispose_engines()
            close_redis_clients()
            get_settings.cache_clear()


@contextmanager
def service_worker(servers: WorkerServers) -> Iterator[WorkerResources]:
    """The app's settings and Celery for this worker's servers, while the block runs."""
    if servers.cache_url is None:
        raise RuntimeError("the bundled service needs a cache: its [suite] env.cache is empty")
    with ExitStack() as stack:
        # runs before the claim is given up: what the tests queued is published (or given up)
        # while the database is still this worker's, never into one another worker claims
        stack.callback(wait_for_publishing, PUBLISHING_DRAIN_SECONDS)
        environment = {
            "APP_ENV": "test",
            "CELERY_QUEUE": servers.queue,
            "JWT_SECRET": TEST_JWT_SECRET,
            **CHEAP_ARGON2,
        }
        settings = stack.enter_context(_app_environment(environment))
        configure_celery(settings)
        yield WorkerResources(
            servers.name,
            servers.server_url,
            servers.database_url,
            servers.cache_url,
            servers.queue,
            settings,
        )
