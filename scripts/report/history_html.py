"""compat.html's History section: a strip per cell (one coloured mark per run, built by the
page's script from one code per run, so 60 runs × 500 cells stay small), the night each
current failure began with its cause, and the flaky tests with their rate."""

from __future__ import annotations

import json
from html import escape

from scripts.report.history import CELL_STATE_CODES
from scripts.report.model import Report, Trends
from scripts.report.states import shape_svg
from scripts.report.symbols import NOT_RUN_CODE

MAX_FIRST_FAILURES = 200
MAX_FLAKY = 200
MAX_CELLS_NAMED = 10  # per flaky test; compat.json names them all

HISTORY_CSS = """
.strip{white-space:nowrap;line-height:0}
.strip i{display:inline-block;width:7px;height:16px;margin-right:1px;border-radius:1px;
 box-sizing:border-box;vertical-align:bottom}
.h-p{background:#009E73}
.h-f{background:linear-gradient(#D55E00 35%,#000 35% 65%,#D55E00 65%)}
.h-k{background:linear-gradient(#fff 50%,#E69F00 50%);border:1px solid #E69F00}
.h-e{border:2px solid #CC79A7;background:#fff}
.h-u{background:repeating-linear-gradient(45deg,#c8c8c8 0 2px,#8c8c8c 2px 3px)}
.h-n{background:#eaeef2;height:6px!important}
"""

HISTORY_JS = r"""
(function () {
  "use strict";
  var nights = JSON.parse(document.getElementById("history-data").textContent).nights;
  var NAMES = {p: "passed", f: "failed", k: "flaky", e: "error", u: "unavailable",
               "-": "not in this run"};
  Array.prototype.forEach.call(document.querySelectorAll("td.strip"), function (td) {
    var codes = td.dataset.strip, offset = nights.length - codes.length;
    for (var i = 0; i < codes.length; i++) {
      var code = codes.charAt(i), mark = document.createElement("i"), night = nights[offset + i];
      mark.className = code === "-" ? "h-n" : "h-" + code;
      mark.dataset.state = NAMES[code];
      mark.title = night[0] + (night[1] ? " · " + night[1] : "") + ": " + NAMES[code];
      td.appendChild(mark);
    }
  });
  document.body.dataset.history = "ready";
})();
"""


def history_section(report: Report) -> str:
    """The section; empty when the report keeps no history."""
    trends = report.trends
    if trends is None:
        return ""
    note = report.history_note
    note_html = f'<p class="note">Note: {escape(note)}.</p>' if note else ""
    intro = (
        f"<p>{len(trends.nights)} run(s) kept in <code>{escape(trends.path)}</code>, from"
        f" {trends.nights[0].date} to {trends.nights[-1].date}; oldest first.</p>"
    )
    return (
        f'<section id="history"><h2>History</h2>{intro}{note_html}{_strips(report, trends)}'
        f"{_library_changes(trends)}{_first_failures(trends)}{_flaky(trends)}</section>"
    )


def _library_changes(trends: Trends) -> str:
    heading = "<h3>Libraries changed since the previous run</h3>"
    if not trends.library_changes:
        return f"{heading}<p>No installed library changed in any cell since the run before it.</p>"
    items: list[str] = []
    for change in trends.library_changes[:MAX_FIRST_FAILURES]:
        came = (
            f' came with: <span class="cause">{escape("; ".join(change.regressions))}</span>'
            if change.regressions
            else ""
        )
        items.append(
            f'<li data-library="{escape(change.name)}"><b>{escape(change.text())}</b> in'
            f" {escape(_cells_named(change.cells))}{';' if came else ''}{came}</li>"
        )
    return f'{heading}<ul id="library-changes">{"".join(items)}</ul>'


def history_script(report: Report) -> str:
    """The nights the strips are drawn against, and the script that draws them."""
    if report.trends is None:
        return ""
    nights = [[night.date, (night.commit or "")[:7]] for night in report.trends.nights]
    data = json.dumps({"nights": nights}, separators=(",", ":"))
    return (
        f'<script id="history-data" type="application/json">{data}</script>'
        f"<script>{HISTORY_JS}</script>"
    )


def _strips(report: Report, trends: Trends) -> str:
    rows: list[str] = []
    for cell in report.cells:
        strip = trends.strips.get(cell.cell, [])
        codes = "".join(CELL_STATE_CODES[s] if s else NOT_RUN_CODE for s in strip)
        since = trends.since(cell.cell)
        now = f"{shape_svg(cell.state)}{cell.state}" + (f" since {since}" if since else "")
        rows.append(
            f'<tr data-cell="{escape(cell.cell)}"><td><code>{escape(cell.cell)}</code></td>'
            f'<td class="strip" data-strip="{codes}"></td><td>{now}</td></tr>'
        )
    return (
        '<table class="sortable" id="history-table"><thead><tr><th>Cell</th>'
        "<th>Runs, oldest first</th><th>Now</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _first_failures(trends: Trends) -> str:
    if not trends.first_failures:
        return "<h3>Failing since</h3><p>Nothing fails tonight.</p>"
    items: list[str] = []
    for failure in trends.first_failures[:MAX_FIRST_FAILURES]:
        night = failure.night
        what = (
            f"<code>{escape(failure.cell)}</code> · <code>{escape(failure.test)}</code>"
            if failure.test
            else f"cell <code>{escape(failure.cell)}</code>"
        )
        commit = f", commit <code>{escape(night.commit[:12])}</code>" if night.commit else ""
        items.append(
            f'<li data-cell="{escape(failure.cell)}" data-test="{escape(failure.test or "")}"'
            f' data-night="{night.date}">{what} {escape(failure.state)} since'
            f" <b>{night.date}</b> (run {night.index + 1}{commit}):"
            f' <span class="cause">{escape(failure.cause.text())}</span></li>'
        )
    more = len(trends.first_failures) - MAX_FIRST_FAILURES
    tail = f"<p>… and {more} more (see compat.json).</p>" if more > 0 else ""
    return f'<h3>Failing since</h3><ul id="first-failures">{"".join(items)}</ul>{tail}'


def _flaky(trends: Trends) -> str:
    if not trends.flaky:
        return "<h3>Flaky tests</h3><p>No test was flaky in the kept runs.</p>"
    rows = "".join(
        f'<tr data-test="{escape(flaky.test)}" data-rate="{flaky.rate:.4f}">'
        f"<td><code>{escape(flaky.test)}</code></td>"
        f"<td>{flaky.flaky_nights} of {flaky.nights}</td><td>{flaky.rate:.0%}</td>"
        f"<td>{escape(_cells_named(flaky.cells))}</td></tr>"
        for flaky in trends.flaky[:MAX_FLAKY]
    )
    return (
        "<h3>Flaky tests</h3><p>Flaky on a night: failed, then passed on the rerun; or failed"
        " between two passing nights.</p>"
        '<table class="sortable" id="flaky-table"><thead><tr><th>Test</th><th>Flaky nights</th>'
        f"<th>Rate</th><th>Cells</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _cells_named(cells: list[str]) -> str:
    named = ", ".join(cells[:MAX_CELLS_NAMED])
    more = len(cells) - MAX_CELLS_NAMED
    return f"{named} and {more} more" if more > 0 else named
