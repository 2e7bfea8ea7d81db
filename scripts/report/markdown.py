"""COMPATIBILITY.md: verdict, cells, test groups × cells, failures, changes since last time."""

from __future__ import annotations

from collections.abc import Iterable

from scripts.report.cause import cell_cause
from scripts.report.floors import floors_markdown
from scripts.report.grid import grid_rows
from scripts.report.history_markdown import history_markdown
from scripts.report.markdown_text import code, escape, fenced
from scripts.report.migrations import migrations_shown
from scripts.report.model import Change, Diff, Report
from scripts.report.stack import cell_stack
from scripts.report.symbols import (
    CELL_STATE_SYMBOLS,
    FAILING_OUTCOMES,
    FAILURES_HEADING,
    OUTCOME_SYMBOLS,
    first_lines,
    missing_server_note,
)
from scripts.report.verdict import SYMBOLS
from scripts.results import CellResult, ServerInfo, TestOutcomeKind

GRID_SVG_NAME = "grid.svg"
MAX_FAILURES = 40
MAX_CHANGES = 60
REASON_LINES = 3
REASON_CHARS = 300
"""A reason in the Markdown shows at most this much; result.json and the HTML keep it whole."""


def render_markdown(report: Report) -> str:
    out: list[str] = ["# Compatibility report", ""]
    run = report.run
    commit = f"`{run.git_commit[:12]}`" if run.git_commit else "unknown commit"
    out += [
        f"**{report.one_line()}** — generated {run.generated_at} at {commit}"
        f" with Python {run.python}.",
        "",
        *_grid(report),
        "",
        "## Verdict",
        "",
    ]
    out += [f"- **{v.name}** {escape(v.summary)}" for v in report.verdict] or ["- no cells"]
    out += [f"- **{line.name}** {escape(line.summary)}" for line in report.stack_verdict]
    out += floors_markdown(report.floors)
    out += ["", *_cells(report)]
    out += _history(report)
    out += ["", *_groups(report.cells), "", *_failures(report.cells)]
    out += ["", *_changes(report.diff, report.diff_note)]
    if run.warnings:
        out += ["", "## Warnings", "", *(f"- {escape(w)}" for w in run.warnings)]
    legend = " · ".join(f"{symbol} {state}" for state, symbol in CELL_STATE_SYMBOLS.items())
    out += ["", f"<sub>Legend: {legend} · ⏭️ skipped · ➖ no tests</sub>", ""]
    return "\n".join(out)


def _grid(report: Report) -> list[str]:
    """The version grid: a row per backend, a box per version (symbol, word, reported version);
    grid.svg beside this file is the same as an image."""
    rows = grid_rows(report)
    if not rows:
        return []
    widest = max(len(row.boxes) for row in rows)
    lines = [
        "## Versions",
        "",
        f"![The version grid: {len(rows)} rows]({GRID_SVG_NAME})",
        "",
        "| Axis |" + " |" * widest,
        "|---|" + "---|" * widest,
    ]
    for row in rows:
        boxes = [
            f"**{escape(box.version)}** {SYMBOLS[box.state]}"
            + (f"<br>{escape(box.shown)}" if box.shown != box.version else "")
            for box in row.boxes
        ]
        boxes += [""] * (widest - len(boxes))
        lines.append(f"| **{escape(row.label)}** | " + " | ".join(boxes) + " |")
    return lines


def _history(report: Report) -> list[str]:
    lines = history_markdown(report)
    return ["", *lines] if lines else []


def _cells(report: Report) -> list[str]:
    """A line per cell; a Stack column (the versions that really ran) when the run has stacks
    or interpreters."""
    stacked = any(cell.stack or cell.interpreter for cell in report.cells)
    lines = [
        "## Cells",
        "",
        "| Cell | State | Database | Cache |"
        + (" Stack |" if stacked else "")
        + " Migrations | Passed | Failed | Skipped | Flaky | Time | Note |",
        "|---|---|---|---|" + ("---|" if stacked else "") + "---|---:|---:|---:|---:|---:|---|",
    ]
    for cell in report.cells:
        servers = {server.role: server for server in cell.servers}
        shown = []
        for role in ("database", "cache"):
            server = servers.get(role)
            axis = cell.axes.get(role)
            requested = axis.id if axis else "?"
            if server is None or server.reported is None:
                shown.append(f"{requested} {missing_server_note(server)}")
            else:
                origin = archive_origin(server.provenance)
                shown.append(f"{requested}: {server.reported} via {source_shown(server)}{origin}")
        counts = cell.counts
        # a failure's cause ends with its root error; an error's whole reason is cut to lines
        note = short_reason(cell_cause(cell) if cell.state in ("failed", "flaky") else cell.reason)
        stack = f" | {escape(', '.join(cell_stack(cell, report.stack_verdict)))}" if stacked else ""
        lines.append(
            f"| {code(cell.cell)} | {CELL_STATE_SYMBOLS[cell.state]} {cell.state}"
            f" | {escape(shown[0])} | {escape(shown[1])}{stack}"
            f" | {escape(short_reason(migrations_shown(cell.migrations)) or '')}"
            f" | {counts['passed']} | {counts['failed'] + counts['error']} | {counts['skipped']}"
            f" | {counts['flaky']} | {cell.timings.total_s:.1f} s | {escape(note or '')} |"
        )
    return lines


def source_shown(server: ServerInfo) -> str:
    """The source kind; for a container, its image too (the provenance starts with it)."""
    if server.source == "image" and server.provenance:
        return f"image {server.provenance.split()[0]}"
    return str(server.source)


