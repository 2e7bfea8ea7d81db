"""What the service under test is: the `[suite]` table of the matrix file, with its defaults.

The defaults describe the bundled service (app/ and its suite in tests/), so a matrix file
may leave the table out; a service of your own names its test paths, the environment
variables it reads its servers from, its ASGI app and the command that prepares its
database here (see docs/matrix-file.md). This is the one module of the harness that names
the bundled service: everything else takes a `Suite`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_TEST_PATHS = ("tests/integration",)
DEFAULT_INSTALL = ("-e", ".[test]")
DEFAULT_DATABASE_ENV = "DATABASE_URL"
DEFAULT_CACHE_ENV = "REDIS_URL"
DEFAULT_BROKER_ENV = "CELERY_BROKER_URL"
DEFAULT_SQLITE_MODULE_ENV = "SQLITE_MODULE"
DEFAULT_APP = "app.main:app"
DEFAULT_MIGRATION_TESTS = "tests/integration/test_migrations.py"
NO_PREPARE = ""
"""`Suite.prepare` of a service with nothing to prepare (`prepare = false`)."""
MATRIX_FILE_ENV = "COMPAT_MATRIX_FILE"
"""The matrix file whose `[suite]` table the suite's fixtures read (a cell sets it; unset,
`matrix.toml` in pytest's root folder)."""


@dataclass(frozen=True)
class SuiteEnv:
    """The environment variables through which a cell hands its servers to the suite.

    An empty name hands nothing that way: a service without a Celery broker sets
    `broker = ""`; a service without a cache sets `cache = ""` (the cell's cache server
    still starts, as the matrix has a cache axis, but the suite is not told of it)."""

    database: str = DEFAULT_DATABASE_ENV
    cache: str = DEFAULT_CACHE_ENV
    broker: str = DEFAULT_BROKER_ENV
    sqlite_module: str = DEFAULT_SQLITE_MODULE_ENV

    def names(self) -> tuple[str, ...]:
        """Every name given (what a cell removes from the environment it inherits)."""
        return tuple(
            name for name in (self.database, self.cache, self.broker, self.sqlite_module) if name
        )


@dataclass(frozen=True)
class Suite:
    """The service under test and how each cell runs its suite."""

    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    """What pytest runs in every cell (relative to the repository's root)."""
    pytest_args: tuple[str, ...] = ()
    """pytest arguments of every cell, before the command line's."""
    env: SuiteEnv = field(default_factory=SuiteEnv)
    app: str = DEFAULT_APP
    """The ASGI app `nox -s fuzz` serves, as `module:attribute`."""
    prepare: str | None = None
    """The command that prepares an empty database (the suite's fixtures run it once per
    cell); None: the suite's own way when its fixtures give one (the bundled suite runs its
    service's migrations inside its process), else `alembic upgrade head`; `NO_PREPARE`
    (`prepare = false` in the table): nothing to prepare, the service's tests make their
    tables."""
    migration_tests: str = DEFAULT_MIGRATION_TESTS
    """The test module whose failures are the cell's failed migrations; "" for none."""
    install: tuple[str, ...] = DEFAULT_INSTALL
    """What a cell's own environment installs for the service and its suite, as pip's
    arguments run from the repository's root; the cell's stack pins are installed with it."""


DEFAULT_SUITE = Suite()
