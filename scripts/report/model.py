"""The report in memory: run metadata, the cells, the verdict per backend, the difference.

Standard library only: `scripts.report.schema` generates compat.schema.json from these classes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from scripts.results import NOT_STARTED, WHILE_RUNNING, CellResult, CellState, interruption_of

REPORT_SCHEMA = "fastapi-compat-matrix/compat-report"
REPORT_FORMAT = 1
"""Bump when compat.json changes incompatibly; `compat.schema.json`, generated from these
classes (`scripts.report.schema`), documents each field."""

VersionState = Literal["passed", "flaky", "failed", "error", "unavailable", "missing"]
VERSION_STATES: tuple[VersionState, ...] = (
    "passed",
    "flaky",
    "failed",
    "error",
    "unavailable",
    "missing",
)


@dataclass(frozen=True)
class RunInfo:
    generated_at: str
    git_commit: str | None
    git_dirty: bool | None
    python: str
    platform: str
    libraries: dict[str, str]
    matrix_path: str
    matrix_sha256: str | None
    results_dirs: list[str]
    warnings: list[str]


@dataclass(frozen=True)
class VersionVerdict:
    version: str
    state: VersionState
    cells: list[str]  # the cells that count for this version
    reason: str | None  # for failed/error/unavailable/missing: why, one line
    since: str | None = None  # the date (YYYY-MM-DD) since which the history shows this state


@dataclass(frozen=True)
class BackendVerdict:
    backend: str
    name: str  # "PostgreSQL"
    role: str  # "database" | "cache"
    versions: list[VersionVerdict]
    summary: str  # "13–16, 18 ✅; 17 ❌ failed"
    supported: str  # passed versions as ranges, "13–16, 18" ("" when none)


@dataclass(frozen=True)
class InstalledVersion(VersionVerdict):
    """One installed version of a library (`2.0.44`), or one interpreter (`3.12`), and the
    cells that ran it: a version is as good as the worst of them."""

    asked: list[str] = field(default_factory=list)  # the stack values or python versions asked
    installed: list[str] = field(default_factory=list)  # what ran: "kombu 5.5.4", "3.12.1"
    failing: list[str] = field(default_factory=list)  # its cells that did not pass, worst first


StackKind = Literal["library", "interpreter"]


@dataclass(frozen=True)
class StackVerdict:
    """A library (a stack group's distributions, or one whose version differed between cells)
    or the interpreter, by the versions that really ran."""

    key: str  # the stack group ("sqlalchemy", "driver"), a distribution's name, or "python"
    name: str  # "SQLAlchemy", "Python"
    kind: StackKind
    distributions: list[str]  # the distributions whose installed versions tell its versions
    versions: list[InstalledVersion]
    summary: str  # "2.0.44, 2.1.9 ✅ passed" or "3.11–3.12 ✅ passed; 3.13 ❌ failed in py3.13"


@dataclass(frozen=True)
class Change:
    """One entry of the difference from the previous report."""

    cell: str
    test: str | None  # None for a whole cell
    before: str | None  # outcome or cell state; None when absent
    after: str | None
    message: str | None = None


@dataclass(frozen=True)
class Diff:
    previous_generated_at: str | None
    previous_git_commit: str | None
    previous_path: str
    regressions: list[Change] = field(default_factory=list)
    fixed: list[Change] = field(default_factory=list)
    newly_flaky: list[Change] = field(default_factory=list)
    cells_unavailable: list[Change] = field(default_factory=list)
    cells_errored: list[Change] = field(default_factory=list)
    cells_added: list[str] = field(default_factory=list)
    cells_dropped: list[str] = field(default_factory=list)
    versions_added: list[str] = field(default_factory=list)
    versions_dropped: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(
            (
                self.regressions,
                self.fixed,
                self.newly_flaky,
                self.cells_unavailable,
                self.cells_errored,
                self.cells_added,
                self.cells_dropped,
                self.versions_added,
                self.versions_dropped,
            )
        )


@dataclass(frozen=True)
class Night:
    """One run of the history, as the trends name it."""

    index: int  # position in the history, 0 = oldest kept
    at: str  # ISO 8601, UTC
    commit: str | None

    @property
    def date(self) -> str:
        return self.at[:10]


@dataclass(frozen=True)
class Cause:
    """What changed between the last good run and the first failing one."""

    previous: Night | None  # the last run before the failure that ran the same cell
    commit: tuple[str | None, str | None] | None  # (before, after) when the commit changed
    servers: list[tuple[str, str | None, str | None]]  # (role, before, after) reported versions
    libraries: list[tuple[str, str | None, str | None]]  # (name, before, after)

    def text(self) -> str:
        """`commit abc1234 → def5678; database 16.3 → 16.4` or why nothing is named."""
        if self.previous is None:
            return "no earlier run of this cell in the history"
        parts: list[str] = []
        if self.commit is not None:
            before, after = (c[:12] if c else "unknown" for c in self.commit)
            parts.append(f"commit {before} → {after}")
        parts += [f"{role} {b or 'absent'} → {a or 'absent'}" for role, b, a in self.servers]
        parts += [f"{name} {b or 'absent'} → {a or 'absent'}" for name, b, a in self.libraries]
        if not parts:
            return "same commit, server versions and libraries as the run before"
        return "; ".join(parts)


@dataclass(frozen=True)
class LibraryChange:
    """A library (or the interpreter, "python") whose installed version changed in some cells
    since the run before that ran them, and the failures that began with it."""

    name: str  # the distribution, or "python"
    before: str | None  # None: not installed before
    after: str | None
    cells: list[str]  # the cells in which it changed
    regressions: list[str]  # "cell x failed", "x · tests/…::test_y failed": begun tonight

    def text(self) -> str:
        """`redis 6.4.0 → 7.1.0`."""
        return f"{self.name} {self.before or 'absent'} → {self.after or 'absent'}"


@dataclass(frozen=True)
class FirstFailure:
    """A cell (test None) or a test of a cell failing now, and the night that began it."""

    cell: str
    test: str | None
    state: str  # the cell state or test outcome now
    night: Night  # the first run of the current failing streak
    cause: Cause


@dataclass(frozen=True)
class FlakyTest:
    """A test that failed then passed on the rerun, or failed between two passes."""

    test: str
    flaky_nights: int
    nights: int  # runs of the history in which any cell ran the test
    cells: list[str]  # the cells it flaked in

    @property
    def rate(self) -> float:
        return self.flaky_nights / self.nights if self.nights else 0.0


@dataclass(frozen=True)
class Trends:
    """What the history says beyond tonight: strips, first failures, flaky tests."""

    path: str
    nights: list[Night]  # oldest first, tonight last
    strips: dict[str, list[CellState | None]]  # cell → its state per night (None: not in it)
    first_failures: list[FirstFailure]
    flaky: list[FlakyTest]  # worst first
    library_changes: list[LibraryChange] = field(default_factory=list)  # since the run before

    def since(self, cell: str) -> str | None:
        """The date from which `cell` has had tonight's state (runs without it passed over)."""
        strip = self.strips.get(cell, [])
        if not strip or strip[-1] is None:
            return None
        start = len(strip) - 1
        for position in range(len(strip) - 2, -1, -1):
            if strip[position] is None:
                continue
            if strip[position] != strip[-1]:
                break
            start = position
        return self.nights[start].date


@dataclass(frozen=True)
class Summary:
    """The run in numbers and in the one line the command line prints."""

    cells: int
    states: dict[CellState, int]
    line: str


@dataclass(frozen=True)
class Report:
    run: RunInfo
    cells: list[CellResult]
    verdict: list[BackendVerdict]
    diff: Diff | None
    diff_note: str | None  # why there is no diff, or a problem reading the previous report
    trends: Trends | None = None  # None when the report keeps no history
    history_note: str | None = None  # a history that was missing or unreadable, and started anew
    stack_verdict: list[StackVerdict] = field(default_factory=list)  # libraries, interpreter
    floors: list[str] = field(default_factory=list)  # `nox -s floor`'s answers (report/floors.py)

    def state_counts(self) -> dict[CellState, int]:
        counts: dict[CellState, int] = dict.fromkeys(
            ("passed", "failed", "flaky", "error", "unavailable"), 0
        )
        for cell in self.cells:
            counts[cell.state] += 1
        return counts

    def one_line(self) -> str:
        """`5 cells: 1 passed, 1 failed, 1 flaky, 1 error, 1 unavailable; 1 regression`."""
        counts = self.state_counts()
        parts = [f"{n} {state}" for state, n in counts.items() if n]
        line = f"{len(self.cells)} cells: " + (", ".join(parts) if parts else "none")
        how = [interruption_of(cell) for cell in self.cells]
        stopped, never = how.count(WHILE_RUNNING), how.count(NOT_STARTED)
        if stopped or never:
            line += f"; interrupted: {_cells(stopped)} cut short, {never} not started"
        if self.diff is not None:
            n = len(self.diff.regressions)
            line += f"; {n} regression{'s' if n != 1 else ''} since the previous report"
            if stopped or never:
                line += " among the cells that finished"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "format": REPORT_FORMAT,
            "run": asdict(self.run),
            "summary": asdict(Summary(len(self.cells), self.state_counts(), self.one_line())),
            "verdict": [asdict(v) for v in self.verdict],
            "stack_verdict": [asdict(v) for v in self.stack_verdict],
            "cells": [cell.to_json() for cell in self.cells],
            "diff": None if self.diff is None else {**asdict(self.diff), "empty": self.diff.empty},
            "diff_note": self.diff_note,
            "history": None if self.trends is None else trends_json(self.trends, self.history_note),
            "floors": self.floors,
        }


def trends_json(trends: Trends, note: str | None) -> dict[str, Any]:
    """The history's findings in compat.json (the history file itself holds every outcome)."""
    return {
        "path": trends.path,
        "note": note,
        "nights": [{"index": n.index, "at": n.at, "commit": n.commit} for n in trends.nights],
        "strips": trends.strips,
        "first_failures": [
            {
                "cell": f.cell,
                "test": f.test,
                "state": f.state,
                "night": {"index": f.night.index, "at": f.night.at, "commit": f.night.commit},
                "cause": f.cause.text(),
            }
            for f in trends.first_failures
        ],
        "flaky": [{**asdict(flaky), "rate": round(flaky.rate, 4)} for flaky in trends.flaky],
        "library_changes": [asdict(change) for change in trends.library_changes],
    }


def _cells(count: int) -> str:
    return f"{count} cell{'s' if count != 1 else ''}"
