"""compat.html: one self-contained page (inline CSS and JS, no network) with a sortable,
filterable heat map of tests × cells, under a version grid. Every text from results is
escaped: static parts with `html.escape`, the heat map's from JSON data by the page's own
`escapeHtml` (names) or through `textContent` (messages)."""

from __future__ import annotations

import json
from html import escape

from scripts.report.assets import PAGE_CSS, PAGE_JS
from scripts.report.cause import cell_cause
from scripts.report.floors import floors_html
from scripts.report.grid import grid_rows
from scripts.report.grid_html import GRID_CSS, grid_section
from scripts.report.history_html import HISTORY_CSS, history_script, history_section
from scripts.report.model import Change, Report
from scripts.report.stack import cell_stack, stack_summary
from scripts.report.states import shape_svg
from scripts.report.symbols import (
    FAILURES_HEADING,
    MESSAGE_OUTCOMES,
    NOT_RUN_CODE,
    OUTCOME_CODES,
    first_lines,
    missing_server_note,
)
from scripts.report.verdict import STATE_WORDS, summarise
from scripts.results import CellResult
from scripts.vocabulary import Role

MAX_LISTED_FAILURES = 500


def render_html(report: Report) -> str:
    title = "Compatibility report"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{PAGE_CSS}{GRID_CSS}{HISTORY_CSS}</style></head>",
        '<body data-heatmap="pending"><main>',
        f"<h1>{title}</h1>",
        grid_section(grid_rows(report)),
        f'<p class="summary">{escape(report.one_line())}</p>',
        _verdict(report),
        _run_info(report),
        _cells_table(report),
        history_section(report),
        _heatmap_shell(),
        _failures(report.cells),
        _changes(report),
        '<script id="compat-data" type="application/json">',
        heatmap_data_json(report.cells),
        "</script>",
        f"<script>{PAGE_JS}</script>",
        history_script(report),
        "</main></body></html>",
    ]
    return "\n".join(parts)


def heatmap_data_json(cells: list[CellResult]) -> str:
    """The heat map's data: a string of one-letter outcome codes per test, one letter per cell."""
    tests: dict[str, str] = {}  # id → group, first appearance wins
    for cell in cells:
        for test in cell.tests:
            tests.setdefault(test.id, test.group)
    ordered = sorted(tests.items(), key=lambda item: (item[1], item[0]))
    groups = sorted(set(tests.values()))
    group_index = {group: i for i, group in enumerate(groups)}
    by_cell = [{test.id: test for test in cell.tests} for cell in cells]
    rows: list[list[object]] = []
    messages: dict[str, str] = {}
    for row_index, (test_id, group) in enumerate(ordered):
        codes: list[str] = []
        for column, outcomes in enumerate(by_cell):
            found = outcomes.get(test_id)
            if found is None:
                codes.append(NOT_RUN_CODE)
                continue
            codes.append(OUTCOME_CODES[found.outcome])
            if found.outcome in MESSAGE_OUTCOMES and found.message:
                messages[f"{row_index},{column}"] = first_lines(found.message, lines=12)
        rows.append([test_id, group_index[group], "".join(codes)])
    data = {
        "cells": [{"id": cell.cell, "state": cell.state, "reason": cell.reason} for cell in cells],
        "groups": groups,
        "tests": rows,
        "messages": messages,
    }
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # inside <script>, "</script>" or "<!--" in a test name must not end the element
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _run_info(report: Report) -> str:
    run = report.run
    rows = [
        ("Generated", run.generated_at),
        ("Git commit", (run.git_commit or "unknown") + (" (dirty)" if run.git_dirty else "")),
        ("Python", f"{run.python} on {run.platform}"),
        ("Libraries", ", ".join(f"{k} {v}" for k, v in run.libraries.items()) or "none found"),
        ("Matrix", f"{run.matrix_path} (sha256 {run.matrix_sha256 or 'unreadable'})"),
        ("Results from", ", ".join(run.results_dirs)),
    ]
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in rows)
    warnings = "".join(f"<li>{escape(w)}</li>" for w in run.warnings)
    block = f'<details class="run"><summary>Run</summary><dl>{items}</dl></details>'
    if warnings:
        block += f'<section class="warnings"><h2>Warnings</h2><ul>{warnings}</ul></section>'
    return block


