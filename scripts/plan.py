"""The run plan: everything a run of cells is told, in one frozen value.

The command line (`python -m scripts cell|matrix`, `python -m scripts bench run`) builds one
`RunPlan`; the scheduler (`scripts.schedule.run_cells`) and the cell runner
(`scripts.cell.run_cell`) read it, and nothing travels beside it but the display's callbacks
and the cancel event. No option travels through this process's environment: what the
suite's pytest must know (the benchmark's isolation and repetition) the cell runner puts
into that child's environment (`RunPlan.suite_switches`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from scripts.layout import Layout
from scripts.matrix import Cell
from scripts.paths import MATRIX_FILE
from scripts.suite import DEFAULT_SUITE, Suite
from scripts.suite_switches import Isolation, suite_switches
from scripts.vocabulary import SourceKind


@dataclass(frozen=True)
class RunPlan:
    """One run of cells: which, where their results go, how each runs."""

    cells: tuple[Cell, ...]
    results: Path
    """The results folder: `<results>/<cell id>/` per cell."""
    timeout: float
    """Seconds one cell may take."""
    matrix_file: Path = MATRIX_FILE
    """The matrix file the cells come from (the report reads it for order and hash)."""
    layout: Layout | None = None
    """Slots and xdist workers per cell; chosen by the command line once the servers this
    machine can serve are known (after fetching), so None until then. Without one, every
    cell runs `workers` xdist workers, `jobs` cells at a time (see `chosen_layout`)."""
    workers: int | None = None
    """`--workers` as asked (None: the matrix's layout decides; without a layout, 1)."""
    jobs: int | None = None
    """`--jobs` as asked (None: the matrix's layout decides; without a layout, 1)."""
    source: SourceKind | None = None
    """Use only this kind of source for the servers (`--source`)."""
    pytest_args: tuple[str, ...] = ()
    """The command line's pytest arguments (after the `[suite]` table's)."""
    suite: Suite = DEFAULT_SUITE
    """The matrix file's `[suite]` table: the test paths, the environment names, ..."""
    reports: Path | None = None
    """Where the report is written after the cells ran; None: no report."""
    fetch: bool = True
    """Fetch missing server programs first (`--no-fetch` turns it off)."""
    strict: bool = False
    """Unavailable cells (and known failures) fail the run."""
    replace_earlier: bool = False
    """Remove every earlier cell folder first (a whole run replaces the last)."""
    known_failures: Mapping[str, str] = field(default_factory=dict)
    """matrix.toml's `known-failures`: cell id -> why."""
    extra_pins: tuple[str, ...] = ()
    """`--pin` requirements added to every cell's stack pins, each replacing a pin of the
    same distribution (`python -m scripts floor` probes a release so)."""
    suite_env: Mapping[str, str] = field(default_factory=dict)
    """More variables for every cell's suite (the harness's own tests plant faults so)."""
    # the benchmark's baseline switches (`python -m scripts bench run`), never a normal run's
    cold_servers: bool = False
    """Initialise every server's data directory from scratch instead of copying a template."""
    isolation: Isolation = "savepoint"
    """How the suite isolates its tests (handed to the suite's pytest in its environment)."""
    suite_repeat: int = 1
    """How many times the suite runs each of its tests."""

    def with_layout(self, layout: Layout) -> RunPlan:
        return replace(self, layout=layout)

    def chosen_layout(self) -> Layout:
        """The layout; a plan nobody gave one runs `workers` per cell, `jobs` at a time."""
        if self.layout is not None:
            return self.layout
        workers = 1 if self.workers is None else self.workers
        jobs = 1 if self.jobs is None else self.jobs
        return Layout(slots=jobs * max(1, workers), workers={c.id: workers for c in self.cells})

    def suite_variables(self) -> dict[str, str]:
        """What the plan adds to the environment of every cell's suite (its pytest, a child
        process): `suite_env`, and the switches for `isolation` and `suite_repeat`."""
        return {**self.suite_env, **suite_switches(self.isolation, self.suite_repeat)}
