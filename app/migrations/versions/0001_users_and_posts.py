"""Users and their posts: the schema the service had before it had migrations.

Revision ID: 0001_users_and_posts
Revises:
Create Date: 2026-12-06

The types are written out here, not imported from app.models: a migration keeps the schema
of its day when the models move on. MySQL/MariaDB tables are utf8mb4 (any Unicode), emails
compare byte for byte there (utf8mb4_bin), and a post's content is MEDIUMTEXT (a TEXT holds
64 KiB, fewer than 20,000 four-byte characters).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001_users_and_posts"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True, "mysql_charset": "utf8mb4"}
TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
EMAIL = sa.String(254).with_variant(
    mysql.VARCHAR(254, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)
CONTENT = sa.Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("email", EMAIL, nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("email", name="uq_users_email"),
        **TABLE_OPTIONS,
    )
    op.create_table(
        "posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("content", CONTENT, nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name="fk_posts_author_id_users", ondelete="CASCADE"
        ),
        **TABLE_OPTIONS,
    )
    op.create_index("ix_posts_author_id", "posts", ["author_id"])


def downgrade() -> None:
    # the index goes with its table: MySQL refuses to drop an index a foreign key uses (1553)
    op.drop_table("posts")
    op.drop_table("users")
