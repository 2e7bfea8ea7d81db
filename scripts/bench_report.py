"""How long the report takes for a synthetic run: 500 cells × 200 tests by default.

    .venv/bin/python -m scripts.bench_report [--cells 500] [--tests 200]

Writes synthetic result.json files into a temporary folder and renders once (not timed), then
times reading them, comparing with that previous report and writing compat.json,
COMPATIBILITY.md, compat.html and the badges. Target: under 2 s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

from scripts.report.build import write_report
from scripts.results import (
    Axis,
    CellResult,
    CellState,
    ServerInfo,
    TestOutcome,
    TestOutcomeKind,
    Timings,
    count_outcomes,
    write_result,
)

BACKENDS = ("postgres", "mysql", "mariadb", "sqlite")
GROUPS = 20


def synthetic_cell(index: int, tests: int, rng: random.Random) -> CellResult:
    backend = BACKENDS[index % len(BACKENDS)]
    version = f"{index // len(BACKENDS) + 1}.0"
    outcomes: list[TestOutcome] = []
    for number in range(tests):
        roll = rng.random()
        kind: TestOutcomeKind = (
            "failed"
            if roll < 0.01
            else "flaky"
            if roll < 0.02
            else "skipped"
            if roll < 0.05
            else "passed"
        )
        message = (
            f"AssertionError: <{number}> & boom\n" * 5 if kind in ("failed", "flaky") else None
        )
        group = f"tests/integration/test_group_{number % GROUPS:02d}.py"
        outcomes.append(TestOutcome(f"{group}::test_case_{number:03d}", group, kind, 0.01, message))
    counts = count_outcomes(outcomes)
    state: CellState = "failed" if counts["failed"] else "flaky" if counts["flaky"] else "passed"
    return CellResult(
        cell=f"{backend}-{version}",
        axes={"database": Axis(backend, version), "cache": Axis("redis", "7.0")},
        state=state,
        reason=None,
        servers=[
            ServerInfo("database", backend, version, f"{version}.1", "binaries", "/usr/bin/x"),
            ServerInfo("cache", "redis", "7.0", "7.0.15", "url", "redis://127.0.0.1:6379/0"),
        ],
        counts=counts,
        tests=outcomes,
        timings=Timings(0.1, 10.0, 0.1, 10.2),
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:10+00:00",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=500)
    parser.add_argument("--tests", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    args = parser.parse_args()
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security
    with tempfile.TemporaryDirectory(prefix="bench-report-", dir="/dev/shm") as folder:
        root = Path(folder)
        for index in range(args.cells):
            result = synthetic_cell(index, args.tests, rng)
            write_result(result, root / "results" / result.cell)
        # a first, untimed rendering leaves the compat.json that every timed one compares with
        write_report(
            [root / "results"], root / "reports", matrix_file=Path("matrix.toml"), previous=None
        )
        figures: list[float] = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            written = write_report(
                [root / "results"],
                root / "reports",
                matrix_file=Path("matrix.toml"),
                previous=None,
            )
            figures.append(time.perf_counter() - started)
        sizes = {
            path.name: path.stat().st_size // 1024
            for path in (written.json, written.markdown, written.html)
        }
    best = min(figures)
    print(
        f"report for {args.cells} cells x {args.tests} tests: best {best:.2f} s"
        f" of {args.repeat} (all: {', '.join(f'{f:.2f}' for f in figures)});"
        f" sizes KiB {sizes}; each run compares with the previous report"
        f" {'(under 2 s: OK)' if best < 2 else '(OVER the 2 s target)'}"
    )


if __name__ == "__main__":
    main()
