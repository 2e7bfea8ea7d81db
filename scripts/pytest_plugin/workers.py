"""One xdist worker's own servers: its database (a copy of the cell's template), its part of
the cache server (a Redis db index) and its Celery queue's name, handed to the service under
the `[suite]` table's environment names while the worker runs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import pytest

from scripts.pytest_plugin.caches import worker_caches_for
from scripts.pytest_plugin.database_use import counted_service_connections
from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.naming import current_run_id, owner_is_dead, worker_resource_name
from scripts.pytest_plugin.template import exported_template
from scripts.suite import SuiteEnv

SQLITE_FILES_URL = "sqlite://"
"""The server-level database URL when the suite is given none: SQLite files."""


@dataclass(frozen=True)
class WorkerServers:
    """What one worker was given."""

    name: str
    """`ct_<epoch>_<uid6>_<worker>`: its database's name, and its Celery queue's."""
    server_url: str
    """The server-level database URL the run was given."""
    database_url: str
    """This worker's own database."""
    cache_url: str | None
    """This worker's own Redis db index; None for a service without a cache."""
    sqlite_module: str | None = None

    @property
    def queue(self) -> str:
        """This worker's own Celery queue."""
        return self.name


def server_database_url(names: SuiteEnv) -> str:
    """The server-level database URL of this run."""
    return os.environ.get(names.database) or SQLITE_FILES_URL


@contextmanager
def provisioned_servers(worker_id: str, names: SuiteEnv) -> Iterator[WorkerServers]:
    """Everything a worker needs, created once and dropped when the block ends (leftovers of
    killed runs reaped first); the service's variables name them meanwhile."""
    server_url = server_database_url(names)
    sqlite_module = (os.environ.get(names.sqlite_module) or None) if names.sqlite_module else None
    name = worker_resource_name(current_run_id(), worker_id)
    provisioner = provisioner_for(server_url, names.database)
    provisioner.reap_stale()
    with ExitStack() as stack:
        database_url = stack.enter_context(
            provisioner.worker_database(name, template=exported_template())
        )
        # counted until just before the database is dropped
        stack.enter_context(counted_service_connections(name, database_url))
        cache_url = None
        if names.cache:
            base_cache_url = os.environ.get(names.cache)
            if not base_cache_url:
                raise RuntimeError(
                    f"{names.cache} is not set; the suite's plugin starts a server when it is not"
                )
            caches = worker_caches_for(base_cache_url, names.cache)
            caches.reap_dead(f"{name}:reaper", owner_is_dead)
            cache_url = stack.enter_context(caches.claimed(name, worker_id))
        servers = WorkerServers(name, server_url, database_url, cache_url, sqlite_module)
        stack.enter_context(service_environment(servers, names))
        yield servers


@contextmanager
def service_environment(servers: WorkerServers, names: SuiteEnv) -> Iterator[None]:
    """The service's variables name this worker's servers while the block runs."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(names.database, servers.database_url)
        if servers.cache_url is not None:
            patch.setenv(names.cache, servers.cache_url)
            if names.broker:  # the worker's broker is its own Redis db
                patch.setenv(names.broker, servers.cache_url)
        yield
