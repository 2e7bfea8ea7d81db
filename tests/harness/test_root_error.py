"""A failure names its root error: the library's exception line, not the project's pointer to a
log (redis-6.0's cell: kombu's ZRANGE ... BYSCORE REV, answered by Redis 6.0 with an error)."""

from __future__ import annotations

import re

import pytest

from scripts.report.cause import cell_cause
from scripts.report.html import render_html
from scripts.report.markdown import render_markdown
from scripts.report.model import Report, RunInfo
from scripts.results import CellResult
from scripts.root_error import exception_type, root_error, root_error_in_messages
from tests.harness.result_factories import cell_result

WRAPPER = (
    ">               raise WorkerStartError(\n"
    "E               tests.support.celery_worker.WorkerStartError: the Celery worker stopped"
    " (exit code 1) before it was ready; see 'Unrecoverable error' in the captured log for why\n"
    "\n"
    "tests/support/celery_worker.py:23: WorkerStartError"
)
# the shape of redis-6.0's pytest.log: the failure, then the worker's log with the traceback
LOG = (
    "____ ERROR at setup of test_real_worker_runs_tasks_from_the_redis_broker ____\n"
    f"{WRAPPER}\n"
    "---------------------------- Captured stderr setup -----------------------------\n"
    "[2026-12-06 23:57:45,606: CRITICAL/MainProcess] Unrecoverable error: server:ResponseError\n"
    "Traceback (most recent call last):\n"
    '  File ".../redis/connection.py", line 1817, in read_response\n'
    "    raise response\n"
    "redis.exceptions.ResponseError: value is not an integer or out of range\n"
    "=========================== short test summary info ============================\n"
)
ROOT = "redis.exceptions.ResponseError: value is not an integer or out of range"
# the wrapper's exception line, as pytest's report states it (`reprcrash.message`)
WRAPPER_LINE = (
    "tests.support.celery_worker.WorkerStartError: the Celery worker stopped (exit code 1)"
    " before it was ready; see 'Unrecoverable error' in the captured log for why"
)
OPERATIONAL = "sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) gone away"


def test_a_wrapper_pointing_at_the_log_gives_way_to_the_library_error_in_the_log() -> None:
    assert root_error([WRAPPER_LINE], LOG) == ROOT


def test_a_library_error_in_the_chain_wins_over_the_wrapper_and_the_log() -> None:
    assert root_error([OPERATIONAL, WRAPPER_LINE], LOG) == OPERATIONAL


def test_an_assertion_is_its_own_root_and_the_log_is_not_searched() -> None:
    assert root_error(["AssertionError: assert 500 == 200"], LOG) == (
        "AssertionError: assert 500 == 200"
    )
    assert root_error(["assert 500 == 200\n +  where 500 = r.status"], LOG) == "assert 500 == 200"


def test_nothing_stating_an_exception_gives_none() -> None:
    assert root_error(["boom"], "all fine\n") is None
    assert root_error_in_messages(["boom"], "all fine\n") is None


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        (ROOT, "redis.exceptions.ResponseError"),
        ("KeyError: 'k'", "KeyError"),
        ("StopIteration", "StopIteration"),
        ("assert 0", "AssertionError"),
        ("[XPASS(strict)] maybe", None),
        ("boom: it broke", None),
    ],
)
def test_the_type_is_read_from_the_line_pytest_states(line: str, kind: str | None) -> None:
    assert exception_type(line) == kind


def test_messages_stored_as_tracebacks_are_searched_line_by_line() -> None:
    assert root_error_in_messages([WRAPPER], LOG) == ROOT
    message = "    assert response.status_code == 200\nE   AssertionError: assert 500 == 200"
    assert root_error_in_messages([message], LOG) == "AssertionError: assert 500 == 200"
    assert root_error_in_messages([f"E   {OPERATIONAL}"], LOG) == OPERATIONAL


def _cell_failed_by_the_wrapper() -> CellResult:
    """redis-6.0 as results from before the reason named the root error: the wrapper's
    message on the test, the root error only in the log."""
    cell = cell_result(
        "redis-6.0",
        "failed",
        {"tests/integration/test_tasks.py::test_worker": "error"},
        reason="1 test failed: tests/integration/test_tasks.py::test_worker",
    )
    cell.tests[0].message = WRAPPER
    cell.log_tail = LOG
    return cell


def test_a_failed_cell_from_before_the_reason_named_it_still_shows_the_root_error() -> None:
    cell = _cell_failed_by_the_wrapper()
    assert cell_cause(cell) == (
        f"1 test failed: tests/integration/test_tasks.py::test_worker — {ROOT}"
    )


def test_a_cause_already_in_the_reason_is_not_repeated() -> None:
    reason = f"1 test failed: t.py::test_x — {ROOT}"
    cell = cell_result("redis-6.0", "failed", {"t.py::test_x": "failed"}, reason=reason)
    cell.tests[0].message = WRAPPER
    cell.log_tail = LOG
    assert cell_cause(cell) == reason


def test_the_cells_note_in_both_reports_carries_the_root_error() -> None:
    cell = _cell_failed_by_the_wrapper()
    run = RunInfo("2026-01-01T00:00:00+00:00", None, None, "3.11", "linux", {}, "m", None, [], [])
    report = Report(run, [cell], [], None, None)
    row = next(line for line in render_markdown(report).splitlines() if "`redis-6.0` |" in line)
    assert row.endswith(f"test\\_worker — {ROOT} |")  # Markdown escapes the "_"
    note = re.search(r'<td class="note">(.*?)</td>', render_html(report))
    assert note is not None
    assert ROOT in note.group(1)
