"""The report's memory: the last runs, kept in one small gzipped JSON file (`history.json.gz`).

    {"schema": "fastapi-compat-matrix/compat-history", "format": 1, "limit": 60,
     "tests": ["tests/…::test_a", …],            one table of test ids shared by every run
     "runs": [{"key": …, "at": "2026-11-20T03:17:05+00:00", "commit": "…", "dirty": false,
               "python": "3.11.7", "libraries": {"sqlalchemy": "2.0.36", …},
               "versions": {"postgres-16": "p", …},   the verdict: state code per version
               "cells": {"postgres-16": {"state": "p", "servers": {"database": "16.4", …},
                                         "tests": "ppfp-s…",
                                         "libraries": {"python": "3.12.1", "redis": "6.4.0"}}},
               "interrupted": true}, …]}   only on a run cut short; oldest run first

A cell's `tests` string holds one outcome code per entry of the shared table (`p`assed,
`f`ailed, `e`rror, fla`k`y, `s`kipped, `x`failed, `X`passed, `-` not run; trailing `-` left
out), so 60 runs of 500 cells × 200 tests stay under a MiB even with random outcomes. Only
the last `limit` runs are kept, and test ids no kept run mentions leave the table. Rendering
the same results twice replaces the last run instead of adding one (keeping the time and
commit it first had). A missing, corrupt or foreign file never stops a report: it starts a
new history and says why (a damaged file is kept beside it, under a name of its own).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.files import atomic_write
from scripts.report.model import BackendVerdict, RunInfo, VersionState
from scripts.report.symbols import NOT_RUN_CODE, OUTCOME_CODES
from scripts.results import NOT_STARTED, CellResult, CellState, interruption_of
from scripts.vocabulary import version_id

HISTORY_SCHEMA = "fastapi-compat-matrix/compat-history"
HISTORY_FORMAT = 1
HISTORY_NAME = "history.json.gz"
DEFAULT_LIMIT = 60

CELL_STATE_CODES: dict[CellState, str] = {
    "passed": "p",
    "failed": "f",
    "flaky": "k",
    "error": "e",
    "unavailable": "u",
}
VERSION_STATE_CODES: dict[VersionState, str] = {
    "passed": "p",
    "failed": "f",
    "flaky": "k",
    "error": "e",
    "unavailable": "u",
    "missing": "m",
}
CELL_STATE_OF_CODE: dict[str, CellState] = {code: s for s, code in CELL_STATE_CODES.items()}
VERSION_STATE_OF_CODE: dict[str, VersionState] = {
    code: s for s, code in VERSION_STATE_CODES.items()
}
_RUN_CHARS = re.compile(r"[^-]")


class HistoryError(Exception):
    """The history file cannot be used; the message says why."""


@dataclass
class CellRun:
    state: str  # a code of CELL_STATE_CODES
    servers: dict[str, str]  # role → the version string the server reported
    tests: str  # one outcome code per entry of the history's test table
    libraries: dict[str, str] = field(default_factory=dict)
    """What the cell's venv held (its result's `environment`, less the platform): python and
    distribution → installed version; empty in runs from before it was kept, and not written."""


@dataclass
class Run:
    key: str  # what the run was rendered from: the same results give the same key
    at: str
    commit: str | None
    dirty: bool | None
    python: str
    libraries: dict[str, str]
    versions: dict[str, str]  # "postgres-16" → a code of VERSION_STATE_CODES
    cells: dict[str, CellRun]
    interrupted: bool = False  # stopped part-way: no normal night, the analyses pass over it


@dataclass
class History:
    tests: list[str] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)  # oldest first
    limit: int = DEFAULT_LIMIT

    def test_index(self) -> dict[str, int]:
        return {test: index for index, test in enumerate(self.tests)}


@dataclass(frozen=True)
class Loaded:
    history: History
    note: str | None  # why a new history was started, when it was


# ------------------------------------------------------------------ reading and writing


def load_history(path: Path, limit: int = DEFAULT_LIMIT) -> Loaded:
    """Read `path`; a missing or unusable file gives a new, empty history and a note saying so.

    An unusable file is kept as `<name>.unreadable-<UTC time>` (`keep_damaged`), so that neither
    the next save nor a later damaged file destroys it.
    """
    if limit < 1:
        raise ValueError(f"a history keeps at least one run, not {limit}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Loaded(History(limit=limit), f"no history at {path} yet: started a new one")
    except OSError as error:
        note = f"history {path} unreadable ({error.strerror}): started a new one"
        return Loaded(History(limit=limit), note)
    try:
        history = parse_history(raw)
    except HistoryError as error:
        kept = keep_damaged(path)
        kept_note = (
            "it was left where it is" if kept is None else f"the old file is kept as {kept.name}"
        )
        return Loaded(
            History(limit=limit), f"history {path} {error}: started a new one ({kept_note})"
        )
    history.limit = limit
    trim(history)
    return Loaded(history, None)


def keep_damaged(path: Path) -> Path | None:
    """Move a damaged history aside under a name of its own, `<name>.unreadable-<UTC time>`
    (`-2`, `-3`… on a clash): a second damaged file never overwrites the first. None when it
    cannot be moved."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for attempt in range(1, 1000):
        suffix = "" if attempt == 1 else f"-{attempt}"
        kept = path.with_name(f"{path.name}.unreadable-{stamp}{suffix}")
        try:
            os.link(path, kept)  # fails when the name is taken: nothing is overwritten
        except FileExistsError:
            continue
        except OSError:
            return None
        path.unlink(missing_ok=True)
        return kept
    return None


