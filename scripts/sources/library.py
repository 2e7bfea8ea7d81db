"""The `library` source: a DB-API module to import (SQLite's); nothing to start or stop."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from scripts.backends import LibraryBackend, backend
from scripts.matrix import LibrarySource, VersionSpec
from scripts.providers.base import RunningServer, Unavailable
from scripts.vocabulary import SourceKind


class LibraryProvider:
    def __init__(self, spec: VersionSpec, source: LibrarySource) -> None:
        self.spec = spec
        self.library = source

    @property
    def backend(self) -> LibraryBackend:
        found = backend(self.spec.backend)
        assert isinstance(found, LibraryBackend), f"{found.display_name} is no library"
        return found

    @property
    def source(self) -> SourceKind:
        return "library"

    def module(self) -> ModuleType:
        name = self.library.module
        try:
            return importlib.import_module(name)
        except ImportError as exc:
            hint = (
                f"pip install {self.library.pip}" if self.library.pip else self.backend.missing_hint
            )
            raise Unavailable(f"the DB-API module {name} cannot be imported: {exc}", hint) from exc

    def check(self) -> None:
        self.module()

    @contextmanager
    def start(self) -> Iterator[RunningServer]:
        module = self.module()
        library = self.backend
        version = getattr(module, library.version_attribute, None)
        if not isinstance(version, str):
            what = f"{library.display_name} DB-API module"
            raise Unavailable(
                f"{self.library.module} has no `{library.version_attribute}`: not an {what}",
                f"name an {what} ({library.module_examples}) in matrix.toml",
            )
        yield RunningServer(
            url=library.library_url,
            reported_version=version,
            source="library",
            provenance=f"{self.library.module} ({getattr(module, '__file__', 'built-in')})",
            library_module=self.library.module,
        )
