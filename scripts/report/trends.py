"""What the history says: each cell's state night by night, the night each current failure
began and what changed that night, how often each test is flaky, and since when each version
has been in its state.

A test is flaky on a night when it failed and passed on its rerun (`flaky`), or when it failed
between two nights on which it passed (a failure that came and went). A failure that stays is
a regression, not flakiness.

A run the interruption cut short (`Run.interrupted`) is no normal night: the streaks, the
flakiness and the "since" dates pass over it as over a night that did not run the cell.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from itertools import zip_longest

from scripts.report.history import CELL_STATE_OF_CODE, VERSION_STATE_CODES, History, Run
from scripts.report.model import (
    BackendVerdict,
    Cause,
    FirstFailure,
    FlakyTest,
    LibraryChange,
    Night,
    Trends,
)
from scripts.report.symbols import NOT_RUN_CODE, OUTCOME_CODES
from scripts.report.verdict import summarise
from scripts.results import CellResult
from scripts.vocabulary import version_id

_BAD_CELL_CODES = frozenset("fe")
_BAD_TEST_CODES = frozenset((OUTCOME_CODES["failed"], OUTCOME_CODES["error"]))
_EVENTS = re.compile("[fek]")  # failed, error, flaky
_RAN = re.compile(f"[^{NOT_RUN_CODE}]")
# a flaky night: `k`, or a failure whose nearest runs before and after (not counting runs
# without the test, `-`) passed; `|` separates tests, so no match reaches into the next one
_FLAKY_NIGHT = re.compile(r"(k)|(?<=[pk])-*([fe])(?=-*[pk])")


def derive_trends(history: History, cells: Sequence[CellResult], path: str) -> Trends:
    """The trends of `history`, whose last run is tonight's (`cells`)."""
    nights = [Night(i, run.at, run.commit) for i, run in enumerate(history.runs)]
    strips = {
        cell.cell: [
            CELL_STATE_OF_CODE[found.state] if (found := run.cells.get(cell.cell)) else None
            for run in history.runs
        ]
        for cell in cells
    }
    failures = first_failures(history, nights, cells)
    return Trends(
        path=path,
        nights=nights,
        strips=strips,
        first_failures=failures,
        flaky=flaky_tests(history),
        library_changes=library_changes(history, failures),
    )


# ------------------------------------------------------------------ first failures


def first_failures(
    history: History, nights: Sequence[Night], cells: Sequence[CellResult]
) -> list[FirstFailure]:
    """Every failing cell and failing test of tonight, with the night its failure began."""
    runs = history.runs
    index = history.test_index()
    found: list[FirstFailure] = []
    for cell in cells:
        if runs and cell.cell not in runs[-1].cells:
            continue  # tonight's run was interrupted before it started this cell
        if cell.state in ("failed", "error"):
            codes = [_cell_code(run, cell.cell) for run in runs]
            start = _streak_start(codes, _BAD_CELL_CODES)
            found.append(_failure(runs, nights, cell.cell, None, cell.state, start))
        for test in cell.tests:
            if test.outcome not in ("failed", "error"):
                continue
            codes = [_test_code(run, cell.cell, index[test.id]) for run in runs]
            start = _streak_start(codes, _BAD_TEST_CODES)
            found.append(_failure(runs, nights, cell.cell, test.id, test.outcome, start))
    return found


def _cell_code(run: Run, cell: str) -> str:
    found = None if run.interrupted else run.cells.get(cell)
    return found.state if found else NOT_RUN_CODE


def _test_code(run: Run, cell: str, position: int) -> str:
    found = None if run.interrupted else run.cells.get(cell)
    if found is None or position >= len(found.tests):
        return NOT_RUN_CODE
    return found.tests[position]


def _streak_start(codes: Sequence[str], bad: frozenset[str]) -> int:
    """The first run of the failing streak that ends with the last run (runs without the
    cell or test are passed over, not counted as a break); `codes` holds one code per run."""
    start = len(codes) - 1
    for position in range(len(codes) - 2, -1, -1):
        code = codes[position]
        if code == NOT_RUN_CODE:
            continue
        if code not in bad:
            break
        start = position
    return start


def _failure(
    runs: Sequence[Run],
    nights: Sequence[Night],
    cell: str,
    test: str | None,
    state: str,
    start: int,
) -> FirstFailure:
    previous = next(
        (
            position
            for position in range(start - 1, -1, -1)
            if cell in runs[position].cells and not runs[position].interrupted
        ),
        None,
    )
    return FirstFailure(
        cell=cell,
        test=test,
        state=state,
        night=nights[start],
        cause=cause(runs, nights, cell, previous, start),
    )


def cause(
    runs: Sequence[Run], nights: Sequence[Night], cell: str, before: int | None, after: int
) -> Cause:
    """What differs between run `before` (the last one that ran `cell`) and run `after`."""
    if before is None:
        return Cause(None, None, [], [])
    old, new = runs[before], runs[after]
    commit = (old.commit, new.commit) if old.commit != new.commit else None
    old_cell, new_cell = old.cells[cell], new.cells[cell]
    old_servers, new_servers = old_cell.servers, new_cell.servers
    servers = [
        (role, old_servers.get(role), new_servers.get(role))
        for role in sorted(set(old_servers) | set(new_servers))
        if old_servers.get(role) != new_servers.get(role)
    ]
    return Cause(nights[before], commit, servers, changed_libraries(old, new, cell))


