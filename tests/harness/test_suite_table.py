"""The `[suite]` table: what the service under test is, and the errors that speak of it.

The cells here run small stand-in suites written into a temporary folder: one that passes
without ever touching the database the cell hands it, one whose module does not import.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy.engine import make_url

from scripts.backends import server_backend
from scripts.backends.base import ServerBackend
from scripts.cell import run_cell
from scripts.matrix import BinariesSource, Cell, MatrixError, VersionSpec, load_matrix, load_suite
from scripts.paths import MATRIX_FILE, REPO_ROOT
from scripts.plan import RunPlan
from scripts.providers.base import RunningServer, Unavailable
from scripts.pytest_plugin.redis_server import throwaway_redis_server_or_skip
from scripts.results import CellResult
from scripts.server_use import Watched, settled_reading, unused
from scripts.sources.binaries import BinariesProvider
from scripts.suite import DEFAULT_SUITE, NO_PREPARE, Suite, SuiteEnv
from tests.harness.matrix_support import harness_environment_cell

POSTGRES_PROGRAMS = Path("/usr/lib/postgresql/15/bin")
"""The machine's PostgreSQL 15 programs, started as a throwaway server of the test's own: the
activity counters must see no client but the cell's (the machine's shared server has others,
such as the tests that run beside these)."""

# A service that reads its database from SERVICE_DB_URL and falls back to an in-memory
# SQLite database when it is not set: its tests pass either way.
STAND_IN_SUITE = """
import os

from sqlalchemy import create_engine, text


def service_engine():
    return create_engine(os.environ.get("SERVICE_DB_URL") or "sqlite://")


def test_the_service_stores_and_reads():
    engine = service_engine()
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT 1")).scalar() == 1
    finally:
        engine.dispose()
"""

DOES_NOT_IMPORT = """
import no_such_module_for_the_service


def test_never_collected():
    pass
"""


def matrix_text(suite_table: str = "") -> str:
    return f"""
[matrix]
default-database = "postgres-15"
default-cache = "redis-7.0"
workers = 1

{suite_table}

[database.postgres.15]
binaries = {{ paths = ["{POSTGRES_PROGRAMS}"] }}

[cache.redis."7.0"]
binaries = {{ debian = {{ suite = "bookworm", packages = ["redis-server"] }} }}
"""


def write_matrix(folder: Path, suite_table: str = "") -> Path:
    path = folder / "matrix.toml"
    path.write_text(matrix_text(suite_table), encoding="utf-8")
    return path


def refusal(folder: Path, suite_table: str) -> str:
    with pytest.raises(MatrixError) as raised:
        load_matrix(write_matrix(folder, suite_table))
    return str(raised.value)


# ------------------------------------------------------------------ the table


def test_a_matrix_without_a_suite_table_describes_the_bundled_service(tmp_path: Path) -> None:
    assert load_matrix(write_matrix(tmp_path)).suite == DEFAULT_SUITE
    assert DEFAULT_SUITE.env.names() == (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "SQLITE_MODULE",
    )


def test_the_repositorys_matrix_files_write_out_the_defaults() -> None:
    for path in (MATRIX_FILE, MATRIX_FILE.with_name("matrix-images.toml")):
        assert load_matrix(path).suite == DEFAULT_SUITE, path


def test_the_suite_table_names_another_services_tests_and_variables(tmp_path: Path) -> None:
    suite = load_matrix(
        write_matrix(
            tmp_path,
            """
