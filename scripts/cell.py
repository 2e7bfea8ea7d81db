"""Run one cell: start its servers, run the suite against them, write its result.

results/<cell-id>/progress.jsonl   the first run: one line per test started and finished, as
                                   it happens; the tests' outcomes are read from it
                                   (progress-rerun.jsonl: the rerun of the failed tests, once
                                   more for flaky detection; see scripts.progress_log)
results/<cell-id>/junit.xml        the same runs as JUnit XML, for CI tools (junit-rerun.xml)
results/<cell-id>/pytest.log       what pytest printed (pytest-rerun.log: the rerun's)
results/<cell-id>/migrations.json  what the database-preparing step did (scripts.prepare_step)
results/<cell-id>/result.json      the cell's result
results/<cell-id>/.pytest_cache    pytest's cache, kept between runs of the cell (for `--lf`)
"""

from __future__ import annotations

import os
import shutil
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from packaging.utils import canonicalize_name

from scripts.environments import EnvironmentUnavailable, SuiteVenv, find_interpreter, suite_venv
from scripts.files import log_tail
from scripts.matrix import Cell, VersionSpec
from scripts.paths import (
    REPO_ROOT,
    RUN_MARKERS_ENV,
    SCRATCH_ENV,
    ScratchFolderError,
    bytecode_environment,
    run_markers_dir,
)
from scripts.plan import RunPlan
from scripts.prepare_step import (
    MIGRATIONS_FILE,
    MIGRATIONS_FILE_ENV,
    PREPARE_COMMAND_ENV,
    read_outcome,
)
from scripts.progress_log import PROGRESS_FILE_ENV, read_progress
from scripts.providers import runs
from scripts.providers.base import (
    Provider,
    ProvisioningError,
    RunningServer,
    ServerStoppedError,
    Unavailable,
)
from scripts.providers.passwords import passwords_in, redact_files
from scripts.providers.process import (
    DeadlinePassedError,
    Interrupted,
    cancelled_by,
    process_group,
    wait_for_exit,
)
from scripts.results import (
    NOT_STARTED,
    REPORTED_LIBRARIES,
    WHILE_RUNNING,
    Axis,
    CellResult,
    ServerInfo,
    Timings,
    after_rerun,
    build_result,
    interrupted,
    stopped_result,
    unrunnable_result,
    without_colour,
    write_result,
)
from scripts.server_use import (
    CHECKED_ROLES,
    DATABASE_USE_FILE,
    DATABASE_USE_FILE_ENV,
    Watched,
    unused,
    unused_server_reason,
    watch,
)
from scripts.sources import choose_provider
from scripts.sources.urls import with_scheme
from scripts.stacks import distributions_of, merged_pins
from scripts.suite import DEFAULT_SUITE, MATRIX_FILE_ENV, SuiteEnv
from scripts.versions import version_matches
from scripts.vocabulary import Role, SourceKind

PYTEST_CACHE = ".pytest_cache"
CELL_FILES = (
    "result.json",
    "junit.xml",
    "junit-rerun.xml",
    "pytest.log",
    "pytest-rerun.log",
    "progress.jsonl",
    "progress-rerun.jsonl",
    MIGRATIONS_FILE,
    DATABASE_USE_FILE,
    PYTEST_CACHE,
)
"""Every file the runner writes in a cell's folder (a whole run removes folders of only these)."""
OUTPUT_TAIL_LINES = 40
PROGRESS_PLUGIN = "scripts.suite_progress"
INTERRUPTED_BEFORE_START = "interrupted: the run was stopped before this cell started"
ALIVE_CHECK_S = 1.0  # how often the cell's servers are checked while the suite runs


@dataclass(frozen=True)
class SuiteRun:
    """What running the suite left behind: pytest's exit code and its progress logs."""

    exit_code: int
    progress: Path
    rerun_progress: Path | None  # None when nothing failed, so nothing was run again
    unused: tuple[Watched, ...] = ()
    """The servers the suite never used (see scripts.server_use)."""


