"""The whole-matrix benchmark: how a run of many cells compares with a naive harness and with the
other layout, how close it comes to the machine's floor, and how it scales.

Section "matrix" runs the chosen cells several ways, round by round (`interleaved`):
  default     the harness as it is: cells side by side, data directories copied from
              templates, each test rolled back to its SAVEPOINT;
  naive       the baseline a plain harness would be: one cell after another, each in one
              pytest process (`--jobs 1 --workers 0`), every server initialised from scratch
              (`--cold-servers`), the tables dropped and created after every test
              (`--isolation recreate`);
  uniform     the other layout a user may ask for: 2 xdist workers per cell, one cell at a
              time (`--workers 2`; the long mode only).
The floor is what no layout can beat: the tests' own times (JUnit, every worker) spread over
the cores, plus one interpreter start per suite process.

Section "scaling" times the default run on growing numbers of cells (2, 4 and 8 within the
budget; 2, 4, 8 and every native cell in the long mode, `sizes=LONG_SCALING_SIZES`), and one
cell's suite run once and four times over (`--suite-repeat 4`).

The default sample (`cells=None`) keeps `nox -s bench` within its budget: the newest cell of
each database and Valkey 9, compared two ways (`BUDGET_PLANS`), on the suite without its
three slowest modules (`MATRIX_SLICE`); scaling runs a smaller slice (`BUDGET_SLICE`).
`cells=["all"]` with `plans=LONG_PLANS` runs every native cell on the whole suite, all three
ways: the long mode, minutes per round.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from scripts.bench.figures import Figure, at_least, at_most, interleaved, ratio
from scripts.bench.harness_runs import (
    DEFAULT_PLAN,
    NAIVE_PLAN,
    UNIFORM_PLAN,
    HarnessRun,
    HarnessVariant,
    run_harness,
)
from scripts.layout import Layout, default_layout, machine_cores, uniform_layout
from scripts.matrix import Cell, Matrix, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.providers.base import Unavailable
from scripts.sources import choose_provider

MATRIX = "matrix"
SCALING = "scaling"
ALL_CELLS = "all"
DEFAULT_SAMPLE = ("postgres-18", "mysql-9.7", "mariadb-11.8", "sqlite-stdlib", "valkey-9")
"""The newest of each database family (PostgreSQL, MySQL, MariaDB, SQLite, all with Redis 7.0)
and one cache of the other family (Valkey, with SQLite): each kind of server the matrix starts,
three cells with the default layout's xdist workers and two without."""
BUDGET_PLANS = (DEFAULT_PLAN, NAIVE_PLAN)
"""What the budget's matrix section compares: the default and the naive baseline;
`LONG_PLANS` adds the other layout (`--workers 2`)."""
LONG_PLANS = (DEFAULT_PLAN, NAIVE_PLAN, UNIFORM_PLAN)
MATRIX_SLICE = ("-k", "not test_fuzz and not test_cache_outage and not test_concurrent_logins")
"""The suite the budget's matrix section runs: all of it but fuzzing, the silent-Redis timeouts
and the forty parallel logins, which spend 11 of a cell's 16 s of tests here mostly waiting
(on Hypothesis, on timeouts, on threads) rather than on what a layout or an isolation
changes; the long mode runs them too."""
BUDGET_SLICE = ("-k", "test_users_api or test_database or test_auth or test_user_lifecycle")
"""The part of the suite the budget runs use: the API and database tests, where each test
writes rows (what SAVEPOINT rollback saves) and none waits on timeouts or fuzzes."""
SCALING_SIZES: tuple[int | str, ...] = (2, 4, 8)
"""The budget's scaling points (cells); `LONG_SCALING_SIZES` is the long mode."""
LONG_SCALING_SIZES: tuple[int | str, ...] = (2, 4, 8, ALL_CELLS)
SUITE_REPEATS = (1, 4)
SCALING_CELL = "sqlite-stdlib"
INTERPRETER_STARTS = 5

Say = Callable[[str], None]


