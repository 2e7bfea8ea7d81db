"""`python -m scripts.report --results DIR [DIR ...] --out reports [--previous PATH]
[--history PATH | --no-history] [--history-runs N] [--site DIR]`.

Re-renders the report from existing results, runs nothing, and adds the run to the history
(`<out>/history.json.gz` unless told otherwise). Exit codes: 0 done, 1 regressions found with
--fail-on-regression, 2 bad arguments (a --previous file that does not exist, or no results
at all: the reports are then left as they were).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from scripts.paths import MATRIX_FILE, REPORTS_DIR, RESULTS_DIR
from scripts.report.build import write_report
from scripts.report.collect import has_results
from scripts.report.history import DEFAULT_LIMIT, HISTORY_NAME
from scripts.report.markdown import render_markdown
from scripts.report.site import SiteError, lay_out_site


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.report", description="Aggregate cell results into the report."
    )
    parser.add_argument(
        "--results",
        nargs="+",
        type=Path,
        default=[RESULTS_DIR],
        help="folders holding <cell-id>/result.json at any depth (default: results/)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPORTS_DIR, help="report folder (default: reports/)"
    )
    parser.add_argument(
        "--previous",
        type=Path,
        default=None,
        help="an earlier compat.json to compare with (default: the one already in --out)",
    )
    parser.add_argument(
        "--matrix", type=Path, default=MATRIX_FILE, help="matrix.toml (for order and hash)"
    )
    history = parser.add_mutually_exclusive_group()
    history.add_argument(
        "--history",
        type=Path,
        default=None,
        help=f"the history file this run is added to (default: <out>/{HISTORY_NAME}); a"
        " missing or unreadable one starts a new history",
    )
    history.add_argument(
        "--no-history", action="store_true", help="keep no history and show no trends"
    )
    parser.add_argument(
        "--history-runs",
        type=_positive,
        default=DEFAULT_LIMIT,
        metavar="N",
        help=f"how many runs the history keeps (default: {DEFAULT_LIMIT})",
    )
    parser.add_argument(
        "--fail-on-regression",
        action="store_true",
        help="exit 1 naming each test or cell that passed before and fails now",
    )
    parser.add_argument(
        "--site",
        type=Path,
        default=None,
        help="also lay out what is published (page, table, compat.json, history, badges and"
        " their shields.io endpoints) in this folder, replacing it",
    )
    parser.add_argument(
        "--summary-to",
        type=Path,
        default=None,
        help="append the Markdown to this file (e.g. $GITHUB_STEP_SUMMARY)",
    )
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number, 1 or more, got {text!r}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
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
        args.results,
        args.out,
        matrix_file=args.matrix,
        previous=args.previous,
        history=history,
        history_limit=args.history_runs,
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


if __name__ == "__main__":
    sys.exit(main())
