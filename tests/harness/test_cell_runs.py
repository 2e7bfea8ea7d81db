"""Real cells that must stop early: past their timeout, or interrupted; nothing is left running."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from scripts.cell import run_cell
from scripts.matrix import Cell, load_matrix
from scripts.paths import MATRIX_FILE
from scripts.results import read_result

SLOW_TEST = """
import time

def test_takes_a_minute():
    time.sleep(60)
"""


@pytest.fixture
def slow_suite(tmp_path: Path) -> str:
    path = tmp_path / "test_slow.py"
    path.write_text(SLOW_TEST)
    return str(path)


@pytest.fixture
def default_cell() -> Cell:
    """SQLite with the machine's redis-server: servable wherever the tests run."""
    return load_matrix(MATRIX_FILE).cell("sqlite-stdlib")


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
    result = run_cell(
        default_cell,
        results_dir=tmp_path / "results",
        workers=1,
        timeout=4,
        test_paths=[slow_suite],
    )
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
    timer = threading.Timer(2.0, cancel.set)
    timer.start()
    started = time.monotonic()
    try:
        result = run_cell(
            default_cell,
            results_dir=tmp_path / "results",
            workers=1,
            timeout=120,
            test_paths=[slow_suite],
            cancel=cancel,
        )
    finally:
        timer.cancel()
    assert time.monotonic() - started < 30
    assert result.state == "error"
    assert result.reason == "interrupted while running the suite"
    assert running_pytests(slow_suite) == []
    # the servers were started and reported before the interruption
    assert {server.role for server in result.servers if server.reported} == {"database", "cache"}
