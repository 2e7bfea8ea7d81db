"""Both ways of undoing a test's database changes leave the next test empty tables: the
SAVEPOINT rollback the suite uses, and the recreated tables of the benchmark's baseline."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from app.models import Post, User
from scripts.suite_switches import ISOLATIONS, Isolation
from tests.support.isolation import isolated_session


def rows(engine: Engine) -> tuple[int, int]:
    with engine.connect() as connection:
        users = connection.scalar(select(func.count()).select_from(User))
        posts = connection.scalar(select(func.count()).select_from(Post))
    return users or 0, posts or 0


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_what_one_test_commits_is_gone_for_the_next(engine: Engine, isolation: Isolation) -> None:
    before = rows(engine)
    with isolated_session(engine, isolation) as first:
        author = User(name="Iso", email=f"iso-{isolation}@example.com")
        first.add(author)
        first.commit()
        first.add(Post(title="Kept?", content="no", author_id=author.id))
        first.commit()
        assert first.scalar(select(func.count()).select_from(User)) == before[0] + 1
    assert rows(engine) == before
    with isolated_session(engine, isolation) as second:
        assert second.scalar(select(func.count()).select_from(Post)) == before[1]
