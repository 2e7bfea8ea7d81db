"""A cell's result: built from progress logs, with reruns, exit codes and broken files."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from scripts.prepare_step import MigrationsOutcome
from scripts.progress_log import FinishedTest, read_progress
from scripts.results import (
    Axis,
    CellResult,
    ServerInfo,
    Timings,
    build_result,
    read_result,
    stopped_result,
    unrunnable_result,
    write_result,
)
from tests.harness.report_scenario import CASE_TEST, FLAKY_TEST, PlantedRun

AXES: dict[str, Axis] = {"database": Axis("postgres", "16"), "cache": Axis("redis", "7.0")}
SERVERS = [ServerInfo("database", "postgres", "16", "16.4", "url", "postgresql://h/db")]
TIMINGS = Timings(0.1, 1.0, 0.1, 1.2)


def _build(
    log: Path,
    *,
    exit_code: int = 0,
    rerun: Path | None = None,
    tail: str = "last lines",
    pytest_log: str | None = None,
    prepared: MigrationsOutcome | None = None,
) -> CellResult:
    return build_result(
        cell="postgres-16",
        axes=AXES,  # type: ignore[arg-type]
        servers=SERVERS,
        first=read_progress(log),
        rerun=None if rerun is None else read_progress(rerun),
        timings=TIMINGS,
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        pytest_exit_code=exit_code,
        output_tail=tail,
        log_text=pytest_log,
        prepared=prepared,
    )


def _progress(path: Path, *finished: str) -> Path:
    path.write_text("".join(line + "\n" for line in finished), encoding="utf-8")
    return path


def _finish(test_id: str, outcome: str, message: str | None = None, **more: object) -> str:
    return json.dumps(
        {"event": "finish", "id": test_id, "outcome": outcome, "duration": 0.1,
         "message": message, **more}
    )  # fmt: skip


PASS = _finish("t/test_m.py::test_ok", "passed")
FAIL = _finish("t/test_m.py::test_x", "failed", "first boom")
FAIL_AGAIN = _finish("t/test_m.py::test_x", "failed", "second boom")
PASS_X = _finish("t/test_m.py::test_x", "passed")
SKIP = _finish("t/test_m.py::test_s", "skipped", "-")


def test_real_cells_get_the_planted_states(planted: PlantedRun) -> None:
    states = {cell: result.state for cell, result in planted.cells.items()}
    assert states == {
        "sqlite-stdlib": "passed",
        "postgres-15": "flaky",
        "mariadb-10.11": "failed",
        "postgres-16": "error",
        "mysql-8.0": "unavailable",
    }


def test_a_test_that_passes_on_the_rerun_is_flaky_with_its_first_message(
    planted: PlantedRun,
) -> None:
    tests = {t.id: t for t in planted.cells["postgres-15"].tests}
    assert tests[FLAKY_TEST].outcome == "flaky"
    assert "first run fails" in (tests[FLAKY_TEST].message or "")
    assert [t.id for t in tests.values() if t.outcome == "flaky"] == [FLAKY_TEST]
    assert planted.cells["postgres-15"].counts["flaky"] == 1


def test_a_test_failing_on_one_backend_is_failed_there_only(planted: PlantedRun) -> None:
    failing = {
        (cell, t.id)
        for cell, result in planted.cells.items()
        for t in result.tests
        if t.outcome in ("failed", "error")
    }
    assert failing == {("mariadb-10.11", CASE_TEST)}


def test_written_results_read_back_unchanged(planted: PlantedRun) -> None:
    for cell, result in planted.cells.items():
        assert read_result(planted.results / cell) == result


def test_to_json_holds_every_field_and_round_trips(planted: PlantedRun) -> None:
    result = planted.cells["mariadb-10.11"]
    assert result.to_json() == dataclasses.asdict(result)
    assert CellResult.from_json(json.loads(json.dumps(result.to_json()))) == result


def test_a_test_failing_twice_stays_failed(tmp_path: Path) -> None:
    result = _build(
        _progress(tmp_path / "a.jsonl", PASS, FAIL),
        exit_code=1,
        rerun=_progress(tmp_path / "b.jsonl", FAIL_AGAIN),
    )
    assert result.state == "failed"
    failed = [t for t in result.tests if t.outcome == "failed"]
    assert [t.message for t in failed] == ["first boom"]


def test_a_test_passing_on_the_rerun_makes_the_cell_flaky(tmp_path: Path) -> None:
    result = _build(
        _progress(tmp_path / "a.jsonl", PASS, FAIL),
        exit_code=1,
        rerun=_progress(tmp_path / "b.jsonl", PASS_X),
    )
    assert (result.state, result.counts["flaky"], result.counts["failed"]) == ("flaky", 1, 0)


@pytest.mark.parametrize(
    ("exit_code", "says"),
    [(2, "interrupted"), (3, "internal error"), (4, "usage error"), (5, "no tests"), (-9, "-9")],
)
def test_abnormal_pytest_exits_are_errors(tmp_path: Path, exit_code: int, says: str) -> None:
    result = _build(_progress(tmp_path / "a.jsonl", PASS), exit_code=exit_code)
    assert result.state == "error"
    assert says in (result.reason or "")
    assert result.log_tail == "last lines"


def test_a_usage_error_of_the_suite_is_named_in_the_reason(tmp_path: Path) -> None:
    tail = (
        "collecting ...\nERROR: DATABASE_URL 'mysql://db/x' needs a driver that is not installed\n"
    )
    result = _build(tmp_path / "missing.jsonl", exit_code=4, tail=tail)
    assert result.state == "error"
    assert result.reason is not None
    assert "usage error" in result.reason
    assert "ERROR: DATABASE_URL 'mysql://db/x' needs a driver" in result.reason


def test_a_usage_error_in_colour_is_named_without_its_colour_codes(tmp_path: Path) -> None:
    tail = (
        "collecting ...\n\x1b[31mERROR: \x1b[0mREDIS_URL 'redis://h:1/0' does not answer\x1b[0m\n"
    )
    result = _build(tmp_path / "missing.jsonl", exit_code=4, tail=tail)
    assert result.reason is not None
    assert ": ERROR: REDIS_URL 'redis://h:1/0' does not answer" in result.reason
    assert "\x1b" not in (result.log_tail or "")


def test_a_conftest_that_does_not_import_is_named_with_its_exception(tmp_path: Path) -> None:
    # what pytest prints when a library of the stack lacks what the service imports
    tail = (
        "ImportError while loading conftest '/repo/tests/conftest.py'.\n"
        "tests/conftest.py:13: in <module>\n"
        "    from app.database import build_engine\n"
        "E   ImportError: cannot import name 'Engine' from 'sqlalchemy' (/v/sa.py)\n"
    )
    result = _build(tmp_path / "missing.jsonl", exit_code=4, tail=tail)
    assert result.state == "error"
    assert result.reason == (
        "the suite's conftest /repo/tests/conftest.py did not import: ImportError: cannot "
        "import name 'Engine' from 'sqlalchemy' (/v/sa.py)"
    )


def test_a_cell_where_nothing_passed_is_an_error(tmp_path: Path) -> None:
    result = _build(_progress(tmp_path / "a.jsonl", SKIP))
    assert result.state == "error"
    assert "no test passed" in (result.reason or "")


def test_exit_code_one_without_a_recorded_failure_is_an_error(tmp_path: Path) -> None:
    result = _build(_progress(tmp_path / "a.jsonl", PASS), exit_code=1)
    assert result.state == "error"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "pytest wrote no progress log"),
        ("", "records no failure"),
        ('{"event": "finish", "id": "t/test_m.py::test_x", "outc', "records no failure"),
        ("<testsuites/>", "records no failure"),
    ],
)
def test_a_missing_or_broken_progress_log_makes_an_error_cell_not_an_exception(
    tmp_path: Path, content: str | None, says: str
) -> None:
    log = tmp_path / "progress.jsonl"
    if content is not None:
        log.write_text(content)
    result = _build(log, exit_code=1)
    assert result.state == "error"
    assert says in (result.reason or "")
    assert result.tests == []


def test_a_log_cut_short_keeps_every_finished_test_and_errs_the_running_one(
    tmp_path: Path,
) -> None:
    start = json.dumps({"event": "start", "id": "t/test_m.py::test_slow"})
    log = _progress(tmp_path / "a.jsonl", PASS, start, '{"event": "finish", "id": "t/te')
    result = _build(log, exit_code=-9)
    assert result.state == "error"
    assert {t.id: t.outcome for t in result.tests} == {
        "t/test_m.py::test_ok": "passed",
        "t/test_m.py::test_slow": "error",
    }


def test_a_missing_rerun_log_keeps_the_failures(tmp_path: Path) -> None:
    rerun = tmp_path / "rerun.jsonl"
    result = _build(_progress(tmp_path / "a.jsonl", PASS, FAIL), exit_code=1, rerun=rerun)
    assert result.state == "failed"
    assert "the rerun wrote no progress log" in (result.reason or "")


def test_unrunnable_results_have_no_tests_and_keep_their_reason() -> None:
    result = unrunnable_result(
        cell="mysql-8.0",
        axes={"database": Axis("mysql", "8.0")},
        servers=[],
        state="unavailable",
        reason="no Docker engine",
        timings=TIMINGS,
        started_at="a",
        finished_at="b",
        log_tail=None,
    )
    assert (result.state, result.reason, result.tests, sum(result.counts.values())) == (
        "unavailable",
        "no Docker engine",
        [],
        0,
    )


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "is missing"),
        ('{"cell": "x", "format"', "not valid JSON"),
        ("[1, 2]", "expected an object"),
        ('{"format": 99, "cell": "postgres-16"}', "format is 99"),
        ('{"format": 1, "cell": "postgres-16", "axes": {}, "state": "green"}', "counts"),
    ],
)
def test_a_bad_result_file_reads_as_an_error_cell(
    tmp_path: Path, content: str | None, says: str
) -> None:
    folder = tmp_path / "postgres-16"
    folder.mkdir()
    if content is not None:
        (folder / "result.json").write_text(content)
    result = read_result(folder)
    assert (result.cell, result.state) == ("postgres-16", "error")
    assert says in (result.reason or "")
    assert result.axes == {"database": Axis("postgres", "16")}


def test_write_result_leaves_no_temporary_files(tmp_path: Path, planted: PlantedRun) -> None:
    path = write_result(planted.cells["sqlite-stdlib"], tmp_path / "cell")
    assert [p.name for p in path.parent.iterdir()] == ["result.json"]


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("outcome", "exploded", "tests[1].outcome: 'exploded' is not one of passed"),
        ("outcome", ["passed"], "tests[1].outcome: ['passed'] is not one of passed"),
        ("duration", True, "tests[1].duration: expected a number"),
        ("message", 7, "tests[1].message: expected a string or null"),
        ("id", None, "tests[1].id: expected a string"),
    ],
)
def test_a_bad_test_entry_is_named_by_its_index_and_field(
    tmp_path: Path, planted: PlantedRun, field: str, value: object, says: str
) -> None:
    document = planted.cells["sqlite-stdlib"].to_json()
    document["tests"][1][field] = value
    folder = tmp_path / document["cell"]
    folder.mkdir()
    (folder / "result.json").write_text(json.dumps(document))
    result = read_result(folder)
    assert result.state == "error"
    assert says in (result.reason or "")


TWO_OUTCOMES_PROGRESS = (
    '{"event": "finish", "id": "tests/a.py::test_one", "outcome": "passed",'
    ' "duration": 0.1, "message": null}\n'
    '{"event": "finish", "id": "tests/a.py::test_two", "outcome": "failed",'
    ' "duration": 0.2, "message": "boom"}\n'
)


def test_a_truncated_result_keeps_the_outcomes_found_beside_it_and_says_so(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "postgres-16"
    folder.mkdir()
    (folder / "result.json").write_text('{"format": 1, "cell": "postgres-16", "st')
    (folder / "progress.jsonl").write_text(TWO_OUTCOMES_PROGRESS)
    (folder / "junit.xml").write_text("<testsuites/>")  # for CI tools only: not read
    result = read_result(folder)
    assert (result.cell, result.state) == ("postgres-16", "error")
    assert {test.id: test.outcome for test in result.tests} == {
        "tests/a.py::test_one": "passed",
        "tests/a.py::test_two": "failed",
    }
    assert (result.counts["passed"], result.counts["failed"]) == (1, 1)
    assert "not valid JSON" in (result.reason or "")
    assert "recovered 2 test outcome(s) from progress.jsonl" in (result.reason or "")


def test_a_failed_cells_reason_ends_with_the_root_error_from_the_log(tmp_path: Path) -> None:
    line = "tests.support.celery_worker.WorkerStartError: the worker stopped; see the captured log"
    wrapper = _finish("t/test_m.py::test_x", "error", line, exceptions=[line])
    log = "Traceback ...\nredis.exceptions.ResponseError: value is not an integer or out of range\n"
    result = _build(_progress(tmp_path / "j.jsonl", wrapper), exit_code=1, pytest_log=log)
    assert result.reason == (
        "1 test failed: t/test_m.py::test_x"
        " — redis.exceptions.ResponseError: value is not an integer or out of range"
    )


MIGRATIONS_PASS = _finish("tests/integration/test_migrations.py::test_upgrade", "passed")
MIGRATIONS_FAIL = _finish(
    "tests/integration/test_migrations.py::test_up_down_consistency",
    "failed",
    "Failed to upgrade through each revision individually.",
)


def test_a_failed_preparing_step_fails_the_cell_with_its_step_and_the_servers_message(
    tmp_path: Path,
) -> None:
    failed = MigrationsOutcome("failed", "alembic upgrade head", "0002_x", '(1054, "Unknown")')
    result = _build(tmp_path / "absent.jsonl", prepared=failed, exit_code=4)
    assert (result.state, result.tests, result.migrations) == ("failed", [], failed)
    assert result.reason == ('the database-preparing step failed at 0002_x: (1054, "Unknown")')


def test_a_failing_migrations_test_fails_the_cells_migrations_with_its_message(
    tmp_path: Path,
) -> None:
    passed = MigrationsOutcome("passed", "alembic upgrade head", seconds=1.0)
    log = _progress(tmp_path / "j.jsonl", MIGRATIONS_PASS, MIGRATIONS_FAIL, PASS)
    result = _build(log, prepared=passed, exit_code=1)
    assert result.migrations == MigrationsOutcome(
        "failed",
        "alembic upgrade head",
        "test_up_down_consistency",
        "Failed to upgrade through each revision individually.",
    )
    ok = _build(_progress(tmp_path / "ok.jsonl", MIGRATIONS_PASS, PASS), prepared=passed)
    assert (ok.state, ok.migrations) == ("passed", passed)


def test_the_migrations_outcome_round_trips_through_result_json(tmp_path: Path) -> None:
    failed = MigrationsOutcome("failed", "alembic upgrade head", "0002_x", "boom", 2.5)
    result = _build(tmp_path / "absent.jsonl", prepared=failed, exit_code=4)
    write_result(result, tmp_path)
    assert read_result(tmp_path).migrations == failed
    assert CellResult.from_json(result.to_json()) == result


MIGRATIONS_TEST = "tests/integration/test_migrations.py::test_rows_survive"


def _stopped(running: list[str], finished_outcome: str) -> CellResult:
    return stopped_result(
        cell="postgres-16",
        axes={"database": Axis("postgres", "16")},
        servers=[],
        reason="interrupted while running the suite",
        finished={
            "tests/integration/test_migrations.py::test_upgrade": FinishedTest(
                finished_outcome, 0.1
            )
        },
        running=running,
        timings=Timings(0.0, 1.0, 0.0, 1.0),
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
        log_tail=None,
        prepared=MigrationsOutcome("passed", "alembic upgrade head", seconds=0.3),
    )


def test_a_migrations_test_cut_short_by_an_interruption_is_no_failed_migration() -> None:
    result = _stopped([MIGRATIONS_TEST], "passed")
    assert result.state == "error"
    assert result.migrations is None  # not known: a step never finished


def test_a_migrations_test_that_failed_before_the_interruption_still_fails_the_migrations() -> None:
    result = _stopped([MIGRATIONS_TEST], "failed")
    assert result.migrations is not None
    assert (result.migrations.state, result.migrations.step) == ("failed", "test_upgrade")
