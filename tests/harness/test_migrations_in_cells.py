"""A broken migration, in a temporary copy, run by the real cell runner on two cells at once:
the cell whose server refuses it fails at that step with the server's message, in its result,
compat.json and the Markdown; the other cell, same run, same migrations, passes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest

from scripts.cell import run_cell
from scripts.matrix import load_matrix
from scripts.paths import REPO_ROOT
from scripts.plan import RunPlan
from scripts.report.build import Written, write_report
from scripts.report.markdown import escape
from scripts.results import CellResult, read_result
from scripts.suite import Suite
from tests.harness.broken_migrations import BROKEN_REVISION, broken_migrations
from tests.harness.report_scenario import write_planted_matrix

SCHEMA = REPO_ROOT / "scripts" / "report" / "compat.schema.json"
ONE_QUICK_TEST = ("tests/integration/test_migrations.py::test_single_head_revision",)
SQLITE_REFUSES = 'near "ALTER": syntax error'
CELLS = ("sqlite-stdlib", "postgres-15")  # a library, and the machine's server by URL


@dataclass(frozen=True)
class BrokenRun:
    results: Path
    cells: dict[str, CellResult]
    report: Written


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> BrokenRun:
    root = tmp_path_factory.mktemp("broken-migrations")
    matrix_file = write_planted_matrix(root / "matrix.toml")
    matrix = load_matrix(matrix_file)
    results = root / "results"
    env = broken_migrations(root)
    cells = {
        cell.id: run_cell(
            cell,
            RunPlan(
                (cell,), results, timeout=300, suite=Suite(test_paths=ONE_QUICK_TEST), suite_env=env
            ),
        )
        for cell in map(matrix.cell, CELLS)
    }
    report = write_report([results], root / "report", matrix_file=matrix_file, previous=None)
    return BrokenRun(results, cells, report)


def test_the_cell_whose_server_refuses_the_step_fails_there_with_the_servers_message(
    broken_run: BrokenRun,
) -> None:
    sqlite = broken_run.cells["sqlite-stdlib"]
    assert sqlite.state == "failed"
    assert sqlite.migrations is not None
    assert (sqlite.migrations.state, sqlite.migrations.step) == ("failed", BROKEN_REVISION)
    assert SQLITE_REFUSES in (sqlite.migrations.message or "")
    assert sqlite.reason is not None
    assert BROKEN_REVISION in sqlite.reason
    assert SQLITE_REFUSES in sqlite.reason
    assert read_result(broken_run.results / "sqlite-stdlib").migrations == sqlite.migrations


def test_the_other_cell_of_the_run_is_unaffected(broken_run: BrokenRun) -> None:
    postgres = broken_run.cells["postgres-15"]
    assert (postgres.state, postgres.counts["passed"]) == ("passed", 1)
    assert postgres.migrations is not None
    assert postgres.migrations.state == "passed"


def test_the_report_shows_each_cells_migrations(broken_run: BrokenRun) -> None:
    document = json.loads(broken_run.report.json.read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(document)) == []
    shown = {cell["cell"]: cell["migrations"] for cell in document["cells"]}
    assert shown["sqlite-stdlib"]["step"] == BROKEN_REVISION
    assert shown["postgres-15"]["state"] == "passed"
    markdown = broken_run.report.markdown.read_text(encoding="utf-8")
    sqlite_row = next(line for line in markdown.splitlines() if line.startswith("| `sqlite-"))
    assert escape(f"❌ failed at {BROKEN_REVISION}: ") in sqlite_row
    assert SQLITE_REFUSES in sqlite_row
    postgres_row = next(line for line in markdown.splitlines() if line.startswith("| `postgres-"))
    assert "| ✅ passed |" in postgres_row