def archive_origin(provenance: str | None) -> str:
    """` (debian sid mysql-server-core 9.7.4-2)` for a program from Debian's archive, else ``."""
    if not provenance or not provenance.startswith("debian "):
        return ""
    return f" ({provenance.split(' (', 1)[0]})"


def group_symbol(cell: CellResult, outcomes: list[str]) -> str:
    """One symbol for a test group in a cell: worst outcome wins."""
    if not outcomes:
        return CELL_STATE_SYMBOLS[cell.state] if cell.state in ("error", "unavailable") else "➖"
    worst: tuple[TestOutcomeKind, ...] = ("error", "failed", "flaky")
    for outcome in worst:
        if outcome in outcomes:
            return OUTCOME_SYMBOLS[outcome]
    if all(o in ("skipped", "xfailed") for o in outcomes):
        return OUTCOME_SYMBOLS["skipped"]
    return OUTCOME_SYMBOLS["passed"]


def _groups(cells: list[CellResult]) -> list[str]:
    groups = sorted({test.group for cell in cells for test in cell.tests})
    lines = ["## Test groups × cells", ""]
    if not groups:
        return [*lines, "No test ran in any cell."]
    lines.append("| Test group | " + " | ".join(f"{code(c.cell)}" for c in cells) + " |")
    lines.append("|---|" + "---|" * len(cells))
    by_cell = [_outcomes_by_group(cell) for cell in cells]
    for group in groups:
        row = [
            group_symbol(cell, by_group.get(group, []))
            for cell, by_group in zip(cells, by_cell, strict=True)
        ]
        lines.append(f"| {code(group)} | " + " | ".join(row) + " |")
    return lines


def _outcomes_by_group(cell: CellResult) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for test in cell.tests:
        found.setdefault(test.group, []).append(test.outcome)
    return found


def _failures(cells: list[CellResult]) -> list[str]:
    failing = [
        (cell, test)
        for cell in cells
        for test in cell.tests
        if test.outcome in FAILING_OUTCOMES or test.outcome == "flaky"
    ]
    broken = [cell for cell in cells if cell.state in ("error", "unavailable")]
    lines = [f"## {FAILURES_HEADING}", ""]
    if not failing and not broken:
        return [*lines, "None."]
    for cell in broken:
        lines.append(
            f"- {CELL_STATE_SYMBOLS[cell.state]} cell {code(cell.cell)} {cell.state}:"
            f" {escape(short_reason(cell.reason) or 'no reason given')}"
        )
    if broken:
        lines.append("")
    for cell, test in failing[:MAX_FAILURES]:
        label = (
            "flaky (passed on rerun; first failure below)"
            if test.outcome == "flaky"
            else test.outcome
        )
        lines += [
            f"**{code(cell.cell)}** · {code(test.id)} · {OUTCOME_SYMBOLS[test.outcome]} {label}",
            "",
            *fenced(first_lines(test.message) or "(no message)"),
            "",
        ]
    if len(failing) > MAX_FAILURES:
        lines.append(
            f"… and {len(failing) - MAX_FAILURES} more failing or flaky tests:"
            " see compat.html or compat.json."
        )
    return lines


def _changes(diff: Diff | None, note: str | None) -> list[str]:
    lines = ["## Changes since the previous report", ""]
    if diff is None:
        return [*lines, escape(note or "No previous report to compare with.")]
    when = diff.previous_generated_at or "an unknown time"
    commit = f" at `{diff.previous_git_commit[:12]}`" if diff.previous_git_commit else ""
    lines += [f"Compared with the report of {when}{commit}.", ""]
    if note:
        lines += [escape(note), ""]
    if diff.empty:
        return [*lines, "No differences."]
    sections: list[tuple[str, Iterable[str]]] = [
        ("🔴 Regressions", (_change(c) for c in diff.regressions)),
        ("🟢 Fixed", (_change(c) for c in diff.fixed)),
        ("⚠️ Newly flaky", (_change(c) for c in diff.newly_flaky)),
        ("🚫 Cells now unavailable", (_change(c) for c in diff.cells_unavailable)),
        ("💥 Cells now erroring", (_change(c) for c in diff.cells_errored)),
        ("➕ Cells added", (f"{code(c)}" for c in diff.cells_added)),
        ("➖ Cells dropped", (f"{code(c)}" for c in diff.cells_dropped)),
        ("➕ Versions added", (f"{code(v)}" for v in diff.versions_added)),
        ("➖ Versions dropped", (f"{code(v)}" for v in diff.versions_dropped)),
    ]
    for title, entries in sections:
        items = list(entries)
        if not items:
            continue
        lines += [f"**{title}** ({len(items)})", ""]
        lines += [f"- {item}" for item in items[:MAX_CHANGES]]
        if len(items) > MAX_CHANGES:
            lines.append(f"- … and {len(items) - MAX_CHANGES} more (see compat.json)")
        lines.append("")
    return lines


def _change(change: Change) -> str:
    what = (
        f"{code(change.cell)} · {code(change.test)}" if change.test else f"cell {code(change.cell)}"
    )
    return f"{what}: {change.before or 'absent'} → {change.after or 'absent'}"


def short_reason(reason: str | None) -> str | None:
    """A reason cut to its first few lines (a log tail can be 100 KB), saying where the rest is."""
    if reason is None:
        return None
    lines = reason.strip().splitlines()
    shown = " ".join(" ".join(line.split()) for line in lines[:REASON_LINES])
    if len(lines) <= REASON_LINES and len(shown) <= REASON_CHARS:
        return shown
    return f"{shown[:REASON_CHARS].rstrip()} … (full text in result.json and compat.html)"