[suite]
test-paths = ["service_tests"]
pytest-args = ["-p", "no:randomly"]
env = { database = "SQLALCHEMY_DATABASE_URI", cache = "CACHE_URL", broker = "" }
app = "service.web:application"
prepare = "flask db upgrade"
migration-tests = ""
""",
        )
    ).suite
    assert suite == Suite(
        test_paths=("service_tests",),
        pytest_args=("-p", "no:randomly"),
        env=SuiteEnv(database="SQLALCHEMY_DATABASE_URI", cache="CACHE_URL", broker=""),
        app="service.web:application",
        prepare="flask db upgrade",
        migration_tests="",
    )
    assert suite.env.names() == ("SQLALCHEMY_DATABASE_URI", "CACHE_URL", "SQLITE_MODULE")


def test_prepare_false_is_a_service_with_nothing_to_prepare(tmp_path: Path) -> None:
    path = write_matrix(tmp_path, "[suite]\nprepare = false")
    assert load_matrix(path).suite.prepare == NO_PREPARE
    assert load_suite(path).prepare == NO_PREPARE


def test_the_suite_table_alone_is_what_the_suites_plugin_reads(tmp_path: Path) -> None:
    path = tmp_path / "matrix.toml"
    path.write_text('[suite]\nenv = { database = "NOTES_DB_URL", cache = "" }\n')
    assert load_suite(path) == Suite(env=SuiteEnv(database="NOTES_DB_URL", cache=""))


def test_scripts_name_the_bundled_service_only_in_the_suite_tables_defaults() -> None:
    pattern = r"tests/integration|DATABASE_URL|REDIS_URL|app\.main"
    done = subprocess.run(  # noqa: S603 - git, on this repository
        ["git", "grep", "-lE", pattern, "--", "scripts/"],  # noqa: S607 - git from PATH
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.split() == ["scripts/suite.py"], done.stdout + done.stderr


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('[suite]\ntest-path = ["t"]', "suite.test-path: unknown key; allowed: app, env, "),
        ("[suite]\ntest-paths = []", "suite.test-paths: name at least one test path"),
        ('[suite]\ntest-paths = "tests"', "suite.test-paths: expected an array, got a string"),
        ('[suite]\nenv = { db = "X" }', "suite.env.db: unknown key; allowed: broker, cache, "),
        ('[suite]\nenv = { database = "" }', "suite.env.database: the suite must be told"),
        ('[suite]\nenv = { cache = "CACHE URL" }', "'CACHE URL' is not an environment variable"),
        ('[suite]\nenv = { broker = "REDIS_URL" }', "'REDIS_URL' is also suite.env.cache"),
        ('[suite]\napp = "service.web"', "suite.app: 'service.web' is not `module:attribute`"),
        ('[suite]\nprepare = ""', "suite.prepare: must not be empty"),
        ('[suite]\nprepare = "alembic \'upgrade"', 'suite.prepare: "alembic \'upgrade": No'),
    ],
)
def test_a_suite_table_that_cannot_be_used_is_refused_naming_the_key(
    tmp_path: Path, table: str, says: str
) -> None:
    assert says in refusal(tmp_path, table)


# ------------------------------------------------------------------ errors of the service


def run_stand_in(cell: Cell, results: Path, suite: Suite, matrix_file: Path) -> CellResult:
    plan = RunPlan((cell,), results, timeout=300, suite=suite, matrix_file=matrix_file)
    return run_cell(cell, plan)


@pytest.fixture
def default_cell() -> Cell:
    """SQLite with the machine's redis-server: servable wherever the tests run."""
    return harness_environment_cell("sqlite-stdlib")


def test_a_missing_test_path_is_an_error_before_any_server_starts(
    tmp_path: Path, default_cell: Cell
) -> None:
    missing = str(tmp_path / "no-such-tests")
    suite = Suite(test_paths=(missing,))
    result = run_stand_in(default_cell, tmp_path / "results", suite, MATRIX_FILE)
    assert result.state == "error"
    assert result.reason == (
        f"no such test path: {missing!r} (relative to {MATRIX_FILE.parent}); `[suite] "
        f"test-paths` in {MATRIX_FILE} names it: name the folders or files that hold the "
        "service's tests"
    )
    assert [server.reported for server in result.servers] == [None, None]  # none started


def test_a_test_module_that_does_not_import_is_an_error_naming_it_and_its_exception(
    tmp_path: Path, default_cell: Cell
) -> None:
    tests = tmp_path / "service_tests"
    tests.mkdir()
    # its own root: node ids are then relative to it wherever the checkout and tmp_path lie
    (tests / "pytest.ini").write_text("[pytest]\n")
    (tests / "test_fine.py").write_text("def test_fine():\n    pass\n")
    (tests / "test_broken.py").write_text(DOES_NOT_IMPORT)
    result = run_stand_in(
        default_cell, tmp_path / "results", Suite(test_paths=(str(tests),)), MATRIX_FILE
    )
    assert result.state == "error"
    assert result.reason is not None
    assert result.reason.startswith(
        "pytest could not collect the test module test_broken.py (ModuleNotFoundError: No "
        "module named 'no_such_module_for_the_service'), so no test ran: fix what it imports"
    )


