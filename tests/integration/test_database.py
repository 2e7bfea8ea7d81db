"""The schema on the database itself: CRUD, constraints, foreign keys and cascades."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC
from typing import Any

import pytest
from sqlalchemy import String, Text, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.database import Base, build_engine
from app.models import Post, User
from app.schema import upgrade_to_head


def test_user_crud_operations(db_session: Session) -> None:
    user = User(name="Charlie", email="charlie@example.com")
    db_session.add(user)
    db_session.commit()
    db_session.refresh(user)
    assert user.id is not None

    retrieved = db_session.query(User).filter(User.id == user.id).one()
    assert retrieved.name == "Charlie"

    retrieved.name = "Charlie Updated"
    db_session.commit()
    db_session.refresh(retrieved)
    assert retrieved.name == "Charlie Updated"

    db_session.delete(retrieved)
    db_session.commit()
    assert db_session.query(User).filter(User.id == user.id).first() is None


def test_foreign_key_constraint(db_session: Session) -> None:
    user = User(name="David", email="david@example.com")
    db_session.add(user)
    db_session.commit()
    post = Post(title="Test Post", content="Content", author_id=user.id)
    db_session.add(post)
    db_session.commit()
    db_session.refresh(user)
    assert post.author.name == "David"
    assert user.posts[0].title == "Test Post"


def test_post_with_unknown_author_is_rejected(db_session: Session) -> None:
    db_session.add(Post(title="Orphan", content="No author", author_id=987654))
    with pytest.raises(IntegrityError):
        db_session.commit()


def test_unique_constraint_violation(db_session: Session) -> None:
    db_session.add(User(name="Eve", email="eve@example.com"))
    db_session.commit()
    db_session.add(User(name="Eve2", email="eve@example.com"))
    with pytest.raises(IntegrityError):
        db_session.commit()


def test_unique_email_ignores_case(db_session: Session) -> None:
    db_session.add(User(name="Eve", email="eve@example.com"))
    db_session.commit()
    db_session.add(User(name="Eve2", email="EVE@Example.com"))
    with pytest.raises(IntegrityError):
        db_session.commit()


def test_session_keeps_working_after_a_failed_commit(db_session: Session) -> None:
    db_session.add(User(name="Eve", email="eve@example.com"))
    db_session.commit()
    db_session.add(User(name="Eve2", email="eve@example.com"))
    with pytest.raises(IntegrityError):
        db_session.commit()
    db_session.rollback()
    assert db_session.scalar(select(func.count()).select_from(User)) == 1


def test_deleting_a_user_row_cascades_to_posts_in_the_database(
    db_session: Session, factories: dict[str, Any]
) -> None:
    author = factories["User"].create()
    factories["Post"].create_batch(3, author=author)
    keeper = factories["Post"].create()
    # A Core DELETE bypasses the ORM: only ON DELETE CASCADE can remove the posts.
    db_session.execute(delete(User).where(User.id == author.id))
    remaining = db_session.scalars(select(Post.id)).all()
    assert remaining == [keeper.id]


def test_timestamps_read_back_timezone_aware_utc(
    db_session: Session, factories: dict[str, Any]
) -> None:
    post = factories["Post"].create()
    db_session.commit()
    db_session.expire_all()
    stored = db_session.get(Post, post.id)
    assert stored is not None
    assert stored.created_at.tzinfo is not None
    assert stored.created_at.utcoffset() == UTC.utcoffset(None)
    assert stored.author.created_at.tzinfo is not None


def test_every_string_column_has_a_length() -> None:
    strings = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, String)
        and not isinstance(column.type, Text)
        and column.type.length is None
    ]
    assert strings == []


def test_an_in_memory_sqlite_database_is_one_database_that_threads_take_turns_on() -> None:
    # the service on DATABASE_URL=sqlite:// serves requests from a thread pool
    engine = build_engine("sqlite://")
    upgrade_to_head(engine)

    def add_user(number: int) -> None:
        with Session(engine) as session:
            session.add(User(name=f"User {number}", email=f"user{number}@example.com"))
            session.commit()

    try:
        with ThreadPoolExecutor(max_workers=4) as threads:
            list(threads.map(add_user, range(20)))
        with Session(engine) as session:
            assert session.scalar(select(func.count(User.id))) == 20
    finally:
        engine.dispose()
