"""Running cells from the command line: `list`, and `cell`, `matrix` and `bench run` as a plan.

`plan_from_arguments` turns the parsed command line into the one `RunPlan`; `run_plan` fetches
what the cells need, chooses the layout, runs the cells (`scripts.schedule`) with the live
display, summarises them and writes the report by a call (`scripts.report.command`).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import cast

from scripts.backends import BACKENDS
from scripts.cell import CELL_FILES, forced_source
from scripts.layout import Layout, default_layout, machine_cores, uniform_layout
from scripts.live import live_display
from scripts.matrix import Cell, ImageSource, Matrix, VersionSpec
from scripts.paths import ScratchFolderError
from scripts.plan import RunPlan
from scripts.providers.accounts import existing_server_account
from scripts.providers.base import Unavailable
from scripts.providers.runs import reap_dead_runs
from scripts.providers.watchdog import remove_unused_segments
from scripts.results import CellResult
from scripts.schedule import (
    RunInterruptedError,
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
from scripts.vocabulary import SourceKind


def list_cells(matrix: Matrix, args: argparse.Namespace) -> int:
    """`list`: one line per cell, or (`--json`) a GitHub Actions job matrix."""
    cells = select_cells(matrix, tags=args.tag, strategy=args.strategy)
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
            print(f"{cell.id:<28} {describe(cell)}  [{', '.join(cell.tags)}]")
    if args.strategy == "pairwise" and not args.tag:
        print(strategy_counts(matrix, cells), file=sys.stderr if args.json else sys.stdout)
    return 0


def describe(cell: Cell) -> str:
    """`postgres-18 + redis-7.0, sqlalchemy-2.1 psycopg3 ..., py3.11`: what a cell runs on."""
    described = f"{cell.database.id} + {cell.cache.id}"
    runs_on = [value.id for value in cell.stack] + ([cell.python.id] if cell.python else [])
    return f"{described}, {' '.join(runs_on)}" if runs_on else described


def strategy_counts(matrix: Matrix, pairwise: list[Cell]) -> str:
    """How many cells pairwise takes (`pairwise`: its cells, already expanded) beside
    product, and how many of product's pairs they cover."""
    product = matrix.cells("product")
    possible = matrix.pairs(product)
    covered = matrix.pairs(pairwise) & possible
    return (
        f"pairwise: {len(pairwise)} cells cover {len(covered)} of the {len(possible)} pairs of "
        f"values the {len(matrix.axes_named())} axes take together; product: {len(product)} cells"
    )


def plan_from_arguments(matrix: Matrix, args: argparse.Namespace) -> RunPlan:
    """The plan of `cell`, `matrix` or `bench run` (the baseline switches are bench's only)."""
    asked: list[str] = getattr(args, "cells", None) or []  # `matrix` names none
    tags: list[str] = getattr(args, "tag", [])  # `cell` takes none
    strategy = getattr(args, "strategy", None)  # `list` and `matrix` take one
    cells = select_cells(matrix, cell_ids=asked, tags=tags, strategy=strategy)
    if strategy == "pairwise" and not asked and not tags:
        print(strategy_counts(matrix, cells))
    whole = args.command == "matrix" and not tags
    report = args.command == "matrix" and not args.no_report
    say_which_cells(matrix, asked)
    return RunPlan(
        cells=tuple(cells),
        matrix_file=args.matrix,
        results=args.results,
        timeout=args.timeout or matrix.timeout,
        workers=args.workers,
        jobs=args.jobs,
        source=cast(SourceKind | None, args.source),
        pytest_args=tuple(args.pytest_args),
        reports=args.reports if report else None,
        fetch=not args.no_fetch,
        strict=args.strict,
        replace_earlier=whole,  # a whole run replaces the last; subsets keep the rest
        known_failures=matrix.known_failures,
        suite=matrix.suite,
        cold_servers=getattr(args, "cold_servers", False),
        isolation=getattr(args, "isolation", "savepoint"),
        suite_repeat=getattr(args, "suite_repeat", 1),
        extra_pins=tuple(args.pin),
        refresh=args.refresh,
    )


def say_which_cells(matrix: Matrix, asked: Sequence[str]) -> None:
    """A database id stands for a cell: say which."""
    for cell_id in asked:
        cell = matrix.cell(cell_id)
        if cell_id != cell.id:
            print(f"{cell_id} is the cell {cell.id} ({describe(cell)})")


def run_plan(plan: RunPlan, matrix: Matrix) -> int:
    """Run the plan's cells; the exit status (see `scripts.schedule.exit_status`)."""
    try:
        reap_leftovers()
    except ScratchFolderError as error:  # each cell that needs a server says so in its result
        print(f"warning: {error}", file=sys.stderr)
    with live_display(plan.results) as display:
        if plan.fetch:
            fetch_for(plan.cells, plan.source, display.note)
        if plan.replace_earlier:
            forget_earlier_cells(plan.results)
        layout = _layout(plan, matrix)
        plan = plan.with_layout(layout)
        display.note(f"running {len(plan.cells)} cell(s): {layout.describe()}")
        started = time.monotonic()
        try:
            with engine_for_images(images_of(plan.cells, plan.source), say=display.note):
                results = run_cells(
                    plan,
                    on_result=lambda result: display.finished(result.cell, progress_line(result)),
                    on_stage=display.stage,
                    on_tick=display.tick,
                )
        except RunInterruptedError as stopped:
            # the report must not contradict results/: render it with the interrupted cells
            _summarise(stopped.results, time.monotonic() - started)
            _report(plan)
            raise
    _summarise(results, time.monotonic() - started)
    _report(plan)
    for note in known_failure_notes(results, plan.known_failures):
        print(note)
    nothing_ran = no_cell_ran(results)
    if nothing_ran is not None:
        print(f"error: {nothing_ran}", file=sys.stderr)
    return exit_status(results, strict=plan.strict, known_failures=plan.known_failures)


def _layout(plan: RunPlan, matrix: Matrix) -> Layout:
    """The matrix's layout (see `scripts.layout`), or every cell alike when asked for."""
    cores = machine_cores()
    cells = list(plan.cells)
    if plan.workers is not None or plan.jobs is not None:
        workers = matrix.workers if plan.workers is None else plan.workers
        return uniform_layout(cells, cores, workers, plan.jobs)
    servable: dict[str, bool] = {}

    def can_serve(spec: VersionSpec) -> bool:
        if spec.id not in servable:
            try:
                choose_provider(spec, plan.source)
            except Unavailable:
                servable[spec.id] = False
            else:
                servable[spec.id] = True
        return servable[spec.id]

    def runnable(cell: Cell) -> bool:
        return all(can_serve(spec) for spec in cell.specs)

    return default_layout(cells, cores, isolation_workers=matrix.workers, runnable=runnable)


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


def _report(plan: RunPlan) -> None:
    """The report of the run, when the plan asks for one (written by a call, in-process)."""
    if plan.reports is None:
        return
    from scripts.report.command import ReportRequest, write_reports

    try:
        write_reports(ReportRequest((plan.results,), plan.reports, matrix=plan.matrix_file))
    except Exception:  # the cells' results stand: a broken report does not change the run
        traceback.print_exc()
