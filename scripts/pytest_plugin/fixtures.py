"""The fixtures every FastAPI + SQLAlchemy service's suite gets from the plugin."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from scripts.pytest_plugin.database_use import plugins_own, plugins_own_work
from scripts.pytest_plugin.engines import worker_engine
from scripts.pytest_plugin.isolation import SchemaMaker, isolated_session
from scripts.pytest_plugin.template import Preparation, SchemaPreparationError
from scripts.pytest_plugin.workers import WorkerServers, provisioned_servers
from scripts.suite import Suite

PREPARATION = pytest.StashKey[Preparation]()


def preparation_of(config: pytest.Config) -> Preparation:
    """The run's `[suite]` table and preparing step (the plugin's `pytest_configure` set it)."""
    return config.stash[PREPARATION]


def worker_id_of(config: pytest.Config) -> str:
    """`gw0`, `gw1`, ... under xdist; `master` without it."""
    workerinput: dict[str, Any] | None = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "master"


@pytest.fixture(scope="session")
def suite_table(pytestconfig: pytest.Config) -> Suite:
    """The `[suite]` table in force."""
    return preparation_of(pytestconfig).suite


@pytest.fixture(scope="session")
def worker_servers(pytestconfig: pytest.Config, suite_table: Suite) -> Iterator[WorkerServers]:
    """This worker's own database, Redis db index and Celery queue name, named by the
    service's variables while the session runs; dropped at its end."""
    with provisioned_servers(worker_id_of(pytestconfig), suite_table.env) as servers:
        yield servers


@pytest.fixture(scope="session")
def engine(worker_servers: WorkerServers) -> Iterator[Engine]:
    """An engine of this worker's database (scripts/pytest_plugin/engines.py). A service whose
    engine is its own (pragmas, events) overrides this fixture with it. Its connections are the
    plugin's, not the service's (scripts/pytest_plugin/database_use.py)."""
    built = plugins_own(worker_engine(worker_servers.database_url, worker_servers.sqlite_module))
    try:
        yield built
    finally:
        built.dispose()


@pytest.fixture(scope="session")
def make_schema(pytestconfig: pytest.Config) -> SchemaMaker:
    """Gives an emptied database the service's schema again: the cell's preparing step."""
    preparation = preparation_of(pytestconfig)

    def prepare(engine: Engine) -> None:
        with plugins_own_work():
            outcome = preparation.run(engine.url.render_as_string(hide_password=False))
        if outcome is not None and outcome.state == "failed":
            raise SchemaPreparationError(outcome)

    return prepare


@pytest.fixture
def db_session(engine: Engine, make_schema: SchemaMaker) -> Iterator[Session]:
    """A session whose changes are undone after the test: a rolled-back SAVEPOINT
    (COMPAT_TEST_ISOLATION=recreate recreates the tables instead)."""
    with isolated_session(engine, make_schema) as session:
        yield session


@pytest.fixture(scope="session")
def cache_url(worker_servers: WorkerServers) -> str:
    """This worker's own Redis db index (skips the test for a service without a cache)."""
    if worker_servers.cache_url is None:
        pytest.skip("the [suite] table names no cache variable (env.cache)")
    return worker_servers.cache_url


@pytest.fixture
def redis_client(cache_url: str) -> Iterator[redis.Redis]:
    """A client of this worker's Redis db index, flushed after the test."""
    client = redis.Redis.from_url(cache_url)
    try:
        yield client
    finally:
        client.flushdb()
        client.close()
