"""Did the service use the cell's database? The plugin's count of the service's connections
(scripts/pytest_plugin/database_use.py) and how the cell reads it (scripts/server_use.py).

A stand-in service reads its database from SERVICE_DB_URL and falls back to an in-memory
SQLite database; its suite uses the plugin's `db_session` (the plugin's own connections to the
worker's database) and the service's own engine. Told the right variable, the service's
connections are counted; told another, only the plugin's reached the worker's database: a
count of zero, on every database family. The servers are the test's own (throwaway), never
the machine's shared ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

import pytest

from scripts.backends.base import ServerBackend
from scripts.cell import run_cell
from scripts.matrix import BinariesSource, Cell, VersionSpec, load_matrix
from scripts.paths import MATRIX_FILE, REPO_ROOT, RUN_MARKERS_ENV, SCRATCH_ENV
from scripts.plan import RunPlan
from scripts.providers.base import Unavailable
from scripts.server_use import (
    DATABASE_USE_FILE_ENV,
    Watched,
    read_database_use,
    unused,
    write_database_use,
)
from scripts.sources.binaries import BinariesProvider
from scripts.suite import MATRIX_FILE_ENV, NO_PREPARE, Suite, SuiteEnv

POSTGRES_PROGRAMS = Path("/usr/lib/postgresql/15/bin")

STAND_IN_SERVICE = """
import os

from sqlalchemy import create_engine


def service_engine():
    return create_engine(os.environ.get("SERVICE_DB_URL") or "sqlite://")
"""

STAND_IN_CONFTEST = 'pytest_plugins = ["scripts.pytest_plugin"]\n'

STAND_IN_TESTS = """
from sqlalchemy import text

from stand_in_service import service_engine


def test_the_plugins_session_reaches_the_workers_database(db_session):
    assert db_session.execute(text("SELECT 1")).scalar() == 1


def test_the_service_stores_and_reads():
    engine = service_engine()
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
"""


def write_stand_in(folder: Path, database_env: str) -> Path:
    """The stand-in service and its suite in `folder`; its `[suite]` table names
    `database_env` as the variable the cell's database is handed in."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pytest.ini").write_text("[pytest]\n")
    (folder / "stand_in_service.py").write_text(STAND_IN_SERVICE)
    (folder / "conftest.py").write_text(STAND_IN_CONFTEST)
    (folder / "test_service.py").write_text(STAND_IN_TESTS)
    (folder / "matrix.toml").write_text(
        f'[suite]\nprepare = false\nenv = {{ database = "{database_env}", cache = "" }}\n'
    )
    return folder


def counts_after_suite(tmp_path: Path, server_url: str, database_env: str) -> dict[str, int]:
    """Run the stand-in suite on `server_url` handed in `database_env`; the plugin's counts."""
    suite = write_stand_in(tmp_path / f"suite-{database_env}", database_env)
    use_file = tmp_path / f"use-{database_env}.jsonl"
    env = {
        **os.environ,
        database_env: server_url,
        MATRIX_FILE_ENV: str(suite / "matrix.toml"),
        DATABASE_USE_FILE_ENV: str(use_file),
        SCRATCH_ENV: str(tmp_path / "scratch"),
        RUN_MARKERS_ENV: str(tmp_path / "markers"),
        "PYTHONPATH": str(REPO_ROOT),
    }
    env.pop("SERVICE_DB_URL", None)
    env.pop("PYTEST_XDIST_WORKER", None)
    env.pop("PYTEST_ADDOPTS", None)
    (tmp_path / "scratch").mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    counts = read_database_use(use_file)
    assert counts is not None, f"the plugin wrote no count to {use_file}"
    return counts


@contextmanager
def throwaway_server_or_skip(backend: str, version: str, **source: object) -> Iterator[str]:
    """A server of this test's own, from the machine's programs: its URL."""
    spec = VersionSpec(
        role="database",
        backend=backend,
        version=version,
        sources=(BinariesSource(**source),),  # type: ignore[arg-type]
    )
    provider = BinariesProvider(spec, spec.sources[0])  # type: ignore[arg-type]
    try:
        provider.check()
    except Unavailable as error:
        pytest.skip(f"needs {backend} {version}'s programs: {error.reason}")
    with provider.start() as server:
        yield server.url


@contextmanager
def cell_database(family: str) -> Iterator[str]:
    """The server-level database URL of a cell of `family`."""
    if family == "sqlite":
        yield "sqlite://"
    elif family == "postgres":
        with throwaway_server_or_skip("postgres", "15", paths=(POSTGRES_PROGRAMS,)) as url:
            yield url
    else:
        with throwaway_server_or_skip("mariadb", "10.11") as url:
            yield url