def changed_libraries(old: Run, new: Run, cell: str) -> list[tuple[str, str | None, str | None]]:
    """(name, before, after) of each library whose version differs between the two runs of
    `cell`: what the cell's own venv held when both runs kept it, else (runs from before it
    was kept) the libraries of the process that rendered the report."""
    old_cell, new_cell = old.cells[cell], new.cells[cell]
    if old_cell.libraries and new_cell.libraries:
        before, after = old_cell.libraries, new_cell.libraries
    else:
        before, after = old.libraries, new.libraries
    return [
        (name, before.get(name), after.get(name))
        for name in sorted(set(before) | set(after))
        if before.get(name) != after.get(name)
    ]


# ------------------------------------------------------------------ libraries


def library_changes(history: History, failures: Sequence[FirstFailure]) -> list[LibraryChange]:
    """The libraries whose installed version changed since the run before, per cell (each
    cell against the last run that ran it), with the failures that began tonight in those
    cells; only from the cells' own venvs, so a run before they were kept flags nothing."""
    runs = history.runs
    if not runs or runs[-1].interrupted:
        return []
    tonight = runs[-1]
    changed: dict[tuple[str, str | None, str | None], list[str]] = {}
    for cell, now in tonight.cells.items():
        previous = next(
            (run for run in reversed(runs[:-1]) if cell in run.cells and not run.interrupted),
            None,
        )
        if previous is None or not now.libraries or not previous.cells[cell].libraries:
            continue
        for change in changed_libraries(previous, tonight, cell):
            changed.setdefault(change, []).append(cell)
    begun = [f for f in failures if f.night.index == len(runs) - 1]
    return [
        LibraryChange(
            name,
            before,
            after,
            cells,
            [
                f"{f.cell} · {f.test} {f.state}" if f.test else f"cell {f.cell} {f.state}"
                for f in begun
                if f.cell in cells
            ],
        )
        for (name, before, after), cells in changed.items()
    ]


# ------------------------------------------------------------------ flakiness


def flaky_tests(history: History) -> list[FlakyTest]:
    """Tests flaky on at least one night, worst rate first.

    Per cell, the runs' code strings are turned into one string per test (its code night by
    night, `|` between tests) and one regular expression finds the flaky nights in it, so 60
    runs × 500 cells × 200 tests take a fraction of a second.
    """
    runs = [run for run in history.runs if not run.interrupted]
    width = len(runs) + 1  # a test's nights, then its `|`
    flaky_nights: dict[int, set[int]] = {}
    flaky_cells: dict[int, set[str]] = {}
    for cell in dict.fromkeys(name for run in runs for name in run.cells):
        strings = [found.tests if (found := run.cells.get(cell)) else "" for run in runs]
        if not any(_EVENTS.search(codes) for codes in strings):
            continue
        by_test = "|".join(map("".join, zip_longest(*strings, fillvalue=NOT_RUN_CODE)))
        for match in _FLAKY_NIGHT.finditer(by_test):
            position, run_index = divmod(match.start(match.lastindex or 0), width)
            flaky_nights.setdefault(position, set()).add(run_index)
            flaky_cells.setdefault(position, set()).add(cell)
    nights_ran = _nights_ran(runs, len(history.tests))
    flaky = [
        FlakyTest(
            test=history.tests[position],
            flaky_nights=len(nights),
            nights=nights_ran[position],
            cells=sorted(flaky_cells[position]),
        )
        for position, nights in flaky_nights.items()
    ]
    return sorted(flaky, key=lambda f: (-f.rate, -f.flaky_nights, f.test))


def _nights_ran(runs: Sequence[Run], tests: int) -> list[int]:
    """Per test (of `tests`), the runs in which at least one cell ran it."""
    counts = [0] * tests
    for run in runs:
        full = 0  # every test below this position ran in a cell without gaps
        partial: set[int] = set()
        for found in run.cells.values():
            if NOT_RUN_CODE in found.tests:
                partial.update(match.start() for match in _RAN.finditer(found.tests))
            else:
                full = max(full, len(found.tests))
        for position in range(full):
            counts[position] += 1
        for position in partial:
            if position >= full:
                counts[position] += 1
    return counts


# ------------------------------------------------------------------ since


def with_since(verdict: Sequence[BackendVerdict], history: History) -> list[BackendVerdict]:
    """The verdict with, per version, the date since which the history shows its state."""
    runs = history.runs
    updated: list[BackendVerdict] = []
    for backend in verdict:
        versions = []
        for version in backend.versions:
            key = version_id(backend.backend, version.version)
            wanted = VERSION_STATE_CODES[version.state]
            since = runs[-1].at
            for run in reversed(runs[:-1]):
                code = None if run.interrupted else run.versions.get(key)
                if code is None:
                    continue
                if code != wanted:
                    break
                since = run.at
            versions.append(replace(version, since=since[:10]))
        updated.append(replace(backend, versions=versions, summary=summarise(versions)))
    return updated