def test_a_service_that_ignores_the_cells_database_url_is_an_error_saying_which_to_name(
    tmp_path: Path,
) -> None:
    matrix_file = write_matrix(tmp_path)
    cell = load_matrix(matrix_file).cell("postgres-15")
    tests = tmp_path / "test_service.py"
    tests.write_text(STAND_IN_SUITE)
    # the cell hands the database as DATABASE_URL; the service reads SERVICE_DB_URL
    ignores = Suite(test_paths=(str(tests),), env=SuiteEnv(cache=""))
    result = run_stand_in(cell, tmp_path / "ignored", ignores, matrix_file)
    assert result.state == "error"
    assert result.counts["passed"] == 1
    assert result.reason == (
        f"the suite ran 1 test(s) but none used the cell's PostgreSQL 15 server: does the "
        f"service read DATABASE_URL? name the variable it reads in [suite] env.database of "
        f"{matrix_file}"
    )

    reads = Suite(test_paths=(str(tests),), env=SuiteEnv(database="SERVICE_DB_URL", cache=""))
    result = run_stand_in(cell, tmp_path / "read", reads, matrix_file)
    assert result.state == "passed", result.reason


# ------------------------------------------------------------------ the activity counters


@contextmanager
def throwaway_postgres_or_skip() -> Iterator[RunningServer]:
    """A PostgreSQL 15 of this test's own, from the machine's programs."""
    source = BinariesSource(paths=(POSTGRES_PROGRAMS,))
    spec = VersionSpec(role="database", backend="postgres", version="15", sources=(source,))
    provider = BinariesProvider(spec, source)
    try:
        provider.check()
    except Unavailable as error:
        pytest.skip(f"needs PostgreSQL 15's programs: {error.reason}")
    with provider.start() as server:
        yield server


@pytest.mark.parametrize("backend_name", ["postgres", "redis"])
def test_each_reading_of_a_servers_activity_counter_adds_at_most_one_to_it(
    backend_name: str,
) -> None:
    backend = server_backend(backend_name)
    with ExitStack() as stack:
        url = (
            stack.enter_context(throwaway_postgres_or_skip()).url
            if backend_name == "postgres"
            else stack.enter_context(throwaway_redis_server_or_skip())
        )
        first = settled_reading(backend, url)
        second = backend.activity(url, 5.0)
        # PostgreSQL counts a session when it ends, a moment after the reading's client left
        assert 0 <= second - first <= 1


class Readings:
    """A server whose counter reads as given, one value per reading."""

    display_name = "PostgreSQL"

    def __init__(self, *values: int) -> None:
        self.values = list(values)

    def activity(self, url: str, timeout_s: float) -> int:
        return self.values.pop(0)


def watched(*values: int) -> Watched:
    return Watched("database", cast(ServerBackend, Readings(*values)), "16", "postgresql://x", 10)


def test_a_counter_moved_only_by_the_harnesss_own_readings_is_a_server_nobody_used() -> None:
    assert unused(watched(11, 12, 13), settle_s=0.0)


def test_a_counter_moved_by_anyone_else_is_a_server_the_suite_used() -> None:
    assert not unused(watched(12), settle_s=0.0)


def test_a_session_that_reaches_the_counter_late_is_still_seen() -> None:
    assert not unused(watched(11, 13), settle_s=5.0)


def test_a_database_dropped_meanwhile_does_not_hide_the_suites_sessions() -> None:
    # other clients of the server drop their databases (their session counts go with them)
    # while the suite runs: the check must still see the suite's own sessions
    import psycopg2

    with throwaway_postgres_or_skip() as server:
        url = make_url(server.url)

        def connect(database: str) -> Any:
            connection = psycopg2.connect(
                host=url.host,
                port=url.port,
                user=url.username,
                password=url.password,
                dbname=database,
            )
            connection.autocommit = True
            return connection

        def run(database: str, statement: str) -> None:
            connection = connect(database)
            try:
                with connection.cursor() as cursor:
                    cursor.execute(statement)
            finally:
                connection.close()

        run("postgres", "CREATE DATABASE other_client")
        for _ in range(6):
            run("other_client", "SELECT 1")
        backend = server_backend("postgres")
        watched = Watched(
            "database", backend, "15", server.url, settled_reading(backend, server.url)
        )
        run("postgres", "CREATE DATABASE suite_worker")  # the suite: its worker's database
        run("suite_worker", "SELECT 1")
        run("postgres", "DROP DATABASE suite_worker")
        run("postgres", "DROP DATABASE other_client")  # the other client leaves meanwhile
        assert not unused(watched, settle_s=1.0)
