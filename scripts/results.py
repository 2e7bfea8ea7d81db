"""One cell's result: the model written to `results/<cell-id>/result.json` and read back.

The cell runner (`scripts.cell`) writes, per cell:

    results/<cell-id>/
        progress.jsonl        the first pytest run, test by test (`scripts.suite_progress`)
        progress-rerun.jsonl  only when the first run had failures: those tests run once more
        junit.xml             the same runs as JUnit XML, for CI tools (nothing here reads it)
        pytest.log            what pytest printed
        result.json           `CellResult.to_json()`, made by `build_result` / `unrunnable_result`

Per-test outcomes, node ids, files and lines come from the progress logs, which pytest's own
reports fill (see `scripts.suite_progress`), never from guessing at JUnit XML or tracebacks.

`read_result` never raises: a missing, truncated or foreign result.json becomes an `error`
result whose reason says what was wrong, so one bad folder never breaks a report.

Standard library only, and so must be all it imports: the GitHub annotation step
(`scripts.report.annotate`) reads results without the project's virtualenv.
"""

from __future__ import annotations

import json
import platform
import re
import sys
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, get_args

from scripts import files
from scripts.backends import BACKENDS, CACHE_BACKENDS
from scripts.files import atomic_write
from scripts.prepare_step import MigrationsOutcome
from scripts.progress_log import FinishedTest, SuiteProgress, read_progress
from scripts.root_error import root_error
from scripts.suite import DEFAULT_SUITE
from scripts.vocabulary import (
    ROLES,
    CellIdError,
    Role,
    cell_id_parts,
    python_version_of,
    version_id,
)

RESULT_FORMAT = 1
RESULT_FILE = "result.json"
PROGRESS_FILE = "progress.jsonl"
RERUN_PROGRESS_FILE = "progress-rerun.jsonl"

CellState = Literal["passed", "failed", "flaky", "error", "unavailable"]
TestOutcomeKind = Literal["passed", "failed", "skipped", "error", "flaky", "xfailed", "xpassed"]

CELL_STATES: tuple[CellState, ...] = get_args(CellState)
OUTCOME_KINDS: tuple[TestOutcomeKind, ...] = get_args(TestOutcomeKind)

PYTEST_EXIT_REASONS = {
    2: "pytest was interrupted (exit code 2: a collection error, Ctrl-C or -x stop)",
    3: "pytest hit an internal error (exit code 3)",
    4: "pytest was called wrongly (exit code 4: usage error, bad option or path)",
    5: "pytest collected no tests (exit code 5)",
}
REPORTED_LIBRARIES = (
    "sqlalchemy",
    "fastapi",
    "pydantic",
    # the backends' drivers (psycopg2-binary, ...), each once, in report order
    *dict.fromkeys(b.driver_distribution for b in BACKENDS.values() if b.driver_distribution),
    "celery",
    "pytest",
    "pytest-xdist",
)
"""Distributions whose versions each result records (the environment the cell ran in)."""

INTERRUPTED = "interrupted"
"""The key in a result's `extra` of a cell the run's interruption (Ctrl-C, SIGTERM, a killed
harness) cut short: `NOT_STARTED` or `WHILE_RUNNING`. Such a night is no normal night: the
history marks it and its analyses pass over it."""
Interruption = Literal["before it started", "while it ran"]
NOT_STARTED: Interruption = "before it started"
WHILE_RUNNING: Interruption = "while it ran"


@dataclass(frozen=True)
class Axis:
    """What one axis of a cell asked for."""

    backend: str  # "postgres", "redis", ...
    version: str  # "16", "7.0", "stdlib", ...

    @property
    def id(self) -> str:
        return version_id(self.backend, self.version)


@dataclass(frozen=True)
class ServerInfo:
    """What one role of a cell actually ran against."""

    role: Role
    backend: str
    requested: str
    reported: str | None  # the server's own version string, None when it never started
    source: str | None  # "image" | "binaries" | "url" | "library", None when none could serve
    provenance: str | None  # image tag, program path, or URL without password


