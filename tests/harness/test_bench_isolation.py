"""The isolation benchmark: its arithmetic, its figures, and (on SQLite, for real) that every
way of isolating a test leaves the database as it found it, which is what makes them
comparable."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from sqlalchemy import inspect
from sqlalchemy.dialects import mssql, mysql, postgresql, sqlite

from scripts.bench.figures import at_most
from scripts.bench.isolation import (
    FEWEST_TESTS,
    SECTION,
    Measured,
    added_ms,
    blocks,
    count_per_round,
    describe,
    figures_of,
    isolation_figures,
)
from tests.support.isolation_strategies import (
    ISOLATING,
    NO_ISOLATION,
    BenchDatabase,
    Strategy,
    emptying_statements,
    run_tests,
    sqlite_bench_database,
    table_names,
)

TABLES = ["users", "posts"]  # parents first, as table_names() gives them


def test_app_tables_come_parents_first() -> None:
    assert table_names() == TABLES


def test_postgres_truncates_every_table_in_one_statement() -> None:
    assert emptying_statements(postgresql.dialect(), TABLES) == ["TRUNCATE TABLE posts, users"]


@pytest.mark.parametrize("dialect", [mysql.dialect(), mysql.dialect(is_mariadb=True)])
def test_mysql_truncates_with_foreign_key_checks_off(dialect: mysql.base.MySQLDialect) -> None:
    assert emptying_statements(dialect, TABLES) == [
        "SET FOREIGN_KEY_CHECKS = 0",
        "TRUNCATE TABLE posts",
        "TRUNCATE TABLE users",
        "SET FOREIGN_KEY_CHECKS = 1",
    ]


def test_sqlite_deletes_children_first() -> None:
    assert emptying_statements(sqlite.dialect(), TABLES) == [
        "DELETE FROM posts",
        "DELETE FROM users",
    ]


def test_an_unknown_backend_has_no_emptying_statements() -> None:
    with pytest.raises(ValueError, match="mssql"):
        emptying_statements(mssql.dialect(), TABLES)


def test_a_fast_way_runs_every_test() -> None:
    assert count_per_round(100, 0.001, budget=0.6) == 100


def test_a_slow_way_runs_what_fits_in_its_budget() -> None:
    assert count_per_round(100, 0.02, budget=0.6) == 30


def test_a_very_slow_way_still_runs_the_fewest_tests() -> None:
    assert count_per_round(100, 1.0, budget=0.6) == FEWEST_TESTS


def test_the_fewest_tests_never_exceed_the_tests_asked_for() -> None:
    assert count_per_round(3, 1.0, budget=0.6) == 3


def test_a_way_without_budget_runs_every_test() -> None:
    assert count_per_round(100, 1.0, budget=None) == 100


def test_a_round_takes_turns_in_blocks_the_last_one_shorter() -> None:
    assert blocks(25, 10) == [10, 10, 5]
    assert blocks(20, 10) == [10, 10]
    assert blocks(3, 10) == [3]


def test_added_cost_is_the_per_round_difference_in_ms() -> None:
    assert added_ms([0.0030, 0.0050], [0.0025, 0.0051]) == pytest.approx((0.5, -0.1))


def test_added_cost_needs_the_same_rounds() -> None:
    with pytest.raises(ValueError, match="same rounds"):
        added_ms([0.003], [0.002, 0.002])


def _measured(counts: dict[str, int] | None = None, savepoint: float = 0.0031) -> Measured:
    """Seconds per test: bare 3 ms; savepoint `savepoint`; empty 4, recreate 6, fresh 30 ms."""
    isolated = {
        "savepoint": [savepoint] * 3,
        "empty": [0.004, 0.004, 0.004],
        "recreate": [0.006, 0.006, 0.006],
        "fresh": [0.030, 0.030, 0.030],
    }
    return Measured(
        label="postgres-17",
        backend="postgresql",
        tests=100,
        counts=counts or dict.fromkeys(isolated, 100),
        isolated=isolated,
        bare={key: [0.003, 0.003, 0.003] for key in isolated},
        titles={key: key for key in isolated},
        warm_up=dict.fromkeys(isolated, 0.05),
        details={"server": "17.10"},
    )


def test_each_isolating_way_gives_its_added_cost_and_the_others_a_ratio() -> None:
    figures = {f.name: f for f in figures_of(_measured())}
    assert list(figures) == [
        "postgres-17: savepoint",
        "postgres-17: empty",
        "postgres-17: recreate",
        "postgres-17: fresh",
        "postgres-17: empty vs SAVEPOINT",
        "postgres-17: recreate vs SAVEPOINT",
        "postgres-17: fresh vs SAVEPOINT",
    ]
    assert {f.section for f in figures.values()} == {SECTION}
    assert figures["postgres-17: fresh"].median == pytest.approx(27.0)
    assert figures["postgres-17: fresh"].unit == "ms per test"
    assert figures["postgres-17: fresh vs SAVEPOINT"].median == pytest.approx(0.030 / 0.0031)
    assert figures["postgres-17: fresh vs SAVEPOINT"].unit == "x"


def test_only_the_suites_own_way_carries_the_target() -> None:
    targets = {f.name: f.target for f in figures_of(_measured())}
    assert targets.pop("postgres-17: savepoint") == at_most(1.0, "ms per test")
    assert set(targets.values()) == {None}


def test_a_lowered_count_is_said_in_the_note() -> None:
    counts = {"savepoint": 100, "empty": 100, "recreate": 100, "fresh": 12}
    notes = {f.name: f.note for f in figures_of(_measured(counts))}
    assert "12 of 100 tests per round" in notes["postgres-17: fresh"]
    assert "tests per round" not in notes["postgres-17: recreate"]


def test_a_way_cheaper_than_the_bare_test_says_why() -> None:
    figure = figures_of(_measured(savepoint=0.0029))[0]
    assert figure.median == pytest.approx(-0.1)
    assert "below zero" in figure.note


def test_the_added_cost_is_against_each_ways_own_bare_tests() -> None:
    measured = _measured()
    by_way = {**measured.bare, "fresh": [0.010, 0.020, 0.004]}
    fresh = figures_of(dataclasses.replace(measured, bare=by_way))[3]
    assert fresh.samples == pytest.approx((20.0, 10.0, 26.0))


def test_a_figure_reads_as_one_plain_line() -> None:
    line = describe(figures_of(_measured())[0])
    assert line.startswith("postgres-17: savepoint: 0.100 ms per test [0.100..0.100]")
    assert "target ≤ 1 ms per test: met" in line


@pytest.fixture
def sqlite_database(scratch: Path) -> Iterator[BenchDatabase]:
    with sqlite_bench_database(scratch) as database:
        yield database


class DatabaseState(NamedTuple):
    """The tables, every row of each, and the database files in the folder."""

    tables: list[str]
    rows: dict[str, list[tuple[Any, ...]]]
    files: list[str]


def _state(database: BenchDatabase, folder: Path) -> DatabaseState:
    with database.engine.connect() as connection:
        rows = {
            name: sorted(tuple(row) for row in connection.exec_driver_sql(f"SELECT * FROM {name}"))  # noqa: S608
            for name in table_names()
        }
    return DatabaseState(
        sorted(inspect(database.engine).get_table_names()),
        rows,
        sorted(path.name for path in folder.iterdir()),
    )


@pytest.mark.parametrize("strategy", ISOLATING, ids=lambda s: s.key)
def test_each_way_leaves_the_database_as_it_found_it(
    strategy: Strategy, sqlite_database: BenchDatabase, scratch: Path
) -> None:
    before = _state(sqlite_database, scratch)
    run_tests(strategy, sqlite_database, iter(range(3)), 3)
    assert _state(sqlite_database, scratch) == before


def test_no_isolation_leaves_the_tests_rows_behind(
    sqlite_database: BenchDatabase, scratch: Path
) -> None:
    before = _state(sqlite_database, scratch)
    run_tests(NO_ISOLATION, sqlite_database, iter(range(3)), 3)
    after = _state(sqlite_database, scratch)
    assert after != before
    assert len(after.rows["users"]) == 3
    assert len(after.rows["posts"]) == 3


def test_the_section_on_sqlite_alone_measures_every_way_and_cleans_up(scratch: Path) -> None:
    said: list[str] = []
    figures = isolation_figures(1, tests=3, say=said.append, servers=())
    assert [f.name for f in figures] == [
        "sqlite-stdlib: SAVEPOINT rollback (the suite's)",
        "sqlite-stdlib: DELETE FROM every table",
        "sqlite-stdlib: drop every table + migrations",
        "sqlite-stdlib: fresh database: a copy of a template file",
        "sqlite-stdlib: DELETE FROM every table vs SAVEPOINT",
        "sqlite-stdlib: drop every table + migrations vs SAVEPOINT",
        "sqlite-stdlib: fresh database: a copy of a template file vs SAVEPOINT",
    ]
    assert all(len(f.samples) == 1 for f in figures)
    assert "sqlite-stdlib" in said[0]
    assert list(scratch.iterdir()) == []
