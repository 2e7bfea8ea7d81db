"""The difference between this report and an earlier compat.json, keyed by cell and test id."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scripts.report.model import REPORT_FORMAT, REPORT_SCHEMA, BackendVerdict, Change, Diff
from scripts.results import CellResult, interruption_of
from scripts.vocabulary import version_id

_GOOD = {"passed", "flaky"}
_BAD = {"failed", "error"}


class PreviousReportError(Exception):
    """The previous report cannot be compared with; the message says why."""


@dataclass(frozen=True)
class Snapshot:
    """The parts of a report the difference looks at."""

    generated_at: str | None
    git_commit: str | None
    cell_states: dict[str, str]
    outcomes: dict[str, dict[str, tuple[str, str | None]]]  # cell → test → (outcome, message)
    versions: set[str]  # "postgres-16" for every version with at least one counted cell


def load_previous(path: Path) -> Snapshot:
    """Read an earlier compat.json; raise `PreviousReportError` when it is not one."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise PreviousReportError(f"previous report {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PreviousReportError(f"previous report {path} is unreadable: {error}") from None
    if not isinstance(document, dict) or document.get("schema") != REPORT_SCHEMA:
        raise PreviousReportError(
            f"{path} is not a compat.json report (no schema {REPORT_SCHEMA!r})"
        )
    if document.get("format") != REPORT_FORMAT:
        raise PreviousReportError(
            f"{path} has report format {document.get('format')!r}; this harness compares"
            f" format {REPORT_FORMAT}"
        )
    try:
        return _snapshot_of_document(document)
    except (KeyError, TypeError, AttributeError) as error:
        raise PreviousReportError(f"{path} is a damaged compat.json ({error!r})") from None


def _snapshot_of_document(document: Mapping[str, Any]) -> Snapshot:
    run = document.get("run") or {}
    cells = document["cells"]
    return Snapshot(
        generated_at=run.get("generated_at"),
        git_commit=run.get("git_commit"),
        cell_states={cell["cell"]: cell["state"] for cell in cells},
        outcomes={
            cell["cell"]: {t["id"]: (t["outcome"], t.get("message")) for t in cell["tests"]}
            for cell in cells
        },
        versions={
            version_id(verdict["backend"], version["version"])
            for verdict in document["verdict"]
            for version in verdict["versions"]
            if version["cells"]
        },
    )


def snapshot(cells: Sequence[CellResult], verdict: Sequence[BackendVerdict]) -> Snapshot:
    return Snapshot(
        generated_at=None,
        git_commit=None,
        cell_states={cell.cell: cell.state for cell in cells},
        outcomes={cell.cell: {t.id: (t.outcome, t.message) for t in cell.tests} for cell in cells},
        versions={
            version_id(v.backend, vv.version) for v in verdict for vv in v.versions if vv.cells
        },
    )


def interrupted_cells(cells: Sequence[CellResult]) -> frozenset[str]:
    """The cells the run's interruption cut short or never started."""
    return frozenset(cell.cell for cell in cells if interruption_of(cell) is not None)


def compare(
    previous: Snapshot,
    current: Snapshot,
    previous_path: str,
    cut_short: frozenset[str] = frozenset(),
) -> Diff:
    """Regressions (passed before, failing now), fixes, new flakiness, lost cells, versions.

    The cells in `cut_short` (an interruption stopped or never started them) say nothing of
    the code: they are neither regressions nor fixes, nor dropped."""
    diff = Diff(previous.generated_at, previous.git_commit, previous_path)
    for cell, state in current.cell_states.items():
        if cell in cut_short:
            continue
        before_state = previous.cell_states.get(cell)
        if before_state is None:
            diff.cells_added.append(cell)
            continue
        before_tests = previous.outcomes.get(cell, {})
        test_regressions = 0
        for test, (outcome, message) in current.outcomes.get(cell, {}).items():
            before = before_tests.get(test, (None, None))[0]
            if before in _GOOD and outcome in _BAD:
                diff.regressions.append(Change(cell, test, before, outcome, message))
                test_regressions += 1
            elif before in _BAD and outcome == "passed":
                diff.fixed.append(Change(cell, test, before, outcome))
            if outcome == "flaky" and before != "flaky":
                diff.newly_flaky.append(Change(cell, test, before, outcome, message))
        if before_state in _GOOD and state in _BAD and not test_regressions:
            # the whole cell broke (or a new test fails in it): the cell itself regressed
            diff.regressions.append(Change(cell, None, before_state, state))
        if before_state in _BAD and state == "passed" and not before_tests:
            diff.fixed.append(Change(cell, None, before_state, state))
        if state != before_state and state == "unavailable":
            diff.cells_unavailable.append(Change(cell, None, before_state, state))
        if state != before_state and state == "error":
            diff.cells_errored.append(Change(cell, None, before_state, state))
    diff.cells_dropped.extend(c for c in previous.cell_states if c not in current.cell_states)
    diff.versions_added.extend(sorted(current.versions - previous.versions))
    diff.versions_dropped.extend(sorted(previous.versions - current.versions))
    return diff
