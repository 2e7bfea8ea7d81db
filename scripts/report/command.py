"""`python -m scripts report`: render the report from the results already on disk.

Runs nothing, and adds the run to the history (`<out>/history.json.gz` unless told otherwise).
`python -m scripts matrix` calls `write_reports` after its cells, in-process. Exit codes: 0
done, 1 regressions found with --fail-on-regression, 2 bad arguments (a --previous file that
does not exist, or no results at all: the reports are then left as they were).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.paths import MATRIX_FILE
from scripts.report.build import write_report
from scripts.report.collect import has_results
from scripts.report.history import DEFAULT_LIMIT, HISTORY_NAME
from scripts.report.markdown import render_markdown
from scripts.report.site import SiteError, lay_out_site


@dataclass(frozen=True)
class ReportRequest:
    """What to render, from where, into where (the `report` command's options)."""

    results: Sequence[Path]
    """Folders holding <cell-id>/result.json at any depth."""
    out: Path
    matrix: Path = MATRIX_FILE
    previous: Path | None = None
    """An earlier compat.json to compare with (None: the one already in `out`)."""
    history: Path | None = None
    """The history file (None: `<out>/history.json.gz`)."""
    no_history: bool = False
    history_runs: int | None = None
    """How many runs the history keeps (None: `DEFAULT_LIMIT`)."""
    fail_on_regression: bool = False
    site: Path | None = None
    summary_to: Path | None = None


def report_from_arguments(args: argparse.Namespace) -> int:
    """`python -m scripts report ...`."""
    return write_reports(
        ReportRequest(
            results=tuple(args.results),
            out=args.out,
            matrix=args.matrix,
            previous=args.previous,
            history=args.history,
            no_history=args.no_history,
            history_runs=args.history_runs,
            fail_on_regression=args.fail_on_regression,
            site=args.site,
            summary_to=args.summary_to,
        )
    )


def write_reports(args: ReportRequest) -> int:
    """Render the report from the results on disk and add the run to the history; the exit
    status (0 done, 1 regressions with `fail_on_regression`, 2 nothing to report from)."""
    if args.site is not None and args.no_history:
        print("error: --site publishes the history: leave out --no-history", file=sys.stderr)
        return 2
    if args.previous is not None and not args.previous.is_file():
        print(
            f"error: --previous {args.previous} does not exist; give an earlier compat.json"
            " or leave --previous out to compare with the one in --out",
            file=sys.stderr,
        )
        return 2
    if not has_results(args.results):
        folders = ", ".join(str(folder) for folder in args.results)
        print(
            f"error: no cell results (result.json or junit.xml) under {folders}; run"
            ' `nox -s matrix` or a cell (`nox -s "cell(<id>)"`) first, or point --results at'
            " the folders that hold them. The reports in"
            f" {args.out} were left as they were.",
            file=sys.stderr,
        )
        return 2
    history = None if args.no_history else (args.history or args.out / HISTORY_NAME)
    written = write_report(
        list(args.results),
        args.out,
        matrix_file=args.matrix,
        previous=args.previous,
        history=history,
        history_limit=args.history_runs or DEFAULT_LIMIT,
    )
    report = written.report
    if args.site is not None:
        try:
            lay_out_site(args.out, args.site, written.history)
        except SiteError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"site: {args.site}")
    if args.summary_to is not None:
        with args.summary_to.open("a", encoding="utf-8") as summary:
            summary.write(render_markdown(report) + "\n")
    for warning in report.run.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.diff_note:
        print(f"note: {report.diff_note}", file=sys.stderr)
    if report.history_note:
        print(f"note: {report.history_note}", file=sys.stderr)
    if written.history_problem:
        print(f"warning: {written.history_problem}", file=sys.stderr)
    print(f"report: {written.markdown}")
    if written.history is not None and report.trends is not None:
        runs = len(report.trends.nights)
        print(f"history: {written.history} ({runs} run{'s' if runs != 1 else ''})")
    print(f"verdict: {report.one_line()}")
    if args.fail_on_regression and report.diff is not None and report.diff.regressions:
        for change in report.diff.regressions:
            what = f"{change.cell} {change.test}" if change.test else f"cell {change.cell}"
            print(f"regression: {what}: {change.before} → {change.after}", file=sys.stderr)
        return 1
    return 0
