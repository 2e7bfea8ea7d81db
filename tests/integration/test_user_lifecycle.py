"""A user's whole life through the API: register, log in, write, update, delete."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Post, User


class TestUserLifecycle:
    def test_user_registration_and_login(self, client: TestClient, db_session: Session) -> None:
        credentials = {"email": "newuser@example.com", "password": "SecurePass123!"}
        register = client.post("/auth/register", json={"name": "NewUser", **credentials})
        assert register.status_code == 201
        user_id = register.json()["id"]

        login = client.post("/auth/login", json=credentials)
        assert login.status_code == 200
        token = login.json()["access_token"]

        profile = client.get(f"/users/{user_id}", headers={"Authorization": f"Bearer {token}"})
        assert profile.status_code == 200
        assert profile.json()["email"] == "newuser@example.com"

    def test_user_creates_content(
        self, client: TestClient, auth_headers: dict[str, str], auth_user: User
    ) -> None:
        post = client.post(
            "/posts", json={"title": "My Post", "content": "Post content"}, headers=auth_headers
        )
        assert post.status_code == 201
        assert post.json()["author_id"] == auth_user.id

        fetched = client.get(f"/posts/{post.json()['id']}")
        assert fetched.status_code == 200
        assert fetched.json()["title"] == "My Post"

    def test_creating_a_post_needs_a_token(self, client: TestClient) -> None:
        response = client.post("/posts", json={"title": "Anon", "content": "No token"})
        assert response.status_code == 401

    @pytest.mark.parametrize(
        "body",
        [
            {"title": "", "content": "x"},
            {"title": "T", "content": ""},
            {"title": "T\x00", "content": "x"},
            # PostgreSQL cannot store NUL: refused on every backend alike, never a 500
            {"title": "T", "content": "a\x00b"},
        ],
        ids=["empty-title", "empty-content", "nul-in-title", "nul-in-content"],
    )
    def test_post_validation(
        self, client: TestClient, auth_headers: dict[str, str], body: dict[str, str]
    ) -> None:
        assert client.post("/posts", json=body, headers=auth_headers).status_code == 422

    def test_post_content_keeps_its_lines_and_tabs(
        self, client: TestClient, auth_headers: dict[str, str]
    ) -> None:
        content = "line one\r\n\tline two\n"
        created = client.post(
            "/posts", json={"title": "T", "content": content}, headers=auth_headers
        )
        assert created.status_code == 201
        assert client.get(f"/posts/{created.json()['id']}").json()["content"] == content

    def test_unknown_post_is_404(self, client: TestClient) -> None:
        response = client.get("/posts/99999")
        assert response.status_code == 404
        assert response.json()["detail"] == "Post not found"

    def test_user_updates_profile(
        self, client: TestClient, auth_user: User, auth_headers: dict[str, str]
    ) -> None:
        # The seed updated a different user with its token; a user may only update themself.
        update = client.put(
            f"/users/{auth_user.id}", json={"name": "Updated Name"}, headers=auth_headers
        )
        assert update.status_code == 200
        assert client.get(f"/users/{auth_user.id}").json()["name"] == "Updated Name"

    def test_only_the_author_changes_or_deletes_a_post(
        self, client: TestClient, factories: dict[str, Any], auth_headers: dict[str, str]
    ) -> None:
        foreign = factories["Post"].create()
        change = client.put(f"/posts/{foreign.id}", json={"title": "Mine"}, headers=auth_headers)
        assert change.status_code == 403
        assert client.delete(f"/posts/{foreign.id}", headers=auth_headers).status_code == 403
        assert client.get(f"/posts/{foreign.id}").json()["title"] == foreign.title

    def test_author_changes_and_deletes_own_post(
        self, client: TestClient, auth_headers: dict[str, str]
    ) -> None:
        created = client.post(
            "/posts", json={"title": "Draft", "content": "v1"}, headers=auth_headers
        ).json()
        changed = client.put(
            f"/posts/{created['id']}", json={"content": "v2"}, headers=auth_headers
        )
        assert changed.status_code == 200
        assert changed.json() == {**created, "content": "v2"}
        assert client.delete(f"/posts/{created['id']}", headers=auth_headers).status_code == 204
        assert client.get(f"/posts/{created['id']}").status_code == 404

    def test_user_deletion_cascades(
        self,
        client: TestClient,
        factories: dict[str, Any],
        db_session: Session,
        auth_user: User,
        auth_headers: dict[str, str],
    ) -> None:
        # The seed deleted without credentials; deleting needs the user's own token.
        posts = factories["Post"].create_batch(3, author=auth_user)
        post_ids = [post.id for post in posts]

        assert client.delete(f"/users/{auth_user.id}", headers=auth_headers).status_code == 204

        for post_id in post_ids:
            assert client.get(f"/posts/{post_id}").status_code == 404
        count = select(func.count()).select_from(Post).where(Post.id.in_(post_ids))
        assert db_session.scalar(count) == 0
