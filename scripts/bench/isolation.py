"""Benchmark section `isolation`: what isolating one test from the next costs, per backend.

    python -m scripts bench --only isolation [--repeat 3] [--servers VERSION_ID ...]

On SQLite (files in the scratch folder, /dev/shm when there is one) and on throwaway
PostgreSQL 17, MySQL 9.7 and MariaDB 10.11 servers started from local programs, the same small
test (a user and a post through the bundled service's models, committed and read back) runs
`tests` times under each way of isolating it (tests.support.isolation_strategies: the bundled
suite's own test body and isolation, so they live with its fixtures), taking turns with
the same test under no isolation at all. The ways take turns round by round; a way's figure is
what it adds to one test: (its time per test - the bare test's, same round), in milliseconds.
The suite's own way, SAVEPOINT rollback, has the target; the others are its comparison, with
their time per test (body included) as a ratio to SAVEPOINT's.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import statistics
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.bench.figures import Figure, at_most, interleaved, ratio, seconds
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE, scratch_dir
from scripts.providers.base import ProviderError
from scripts.sources import choose_provider
from tests.support.isolation_strategies import (
    EMPTIED_TABLES,
    FRESH_DATABASE,
    ISOLATING,
    NO_ISOLATION,
    RECREATED_TABLES,
    SAVEPOINT_ROLLBACK,
    BenchDatabase,
    Strategy,
    bench_database,
    run_tests,
    sqlite_bench_database,
)

SECTION = "isolation"
UNIT = "ms per test"
SAVEPOINT_TARGET = at_most(1.0, UNIT)
SERVERS = ("postgres-17", "mysql-9.7", "mariadb-10.11")
SQLITE_LABEL = "sqlite-stdlib"
WARM_UP_TESTS = 3
BLOCK = 10
COMPARISON_SECONDS_PER_ROUND = 0.5
"""A comparison way whose `tests` would take longer per round runs fewer (the note says so):
fresh databases and drop + migrations take tens of milliseconds per test on a server, and
the section must stay well under a minute."""
FEWEST_TESTS = 5


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def count_per_round(tests: int, seconds_each: float, budget: float | None) -> int:
    """`tests`, or as many as fit in `budget` seconds per round (at least FEWEST_TESTS) when
    each takes `seconds_each`. `budget` None: always `tests` (the suite's own way)."""
    if budget is None or seconds_each * tests <= budget:
        return tests
    return min(tests, max(FEWEST_TESTS, int(budget / seconds_each)))


def added_ms(isolated: Sequence[float], bare: Sequence[float]) -> tuple[float, ...]:
    """Per round: milliseconds one test took with isolation minus without, same round."""
    if len(isolated) != len(bare):
        raise ValueError("added cost needs samples from the same rounds")
    return tuple((i - b) * 1000 for i, b in zip(isolated, bare, strict=True))


@dataclass(frozen=True)
class Measured:
    """One backend's seconds per test, round by round: each strategy's isolated tests and
    the bare tests paired with them."""

    label: str
    backend: str
    tests: int
    counts: Mapping[str, int]
    """Strategy key -> tests per round."""
    isolated: Mapping[str, Sequence[float]]
    bare: Mapping[str, Sequence[float]]
    titles: Mapping[str, str]
    """Strategy key -> how that strategy is done on this backend, in words."""
    warm_up: Mapping[str, float]
    """Strategy key -> seconds of one isolated + one bare test in the warm-up (chose the counts)."""
    details: Mapping[str, object] = field(default_factory=dict)


def titles_for(database: BenchDatabase) -> dict[str, str]:
    return {
        SAVEPOINT_ROLLBACK.key: SAVEPOINT_ROLLBACK.title,
        EMPTIED_TABLES.key: f"{database.emptying_way} every table",
        RECREATED_TABLES.key: RECREATED_TABLES.title,
        FRESH_DATABASE.key: f"fresh database: {database.fresh_way}",
    }


def blocks(count: int, size: int) -> list[int]:
    """`count` split into blocks of `size`, the last one shorter: 25, 10 -> [10, 10, 5]."""
    return [size] * (count // size) + ([count % size] if count % size else [])


def paired_round(
    strategy: Strategy, database: BenchDatabase, numbers: Iterator[int], count: int
) -> tuple[float, float]:
    """`count` tests isolated by `strategy` and `count` bare ones (no isolation), in turns of
    BLOCK tests each: seconds per isolated test, seconds per bare test.

    Taking turns puts the machine's changing load on both alike; turns of several tests (not
    one) keep what an isolation leaves behind (cold caches, new tables) mostly on its own
    tests rather than on the bare ones. The bare tests' rows stay until the round ends, when
    the tables are emptied (not timed).
    """
    isolated = bare = 0.0
    for block in blocks(count, BLOCK):
        isolated += seconds(functools.partial(run_tests, strategy, database, numbers, block))
        bare += seconds(functools.partial(run_tests, NO_ISOLATION, database, numbers, block))
    database.empty_tables()
    return isolated / count, bare / count


def measure(
    database: BenchDatabase,
    label: str,
    tests: int,
    repeat: int,
    details: Mapping[str, object] | None = None,
) -> Measured:
    """Every strategy, `repeat` rounds side by side, after a warm-up that chooses the counts."""
    numbers = itertools.count()
    warm_up = {s.key: sum(paired_round(s, database, numbers, WARM_UP_TESTS)) for s in ISOLATING}
    counts = {
        s.key: count_per_round(
            tests,
            warm_up[s.key],
            None if s is SAVEPOINT_ROLLBACK else COMPARISON_SECONDS_PER_ROUND,
        )
        for s in ISOLATING
    }
    isolated: dict[str, list[float]] = {s.key: [] for s in ISOLATING}
    bare: dict[str, list[float]] = {s.key: [] for s in ISOLATING}

    def contender(strategy: Strategy) -> Callable[[], float]:
        def one_round() -> float:
            isolated_seconds, bare_seconds = paired_round(
                strategy, database, numbers, counts[strategy.key]
            )
            isolated[strategy.key].append(isolated_seconds)
            bare[strategy.key].append(bare_seconds)
            return isolated_seconds - bare_seconds

        return one_round

    interleaved({s.key: contender(s) for s in ISOLATING}, repeat)
    return Measured(
        label,
        database.backend,
        tests,
        counts,
        isolated,
        bare,
        titles_for(database),
        warm_up,
        details or {},
    )


def _fewer_note(measured: Measured, key: str) -> str:
    count = measured.counts[key]
    if count >= measured.tests:
        return ""
    return (
        f"{count} of {measured.tests} tests per round: an isolated + bare pair took "
        f"{measured.warm_up[key] * 1000:.0f} ms in the warm-up, a comparison way gets "
        f"~{COMPARISON_SECONDS_PER_ROUND:g} s per round"
    )


def _below_zero_note(strategy: Strategy) -> str:
    if strategy is SAVEPOINT_ROLLBACK:
        return "below zero: the rolled-back test never pays the bare test's real COMMIT"
    return "below zero: less than the rounds' noise"


def figures_of(measured: Measured) -> list[Figure]:
    """Each strategy's added ms per test, and its time per test as a ratio to SAVEPOINT's."""
    figures: list[Figure] = []
    for strategy in ISOLATING:
        bare = measured.bare[strategy.key]
        samples = added_ms(measured.isolated[strategy.key], bare)
        notes = [
            f"added to a {statistics.median(bare) * 1000:.2f} ms test (no isolation)",
            _below_zero_note(strategy) if statistics.median(samples) < 0 else "",
            _fewer_note(measured, strategy.key),
        ]
        figures.append(
            Figure(
                SECTION,
                f"{measured.label}: {measured.titles[strategy.key]}",
                UNIT,
                samples,
                SAVEPOINT_TARGET if strategy is SAVEPOINT_ROLLBACK else None,
                "; ".join(note for note in notes if note),
                {
                    **measured.details,
                    "tests_per_round": measured.counts[strategy.key],
                    "bare_ms_per_test": [s * 1000 for s in bare],
                    "isolated_ms_per_test": [s * 1000 for s in measured.isolated[strategy.key]],
                },
            )
        )
    savepoint = measured.isolated[SAVEPOINT_ROLLBACK.key]
    for strategy in ISOLATING:
        if strategy is SAVEPOINT_ROLLBACK:
            continue
        figures.append(
            Figure(
                SECTION,
                f"{measured.label}: {measured.titles[strategy.key]} vs SAVEPOINT",
                "x",
                ratio(measured.isolated[strategy.key], savepoint),
                None,
                "time per test, body included; per-round ratio",
                dict(measured.details),
            )
        )
    return figures


def _sqlite_figures(tests: int, repeat: int, say: Callable[[str], None]) -> list[Figure]:
    with (
        tempfile.TemporaryDirectory(prefix="isolation-", dir=scratch_dir()) as folder,
        sqlite_bench_database(Path(folder)) as database,
    ):
        say(f"isolation: {SQLITE_LABEL} (SQLite {sqlite3.sqlite_version}) in {folder}")
        details = {"server": f"SQLite {sqlite3.sqlite_version}", "folder": folder}
        return figures_of(measure(database, SQLITE_LABEL, tests, repeat, details))


def _server_figures(
    version_id: str, tests: int, repeat: int, say: Callable[[str], None]
) -> list[Figure]:
    spec = load_matrix(MATRIX_FILE).version(version_id)
    try:
        provider = choose_provider(spec, only="binaries")
        with provider.start() as server, bench_database(server.url) as database:
            say(f"isolation: {version_id} ({server.reported_version}) started")
            details = {"server": server.reported_version, "provenance": server.provenance}
            return figures_of(measure(database, version_id, tests, repeat, details))
    except ProviderError as error:
        say(f"isolation: {version_id} left out: {error}")
        return []


def isolation_figures(
    repeat: int = 3,
    *,
    tests: int = 100,
    say: Callable[[str], None] = _to_stderr,
    servers: Sequence[str] = SERVERS,
) -> list[Figure]:
    """Section `isolation`: SQLite, then each of `servers` (matrix.toml ids), one at a time."""
    if tests < 1:
        raise ValueError("tests must be at least 1")
    figures = _sqlite_figures(tests, repeat, say)
    for version_id in servers:
        figures.extend(_server_figures(version_id, tests, repeat, say))
    return figures


def describe(figure: Figure) -> str:
    """One plain line: name, median, range, target and whether it is met, note."""
    target = ""
    if figure.target is not None:
        target = f"  target {figure.target.describe()}: {'met' if figure.met else 'NOT met'}"
    note = f"  ({figure.note})" if figure.note else ""
    return (
        f"{figure.name}: {figure.median:.3f} {figure.unit} "
        f"[{figure.low:.3f}..{figure.high:.3f}]{target}{note}"
    )
