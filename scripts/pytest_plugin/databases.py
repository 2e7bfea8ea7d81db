"""Per-worker databases under the suite's server-level database URL: the janitor of the backend
whose URL scheme it is (`scripts.backends`), with the suite's own names. `env_name` is the
variable the URL came from (the `[suite]` table's `env.database`), for messages."""

from __future__ import annotations

import importlib

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from scripts.backends import (
    DATABASE_BACKENDS,
    ServerBackend,
    UnknownBackendError,
    backend,
    backend_for_url,
)
from scripts.backends.janitors import (
    DatabaseUnreachableError,
    SuiteNames,
    UnsupportedDatabaseError,
    WorkerDatabases,
)
from scripts.pytest_plugin.naming import PREFIX, is_stale
from scripts.suite import DEFAULT_DATABASE_ENV, DEFAULT_SQLITE_MODULE_ENV

__all__ = [
    "DatabaseUnreachableError",
    "UnsupportedDatabaseError",
    "WorkerDatabases",
    "check_database_url",
    "check_sqlite_module",
    "provisioner_for",
]

SUITE_NAMES = SuiteNames(PREFIX, is_stale)


def _provisioned() -> str:
    """`postgresql (postgresql+psycopg2://...), ...`: what the suite provisions, for messages."""
    shown = []
    for name in DATABASE_BACKENDS:
        found = backend(name)
        if found.url_schemes:
            scheme = (
                found.suite_scheme if isinstance(found, ServerBackend) else found.url_schemes[0]
            )
            shown.append(f"{found.display_name} ({scheme}://...)")
    return ", ".join(shown)


def provisioner_for(database_url: str, env_name: str = DEFAULT_DATABASE_ENV) -> WorkerDatabases:
    """The janitor for a server-level database URL; raises for a scheme no backend takes."""
    url = make_url(database_url)
    try:
        found = backend_for_url(database_url, "database")
    except UnknownBackendError:
        raise UnsupportedDatabaseError(
            f"{env_name} {url.render_as_string(hide_password=True)!r} uses "
            f"{url.get_backend_name()!r}; the suite provisions {_provisioned()}."
        ) from None
    return found.worker_databases(database_url, SUITE_NAMES)


def check_database_url(database_url: str, env_name: str = DEFAULT_DATABASE_ENV) -> None:
    """Fail once, before any test runs, when the database URL cannot be parsed, names a
    backend the suite cannot provision, needs a driver that is not installed, or does not
    answer."""
    try:
        provisioner = provisioner_for(database_url, env_name)
    except ArgumentError as error:
        raise UnsupportedDatabaseError(
            f"{env_name} is not a database URL ({error}); expected e.g. "
            "postgresql+psycopg2://user@host:5432/postgres or mysql+pymysql://root@host:3306/test"
        ) from None
    provisioner.check()


def check_sqlite_module(name: str | None, env_name: str = DEFAULT_SQLITE_MODULE_ENV) -> None:
    """Fail early, with the fix, when the SQLite module the suite is told of cannot be
    imported."""
    if name is None:
        return
    try:
        importlib.import_module(name)
    except ImportError as error:
        raise UnsupportedDatabaseError(
            f"{env_name}={name!r} cannot be imported ({error}); install it "
            "(pysqlite3.dbapi2 comes from `pip install pysqlite3-binary`) or unset {env_name}."
        ) from error
