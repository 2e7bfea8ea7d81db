"""The report in memory: run metadata, the cells, the verdict per backend, the difference."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from scripts.results import CellResult, CellState

REPORT_SCHEMA = "fastapi-compat-matrix/compat-report"
REPORT_FORMAT = 1
"""Bump when compat.json changes incompatibly; `compat.schema.json` documents each field."""

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


@dataclass(frozen=True)
class BackendVerdict:
    backend: str
    name: str  # "PostgreSQL"
    role: str
    versions: list[VersionVerdict]
    summary: str  # "13–16, 18 ✅; 17 ❌ failed"
    supported: str  # passed versions as ranges, "13–16, 18" ("" when none)


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
class Report:
    run: RunInfo
    cells: list[CellResult]
    verdict: list[BackendVerdict]
    diff: Diff | None
    diff_note: str | None  # why there is no diff, or a problem reading the previous report

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
        if self.diff is not None:
            n = len(self.diff.regressions)
            line += f"; {n} regression{'s' if n != 1 else ''} since the previous report"
        return line

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": REPORT_SCHEMA,
            "format": REPORT_FORMAT,
            "run": asdict(self.run),
            "summary": {
                "cells": len(self.cells),
                "states": self.state_counts(),
                "line": self.one_line(),
            },
            "verdict": [asdict(v) for v in self.verdict],
            "cells": [cell.to_json() for cell in self.cells],
            "diff": None if self.diff is None else {**asdict(self.diff), "empty": self.diff.empty},
            "diff_note": self.diff_note,
        }
