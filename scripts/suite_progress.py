"""Per-test progress of a cell's suite: a pytest plugin writes it, the harness reads it.

    python -m pytest -p scripts.suite_progress ...   (writes to $COMPAT_PROGRESS_FILE)

One JSON object per line, written and flushed as each event happens, so a run that is killed
(timeout, Ctrl-C, a crashed worker) still leaves every line before the kill:

    {"event": "collected", "count": 42}
    {"event": "start", "id": "tests/x.py::test_a"}
    {"event": "finish", "id": "tests/x.py::test_a", "outcome": "passed", "duration": 0.1,
     "message": null}
    {"event": "crash", "id": "tests/x.py::test_b", "message": "worker 'gw0' crashed ..."}
    {"event": "worker-down", "worker": "gw1", "message": "Not properly terminated"}

Under pytest-xdist only the controller writes (it sees every worker's start and finish).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

PROGRESS_FILE_ENV = "COMPAT_PROGRESS_FILE"
MESSAGE_CHARS = 500

# how bad each outcome is when one test reports several phases (setup, call, teardown)
_SEVERITY = {"passed": 0, "xfailed": 1, "xpassed": 1, "skipped": 2, "failed": 3, "error": 4}


@dataclass
class SuiteProgress:
    """What one run of the suite had done when its progress file was read."""

    collected: int | None = None
    finished: dict[str, tuple[str, float, str | None]] = field(default_factory=dict)
    """test id -> (outcome, duration in seconds, message)"""
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
            duration = event.get("duration")
            message = event.get("message")
            progress.finished[test_id] = (
                str(event.get("outcome")),
                float(duration) if isinstance(duration, int | float) else 0.0,
                message if isinstance(message, str) else None,
            )
        elif kind == "crash":
            running.pop(test_id, None)
            progress.crashed[test_id] = str(event.get("message", "its worker crashed"))
        elif kind == "worker-down":
            downs.append((str(event.get("worker", "?")), str(event.get("message", ""))))
    progress.running = list(running)
    progress.lost_workers = _outside_tests(downs, list(progress.crashed.values()))
    return progress


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


# ------------------------------------------------------------------ the pytest plugin


class _ProgressWriter:
    def __init__(self, output: IO[str]) -> None:
        self.output = output
        self.outcomes: dict[str, tuple[str, float, str | None]] = {}
        self.collected = False

    def _write(self, **event: Any) -> None:
        self.output.write(json.dumps({**event, "t": round(time.time(), 3)}) + "\n")
        self.output.flush()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items and not self.collected:
            self.collected = True
            self._write(event="collected", count=len(session.items))

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: object, ids: list[str]) -> None:
        if not self.collected:
            self.collected = True
            self._write(event="collected", count=len(ids))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object | None) -> None:
        if error is not None:  # a worker that died; xdist starts another in its place
            message = str(error).strip().splitlines()[0] if str(error).strip() else ""
            self._write(event="worker-down", worker=str(node.gateway.id), message=message)

    def pytest_runtest_logstart(self, nodeid: str, location: object) -> None:
        self.outcomes.pop(nodeid, None)
        self._write(event="start", id=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when not in ("setup", "call", "teardown"):  # xdist's crash report: "???"
            self._write(event="crash", id=report.nodeid, message=_message(report))
            return
        outcome = _outcome(report)
        if outcome is None:
            return
        seen = self.outcomes.get(report.nodeid)
        duration = (seen[1] if seen else 0.0) + report.duration
        if seen is None or _SEVERITY[outcome] >= _SEVERITY[seen[0]]:
            message = _message(report) if outcome not in ("passed", "xpassed") else None
            self.outcomes[report.nodeid] = (outcome, duration, message)
        else:
            self.outcomes[report.nodeid] = (seen[0], duration, seen[2])

    def pytest_runtest_logfinish(self, nodeid: str, location: object) -> None:
        outcome, duration, message = self.outcomes.pop(nodeid, ("passed", 0.0, None))
        self._write(
            event="finish",
            id=nodeid,
            outcome=outcome,
            duration=round(duration, 3),
            message=message,
        )


def _outcome(report: pytest.TestReport) -> str | None:
    xfail = hasattr(report, "wasxfail")
    if report.when == "call":
        if report.passed:
            return "xpassed" if xfail else "passed"
        if report.skipped:
            return "xfailed" if xfail else "skipped"
        return "failed"
    if report.failed:
        return "error"
    if report.skipped:
        return "xfailed" if xfail else "skipped"
    return None  # a setup or teardown that passed says nothing about the test


def _message(report: pytest.TestReport) -> str | None:
    text = report.longreprtext.strip()
    if not text:
        return None
    return text if len(text) <= MESSAGE_CHARS else "…" + text[-MESSAGE_CHARS:]


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(PROGRESS_FILE_ENV)
    if not path or hasattr(config, "workerinput"):  # xdist workers: the controller writes
        return
    output = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in pytest_unconfigure
    config.pluginmanager.register(_ProgressWriter(output), "compat-progress-writer")


def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.pluginmanager.get_plugin("compat-progress-writer")
    if isinstance(writer, _ProgressWriter):
        writer.output.close()
