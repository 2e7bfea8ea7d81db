"""Real cells of the sample suite with planted outcomes, for the report's tests.

The planted run (`planted_run`), one cell per state:
    sqlite-stdlib   passed       (library source; the default cell, so it also speaks for redis-7.0)
    postgres-15     flaky        sample_flaky.py fails on its first run only (state dir given)
    mariadb-10.11   failed       sample_database.py::test_string_equality_is_case_sensitive
    postgres-16     error        a url source at a closed port: cannot be provisioned
    mysql-8.0       unavailable  an image source, and this machine has no Docker engine
The diff runs (`diff_runs`): the sqlite cell twice, the first with one test broken on purpose
(fixed in the second), the second with another one broken (the planted regression).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path

from scripts.cell import run_cell
from scripts.matrix import Cell, Matrix, load_matrix
from scripts.plan import RunPlan
from scripts.results import CellResult
from scripts.suite import Suite

SAMPLE_SUITE = "tests/harness/sample_suite"
SAMPLE_PYTEST_ARGS = ("-o", "python_files=sample_*.py", f"--confcutdir={SAMPLE_SUITE}")
STATE_DIR_ENV = "COMPAT_SAMPLE_STATE_DIR"
BREAK_ENV = "COMPAT_SAMPLE_BREAK"

CASE_TEST = "tests/harness/sample_suite/sample_database.py::test_string_equality_is_case_sensitive"
FLAKY_TEST = "tests/harness/sample_suite/sample_flaky.py::test_fails_on_the_first_run_only"
FIXED_TEST = "tests/harness/sample_suite/sample_cache.py::test_cache_round_trip"
REGRESSED_TEST = "tests/harness/sample_suite/sample_database.py::test_database_answers"

EXPECTED_STATES = {
    "sqlite-stdlib": "passed",
    "postgres-15": "flaky",
    "mariadb-10.11": "failed",
    "postgres-16": "error",
    "mysql-8.0": "unavailable",
}


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def write_planted_matrix(path: Path) -> Path:
    path.write_text(
        f"""
[matrix]
strategy = "axis"
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"
workers = 1
timeout = 120

[database.postgres.15]
url = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"

[database.postgres.16]
url = "postgresql+psycopg2://postgres@127.0.0.1:{closed_port()}/postgres"

[database.mysql."8.0"]
image = "mysql:8.0"

[database.mariadb."10.11"]
url = "mysql+pymysql://root@127.0.0.1:3306/test"

[database.sqlite.stdlib]
library = {{ module = "sqlite3" }}

[cache.redis."7.0"]
url = "redis://127.0.0.1:6379/0"
""",
        encoding="utf-8",
    )
    return path


def run_sample_cell(cell: Cell, results: Path, env: dict[str, str] | None = None) -> CellResult:
    plan = RunPlan(
        (cell,),
        results,
        timeout=120,
        suite=Suite(test_paths=(SAMPLE_SUITE,)),
        pytest_args=tuple(SAMPLE_PYTEST_ARGS),
        suite_env=env or {},
    )
    return run_cell(cell, plan)


@dataclass(frozen=True)
class PlantedRun:
    matrix_file: Path
    matrix: Matrix
    results: Path
    cells: dict[str, CellResult]


def planted_run(root: Path) -> PlantedRun:
    matrix_file = write_planted_matrix(root / "matrix.toml")
    matrix = load_matrix(matrix_file)
    results = root / "results"
    cells: dict[str, CellResult] = {}
    for cell in matrix.cells():
        env = {STATE_DIR_ENV: str(root / "flaky-state")} if cell.id == "postgres-15" else {}
        cells[cell.id] = run_sample_cell(cell, results, env)
    return PlantedRun(matrix_file, matrix, results, cells)


@dataclass(frozen=True)
class DiffRuns:
    matrix_file: Path
    before: Path  # results folder of the earlier run
    after: Path


def diff_runs(root: Path, matrix_file: Path) -> DiffRuns:
    cell = load_matrix(matrix_file).cell("sqlite-stdlib")
    before, after = root / "before", root / "after"
    run_sample_cell(cell, before, {BREAK_ENV: "test_cache_round_trip"})
    run_sample_cell(cell, after, {BREAK_ENV: "test_database_answers"})
    return DiffRuns(matrix_file, before, after)
