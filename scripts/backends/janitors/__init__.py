"""What a backend gives the suite so each worker has its own database (or cache index).

The suite's fixtures ask the registry for the backend that accepts their URL's scheme
(`scripts.backends.backend_for_url`) and get its janitor:

    janitor = backend.worker_databases(server_url, names)   # a database backend
    janitor.reap_stale()                                     # what killed runs left
    with janitor.worker_database(name, template=template) as url: ...

    caches = backend.worker_caches(redis_url)                # a cache backend
    with caches.claimed(holder, worker_id) as url: ...

The implementations (`sql_databases`, `redis_indexes`) import their drivers; this module
and the backend modules stay on the standard library, since `noxfile.py` reads the registry.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass


class UnsupportedDatabaseError(ValueError):
    """The suite's database URL names a backend the suite cannot provision."""


class DatabaseUnreachableError(RuntimeError):
    """The suite's database URL names a server that does not answer, or refuses the suite."""


class CacheUnreachableError(RuntimeError):
    """The suite's cache URL is malformed, names no cache the suite knows, or a server that does not
    answer or refuses the suite."""


@dataclass(frozen=True)
class SuiteNames:
    """How the suite names what it creates, and tells a leftover of a finished run."""

    prefix: str
    """Every database of the suite's starts with it (`ct_`)."""
    is_stale: Callable[[str, float], bool]
    """(name, now) -> True for a leftover of a run that is over or dead."""


class WorkerDatabases(ABC):
    """Creates and drops one worker's database; `worker_database` pairs the two."""

    @abstractmethod
    def create(self, name: str) -> str:
        """Create database `name`; return a URL that connects to it."""

    @abstractmethod
    def copy(self, template: str, name: str) -> str:
        """Create database `name` as a copy of database `template` (its tables, their rows,
        indexes and constraints); return a URL that connects to it. Nothing may be connected
        to `template` meanwhile."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Drop database `name` (and anything that belongs to it), if it exists."""

    @abstractmethod
    def list_databases(self) -> list[str]:
        """The suite's databases there (any run)."""

    @abstractmethod
    def reap_stale(self) -> list[str]:
        """Drop the suite's databases whose run is over or dead; their names."""

    @abstractmethod
    def check(self) -> None:
        """`DatabaseUnreachableError` (or `UnsupportedDatabaseError` for a missing driver)
        when the suite cannot create its databases there."""

    @contextmanager
    def worker_database(self, name: str, template: str | None = None) -> Iterator[str]:
        """Create database `name` (empty, or a copy of `template`), yield its URL, drop it
        afterwards."""
        url = self.create(name) if template is None else self.copy(template, name)
        try:
            yield url
        finally:
            self.drop(name)


class WorkerCaches(ABC):
    """Gives each worker a part of a cache server of its own (a Redis db index)."""

    @abstractmethod
    def check(self) -> None:
        """Raise, saying how to fix it, when the server does not answer or refuses the suite."""

    @abstractmethod
    def reap_dead(self, reaper: str, owner_is_dead: Callable[[str], bool]) -> None:
        """Empty the parts that workers of dead runs held."""

    @abstractmethod
    def claimed(self, holder: str, worker_id: str) -> AbstractContextManager[str]:
        """A part of the server for `holder` alone: its URL while the block runs; emptied and
        given back afterwards."""
