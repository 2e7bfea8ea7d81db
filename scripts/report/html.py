"""compat.html: one self-contained page (inline CSS and JS, no network) with a sortable,
filterable heat map of tests × cells. Every text from results is escaped: static parts with
`html.escape`, the heat map from JSON data through `textContent` only."""

from __future__ import annotations

import json
from html import escape

from scripts.report.assets import PAGE_CSS, PAGE_JS
from scripts.report.history_html import HISTORY_CSS, history_script, history_section
from scripts.report.migrations import migrations_shown
from scripts.report.model import Change, Report
from scripts.report.symbols import (
    CELL_STATE_SYMBOLS,
    FAILURES_HEADING,
    MESSAGE_OUTCOMES,
    NOT_RUN_CODE,
    OUTCOME_CODES,
    OUTCOME_SYMBOLS,
    first_lines,
    missing_server_note,
)
from scripts.results import CellResult

MAX_LISTED_FAILURES = 500


def render_html(report: Report) -> str:
    title = "Compatibility report"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{PAGE_CSS}{HISTORY_CSS}</style></head>",
        '<body data-heatmap="pending">',
        f"<h1>{title}</h1>",
        f'<p class="summary">{escape(report.one_line())}</p>',
        _run_info(report),
        _verdict(report),
        _cells_table(report.cells),
        history_section(report),
        _heatmap_shell(),
        _failures(report.cells),
        _changes(report),
        '<script id="compat-data" type="application/json">',
        heatmap_data_json(report.cells),
        "</script>",
        f"<script>{PAGE_JS}</script>",
        history_script(report),
        "</body></html>",
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
        f'<li data-backend="{escape(v.backend)}"><b>{escape(v.name)}</b> {escape(v.summary)}</li>'
        for v in report.verdict
    )
    return f'<section id="verdict"><h2>Verdict</h2><ul>{items}</ul></section>'


def _cells_table(cells: list[CellResult]) -> str:
    head = "".join(
        f"<th>{name}</th>"
        for name in (
            "Cell",
            "State",
            "Database",
            "Cache",
            "Migrations",
            "Passed",
            "Failed",
            "Skipped",
            "Flaky",
            "Time (s)",
            "Note",
        )
    )
    rows: list[str] = []
    for cell in cells:
        servers = {server.role: server for server in cell.servers}
        shown: list[str] = []
        for role in ("database", "cache"):
            server, axis = servers.get(role), cell.axes.get(role)
            requested = escape(axis.id if axis else "?")
            shown.append(
                f"{requested}: {escape(server.reported)} via {escape(server.source or '?')}"
                f'<small class="prov">{escape(server.provenance or "")}</small>'
                if server and server.reported
                else f"{requested} {missing_server_note(server)}"
            )
        c = cell.counts
        rows.append(
            f'<tr class="s-{cell.state}" data-cell="{escape(cell.cell)}">'
            f"<td><code>{escape(cell.cell)}</code></td>"
            f'<td><span class="pill">{CELL_STATE_SYMBOLS[cell.state]} {cell.state}</span></td>'
            f"<td>{shown[0]}</td><td>{shown[1]}</td>"
            f"<td>{escape(migrations_shown(cell.migrations))}</td>"
            f"<td>{c['passed']}</td><td>{c['failed'] + c['error']}</td><td>{c['skipped']}</td>"
            f"<td>{c['flaky']}</td><td>{cell.timings.total_s:.1f}</td>"
            f"<td>{escape(cell.reason or '')}</td></tr>"
        )
    return (
        '<section id="cells"><h2>Cells</h2><table class="sortable" id="cells-table">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></section>"
    )


def _heatmap_shell() -> str:
    legend = "".join(
        f'<span class="o-{code}">{OUTCOME_SYMBOLS[outcome]} {outcome}</span>'
        for outcome, code in OUTCOME_CODES.items()
    )
    return (
        '<section id="heatmap-section"><h2>Tests × cells</h2>'
        '<div class="controls"><input id="filter" type="search" placeholder="Filter tests…">'
        '<select id="show"><option value="all">all tests</option>'
        '<option value="problems">failing, flaky or erroring only</option></select>'
        '<select id="group"><option value="">all groups</option></select>'
        '<span id="heatmap-status"></span></div>'
        f'<div class="legend">{legend}<span class="o-none">not run</span></div>'
        '<div class="scroll"><table id="heatmap"></table></div>'
        '<pre id="detail">Click a coloured square to see its message.</pre>'
        "<noscript>The heat map needs JavaScript; the tables above and below do not.</noscript>"
        "</section>"
    )


def _failures(cells: list[CellResult]) -> str:
    entries: list[str] = []
    for cell in cells:
        if cell.state in ("error", "unavailable"):
            entries.append(
                f'<li class="s-{cell.state}"><code>{escape(cell.cell)}</code> {cell.state}:'
                f" {escape(cell.reason or '')}</li>"
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
                f" · {OUTCOME_SYMBOLS[test.outcome]} {test.outcome}</summary>"
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