# Not frozen: a report builds 100 000 of these, and a frozen dataclass takes 4x as long to build.
@dataclass(slots=True)
class TestOutcome:
    id: str  # pytest node id, "tests/test_users_api.py::test_create_user_success"
    group: str  # test module path: "tests/test_users_api.py"
    outcome: TestOutcomeKind
    duration: float  # seconds
    message: str | None = None
    """the first failure's exception line (kept for flaky tests too), or why it was skipped"""
    file: str | None = None  # the file that defines the test (pytest's `report.location`)
    line: int | None = None  # 1-based line in `file` where the test's definition starts
    failed_line: int | None = None  # 1-based line in `file` where the first failure was


@dataclass(frozen=True)
class Timings:
    provision_s: float
    tests_s: float
    teardown_s: float
    total_s: float


@dataclass
class CellResult:
    cell: str
    axes: dict[Role, Axis]
    state: CellState
    reason: str | None  # why error/unavailable/failed/flaky, one line
    servers: list[ServerInfo]
    counts: dict[TestOutcomeKind, int]
    tests: list[TestOutcome]
    timings: Timings
    started_at: str  # ISO 8601, UTC
    finished_at: str
    log_tail: str | None = None  # server or pytest output tail for error cells
    format: int = RESULT_FORMAT
    environment: dict[str, str] = field(default_factory=dict)  # python, platform, libraries
    extra: dict[str, object] = field(default_factory=dict)
    migrations: MigrationsOutcome | None = None
    """The database-preparing step and the migrations group together (`cell_migrations`);
    None when neither ran (a cell that never started, or a result from before migrations)."""
    stack: dict[str, str] = field(default_factory=dict)
    """Stack group -> the value name the cell asked for (`{"sqlalchemy": "2.0", "driver":
    "psycopg3"}`); empty without stacks (and in results from before them). What was really
    installed is in `environment`."""
    interpreter: str | None = None
    """The Python version the cell asked for ("3.12"); None without a python axis (and in
    results from before it). The full version that ran is `environment["python"]`."""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict; `CellResult.from_json` reads it back unchanged.

        Written out field by field: `dataclasses.asdict` is ten times slower on 100k tests.
        """
        return {
            "format": self.format,
            "cell": self.cell,
            "axes": {role: asdict(axis) for role, axis in self.axes.items()},
            "state": self.state,
            "reason": self.reason,
            "servers": [asdict(server) for server in self.servers],
            "counts": dict(self.counts),
            "tests": [
                {
                    "id": t.id,
                    "group": t.group,
                    "outcome": t.outcome,
                    "duration": t.duration,
                    "message": t.message,
                    "file": t.file,
                    "line": t.line,
                    "failed_line": t.failed_line,
                }
                for t in self.tests
            ],
            "timings": asdict(self.timings),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "log_tail": self.log_tail,
            "environment": dict(self.environment),
            "extra": dict(self.extra),
            "migrations": None if self.migrations is None else self.migrations.to_json(),
            "stack": dict(self.stack),
            "interpreter": self.interpreter,
        }

    @classmethod
    def from_json(cls, data: object) -> CellResult:
        """Rebuild a result; raise `ResultFormatError` naming the first field that is wrong."""
        return _result_from_json(data)


class ResultFormatError(ValueError):
    """A result.json that is not (this version of) a cell result."""


def count_outcomes(tests: list[TestOutcome]) -> dict[TestOutcomeKind, int]:
    counts: dict[TestOutcomeKind, int] = dict.fromkeys(OUTCOME_KINDS, 0)
    for test in tests:
        counts[test.outcome] += 1
    return counts


def environment() -> dict[str, str]:
    """The Python and library versions of this process (the one that ran the cell)."""
    found = {"python": platform.python_version(), "platform": sys.platform}
    for name in REPORTED_LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


# ------------------------------------------------------------------ building


def build_result(
    *,
    cell: str,
    axes: Mapping[Role, Axis],
    servers: list[ServerInfo],
    first: SuiteProgress,
    rerun: SuiteProgress | None,
    timings: Timings,
    started_at: str,
    finished_at: str,
    pytest_exit_code: int,
    output_tail: str | None,
    log_text: str | None = None,
    prepared: MigrationsOutcome | None = None,
    migration_tests: str = DEFAULT_SUITE.migration_tests,
) -> CellResult:
    """Turn a finished pytest run (and its rerun of the failures) into a cell result.

    `first` and `rerun` are the runs' progress logs (`read_progress`); `rerun` is None when
    no rerun was made. `pytest_exit_code` is the FIRST run's. Never raises on a bad log: the
    cell becomes `error`. The tests whose pytest-xdist worker died (`first.crashed`) are each
    an `error` whatever their rerun did, and the cell is an `error`; workers that died outside
    any test (`first.lost_workers`, xdist replaced them) are named in the reason. A failed
    cell's reason carries its root error's line, from the failures' exception chains or
    `log_text` (pytest.log). `prepared` is what the suite's database-preparing step recorded:
    when it failed no test could run, and the cell is `failed` with the failing migration
    step and the server's message as its reason. `migration_tests` is the test module whose
    failures are failed migrations (`[suite] migration-tests`).
    """
    lost_workers, crashed = first.lost_workers, first.crashed

    lost_note = (
        f"{len(lost_workers)} pytest-xdist worker(s) died outside any test and were replaced"
        f" ({'; '.join(lost_workers)})"
        if lost_workers
        else None
    )

    def result(state: CellState, reason: str | None, tests: list[TestOutcome]) -> CellResult:
        reason = "; ".join(part for part in (reason, lost_note) if part) or None
        return CellResult(
            migrations=cell_migrations(prepared, tests, migration_tests),
            cell=cell,
            axes=dict(axes),
            state=state,
            reason=reason,
            servers=list(servers),
            counts=count_outcomes(tests),
            tests=tests,
            timings=timings,
            started_at=started_at,
            finished_at=finished_at,
            log_tail=without_colour(output_tail) if output_tail and state != "passed" else None,
            environment=environment(),
        )

    if prepared is not None and prepared.state == "failed":
        return result("failed", f"the database-preparing step {prepared.line()}", [])
    if not first.found and pytest_exit_code in (0, 1):
        exit_note = _exit_reason(pytest_exit_code, output_tail)
        return result("error", f"pytest wrote no progress log [{exit_note}]", [])
    tests = finished_outcomes(after_rerun(first.finished, rerun))
    tests += [
        TestOutcome(test_id, group_of(test_id), "error", 0.0, "still running when pytest ended")
        for test_id in first.running
    ]
    rerun_note = ""
    if rerun is not None and not rerun.found and any(t.outcome in _FAILING for t in tests):
        rerun_note = "; the rerun wrote no progress log"

    if crashed:
        tests = _with_crashes(tests, crashed)
        crashes = [t for t in tests if t.id in crashed]
        return result("error", _listing(crashes, "crashed its pytest-xdist worker"), tests)
    not_collected = [t for t in tests if t.outcome == "error" and "::" not in t.id]
    if pytest_exit_code == 2 and not_collected:
        return result("error", _not_collected(not_collected), tests)
    if pytest_exit_code in PYTEST_EXIT_REASONS:
        return result("error", _exit_reason(pytest_exit_code, output_tail), tests)
    if pytest_exit_code not in (0, 1):
        return result("error", f"pytest ended abnormally (exit code {pytest_exit_code})", tests)
    failing = [t for t in tests if t.outcome in _FAILING]
    flaky = [t for t in tests if t.outcome == "flaky"]
    if failing:
        chains = (first.finished.get(t.id, _NOT_FINISHED) for t in failing)
        root = root_error((line for chain in chains for line in chain.exceptions), log_text)
        cause = f" — {root}" if root else ""
        return result("failed", _listing(failing, "failed") + cause + rerun_note, tests)
    if pytest_exit_code == 1 and not flaky:
        return result("error", "pytest exited 1 but its progress log records no failure", tests)
    if not any(t.outcome in ("passed", "flaky", "xpassed") for t in tests):
        skipped = sum(1 for t in tests if t.outcome in ("skipped", "xfailed"))
        return result("error", f"no test passed ({skipped} skipped, {len(tests)} collected)", tests)
    if flaky:
        return result("flaky", _listing(flaky, "passed only on the rerun"), tests)
    return result("passed", None, tests)


_FAILING = ("failed", "error")


def _not_collected(modules: list[TestOutcome]) -> str:
    """The reason of a cell whose suite has modules pytest could not collect (a collection
    error is recorded under the module's node id, its exception line as the message)."""
    first = modules[0]
    lines = (first.message or "").strip().splitlines()
    said = f" ({lines[-1].strip()})" if lines else ""
    more = f", and {len(modules) - 1} more module(s)" if len(modules) > 1 else ""
    return (
        f"pytest could not collect the test module {first.id}{said}{more}, so no test ran: fix "
        "what it imports (is the service installed where the suite runs?)"
    )


_NOT_FINISHED = FinishedTest("error", 0.0)


def after_rerun(
    first: Mapping[str, FinishedTest], rerun: SuiteProgress | None
) -> dict[str, FinishedTest]:
    """The first run's tests, a failure that passed on the rerun made `flaky` (its first
    failure's message and lines kept, its rerun's duration)."""
    if rerun is None:
        return dict(first)
    merged = dict(first)
    for test_id, again in rerun.finished.items():
        seen = merged.get(test_id)
        if seen is not None and seen.outcome in _FAILING and again.outcome == "passed":
            merged[test_id] = replace(seen, outcome="flaky", duration=again.duration)
    return merged


def unrunnable_result(
    *,
    cell: str,
    axes: Mapping[Role, Axis],
    servers: list[ServerInfo],
    state: Literal["error", "unavailable"],
    reason: str,
    timings: Timings,
    started_at: str,
    finished_at: str,
    log_tail: str | None,
) -> CellResult:
    """A cell whose suite never ran: provisioning failed (`error`) or no source (`unavailable`)."""
    return CellResult(
        cell=cell,
        axes=dict(axes),
        state=state,
        reason=reason,
        servers=list(servers),
        counts=count_outcomes([]),
        tests=[],
        timings=timings,
        started_at=started_at,
        finished_at=finished_at,
        log_tail=log_tail,
        environment=environment(),
    )


def stopped_result(
    *,
    cell: str,
    axes: Mapping[Role, Axis],
    servers: list[ServerInfo],
    reason: str,
    finished: Mapping[str, FinishedTest],
    running: list[str],
    timings: Timings,
    started_at: str,
    finished_at: str,
    log_tail: str | None,
    prepared: MigrationsOutcome | None = None,
    migration_tests: str = DEFAULT_SUITE.migration_tests,
) -> CellResult:
    """A cell stopped while its suite ran (timed out, interrupted): an `error` that keeps the
    outcomes of the tests that finished (test id -> outcome, seconds, message) and names the
    tests that were still running, each an `error` too (`after_rerun` gives `finished`)."""
    done = finished_outcomes(finished)
    cut_short = [
        TestOutcome(test_id, group_of(test_id), "error", 0.0, f"still running: {reason}")
        for test_id in running
    ]
    tests = done + cut_short
    if running:
        more = f" and {len(running) - 1} more" if len(running) > 1 else ""
        reason = f"{reason}; still running: {running[0]}{more}"
    stopped = unrunnable_result(
        cell=cell,
        axes=axes,
        servers=servers,
        state="error",
        reason=reason,
        timings=timings,
        started_at=started_at,
        finished_at=finished_at,
        log_tail=log_tail,
    )
    return replace(
        stopped,
        tests=tests,
        counts=count_outcomes(tests),
        migrations=_stopped_migrations(prepared, done, cut_short, migration_tests),
    )


def _stopped_migrations(
    prepared: MigrationsOutcome | None,
    done: list[TestOutcome],
    cut_short: list[TestOutcome],
    migration_tests: str,
) -> MigrationsOutcome | None:
    """A stopped cell's migrations: failed when a finished step failed; not known (None) when
    a step was still running, for a test cut short is no failed migration."""
    outcome = cell_migrations(prepared, done, migration_tests)
    if outcome is not None and outcome.state == "failed":
        return outcome
    if migration_tests and any(test.group == migration_tests for test in cut_short):
        return None
    return outcome


def cell_migrations(
    prepared: MigrationsOutcome | None,
    tests: list[TestOutcome],
    migration_tests: str = DEFAULT_SUITE.migration_tests,
) -> MigrationsOutcome | None:
    """The cell's migrations: the preparing step's failure, else the first failing test of the
    migrations group (named as the step, its message the server's), else passed when either
    ran; None when neither did."""
    if prepared is not None and prepared.state == "failed":
        return prepared
    group = [test for test in tests if migration_tests and test.group == migration_tests]
    command = prepared.command if prepared is not None else ""
    seconds = prepared.seconds if prepared is not None else 0.0
    for test in group:
        if test.outcome in ("failed", "error"):
            step = test.id.split("::", 1)[-1]
            message = (test.message or "").strip().splitlines()
            return MigrationsOutcome("failed", command, step, message[0] if message else None)
    if prepared is None and not group:
        return None
    return MigrationsOutcome("passed", command, seconds=seconds)


def interrupted(result: CellResult, how: Interruption) -> CellResult:
    """`result` marked as cut short by the run's interruption (see `INTERRUPTED`)."""
    return replace(result, extra={**result.extra, INTERRUPTED: how})


def interruption_of(result: CellResult) -> Interruption | None:
    """How the run's interruption cut this cell short; None for a cell it did not touch."""
    how = result.extra.get(INTERRUPTED)
    return NOT_STARTED if how == NOT_STARTED else WHILE_RUNNING if how == WHILE_RUNNING else None


def finished_outcomes(finished: Mapping[str, FinishedTest]) -> list[TestOutcome]:
    """The outcomes of a progress log's finished tests; an outcome this harness does not
    know is an `error`."""
    return [
        TestOutcome(
            test_id,
            group_of(test_id),
            cast(TestOutcomeKind, test.outcome) if test.outcome in _OUTCOME_SET else "error",
            test.duration,
            test.message,
            test.file,
            test.line,
            test.failed_line,
        )
        for test_id, test in finished.items()
    ]


def group_of(test_id: str) -> str:
    """The module path of a pytest node id (`tests/x.py::TestA::test_b` -> `tests/x.py`)."""
    return test_id.split("::", 1)[0]


def _with_crashes(tests: list[TestOutcome], crashed: Mapping[str, str]) -> list[TestOutcome]:
    marked = [
        replace(t, outcome="error", message=crashed[t.id]) if t.id in crashed else t for t in tests
    ]
    known = {t.id for t in tests}
    marked += [
        TestOutcome(test_id, group_of(test_id), "error", 0.0, message)
        for test_id, message in crashed.items()
        if test_id not in known
    ]
    return marked


def _listing(tests: list[TestOutcome], verb: str) -> str:
    noun = "test" if len(tests) == 1 else "tests"
    more = f" and {len(tests) - 1} more" if len(tests) > 1 else ""
    return f"{len(tests)} {noun} {verb}: {tests[0].id}{more}"


# ------------------------------------------------------------------ files


def write_result(result: CellResult, folder: Path) -> Path:
    """Write `folder/result.json` atomically (a reader never sees half a file)."""
    text = json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n"
    return atomic_write(folder / RESULT_FILE, text)


def read_result(folder: Path) -> CellResult:
    """Read `folder/result.json`; anything wrong with it gives an `error` result saying what."""
    return read_cell_folder(folder)[0]


def read_cell_folder(folder: Path) -> tuple[CellResult, bool]:
    """`read_result`, and whether the result came whole from `folder/result.json` (False:
    made up from what the folder holds, saying what was wrong). A result made up has no start
    time; one that has it was read whole, without reading the file a second time."""
    result = _read_result(folder)
    return result, result.started_at != "" or _has_readable_result(folder)


def _has_readable_result(folder: Path) -> bool:
    try:
        CellResult.from_json(json.loads((folder / RESULT_FILE).read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ResultFormatError):
        return False
    return True


def _read_result(folder: Path) -> CellResult:
    path = folder / RESULT_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if (folder / PROGRESS_FILE).exists():
            return _killed_result(folder)
        junit = " (junit.xml is there: the cell runner stopped before writing its result)"
        return broken_result(
            folder.name,
            f"{path} is missing" + (junit if (folder / "junit.xml").exists() else ""),
        )
    except (OSError, UnicodeDecodeError) as error:
        return broken_result(folder.name, f"cannot read {path}: {error}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        return _recovered(folder, f"{path} is not valid JSON ({error}); truncated?")
    try:
        return CellResult.from_json(data)
    except ResultFormatError as error:
        cell = data.get("cell") if isinstance(data, dict) else None
        return broken_result(
            cell if isinstance(cell, str) and cell else folder.name,
            f"{path} is not a cell result: {error}",
        )


_COLOUR_CODE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def without_colour(text: str) -> str:
    """`text` less its terminal colour codes (a log written with FORCE_COLOR still reads)."""
    return _COLOUR_CODE.sub("", text)


def _exit_reason(exit_code: int, output_tail: str | None) -> str:
    """What pytest's exit code means, with pytest's own `ERROR:` line when it printed one
    (a usage error raised by the suite, e.g. a database URL it cannot use)."""
    reason = PYTEST_EXIT_REASONS.get(exit_code, f"pytest exit code {exit_code}")
    lines = without_colour(output_tail or "").splitlines()
    conftest = next((m for line in lines if (m := _CONFTEST_IMPORT.match(line))), None)
    if conftest is not None:  # a library (of the stack) lacks what the service imports
        raised = next((line[1:].strip() for line in lines if line.startswith("E ")), "")
        return f"the suite's conftest {conftest['path']} did not import: {raised}".rstrip(": ")
    said = next((line.strip() for line in lines if line.startswith("ERROR: ")), None)
    return f"{reason}: {said}" if said else reason


_CONFTEST_IMPORT = re.compile(r"^ImportError while loading conftest '(?P<path>[^']+)'\.")


def _killed_result(folder: Path) -> CellResult:
    """A cell folder whose harness was killed mid-suite (no result.json, a progress file): an
    `error` keeping the tests that finished and naming the one that was running."""
    progress = read_progress(folder / PROGRESS_FILE)
    rerun = read_progress(folder / RERUN_PROGRESS_FILE)
    log = folder / "pytest.log"
    stopped = stopped_result(
        cell=folder.name,
        axes=axes_from_cell_id(folder.name),
        servers=[],
        reason=f"the harness stopped while running this cell ({RESULT_FILE} was never written)",
        finished=after_rerun(progress.finished, rerun),
        running=rerun.running or progress.running,
        timings=Timings(0.0, 0.0, 0.0, 0.0),
        started_at="",
        finished_at="",
        log_tail=files.log_tail(log) or None,
    )
    return interrupted(stopped, WHILE_RUNNING)


def _recovered(folder: Path, why: str) -> CellResult:
    """A cell whose result.json is damaged: an `error` keeping the outcomes that the progress
    logs in the same folder still hold, and saying so."""
    first = read_progress(folder / PROGRESS_FILE)
    rerun = read_progress(folder / RERUN_PROGRESS_FILE)
    tests = finished_outcomes(after_rerun(first.finished, rerun))
    broken = broken_result(folder.name, why)
    if not tests:
        return broken
    reason = (
        f"{why}; recovered {len(tests)} test outcome(s) from {PROGRESS_FILE} in the same folder"
    )
    return replace(broken, reason=reason, tests=tests, counts=count_outcomes(tests))


def broken_result(cell: str, reason: str) -> CellResult:
    """An `error` result for a cell whose result could not be read; axes guessed from its id."""
    return CellResult(
        cell=cell,
        axes=axes_from_cell_id(cell),
        state="error",
        reason=reason,
        servers=[],
        counts=count_outcomes([]),
        tests=[],
        timings=Timings(0.0, 0.0, 0.0, 0.0),
        started_at="",
        finished_at="",
    )


def is_cell_id(name: str) -> bool:
    """True when `name` reads as a cell id on its own: parts joined by `+`, each a version of
    a known backend (`postgres-16`), an interpreter (`py3.13`) or a named stack value beside
    one of those (`postgres-18+psycopg3`). A stack group's version (`sqlalchemy-2.0`) reads as
    one only against the matrix (`scripts.report.collect` asks it)."""
    try:
        parts = cell_id_parts(name)
    except CellIdError:
        return False
    if any(version and backend not in BACKENDS for backend, version in parts):
        return False  # `backup-2026`: no backend of ours
    if any(backend in BACKENDS and not version for backend, version in parts):
        return False  # `postgres` alone: a backend always comes with its version
    return any(version or python_version_of(part) for part, version in parts)


def axes_from_cell_id(cell: str) -> dict[Role, Axis]:
    """`postgres-16+valkey-8` → its axes (only those the id names; a stack or python part,
    `sqlalchemy-2.0`, `psycopg3`, `py3.13`, names no server and is passed over)."""
    axes: dict[Role, Axis] = {}
    try:
        parts = cell_id_parts(cell)
    except CellIdError:
        return axes
    for backend, version in parts:
        if backend in BACKENDS:  # not a stack value's nor an interpreter's part
            axes["cache" if backend in CACHE_BACKENDS else "database"] = Axis(backend, version)
    return axes


# ------------------------------------------------------------------ decoding


def _result_from_json(data: object) -> CellResult:
    top = _mapping(data, "the document")
    found_format = top.get("format")
    if found_format != RESULT_FORMAT:
        raise ResultFormatError(
            f"format is {found_format!r}, this harness reads format {RESULT_FORMAT}"
            " (re-run the cell with this version of the harness)"
        )
    axes_raw = _mapping(top.get("axes"), "axes")
    axes: dict[Role, Axis] = {}
    for role, axis in axes_raw.items():
        if role not in ROLES:
            raise ResultFormatError(f"axes: unknown role {role!r}")
        fields = _mapping(axis, f"axes.{role}")
        axes[role] = Axis(_str(fields, "backend", "axes"), _str(fields, "version", "axes"))
    counts_raw = _mapping(top.get("counts"), "counts")
    counts = count_outcomes([])
    for kind, number in counts_raw.items():
        if kind not in OUTCOME_KINDS or not isinstance(number, int):
            raise ResultFormatError(f"counts.{kind}: expected a known outcome and an integer")
        counts[kind] = number
    timings_raw = _mapping(top.get("timings"), "timings")
    return CellResult(
        cell=_str(top, "cell", ""),
        axes=axes,
        state=_choice(top, "state", CELL_STATES),
        reason=_optional_str(top, "reason", ""),
        servers=[_server(item, i) for i, item in enumerate(_list(top.get("servers"), "servers"))],
        counts=counts,
        tests=[_test(item, i) for i, item in enumerate(_list(top.get("tests"), "tests"))],
        timings=Timings(*(_number(timings_raw, name, "timings") for name in _TIMING_FIELDS)),
        started_at=_str(top, "started_at", ""),
        finished_at=_str(top, "finished_at", ""),
        log_tail=_optional_str(top, "log_tail", ""),
        format=RESULT_FORMAT,
        environment={
            str(k): str(v) for k, v in _mapping(top.get("environment", {}), "environment").items()
        },
        extra=dict(_mapping(top.get("extra", {}), "extra")),
        migrations=_migrations(top.get("migrations")),
        stack=_stack(top.get("stack", {})),
        interpreter=_optional_str(top, "interpreter", ""),
    )


def _stack(value: object) -> dict[str, str]:
    """The stack asked for; absent in results from before stacks (read as none)."""
    fields = _mapping(value, "stack")
    for group, name in fields.items():
        if not isinstance(name, str):
            raise ResultFormatError(f"stack.{group}: expected a string, got {name!r:.60}")
    return dict(fields)


def _migrations(value: object) -> MigrationsOutcome | None:
    if value is None:
        return None
    try:
        return MigrationsOutcome.from_json(value)
    except ValueError as error:
        raise ResultFormatError(f"migrations: {error}") from None


_T = TypeVar("_T", bound=str)
_TIMING_FIELDS = ("provision_s", "tests_s", "teardown_s", "total_s")


def _server(item: object, index: int) -> ServerInfo:
    where = f"servers[{index}]"
    fields = _mapping(item, where)
    return ServerInfo(
        role=_choice(fields, "role", ROLES, where),
        backend=_str(fields, "backend", where),
        requested=_str(fields, "requested", where),
        reported=_optional_str(fields, "reported", where),
        source=_optional_str(fields, "source", where),
        provenance=_optional_str(fields, "provenance", where),
    )


_OUTCOME_SET: frozenset[str] = frozenset(OUTCOME_KINDS)


def _test(item: object, index: int) -> TestOutcome:
    # the fast path: a report reads 100 000 of these; the checked path names what is wrong
    if isinstance(item, dict):
        test_id, group, outcome = item.get("id"), item.get("group"), item.get("outcome")
        duration, message = item.get("duration"), item.get("message")
        file, line, failed_line = item.get("file"), item.get("line"), item.get("failed_line")
        if (
            type(test_id) is str
            and type(group) is str
            and isinstance(outcome, str)
            and outcome in _OUTCOME_SET
            and isinstance(duration, float | int)
            and type(duration) is not bool
            and (message is None or type(message) is str)
            and (file is None or type(file) is str)
            and (line is None or type(line) is int)
            and (failed_line is None or type(failed_line) is int)
        ):
            kind = cast(TestOutcomeKind, outcome)
            return TestOutcome(
                test_id, group, kind, float(duration), message, file, line, failed_line
            )
    where = f"tests[{index}]"
    fields = _mapping(item, where)
    return TestOutcome(
        id=_str(fields, "id", where),
        group=_str(fields, "group", where),
        outcome=_choice(fields, "outcome", OUTCOME_KINDS, where),
        duration=_number(fields, "duration", where),
        message=_optional_str(fields, "message", where),
        file=_optional_str(fields, "file", where),
        line=_optional_int(fields, "line", where),
        failed_line=_optional_int(fields, "failed_line", where),
    )


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ResultFormatError(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ResultFormatError(f"{where}: expected an array, got {type(value).__name__}")
    return value


def _key(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _str(fields: Mapping[str, Any], key: str, where: str) -> str:
    value = fields.get(key)
    if not isinstance(value, str):
        raise ResultFormatError(f"{_key(where, key)}: expected a string, got {value!r:.60}")
    return value


def _optional_str(fields: Mapping[str, Any], key: str, where: str) -> str | None:
    value = fields.get(key)
    if value is not None and not isinstance(value, str):
        raise ResultFormatError(f"{_key(where, key)}: expected a string or null, got {value!r:.60}")
    return value


def _optional_int(fields: Mapping[str, Any], key: str, where: str) -> int | None:
    value = fields.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ResultFormatError(
            f"{_key(where, key)}: expected an integer or null, got {value!r:.60}"
        )
    return value


def _number(fields: Mapping[str, Any], key: str, where: str) -> float:
    value = fields.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultFormatError(f"{_key(where, key)}: expected a number, got {value!r:.60}")
    return float(value)


def _choice(fields: Mapping[str, Any], key: str, allowed: tuple[_T, ...], where: str = "") -> _T:
    value = fields.get(key)
    for option in allowed:
        if value == option:
            return option
    raise ResultFormatError(f"{_key(where, key)}: {value!r:.60} is not one of {', '.join(allowed)}")
