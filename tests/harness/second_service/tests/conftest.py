"""The harness's plugin gives each worker its own database and Redis db (named by
NOTES_DATABASE_URL and NOTES_CACHE_URL, as matrix.toml's `[suite] env` says), `db_session`
and `redis_client`; the service adds its app's client and its tables."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from notesvc.models import Base
from sqlalchemy.engine import Engine

pytest_plugins = ["scripts.pytest_plugin"]


@pytest.fixture(scope="session")
def tables(engine: Engine) -> None:
    Base.metadata.create_all(engine)


@pytest.fixture(scope="session")
def client(worker_servers: object) -> Iterator[TestClient]:
    """The app, started (its lifespan reads the worker's NOTES_* variables)."""
    from notesvc.main import app

    with TestClient(app) as started:
        yield started