def parse_history(raw: bytes) -> History:
    """Decode a history file's bytes; raise `HistoryError` naming what is wrong."""
    try:
        document = json.loads(gzip.decompress(raw))
    except (OSError, EOFError, zlib.error) as error:
        raise HistoryError(f"is not gzip data ({error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise HistoryError(f"is not JSON ({error})") from None
    if not isinstance(document, dict) or document.get("schema") != HISTORY_SCHEMA:
        raise HistoryError(f"is not a report history (no schema {HISTORY_SCHEMA!r})")
    if document.get("format") != HISTORY_FORMAT:
        raise HistoryError(
            f"has format {document.get('format')!r}, this harness reads format {HISTORY_FORMAT}"
        )
    try:
        tests = [str(test) for test in document["tests"]]
        runs = [_run_from_json(run) for run in document["runs"]]
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise HistoryError(f"is damaged ({error!r})") from None
    limit = document.get("limit")
    return History(tests, runs, limit if isinstance(limit, int) and limit > 0 else DEFAULT_LIMIT)


def _run_from_json(data: Mapping[str, Any]) -> Run:
    cells = {
        str(cell): CellRun(
            state=_code(value["state"], CELL_STATE_OF_CODE),
            servers={str(k): str(v) for k, v in value["servers"].items()},
            tests=str(value["tests"]),
            libraries={str(k): str(v) for k, v in value.get("libraries", {}).items()},
        )
        for cell, value in data["cells"].items()
    }
    return Run(
        key=str(data["key"]),
        at=str(data["at"]),
        commit=None if data["commit"] is None else str(data["commit"]),
        dirty=None if data.get("dirty") is None else bool(data["dirty"]),
        python=str(data.get("python", "")),
        libraries={str(k): str(v) for k, v in data["libraries"].items()},
        versions={str(k): _code(v, VERSION_STATE_OF_CODE) for k, v in data["versions"].items()},
        cells=cells,
        interrupted=data.get("interrupted") is True,
    )


def _code(value: object, known: Mapping[str, object]) -> str:
    if not isinstance(value, str) or value not in known:
        raise ValueError(f"unknown state code {value!r}")
    return value


def history_bytes(history: History) -> bytes:
    document = {
        "schema": HISTORY_SCHEMA,
        "format": HISTORY_FORMAT,
        "limit": history.limit,
        "tests": history.tests,
        "runs": [
            {
                "key": run.key,
                "at": run.at,
                "commit": run.commit,
                "dirty": run.dirty,
                "python": run.python,
                "libraries": run.libraries,
                "versions": run.versions,
                "cells": {
                    cell: {"state": c.state, "servers": c.servers, "tests": c.tests}
                    | ({"libraries": c.libraries} if c.libraries else {})
                    for cell, c in run.cells.items()
                },
            }
            | ({"interrupted": True} if run.interrupted else {})
            for run in history.runs
        ],
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)


def save_history(history: History, path: Path) -> Path:
    """Write the history atomically (a reader never sees half a file)."""
    return atomic_write(path, history_bytes(history))


# ------------------------------------------------------------------ adding a run


def record_run(
    history: History,
    cells: Sequence[CellResult],
    verdict: Sequence[BackendVerdict],
    run: RunInfo,
) -> None:
    """Append this run (or replace the last one, when it was rendered from the same results).

    A run the interruption cut short (Ctrl-C, SIGTERM, a killed harness) is marked
    `interrupted`, without the cells it never started nor the versions only those had."""
    was_interrupted = any(interruption_of(cell) is not None for cell in cells)
    cells = [cell for cell in cells if interruption_of(cell) != NOT_STARTED]
    started = {
        version_id(axis.backend, axis.version) for cell in cells for axis in cell.axes.values()
    }
    index = history.test_index()
    for cell in cells:
        for test in cell.tests:
            if test.id not in index:
                index[test.id] = len(history.tests)
                history.tests.append(test.id)
    entry = Run(
        key=results_key(cells),
        at=run.generated_at,
        commit=run.git_commit,
        dirty=run.git_dirty,
        python=run.python,
        libraries=dict(run.libraries),
        versions={
            key: VERSION_STATE_CODES[version.state]
            for backend in verdict
            for version in backend.versions
            if (key := version_id(backend.backend, version.version)) in started
            or not was_interrupted
        },
        cells={cell.cell: _cell_run(cell, index) for cell in cells},
        interrupted=was_interrupted,
    )
    if history.runs and history.runs[-1].key == entry.key:
        # the same night rendered again: it keeps the time and commit it was first rendered at
        last = history.runs[-1]
        entry.at, entry.commit, entry.dirty = last.at, last.commit, last.dirty
        history.runs[-1] = entry
    else:
        history.runs.append(entry)
    trim(history)


def _cell_run(cell: CellResult, index: Mapping[str, int]) -> CellRun:
    positions = [(index[test.id], OUTCOME_CODES[test.outcome]) for test in cell.tests]
    codes = [NOT_RUN_CODE] * (max((p for p, _ in positions), default=-1) + 1)
    for position, code in positions:
        codes[position] = code
    servers: dict[str, str] = {s.role: s.reported for s in cell.servers if s.reported is not None}
    libraries = {name: v for name, v in cell.environment.items() if name != "platform"}
    return CellRun(CELL_STATE_CODES[cell.state], servers, "".join(codes), libraries)


def results_key(cells: Sequence[CellResult]) -> str:
    """The same results (cells, when each ran, how it ended) always give the same key."""
    digest = hashlib.sha256()
    for cell in sorted(cells, key=lambda c: c.cell):
        digest.update(f"{cell.cell}|{cell.started_at}|{cell.finished_at}|{cell.state}\n".encode())
    return digest.hexdigest()[:16]


def trim(history: History) -> None:
    """Keep the last `limit` runs, and only the test ids they mention."""
    if len(history.runs) > history.limit:
        del history.runs[: len(history.runs) - history.limit]
    used = _used_positions(history)
    if len(used) == len(history.tests):
        return
    kept = sorted(used)
    new_position = {old: new for new, old in enumerate(kept)}
    history.tests = [history.tests[old] for old in kept]
    for run in history.runs:
        for cell in run.cells.values():
            codes = [NOT_RUN_CODE] * len(kept)
            for position, code in enumerate(cell.tests):
                if code != NOT_RUN_CODE:
                    codes[new_position[position]] = code
            cell.tests = "".join(codes).rstrip(NOT_RUN_CODE)


def _used_positions(history: History) -> set[int]:
    full = 0  # every position below this one is used by a string without a gap
    used: set[int] = set()
    for run in history.runs:
        for cell in run.cells.values():
            codes = cell.tests
            if NOT_RUN_CODE not in codes:
                full = max(full, len(codes))
            else:
                used.update(match.start() for match in _RUN_CHARS.finditer(codes))
    used.update(range(full))
    return {position for position in used if position < len(history.tests)}
