"""The `library` source (SQLite): a DB-API module to import; nothing to start or stop."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from scripts.backends.sqlite import VERSION_ATTRIBUTE
from scripts.matrix import LibrarySource, VersionSpec
from scripts.providers.base import RunningServer, Unavailable
from scripts.vocabulary import SourceKind


class LibraryProvider:
    def __init__(self, spec: VersionSpec, source: LibrarySource) -> None:
        self.spec = spec
        self.library = source

    @property
    def source(self) -> SourceKind:
        return "library"

    def module(self) -> ModuleType:
        name = self.library.module
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            hint = (
                f"pip install {self.library.pip}"
                if self.library.pip
                else "use a Python built with the sqlite3 module"
            )
            raise Unavailable(f"the DB-API module {name} cannot be imported: {exc}", hint) from exc

    def check(self) -> None:
        self.module()

    @contextmanager
    def start(self) -> Iterator[RunningServer]:
        module = self.module()
        version = getattr(module, VERSION_ATTRIBUTE, None)
        if not isinstance(version, str):
            raise Unavailable(
                f"{self.library.module} has no `{VERSION_ATTRIBUTE}`: not an SQLite DB-API module",
                "name an SQLite DB-API module (sqlite3, pysqlite3.dbapi2) in matrix.toml",
            )
        yield RunningServer(
            url="sqlite://",
            reported_version=version,
            source="library",
            provenance=f"{self.library.module} ({getattr(module, '__file__', 'built-in')})",
            env={"SQLITE_MODULE": self.library.module},
        )
