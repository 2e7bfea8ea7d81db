"""Titles of up to 300 characters, and an index to find posts by title.

Revision ID: 0003_longer_post_titles
Revises: 0002_posts_updated_at
Create Date: 2026-12-06

VARCHAR(200) becomes VARCHAR(300), then `ix_posts_title` is built on it. Widening is in place
on PostgreSQL and MySQL/MariaDB and a table copy on SQLite (batch mode). The index fits every
backend's key limit: 300 four-byte characters are 1,200 bytes (InnoDB allows 3,072, a
PostgreSQL btree entry about 2,700). Both steps may be run again: the ALTER to the same type
changes nothing, and the index is only built when it is missing.

Going down shortens the column again: PostgreSQL and MySQL/MariaDB (strict mode) refuse while
a title is longer than 200 characters; SQLite would keep the long value (it does not enforce
VARCHAR lengths).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_longer_post_titles"
down_revision: str | None = "0002_posts_updated_at"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_posts_title"


def _has_title_index() -> bool:
    return any(index["name"] == INDEX for index in sa.inspect(op.get_bind()).get_indexes("posts"))


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.alter_column(
            "title", existing_type=sa.String(200), type_=sa.String(300), existing_nullable=False
        )
    if not _has_title_index():
        op.create_index(INDEX, "posts", ["title"])


def downgrade() -> None:
    if _has_title_index():
        op.drop_index(INDEX, table_name="posts")
    with op.batch_alter_table("posts") as batch:
        batch.alter_column(
            "title", existing_type=sa.String(300), type_=sa.String(200), existing_nullable=False
        )
