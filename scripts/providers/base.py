"""What every provider promises: start a server for one version, report it, stop it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from scripts.vocabulary import SourceKind


@dataclass(frozen=True)
class RunningServer:
    """A server that answers, as the suite will see it."""

    url: str
    """Server-level URL handed to the suite (under the `[suite]` table's env names)."""
    reported_version: str
    """The server's own version string, read back from the running server."""
    source: SourceKind
    provenance: str
    """Where it came from: image tag, server program path, or the URL with its password hidden."""
    library_module: str | None = None
    """The DB-API module the suite loads (the SQLite library source), handed to it under
    `[suite] env.sqlite-module`."""
    log_path: Path | None = None
    alive: Callable[[], None] | None = field(default=None, compare=False, repr=False)
    """Raises `ProvisioningError` (with the server's log tail) once the server has stopped."""


class ProviderError(Exception):
    """Base class for provider failures."""


class Unavailable(ProviderError):  # noqa: N818 - the contract's name
    """No source for this version on this machine; the cell is `unavailable`, not failed."""

    def __init__(self, reason: str, hint: str | None = None) -> None:
        super().__init__(reason if hint is None else f"{reason} (to fix: {hint})")
        self.reason = reason
        self.hint = hint


class ProvisioningError(ProviderError):
    """The source exists but the server could not be started; the cell is `error`."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail


class ServerStoppedError(ProviderError):
    """A server stopped while the suite ran; the cell is `error`, with the server's log tail."""

    def __init__(self, message: str, log_tail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.log_tail = log_tail


class Provider(Protocol):
    """Turns one source of one version into a running server and back."""

    @property
    def source(self) -> SourceKind: ...

    def check(self) -> None:
        """Raise `Unavailable` when this source cannot serve here; cheap, starts nothing."""

    def start(self) -> AbstractContextManager[RunningServer]:
        """Start (or attach to) the server; stop it and remove its files on exit, even on errors."""


ServerIterator = Iterator[RunningServer]
