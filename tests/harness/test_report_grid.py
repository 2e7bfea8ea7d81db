"""The grid's Migrations row: a box per database backend, failed when one of its cells' migrations
failed, the cache cells' migrations counted with the default database they ran on."""

from __future__ import annotations

from pathlib import Path

from scripts.paths import MATRIX_FILE
from scripts.prepare_step import MigrationsOutcome
from scripts.report.build import build_report
from scripts.report.grid import GridRow, grid_rows
from scripts.report.matrix_info import read_matrix_info
from scripts.results import ServerInfo, write_result
from tests.harness.result_factories import cell_result

PASSED = MigrationsOutcome("passed", "alembic upgrade head", seconds=0.2)
FAILED = MigrationsOutcome("failed", "alembic upgrade head", "0002_x", "(1054, 'Unknown column')")


def _migrations_row(tmp_path: Path, outcomes: dict[str, MigrationsOutcome | None]) -> GridRow:
    for cell, outcome in outcomes.items():
        result = cell_result(cell, "failed" if outcome is FAILED else "passed")
        result.migrations = outcome
        if cell.startswith("redis-"):  # a cache cell: it ran on the default SQLite
            result.servers = [
                ServerInfo("database", "sqlite", "stdlib", "3.40.1", "library", "sqlite3")
            ]
        write_result(result, tmp_path / cell)
    report = build_report([tmp_path], read_matrix_info(MATRIX_FILE), previous=None)
    rows = [row for row in grid_rows(report) if row.kind == "migrations"]
    assert len(rows) == 1
    return rows[0]


def test_a_failed_step_fails_its_backends_box_and_names_every_cell(tmp_path: Path) -> None:
    row = _migrations_row(
        tmp_path,
        {"postgres-16": PASSED, "mysql-9.7": FAILED, "mariadb-11.8": PASSED, "redis-6.0": PASSED},
    )
    boxes = {box.version: box for box in row.boxes}
    assert {name: box.state for name, box in boxes.items()} == {
        "postgres": "passed",
        "mysql": "failed",
        "mariadb": "passed",
        "sqlite": "passed",
    }
    assert boxes["mysql"].cell == "mysql-9.7"
    assert dict(boxes["mysql"].details) == {
        "mysql-9.7": "failed at 0002_x: (1054, 'Unknown column')"
    }
    assert dict(boxes["sqlite"].details) == {"redis-6.0": "passed"}
    assert (boxes["sqlite"].shown, boxes["postgres"].shown) == ("1 cell", "1 cell")


def test_cells_that_never_prepared_a_database_give_no_migrations_row(tmp_path: Path) -> None:
    result = cell_result("postgres-16", "error")
    write_result(result, tmp_path / "postgres-16")
    report = build_report([tmp_path], read_matrix_info(MATRIX_FILE), previous=None)
    assert [row.kind for row in grid_rows(report)].count("migrations") == 0