# ------------------------------------------------------------------ the plugin's count


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("family", ["sqlite", "postgres", "mariadb"])
def test_the_plugin_counts_the_services_connections_to_its_database_not_its_own(
    tmp_path: Path, family: str
) -> None:
    with cell_database(family) as server_url:
        reads = counts_after_suite(tmp_path, server_url, "SERVICE_DB_URL")
        ignores = counts_after_suite(tmp_path, server_url, "DATABASE_URL")
    [(reads_worker, service_connections)] = reads.items()
    assert reads_worker.startswith("ct_")
    assert service_connections >= 1
    # the plugin's db_session reached the worker's database, the service never did
    assert list(ignores.values()) == [0]


# ------------------------------------------------------------------ how the cell reads it


class MovingCounter:
    """A server whose counter moved by more than the harness's readings: somebody used it."""

    display_name = "PostgreSQL"

    def activity(self, url: str, timeout_s: float) -> int:
        return 100


def watched_with(use_file: Path | None, before: int | None = 10) -> Watched:
    backend = cast(ServerBackend, MovingCounter())
    return Watched("database", backend, "16", "postgresql://x", before, use_file)


def test_workers_that_counted_no_connection_of_the_services_are_a_database_nobody_used(
    tmp_path: Path,
) -> None:
    use_file = tmp_path / "use.jsonl"
    write_database_use(use_file, "ct_1_a_gw0", 0)
    write_database_use(use_file, "ct_1_a_gw1", 0)
    # the plugin's own sessions moved the server's counter: it is not asked
    assert unused(watched_with(use_file), settle_s=0.0)


def test_one_worker_that_counted_the_services_connection_is_a_database_used(
    tmp_path: Path,
) -> None:
    use_file = tmp_path / "use.jsonl"
    write_database_use(use_file, "ct_1_a_gw0", 0)
    write_database_use(use_file, "ct_1_a_gw1", 2)
    assert not unused(watched_with(use_file), settle_s=0.0)


def test_without_the_plugins_counts_the_servers_counter_tells(tmp_path: Path) -> None:
    assert not unused(watched_with(tmp_path / "never-written.jsonl"), settle_s=0.0)


def test_without_the_plugins_counts_nor_a_server_nothing_is_told(tmp_path: Path) -> None:
    assert not unused(watched_with(tmp_path / "never-written.jsonl", before=None), settle_s=0.0)


def test_a_half_written_line_of_a_killed_worker_is_skipped(tmp_path: Path) -> None:
    use_file = tmp_path / "use.jsonl"
    write_database_use(use_file, "ct_1_a_gw0", 3)
    with use_file.open("a") as file:
        file.write('{"database": "ct_1_a_gw1", "service_conn')
    assert read_database_use(use_file) == {"ct_1_a_gw0": 3}


# ------------------------------------------------------------------ a SQLite cell


@pytest.fixture
def sqlite_cell() -> Cell:
    """SQLite with the machine's redis-server: servable wherever the tests run."""
    return load_matrix(MATRIX_FILE).cell("sqlite-stdlib")


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_sqlite_cell_whose_service_ignores_its_database_url_is_an_error(
    tmp_path: Path, sqlite_cell: Cell
) -> None:
    suite_folder = write_stand_in(tmp_path / "suite", "DATABASE_URL")
    matrix_file = suite_folder / "matrix.toml"

    def run(database_env: str) -> tuple[str, str | None]:
        suite = Suite(
            test_paths=(str(suite_folder),),
            pytest_args=("-p", "no:randomly"),
            env=SuiteEnv(database=database_env, cache=""),
            prepare=NO_PREPARE,
        )
        matrix_file.write_text(
            f'[suite]\nprepare = false\nenv = {{ database = "{database_env}", cache = "" }}\n'
        )
        results = tmp_path / f"results-{database_env}"
        plan = RunPlan((sqlite_cell,), results, timeout=300, suite=suite, matrix_file=matrix_file)
        result = run_cell(sqlite_cell, plan)
        return result.state, result.reason

    state, reason = run("DATABASE_URL")
    assert state == "error", reason
    assert reason == (
        "the suite ran 2 test(s) but none used the cell's SQLite stdlib database: does the "
        "service read DATABASE_URL? name the variable it reads in [suite] env.database of "
        f"{matrix_file}"
    )
    assert run("SERVICE_DB_URL") == ("passed", None)
