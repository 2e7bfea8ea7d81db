"""The tables: users and their posts."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.database import Base
from app.limits import EMAIL_MAX, NAME_MAX, PASSWORD_HASH_MAX, TITLE_MAX
from app.timestamps import UTCDateTime, utc_now

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# Ids are never reused: SQLite's AUTOINCREMENT (PostgreSQL sequences and InnoDB's persisted
# AUTO_INCREMENT never reuse one anyway). MySQL/MariaDB tables hold any Unicode (utf8mb4).
TABLE_OPTIONS: dict[str, Any] = {"sqlite_autoincrement": True, "mysql_charset": "utf8mb4"}

# Post content may hold CONTENT_MAX characters of 4 bytes each: more than a MySQL TEXT
# (65,535 bytes), so MEDIUMTEXT (16 MiB) there; TEXT is unbounded on the other backends.
ContentText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

# Emails are compared exactly (they are stored lower-cased). MySQL's and MariaDB's default
# collations would make "jose@" and "josé@" the same email, so those get a binary one.
EmailString = String(EMAIL_MAX).with_variant(
    mysql.VARCHAR(EMAIL_MAX, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def normalise_email(email: str) -> str:
    """The one stored form of an email: NFKC (fullwidth U+FF41 is "a"), trimmed, lower-cased.

    Emails are unique in that form on every backend, so U+FF41 "@x" and "A@x" are both "a@x".
    """
    lowered = unicodedata.normalize("NFKC", email).strip().lower()
    return unicodedata.normalize("NFKC", lowered)  # lower-casing can leave a non-NFKC form


class User(Base):
    """Someone with an account; `password_hash` is empty for users created without one."""

    __tablename__ = "users"
    __table_args__ = TABLE_OPTIONS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_MAX))
    email: Mapped[str] = mapped_column(EmailString, unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(PASSWORD_HASH_MAX), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    posts: Mapped[list[Post]] = relationship(
        back_populates="author",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Post.id",
    )

    @validates("email")
    def _normalise_email(self, _key: str, email: str) -> str:
        return normalise_email(email)

    @property
    def account_stamp(self) -> int:
        """What tells this account from any other that ever had its id: its creation time (µs).

        Tokens carry it, so a token outlives neither its account nor a reuse of the id.
        """
        return (self.created_at - EPOCH) // timedelta(microseconds=1)


class Post(Base):
    """A post written by one user; deleted with its author (ON DELETE CASCADE)."""

    __tablename__ = "posts"
    __table_args__ = TABLE_OPTIONS

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX), index=True)
    content: Mapped[str] = mapped_column(ContentText)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now, onupdate=utc_now)

    author: Mapped[User] = relationship(back_populates="posts")
