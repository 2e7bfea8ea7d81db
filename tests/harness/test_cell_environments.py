"""A cell of a stack or an interpreter runs its suite in its own environment: the pins
installed with the service, the driver's dialect in its database URL, the versions it
really ran recorded in its result, and a stack that cannot be installed `unavailable`."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from scripts.cell import cell_pins, run_cell
from scripts.matrix import Cell
from scripts.plan import RunPlan
from scripts.results import CellResult
from scripts.stacks import StackValue, merged_pins
from scripts.suite import Suite
from tests.harness.matrix_support import harness_environment_cell

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("suite-environments")]

SQLALCHEMY_2_0 = StackValue("sqlalchemy", "2.0", ("sqlalchemy>=2.0,<2.1",))

REPORTS_ITS_ENVIRONMENT = """
import os
import sys

import sqlalchemy


def test_runs_in_the_cells_environment():
    assert ".nox/suite-envs/" in sys.executable, sys.executable
    assert sqlalchemy.__version__.startswith("2.0."), sqlalchemy.__version__


def test_gets_the_drivers_dialect():
    assert os.environ["DATABASE_URL"].startswith("sqlite+pysqlite://"), os.environ["DATABASE_URL"]
"""


def run(cell: Cell, tmp_path: Path, source: str) -> CellResult:
    suite = tmp_path / "test_environment.py"
    suite.write_text(source)
    plan = RunPlan(
        (cell,), tmp_path / "results", timeout=600, suite=Suite(test_paths=(str(suite),))
    )
    return run_cell(cell, plan)


def test_a_stack_cell_runs_its_suite_with_its_pins_and_records_what_it_installed(
    tmp_path: Path,
) -> None:
    # a driver of SQLite's own DB-API, so that the dialect's hand-over needs no server
    driver = StackValue("driver", "pysqlite", (), (("sqlite", "sqlite+pysqlite"),))
    cell = replace(harness_environment_cell("sqlite-stdlib"), stack=(SQLALCHEMY_2_0, driver))
    result = run(cell, tmp_path, REPORTS_ITS_ENVIRONMENT)
    assert result.state == "passed", result.reason or result.log_tail
    assert result.environment["sqlalchemy"].startswith("2.0.")
    assert result.stack == {"sqlalchemy": "2.0", "driver": "pysqlite"}
    assert result.environment["python"].count(".") == 2  # the full version: 3.11.7


def test_a_stack_that_cannot_be_installed_is_unavailable_with_the_resolvers_words(
    tmp_path: Path,
) -> None:
    impossible = StackValue("sqlalchemy", "1", ("sqlalchemy<1.0",))
    cell = replace(harness_environment_cell("sqlite-stdlib"), stack=(impossible,))
    result = run(cell, tmp_path, "def test_never_runs():\n    raise AssertionError\n")
    assert result.state == "unavailable"
    assert result.reason is not None
    assert "sqlalchemy" in result.reason.lower()
    assert "unsatisfiable" in result.reason or "No solution found" in result.reason
    assert all(server.reported is None for server in result.servers)  # none was started
    assert result.environment == {}  # not the harness's own libraries: nothing was installed


def test_a_pin_from_the_command_line_takes_the_place_of_the_stacks_pin_of_that_library() -> None:
    cell = replace(harness_environment_cell("sqlite-stdlib"), stack=(SQLALCHEMY_2_0,))
    plan = RunPlan((cell,), Path("results"), timeout=60, extra_pins=("SQLAlchemy==2.0.31",))
    assert cell_pins(cell, plan) == ("SQLAlchemy==2.0.31",)
    assert merged_pins(("redis>=8", "kombu<5.7"), ("redis==6.4.0",)) == (
        "kombu<5.7",
        "redis==6.4.0",
    )
