"""Collecting results at any depth, from several folders, with broken files as error cells."""

from __future__ import annotations

import shutil
from pathlib import Path

from scripts.report.collect import collect
from scripts.report.symbols import missing_server_note
from scripts.results import ServerInfo, write_result
from tests.harness.result_factories import cell_result


def test_results_are_found_at_any_depth_and_ordered_by_the_matrix(tmp_path: Path) -> None:
    write_result(
        cell_result("postgres-16", "passed"), tmp_path / "a" / "job-1" / "results" / "postgres-16"
    )
    write_result(cell_result("mysql-8.0", "unavailable"), tmp_path / "b" / "mysql-8.0")
    write_result(cell_result("redis-6.2", "passed"), tmp_path / "b" / "deep" / "er" / "x")
    found = collect([tmp_path / "a", tmp_path / "b"], order=["mysql-8.0", "postgres-16"])
    assert [r.cell for r in found.results] == ["mysql-8.0", "postgres-16", "redis-6.2"]
    assert found.warnings == []


def test_broken_cell_folders_become_error_cells_with_reasons(tmp_path: Path) -> None:
    (tmp_path / "postgres-16").mkdir()
    (tmp_path / "postgres-16" / "result.json").write_text(
        '{"format": 1, "cell": "postgres-16", "ax'
    )
    (tmp_path / "mariadb-10.11").mkdir()
    (tmp_path / "mariadb-10.11" / "junit.xml").write_text("<testsuites/>")
    (tmp_path / "mysql-8.0").mkdir()
    (tmp_path / "mysql-8.0" / "result.json").write_text("<html>not json</html>")
    found = {r.cell: r for r in collect([tmp_path]).results}
    assert {cell: r.state for cell, r in found.items()} == {
        "postgres-16": "error",
        "mariadb-10.11": "error",
        "mysql-8.0": "error",
    }
    assert "not valid JSON" in (found["postgres-16"].reason or "")
    assert "runner stopped before writing its result" in (found["mariadb-10.11"].reason or "")


def test_a_cell_found_twice_keeps_the_latest_and_warns(tmp_path: Path) -> None:
    older = cell_result("postgres-16", "failed")
    newer = cell_result("postgres-16", "passed")
    newer.finished_at = "2026-02-01T00:00:00+00:00"
    write_result(older, tmp_path / "machine-a" / "postgres-16")
    write_result(newer, tmp_path / "machine-b" / "postgres-16")
    found = collect([tmp_path])
    assert [(r.cell, r.state) for r in found.results] == [("postgres-16", "passed")]
    assert "found more than once" in found.warnings[0]


def test_a_missing_results_folder_is_a_warning(tmp_path: Path) -> None:
    found = collect([tmp_path / "nope"])
    assert found.results == []
    assert any("does not exist" in w for w in found.warnings)
    assert any("no cell results" in w for w in found.warnings)


def test_copied_folders_from_ci_jobs_are_accepted(tmp_path: Path) -> None:
    source = tmp_path / "source"
    write_result(cell_result("postgres-16", "passed"), source / "postgres-16")
    shutil.copytree(source, tmp_path / "artifacts" / "results-postgres-16")
    found = collect([tmp_path / "artifacts"])
    assert [r.cell for r in found.results] == ["postgres-16"]


def test_a_broken_result_shows_its_servers_as_not_recorded_not_as_not_started(
    tmp_path: Path,
) -> None:
    (tmp_path / "postgres-16").mkdir()
    (tmp_path / "postgres-16" / "result.json").write_text("{truncated")
    (broken,) = collect([tmp_path]).results
    assert missing_server_note(next(iter(broken.servers), None)) == "(not recorded)"
    never_started = ServerInfo("database", "mysql", "8.0", None, None, None)
    assert missing_server_note(never_started) == "(not started)"


def test_a_cell_whose_harness_was_killed_is_an_error_that_keeps_its_finished_tests(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "postgres-16"
    folder.mkdir()
    (folder / "progress.jsonl").write_text(
        '{"event": "collected", "count": 3}\n'
        '{"event": "start", "id": "tests/a.py::test_one"}\n'
        '{"event": "finish", "id": "tests/a.py::test_one", "outcome": "passed",'
        ' "duration": 0.5, "message": null}\n'
        '{"event": "start", "id": "tests/a.py::test_two"}\n'
    )
    (folder / "pytest.log").write_text("....\n")
    collected = collect([tmp_path])
    [result] = collected.results
    assert result.cell == "postgres-16"
    assert result.state == "error"
    assert result.reason is not None
    assert result.reason.startswith("the harness stopped while running this cell")
    assert result.reason.endswith("still running: tests/a.py::test_two")
    outcomes = {test.id: test.outcome for test in result.tests}
    assert outcomes == {"tests/a.py::test_one": "passed", "tests/a.py::test_two": "error"}


def test_a_folder_that_is_not_a_cells_is_ignored_with_a_note(tmp_path: Path) -> None:
    write_result(cell_result("postgres-16", "passed"), tmp_path / "postgres-16")
    stray = tmp_path / "backup-2026"  # would read as a backend "backup", version 2026
    stray.mkdir()
    (stray / "junit.xml").write_text("<testsuites/>")
    found = collect([tmp_path])
    assert [r.cell for r in found.results] == ["postgres-16"]
    assert found.warnings == [
        f"{stray} is not a cell's folder (its name is no cell id and it holds no readable"
        " result.json): ignored"
    ]