def _to_stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ which cells


def native_cells(matrix: Matrix) -> list[Cell]:
    """The cells whose servers all run here without Docker (image-only cells are left out)."""
    servable: dict[str, bool] = {}

    def native(cell: Cell) -> bool:
        for spec in cell.specs:
            if spec.id not in servable:
                try:
                    servable[spec.id] = choose_provider(spec).source != "image"
                except Unavailable:
                    servable[spec.id] = False
            if not servable[spec.id]:
                return False
        return True

    return [cell for cell in matrix.cells() if native(cell)]


def chosen_cells(asked: Sequence[str] | None, native: Sequence[Cell]) -> list[Cell]:
    """`None`: the default sample (those of it that are native here); `["all"]`: every
    native cell; otherwise the named cells, which must be native."""
    by_id = {cell.id: cell for cell in native}
    if asked is None:
        return [by_id[cell] for cell in DEFAULT_SAMPLE if cell in by_id]
    if list(asked) == [ALL_CELLS]:
        return list(native)
    missing = [cell for cell in asked if cell not in by_id]
    if missing:
        raise ValueError(f"not native cells here: {', '.join(missing)}")
    return [by_id[cell] for cell in asked]


def spread_over_families(cells: Sequence[Cell], matrix: Matrix) -> list[Cell]:
    """The cells reordered so that any first N mix the backends as the whole list does: one
    cell of each varied backend in turn (the scaling points then differ in size only).

    A cell varies its cache when its database is the matrix's default and its cache is not,
    else its database.
    """
    by_backend: dict[str, list[Cell]] = {}
    for cell in cells:
        varies_cache = (
            cell.database.id == matrix.default_database.id
            and cell.cache.id != matrix.default_cache.id
        )
        backend = cell.cache.backend if varies_cache else cell.database.backend
        by_backend.setdefault(backend, []).append(cell)
    ordered: list[Cell] = []
    while any(by_backend.values()):
        for group in by_backend.values():
            if group:
                ordered.append(group.pop(0))
    return ordered


# ------------------------------------------------------------------ the sums


def floor_seconds(test_s: float, cores: int, processes: int, interpreter_start_s: float) -> float:
    """The shortest wall a run could take: its tests' own times spread over every core, plus
    one interpreter start per suite process (which no layout avoids)."""
    return test_s / max(1, cores) + processes * interpreter_start_s


def suite_processes(layout: Layout) -> int:
    """The pytest processes a run starts: one per cell, plus each xdist worker."""
    return sum(1 + (count if count > 1 else 0) for count in layout.workers.values())


def parallel_efficiency(
    cell_seconds: Mapping[str, float], cores_taken: Mapping[str, int], wall: float, cores: int
) -> float:
    """The share of the cores' time the cells kept busy: each cell's time times the cores it
    held (its xdist workers), over wall × cores."""
    if wall <= 0 or cores < 1:
        return 0.0
    busy = sum(seconds * cores_taken.get(cell, 1) for cell, seconds in cell_seconds.items())
    return busy / wall / cores


def least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    """The slope and intercept of the least-squares line through the points."""
    if len(xs) != len(ys) or len(xs) < 2:
        raise ValueError("a line needs at least two points, as many xs as ys")
    mean_x, mean_y = statistics.fmean(xs), statistics.fmean(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        raise ValueError("a line needs at least two different xs")
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return slope, mean_y - slope * mean_x


def per_cell_growth(first: tuple[int, float], last: tuple[int, float]) -> float:
    """The wall per cell at the largest point over the wall per cell at the smallest:
    1.0 is linear, below 1 the fixed costs are shared out, above 1 each cell costs more."""
    (n_first, wall_first), (n_last, wall_last) = first, last
    return (wall_last / n_last) / (wall_first / n_first)


def interpreter_start_s(python: str = sys.executable, times: int = INTERPRETER_STARTS) -> float:
    """The median time of `python -c pass`, measured here and now."""
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)  # noqa: S603 - our own interpreter
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# ------------------------------------------------------------------ the runs


