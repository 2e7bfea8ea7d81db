"""Ways of isolating one test from the next, compared by the isolation benchmark
(scripts.bench.isolation), on the bundled service's models: what it measures is this suite.

Each way is a context manager around one test: it gives the test a session and, when the
block ends, puts the database back as the test found it (every table there, every table
empty). The test body is the same for all of them: `add_user_with_post`, a small test of
this suite's kind through the app's own models.

    with bench_database(server_url) as database:          # or sqlite_bench_database(folder)
        with SAVEPOINT_ROLLBACK.isolated(database) as session:
            add_user_with_post(session, 1)

SAVEPOINT_ROLLBACK is the suite's own mechanism (`tests.support.rollback`), not a copy of it.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, select
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from app.database import Base, build_engine
from app.models import Post, User
from app.schema import upgrade_to_head
from tests.support.isolation import recreated_tables_session, savepoint_session

WORK_DATABASE = "isolation_work"
TEMPLATE_DATABASE = "isolation_template"
FRESH_PREFIX = "isolation_fresh_"
SQLITE_SUFFIX = ".sqlite3"


def add_user_with_post(session: Session, number: int) -> None:
    """One small test: a user and a post through the app's models, committed, read back.

    `number` makes the email unique: without isolation, earlier tests' rows are still there.
    """
    user = User(name=f"User {number}", email=f"user{number}@example.com")
    session.add_all([user, Post(title=f"Post {number}", content="Hello.", author=user)])
    session.commit()
    post = session.scalars(select(Post).where(Post.author_id == user.id)).one()
    if post.author.email != f"user{number}@example.com" or post.title != f"Post {number}":
        raise AssertionError(f"test {number} read back another post than it wrote: {post.title}")


def emptying_statements(dialect: Dialect, table_names: Sequence[str]) -> list[str]:
    """What empties every table (`table_names` parents first): TRUNCATE, or DELETE on SQLite.

    MySQL and MariaDB refuse to TRUNCATE a table that a foreign key points to, even an empty
    one, unless FOREIGN_KEY_CHECKS is off for the session.
    """
    quote = dialect.identifier_preparer.quote
    children_first = [quote(name) for name in reversed(table_names)]
    if dialect.name == "postgresql":
        return [f"TRUNCATE TABLE {', '.join(children_first)}"]
    if dialect.name in ("mysql", "mariadb"):
        truncates = [f"TRUNCATE TABLE {name}" for name in children_first]
        return ["SET FOREIGN_KEY_CHECKS = 0", *truncates, "SET FOREIGN_KEY_CHECKS = 1"]
    if dialect.name == "sqlite":
        return [f"DELETE FROM {name}" for name in children_first]  # noqa: S608 - the app's tables
    raise ValueError(f"no way to empty the tables of a {dialect.name} database")


def table_names() -> list[str]:
    """The app's tables, parents first."""
    return [table.name for table in Base.metadata.sorted_tables]


@dataclass
class BenchDatabase:
    """The database the tests run in (its tables created, empty), and a maker of fresh ones.

    `fresh_engine()` makes a new database with the app's tables, yields an engine on it, and
    drops the database afterwards: from a template where the backend has them.
    """

    engine: Engine
    fresh_engine: Callable[[], AbstractContextManager[Engine]]
    fresh_way: str
    """How a fresh database is made here, in words."""
    _statements: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self._statements = emptying_statements(self.engine.dialect, table_names())

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    @property
    def emptying_way(self) -> str:
        """How the tables are emptied here, in words."""
        return "DELETE FROM" if self.backend == "sqlite" else "TRUNCATE"

    def empty_tables(self) -> None:
        """Empty every table of the database the tests run in."""
        with self.engine.begin() as connection:
            for statement in self._statements:
                connection.exec_driver_sql(statement)


@contextmanager
def _created_engine(url: URL) -> Iterator[Engine]:
    """The app's own engine (`build_engine`) on `url`, disposed when the block ends."""
    engine = build_engine(url.render_as_string(hide_password=False))
    try:
        yield engine
    finally:
        engine.dispose()


class ServerDatabases:
    """Creates and drops databases on one server, through one AUTOCOMMIT connection.

    PostgreSQL makes a fresh database from a template (CREATE DATABASE ... TEMPLATE). MySQL
    and MariaDB have no templates: there a fresh database is CREATE DATABASE, then the migrations.
    """

    def __init__(self, admin: Connection, server_url: URL) -> None:
        self.admin = admin
        self.server_url = server_url
        self.uses_template = server_url.get_backend_name() == "postgresql"
        self.fresh_way = (
            "CREATE DATABASE ... TEMPLATE"
            if self.uses_template
            else "CREATE DATABASE + migrations (no templates here)"
        )
        self._numbers = itertools.count()

    def _quoted(self, name: str) -> str:
        return self.admin.dialect.identifier_preparer.quote(name)

    def create(self, name: str, template: str | None = None) -> URL:
        """Create database `name` (a copy of `template`, if given); return its URL."""
        if template:
            source = f" TEMPLATE {self._quoted(template)}"
        else:
            source = "" if self.uses_template else " CHARACTER SET utf8mb4"  # as the suite does
        self.admin.exec_driver_sql(f"CREATE DATABASE {self._quoted(name)}{source}")
        return self.server_url.set(database=name)

    def drop(self, name: str) -> None:
        self.admin.exec_driver_sql(f"DROP DATABASE IF EXISTS {self._quoted(name)}")

    @contextmanager
    def fresh_engine(self) -> Iterator[Engine]:
        """A new database with the app's tables, and an engine on it; dropped afterwards."""
        name = f"{FRESH_PREFIX}{next(self._numbers)}"
        url = self.create(name, TEMPLATE_DATABASE if self.uses_template else None)
        try:
            with _created_engine(url) as engine:
                if not self.uses_template:
                    upgrade_to_head(engine)
                yield engine
        finally:
            self.drop(name)


