"""COMPATIBILITY.md's History section: a row of symbols per cell, night by night; the night
each current failure began and what changed that night; the flaky tests and their rate."""

from __future__ import annotations

from scripts.report.markdown_text import code, escape
from scripts.report.model import FirstFailure, LibraryChange, Report, Trends
from scripts.report.symbols import CELL_STATE_SYMBOLS
from scripts.results import CellState

STRIP_RUNS = 20  # a Markdown row stays readable on a laptop screen
ABSENT = "·"  # the cell was not in that run
MAX_FIRST_FAILURES = 40
MAX_FLAKY = 30
MAX_CELLS_NAMED = 5  # per flaky test; compat.json names them all
HISTORY_HEADING = "History"


def history_markdown(report: Report) -> list[str]:
    """The section's lines; none when the report keeps no history."""
    trends = report.trends
    if trends is None:
        return []
    shown = min(STRIP_RUNS, len(trends.nights))
    lines = [
        f"## {HISTORY_HEADING}",
        "",
        f"{len(trends.nights)} run(s) kept in {code(trends.path)}, from"
        f" {trends.nights[0].date} to {trends.nights[-1].date}; each row shows the last"
        f" {shown}, oldest first ({ABSENT}: the cell was not in that run).",
        "",
    ]
    if report.history_note:
        lines += [f"Note: {escape(report.history_note)}.", ""]
    lines += ["| Cell | Last runs | Now |", "|---|---|---|"]
    for cell in report.cells:
        strip = trends.strips.get(cell.cell, [])[-shown:]
        symbols = "".join(CELL_STATE_SYMBOLS[s] if s else ABSENT for s in strip)
        lines.append(f"| {code(cell.cell)} | {symbols} | {_now(trends, cell.cell, cell.state)} |")
    lines += ["", *_library_changes(trends), "", *_first_failures(trends), "", *_flaky(trends)]
    return lines


def _library_changes(trends: Trends) -> list[str]:
    lines = ["### Libraries changed since the previous run", ""]
    if not trends.library_changes:
        return [*lines, "No installed library changed in any cell since the run before it."]
    for change in trends.library_changes[:MAX_FIRST_FAILURES]:
        lines.append(f"- {library_change_line(change)}")
    more = len(trends.library_changes) - MAX_FIRST_FAILURES
    if more > 0:
        lines.append(f"- … and {more} more (see compat.json)")
    return lines


def library_change_line(change: LibraryChange) -> str:
    """`**redis 6.4.0 → 7.1.0** in `sqlite-stdlib`; came with: cell sqlite-stdlib failed`."""
    cells = ", ".join(code(cell) for cell in change.cells[:MAX_CELLS_NAMED])
    if len(change.cells) > MAX_CELLS_NAMED:
        cells += f" and {len(change.cells) - MAX_CELLS_NAMED} more"
    came = f"; came with: {escape('; '.join(change.regressions))}" if change.regressions else ""
    return f"**{escape(change.text())}** in {cells}{came}"


def _now(trends: Trends, cell: str, state: CellState) -> str:
    since = trends.since(cell)
    return f"{CELL_STATE_SYMBOLS[state]} {state}" + (f" since {since}" if since else "")


def _first_failures(trends: Trends) -> list[str]:
    lines = ["### Failing since", ""]
    if not trends.first_failures:
        return [*lines, "Nothing fails tonight."]
    lines += [
        "The night each current failure began, and what changed from the run before it.",
        "",
    ]
    lines += [f"- {first_failure_line(f)}" for f in trends.first_failures[:MAX_FIRST_FAILURES]]
    more = len(trends.first_failures) - MAX_FIRST_FAILURES
    if more > 0:
        lines.append(f"- … and {more} more (see compat.json)")
    return lines


def first_failure_line(failure: FirstFailure) -> str:
    """`cell `x` failed since **2026-11-12** (commit `def5678`): commit abc → def`."""
    what = (
        f"{code(failure.cell)} · {code(failure.test)}"
        if failure.test
        else f"cell {code(failure.cell)}"
    )
    night = failure.night
    commit = f", commit {code(night.commit[:12])}" if night.commit else ""
    return (
        f"{what} {failure.state} since **{night.date}** (run {night.index + 1}{commit}):"
        f" {escape(failure.cause.text())}"
    )


def _flaky(trends: Trends) -> list[str]:
    lines = ["### Flaky tests", ""]
    if not trends.flaky:
        return [*lines, "No test was flaky in the kept runs."]
    lines += [
        "Flaky on a night: failed, then passed on the rerun; or failed between two passing nights.",
        "",
        "| Test | Flaky nights | Rate | Cells |",
        "|---|---:|---:|---|",
    ]
    for flaky in trends.flaky[:MAX_FLAKY]:
        cells = ", ".join(code(cell) for cell in flaky.cells[:MAX_CELLS_NAMED])
        if len(flaky.cells) > MAX_CELLS_NAMED:
            cells += f" and {len(flaky.cells) - MAX_CELLS_NAMED} more"
        lines.append(
            f"| {code(flaky.test)} | {flaky.flaky_nights} of {flaky.nights}"
            f" | {flaky.rate:.0%} | {cells} |"
        )
    if len(trends.flaky) > MAX_FLAKY:
        lines.append(f"\n… and {len(trends.flaky) - MAX_FLAKY} more (see compat.json)")
    return lines
