"""Fixtures shared by the report's tests: real cells of the sample suite, run once per session."""

from __future__ import annotations

import pytest

from scripts.report.build import Written, write_report
from tests.harness.report_scenario import DiffRuns, PlantedRun, diff_runs, planted_run


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory) -> PlantedRun:
    return planted_run(tmp_path_factory.mktemp("planted"))


@pytest.fixture(scope="session")
def diff_pair(tmp_path_factory: pytest.TempPathFactory, planted: PlantedRun) -> DiffRuns:
    return diff_runs(tmp_path_factory.mktemp("diff"), planted.matrix_file)


@pytest.fixture(scope="session")
def planted_report(tmp_path_factory: pytest.TempPathFactory, planted: PlantedRun) -> Written:
    out = tmp_path_factory.mktemp("reports")
    return write_report([planted.results], out, matrix_file=planted.matrix_file, previous=None)