def _measured(
    cells: Sequence[str],
    plan: HarnessVariant,
    pytest_args: Sequence[str],
    say: Say,
    store: list[HarnessRun],
    *,
    section: str = MATRIX,
    suite_repeat: int = 1,
    watch_memory: bool = False,
) -> Callable[[], float]:
    def measure() -> float:
        run = run_harness(
            cells,
            plan,
            suite_repeat=suite_repeat,
            pytest_args=pytest_args,
            watch_memory=watch_memory,
        )
        store.append(run)
        what = f"{plan.name}, {len(cells)} cell(s)" + (
            f", suite x{suite_repeat}" if suite_repeat != 1 else ""
        )
        trouble = f" -- {run.trouble}" if run.trouble else ""
        say(f"bench {section}: {what}: {run.wall_s:.1f} s{trouble}")
        if run.trouble:
            say(run.log_tail)
        return run.wall_s

    return measure


def _troubles(runs: Sequence[HarnessRun]) -> list[str]:
    return sorted({run.trouble for run in runs if run.trouble})


def _note(base: str, runs: Sequence[HarnessRun]) -> str:
    troubles = _troubles(runs)
    return base + (f"; NOT CLEAN: {'; '.join(troubles)}" if troubles else "")


def matrix_figures(
    cells: Sequence[str] | None,
    repeat: int = 3,
    *,
    say: Say = _to_stderr,
    pytest_args: Sequence[str] | None = None,
    plans: Sequence[HarnessVariant] = BUDGET_PLANS,
) -> list[Figure]:
    """The whole-matrix figures: the default run and the other `plans` side by side (the
    naive one always), the floor, the parallel efficiency and the peak memory of the default
    run.

    `cells`: None for the default sample, `["all"]` for every native cell, or cell ids.
    `pytest_args`: the suite's selection; default: `MATRIX_SLICE` for the default sample, the
    whole suite otherwise.
    """
    started = time.monotonic()
    matrix = load_matrix(MATRIX_FILE)
    chosen = chosen_cells(cells, native_cells(matrix))
    if not chosen:
        raise ValueError("no native cell to run here")
    ids = [cell.id for cell in chosen]
    if cells is None and len(ids) < len(DEFAULT_SAMPLE):
        left_out = [cell for cell in DEFAULT_SAMPLE if cell not in ids]
        say(f"bench {MATRIX}: not native here, left out of the sample: {', '.join(left_out)}")
    selection = (
        tuple(MATRIX_SLICE if cells is None else ()) if pytest_args is None else tuple(pytest_args)
    )
    cores = machine_cores()
    layout = default_layout(chosen, cores, isolation_workers=matrix.workers)
    uniform = uniform_layout(chosen, cores, 2, None)
    suite = " ".join(selection) or "the whole suite"
    say(f"bench {MATRIX}: {len(ids)} cell(s) ({', '.join(ids)}), {suite}, {repeat} round(s)")
    start_s = interpreter_start_s()

    chosen_plans = [
        DEFAULT_PLAN,
        NAIVE_PLAN,
        *(p for p in plans if p not in (DEFAULT_PLAN, NAIVE_PLAN)),
    ]
    runs: dict[str, list[HarnessRun]] = {plan.name: [] for plan in chosen_plans}
    samples = interleaved(
        {
            plan.name: _measured(
                ids, plan, selection, say, runs[plan.name], watch_memory=plan == DEFAULT_PLAN
            )
            for plan in chosen_plans
        },
        repeat,
    )
    figures = _matrix_section(
        ids, suite, samples, runs, cores=cores, layout=layout, uniform=uniform, start_s=start_s
    )
    say(f"bench {MATRIX}: took {time.monotonic() - started:.0f} s")
    return figures


