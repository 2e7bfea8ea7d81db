"""Did the service connect to the cell's database? The connections the plugin did not make,
counted while the worker runs, and written down for the cell runner (scripts/server_use.py).

The plugin itself connects to each worker's database: its `engine` fixture (and `db_session`
on it) and its schema step (`make_schema`). A service that reads another variable than the one
the `[suite]` table names starts its own engine on whatever it falls back to (a SQLite file
of its own), and its tests still pass; only the plugin's connections reached the cell's
database. So a connection counts when it is made by an engine the plugin did not build, outside
the plugin's own work, to the cell's database server (its host and port: the worker's database
or one the service's tests make there; for SQLite, a file in the worker's file's folder):
SQLAlchemy tells every engine's new connections to a listener on the `Engine` class, the
service's async engines included (their `sync_engine`). The worker's own database is made
before the count starts and dropped after it ends.

What it cannot see: a connection made outside the suite's process (a server the tests start as
a subprocess) or without SQLAlchemy; scripts/server_use.py says what the cell does then.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import URL, make_url

from scripts.server_use import DATABASE_USE_FILE_ENV, write_database_use

_PLUGINS_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()
_PLUGIN_AT_WORK: ContextVar[bool] = ContextVar("plugin_at_work", default=False)


def plugins_own(engine: Engine) -> Engine:
    """Mark `engine` as the plugin's: its connections are not the service's."""
    _PLUGINS_ENGINES.add(engine)
    return engine


@contextmanager
def plugins_own_work() -> Iterator[None]:
    """The connections made in this block (in this thread) are the plugin's, by whatever
    engine: its schema step builds engines of its own (Alembic's)."""
    token = _PLUGIN_AT_WORK.set(True)
    try:
        yield
    finally:
        _PLUGIN_AT_WORK.reset(token)


def server_key(url: URL) -> tuple[str, ...] | None:
    """What the URLs of one database server share: its host and port (any database on it:
    the service's tests may make their own there, as the bundled migration tests do); for
    SQLite, the folder of the worker's file (the harness's scratch folder, never the one a
    service's default file lies in). None for an in-memory SQLite database."""
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return ("sqlite", str(Path(url.database).expanduser().resolve().parent))
    return ("server", str(url.host), str(url.port))


class ServiceConnections:
    """The connections to the server of one database made by anything but the plugin."""

    def __init__(self, database_url: str) -> None:
        self.server = server_key(make_url(database_url))
        self._count = 0
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def heard(self, connection: Connection) -> None:
        """SQLAlchemy's `engine_connect`: a new connection of any engine in this process."""
        engine = connection.engine
        if engine in _PLUGINS_ENGINES or _PLUGIN_AT_WORK.get():
            return
        if self.server is not None and server_key(engine.url) == self.server:
            with self._lock:
                self._count += 1


@contextmanager
def counted_service_connections(worker: str, database_url: str) -> Iterator[ServiceConnections]:
    """Count the service's connections to `database_url` while the block runs; then write the
    count to the file the cell names in COMPAT_DATABASE_USE_FILE (nothing without one)."""
    counter = ServiceConnections(database_url)
    event.listen(Engine, "engine_connect", counter.heard)
    try:
        yield counter
    finally:
        event.remove(Engine, "engine_connect", counter.heard)
        use_file = os.environ.get(DATABASE_USE_FILE_ENV)
        if use_file:
            write_database_use(Path(use_file), worker, counter.count)
