"""`python -m scripts floor <library> [--ceiling] [--cell ID] [--range SPEC]`.

Lists the library's releases inside the range, bisects over them, each probe one run of the
cell through the harness (its own results folder, in the scratch folder, removed afterwards),
prints each step as it happens, and keeps the answer in `<results>/floors.json`, where the
report reads it. Exit status: 0 an answer found, 1 none (the newest release fails, for a
floor: the message says why), 2 the search could not run (a bad `[floor]` table or option,
an unreachable index, a harness that left no result).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

from scripts.floor.answer import FloorAnswer, ProbeRecord, record_answer
from scripts.floor.bisection import Kind, Probe, Search, find_ceiling, find_floor, most_probes
from scripts.floor.probe import HARNESS, HarnessError, HarnessProbe
from scripts.floor.releases import (
    IndexReadError,
    describe,
    index_url,
    list_releases,
    range_text,
)
from scripts.floor.spec import FloorSpec, default_cell, load_floor_specs, parse_range
from scripts.matrix import Matrix, MatrixError
from scripts.paths import ScratchFolderError, scratch_dir

REASON_LINES = 3
"""A failing probe's reason shows at most this many lines as it happens (floors.json keeps it
whole)."""


class OptionError(ValueError):
    """An option of the command line that cannot be searched with; the message says which."""


@dataclass(frozen=True)
class FloorRequest:
    """One search: which library, which kind, where, over which releases."""

    library: str
    kind: Kind
    cell: str
    range: SpecifierSet


def floor_from_arguments(
    matrix: Matrix, args: argparse.Namespace, *, harness: Sequence[str] = HARNESS
) -> int:
    """Run `python -m scripts floor ...`; its exit status. `harness` runs each probe's cell."""
    try:
        request = request_from_arguments(matrix, args)
    except (MatrixError, OptionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        releases = list_releases(request.library, request.range)
    except IndexReadError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    most = most_probes(len(releases))
    print(
        f"{request.kind} of {request.library} on {request.cell}: {describe(releases)} in"
        f" {range_text(request.range)} ({index_url()}); at most {most} probes",
        flush=True,
    )
    extra = [*(["--timeout", str(args.timeout)] if args.timeout else [])]
    extra += ["--no-fetch"] if args.no_fetch else []
    try:
        with tempfile.TemporaryDirectory(prefix="compat-floor-", dir=scratch_dir()) as folder:
            probe = HarnessProbe(
                library=request.library,
                cell=request.cell,
                matrix_file=args.matrix,
                results=Path(folder),
                harness=tuple(harness),
                extra_arguments=tuple(extra),
            )
            search = _search(request.kind, releases, probe)
    except (HarnessError, ScratchFolderError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninterrupted: the search stopped; no answer kept", flush=True)
        return 130
    answer = answer_of(request, search)
    path = record_answer(args.results, answer)
    for warning in search.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(answer.line())
    print(f"kept in {path}")
    return 0 if search.answer is not None else 1


def request_from_arguments(matrix: Matrix, args: argparse.Namespace) -> FloorRequest:
    """The search the command line asks for, from `[floor.<library>]` and the options."""
    library = canonicalize_name(args.library)
    specs = load_floor_specs(matrix)
    spec: FloorSpec | None = specs.get(library)
    kind: Kind = "ceiling" if args.ceiling else "floor"
    if spec is None and args.range is None:
        known = ", ".join(specs) or "none"
        raise MatrixError(
            matrix.path,
            f"floor.{library}",
            f'missing: add [floor.{library}] with range = "...", or give --range (libraries'
            f" with a table: {known})",
        )
    cell = _cell(matrix, args, spec, kind, library)
    if args.range is not None:
        try:
            within = parse_range(matrix.path, "--range", args.range)
        except MatrixError as error:
            raise OptionError(f"--range: {error.problem}") from None
        return FloorRequest(library, kind, cell, within)
    assert spec is not None  # checked above: no table needs --range
    return FloorRequest(library, kind, cell, spec.range)


def _cell(
    matrix: Matrix, args: argparse.Namespace, spec: FloorSpec | None, kind: Kind, library: str
) -> str:
    if args.cell is not None:
        try:
            return matrix.cell(args.cell).id
        except MatrixError as error:
            raise OptionError(f"--cell {args.cell}: {error.problem}") from None
    if kind == "floor":
        return spec.cell if spec is not None else default_cell(matrix, f"floor.{library}")
    if spec is None or spec.ceiling_cell is None:
        raise MatrixError(
            matrix.path,
            f"floor.{library}.ceiling-cell",
            "missing: --ceiling searches on a cell where the newest release fails; name it"
            ' there (ceiling-cell = "redis-6.0") or give --cell',
        )
    return spec.ceiling_cell


def _search(kind: Kind, releases: list[Version], probe: HarnessProbe) -> Search:
    progress = PrintedProgress(probe.library)
    try:
        if kind == "floor":
            return find_floor(releases, probe, progress=progress)
        return find_ceiling(releases, probe, progress=progress)
    finally:
        progress.end_line()


@dataclass
class PrintedProgress:
    """`probe 3/8: sqlalchemy==2.0.31 … passed in 41 s`, the first half as the probe starts."""

    library: str
    line_open: bool = False

    def started(self, number: int, most: int, release: Version) -> None:
        print(f"probe {number}/{most}: {self.library}=={release} … ", end="", flush=True)
        self.line_open = True

    def end_line(self) -> None:
        """End a probe's line that an error cut short."""
        if self.line_open:
            print("stopped", flush=True)
        self.line_open = False

    def finished(self, number: int, most: int, probe: Probe) -> None:
        self.line_open = False
        verdict = "passed" if probe.outcome.passed else "failed"
        print(f"{verdict} in {probe.took_s:.0f} s", flush=True)
        if probe.outcome.reason:
            lines = probe.outcome.reason.strip().splitlines()
            shown = lines[:REASON_LINES] + (["…"] if len(lines) > REASON_LINES else [])
            print("\n".join(f"    {line}" for line in shown), flush=True)


def answer_of(request: FloorRequest, search: Search) -> FloorAnswer:
    """What floors.json keeps of a search."""
    return FloorAnswer(
        library=request.library,
        kind=request.kind,
        cell=request.cell,
        range=range_text(request.range),
        answer=None if search.answer is None else str(search.answer),
        problem=search.problem,
        releases=len(search.releases),
        probes=[
            ProbeRecord(str(p.release), p.outcome.passed, p.outcome.reason, round(p.took_s, 1))
            for p in search.probes
        ],
        warnings=list(search.warnings),
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
