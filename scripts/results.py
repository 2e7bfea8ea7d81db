"""One cell's result: the model written to `results/<cell-id>/result.json` and read back.

CONTRACT (owned by the report work; the cell runner only calls `build_result`,
`write_result`, `unrunnable_result`):

    results/<cell-id>/
        junit.xml          first pytest run (pytest --junitxml)
        junit-rerun.xml    only when the first run had failures: those tests run once more
        result.json        `CellResult.to_json()`
        server-*.log       tail of a server's log when provisioning failed (optional)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

RESULT_FORMAT = 1

CellState = Literal["passed", "failed", "flaky", "error", "unavailable"]
TestOutcomeKind = Literal["passed", "failed", "skipped", "error", "flaky", "xfailed", "xpassed"]
Role = Literal["database", "cache"]


@dataclass(frozen=True)
class Axis:
    """What one axis of a cell asked for."""

    backend: str  # "postgres", "redis", ...
    version: str  # "16", "7.0", "stdlib", ...


@dataclass(frozen=True)
class ServerInfo:
    """What one role of a cell actually ran against."""

    role: Role
    backend: str
    requested: str
    reported: str | None  # the server's own version string, None when it never started
    source: str | None  # "image" | "binaries" | "url" | "library", None when none could serve
    provenance: str | None  # image tag, program path, or URL without password


@dataclass(frozen=True)
class TestOutcome:
    id: str  # pytest node id, "tests/integration/test_users_api.py::test_create_user_success"
    group: str  # test module path: "tests/integration/test_users_api.py"
    outcome: TestOutcomeKind
    duration: float  # seconds
    message: str | None = None  # first failure's message (kept for flaky tests too)


@dataclass(frozen=True)
class Timings:
    provision_s: float
    tests_s: float
    teardown_s: float
    total_s: float


@dataclass
class CellResult:
    cell: str
    axes: dict[Role, Axis]
    state: CellState
    reason: str | None  # why error/unavailable/failed, one line
    servers: list[ServerInfo]
    counts: dict[TestOutcomeKind, int]
    tests: list[TestOutcome]
    timings: Timings
    started_at: str  # ISO 8601, UTC
    finished_at: str
    log_tail: str | None = None  # server or pytest output tail for error cells
    format: int = RESULT_FORMAT
    extra: dict[str, object] = field(default_factory=dict)
