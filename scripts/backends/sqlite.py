"""SQLite: a DB-API module the suite loads (`[suite] env.sqlite-module`); no server to start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scripts.backends.base import LibraryBackend

if TYPE_CHECKING:
    from scripts.backends.janitors import SuiteNames, WorkerDatabases


class Sqlite(LibraryBackend):
    name = "sqlite"
    display_name = "SQLite"
    role = "database"
    family = "sqlite"
    report_order = 40
    url_schemes = ("sqlite",)
    library_url = "sqlite://"
    version_attribute = "sqlite_version"
    module_examples = "sqlite3, pysqlite3.dbapi2"
    missing_hint = "use a Python built with the sqlite3 module"

    def worker_databases(self, server_url: str, names: SuiteNames) -> WorkerDatabases:
        """A file per worker, in a fast folder."""
        from sqlalchemy.engine import make_url

        from scripts.backends.janitors.sql_databases import FileDatabases

        return FileDatabases(make_url(server_url), names)


BACKEND = Sqlite()
