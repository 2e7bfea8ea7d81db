"""The pytest plugin that writes a cell's per-test log, test by test, as pytest reports.

    python -m pytest -p scripts.suite_progress ...   (writes to $COMPAT_PROGRESS_FILE)

The log's format and its reader are in `scripts.progress_log`. Under pytest-xdist only the
controller writes (it sees every worker's start and finish, and their reports).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pytest

from scripts.progress_log import PROGRESS_FILE_ENV

MESSAGE_CHARS = 2000
"""How much of a failure's exception line (assertion details included) is kept."""

# how bad each outcome is when one test reports several phases (setup, call, teardown)
_SEVERITY = {"passed": 0, "xpassed": 1, "xfailed": 1, "skipped": 2, "failed": 3, "error": 4}


@dataclass(frozen=True)
class _Failure:
    """What pytest's structured report says of a failure (or a skip)."""

    message: str | None = None  # the exception line, or a skip's reason
    exceptions: tuple[str, ...] = ()  # each exception's line in the chain, first raised first
    frames: tuple[tuple[str, int], ...] = ()  # the last exception's traceback: (path, line)


@dataclass
class _Seen:
    """What a test's phases reported so far (the worst phase's outcome and failure)."""

    outcome: str
    duration: float
    failure: _Failure


class _ProgressWriter:
    def __init__(self, output: IO[str], config: pytest.Config) -> None:
        self.output = output
        self.config = config
        self.seen: dict[str, _Seen] = {}
        self.locations: dict[str, tuple[str, int | None]] = {}
        self.collected = False

    def _write(self, **event: Any) -> None:
        self.output.write(json.dumps({**event, "t": round(time.time(), 3)}) + "\n")
        self.output.flush()

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if session.items and not self.collected:
            self.collected = True
            self._write(event="collected", count=len(session.items))

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """A module that could not be collected: pytest counts it as an error, named by the
        module's node id (its report holds no structured exception: the message is the
        last line pytest printed for it)."""
        if not report.failed:
            return
        lines = str(report.longrepr).strip().splitlines()
        message = _cut(lines[-1].removeprefix("E ").strip()) if lines else None
        self._write(
            event="finish",
            id=report.nodeid,
            outcome="error",
            duration=0.0,
            file=report.nodeid.split("::", 1)[0],
            line=None,
            message=message,
            failed_line=None,
            exceptions=[message] if message else [],
        )

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

    def pytest_runtest_logstart(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        self.seen.pop(nodeid, None)
        self.locations[nodeid] = (location[0], location[1])
        self._write(event="start", id=nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when not in ("setup", "call", "teardown"):  # xdist's crash report: "???"
            self._write(event="crash", id=report.nodeid, message=_crash_text(report))
            return
        outcome = self._outcome(report)
        if outcome is None:
            return
        seen = self.seen.get(report.nodeid)
        duration = (seen.duration if seen else 0.0) + report.duration
        if seen is None or _SEVERITY[outcome] >= _SEVERITY[seen.outcome]:
            failure = _failure(report) if outcome not in ("passed", "xpassed") else _Failure()
            self.seen[report.nodeid] = _Seen(outcome, duration, failure)
        else:
            seen.duration = duration

    def pytest_runtest_logfinish(self, nodeid: str, location: tuple[str, int | None, str]) -> None:
        seen = self.seen.pop(nodeid, None) or _Seen("passed", 0.0, _Failure())
        file, line = self.locations.pop(nodeid, (location[0], location[1]))
        self._write(
            event="finish",
            id=nodeid,
            outcome=seen.outcome,
            duration=round(seen.duration, 3),
            file=file,
            line=None if line is None else line + 1,
            message=seen.failure.message,
            failed_line=_failed_line(seen.failure.frames, file),
            exceptions=list(seen.failure.exceptions),
        )

    def _outcome(self, report: pytest.TestReport) -> str | None:
        """The category pytest's own summary counts this report under; None for a setup or
        teardown that passed (it says nothing about the test)."""
        status = self.config.hook.pytest_report_teststatus(report=report, config=self.config)
        category = status[0] if isinstance(status, tuple) and status else None
        if category in _SEVERITY:
            return str(category)
        return _fallback_outcome(report)


def _fallback_outcome(report: pytest.TestReport) -> str | None:
    """The outcome when another plugin renamed pytest's category (pytest's own rules)."""
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
    return None


def _failure(report: pytest.TestReport) -> _Failure:
    """The failure of a report, read from pytest's structured `longrepr`."""
    longrepr = report.longrepr
    if longrepr is None:
        return _Failure()
    if isinstance(longrepr, tuple):  # a skip: (path, lineno, "Skipped: why")
        return _Failure(_cut(str(longrepr[2]).removeprefix("Skipped: ")))
    chain = getattr(longrepr, "chain", None)
    if chain is None:  # a plain string (xpass(strict), a crash) or ReprExceptionInfo
        crash = getattr(longrepr, "reprcrash", None)
        traceback = getattr(longrepr, "reprtraceback", None)
        chain = [(traceback, crash, None)] if crash is not None else []
    exceptions = [_cut(crash.message) for _, crash, _ in chain if crash is not None]
    message = exceptions[-1] if exceptions else _cut(str(longrepr).strip()) or None
    last = chain[-1][0] if chain else None
    frames = tuple(
        (str(entry.reprfileloc.path), int(entry.reprfileloc.lineno))
        for entry in getattr(last, "reprentries", ())
        if getattr(entry, "reprfileloc", None) is not None  # None: --tb=native
    )
    if hasattr(report, "wasxfail") and report.wasxfail and not exceptions:
        message = _cut(str(report.wasxfail))
    return _Failure(message, tuple(exceptions), frames)


def _failed_line(frames: Sequence[tuple[str, int]], file: str) -> int | None:
    """The last traceback entry in the test's own file (paths may be relative to another
    folder than the rootdir: matched by their ending)."""
    own = Path(file).as_posix()
    for path, line in reversed(frames):
        where = Path(path).as_posix()
        if where == own or where.endswith("/" + own) or own.endswith("/" + where):
            return line
    return None


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def _crash_text(report: pytest.TestReport) -> str:
    text = report.longreprtext.strip()
    return text if len(text) <= 500 else "…" + text[-500:]


def pytest_configure(config: pytest.Config) -> None:
    path = os.environ.get(PROGRESS_FILE_ENV)
    if not path or hasattr(config, "workerinput"):  # xdist workers: the controller writes
        return
    output = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in pytest_unconfigure
    config.pluginmanager.register(_ProgressWriter(output, config), "compat-progress-writer")


def pytest_unconfigure(config: pytest.Config) -> None:
    writer = config.pluginmanager.get_plugin("compat-progress-writer")
    if isinstance(writer, _ProgressWriter):
        writer.output.close()
