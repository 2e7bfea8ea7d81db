"""Small hand-made cell results for unit tests of the report (real runs live in report_scenario)."""

from __future__ import annotations

from scripts.results import (
    Axis,
    CellResult,
    CellState,
    TestOutcome,
    TestOutcomeKind,
    Timings,
    axes_from_cell_id,
    count_outcomes,
)

DEFAULT_CACHE = Axis("redis", "7.0")


def cell_result(
    cell: str,
    state: CellState,
    outcomes: dict[str, TestOutcomeKind] | None = None,
    *,
    reason: str | None = None,
    cache: Axis | None = None,
) -> CellResult:
    tests = [
        TestOutcome(
            test_id, test_id.split("::")[0], kind, 0.01, "boom" if kind != "passed" else None
        )
        for test_id, kind in (outcomes or {}).items()
    ]
    axes = axes_from_cell_id(cell)
    axes.setdefault("cache", cache or DEFAULT_CACHE)
    return CellResult(
        cell=cell,
        axes=axes,
        state=state,
        reason=reason,
        servers=[],
        counts=count_outcomes(tests),
        tests=tests,
        timings=Timings(0.0, 1.0, 0.0, 1.0),
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:01+00:00",
    )
