"""From result folders to the report's files: compat.json, COMPATIBILITY.md, compat.html, badges."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.report.badge import render_badge
from scripts.report.collect import collect
from scripts.report.diff import PreviousReportError, compare, load_previous, snapshot
from scripts.report.html import render_html
from scripts.report.markdown import render_markdown
from scripts.report.matrix_info import MatrixInfo, read_matrix_info
from scripts.report.model import Report
from scripts.report.run_info import run_info
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
    previous_copy: Path | None


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
            diff = compare(before, snapshot(collected.results, verdict), str(previous))
    return Report(
        run=run_info(matrix, results_dirs, collected.warnings),
        cells=collected.results,
        verdict=verdict,
        diff=diff,
        diff_note=note,
    )


def write_report(
    results_dirs: Sequence[Path], out: Path, *, matrix_file: Path, previous: Path | None
) -> Written:
    """Write the report into `out`; without `previous`, the compat.json already there is it.

    The old compat.json is kept as `out/previous/compat.json` before it is overwritten.
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
    json_path = _atomic_write(
        out / JSON_NAME, json.dumps(report.to_json(), ensure_ascii=False, separators=(",", ":"))
    )
    markdown_path = _atomic_write(out / MARKDOWN_NAME, render_markdown(report))
    html_path = _atomic_write(out / HTML_NAME, render_html(report))
    badges = [
        _atomic_write(out / BADGES_DIR / f"{verdict.backend}.svg", render_badge(verdict))
        for verdict in report.verdict
    ]
    return Written(report, json_path, markdown_path, html_path, badges, previous_copy)


def _atomic_write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}-")
    try:
        with open(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; reports are for everyone
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path
