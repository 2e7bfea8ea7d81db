"""PRIVATE_USERS: off keeps the examples' contract; on closes email squatting and enumeration."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.main import app
from app.models import User


@pytest.fixture
def private_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "private_users", True)


def _security(method: str, path: str) -> list[dict[str, Any]]:
    security: list[dict[str, Any]] = app.openapi()["paths"][path][method].get("security", [])
    return security


def test_by_default_anyone_creates_users_and_reads_their_emails(client: TestClient) -> None:
    created = client.post("/users", json={"name": "Open", "email": "open@example.com"})
    assert created.status_code == 201
    assert client.get(f"/users/{created.json()['id']}").json()["email"] == "open@example.com"
    assert {} in _security("post", "/users")  # documented as needing no token


def test_private_users_need_a_token_to_create_a_user(
    client: TestClient, auth_headers: dict[str, str], private_users: None
) -> None:
    body = {"name": "Squatter", "email": "victim@example.com"}
    refused = client.post("/users", json=body)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    # The email's owner can still register it.
    owner = {"name": "Victim", "email": "victim@example.com", "password": "long-enough-pw"}
    assert client.post("/auth/register", json=owner).status_code == 201
    other = {"name": "Made by a user", "email": "made@example.com"}
    assert client.post("/users", json=other, headers=auth_headers).status_code == 201
    assert _security("post", "/users") == [{"HTTPBearer": []}]


def test_private_users_show_an_email_to_its_owner_only(
    client: TestClient,
    auth_user: User,
    auth_headers: dict[str, str],
    factories: dict[str, Any],
    private_users: None,
) -> None:
    other = factories["User"].create()
    assert client.get(f"/users/{other.id}").json()["email"] is None
    assert client.get(f"/users/{other.id}", headers=auth_headers).json()["email"] is None
    own = client.get(f"/users/{auth_user.id}", headers=auth_headers)
    assert own.json()["email"] == auth_user.email
    # from the cache too
    assert client.get(f"/users/{other.id}").headers["X-Cache"] == "HIT"
    assert client.get(f"/users/{other.id}").json()["email"] is None


def test_private_users_refuse_a_bad_token_on_a_read(
    client: TestClient, auth_user: User, private_users: None
) -> None:
    response = client.get(f"/users/{auth_user.id}", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
