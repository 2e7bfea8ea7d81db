"""Per-worker databases under a server-level DATABASE_URL: create, drop, reap leftovers."""

from __future__ import annotations

import functools
import importlib
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.pool import NullPool

from scripts.paths import scratch_dir
from tests.support.naming import PREFIX, is_stale

SQLITE_SUFFIX = ".sqlite3"
LIKE_OURS = PREFIX.replace("_", "\\_") + "%"  # ct\_%: `_` is a LIKE wildcard


class UnsupportedDatabaseError(ValueError):
    """DATABASE_URL names a backend the suite cannot provision."""


class DatabaseUnreachableError(RuntimeError):
    """DATABASE_URL names a server that does not answer, or refuses the suite."""


class WorkerDatabases(ABC):
    """Creates and drops one worker's database; `worker_database` pairs the two."""

    @abstractmethod
    def create(self, name: str) -> str:
        """Create database `name`; return a URL that connects to it."""

    @abstractmethod
    def copy(self, template: str, name: str) -> str:
        """Create database `name` as a copy of database `template` (its tables, their rows,
        indexes and constraints); return a URL that connects to it. Nothing may be connected
        to `template` meanwhile."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Drop database `name` (and anything that belongs to it), if it exists."""

    @contextmanager
    def worker_database(self, name: str, template: str | None = None) -> Iterator[str]:
        """Create database `name` (empty, or a copy of `template`), yield its URL, drop it
        afterwards."""
        url = self.create(name) if template is None else self.copy(template, name)
        try:
            yield url
        finally:
            self.drop(name)


class ServerProvisioner(WorkerDatabases):
    """PostgreSQL and MySQL/MariaDB: CREATE DATABASE per worker on the given server."""

    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
        self.backend = server_url.get_backend_name()
        self.is_mysql = self.backend in ("mysql", "mariadb")

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
        return f"`{name}`" if self.is_mysql else f'"{name}"'

    def _list_statement(self) -> str:
        if self.backend == "postgresql":
            return "SELECT datname FROM pg_database WHERE datname LIKE :pattern"
        return "SHOW DATABASES LIKE :pattern"

    @functools.cached_property
    def _drop_can_force(self) -> bool:
        """PostgreSQL 13+ can drop a database that still has connections (WITH (FORCE))."""
        if self.backend != "postgresql":
            return False
        return int(self._execute("SHOW server_version_num")[0]) >= 130000

    def _drop_statement(self, name: str) -> str:
        force = " WITH (FORCE)" if self._drop_can_force else ""
        return f"DROP DATABASE IF EXISTS {self._quote(name)}{force}"

    def _create_statement(self, name: str) -> str:
        if self.is_mysql:
            return f"CREATE DATABASE {self._quote(name)} CHARACTER SET utf8mb4"
        return f"CREATE DATABASE {self._quote(name)}"

    def reap_stale(self) -> list[str]:
        now = time.time()
        stale = [
            name
            for name in self._execute(self._list_statement(), pattern=LIKE_OURS)
            if is_stale(name, now)
        ]
        if stale:
            self._execute(*(self._drop_statement(name) for name in stale))
        return stale

    def list_databases(self) -> list[str]:
        """This suite's databases on the server (any run)."""
        return self._execute(self._list_statement(), pattern=LIKE_OURS)

    def create(self, name: str) -> str:
        """Create database `name`; return a URL that connects to it."""
        self._execute(self._create_statement(name))
        return self.server_url.set(database=name).render_as_string(hide_password=False)

    def copy(self, template: str, name: str) -> str:
        """PostgreSQL: CREATE DATABASE ... TEMPLATE. MySQL/MariaDB have no templates: each
        table is created from the template's own SHOW CREATE TABLE and its rows copied."""
        if not self.is_mysql:
            self._execute(f"{self._create_statement(name)} TEMPLATE {self._quote(template)}")
            return self.server_url.set(database=name).render_as_string(hide_password=False)
        url = self.create(name)
        engine = create_engine(self.server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            with engine.connect() as connection:
                self._copy_mysql_tables(connection, template, name)
        except BaseException:
            self.drop(name)
            raise
        finally:
            engine.dispose()
        return url

    def _copy_mysql_tables(self, connection: Connection, template: str, name: str) -> None:
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

    def drop(self, name: str) -> None:
        self._execute(self._drop_statement(name))


class SqliteProvisioner(WorkerDatabases):
    """SQLite: one file per worker in a fast folder (/dev/shm when there is one)."""

    def __init__(self, server_url: URL) -> None:
        self.server_url = server_url
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
        for path in self.folder.glob(f"{PREFIX}*{SQLITE_SUFFIX}"):
            name = path.name.removesuffix(SQLITE_SUFFIX)
            if is_stale(name, now):
                self.drop(name)
                reaped.append(name)
        return reaped

    def list_databases(self) -> list[str]:
        return [
            p.name.removesuffix(SQLITE_SUFFIX)
            for p in self.folder.glob(f"{PREFIX}*{SQLITE_SUFFIX}")
        ]

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}{SQLITE_SUFFIX}"

    def create(self, name: str) -> str:
        """Create the (empty) database file `name`; return a URL that connects to it."""
        path = self._path(name)
        path.touch(exist_ok=False)
        return self.server_url.set(database=str(path)).render_as_string(hide_password=False)

    def copy(self, template: str, name: str) -> str:
        """A copy of the template's file (its writers closed their connections)."""
        path = self._path(name)
        shutil.copyfile(self._path(template), path)
        return self.server_url.set(database=str(path)).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        for file in self._files_of(self._path(name)):
            file.unlink(missing_ok=True)


def provisioner_for(database_url: str) -> ServerProvisioner | SqliteProvisioner:
    """The provisioner for a server-level DATABASE_URL; raises for unsupported backends."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend == "sqlite":
        return SqliteProvisioner(url)
    if backend in ("postgresql", "mysql", "mariadb"):
        return ServerProvisioner(url)
    raise UnsupportedDatabaseError(
        f"DATABASE_URL {url.render_as_string(hide_password=True)!r} uses {backend!r}; the suite "
        "provisions postgresql (postgresql+psycopg2://...), mysql/mariadb (mysql+pymysql://...) "
        "and sqlite (sqlite://)."
    )


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
    shown = provisioner.server_url.render_as_string(hide_password=True)
    if isinstance(provisioner, SqliteProvisioner):
        if not (provisioner.folder.is_dir() and os.access(provisioner.folder, os.W_OK)):
            raise DatabaseUnreachableError(
                f"DATABASE_URL {shown!r}: the suite creates its SQLite files in "
                f"{provisioner.folder}, which is not a writable folder"
            )
        return
    try:
        provisioner.list_databases()
    except (NoSuchModuleError, ImportError) as error:
        raise UnsupportedDatabaseError(
            f"DATABASE_URL {shown!r} needs a driver that is not installed ({error}); the "
            "test extra installs psycopg2 and pymysql: write the URL as "
            "postgresql+psycopg2://... or mysql+pymysql://..."
        ) from None
    except DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        raise DatabaseUnreachableError(
            f"the suite cannot use the server at DATABASE_URL {shown!r}: {reason}. "
            "Start the server, or fix the URL (host, port, user, password)."
        ) from None


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


Provisioner = ServerProvisioner | SqliteProvisioner