def _matrix_section(
    ids: Sequence[str],
    suite: str,
    samples: Mapping[str, list[float]],
    runs: Mapping[str, list[HarnessRun]],
    *,
    cores: int,
    layout: Layout,
    uniform: Layout,
    start_s: float,
) -> list[Figure]:
    """The figures of the matrix section from the runs' samples (pure: no run here)."""
    default, naive = samples[DEFAULT_PLAN.name], samples[NAIVE_PLAN.name]
    default_runs = runs[DEFAULT_PLAN.name]
    every_run = [run for group in runs.values() for run in group]
    what = f"{len(ids)} cell(s): {', '.join(ids)}; {suite}"
    processes = suite_processes(layout)
    floors = tuple(
        floor_seconds(sum(c.test_s for c in run.cells), cores, processes, start_s)
        for run in default_runs
    )
    cores_taken = {cell: layout.cost(cell) for cell in ids}
    efficiency = tuple(
        parallel_efficiency({c.cell: c.total_s for c in run.cells}, cores_taken, run.wall_s, cores)
        for run in default_runs
    )
    unweighted = [sum(c.total_s for c in run.cells) / run.wall_s / cores for run in default_runs]
    layouts_compared = [n for n in (DEFAULT_PLAN.name, UNIFORM_PLAN.name) if n in samples]
    fastest = min(layouts_compared, key=lambda name: statistics.median(samples[name]))
    layouts = {
        DEFAULT_PLAN.name: layout.describe(),
        UNIFORM_PLAN.name: uniform.describe(),
        NAIVE_PLAN.name: NAIVE_PLAN.description,
    }
    measured = [plan for plan in (DEFAULT_PLAN, NAIVE_PLAN, UNIFORM_PLAN) if plan.name in samples]
    figures = [
        Figure(
            MATRIX,
            f"wall, {plan.name}",
            "s",
            tuple(samples[plan.name]),
            note=_note(f"{what}; {layouts[plan.name]}", runs[plan.name]),
            details={"layout": layouts[plan.name], "options": list(plan.options)},
        )
        for plan in measured
    ]
    if UNIFORM_PLAN.name in samples:
        figures.append(
            Figure(
                MATRIX,
                f"{UNIFORM_PLAN.name} ÷ default",
                "x",
                ratio(samples[UNIFORM_PLAN.name], default),
                note=f"above 1: the default layout is faster; the faster layout here: {fastest}",
                details={"fastest": fastest},
            )
        )
    figures += [
        Figure(
            MATRIX,
            "naive ÷ default",
            "x",
            ratio(naive, default),
            target=at_least(3.0, "x"),
            note=_note("per-round ratio of the wall times", every_run),
        ),
        Figure(
            MATRIX,
            "floor",
            "s",
            floors,
            note=f"tests' own time (JUnit, all workers) ÷ {cores} cores + {processes} suite "
            f"process(es) × {start_s * 1000:.0f} ms interpreter start",
            details={"processes": processes, "interpreter_start_s": start_s, "cores": cores},
        ),
        Figure(
            MATRIX,
            "default ÷ floor",
            "x floor",
            ratio(default, floors),
            target=at_most(1.5, "x floor"),
            note="per-round: the default run's wall over its own floor",
        ),
        Figure(
            MATRIX,
            "parallel efficiency, default",
            "",
            efficiency,
            note="Σ cell time × cores the cell held ÷ wall ÷ cores (1 = every core busy all along)",
            details={"unweighted": unweighted, "cores_taken": cores_taken},
        ),
    ]
    peaks = tuple(run.peak_mib for run in default_runs if run.peak_mib is not None)
    if peaks:
        figures.append(
            Figure(
                MATRIX,
                "peak memory, default",
                "MiB",
                peaks,
                target=at_most(3072, "MiB"),
                note="the harness's whole process tree (servers and pytest workers), PSS "
                "sampled every 0.2 s",
            )
        )
    return figures


# ------------------------------------------------------------------ scaling


