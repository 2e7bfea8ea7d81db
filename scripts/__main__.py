"""`python -m scripts <command> ...`: the harness's one entry point (nox calls it).

The command line is parsed by `scripts.command_line` (the one parser); each command's module
is imported only when that command runs, so `annotate` needs nothing beyond the standard
library and `list` does not import what runs cells.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import TYPE_CHECKING

from scripts.command_line import parse_arguments

if TYPE_CHECKING:
    from scripts.matrix import Matrix

RUNS = ("cell", "matrix", "bench run")
"""The commands that run cells (and stop them cleanly on Ctrl-C or SIGTERM)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; arguments after `--` go to the suite's pytest in every cell."""
    return run_command(parse_arguments(list(sys.argv[1:] if argv is None else argv)))


def run_command(args: argparse.Namespace) -> int:
    """Run the parsed command line."""
    if args.command == "annotate":
        from scripts.report.annotate import print_annotations

        return print_annotations(args.cell_folder, args.root)
    if args.command == "report":
        from scripts.report.command import report_from_arguments

        return report_from_arguments(args)
    if args.command == "images":
        from scripts.sources.image_builds import build_images

        return build_images(args.tags, args.matrix)
    if args.command == "schema":
        from scripts.report.schema import check_or_write_schema

        return check_or_write_schema(check=args.check)
    if args.command == "bench":
        from scripts.bench.__main__ import run_benchmark

        return run_benchmark(args)
    return _cells(args)


def _cells(args: argparse.Namespace) -> int:
    """`list`, `fetch`, `floor`, `cell`, `matrix` and `bench run`: the commands that read the
    matrix."""
    from scripts.matrix import load_matrix

    try:
        matrix = load_matrix(args.matrix)
        if args.command == "list":
            from scripts.run import list_cells

            return list_cells(matrix, args)
        if args.command == "fetch":
            from scripts.fetch import fetch_cells

            return fetch_cells(matrix, args.cells)
        if args.command == "floor":
            from scripts.floor.command import floor_from_arguments

            return floor_from_arguments(matrix, args)
        return _run(matrix, args)
    except ValueError as error:  # a bad matrix file, an unknown cell or tag
        print(f"error: {error}", file=sys.stderr)
        return 2


def _run(matrix: Matrix, args: argparse.Namespace) -> int:
    """`cell`, `matrix` and `bench run`: the plan, run; after Ctrl-C, what was stopped."""
    from scripts.providers.process import kill_all_groups, live_groups
    from scripts.run import plan_from_arguments, run_plan

    try:
        return run_plan(plan_from_arguments(matrix, args), matrix)
    except KeyboardInterrupt:
        stopped = live_groups() == 0
        killed = kill_all_groups()
        what = "servers stopped" if stopped else f"{killed} process group(s) killed"
        print(f"interrupted: {what}; every cell's result is in the results folder", flush=True)
        return 130


def _stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM (a cancelled CI job) both stop the cells and their servers cleanly,
    then re-render the report. Only the first signal interrupts: nox follows Ctrl-C with a
    SIGTERM, which must not cut that clean stop short."""
    from scripts.schedule import already_stopping

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, already_stopping)
        signal.signal(signal.SIGTERM, already_stopping)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)  # even when started with it ignored
    signal.signal(signal.SIGTERM, interrupt)


def _quiet_on_closed_stdout() -> int:
    """`python -m scripts list --json | head`: a reader that stops early is not an error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail either
    return 0


def _exit(status: int) -> None:
    """Exit; after an interrupt, without waiting for cell threads that have not stopped (what
    they started is killed already)."""
    if status == 130 and any(t.name.startswith("cell") for t in threading.enumerate()):
        from scripts.providers.runs import remove_run_folders

        remove_run_folders()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    arguments = parse_arguments(sys.argv[1:])
    if arguments.command in RUNS:
        from scripts.providers.process import die_with_parent

        _stop_cleanly_on_signals()
        die_with_parent()  # killing nox (SIGKILL included) stops the run as SIGTERM does
    try:
        code = run_command(arguments)
        sys.stdout.flush()
    except BrokenPipeError:
        code = _quiet_on_closed_stdout()
    _exit(code)