@contextmanager
def bench_database(server_url: str) -> Iterator[BenchDatabase]:
    """On a PostgreSQL, MySQL or MariaDB server: the work database (and on PostgreSQL the
    template), with the app's tables; both dropped when the block ends."""
    url = make_url(server_url)
    admin_engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin_engine.connect() as admin:
            databases = ServerDatabases(admin, url)
            made = (
                (WORK_DATABASE, TEMPLATE_DATABASE) if databases.uses_template else (WORK_DATABASE,)
            )
            try:
                for name in made:
                    with _created_engine(databases.create(name)) as engine:
                        upgrade_to_head(engine)
                with _created_engine(url.set(database=WORK_DATABASE)) as engine:
                    yield BenchDatabase(engine, databases.fresh_engine, databases.fresh_way)
            finally:
                for name in made:
                    databases.drop(name)
    finally:
        admin_engine.dispose()


@contextmanager
def sqlite_bench_database(folder: Path) -> Iterator[BenchDatabase]:
    """SQLite files in `folder`: the work database; a fresh one is a copy of a template file."""
    numbers = itertools.count()
    template = folder / f"{TEMPLATE_DATABASE}{SQLITE_SUFFIX}"
    work = folder / f"{WORK_DATABASE}{SQLITE_SUFFIX}"

    def url_of(path: Path) -> URL:
        return URL.create("sqlite", database=str(path))

    @contextmanager
    def fresh_engine() -> Iterator[Engine]:
        path = folder / f"{FRESH_PREFIX}{next(numbers)}{SQLITE_SUFFIX}"
        shutil.copyfile(template, path)
        try:
            with _created_engine(url_of(path)) as engine:
                yield engine
        finally:
            for leftover in (path, path.with_name(path.name + "-journal")):
                leftover.unlink(missing_ok=True)

    try:
        for path in (template, work):
            with _created_engine(url_of(path)) as engine:
                upgrade_to_head(engine)
        with _created_engine(url_of(work)) as engine:
            yield BenchDatabase(engine, fresh_engine, "a copy of a template file")
    finally:
        for path in (template, work):
            for leftover in (path, path.with_name(path.name + "-journal")):
                leftover.unlink(missing_ok=True)


@contextmanager
def _no_isolation(database: BenchDatabase) -> Iterator[Session]:
    with Session(database.engine) as session:
        yield session


def _savepoint_rollback(database: BenchDatabase) -> AbstractContextManager[Session]:
    return savepoint_session(database.engine)


@contextmanager
def _emptied_tables(database: BenchDatabase) -> Iterator[Session]:
    try:
        with Session(database.engine) as session:
            yield session
    finally:
        database.empty_tables()


def _recreated_tables(database: BenchDatabase) -> AbstractContextManager[Session]:
    return recreated_tables_session(database.engine)  # the suite's own `--isolation recreate`


@contextmanager
def _fresh_database(database: BenchDatabase) -> Iterator[Session]:
    with database.fresh_engine() as engine, Session(engine) as session:
        yield session


@dataclass(frozen=True)
class Strategy:
    """One way of isolating a test: `isolated(database)` is one test's session."""

    key: str
    title: str
    isolated: Callable[[BenchDatabase], AbstractContextManager[Session]]


NO_ISOLATION = Strategy("none", "no isolation", _no_isolation)
SAVEPOINT_ROLLBACK = Strategy("savepoint", "SAVEPOINT rollback (the suite's)", _savepoint_rollback)
EMPTIED_TABLES = Strategy("empty", "empty every table", _emptied_tables)
RECREATED_TABLES = Strategy("recreate", "drop every table + migrations", _recreated_tables)
FRESH_DATABASE = Strategy("fresh", "fresh database", _fresh_database)
ISOLATING = (SAVEPOINT_ROLLBACK, EMPTIED_TABLES, RECREATED_TABLES, FRESH_DATABASE)
"""The strategies compared; NO_ISOLATION is what their added cost is measured against."""


def run_tests(
    strategy: Strategy, database: BenchDatabase, numbers: Iterator[int], count: int
) -> None:
    """`count` tests, each isolated by `strategy`; `numbers` gives each its unique number."""
    for number in itertools.islice(numbers, count):
        with strategy.isolated(database) as session:
            add_user_with_post(session, number)
