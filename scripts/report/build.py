"""From result folders to the report's files: compat.json, COMPATIBILITY.md, compat.html,
grid.svg, badges."""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from scripts.files import atomic_write
from scripts.report.badge import render_badge, render_endpoint
from scripts.report.collect import collect
from scripts.report.diff import (
    PreviousReportError,
    compare,
    interrupted_cells,
    load_previous,
    snapshot,
)
from scripts.report.floors import floor_lines
from scripts.report.grid import grid_rows
from scripts.report.grid_svg import render_grid_svg
from scripts.report.history import DEFAULT_LIMIT, History, load_history, record_run, save_history
from scripts.report.html import render_html
from scripts.report.markdown import GRID_SVG_NAME, render_markdown
from scripts.report.matrix_info import MatrixInfo, read_matrix_info
from scripts.report.model import Report
from scripts.report.run_info import run_info
from scripts.report.stack import build_stack_verdict
from scripts.report.trends import derive_trends, with_since
from scripts.report.verdict import build_verdict

JSON_NAME = "compat.json"
MARKDOWN_NAME = "COMPATIBILITY.md"
HTML_NAME = "compat.html"
PREVIOUS_DIR = "previous"
BADGES_DIR = "badges"


@dataclass(frozen=True)
class Written:
    report: Report
    json: Path
    markdown: Path
    html: Path
    badges: list[Path]
    grid: Path  # grid.svg: the version grid as an image
    previous_copy: Path | None
    endpoints: list[Path]  # a shields.io endpoint JSON per badge
    history: Path | None  # the history file the run was added to
    history_problem: str | None = None  # why it could not be saved, when it could not


def build_report(results_dirs: Sequence[Path], matrix: MatrixInfo, previous: Path | None) -> Report:
    """Aggregate results; compare with `previous` when given (its problems become a note)."""
    collected = collect(results_dirs, matrix.cell_order)
    verdict = build_verdict(collected.results, matrix)
    diff, note = None, None
    if previous is not None:
        try:
            before = load_previous(previous)
        except PreviousReportError as error:
            note = f"Not compared: {error}."
        else:
            current = snapshot(collected.results, verdict)
            cut_short = interrupted_cells(collected.results)
            diff = compare(before, current, str(previous), cut_short)
    return Report(
        run=run_info(matrix, results_dirs, collected.warnings),
        cells=collected.results,
        verdict=verdict,
        diff=diff,
        diff_note=note,
        stack_verdict=build_stack_verdict(collected.results, matrix),
        floors=floor_lines(results_dirs),
    )


def with_history(report: Report, history: History, path: Path, note: str | None) -> Report:
    """Add this run to `history` and the report: strips, first failures, flaky tests, "since"."""
    record_run(history, report.cells, report.verdict, report.run)
    return replace(
        report,
        verdict=with_since(report.verdict, history),
        trends=derive_trends(history, report.cells, str(path)),
        history_note=note,
    )


def write_report(
    results_dirs: Sequence[Path],
    out: Path,
    *,
    matrix_file: Path,
    previous: Path | None,
    history: Path | None = None,
    history_limit: int = DEFAULT_LIMIT,
) -> Written:
    """Write the report into `out`; without `previous`, the compat.json already there is it.

    The old compat.json is kept as `out/previous/compat.json` before it is overwritten. With
    `history`, the run is added to that file (at most `history_limit` runs are kept) and the
    report shows what the history says.
    """
    out.mkdir(parents=True, exist_ok=True)
    existing = out / JSON_NAME
    previous_copy: Path | None = None
    if existing.is_file():
        previous_copy = out / PREVIOUS_DIR / JSON_NAME
        previous_copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(existing, previous_copy)
        if previous is None or previous.resolve() == existing.resolve():
            previous = previous_copy
    report = build_report(results_dirs, read_matrix_info(matrix_file), previous)
    kept: History | None = None
    if history is not None:
        loaded = load_history(history, history_limit)
        kept = loaded.history
        report = with_history(report, kept, history, loaded.note)
    json_path = atomic_write(
        out / JSON_NAME, json.dumps(report.to_json(), ensure_ascii=False, separators=(",", ":"))
    )
    markdown_path = atomic_write(out / MARKDOWN_NAME, render_markdown(report))
    html_path = atomic_write(out / HTML_NAME, render_html(report))
    grid_path = atomic_write(out / GRID_SVG_NAME, render_grid_svg(grid_rows(report)))
    badges = [
        atomic_write(out / BADGES_DIR / f"{verdict.backend}.svg", render_badge(verdict))
        for verdict in report.verdict
    ]
    endpoints = [
        atomic_write(out / BADGES_DIR / f"{verdict.backend}.json", render_endpoint(verdict))
        for verdict in report.verdict
    ]
    history_path, history_problem = None, None
    if kept is not None and history is not None:
        try:
            history_path = save_history(kept, history)
        except OSError as error:
            history_problem = f"the history could not be saved to {history}: {error}"
    return Written(
        report,
        json_path,
        markdown_path,
        html_path,
        badges,
        grid_path,
        previous_copy,
        endpoints,
        history_path,
        history_problem,
    )
