"""Real cells that must stop early: past their timeout, or interrupted; nothing is left running."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from scripts.cell import run_cell
from scripts.matrix import Cell
from scripts.plan import RunPlan
from scripts.progress_log import read_progress
from scripts.results import CellResult, read_result
from scripts.schedule import exit_status
from scripts.suite import Suite
from tests.harness.fault_support import KILLS_ITS_WORKER_ONCE
from tests.harness.matrix_support import harness_environment_cell

SLOW_TEST = """
import time

def test_takes_a_minute():
    time.sleep(60)
"""

FINISHES_THEN_HANGS = """
import time

def test_a_quick_pass():
    pass

def test_b_quick_failure():
    assert 1 == 2

def test_c_hangs():
    time.sleep(120)
"""


FAILS_WHILE_BROKEN = """
from pathlib import Path

def test_a_stable():
    pass

def test_b_fails_while_broken():
    assert not Path(__file__).with_name("broken").exists()
"""


# The first xdist worker to import it dies there, before any test: xdist replaces it.
KILLS_A_WORKER_BEFORE_ITS_FIRST_TEST = """
import os
import signal
from pathlib import Path

if os.environ.get("PYTEST_XDIST_WORKER"):
    try:
        Path(__file__).with_name("killed-at-import").open("x").close()
    except FileExistsError:
        pass
    else:
        os.kill(os.getpid(), signal.SIGKILL)

def test_a_pass():
    pass

def test_b_pass():
    pass
"""


def suite(folder: Path, name: str, source: str) -> str:
    path = folder / name
    path.write_text(source)
    return str(path)


def run_suite(cell: Cell, folder: Path, path: str, **options: Any) -> CellResult:
    """Run `cell` with the suite at `path` (results under `folder`); one worker, 120 s."""
    cancel, on_stage = options.pop("cancel", None), options.pop("on_stage", None)
    settings: dict[str, Any] = {"timeout": 120, **options}
    plan = RunPlan((cell,), folder / "results", suite=Suite(test_paths=(path,)), **settings)
    return run_cell(cell, plan, cancel=cancel, on_stage=on_stage)


@pytest.fixture
def slow_suite(tmp_path: Path) -> str:
    path = tmp_path / "test_slow.py"
    path.write_text(SLOW_TEST)
    return str(path)


@pytest.fixture
def default_cell() -> Cell:
    """SQLite with the machine's redis-server: servable wherever the tests run."""
    return harness_environment_cell("sqlite-stdlib")


def running_pytests(marker: str) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text and "pytest" in text:
            found.append(text)
    return found


def test_a_cell_past_its_timeout_is_an_error_and_its_suite_is_stopped(
    tmp_path: Path, slow_suite: str, default_cell: Cell
) -> None:
    started = time.monotonic()
    plan = RunPlan(
        (default_cell,), tmp_path / "results", timeout=4, suite=Suite(test_paths=(slow_suite,))
    )
    result = run_cell(default_cell, plan)
    assert time.monotonic() - started < 30
    assert result.state == "error"
    assert result.reason is not None
    assert "timed out after 4 s" in result.reason
    assert read_result(tmp_path / "results" / "sqlite-stdlib").state == "error"
    assert running_pytests(slow_suite) == []


def test_a_cancelled_cell_stops_promptly_and_says_it_was_interrupted(
    tmp_path: Path, slow_suite: str, default_cell: Cell
) -> None:
    cancel = threading.Event()
    progress = tmp_path / "results" / "sqlite-stdlib" / "progress.jsonl"

    cancelled_after: list[float] = []

    def cancel_once_the_test_runs() -> None:
        deadline = time.monotonic() + 60
        while not read_progress(progress).running and time.monotonic() < deadline:
            time.sleep(0.1)
        cancelled_after.append(time.monotonic() - started)
        cancel.set()

    started = time.monotonic()
    timer = threading.Thread(target=cancel_once_the_test_runs, daemon=True)
    timer.start()
    try:
        result = run_suite(default_cell, tmp_path, slow_suite, cancel=cancel)
    finally:
        cancel.set()
    assert time.monotonic() - started < 30
    # the time until the interruption is test time, not teardown
    timings = result.timings
    assert timings.tests_s > 0
    assert timings.provision_s + timings.tests_s >= cancelled_after[0] - 1.0, timings
    assert result.state == "error"
    assert result.reason is not None
    assert result.reason.startswith("interrupted while running the suite; still running: ")
    assert result.reason.endswith("test_slow.py::test_takes_a_minute")
    assert running_pytests(slow_suite) == []
    # the servers were started and reported before the interruption
    assert {server.role for server in result.servers if server.reported} == {"database", "cache"}


