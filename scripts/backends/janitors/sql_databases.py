"""Per-worker databases under the suite's server-level database URL, one janitor per SQL family:
PostgreSQL and MySQL/MariaDB create a database per worker on the server, SQLite a file.

The backend modules hand these out (`worker_databases`); they run inside the suite's process.
"""

from __future__ import annotations

import functools
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from scripts.backends.janitors import (
    DatabaseUnreachableError,
    SuiteNames,
    UnsupportedDatabaseError,
    WorkerDatabases,
)
from scripts.paths import scratch_dir

SQLITE_SUFFIX = ".sqlite3"


class ServerDatabases(WorkerDatabases):
    """A database per worker on the server at `server_url` (CREATE DATABASE, DROP DATABASE)."""

    def __init__(self, server_url: URL, names: SuiteNames) -> None:
        self.server_url = server_url
        self.names = names
        self.like_ours = names.prefix.replace("_", "\\_") + "%"  # ct\_%: `_` is a LIKE wildcard

    def _execute(self, *statements: str, pattern: str | None = None) -> list[str]:
        """Run statements in autocommit mode; `:pattern` binds `pattern`. First column of rows."""
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                rows: list[str] = []
                for statement in statements:
                    params = {"pattern": pattern} if pattern is not None else {}
                    result = connection.execute(text(statement), params)
                    if result.returns_rows:
                        rows.extend(str(row[0]) for row in result)
                return rows
        finally:
            engine.dispose()

    def _quote(self, name: str) -> str:
        return f'"{name}"'

    def _list_statement(self) -> str:
        return "SHOW DATABASES LIKE :pattern"

    def _drop_statement(self, name: str) -> str:
        return f"DROP DATABASE IF EXISTS {self._quote(name)}"

    def _create_statement(self, name: str) -> str:
        return f"CREATE DATABASE {self._quote(name)}"

    def _url_of(self, name: str) -> str:
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def reap_stale(self) -> list[str]:
        now = time.time()
        stale = [name for name in self.list_databases() if self.names.is_stale(name, now)]
        if stale:
            self._execute(*(self._drop_statement(name) for name in stale))
        return stale

    def list_databases(self) -> list[str]:
        """This suite's databases on the server (any run)."""
        return self._execute(self._list_statement(), pattern=self.like_ours)

    def create(self, name: str) -> str:
        """Create database `name`; return a URL that connects to it."""
        self._execute(self._create_statement(name))
        return self._url_of(name)

    def drop(self, name: str) -> None:
        self._execute(self._drop_statement(name))

    def check(self) -> None:
        shown = self.server_url.render_as_string(hide_password=True)
        try:
            self.list_databases()
        except (NoSuchModuleError, ImportError) as error:
            raise UnsupportedDatabaseError(
                f"the suite's database URL {shown!r} needs a driver that is not installed "
                f"({error}); the test extra installs psycopg2 and pymysql: write the URL as "
                "postgresql+psycopg2://... or mysql+pymysql://..."
            ) from None
        except DBAPIError as error:
            reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            raise DatabaseUnreachableError(
                f"the suite cannot use the server at its database URL {shown!r}: {reason}. "
                "Start the server, or fix the URL (host, port, user, password)."
            ) from None


class PostgresDatabases(ServerDatabases):
    """PostgreSQL: copies by CREATE DATABASE ... TEMPLATE; drops WITH (FORCE) on 13+."""

    def _list_statement(self) -> str:
        return "SELECT datname FROM pg_database WHERE datname LIKE :pattern"

    @functools.cached_property
    def _drop_can_force(self) -> bool:
        """PostgreSQL 13+ can drop a database that still has connections (WITH (FORCE))."""
        return int(self._execute("SHOW server_version_num")[0]) >= 130000

    def _drop_statement(self, name: str) -> str:
        force = " WITH (FORCE)" if self._drop_can_force else ""
        return f"{super()._drop_statement(name)}{force}"

    def copy(self, template: str, name: str) -> str:
        self._execute(f"{self._create_statement(name)} TEMPLATE {self._quote(template)}")
        return self._url_of(name)


