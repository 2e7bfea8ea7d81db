"""The per-test log of a cell's suite: its format, and its reader.

The pytest plugin `scripts.suite_progress` writes it (`python -m pytest -p
scripts.suite_progress ...` writes to $COMPAT_PROGRESS_FILE). Standard library only: the
result reader (`scripts.results`) and the GitHub annotation step import this module, and the
annotation step runs without the project's virtualenv.

This log is where a cell's per-test outcomes come from (JUnit XML is written for CI tools
only). One JSON object per line, written and flushed as each event happens, so a run that is
killed (timeout, Ctrl-C, a crashed worker) still leaves every line before the kill:

    {"event": "collected", "count": 42}
    {"event": "start", "id": "tests/x.py::TestA::test_b[1-a]"}
    {"event": "finish", "id": "tests/x.py::TestA::test_b[1-a]", "outcome": "failed",
     "duration": 0.1, "file": "tests/x.py", "line": 12, "message": "AssertionError: ...",
     "failed_line": 14, "exceptions": ["KeyError: 'a'", "AssertionError: ..."]}
    {"event": "finish", "id": "tests/y.py", "outcome": "error", ..., "message":
     "ModuleNotFoundError: No module named 'z'"}          (a module that could not be collected)
    {"event": "crash", "id": "tests/x.py::test_c", "message": "worker 'gw0' crashed ..."}
    {"event": "worker-down", "worker": "gw1", "message": "Not properly terminated"}

Everything in a `finish` comes from pytest's own report, not from reading its text: the id
is `report.nodeid`; the outcome is the category pytest counts the test under
(`pytest_report_teststatus`: passed, failed, skipped, error for a failed setup or teardown,
xfailed, xpassed), the worst of its phases; `file` and `line` are `report.location` (the line
1-based); `message` is the exception line of the failure (`longrepr.reprcrash.message`) or a
skip's reason; `failed_line` is the last traceback entry in the test's own file; `exceptions`
the exception line of each exception in the chain, the first raised first.

Under pytest-xdist only the controller writes (it sees every worker's start and finish).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PROGRESS_FILE_ENV = "COMPAT_PROGRESS_FILE"


@dataclass(frozen=True)
class FinishedTest:
    """One test that finished, as its `finish` line says."""

    outcome: str
    duration: float  # seconds, all its phases together
    message: str | None = None  # the failure's exception line, or why it was skipped
    file: str | None = None  # the test's file, relative to pytest's rootdir
    line: int | None = None  # 1-based line where the test's definition starts (a decorator)
    failed_line: int | None = None  # 1-based line in `file` where it failed
    exceptions: tuple[str, ...] = ()  # each exception's line in the chain, first raised first


@dataclass
class SuiteProgress:
    """What one run of the suite had done when its progress file was read."""

    found: bool = False
    """The file was there (pytest loaded the plugin); False: pytest wrote nothing at all."""
    collected: int | None = None
    finished: dict[str, FinishedTest] = field(default_factory=dict)
    """test id (pytest's node id) -> how it finished, in the order they finished"""
    running: list[str] = field(default_factory=list)
    """started and not finished, in the order they started"""
    crashed: dict[str, str] = field(default_factory=dict)
    """test id -> what the crash said (a pytest-xdist worker died running it)"""
    lost_workers: list[str] = field(default_factory=list)
    """pytest-xdist workers that died outside any test (xdist replaces them silently): one
    entry per death, `gw1: <what xdist said>`"""


def read_progress(path: Path) -> SuiteProgress:
    """Read a progress file; a missing file is no progress, a half-written last line is skipped."""
    progress = SuiteProgress()
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return progress
    progress.found = True
    running: dict[str, None] = {}
    downs: list[tuple[str, str]] = []
    for line in text.splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(event, dict):
            continue
        kind, test_id = event.get("event"), str(event.get("id", ""))
        if kind == "collected" and isinstance(event.get("count"), int):
            progress.collected = event["count"]
        elif kind == "start":
            running[test_id] = None
        elif kind == "finish":
            running.pop(test_id, None)
            progress.finished[test_id] = _finished(event)
        elif kind == "crash":
            running.pop(test_id, None)
            progress.crashed[test_id] = str(event.get("message", "its worker crashed"))
        elif kind == "worker-down":
            downs.append((str(event.get("worker", "?")), str(event.get("message", ""))))
    progress.running = list(running)
    progress.lost_workers = _outside_tests(downs, list(progress.crashed.values()))
    return progress


def _finished(event: dict[str, Any]) -> FinishedTest:
    duration, exceptions = event.get("duration"), event.get("exceptions")
    return FinishedTest(
        outcome=str(event.get("outcome")),
        duration=float(duration) if isinstance(duration, int | float) else 0.0,
        message=_text(event.get("message")),
        file=_text(event.get("file")),
        line=_line(event.get("line")),
        failed_line=_line(event.get("failed_line")),
        exceptions=tuple(e for e in exceptions if isinstance(e, str))
        if isinstance(exceptions, list)
        else (),
    )


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _line(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _outside_tests(downs: list[tuple[str, str]], crashes: list[str]) -> list[str]:
    """The worker deaths no crashed test accounts for (xdist names the worker in a crash)."""
    lost = []
    for worker, message in downs:
        named = next((c for c in crashes if f"worker {worker!r} crashed" in c), None)
        if named is not None:
            crashes.remove(named)
        else:
            lost.append(f"{worker}: {message}" if message else worker)
    return lost