def scaling_figures(
    repeat: int = 3,
    *,
    say: Say = _to_stderr,
    sizes: Sequence[int | str] = SCALING_SIZES,
    pytest_args: Sequence[str] = BUDGET_SLICE,
) -> list[Figure]:
    """Wall time of the default run on growing numbers of cells, and of one cell's suite run
    once and four times over; the least-squares seconds per cell and how linear each is."""
    started = time.monotonic()
    matrix = load_matrix(MATRIX_FILE)
    native = spread_over_families(native_cells(matrix), matrix)
    counts = sorted(
        {len(native) if size == ALL_CELLS else min(int(size), len(native)) for size in sizes}
    )
    if len(counts) < 2:
        raise ValueError(f"scaling needs at least two sizes; {len(native)} native cell(s) here")
    suite = " ".join(pytest_args) or "the whole suite"
    say(f"bench {SCALING}: {counts} cells of {len(native)} native, {suite}, {repeat} round(s)")
    runs: dict[str, list[HarnessRun]] = {}
    contenders: dict[str, Callable[[], float]] = {}
    for count in counts:
        ids = [cell.id for cell in native[:count]]
        runs[f"{count} cells"] = []
        contenders[f"{count} cells"] = _measured(
            ids, DEFAULT_PLAN, pytest_args, say, runs[f"{count} cells"], section=SCALING
        )
    for times in SUITE_REPEATS:
        runs[f"suite x{times}"] = []
        contenders[f"suite x{times}"] = _measured(
            [SCALING_CELL],
            DEFAULT_PLAN,
            pytest_args,
            say,
            runs[f"suite x{times}"],
            section=SCALING,
            suite_repeat=times,
        )
    samples = interleaved(contenders, repeat)
    figures = _scaling_section(counts, samples, runs, suite, [c.id for c in native])
    say(f"bench {SCALING}: took {time.monotonic() - started:.0f} s")
    return figures


def _scaling_section(
    counts: Sequence[int],
    samples: Mapping[str, list[float]],
    runs: Mapping[str, list[HarnessRun]],
    suite: str,
    order: Sequence[str],
) -> list[Figure]:
    """The figures of the scaling section (pure)."""
    rounds = len(samples[f"{counts[0]} cells"])
    figures = [
        Figure(
            SCALING,
            f"wall, {count} cells",
            "s",
            tuple(samples[f"{count} cells"]),
            note=_note(
                f"default layout; first {count} of: {', '.join(order)}; {suite}",
                runs[f"{count} cells"],
            ),
        )
        for count in counts
    ]
    lines = [
        least_squares(counts, [samples[f"{count} cells"][i] for count in counts])
        for i in range(rounds)
    ]
    figures.append(
        Figure(
            SCALING,
            "seconds per cell",
            "s/cell",
            tuple(slope for slope, _ in lines),
            note=f"per-round least-squares slope of wall over {list(counts)} cells",
            details={"intercepts_s": [intercept for _, intercept in lines]},
        )
    )
    first, last = counts[0], counts[-1]
    growth = tuple(
        per_cell_growth((first, samples[f"{first} cells"][i]), (last, samples[f"{last} cells"][i]))
        for i in range(rounds)
    )
    figures.append(
        Figure(
            SCALING,
            f"wall per cell, {last} ÷ {first} cells",
            "x",
            growth,
            target=at_most(1.1, "x"),
            note=f"1 = linear (the line through 0 and the {first}-cell point); "
            "above: each added cell costs more",
        )
    )
    once, four = samples["suite x1"], samples["suite x4"]
    figures += [
        Figure(
            SCALING,
            f"wall, {SCALING_CELL}, suite x{times}",
            "s",
            tuple(samples[f"suite x{times}"]),
            note=_note(f"--suite-repeat {times}; {suite}", runs[f"suite x{times}"]),
        )
        for times in SUITE_REPEATS
    ]
    figures.append(
        Figure(
            SCALING,
            "suite x4 ÷ x1",
            "x",
            ratio(four, once),
            target=at_most(4.4, "x"),
            note="per-round; 4 = linear in the tests, 4.4 = linear within 10%; below 4: the "
            "cell's fixed costs (servers, interpreter, collection) are shared",
        )
    )
    return figures
