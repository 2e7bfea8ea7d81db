"""The migrations group: app/migrations/ on this cell's server, in a database of their own.

pytest-alembic's checks (a single head; empty to head; the models match what the migrations
built, as autogenerate sees it on this server; every step down and up again), then what it
lacks: rows written before the data-carrying migration are there after it, four-byte text
included, and a migration that fails halfway leaves what each server leaves (MySQL and MariaDB
commit each DDL statement, PostgreSQL and SQLite roll the step back), after which running the
upgrade again finishes the job. Each test gets a new, empty database on the cell's server
(named after the worker, so the janitor reaps it after a killed run).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.config import Config
from pytest_alembic import MigrationContext
from pytest_alembic.tests import (  # noqa: F401  (collected here: the group's own checks)
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError

from app import schema
from app.database import build_engine
from app.schema import (
    MIGRATIONS,
    current_revision,
    head_revision,
    upgrade_to_head,
)
from app.timestamps import UTCDateTime
from scripts.pytest_plugin.databases import provisioner_for
from tests.support.worker import WorkerResources

BEFORE_BACKFILL = "0001_users_and_posts"
BACKFILL = "0002_posts_updated_at"
FOUR_BYTE_NAME = "Ada 𠜎𠜱 🐍"
FOUR_BYTE_TITLE = "🐍 snakes & 𝄞 clefs"
FOUR_BYTE_CONTENT = "😀" * 5000 + " end"
WRITTEN_AT = datetime(2024, 2, 29, 12, 34, 56, 123456, tzinfo=UTC)
BROKEN_STEP = '    op.execute("UPDATE posts SET updated_at = no_such_column")\n'

users = sa.table(
    "users",
    sa.column("id", sa.Integer),
    sa.column("name", sa.String),
    sa.column("email", sa.String),
    sa.column("created_at", UTCDateTime()),
)
posts = sa.table(
    "posts",
    sa.column("id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("content", sa.Text),
    sa.column("author_id", sa.Integer),
    sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
)


@pytest.fixture
def alembic_engine(worker_resources: WorkerResources) -> Iterator[Engine]:
    """A new, empty database on the cell's server, dropped after the test."""
    provisioner = provisioner_for(worker_resources.server_url)
    with provisioner.worker_database(f"{worker_resources.name}_migrations") as url:
        engine = build_engine(url, worker_resources.settings.sqlite_module)
        try:
            yield engine
        finally:
            engine.dispose()


@pytest.fixture
def alembic_config() -> Config:
    """The service's migrations, run on `alembic_engine`'s connection."""
    return schema.alembic_config(MIGRATIONS)


def _columns(engine: Engine, table: str) -> dict[str, dict[str, object]]:
    return {column["name"]: dict(column) for column in sa.inspect(engine).get_columns(table)}


def test_rows_written_before_the_backfill_are_there_after_it_four_byte_text_included(
    alembic_runner: MigrationContext, alembic_engine: Engine
) -> None:
    alembic_runner.migrate_up_to(BEFORE_BACKFILL)
    with alembic_engine.begin() as connection:
        connection.execute(
            users.insert().values(
                id=1, name=FOUR_BYTE_NAME, email="ada@example.com", created_at=WRITTEN_AT
            )
        )
        connection.execute(
            posts.insert().values(
                id=1,
                title=FOUR_BYTE_TITLE,
                content=FOUR_BYTE_CONTENT,
                author_id=1,
                created_at=WRITTEN_AT,
            )
        )
    alembic_runner.migrate_up_to("heads")

    with alembic_engine.connect() as connection:
        post = connection.execute(sa.select(posts)).one()
        user = connection.execute(sa.select(users)).one()
    assert (user.name, user.email, user.created_at) == (
        FOUR_BYTE_NAME,
        "ada@example.com",
        WRITTEN_AT,
    )
    assert (post.title, post.content, post.author_id) == (FOUR_BYTE_TITLE, FOUR_BYTE_CONTENT, 1)
    assert post.updated_at == post.created_at == WRITTEN_AT
    assert _columns(alembic_engine, "posts")["updated_at"]["nullable"] is False


def test_titles_of_300_four_byte_characters_fit_after_the_widening(
    alembic_runner: MigrationContext, alembic_engine: Engine
) -> None:
    alembic_runner.migrate_up_to("heads")
    title = "𝄞" * 300
    with alembic_engine.begin() as connection:
        connection.execute(
            users.insert().values(id=1, name="n", email="n@x", created_at=WRITTEN_AT)
        )
        connection.execute(
            posts.insert().values(
                id=1,
                title=title,
                content="",
                author_id=1,
                created_at=WRITTEN_AT,
                updated_at=WRITTEN_AT,
            )
        )
        found = connection.execute(sa.select(posts.c.id).where(posts.c.title == title)).all()
    assert found == [(1,)]
    indexes = {index["name"] for index in sa.inspect(alembic_engine).get_indexes("posts")}
    assert "ix_posts_title" in indexes


def broken_copy(target: Path) -> Path:
    """The migrations with the backfill replaced by a statement the server refuses: the
    column is added first (the step's first DDL), the failure comes after it."""
    shutil.copytree(MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__"))
    revision = target / "versions" / f"{BACKFILL}.py"
    source = revision.read_text(encoding="utf-8")
    good_step = "    _backfill_updated_at()\n"
    assert source.count(good_step) == 1, "the backfill step moved: update broken_copy"
    revision.write_text(source.replace(good_step, BROKEN_STEP), encoding="utf-8")
    return target


def test_a_migration_failing_halfway_leaves_what_the_server_committed_and_reruns_after_the_fix(
    alembic_engine: Engine, tmp_path: Path
) -> None:
    broken = broken_copy(tmp_path / "migrations")
    with pytest.raises(DBAPIError) as failure:
        upgrade_to_head(alembic_engine, broken)
    assert "no_such_column" in str(failure.value.orig)

    # the step was not recorded on any server...
    assert current_revision(alembic_engine) == BEFORE_BACKFILL
    # ...but MySQL and MariaDB committed its ADD COLUMN on their own: a half-changed schema
    implicit_commit = alembic_engine.dialect.name in ("mysql", "mariadb")
    assert ("updated_at" in _columns(alembic_engine, "posts")) is implicit_commit

    upgrade_to_head(alembic_engine)  # the fixed migration, from wherever the failure left it
    assert current_revision(alembic_engine) == head_revision()
    assert _columns(alembic_engine, "posts")["updated_at"]["nullable"] is False
