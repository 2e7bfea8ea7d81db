"""Per-worker databases under a server-level DATABASE_URL: the janitor of the backend whose
URL scheme it is (`scripts.backends`), with the suite's own names."""

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
from tests.support.naming import PREFIX, is_stale

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


def provisioner_for(database_url: str) -> WorkerDatabases:
    """The janitor for a server-level DATABASE_URL; raises for a scheme no backend takes."""
    url = make_url(database_url)
    try:
        found = backend_for_url(database_url, "database")
    except UnknownBackendError:
        raise UnsupportedDatabaseError(
            f"DATABASE_URL {url.render_as_string(hide_password=True)!r} uses "
            f"{url.get_backend_name()!r}; the suite provisions {_provisioned()}."
        ) from None
    return found.worker_databases(database_url, SUITE_NAMES)


def check_database_url(database_url: str) -> None:
    """Fail once, before any test runs, when DATABASE_URL cannot be parsed, names a backend
    the suite cannot provision, needs a driver that is not installed, or does not answer."""
    try:
        provisioner = provisioner_for(database_url)
    except ArgumentError as error:
        raise UnsupportedDatabaseError(
            f"DATABASE_URL is not a database URL ({error}); expected e.g. "
            "postgresql+psycopg2://user@host:5432/postgres or mysql+pymysql://root@host:3306/test"
        ) from None
    provisioner.check()


def check_sqlite_module(name: str | None) -> None:
    """Fail early, with the fix, when SQLITE_MODULE cannot be imported."""
    if name is None:
        return
    try:
        importlib.import_module(name)
    except ImportError as error:
        raise UnsupportedDatabaseError(
            f"SQLITE_MODULE={name!r} cannot be imported ({error}); install it "
            "(pysqlite3.dbapi2 comes from `pip install pysqlite3-binary`) or unset SQLITE_MODULE."
        ) from error
