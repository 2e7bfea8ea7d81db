"""Fixtures shared by the harness's tests: a private scratch folder; for the report's tests,
real cells of the sample suite, run once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.report.build import Written, write_report
from tests.harness.providers_support import fast_folder
from tests.harness.report_scenario import DiffRuns, PlantedRun, diff_runs, planted_run

# the second service's own suite runs in its own repository (test_second_service.py), not here
collect_ignore = ["second_service"]


@pytest.fixture
def scratch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private scratch folder (COMPAT_SCRATCH_DIR), so that what a run leaves can be seen and
    the machine's other runs are never touched."""
    with fast_folder("compat-test-scratch-") as folder:
        monkeypatch.setenv("COMPAT_SCRATCH_DIR", str(folder))
        yield folder


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
