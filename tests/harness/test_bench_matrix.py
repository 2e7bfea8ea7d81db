"""The whole-matrix benchmark's pure parts: the commands it runs, what it reads back from a
results folder, its sums (floor, efficiency, slope), its figures, and the memory sampler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from scripts.bench import memory
from scripts.bench import whole_matrix as bench
from scripts.bench.harness_runs import (
    DEFAULT_PLAN,
    NAIVE_PLAN,
    UNIFORM_PLAN,
    CellOutcome,
    HarnessRun,
    harness_command,
    read_cells,
    suite_seconds,
)
from scripts.command_line import parse_arguments
from scripts.layout import Layout
from scripts.matrix import Cell, load_matrix
from scripts.results import Timings, write_result
from tests.harness.result_factories import cell_result

MATRIX = """
[matrix]
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"
[database.postgres.17]
binaries = {}
[database.postgres.18]
binaries = {}
[database.mysql."8.0"]
image = "mysql:8.0"
[database.mysql."9.7"]
binaries = {}
[database.sqlite.stdlib]
library = { module = "sqlite3" }
[cache.redis."7.0"]
binaries = {}
[cache.valkey.9]
binaries = {}
"""


def progress(path: Path, times: list[float]) -> None:
    finished = (
        {"event": "finish", "id": f"tests/integration/test_x.py::test_{i}", "outcome": "passed",
         "duration": t}
        for i, t in enumerate(times)
    )  # fmt: skip
    path.write_text("".join(json.dumps(event) + "\n" for event in finished))


def cell_folder(results: Path, cell: str, total_s: float, state: str = "passed") -> Path:
    result = replace(cell_result(cell, state), timings=Timings(0.5, total_s - 0.6, 0.1, total_s))  # type: ignore[arg-type]
    folder = results / cell
    folder.mkdir(parents=True)
    write_result(result, folder)
    return folder


def run(wall: float, cells: list[CellOutcome], peak: float | None = None) -> HarnessRun:
    return HarnessRun(wall, 0, tuple(cells), peak, "")


# ------------------------------------------------------------------ commands


def test_each_plan_runs_the_bench_run_command_on_exactly_the_chosen_cells(
    tmp_path: Path,
) -> None:
    command = harness_command(["postgres-18", "sqlite-stdlib"], tmp_path, python="py")
    assert command == [
        "py", "-m", "scripts", "bench", "run", "postgres-18", "sqlite-stdlib",
        "--no-fetch", "--results", str(tmp_path),
    ]  # fmt: skip
    args = parse_arguments(command[3:])
    assert (args.cells, args.workers, args.jobs) == (["postgres-18", "sqlite-stdlib"], None, None)
    assert (args.cold_servers, args.isolation, args.suite_repeat) == (False, "savepoint", 1)


def test_the_naive_plan_is_one_cold_cell_at_a_time_in_one_process_recreating_tables(
    tmp_path: Path,
) -> None:
    args = parse_arguments(harness_command(["mysql-9.7"], tmp_path, NAIVE_PLAN)[3:])
    assert (args.jobs, args.workers) == (1, 0)
    assert args.cold_servers is True
    assert args.isolation == "recreate"


def test_the_uniform_plan_gives_every_cell_two_workers(tmp_path: Path) -> None:
    args = parse_arguments(harness_command(["mysql-9.7"], tmp_path, UNIFORM_PLAN)[3:])
    assert (args.workers, args.jobs) == (2, None)


def test_repetition_and_the_suites_selection_reach_the_harness_and_pytest(
    tmp_path: Path,
) -> None:
    command = harness_command(
        ["sqlite-stdlib"], tmp_path, suite_repeat=4, pytest_args=["-k", "users"]
    )
    args = parse_arguments(command[3:])
    assert args.suite_repeat == 4
    assert args.pytest_args == ["-k", "users"]
    with pytest.raises(ValueError, match="at least one cell"):
        harness_command([], tmp_path)


# ------------------------------------------------------------------ results read back


def test_a_cells_test_time_sums_every_testcase_of_its_workers_and_its_rerun(
    tmp_path: Path,
) -> None:
    folder = cell_folder(tmp_path, "postgres-18", 12.0)
    progress(folder / "progress.jsonl", [1.0, 2.5, 0.5])  # tests of both workers, interleaved
    progress(folder / "progress-rerun.jsonl", [0.25])
    cell_folder(tmp_path, "sqlite-stdlib", 7.0, state="failed")
    progress(tmp_path / "sqlite-stdlib" / "progress.jsonl", [2.0])
    assert read_cells(tmp_path, ["postgres-18", "sqlite-stdlib"]) == (
        CellOutcome("postgres-18", "passed", 12.0, 4.25, 3),
        CellOutcome("sqlite-stdlib", "failed", 7.0, 2.0, 1),
    )


def test_a_missing_or_broken_progress_log_counts_no_test_time(tmp_path: Path) -> None:
    assert suite_seconds(tmp_path / "missing.jsonl") == (0.0, 0)
    (tmp_path / "broken.jsonl").write_text('{"event": "finish", "id": "t.py::test_a", "dur')
    assert suite_seconds(tmp_path / "broken.jsonl") == (0.0, 0)


def test_a_cell_without_a_result_is_an_error_and_a_run_with_one_is_not_clean(
    tmp_path: Path,
) -> None:
    [outcome] = read_cells(tmp_path, ["mysql-9.7"])
    assert outcome.state == "error"
    assert run(10, [outcome]).trouble == "exit code 0 (mysql-9.7: error)"
    flaky = CellOutcome("sqlite-stdlib", "flaky", 1, 1, 1)
    assert run(10, [flaky]).trouble is None
    assert replace(run(10, [flaky]), exit_code=1).trouble == "exit code 1"


# ------------------------------------------------------------------ sums


def test_the_floor_is_the_tests_time_over_the_cores_plus_one_start_per_process() -> None:
    assert bench.floor_seconds(40.0, 2, 5, 0.02) == pytest.approx(20.1)
    assert bench.floor_seconds(40.0, 0, 1, 0.0) == 40.0  # no core count: one core


def test_suite_processes_count_each_cell_and_each_of_its_xdist_workers() -> None:
    layout = Layout(slots=2, workers={"a": 1, "b": 2, "c": 0})
    assert bench.suite_processes(layout) == 1 + 3 + 1


def test_parallel_efficiency_weighs_each_cell_by_the_cores_it_held() -> None:
    cells = {"a": 10.0, "b": 10.0}
    assert bench.parallel_efficiency(cells, {"a": 1, "b": 1}, 10.0, 2) == 1.0
    assert bench.parallel_efficiency(cells, {"a": 2, "b": 2}, 20.0, 2) == 1.0
    assert bench.parallel_efficiency(cells, {}, 20.0, 2) == 0.5
    assert bench.parallel_efficiency(cells, {}, 0.0, 2) == 0.0


def test_least_squares_finds_the_line_through_the_points() -> None:
    slope, intercept = bench.least_squares([2, 4, 8, 16], [7.0, 11.0, 19.0, 35.0])
    assert (slope, intercept) == (pytest.approx(2.0), pytest.approx(3.0))
    slope, _ = bench.least_squares([1, 2, 3], [1.0, 3.0, 2.0])
    assert slope == pytest.approx(0.5)
    with pytest.raises(ValueError, match="two points"):
        bench.least_squares([2], [3.0])
    with pytest.raises(ValueError, match="different"):
        bench.least_squares([2, 2], [3.0, 4.0])


def test_per_cell_growth_is_one_when_the_wall_grows_in_proportion() -> None:
    assert bench.per_cell_growth((2, 10.0), (8, 40.0)) == 1.0
    assert bench.per_cell_growth((2, 10.0), (8, 20.0)) == 0.5
    assert bench.per_cell_growth((2, 10.0), (8, 60.0)) == 1.5


# ------------------------------------------------------------------ which cells


@pytest.fixture
def cells(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Cell]:
    """The native cells of a small matrix: image-only MySQL 8.0 and an unservable postgres-17
    are left out."""
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)

    class Chosen:
        def __init__(self, source: str) -> None:
            self.source = source

    def choose(spec: object, only: object = None) -> Chosen:
        if getattr(spec, "id", "") == "postgres-17":
            raise bench.Unavailable("no postgres 17 here")
        return Chosen(getattr(spec, "sources", [])[0].kind)

    monkeypatch.setattr(bench, "choose_provider", choose)
    return bench.native_cells(load_matrix(path))


def test_native_cells_leave_out_image_only_and_unavailable_servers(cells: list[Cell]) -> None:
    assert [cell.id for cell in cells] == ["postgres-18", "mysql-9.7", "sqlite-stdlib", "valkey-9"]


def test_the_default_sample_is_the_native_part_of_the_sample_all_is_every_native_cell(
    cells: list[Cell],
) -> None:
    assert [c.id for c in bench.chosen_cells(None, cells)] == [
        "postgres-18",
        "mysql-9.7",
        "sqlite-stdlib",
        "valkey-9",
    ]
    assert bench.chosen_cells(["all"], cells) == cells
    assert [c.id for c in bench.chosen_cells(["valkey-9"], cells)] == ["valkey-9"]
    with pytest.raises(ValueError, match=r"not native cells here: mysql-8\.0"):
        bench.chosen_cells(["mysql-8.0"], cells)


def test_scaling_points_take_the_backends_in_turn(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text(MATRIX)
    matrix = load_matrix(path)
    ordered = bench.spread_over_families(matrix.cells(), matrix)
    assert [cell.id for cell in ordered] == [
        "postgres-17",
        "mysql-8.0",
        "sqlite-stdlib",
        "valkey-9",
        "postgres-18",
        "mysql-9.7",
    ]


# ------------------------------------------------------------------ figures


def test_the_matrix_figures_are_per_round_ratios_and_carry_the_targets() -> None:
    a = [CellOutcome("a", "passed", 8.0, 6.0, 10), CellOutcome("b", "passed", 4.0, 2.0, 10)]
    default_runs = [run(10.0, a, 900.0), run(8.0, a, 1000.0), run(12.0, a, 800.0)]
    samples = {
        DEFAULT_PLAN.name: [10.0, 8.0, 12.0],
        NAIVE_PLAN.name: [40.0, 40.0, 24.0],
        UNIFORM_PLAN.name: [15.0, 8.0, 12.0],
    }
    runs = {
        DEFAULT_PLAN.name: default_runs,
        NAIVE_PLAN.name: [run(w, a) for w in samples[NAIVE_PLAN.name]],
        UNIFORM_PLAN.name: [run(w, a) for w in samples[UNIFORM_PLAN.name]],
    }
    layout = Layout(slots=2, workers={"a": 2, "b": 1})
    figures = {
        figure.name: figure
        for figure in bench._matrix_section(
            ["a", "b"],
            "the whole suite",
            samples,
            runs,
            cores=2,
            layout=layout,
            uniform=Layout(slots=2, workers={"a": 2, "b": 2}),
            start_s=0.5,
        )
    }
    naive = figures["naive ÷ default"]
    assert naive.samples == (4.0, 5.0, 2.0)
    assert naive.target is not None
    assert naive.target.describe() == "≥ 3 x"
    assert naive.met is True
    # floor: (6 + 2) s of tests over 2 cores, plus 4 processes (a: 1 + 2 workers, b: 1) x 0.5 s
    assert figures["floor"].samples == (6.0, 6.0, 6.0)
    assert figures["default ÷ floor"].samples == pytest.approx((10 / 6, 8 / 6, 12 / 6))
    assert figures["default ÷ floor"].met is False
    # a held 2 cores for 8 s, b one for 4 s: 20 core-seconds of 2 x wall
    assert figures["parallel efficiency, default"].samples == pytest.approx((1.0, 1.25, 20 / 24))
    assert figures["peak memory, default"].samples == (900.0, 1000.0, 800.0)
    assert figures["peak memory, default"].met is True
    assert figures["uniform --workers 2 ÷ default"].details["fastest"] == "default"
    assert "NOT CLEAN" not in figures["wall, default"].note


def test_the_scaling_figures_give_the_slope_the_growth_and_the_suite_ratio() -> None:
    samples = {
        "2 cells": [10.0, 12.0, 10.0],
        "4 cells": [20.0, 20.0, 20.0],
        "8 cells": [40.0, 36.0, 30.0],
        "suite x1": [5.0, 5.0, 6.0],
        "suite x4": [20.0, 15.0, 18.0],
    }
    runs: dict[str, list[HarnessRun]] = {name: [] for name in samples}
    figures = {
        figure.name: figure
        for figure in bench._scaling_section([2, 4, 8], samples, runs, "a slice", ["a"])
    }
    assert figures["seconds per cell"].samples[0] == pytest.approx(5.0)
    assert figures["seconds per cell"].unit == "s/cell"
    growth = figures["wall per cell, 8 ÷ 2 cells"]
    assert growth.samples == pytest.approx((1.0, 0.75, 0.75))
    assert growth.met is True
    suite = figures["suite x4 ÷ x1"]
    assert suite.samples == (4.0, 3.0, 3.0)
    assert suite.target is not None
    assert suite.target.describe() == "≤ 4.4 x"


# ------------------------------------------------------------------ memory


def test_the_parent_is_read_after_a_process_name_with_spaces_and_parentheses() -> None:
    assert memory.parent_of("42 (a (b) c) S 7 42 42 0 -1") == 7


def test_descendants_are_the_whole_tree_below_a_process_and_nothing_else() -> None:
    parents = {1: 0, 10: 1, 11: 10, 12: 11, 13: 10, 20: 1, 21: 20}
    assert memory.descendants(10, parents) == {10, 11, 12, 13}
    assert memory.descendants(99, parents) == {99}


def test_a_process_counts_its_pss_else_its_rss_else_nothing(tmp_path: Path) -> None:
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "smaps_rollup").write_text("Rss:  300 kB\nPss:  120 kB\n")
    (tmp_path / "1" / "status").write_text("VmRSS:  300 kB\n")
    (tmp_path / "2").mkdir()
    (tmp_path / "2" / "status").write_text("Name: x\nVmRSS:  200 kB\n")
    assert memory.process_kib(1, tmp_path) == 120
    assert memory.process_kib(2, tmp_path) == 200
    assert memory.process_kib(3, tmp_path) == 0


def test_the_sampler_sees_the_memory_of_a_child_process() -> None:
    holds = "x = bytearray(64 * 1024 * 1024); import time; time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", holds])  # noqa: S603
    try:
        deadline = time.monotonic() + 10
        alone = memory.tree_kib(child.pid)
        while alone < 64 * 1024 and time.monotonic() < deadline:
            time.sleep(0.05)
            alone = memory.tree_kib(child.pid)
        with memory.peak_memory(child.pid, every_s=0.05) as peak:
            while peak.samples < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
        assert peak.peak_kib >= 64 * 1024
        # the tree of this test's own process holds the child too
        assert memory.tree_kib(os.getpid()) >= alone
    finally:
        child.kill()
        child.wait()
