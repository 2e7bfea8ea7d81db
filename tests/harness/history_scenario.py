"""Twenty synthetic nights rendered in order into one report folder, for the history's tests.

    postgres-15    passes every night
    postgres-16    passes nights 1–11; from night 12 REGRESSED_TEST fails (the regression):
                   that night the commit changed and the server reported 16.4 instead of 16.3
    sqlite-stdlib  FLAKY_TEST is flaky (failed, passed on the rerun) on nights 3, 8 and 17 and
                   fails on night 6 between two passing nights: 4 flaky nights of 20
The default cell (sqlite-stdlib + redis-7.0) also speaks for redis-7.0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

import scripts.report.build
from scripts.report.build import Written, write_report
from scripts.report.model import RunInfo
from scripts.results import CellState, ServerInfo, TestOutcomeKind, write_result
from scripts.vocabulary import cell_id_parts
from tests.harness.result_factories import cell_result

NIGHTS = 20
REGRESSION_NIGHT = 12
FLAKY_NIGHTS = (3, 8, 17)
FAILED_FLAKY_NIGHT = 6
COMMIT_CHANGES = (1, 5, REGRESSION_NIGHT, 16)  # nights on which a new commit landed

REGRESSED_TEST = "tests/integration/test_users_api.py::test_list_users_orders_by_id"
FLAKY_TEST = "tests/integration/test_cache.py::test_entry_expires"
OTHER_TESTS = (
    "tests/integration/test_users_api.py::test_create_user",
    "tests/integration/test_auth.py::test_login",
    "tests/integration/test_cache.py::test_hit_after_miss",
)
CELLS = ("postgres-15", "postgres-16", "sqlite-stdlib")
REPORTED = {"postgres-15": "15.8", "sqlite-stdlib": "3.40.1"}

MATRIX = """
[matrix]
strategy = "axis"
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"

[database.postgres.15]
url = "postgresql+psycopg2://postgres@127.0.0.1:1/postgres"

[database.postgres.16]
url = "postgresql+psycopg2://postgres@127.0.0.1:1/postgres"

[database.sqlite.stdlib]
library = { module = "sqlite3" }

[cache.redis."7.0"]
url = "redis://127.0.0.1:1/0"
"""


def night_date(night: int) -> str:
    return f"2026-11-{night:02d}"


def commit_of(night: int) -> str:
    """The commit the run of `night` was made at: a new one on each of COMMIT_CHANGES."""
    landed = max(change for change in COMMIT_CHANGES if change <= night)
    return f"{landed:02d}" + "c0ffee" * 6 + f"{landed:02d}"


def postgres_16_version(night: int) -> str:
    return "16.4" if night >= REGRESSION_NIGHT else "16.3"


def _outcomes(cell: str, night: int) -> dict[str, TestOutcomeKind]:
    outcomes: dict[str, TestOutcomeKind] = dict.fromkeys(
        (*OTHER_TESTS, REGRESSED_TEST, FLAKY_TEST), "passed"
    )
    if cell == "postgres-16" and night >= REGRESSION_NIGHT:
        outcomes[REGRESSED_TEST] = "failed"
    if cell == "sqlite-stdlib" and night in FLAKY_NIGHTS:
        outcomes[FLAKY_TEST] = "flaky"
    if cell == "sqlite-stdlib" and night == FAILED_FLAKY_NIGHT:
        outcomes[FLAKY_TEST] = "failed"
    return outcomes


def write_night(results: Path, night: int) -> None:
    for cell in CELLS:
        outcomes = _outcomes(cell, night)
        state: CellState = (
            "failed"
            if "failed" in outcomes.values()
            else "flaky"
            if "flaky" in outcomes.values()
            else "passed"
        )
        result = cell_result(cell, state, outcomes, reason=None if state == "passed" else "boom")
        ((backend, version),) = cell_id_parts(cell)
        reported = postgres_16_version(night) if cell == "postgres-16" else REPORTED[cell]
        result.servers = [
            ServerInfo("database", backend, version, reported, "url", None),
            ServerInfo("cache", "redis", "7.0", "7.0.15", "url", None),
        ]
        result.started_at = f"{night_date(night)}T03:17:00+00:00"
        result.finished_at = f"{night_date(night)}T03:19:00+00:00"
        write_result(result, results / cell)


@contextmanager
def stamped_as(night: int) -> Iterator[None]:
    """Render as if it were `night`: its time and its commit in the run's metadata."""
    real: Callable[..., RunInfo] = scripts.report.build.run_info

    def stamped(*args: Any, **kwargs: Any) -> RunInfo:
        return replace(
            real(*args, **kwargs),
            generated_at=f"{night_date(night)}T03:30:00+00:00",
            git_commit=commit_of(night),
            git_dirty=False,
        )

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(scripts.report.build, "run_info", stamped)
        yield


@dataclass(frozen=True)
class Nights:
    out: Path
    history: Path
    last: Written


def render_nights(root: Path, nights: int = NIGHTS) -> Nights:
    """Render nights 1..`nights` in order into `root/reports`, the history beside them."""
    matrix_file = root / "matrix.toml"
    matrix_file.write_text(MATRIX, encoding="utf-8")
    out, history = root / "reports", root / "reports" / "history.json.gz"
    written: Written | None = None
    for night in range(1, nights + 1):
        results = root / f"night-{night:02d}"
        write_night(results, night)
        with stamped_as(night):
            written = write_report(
                [results], out, matrix_file=matrix_file, previous=None, history=history
            )
    assert written is not None
    return Nights(out, history, written)
