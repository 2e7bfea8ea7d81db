"""Command line of the harness: `python -m scripts {list,cell,matrix} ...` (nox calls these)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import cast

from scripts.backends import BACKENDS
from scripts.cell import (
    CELL_FILES,
    DEFAULT_TEST_PATHS,
    PROGRESS_PLUGIN,
    forced_source,
    suite_base_environment,
)
from scripts.command_line import parse_arguments
from scripts.layout import Layout, default_layout, machine_cores, uniform_layout
from scripts.live import live_display
from scripts.matrix import Cell, ImageSource, Matrix, MatrixError, VersionSpec, load_matrix
from scripts.paths import ScratchFolderError
from scripts.providers.accounts import existing_server_account
from scripts.providers.base import Unavailable
from scripts.providers.process import die_with_parent, kill_all_groups, live_groups
from scripts.providers.runs import reap_dead_runs, remove_run_folders
from scripts.providers.watchdog import remove_unused_segments
from scripts.results import CellResult
from scripts.schedule import (
    RunInterruptedError,
    already_stopping,
    exit_status,
    known_failure_notes,
    no_cell_ran,
    progress_line,
    run_cells,
    select_cells,
    summary_table,
)
from scripts.sources import choose_provider
from scripts.sources.engines import engine_for_images
from scripts.sources.templates import COLD_SERVERS_ENV
from scripts.suite_switches import suite_switches
from scripts.vocabulary import SourceKind
from scripts.warm.client import PreloadedPytest, preloaded_pytest


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; arguments after `--` go to the suite's pytest in every cell."""
    args = parse_arguments(list(sys.argv[1:] if argv is None else argv))
    try:
        matrix = load_matrix(args.matrix)
    except MatrixError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        status: int = (_list if args.command == "list" else _run)(matrix, args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        stopped = live_groups() == 0
        killed = kill_all_groups()
        what = "servers stopped" if stopped else f"{killed} process group(s) killed"
        print(f"interrupted: {what}; every cell's result is in the results folder", flush=True)
        return 130
    return status


def _stop_cleanly_on_signals() -> None:
    """Ctrl-C and SIGTERM (a cancelled CI job) both stop the cells and their servers cleanly,
    then re-render the report. Only the first signal interrupts: nox follows Ctrl-C with a
    SIGTERM, which must not cut that clean stop short."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGINT, already_stopping)
        signal.signal(signal.SIGTERM, already_stopping)
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)  # even when started with it ignored
    signal.signal(signal.SIGTERM, interrupt)


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
    is_matrix = args.command == "matrix"
    cells = select_cells(matrix, cell_ids=getattr(args, "cells", ()), tags=getattr(args, "tag", ()))
    for asked in getattr(args, "cells", ()):
        cell = matrix.cell(asked)
        if asked != cell.id:
            print(f"{asked} is the cell {cell.id} ({cell.database.id} + {cell.cache.id})")
    timeout = args.timeout or matrix.timeout
    source = cast(SourceKind | None, args.source)
    if args.cold_servers:  # read by the binaries source at each start (scripts.sources.templates)
        os.environ[COLD_SERVERS_ENV] = "1"

    try:
        reap_leftovers()
    except ScratchFolderError as error:  # each cell that needs a server says so in its result
        print(f"warning: {error}", file=sys.stderr)
    with live_display(args.results) as display:
        if not args.no_fetch:
            fetch_for(cells, source, display.note)
        if is_matrix and not args.tag:
            forget_earlier_cells(
                args.results
            )  # a whole run replaces the last; subsets keep the rest
        layout = _layout(cells, matrix, args, source)
        display.note(f"running {len(cells)} cell(s): {layout.describe()}")
        started = time.monotonic()
        try:
            with (
                engine_for_images(images_of(cells, source), say=display.note),
                _preloaded_pytest(cells, args, display.note) as preloaded,
            ):
                results = run_cells(
                    cells,
                    results_dir=args.results,
                    timeout=timeout,
                    layout=layout,
                    source=source,
                    pytest_args=args.pytest_args,
                    extra_env=suite_switches(args.isolation, args.suite_repeat),
                    on_result=lambda result: display.finished(result.cell, progress_line(result)),
                    on_stage=display.stage,
                    on_tick=display.tick,
                    preloaded=preloaded,
                )
        except RunInterruptedError as stopped:
            # the report must not contradict results/: render it with the interrupted cells
            _summarise(stopped.results, time.monotonic() - started)
            if is_matrix and not args.no_report:
                _report(args.results, args.reports, args.matrix)
            raise
    _summarise(results, time.monotonic() - started)
    if is_matrix and not args.no_report:
        _report(args.results, args.reports, args.matrix)
    for note in known_failure_notes(results, matrix.known_failures):
        print(note)
    nothing_ran = no_cell_ran(results)
    if nothing_ran is not None:
        print(f"error: {nothing_ran}", file=sys.stderr)
    return exit_status(results, strict=args.strict, known_failures=matrix.known_failures)


def _layout(
    cells: list[Cell], matrix: Matrix, args: argparse.Namespace, source: SourceKind | None
) -> Layout:
    """The matrix's layout (see `scripts.layout`), or every cell alike when asked for."""
    cores = machine_cores()
    if args.workers is not None or args.jobs is not None:
        workers = matrix.workers if args.workers is None else args.workers
        return uniform_layout(cells, cores, workers, args.jobs)
    servable: dict[str, bool] = {}

    def can_serve(spec: VersionSpec) -> bool:
        if spec.id not in servable:
            try:
                choose_provider(spec, source)
            except Unavailable:
                servable[spec.id] = False
            else:
                servable[spec.id] = True
        return servable[spec.id]

    def runnable(cell: Cell) -> bool:
        return all(can_serve(spec) for spec in cell.specs)

    return default_layout(cells, cores, isolation_workers=matrix.workers, runnable=runnable)


@contextmanager
def _preloaded_pytest(
    cells: Sequence[Cell], args: argparse.Namespace, say: Callable[[str], None]
) -> Iterator[PreloadedPytest | None]:
    """The suite imported once for every cell (see `scripts.warm`); none with `--cold-start`
    or for one cell (its suite process would wait for the import it saves)."""
    if args.cold_start or len(cells) < 2:
        yield None
        return
    suite = [*DEFAULT_TEST_PATHS, "-p", PROGRESS_PLUGIN]
    with preloaded_pytest(suite, suite_base_environment(), say=say) as preloaded:
        yield preloaded


def _summarise(results: list[CellResult], wall: float) -> None:
    provisioning = sum(result.timings.provision_s for result in results)
    busy = sum(result.timings.total_s for result in results)
    print()
    print(summary_table(results))
    share = f" ({100 * provisioning / busy:.0f}%)" if busy >= 0.1 else ""
    print(
        f"\n{len(results)} cell(s) in {wall:.1f} s wall;"
        f" provisioning {provisioning:.1f} s of {busy:.1f} s cell time{share}",
        flush=True,
    )


def reap_leftovers() -> None:
    """Kill what runs whose harness died left running, remove their folders and the shared
    memory their killed servers left."""
    for reaped in reap_dead_runs():
        killed = f", killed process group(s) {list(reaped.killed)}" if reaped.killed else ""
        print(f"reaped the leftovers of a dead run: {reaped.folder}{killed}", flush=True)
    account = existing_server_account()
    if account is None:
        return
    for backend in BACKENDS.values():
        prefix = getattr(backend, "shared_memory_prefix", None)
        if prefix:
            for segment in remove_unused_segments(prefix, account.uid):
                print(f"reaped shared memory a killed server left: {segment}", flush=True)


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


def fetch_for(
    cells: Sequence[Cell], source: SourceKind | None = None, note: Callable[[str], None] = print
) -> None:
    """Fetch what the chosen cells need (every server of each) and this machine lacks; with
    `--source image` or `url` only what that source does not replace (SQLite's library).
    `note` hears each outcome and, while a download runs, how far it got."""
    from scripts.fetch import fetch_missing, specs_of

    needed = [
        spec
        for spec in specs_of(cells)
        if source in (None, "binaries") or forced_source(spec, source) is None
    ]
    for spec in needed:
        [outcome] = fetch_missing([spec], on_progress=lambda text: note(f"fetch: {text}"))
        note(f"fetch: {outcome.line()}")


def _report(results: Path, reports: Path, matrix_file: Path) -> None:
    command = [sys.executable, "-m", "scripts.report", "--results", str(results)]
    command += ["--out", str(reports), "--matrix", str(matrix_file)]
    subprocess.run(command, check=False, env=os.environ.copy())  # noqa: S603


def _quiet_on_closed_stdout() -> int:
    """`python -m scripts list --json | head`: a reader that stops early is not an error."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())  # the interpreter's last flush must not fail either
    return 0


def _exit(status: int) -> None:
    """Exit; after an interrupt, without waiting for cell threads that have not stopped (what
    they started is killed already)."""
    if status == 130 and any(t.name.startswith("cell") for t in threading.enumerate()):
        remove_run_folders()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)


if __name__ == "__main__":
    _stop_cleanly_on_signals()
    die_with_parent()  # killing nox (SIGKILL included) stops the run as SIGTERM does
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        code = _quiet_on_closed_stdout()
    _exit(code)
