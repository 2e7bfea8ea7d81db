"""Command line of the harness: `python -m scripts {list,cell,matrix} ...` (nox calls these)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import cast

from scripts.matrix import Cell, ImageSource, Matrix, MatrixError, load_matrix
from scripts.paths import MATRIX_FILE, REPORTS_DIR, RESULTS_DIR
from scripts.providers.base import SourceKind
from scripts.schedule import (
    concurrent_cells,
    exit_status,
    progress_line,
    run_cells,
    select_cells,
    summary_table,
)
from scripts.sources.engines import engine_for_images

SOURCES = ("image", "binaries", "url")
CELL_FILES = ("result.json", "junit.xml", "junit-rerun.xml", "pytest.log")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        matrix = load_matrix(args.matrix)
    except MatrixError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        status: int = args.command(matrix, args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: servers stopped; finished cells are in the results folder")
        return 130
    return status


def _stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM (a cancelled CI job) both stop the cells and their servers cleanly."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)  # even when started with it ignored
    signal.signal(signal.SIGTERM, interrupt)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m scripts", description=__doc__)
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE, help="the matrix file")
    commands = parser.add_subparsers(required=True, metavar="command")

    listing = commands.add_parser("list", help="list the cells")
    listing.add_argument("--tag", action="append", default=[], help="only cells with this tag")
    listing.add_argument("--json", action="store_true", help="a GitHub Actions job matrix")
    listing.set_defaults(command=_list)

    for name, help_text in (("cell", "run one or more cells"), ("matrix", "run every cell")):
        run = commands.add_parser(name, help=help_text)
        if name == "cell":
            run.add_argument("cells", nargs="+", metavar="CELL_ID")
        else:
            run.add_argument("--tag", action="append", default=[], help="only cells with this tag")
            run.add_argument(
                "--no-fetch", action="store_true", help="do not fetch missing binaries"
            )
            run.add_argument("--no-report", action="store_true", help="do not render the report")
        run.add_argument(  # also after the command: `nox -s matrix -- --matrix other.toml`
            "--matrix", type=Path, default=argparse.SUPPRESS, help="the matrix file"
        )
        run.add_argument("--source", choices=SOURCES, help="use only this kind of source")
        run.add_argument(
            "--workers",
            type=_count(minimum=0),
            help="pytest-xdist workers per cell (0: the suite in one process)",
        )
        run.add_argument(
            "--jobs", type=_count(minimum=1), help="cells at once (default: cores / workers)"
        )
        run.add_argument("--timeout", type=_seconds, help="seconds a cell may take")
        run.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder")
        if name == "matrix":
            run.add_argument(
                "--reports", type=Path, default=REPORTS_DIR, help="where the report is written"
            )
        run.add_argument("--strict", action="store_true", help="unavailable cells fail the run")
        run.set_defaults(command=_run)
    return parser


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


def _list(matrix: Matrix, args: argparse.Namespace) -> int:
    cells = select_cells(matrix, tags=args.tag)
    if args.json:
        include = [
            {
                "cell": cell.id,
                "session": f"cell({cell.id})",
                "tags": list(cell.tags),
                "database": cell.database.id,
                "cache": cell.cache.id,
            }
            for cell in cells
        ]
        print(json.dumps({"include": include}))
    else:
        for cell in cells:
            print(f"{cell.id:<28} {cell.database.id} + {cell.cache.id}  [{', '.join(cell.tags)}]")
    return 0


def _run(matrix: Matrix, args: argparse.Namespace) -> int:
    is_matrix = not hasattr(args, "cells")
    cells = select_cells(matrix, cell_ids=getattr(args, "cells", ()), tags=getattr(args, "tag", ()))
    for asked in getattr(args, "cells", ()):
        cell = matrix.cell(asked)
        if asked != cell.id:
            print(f"{asked} is the cell {cell.id} ({cell.database.id} + {cell.cache.id})")
    workers = matrix.workers if args.workers is None else args.workers
    jobs = args.jobs or concurrent_cells(workers)
    timeout = args.timeout or matrix.timeout
    source = cast(SourceKind | None, args.source)

    if is_matrix and not args.no_fetch and source in (None, "binaries", "library"):
        _fetch(cells)  # programs are fetched only for a run that may use them
    if is_matrix and not args.tag:
        forget_earlier_cells(args.results)  # a whole run replaces the last; subsets keep the rest
    print(
        f"running {len(cells)} cell(s), {jobs} at a time, {workers} xdist worker(s) each",
        flush=True,
    )
    started = time.monotonic()
    with engine_for_images(images_of(cells, source)):
        results = run_cells(
            cells,
            results_dir=args.results,
            workers=workers,
            timeout=timeout,
            jobs=jobs,
            source=source,
            on_result=lambda result: print(progress_line(result), flush=True),
        )
    wall = time.monotonic() - started
    provisioning = sum(result.timings.provision_s for result in results)
    busy = sum(result.timings.total_s for result in results)
    print()
    print(summary_table(results))
    share = f" ({100 * provisioning / busy:.0f}%)" if busy >= 0.1 else ""
    print(
        f"\n{len(results)} cell(s) in {wall:.1f} s wall;"
        f" provisioning {provisioning:.1f} s of {busy:.1f} s cell time{share}"
    )
    if is_matrix and not args.no_report:
        _report(args.results, args.reports, args.matrix)
    return exit_status(results, strict=args.strict)


def images_of(cells: Sequence[Cell], source: SourceKind | None) -> list[str]:
    """The images the cells may run (none when another kind of source is forced)."""
    if source not in (None, "image"):
        return []
    return [
        candidate.image
        for cell in cells
        for spec in cell.specs
        for candidate in spec.sources
        if isinstance(candidate, ImageSource)
    ]


def forget_earlier_cells(results: Path) -> None:
    """Remove the cell folders of an earlier run, and nothing else: a folder goes only when it
    holds nothing but the runner's files and its result.json names that folder's cell."""
    if not results.is_dir():
        return
    for folder in results.iterdir():
        if folder.is_dir() and _is_cell_folder(folder):
            shutil.rmtree(folder)


def _is_cell_folder(folder: Path) -> bool:
    if not {entry.name for entry in folder.iterdir()} <= set(CELL_FILES):
        return False
    try:
        document = json.loads((folder / "result.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(document, dict) and document.get("cell") == folder.name


def _fetch(cells: Sequence[Cell]) -> None:
    """Fetch the server programs the chosen cells need and this machine lacks (once; cached)."""
    from scripts.fetch import fetch_missing

    specs = {spec.id: spec for cell in cells for spec in cell.specs}
    for outcome in fetch_missing(specs.values()):
        print(f"fetch: {outcome.line()}", flush=True)


def _report(results: Path, reports: Path, matrix_file: Path) -> None:
    command = [sys.executable, "-m", "scripts.report", "--results", str(results)]
    command += ["--out", str(reports), "--matrix", str(matrix_file)]
    subprocess.run(command, check=False, env=os.environ.copy())  # noqa: S603


if __name__ == "__main__":
    _stop_cleanly_on_signals()
    sys.exit(main())