class CellTimeoutError(Exception):
    """The cell ran past its deadline."""


class CellInterruptedError(Exception):
    """The run was interrupted (Ctrl-C) while this cell ran."""


def run_cell(
    cell: Cell,
    plan: RunPlan,
    *,
    cancel: threading.Event | None = None,
    on_stage: Callable[[str, str], None] | None = None,
) -> CellResult:
    """Run `cell` as `plan` says and write `<plan.results>/<cell.id>/`; never raises for the
    cell's own failures.

    Setting `cancel` (another thread's Ctrl-C) stops the suite and the servers promptly.
    `on_stage(cell id, what)` hears each stage as it starts (for live progress).
    """
    folder = plan.results / cell.id
    _empty_keeping_pytest_cache(folder)
    run = _CellRun(cell, plan, folder, cancel or threading.Event(), on_stage)
    result = run.run()
    write_result(result, folder)
    return result


def interrupted_before_start(cell: Cell, *, results_dir: Path) -> CellResult:
    """The result of a cell the run was stopped before starting: an `error` saying so."""
    folder = results_dir / cell.id
    _empty_keeping_pytest_cache(folder)
    plan = RunPlan((cell,), results_dir, timeout=1.0)
    run = _CellRun(cell, plan, folder, threading.Event())
    result = interrupted(run._unrunnable("error", INTERRUPTED_BEFORE_START, None), NOT_STARTED)
    write_result(result, folder)
    return result


