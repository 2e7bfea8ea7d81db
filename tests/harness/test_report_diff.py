"""--previous: exactly the planted regression and fix; an equal report shows no difference."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from scripts.report.build import Written, write_report
from scripts.report.diff import (
    PreviousReportError,
    Snapshot,
    compare,
    interrupted_cells,
    load_previous,
    snapshot,
)
from scripts.report.model import Report, RunInfo
from scripts.results import NOT_STARTED, WHILE_RUNNING, interrupted
from tests.harness.report_scenario import (
    FIXED_TEST,
    REGRESSED_TEST,
    DiffRuns,
    PlantedRun,
)
from tests.harness.result_factories import cell_result


def test_the_planted_regression_and_fix_are_found_and_nothing_else(
    diff_pair: DiffRuns, tmp_path: Path
) -> None:
    before = write_report(
        [diff_pair.before], tmp_path / "before", matrix_file=diff_pair.matrix_file, previous=None
    )
    after = write_report(
        [diff_pair.after],
        tmp_path / "after",
        matrix_file=diff_pair.matrix_file,
        previous=before.json,
    )
    diff = after.report.diff
    assert diff is not None
    assert [(c.cell, c.test, c.before, c.after) for c in diff.regressions] == [
        ("sqlite-stdlib", REGRESSED_TEST, "passed", "failed")
    ]
    assert [(c.cell, c.test, c.before, c.after) for c in diff.fixed] == [
        ("sqlite-stdlib", FIXED_TEST, "failed", "passed")
    ]
    assert diff.regressions[0].message is not None
    assert "broken on purpose" in diff.regressions[0].message
    assert not any(
        (
            diff.newly_flaky,
            diff.cells_unavailable,
            diff.cells_errored,
            diff.cells_added,
            diff.cells_dropped,
            diff.versions_added,
            diff.versions_dropped,
        )
    )
    changes = after.markdown.read_text(encoding="utf-8").split("## Changes since")[1]
    assert "Regressions** (1)" in changes
    assert f"`{REGRESSED_TEST}`: passed → failed" in changes
    assert "Fixed** (1)" in changes


def test_a_previous_report_equal_to_the_current_shows_no_difference(
    planted: PlantedRun, planted_report: Written, tmp_path: Path
) -> None:
    again = write_report(
        [planted.results],
        tmp_path / "again",
        matrix_file=planted.matrix_file,
        previous=planted_report.json,
    )
    assert again.report.diff is not None
    assert again.report.diff.empty
    assert "No differences." in again.markdown.read_text(encoding="utf-8")


def test_without_previous_the_report_already_in_out_is_the_previous(
    planted: PlantedRun, planted_report: Written, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(planted_report.json.parent, out)
    again = write_report([planted.results], out, matrix_file=planted.matrix_file, previous=None)
    assert again.previous_copy == out / "previous" / "compat.json"
    assert again.previous_copy.read_bytes() == planted_report.json.read_bytes()
    assert again.report.diff is not None
    assert again.report.diff.empty


RUN = RunInfo(
    "2026-01-01T00:00:00+00:00", None, None, "3.11", "linux", {}, "matrix.toml", None, [], []
)


def _snapshot(
    states: dict[str, str], tests: dict[str, dict[str, str]], versions: set[str]
) -> Snapshot:
    return Snapshot(
        None,
        None,
        states,
        {cell: {t: (o, None) for t, o in outcomes.items()} for cell, outcomes in tests.items()},
        versions,
    )


def test_cells_lost_and_versions_moved_are_reported() -> None:
    before = _snapshot(
        {"postgres-16": "passed", "mysql-8.0": "passed", "mariadb-10.11": "failed"},
        {"postgres-16": {"t::a": "passed", "t::b": "passed"}, "mysql-8.0": {"t::a": "passed"}},
        {"postgres-16", "mysql-8.0", "mariadb-10.11"},
    )
    after = _snapshot(
        {"postgres-16": "flaky", "mysql-8.0": "unavailable", "postgres-17": "error"},
        {"postgres-16": {"t::a": "flaky", "t::b": "passed"}},
        {"postgres-16", "postgres-17"},
    )
    diff = compare(before, after, "prev.json")
    assert diff.regressions == []  # flaky and unavailable are not regressions
    assert [(c.cell, c.test) for c in diff.newly_flaky] == [("postgres-16", "t::a")]
    assert [c.cell for c in diff.cells_unavailable] == ["mysql-8.0"]
    assert diff.cells_added == ["postgres-17"]
    assert diff.cells_dropped == ["mariadb-10.11"]
    assert (diff.versions_added, diff.versions_dropped) == (
        ["postgres-17"],
        ["mariadb-10.11", "mysql-8.0"],
    )


def test_a_cell_that_passed_and_now_errors_is_a_regression() -> None:
    before = _snapshot({"postgres-16": "passed"}, {"postgres-16": {"t::a": "passed"}}, set())
    after = _snapshot({"postgres-16": "error"}, {"postgres-16": {}}, set())
    diff = compare(before, after, "prev.json")
    assert [(c.cell, c.test, c.after) for c in diff.regressions] == [("postgres-16", None, "error")]
    assert [c.cell for c in diff.cells_errored] == ["postgres-16"]


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "does not exist"),
        ("{", "unreadable"),
        ('{"hello": 1}', "not a compat.json"),
        ('{"schema": "fastapi-compat-matrix/compat-report", "format": 7}', "format 7"),
        ('{"schema": "fastapi-compat-matrix/compat-report", "format": 1}', "damaged"),
    ],
)
def test_a_bad_previous_report_is_refused_with_a_reason(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "compat.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(PreviousReportError, match=says):
        load_previous(path)


def test_a_damaged_previous_report_becomes_a_note_not_a_crash(
    planted: PlantedRun, tmp_path: Path
) -> None:
    previous = tmp_path / "old.json"
    previous.write_text(json.dumps({"schema": "something else"}))
    written = write_report(
        [planted.results], tmp_path / "out", matrix_file=planted.matrix_file, previous=previous
    )
    assert written.report.diff is None
    assert written.report.diff_note is not None
    assert "not a compat.json" in written.report.diff_note


def test_cells_an_interruption_cut_short_are_no_regressions_and_the_verdict_says_so() -> None:
    before = _snapshot(
        {"postgres-16": "passed", "postgres-17": "passed", "postgres-18": "passed"},
        {cell: {"t::a": "passed"} for cell in ("postgres-16", "postgres-17", "postgres-18")},
        set(),
    )
    finished = cell_result("postgres-16", "failed", {"t::a": "failed"})
    cut_short = interrupted(cell_result("postgres-17", "error", {"t::a": "error"}), WHILE_RUNNING)
    not_started = interrupted(cell_result("postgres-18", "error"), NOT_STARTED)
    cells = [finished, cut_short, not_started]
    after = snapshot(cells, [])
    diff = compare(before, after, "prev.json", cut_short=interrupted_cells(cells))
    assert [(c.cell, c.test) for c in diff.regressions] == [("postgres-16", "t::a")]
    assert (diff.cells_errored, diff.cells_dropped) == ([], [])
    line = Report(run=RUN, cells=cells, verdict=[], diff=diff, diff_note=None).one_line()
    assert line == (
        "3 cells: 1 failed, 2 error; interrupted: 1 cell cut short, 1 not started;"
        " 1 regression since the previous report among the cells that finished"
    )
