"""The plugin's ways of isolating a test (`scripts.pytest_plugin.isolation`), with the bundled
service's migrations as the schema `recreate` builds again. The isolation benchmark
(scripts/bench/isolation.py) measures these, not copies of them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.schema import upgrade_to_head
from scripts.pytest_plugin import isolation
from scripts.pytest_plugin.isolation import savepoint_session
from scripts.suite_switches import Isolation

__all__ = ["isolated_session", "recreated_tables_session", "savepoint_session"]


@contextmanager
def recreated_tables_session(engine: Engine) -> Iterator[Session]:
    """Real commits; the tables dropped and migrated again afterwards."""
    with isolation.recreated_tables_session(engine, upgrade_to_head) as session:
        yield session


@contextmanager
def isolated_session(engine: Engine, chosen: Isolation | None = None) -> Iterator[Session]:
    """A test's session, isolated as `chosen` says (default: as the environment says)."""
    with isolation.isolated_session(engine, upgrade_to_head, chosen) as session:
        yield session