class _CellRun:
    def __init__(
        self,
        cell: Cell,
        plan: RunPlan,
        folder: Path,
        cancel: threading.Event,
        on_stage: Callable[[str, str], None] | None = None,
    ) -> None:
        self.cell = cell
        self.cancel = cancel
        self.on_stage = on_stage or _no_stage
        self.plan = plan
        self.workers = plan.chosen_layout().workers_for(cell.id)
        self.folder = folder
        self.axes: dict[Role, Axis] = {
            "database": Axis(cell.database.backend, cell.database.version),
            "cache": Axis(cell.cache.backend, cell.cache.version),
        }
        self.servers: dict[Role, ServerInfo] = {
            spec.role: ServerInfo(spec.role, spec.backend, spec.version, None, None, None)
            for spec in cell.specs
        }
        self.started_at = _now()
        self.started = time.monotonic()
        self.deadline = self.started + plan.timeout
        self.provisioned_at: float | None = None
        self.tests_done_at: float | None = None
        self.venv: SuiteVenv | None = None
        """The cell's own environment, once built; None: the harness's (sys.executable)."""

    def run(self) -> CellResult:
        with cancelled_by(self.cancel):
            result = self._run()
        asked = replace(
            result,
            stack={value.group: value.name for value in self.cell.stack},
            interpreter=self.cell.python.version if self.cell.python else None,
        )
        if self.venv is not None:
            return replace(asked, environment=environment_of(self.venv, self.cell, self.plan))
        if needs_own_environment(self.cell, self.plan):  # its environment was never built:
            return replace(asked, environment={})  # the harness's own is not what it asked
        return asked

    def _run(self) -> CellResult:
        missing = missing_test_paths(self.plan)
        if missing is not None:
            return self._unrunnable("error", missing, None)
        try:
            if needs_own_environment(self.cell, self.plan):
                self.venv = self._suite_venv()
            # choose every source before starting anything: an unavailable cache must not
            # leave a database started for nothing
            providers = {
                spec.role: choose_provider(
                    spec,
                    only=forced_source(spec, self.plan.source),
                    cold_servers=self.plan.cold_servers,
                )
                for spec in self.cell.specs
            }
            with ExitStack() as stack:
                self.on_stage(self.cell.id, "starting servers")
                running = {
                    spec.role: self._provision(stack, spec, providers[spec.role])
                    for spec in self.cell.specs
                }
                self.provisioned_at = time.monotonic()
                self.on_stage(self.cell.id, f"servers up: {self._servers_line()}")
                try:
                    suite = self._run_suite(running)
                finally:
                    # interrupted or timed out, the time until then is still test time
                    self.tests_done_at = time.monotonic()
                    # what the suite printed may show its URLs, passwords included
                    redact_files(self.folder, passwords_in(s.url for s in running.values()))
            # built after the servers stopped, so the timings include their teardown
            return self._result(suite)
        except (Unavailable, EnvironmentUnavailable) as unavailable:
            return self._unrunnable("unavailable", str(unavailable), None)
        except ProvisioningError as error:
            return self._unrunnable(
                "error", f"provisioning failed: {error.message}", error.log_tail
            )
        except ServerStoppedError as error:
            return self._unrunnable("error", error.message, error.log_tail)
        except CellTimeoutError as error:
            return self._stopped(str(error))
        except CellInterruptedError as error:
            return self._interrupted(self._stopped(str(error)))
        except Interrupted as error:  # while the servers started
            return self._interrupted(self._unrunnable("error", str(error), None))
        except ScratchFolderError as error:
            return self._unrunnable("error", str(error), None)
        except Exception as error:  # a broken cell must not take the other cells down
            return self._unrunnable(
                "error", f"harness error: {type(error).__name__}: {error}", None
            )

    def _suite_venv(self) -> SuiteVenv:
        """The environment of the cell's interpreter and stack, built or reused."""
        python = self.cell.python
        version = python.version if python else f"{sys.version_info[0]}.{sys.version_info[1]}"
        self.on_stage(self.cell.id, f"finding Python {version}")
        interpreter = find_interpreter(
            version, python.debian if python else None, fetch=self.plan.fetch
        )
        self.on_stage(self.cell.id, f"preparing its environment (Python {interpreter.version})")
        venv = suite_venv(
            interpreter=interpreter,
            install=self.plan.suite.install,
            pins=cell_pins(self.cell, self.plan),
            resolution=self.cell.resolution,
            refresh=self.plan.refresh,
            overrides=self.plan.extra_pins,
        )
        how = "reused" if venv.reused else f"built in {venv.took_s:.1f} s"
        self.on_stage(self.cell.id, f"environment {how}: Python {venv.python_version}")
        return venv

    def _provision(self, stack: ExitStack, spec: VersionSpec, provider: Provider) -> RunningServer:
        if self.cancel.is_set():
            raise CellInterruptedError("interrupted before its servers started")
        server = stack.enter_context(provider.start())
        self.servers[spec.role] = ServerInfo(
            spec.role,
            spec.backend,
            spec.version,
            server.reported_version,
            server.source,
            server.provenance,
        )
        if not version_matches(spec.version, server.reported_version):
            raise ProvisioningError(
                f"{spec.id} was requested but the server reports {server.reported_version!r}"
                f" (from {server.provenance})"
            )
        if time.monotonic() > self.deadline:
            raise CellTimeoutError(f"timed out after {self.plan.timeout:.0f} s while provisioning")
        return server

    def _run_suite(self, running: dict[Role, RunningServer]) -> SuiteRun:
        """Run the suite once, and its failures once more."""
        suite = self.plan.suite
        env = suite_environment(
            running["database"], running["cache"], self.plan.suite_variables(), suite.env
        )
        if self.cell.database_scheme is not None:  # the stack's driver
            env[suite.env.database] = with_scheme(
                running["database"].url, self.cell.database_scheme
            )
        if suite.prepare is not None:
            env[PREPARE_COMMAND_ENV] = suite.prepare
        env[PROGRESS_FILE_ENV] = str(self.folder / "progress.jsonl")
        env[MIGRATIONS_FILE_ENV] = str(self.folder / MIGRATIONS_FILE)
        env[DATABASE_USE_FILE_ENV] = str(self.folder / DATABASE_USE_FILE)
        env[MATRIX_FILE_ENV] = str(self.plan.matrix_file)  # whose [suite] the plugin follows
        # the suite's throwaway files (its SQLite databases) live in this run's folder: a
        # later run reaps them with it should this one be killed
        # its run markers stay outside that folder: they must outlive it (a killed run's
        # databases and Redis keys are told from a live run's by them)
        env[RUN_MARKERS_ENV] = str(run_markers_dir())
        watched = self._watch(running)
        with suite_folder(self.cell.id) as suite_scratch:
            env[SCRATCH_ENV] = str(suite_scratch)
            return self._suite_runs(env, running, watched)

    def _pytest_arguments(self, workers: int, junit: str, *selection: str) -> list[str]:
        """The suite's pytest arguments: its test paths, `workers` xdist workers (0: none),
        the progress plugin, JUnit XML to `junit` in the cell's folder, `selection`, then the
        `[suite]` table's and the command line's own."""
        # the cache outlives the run, so that `-- --lf` reruns what failed last time
        cache_dir = self.folder / PYTEST_CACHE
        return [
            *self.plan.suite.test_paths,
            *("-n", str(workers if workers > 1 else 0)),
            *("-o", f"cache_dir={cache_dir}", "-q", "-p", PROGRESS_PLUGIN),
            *selection,
            f"--junitxml={self.folder / junit}",
            *self.plan.suite.pytest_args,
            *self.plan.pytest_args,
        ]

    def _watch(self, running: dict[Role, RunningServer]) -> list[Watched]:
        """The servers whose use the suite's run is checked for, with their counters now."""
        found = (
            watch(
                spec.role,
                spec.backend,
                spec.version,
                running[spec.role].url,
                self.folder / DATABASE_USE_FILE,
            )
            for spec in self.cell.specs
            if spec.role in CHECKED_ROLES
        )
        return [one for one in found if one is not None]

    def _suite_runs(
        self, env: dict[str, str], running: dict[Role, RunningServer], watched: list[Watched]
    ) -> SuiteRun:
        first = self._pytest_arguments(self.workers, "junit.xml")
        exit_code = self._pytest(first, env, self.folder / "pytest.log", running)
        # only a suite that ran to its end (passed or failed) is asked whether it used them
        not_used = tuple(w for w in watched if unused(w)) if exit_code in (0, 1) else ()
        rerun: Path | None = None
        if exit_code == 1:
            # rerun only what failed, once: a pass now marks the test (and the cell) flaky
            again = self._pytest_arguments(
                0, "junit-rerun.xml", "--last-failed", "--last-failed-no-failures=none"
            )
            env[PROGRESS_FILE_ENV] = str(self.folder / "progress-rerun.jsonl")
            self.on_stage(self.cell.id, "rerunning the failed tests once")
            self._pytest(again, env, self.folder / "pytest-rerun.log", running)
            rerun = self.folder / "progress-rerun.jsonl"
        return SuiteRun(exit_code, self.folder / "progress.jsonl", rerun, not_used)

    def _servers_line(self) -> str:
        took = (self.provisioned_at or time.monotonic()) - self.started
        shown = [
            f"{server.backend} {server.reported} ({server.source})"
            for server in self.servers.values()
        ]
        return f"{', '.join(shown)} in {took:.1f} s; running the suite"

    def _result(self, suite: SuiteRun) -> CellResult:
        result = self._suite_result(suite)
        if not suite.unused or result.state not in ("passed", "failed", "flaky"):
            return result
        names, matrix_file = self.plan.suite.env, self.plan.matrix_file
        said = [
            unused_server_reason(w, len(result.tests), names, matrix_file) for w in suite.unused
        ]
        return replace(
            result,
            state="error",
            reason="; ".join([*said, *([result.reason] if result.reason else [])]),
            log_tail=result.log_tail or _tail(self.folder / "pytest.log"),
        )

    def _suite_result(self, suite: SuiteRun) -> CellResult:
        rerun = suite.rerun_progress
        return build_result(
            cell=self.cell.id,
            axes=self.axes,
            servers=list(self.servers.values()),
            first=read_progress(suite.progress),
            rerun=None if rerun is None else read_progress(rerun),
            timings=self._timings(),
            started_at=self.started_at,
            finished_at=_now(),
            pytest_exit_code=suite.exit_code,
            output_tail=_tail(self.folder / "pytest.log"),
            log_text=_log_text(self.folder / "pytest.log"),
            prepared=read_outcome(self.folder / MIGRATIONS_FILE),
            migration_tests=self.plan.suite.migration_tests,
        )

    def _interrupted(self, result: CellResult) -> CellResult:
        """`result` marked as cut short by the run's interruption: before it started when
        its suite never got to run (its servers were still starting)."""
        return interrupted(result, NOT_STARTED if self.provisioned_at is None else WHILE_RUNNING)

    def _stopped(self, reason: str) -> CellResult:
        """Timed out or interrupted: what finished is kept, what was running is named."""
        first = read_progress(self.folder / "progress.jsonl")
        rerun = read_progress(self.folder / "progress-rerun.jsonl")
        finished = after_rerun(first.finished, rerun)
        running = rerun.running or first.running
        log = "pytest-rerun.log" if rerun.running else "pytest.log"
        return stopped_result(
            cell=self.cell.id,
            axes=self.axes,
            servers=list(self.servers.values()),
            reason=reason,
            finished=finished,
            running=running,
            timings=self._timings(),
            started_at=self.started_at,
            finished_at=_now(),
            log_tail=_tail(self.folder / log),
            prepared=read_outcome(self.folder / MIGRATIONS_FILE),
            migration_tests=self.plan.suite.migration_tests,
        )

    def _pytest(
        self, args: list[str], env: dict[str, str], log: Path, running: dict[Role, RunningServer]
    ) -> int:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise CellTimeoutError(f"timed out after {self.plan.timeout:.0f} s")
        python = sys.executable if self.venv is None else str(self.venv.python)
        command = [python, "-m", "pytest", *args]
        with process_group(command, log, cwd=REPO_ROOT, env=env) as process:
            while True:
                check_at = min(time.monotonic() + ALIVE_CHECK_S, self.deadline)
                try:
                    code = wait_for_exit(process, deadline=check_at, doing="running the suite")
                except Interrupted as interrupted:
                    raise CellInterruptedError(str(interrupted)) from None
                except DeadlinePassedError:
                    if time.monotonic() >= self.deadline:
                        raise CellTimeoutError(
                            f"timed out after {self.plan.timeout:.0f} s while running the suite"
                        ) from None
                    _check_servers_alive(running)
                    continue
                _check_servers_alive(running)  # a server that died makes failures moot
                return code

    def _timings(self) -> Timings:
        now = time.monotonic()
        provisioned = self.provisioned_at or now
        tests_done = self.tests_done_at or provisioned
        return Timings(
            provision_s=round(provisioned - self.started, 3),
            tests_s=round(tests_done - provisioned, 3),
            teardown_s=round(max(0.0, now - tests_done), 3),
            total_s=round(now - self.started, 3),
        )

    def _unrunnable(self, state: str, reason: str, log_tail: str | None) -> CellResult:
        return unrunnable_result(
            cell=self.cell.id,
            axes=self.axes,
            servers=list(self.servers.values()),
            state="unavailable" if state == "unavailable" else "error",
            reason=reason,
            timings=self._timings(),
            started_at=self.started_at,
            finished_at=_now(),
            log_tail=log_tail,
        )


