"""Running the real harness as a subprocess, the way a user does, and reading what it left.

    python -m scripts bench run <cells> --no-fetch --results <folder> [options] [-- pytest args]

(`bench run` is `cell` with the benchmark's baseline switches, which the naive run needs.)

Each run gets a fresh results folder (in /dev/shm when there is one) and is timed from the
outside; its cells' `result.json` (cell times, states) and progress logs (the tests' own
times, `progress.jsonl` and `progress-rerun.jsonl`) are read back before the folder is removed.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

from scripts.bench.memory import PeakMemory, peak_memory
from scripts.files import log_tail
from scripts.paths import REPO_ROOT, SHM
from scripts.progress_log import read_progress
from scripts.results import PROGRESS_FILE, RERUN_PROGRESS_FILE, read_result

LOG_TAIL_LINES = 15


@dataclass(frozen=True)
class HarnessVariant:
    """One way to run the chosen cells: a name and the harness options that make it."""

    name: str
    options: tuple[str, ...] = ()
    description: str = ""


DEFAULT_PLAN = HarnessVariant(
    "default", (), "the default layout: cells side by side, templates, SAVEPOINT"
)
NAIVE_PLAN = HarnessVariant(
    "naive",
    ("--jobs", "1", "--workers", "0", "--cold-servers", "--isolation", "recreate"),
    "one cell after another, each in a new pytest process, every server initialised from scratch, "
    "drop every table + migrations after each test",
)
UNIFORM_PLAN = HarnessVariant(
    "uniform --workers 2",
    ("--workers", "2"),
    "every cell with 2 xdist workers, one cell at a time",
)


def harness_command(
    cells: Sequence[str],
    results: Path,
    plan: HarnessVariant = DEFAULT_PLAN,
    *,
    suite_repeat: int = 1,
    pytest_args: Sequence[str] = (),
    python: str = sys.executable,
) -> list[str]:
    """The command line that runs `cells` as `plan` says, results into `results`."""
    if not cells:
        raise ValueError("a harness run needs at least one cell")
    command = [python, "-m", "scripts", "bench", "run", *cells]
    command += ["--no-fetch", "--results", str(results)]
    command += plan.options
    if suite_repeat != 1:
        command += ["--suite-repeat", str(suite_repeat)]
    if pytest_args:
        command += ["--", *pytest_args]
    return command


@dataclass(frozen=True)
class CellOutcome:
    """What one cell of a run left in its folder."""

    cell: str
    state: str
    total_s: float
    """The cell's own time: servers started, suite run, servers stopped (result.json)."""
    test_s: float
    """The sum of its tests' own times (every `<testcase>` of its JUnit files, all workers)."""
    tests: int


@dataclass(frozen=True)
class HarnessRun:
    """One timed run of the harness."""

    wall_s: float
    exit_code: int
    cells: tuple[CellOutcome, ...]
    peak_mib: float | None
    log_tail: str

    @property
    def trouble(self) -> str | None:
        """Why the run does not count as a clean one (a cell not passed), or None."""
        bad = [f"{c.cell}: {c.state}" for c in self.cells if c.state not in ("passed", "flaky")]
        if self.exit_code != 0 or bad:
            return f"exit code {self.exit_code}" + (f" ({', '.join(bad)})" if bad else "")
        return None


def suite_seconds(path: Path) -> tuple[float, int]:
    """The summed durations (all phases) of every test a progress log saw finish, and how
    many there were; (0, 0) when the file is missing."""
    finished = read_progress(path).finished.values()
    return sum(test.duration for test in finished), len(finished)


def read_cells(results: Path, cells: Sequence[str]) -> tuple[CellOutcome, ...]:
    """Each cell's outcome from its folder under `results` (first runs and reruns alike)."""
    outcomes = []
    for cell in cells:
        folder = results / cell
        result = read_result(folder)
        first, count = suite_seconds(folder / PROGRESS_FILE)
        again, _ = suite_seconds(folder / RERUN_PROGRESS_FILE)
        outcomes.append(
            CellOutcome(cell, result.state, result.timings.total_s, first + again, count)
        )
    return tuple(outcomes)


@contextmanager
def results_folder(prefix: str = "compat-bench-") -> Iterator[Path]:
    """A fresh folder for one run's results, removed afterwards."""
    base = SHM if SHM.is_dir() else None
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_harness(
    cells: Sequence[str],
    plan: HarnessVariant = DEFAULT_PLAN,
    *,
    suite_repeat: int = 1,
    pytest_args: Sequence[str] = (),
    watch_memory: bool = False,
) -> HarnessRun:
    """Run the harness once on `cells` as `plan` says: its wall time from the outside, its
    cells' outcomes, and (`watch_memory`) the peak memory of its whole process tree."""
    with results_folder() as results:
        command = harness_command(
            cells, results, plan, suite_repeat=suite_repeat, pytest_args=pytest_args
        )
        log = results / "harness.log"
        with log.open("wb") as output:
            started = time.perf_counter()
            process = subprocess.Popen(  # noqa: S603 - our own interpreter and harness
                command, cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
            )
            watching = peak_memory(process.pid) if watch_memory else nullcontext(None)
            try:
                with watching as peak:
                    exit_code = process.wait()
            except BaseException:
                process.terminate()  # the harness stops its cells and servers on SIGTERM
                process.wait()
                raise
            wall = time.perf_counter() - started
        return HarnessRun(
            wall_s=wall,
            exit_code=exit_code,
            cells=read_cells(results, cells),
            peak_mib=peak.peak_mib if isinstance(peak, PeakMemory) else None,
            log_tail=log_tail(log, LOG_TAIL_LINES),
        )
