"""How long the report takes for a synthetic run: 500 cells × 200 tests by default.

    python -m scripts bench --only report [--repeat 3]

The `report` section of `python -m scripts bench` (`report_figures`).

Writes synthetic result.json files into a temporary folder and renders once (not timed), then
times reading them, comparing with that previous report and writing compat.json,
COMPATIBILITY.md, compat.html and the badges. Target: under 2 s.

Then the same with a history of `--nights` runs (the earlier ones synthetic, each cell's
outcomes a little different every night): reading history.json.gz, adding tonight, deriving
strips, first failures, flaky rates and "since" dates, rendering, saving. Target: under 3 s.

And the page of `--cells` x `--tests` opened in headless Chromium (`page_rendering`): load,
scripts, layout. Target: under 1 s. Left out when no Chromium is on PATH.
"""

from __future__ import annotations

import random
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from scripts.bench.figures import Figure, at_most
from scripts.bench.page_rendering import page_render_figure
from scripts.report.build import Written, write_report
from scripts.report.history import CELL_STATE_CODES, History, Run, record_run, save_history
from scripts.report.model import RunInfo
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
TARGET_S = 2.0
HISTORY_TARGET_S = 3.0


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
        group = f"tests/test_group_{number % GROUPS:02d}.py"
        failed_at = 12 + number if message else None
        test_id = f"{group}::test_case_{number:03d}"
        outcomes.append(TestOutcome(test_id, group, kind, 0.01, message, group, number, failed_at))
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


def synthetic_history(cells: list[CellResult], nights: int, rng: random.Random, path: Path) -> Path:
    """`nights` earlier runs of `cells`: every night a few outcomes differ, every fifth night
    a new commit, every tenth a new server patch version."""
    history = History()
    run = RunInfo("", None, False, "3.11", "linux", {"sqlalchemy": "2.0.36"}, "m", None, [], [])
    record_run(history, cells, [], replace(run, generated_at="2026-01-01T03:17:00+00:00"))
    tonight = history.runs.pop()
    flips = "fkes"
    for night in range(nights):
        entry = Run(
            key=f"night-{night}",
            at=f"2026-{1 + night // 28:02d}-{1 + night % 28:02d}T03:17:00+00:00",
            commit=f"{night // 5:040x}",
            dirty=False,
            python="3.11",
            libraries=dict(tonight.libraries),
            versions={},
            cells={},
        )
        for cell, found in tonight.cells.items():
            codes = list(found.tests)
            for _ in range(4):
                codes[rng.randrange(len(codes))] = rng.choice(flips)
            state = "f" if "f" in codes or "e" in codes else "k" if "k" in codes else "p"
            servers = {role: f"{version}-{night // 10}" for role, version in found.servers.items()}
            entry.cells[cell] = type(found)(state, servers, "".join(codes))
        history.runs.append(entry)
    assert set(CELL_STATE_CODES.values()) >= {"f", "k", "p"}
    return save_history(history, path)


def timed(root: Path, repeat: int, history: Path | None = None) -> tuple[list[float], Written]:
    figures: list[float] = []
    written: Written | None = None
    for _ in range(repeat):
        started = time.perf_counter()
        written = write_report(
            [root / "results"],
            root / "reports",
            matrix_file=Path("matrix.toml"),
            previous=None,
            history=history,
        )
        figures.append(time.perf_counter() - started)
    assert written is not None
    return figures, written


SECTION = "report"


def report_figures(
    repeat: int = 3, *, cells: int = 500, tests: int = 200, nights: int = 60
) -> list[Figure]:
    """Rendering the report of `cells` x `tests`, without and with a history of `nights`."""
    rng = random.Random(42)  # noqa: S311 - synthetic data, not security
    with tempfile.TemporaryDirectory(prefix="bench-report-", dir="/dev/shm") as folder:
        root = Path(folder)
        results = [synthetic_cell(index, tests, rng) for index in range(cells)]
        for result in results:
            write_result(result, root / "results" / result.cell)
        # a first, untimed rendering leaves the compat.json that every timed one compares with
        timed(root, 1)
        plain, written = timed(root, repeat)
        sizes = {
            path.name: path.stat().st_size // 1024
            for path in (written.json, written.markdown, written.html)
        }
        in_browser = page_render_figure(
            SECTION,
            f"compat.html of {cells} cells x {tests} tests in Chromium",
            written.html,
            root / "chromium-profile",
            repeat,
        )
        history = synthetic_history(results, nights - 1, rng, root / "history.json.gz")
        with_history, kept = timed(root, repeat, history)
        history_kib = history.stat().st_size // 1024
        kept_nights = len(kept.report.trends.nights) if kept.report.trends else 0
    figures = [
        Figure(
            SECTION,
            f"report of {cells} cells x {tests} tests",
            "s",
            tuple(plain),
            at_most(TARGET_S, "s"),
            note=f"reads the results, compares with the previous report, writes all; KiB {sizes}",
        ),
        Figure(
            SECTION,
            f"report with a history of {kept_nights} nights",
            "s",
            tuple(with_history),
            at_most(HISTORY_TARGET_S, "s"),
            note=f"history.json.gz {history_kib} KiB read, extended, analysed and saved",
        ),
    ]
    return [*figures, in_browser] if in_browser else figures