def needs_own_environment(cell: Cell, plan: RunPlan) -> bool:
    """A cell runs in an environment of its own when the matrix gives it a stack or an
    interpreter, or the command line pins a library (`--pin`)."""
    return cell.has_own_environment or bool(plan.extra_pins)


def cell_pins(cell: Cell, plan: RunPlan) -> tuple[str, ...]:
    """The cell's stack pins, with `--pin`'s requirements in place of those of the same
    distribution."""
    return merged_pins(cell.pins, plan.extra_pins)


def environment_of(venv: SuiteVenv, cell: Cell, plan: RunPlan) -> dict[str, str]:
    """What a result records of the environment the suite ran in: the interpreter's version
    and the installed versions of the reported libraries and of every pinned one."""
    wanted = [*REPORTED_LIBRARIES, *distributions_of(cell_pins(cell, plan))]
    libraries = {
        name: venv.installed[name]
        for name in dict.fromkeys(str(canonicalize_name(n)) for n in wanted)
        if name in venv.installed
    }
    return {"python": venv.python_version, "platform": sys.platform, **libraries}


def missing_test_paths(plan: RunPlan) -> str | None:
    """What is wrong when a test path of the `[suite]` table does not exist (relative to the
    folder the suite runs in; a node id's file for `path::test`); None when they all do.
    Checked before any server starts."""
    missing = [
        path for path in plan.suite.test_paths if not (REPO_ROOT / path.partition("::")[0]).exists()
    ]
    if not missing:
        return None
    named = ", ".join(repr(path) for path in missing)
    return (
        f"no such test path: {named} (relative to {REPO_ROOT}); `[suite] test-paths` in "
        f"{plan.matrix_file} names it: name the folders or files that hold the service's tests"
    )


