"""Posts know when they last changed: `posts.updated_at`, NOT NULL, existing rows backfilled.

Revision ID: 0002_posts_updated_at
Revises: 0001_users_and_posts
Create Date: 2026-12-06

Three steps: add the column as nullable, set it to `created_at` on every row that has none,
then make it NOT NULL. MySQL and MariaDB commit each DDL statement on their own, so a failure
after the first step leaves the column there with the revision not recorded: each step checks
what is already done, and running the upgrade again after a fix finishes the job. SQLite
cannot make a column NOT NULL in place: batch mode copies the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0002_posts_updated_at"
down_revision: str | None = "0001_users_and_posts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
posts = sa.table(
    "posts",
    sa.column("created_at", TIMESTAMP),
    sa.column("updated_at", TIMESTAMP),
)


def _has_updated_at() -> bool:
    columns = sa.inspect(op.get_bind()).get_columns("posts")
    return any(column["name"] == "updated_at" for column in columns)


def _add_updated_at() -> None:
    if not _has_updated_at():
        op.add_column("posts", sa.Column("updated_at", TIMESTAMP, nullable=True))


def _backfill_updated_at() -> None:
    op.execute(
        posts.update().where(posts.c.updated_at.is_(None)).values(updated_at=posts.c.created_at)
    )


def _require_updated_at() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.alter_column("updated_at", existing_type=TIMESTAMP, nullable=False)


def upgrade() -> None:
    _add_updated_at()
    _backfill_updated_at()
    _require_updated_at()


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("updated_at")