def test_a_timed_out_cell_keeps_what_finished_and_names_the_test_that_hung(
    tmp_path: Path, default_cell: Cell
) -> None:
    path = suite(tmp_path, "test_hangs.py", FINISHES_THEN_HANGS)
    stages: list[tuple[str, str]] = []
    result = run_suite(
        default_cell,
        tmp_path,
        path,
        timeout=20,  # room for pytest's start on a loaded machine; the hang lasts 120 s
        on_stage=lambda cell, stage: stages.append((cell, stage)),
    )
    assert stages[0] == ("sqlite-stdlib", "starting servers")
    assert stages[1][1].startswith("servers up: sqlite ")
    assert stages[1][1].endswith("s; running the suite")
    outcomes = {test.id.rsplit("::", 1)[1]: test.outcome for test in result.tests}
    assert outcomes == {
        "test_a_quick_pass": "passed",
        "test_b_quick_failure": "failed",
        "test_c_hangs": "error",
    }
    assert result.state == "error"
    assert result.reason is not None
    assert "timed out after 20 s while running the suite; still running: " in result.reason
    assert result.reason.endswith("test_hangs.py::test_c_hangs")
    assert read_result(tmp_path / "results" / "sqlite-stdlib").tests == result.tests
    assert running_pytests(path) == []


def test_a_killed_xdist_worker_is_a_crash_even_when_the_rerun_passes(
    tmp_path: Path, default_cell: Cell
) -> None:
    path = suite(tmp_path, "test_crash.py", KILLS_ITS_WORKER_ONCE)
    result = run_suite(default_cell, tmp_path, path, workers=2)
    outcomes = {test.id.rsplit("::", 1)[1]: test.outcome for test in result.tests}
    assert outcomes["test_kills_its_worker_once"] == "error"
    assert outcomes["test_a_pass"] == outcomes["test_z_pass"] == "passed"
    assert result.state == "error"
    assert result.reason is not None
    assert "1 test crashed its pytest-xdist worker: " in result.reason
    assert exit_status([result], strict=False) == 1


def test_a_worker_killed_before_its_first_test_is_named_in_the_cells_note(
    tmp_path: Path, default_cell: Cell
) -> None:
    path = suite(tmp_path, "test_lost_worker.py", KILLS_A_WORKER_BEFORE_ITS_FIRST_TEST)
    result = run_suite(default_cell, tmp_path, path, workers=2)
    assert result.state == "passed", result.reason  # its replacement ran the tests
    assert result.counts["passed"] == 2
    assert result.reason is not None
    assert "1 pytest-xdist worker(s) died outside any test and were replaced (gw" in result.reason


def test_pytest_arguments_reach_the_suite_and_last_failed_remembers_the_previous_run(
    tmp_path: Path, default_cell: Cell
) -> None:
    path = suite(tmp_path, "test_broken.py", FAILS_WHILE_BROKEN)
    (tmp_path / "broken").write_text("x")

    def run(*pytest_args: str) -> list[str]:
        result = run_suite(default_cell, tmp_path, path, pytest_args=pytest_args)
        return [test.id.rsplit("::", 1)[1] for test in result.tests]

    assert run() == ["test_a_stable", "test_b_fails_while_broken"]
    assert run("--lf") == ["test_b_fails_while_broken"]
    assert run("-k", "stable") == ["test_a_stable"]