def _check_servers_alive(running: Mapping[Role, RunningServer]) -> None:
    """Raise `ServerStoppedError` when a server of the cell stopped while the suite ran."""
    for role, server in running.items():
        if server.alive is None:
            continue
        try:
            server.alive()
        except ProvisioningError as error:
            raise ServerStoppedError(
                f"the {role} server stopped while the suite ran: {error.message}", error.log_tail
            ) from error


def _no_stage(cell: str, stage: str) -> None:
    """Nobody is listening for stages."""


def _empty_keeping_pytest_cache(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for entry in folder.iterdir():
        if entry.name == PYTEST_CACHE and entry.is_dir() and not entry.is_symlink():
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def suite_environment(
    database: RunningServer,
    cache: RunningServer,
    extra: Mapping[str, str],
    names: SuiteEnv = DEFAULT_SUITE.env,
) -> dict[str, str]:
    """The environment the suite runs in: this cell's servers, under the names the `[suite]`
    table gives, and nothing left over from outside (no variable of those names, no PYTEST_*)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in names.names() and not key.startswith("PYTEST_")
    }
    env.update(bytecode_environment())
    env.update(extra)
    env[names.database] = database.url
    if database.library_module is not None and names.sqlite_module:
        env[names.sqlite_module] = database.library_module
    if names.cache:
        env[names.cache] = cache.url
    if names.broker:  # the cell's cache server is its broker too
        env[names.broker] = cache.url
    # pytest.log is parsed and shown in reports: no colour codes in it
    env.pop("FORCE_COLOR", None)
    env["PY_COLORS"] = "0"
    env.setdefault("PYTHONPATH", str(REPO_ROOT))
    return env


def forced_source(spec: VersionSpec, forced: SourceKind | None) -> SourceKind | None:
    """`--source` applies to servers; a library-only backend (SQLite) keeps its library."""
    if forced is None or all(source.kind == "library" for source in spec.sources):
        return None
    return forced


@contextmanager
def suite_folder(cell_id: str) -> Iterator[Path]:
    """The suite's own scratch folder inside the run's: what the suite starts (its own Redis,
    as the servers' account) may enter it, as the run folder, but not list it."""
    folder = runs.run_folder() / f"suite-{cell_id}-{uuid.uuid4().hex[:10]}"
    folder.mkdir(mode=0o711)
    folder.chmod(0o711)  # whatever the umask
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _tail(path: Path, lines: int = OUTPUT_TAIL_LINES) -> str | None:
    """The log's last lines without colour codes; None when it is empty or unreadable."""
    return without_colour(log_tail(path, lines)) or None


def _log_text(path: Path) -> str | None:
    """pytest.log without colour codes, for the root error of a failure; None when unreadable."""
    try:
        return without_colour(path.read_text(errors="replace"))
    except OSError:
        return None


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