class MysqlDatabases(ServerDatabases):
    """MySQL and MariaDB: no templates, so a copy is each table created from the template's
    own SHOW CREATE TABLE, and its rows copied."""

    def _quote(self, name: str) -> str:
        return f"`{name}`"

    def _create_statement(self, name: str) -> str:
        return f"CREATE DATABASE {self._quote(name)} CHARACTER SET utf8mb4"

    def copy(self, template: str, name: str) -> str:
        url = self.create(name)
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                self._copy_tables(connection, template, name)
        except BaseException:
            self.drop(name)
            raise
        finally:
            engine.dispose()
        return url

    def _copy_tables(self, connection: Connection, template: str, name: str) -> None:
        source, target = self._quote(template), self._quote(name)
        tables = [
            str(row[0])
            for row in connection.exec_driver_sql(
                f"SHOW FULL TABLES FROM {source} WHERE Table_type = 'BASE TABLE'"
            )
        ]
        # foreign keys name their tables without the database: they point into the copy
        connection.exec_driver_sql("SET SESSION foreign_key_checks = 0")
        connection.exec_driver_sql(f"USE {target}")
        for table in tables:
            create = connection.exec_driver_sql(f"SHOW CREATE TABLE {source}.`{table}`").one()[1]
            connection.exec_driver_sql(str(create))
            # the names are the suite's own (ct_..., the migrations' tables), not input
            copy_rows = f"INSERT INTO {target}.`{table}` SELECT * FROM {source}.`{table}`"  # noqa: S608
            connection.exec_driver_sql(copy_rows)


class FileDatabases(WorkerDatabases):
    """SQLite: one file per worker in a fast folder (/dev/shm when there is one)."""

    def __init__(self, server_url: URL, names: SuiteNames) -> None:
        self.server_url = server_url
        self.names = names
        self.folder = self._folder_for(server_url)

    @staticmethod
    def _folder_for(url: URL) -> Path:
        if url.database and url.database != ":memory:":
            return Path(url.database).expanduser().resolve().parent
        return scratch_dir()  # the harness's choice: in a cell, that cell's run folder

    def _files_of(self, path: Path) -> list[Path]:
        return [
            path,
            *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm")),
        ]

    def reap_stale(self) -> list[str]:
        now = time.time()
        reaped: list[str] = []
        for name in self.list_databases():
            if self.names.is_stale(name, now):
                self.drop(name)
                reaped.append(name)
        return reaped

    def list_databases(self) -> list[str]:
        return [
            p.name.removesuffix(SQLITE_SUFFIX)
            for p in self.folder.glob(f"{self.names.prefix}*{SQLITE_SUFFIX}")
        ]

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}{SQLITE_SUFFIX}"

    def _url_of(self, path: Path) -> str:
        return self.server_url.set(database=str(path)).render_as_string(hide_password=False)

    def create(self, name: str) -> str:
        """Create the (empty) database file `name`; return a URL that connects to it."""
        path = self._path(name)
        path.touch(exist_ok=False)
        return self._url_of(path)

    def copy(self, template: str, name: str) -> str:
        """A copy of the template's file (its writers closed their connections)."""
        path = self._path(name)
        shutil.copyfile(self._path(template), path)
        return self._url_of(path)

    def drop(self, name: str) -> None:
        for file in self._files_of(self._path(name)):
            file.unlink(missing_ok=True)

    def check(self) -> None:
        if not (self.folder.is_dir() and os.access(self.folder, os.W_OK)):
            shown = self.server_url.render_as_string(hide_password=True)
            raise DatabaseUnreachableError(
                f"the suite's database URL {shown!r}: the suite creates its SQLite files in "
                f"{self.folder}, which is not a writable folder"
            )
