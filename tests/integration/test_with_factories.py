"""factory-boy factories bound to the test's session."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.models import User


def test_user_with_posts(factories: dict[str, Any], client: TestClient) -> None:
    user = factories["User"].create()
    posts = factories["Post"].create_batch(3, author=user)
    response = client.get(f"/users/{user.id}/posts")
    assert response.status_code == 200
    data = response.json()
    assert [post["id"] for post in data["posts"]] == [post.id for post in posts]
    assert {post["author_id"] for post in data["posts"]} == {user.id}


def test_bulk_user_creation(factories: dict[str, Any], db_session: Session) -> None:
    factories["User"].create_batch(10)
    assert db_session.query(User).count() == 10


def test_factories_write_through_the_tests_session(
    factories: dict[str, Any], db_session: Session
) -> None:
    user = factories["User"].create()
    assert user in db_session
    assert db_session.get(User, user.id) is user
