"""The tables: users and their posts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from app.database import Base
from app.timestamps import UTCDateTime, utc_now

NAME_MAX = 100
EMAIL_MAX = 254
TITLE_MAX = 200
PASSWORD_HASH_MAX = 255

# Emails are compared exactly (they are stored lower-cased). MySQL's and MariaDB's default
# collations would make "jose@" and "josé@" the same email, so those get a binary one.
EmailString = String(EMAIL_MAX).with_variant(
    mysql.VARCHAR(EMAIL_MAX, charset="utf8mb4", collation="utf8mb4_bin"), "mysql", "mariadb"
)


def normalise_email(email: str) -> str:
    """Emails are unique case-insensitively: they are stored lower-cased on every backend."""
    return email.strip().lower()


class User(Base):
    """Someone with an account; `password_hash` is empty for users created without one."""

    __tablename__ = "users"

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


class Post(Base):
    """A post written by one user; deleted with its author (ON DELETE CASCADE)."""

    __tablename__ = "posts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    content: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utc_now)

    author: Mapped[User] = relationship(back_populates="posts")