def _verdict(report: Report) -> str:
    items = "".join(
        f'<li data-backend="{escape(v.backend)}"><b>{escape(v.name)}</b>'
        f" {escape(summarise(v.versions, STATE_WORDS))}</li>"
        for v in report.verdict
    )
    items += "".join(
        f'<li data-{line.kind}="{escape(line.key)}"><b>{escape(line.name)}</b>'
        f" {escape(stack_summary(line.versions, STATE_WORDS, span=line.kind == 'interpreter'))}"
        "</li>"
        for line in report.stack_verdict
    )
    items += floors_html(report.floors)
    return f'<section id="verdict"><h2>Verdict</h2><ul>{items}</ul></section>'


CELL_COLUMNS = (
    "Cell",
    "State",
    "Database",
    "Cache",
    "Migrations",
    "Passed",
    "Failed",
    "Skipped",
    "Flaky",
)


def _cells_table(report: Report) -> str:
    """One line per cell: provenance in the server's tooltip, the whole reason in a detail;
    with stacks or interpreters, the versions that really ran, what was asked in the tooltip."""
    cells = report.cells
    stacked = any(cell.stack or cell.interpreter for cell in cells)
    columns = CELL_COLUMNS if not stacked else (*CELL_COLUMNS[:4], "Stack", *CELL_COLUMNS[4:])
    head = "".join(f"<th>{name}</th>" for name in (*columns, "Time (s)", "Note"))
    rows: list[str] = []
    for cell in cells:
        stack = f'<td class="stack">{_stack(cell, report)}</td>' if stacked else ""
        c = cell.counts
        rows.append(
            f'<tr class="s-{cell.state}" id="cell-{escape(cell.cell)}"'
            f' data-cell="{escape(cell.cell)}" data-state="{cell.state}">'
            f"<td><code>{escape(cell.cell)}</code></td>"
            f'<td><span class="pill st-{cell.state}">{state_label(cell.state)}</span></td>'
            f"<td>{_server(cell, 'database')}</td><td>{_server(cell, 'cache')}</td>{stack}"
            f"<td>{_migrations(cell)}</td>"
            f"<td>{c['passed']}</td><td>{c['failed'] + c['error']}</td><td>{c['skipped']}</td>"
            f"<td>{c['flaky']}</td><td>{cell.timings.total_s:.1f}</td>"
            f'<td class="note">{_note(cell)}</td></tr>'
        )
    states = "".join(
        f'<option value="{state}">{state}</option>'
        for state in ("passed", "failed", "flaky", "error", "unavailable")
    )
    return (
        '<section id="cells"><h2>Cells</h2><div class="controls">'
        '<input id="cells-filter" type="search" placeholder="Filter cells…"'
        ' aria-label="Filter cells by id, version or note">'
        '<select id="cells-state" aria-label="Show cells in this state">'
        f'<option value="">all states</option>{states}</select>'
        '<span id="cells-status"></span></div>'
        '<div class="wide" tabindex="0" role="region" aria-label="Cells, scrollable">'
        '<table class="sortable" id="cells-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


def state_label(state: str) -> str:
    """A state as its shape and its word (never an emoji)."""
    return f"{shape_svg(state)}{escape(state)}"


def _server(cell: CellResult, role: Role) -> str:
    """`16: 16.4 via binaries` (cut to a width), the whole and the provenance in its tooltip."""
    server = next((s for s in cell.servers if s.role == role), None)
    axis = cell.axes.get(role)
    requested = escape(axis.id if axis else "?")
    if server is None or not server.reported:
        shown = f"{requested} {missing_server_note(server)}"
        return f'<span class="srv" title="{escape(shown, quote=True)}">{shown}</span>'
    shown = f"{requested}: {escape(server.reported)} via {escape(server.source or '?')}"
    title = escape(f"{server.reported}, {server.source}: {server.provenance or '?'}", quote=True)
    return f'<span class="srv" title="{title}">{shown}</span>'


def _stack(cell: CellResult, report: Report) -> str:
    """`SQLAlchemy 2.0.44, psycopg 3.3.9, Python 3.12.1`, what was asked in its tooltip."""
    asked = [f"{group} {value}" for group, value in cell.stack.items()]
    if cell.interpreter is not None:
        asked.append(f"python {cell.interpreter}")
    ran = ", ".join(cell_stack(cell, report.stack_verdict))
    title = escape(f"asked: {', '.join(asked)}; ran: {ran}", quote=True)
    # the line shows what the cell varies from the defaults; all it ran is in the tooltip
    shown = escape(
        ", ".join(cell_stack(cell, report.stack_verdict, only_varied=True)) or "defaults"
    )
    return f'<span class="srv" title="{title}">{shown}</span>'


def _migrations(cell: CellResult) -> str:
    """`passed` or `failed` with its shape, the failing step and the server's message in the
    tooltip; empty when the cell never prepared a database."""
    outcome = cell.migrations
    if outcome is None:
        return ""
    title = escape(outcome.line(), quote=True)
    return f'<span class="srv" title="{title}">{state_label(outcome.state)}</span>'


def _note(cell: CellResult) -> str:
    """The cause on one line; the whole reason (a log tail can be long) when opened."""
    cause = cell_cause(cell)
    if not cause:
        return ""
    whole = (cell.reason or "").strip()
    more = f"<pre>{escape(whole)}</pre>" if whole and whole != cause else ""
    title = escape(cause, quote=True)
    return (
        f'<details><summary title="{title}"><span class="cause">{escape(cause)}</span></summary>'
        f"{more}</details>"
    )


def _heatmap_shell() -> str:
    legend = "".join(
        f'<span><i class="o o-{code}"></i>{outcome}</span>'
        for outcome, code in OUTCOME_CODES.items()
    )
    return (
        '<section id="heatmap-section"><h2>Tests × cells</h2>'
        '<div class="controls"><input id="filter" type="search" placeholder="Filter tests…"'
        ' aria-label="Filter tests by name">'
        '<select id="show" aria-label="Which tests"><option value="all">all tests</option>'
        '<option value="problems">failing, flaky or erroring only</option></select>'
        '<select id="group" aria-label="Test group"><option value="">all groups</option></select>'
        '<span id="heatmap-status"></span></div>'
        f'<div class="legend">{legend}<span><i class="o o-n"></i>not run</span></div>'
        '<div class="scroll" tabindex="0" role="region" aria-label="Tests × cells, scrollable">'
        '<table id="heatmap"></table></div>'
        '<pre id="detail">Click a coloured square to see its message.</pre>'
        "<noscript>The heat map needs JavaScript; the tables above and below do not.</noscript>"
        "</section>"
    )


def _failures(cells: list[CellResult]) -> str:
    entries: list[str] = []
    for cell in cells:
        if cell.state in ("error", "unavailable"):
            entries.append(
                f'<li class="s-{cell.state}"><code>{escape(cell.cell)}</code>'
                f" {state_label(cell.state)}: {escape(cell.reason or '')}</li>"
            )
    listed = 0
    for cell in cells:
        for test in cell.tests:
            if test.outcome not in MESSAGE_OUTCOMES or listed >= MAX_LISTED_FAILURES:
                continue
            listed += 1
            entries.append(
                f'<li class="o-{OUTCOME_CODES[test.outcome]}-text"><details>'
                f"<summary><code>{escape(cell.cell)}</code> · <code>{escape(test.id)}</code>"
                f" · {test.outcome}</summary>"
                f"<pre>{escape(first_lines(test.message, lines=20))}</pre></details></li>"
            )
    body = f"<ul>{''.join(entries)}</ul>" if entries else "<p>None.</p>"
    return f'<section id="failures"><h2>{FAILURES_HEADING}</h2>{body}</section>'


def _changes(report: Report) -> str:
    diff = report.diff
    if diff is None:
        note = report.diff_note or "No previous report to compare with."
        return f'<section id="changes"><h2>Changes</h2><p>{escape(note)}</p></section>'
    if diff.empty:
        return '<section id="changes"><h2>Changes</h2><p>No differences.</p></section>'
    blocks: list[str] = []
    for title, changes in (
        ("Regressions", diff.regressions),
        ("Fixed", diff.fixed),
        ("Newly flaky", diff.newly_flaky),
        ("Cells now unavailable", diff.cells_unavailable),
        ("Cells now erroring", diff.cells_errored),
    ):
        if changes:
            items = "".join(f"<li>{_change(c)}</li>" for c in changes)
            blocks.append(f"<h3>{title} ({len(changes)})</h3><ul>{items}</ul>")
    for title, names in (
        ("Cells added", diff.cells_added),
        ("Cells dropped", diff.cells_dropped),
        ("Versions added", diff.versions_added),
        ("Versions dropped", diff.versions_dropped),
    ):
        if names:
            items = "".join(f"<li><code>{escape(n)}</code></li>" for n in names)
            blocks.append(f"<h3>{title} ({len(names)})</h3><ul>{items}</ul>")
    return f'<section id="changes"><h2>Changes</h2>{"".join(blocks)}</section>'


def _change(change: Change) -> str:
    test = f" · <code>{escape(change.test)}</code>" if change.test else ""
    return (
        f"<code>{escape(change.cell)}</code>{test}:"
        f" {escape(change.before or 'absent')} → {escape(change.after or 'absent')}"
    )
