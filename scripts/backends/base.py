"""What the harness knows of one backend; each backend module holds one subclass.

`Backend` is what every backend has (name, display name, role); `ServerBackend` adds what a
server needs: its program names and where Debian puts them, the `--version` probe, the data
directory template, the start command, the readiness check (its own version, read back over
its own protocol), the URL the suite connects with, and the container image contract.
"""

from __future__ import annotations

import re
import signal
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from scripts.providers.accounts import Account
from scripts.vocabulary import Program, Role, SourceKind

if TYPE_CHECKING:
    from scripts.backends.image_recipe import ImageRecipe
    from scripts.backends.janitors import SuiteNames, WorkerCaches, WorkerDatabases


class NotAnsweringError(Exception):
    """The server did not answer (yet): refused, starting up, or a timeout."""


@dataclass(frozen=True)
class ImageContract:
    """How testcontainers runs this backend's images: module, class and constructor keywords."""

    module: str
    class_name: str
    keywords: dict[str, Any] = field(default_factory=dict)
    data_tmpfs: tuple[str, str] | None = None
    """(folder, mount options): the data folder the image source puts on tmpfs."""
    password_setter: str | None = None
    """The container's method that sets the password, for a class whose constructor takes
    none (`ValkeyContainer.with_password`)."""


class Backend:
    """A kind of server (or library) the matrix names."""

    name: ClassVar[str]
    display_name: ClassVar[str]
    role: ClassVar[Role]
    family: ClassVar[str]
    """Backends of one family speak one protocol: one multi-worker cell proves them all."""
    report_order: ClassVar[int] = 1000
    """Where reports list it (lower first); backends that do not say come last, by name."""
    url_schemes: ClassVar[tuple[str, ...]] = ()
    """The schemes of its URLs: what a `url` source may use (a bare one gets the suite's
    driver), and what the suite matches to find the backend's janitor."""
    driver_schemes: ClassVar[Mapping[str, str]] = {}
    """A bare scheme -> the one the suite connects with (SQLAlchemy would pick MySQLdb for
    mysql://, and redis-py does not know valkey://); other schemes are kept as given."""
    sources: ClassVar[tuple[SourceKind, ...]] = ("library",)
    """The source kinds a version of it may name in the matrix file."""
    driver_distribution: ClassVar[str | None] = None
    """The Python distribution the suite talks to it with, whose version each result records."""

    def accepts_url(self, url: str) -> bool:
        """True when `url`'s scheme, or its dialect (`postgresql` of `postgresql+x`), is ours."""
        scheme = url.partition("://")[0].lower() if "://" in url else ""
        dialects = {known.partition("+")[0] for known in self.url_schemes}
        return scheme in self.url_schemes or scheme.partition("+")[0] in dialects

    def worker_databases(self, server_url: str, names: SuiteNames) -> WorkerDatabases:
        """The janitor that gives each worker of the suite its own database (database role)."""
        raise NotImplementedError(f"{self.display_name} gives no per-worker databases")

    def worker_caches(self, url: str) -> WorkerCaches:
        """The janitor that gives each worker of the suite its own cache (cache role)."""
        raise NotImplementedError(f"{self.display_name} gives no per-worker caches")


class LibraryBackend(Backend):
    """A backend the suite loads as a DB-API module (the `library` source): no server."""

    library_url: ClassVar[str]
    """The URL the suite connects with."""
    version_attribute: ClassVar[str]
    """What such a module reports its library version in."""
    module_examples: ClassVar[str]
    """Modules to suggest when the one named is not of this backend."""
    missing_hint: ClassVar[str]
    """What to do when the module named cannot be imported and the matrix says no `pip`."""


class ServerBackend(Backend, ABC):
    """A backend that runs as a server: everything the sources need to start and ask it."""

    sources: ClassVar[tuple[SourceKind, ...]] = ("image", "binaries", "url")

    program_names: ClassVar[tuple[str, ...]]
    debian_folders: ClassVar[tuple[str, ...]]
    """Where Debian's packages put the server programs (`*` globs, newest first)."""
    program_version_pattern: ClassVar[re.Pattern[str]]
    """`<program> --version` output: the first group is the version."""
    suite_scheme: ClassVar[str]
    suite_path: ClassVar[str]
    """The URL contract: the driver scheme and the database the suite connects with."""
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM
    needs_template: ClassVar[bool] = False
    start_secrets: ClassVar[tuple[str, ...]] = ()
    shared_memory_prefix: ClassVar[str | None] = None
    """Its POSIX shared-memory segments (`/dev/shm/<prefix>*`), which a killed program leaves."""
    """Files of `prepare_run` the server reads only at start: removed once it answers."""

    def program_version(self, version_output: str) -> str | None:
        """The version a server program prints for `--version`, or None when it is not there."""
        found = self.program_version_pattern.search(version_output)
        return found.group(1) if found else None

    @abstractmethod
    def server_version(self, url: str, timeout_s: float) -> str:
        """The running server's own version string; `NotAnsweringError` while it does not answer."""

    @abstractmethod
    def activity(self, url: str, timeout_s: float) -> int:
        """A counter of what clients have done on the server at `url` (connections made, or
        transactions run), read over a connection of its own that adds at most one to it: the
        cell runner reads it before and after the suite, to tell a suite that never used the
        server (a service that reads another variable than the one the cell sets)."""

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        """Leave a fresh data directory at `target` (does not exist yet), owned by `account`."""
        target.mkdir(parents=True, exist_ok=True)

    @abstractmethod
    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        """The server's command line: loopback only, durability off, files (its Unix socket
        included) in `run_dir`, a 0700 folder of its own. No password on it: anyone can read a
        command line."""

    def prepare_run(self, run_dir: Path, password: str, account: Account | None) -> None:
        """Before the start: leave in `run_dir` what makes the server require `password`."""

    def answer(self, run_dir: Path, url: str, password: str, timeout_s: float) -> str:
        """The readiness check: the server's own version over `url`, once it requires
        `password`; `NotAnsweringError` while it does not answer (yet)."""
        return self.server_version(url, timeout_s)

    @abstractmethod
    def url(self, port: int, password: str) -> str:
        """The URL the suite connects with to a server of ours on `port`."""

    def suite_url(self, url: str) -> str:
        """A server URL as the suite wants it: our driver scheme and database, same credentials.

        `postgresql://u:p@h:1/test` -> `postgresql+psycopg2://u:p@h:1/postgres`.
        """
        return urlunsplit((self.suite_scheme, urlsplit(url).netloc, self.suite_path, "", ""))

    @abstractmethod
    def image_contract(self, password: str) -> ImageContract:
        """The testcontainers module and class for this backend's images."""

    def image_recipe(
        self, version: str, suite: str, packages: tuple[str, ...]
    ) -> ImageRecipe | None:
        """Our own image of `version`, from the packages of Debian's `suite` that the matrix
        file names for it (`binaries = { debian = {...} }`); None: the project builds none."""
        return None

    def container_url(self, container: Any) -> str:
        """The suite URL of a started testcontainers container."""
        return self.suite_url(container.get_connection_url())
