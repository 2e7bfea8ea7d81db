"""Provision one xdist worker: its database, Redis db index, Celery queue and settings."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from app.cache import close_redis_clients
from app.config import Settings, get_settings
from app.database import dispose_engines
from app.tasks import configure_celery, wait_for_publishing
from tests.support.caches import worker_caches_for
from tests.support.databases import provisioner_for
from tests.support.naming import current_run_id, owner_is_dead, worker_resource_name
from tests.support.template import exported_template

DEFAULT_DATABASE_URL = "sqlite://"
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
def provision_worker(worker_id: str) -> Iterator[WorkerResources]:
    """Everything a worker needs, created once and dropped when the block ends; its database
    is a copy of the cell's template (already migrated to the newest revision)."""
    server_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    sqlite_module = os.environ.get("SQLITE_MODULE") or None  # checked once, by the root conftest
    base_redis_url = os.environ.get("REDIS_URL")
    if not base_redis_url:
        raise RuntimeError("REDIS_URL is not set; the root conftest starts a server when it is not")
    name = worker_resource_name(current_run_id(), worker_id)
    provisioner = provisioner_for(server_url)
    provisioner.reap_stale()
    caches = worker_caches_for(base_redis_url)
    caches.reap_dead(f"{name}:reaper", owner_is_dead)
    with ExitStack() as stack:
        database_url = stack.enter_context(
            provisioner.worker_database(name, template=exported_template())
        )
        redis_url = stack.enter_context(caches.claimed(name, worker_id))
        # runs before the claim is given up: what the tests queued is published (or given up)
        # while the database is still this worker's, never into one another worker claims
        stack.callback(wait_for_publishing, PUBLISHING_DRAIN_SECONDS)
        environment = {
            "APP_ENV": "test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "CELERY_QUEUE": name,
            "JWT_SECRET": TEST_JWT_SECRET,
            **CHEAP_ARGON2,
        }
        if sqlite_module:
            environment["SQLITE_MODULE"] = sqlite_module
        settings = stack.enter_context(_app_environment(environment))
        configure_celery(settings)
        yield WorkerResources(name, server_url, database_url, redis_url, name, settings)
