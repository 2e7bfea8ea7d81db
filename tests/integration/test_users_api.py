"""The /users API: create, read, validation, uniqueness (also under a race), ownership."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete

from app.main import app
from app.models import User
from tests.support.worker import WorkerResources


def test_create_user_success(client: TestClient) -> None:
    response = client.post("/users", json={"name": "Alice", "email": "alice@example.com"})
    assert response.status_code == 201
    data = response.json()
    assert data["name"] == "Alice"
    assert data["email"] == "alice@example.com"
    assert isinstance(data["id"], int)
    assert datetime.fromisoformat(data["created_at"]).utcoffset() is not None


def test_create_user_duplicate_email(client: TestClient) -> None:
    client.post("/users", json={"name": "Alice", "email": "alice@example.com"})
    response = client.post("/users", json={"name": "Alice2", "email": "alice@example.com"})
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]


def test_create_user_duplicate_email_differing_in_case(client: TestClient) -> None:
    first = client.post("/users", json={"name": "Alice", "email": "Alice@Example.COM"})
    assert first.json()["email"] == "alice@example.com"
    response = client.post("/users", json={"name": "Alice2", "email": "aLiCe@example.com"})
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]


def test_emails_differing_only_in_accents_are_different_users(client: TestClient) -> None:
    # MySQL's and MariaDB's default collations compare "e" and "é" as equal; emails must not
    first = client.post("/users", json={"name": "Jose", "email": "jose@example.com"})
    second = client.post("/users", json={"name": "José", "email": "josé@example.com"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json()["email"] == "josé@example.com"


def test_emails_differing_only_in_trailing_spaces_are_stored_trimmed(client: TestClient) -> None:
    first = client.post("/users", json={"name": "Ann", "email": "ann@example.com "})
    assert first.json()["email"] == "ann@example.com"
    second = client.post("/users", json={"name": "Ann", "email": "ann@example.com"})
    assert second.status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "Bob", "email": "not-an-email"}, "email"),
        ({"name": "", "email": "bob@example.com"}, "name"),
        ({"name": "   ", "email": "bob@example.com"}, "name"),
        ({"name": "B" * 101, "email": "bob@example.com"}, "name"),
        ({"email": "bob@example.com"}, "name"),
        ({"name": "Bo\x00b", "email": "bob@example.com"}, "name"),
        ({"name": "Bob\nSmith", "email": "bob@example.com"}, "name"),
    ],
    ids=[
        "invalid-email",
        "empty-name",
        "blank-name",
        "oversized-name",
        "missing-name",
        "nul-in-name",
        "newline-in-name",
    ],
)
def test_create_user_rejects_invalid_input(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/users", json=body)
    assert response.status_code == 422
    assert any(error["loc"][-1] == field for error in response.json()["detail"])


def test_get_user_success(client: TestClient) -> None:
    user_id = client.post("/users", json={"name": "Bob", "email": "bob@example.com"}).json()["id"]
    response = client.get(f"/users/{user_id}")
    assert response.status_code == 200
    assert response.json()["name"] == "Bob"
    assert response.json()["id"] == user_id


def test_get_user_not_found(client: TestClient) -> None:
    response = client.get("/users/99999")
    assert response.status_code == 404
    assert response.json()["detail"] == "User not found"


def test_list_posts_of_unknown_user_is_404(client: TestClient) -> None:
    response = client.get("/users/99999/posts")
    assert response.status_code == 404
    assert response.json()["detail"] == "User not found"


def test_update_user_without_token_is_401(client: TestClient, auth_user: User) -> None:
    response = client.put(f"/users/{auth_user.id}", json={"name": "Mallory"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_update_another_user_is_403(
    client: TestClient, factories: dict[str, Any], auth_headers: dict[str, str]
) -> None:
    victim = factories["User"].create(name="Victim")
    response = client.put(f"/users/{victim.id}", json={"name": "Owned"}, headers=auth_headers)
    assert response.status_code == 403
    assert client.get(f"/users/{victim.id}").json()["name"] == "Victim"


def test_delete_another_user_is_403(
    client: TestClient, factories: dict[str, Any], auth_headers: dict[str, str]
) -> None:
    victim = factories["User"].create()
    assert client.delete(f"/users/{victim.id}", headers=auth_headers).status_code == 403
    assert client.get(f"/users/{victim.id}").status_code == 200


def test_delete_user_without_token_is_401(client: TestClient, auth_user: User) -> None:
    assert client.delete(f"/users/{auth_user.id}").status_code == 401


def test_update_own_email_to_a_taken_one_is_400(
    client: TestClient, factories: dict[str, Any], auth_user: User, auth_headers: dict[str, str]
) -> None:
    other = factories["User"].create()
    response = client.put(
        f"/users/{auth_user.id}", json={"email": other.email.upper()}, headers=auth_headers
    )
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]


def test_update_is_partial(
    client: TestClient, auth_user: User, auth_headers: dict[str, str]
) -> None:
    email = auth_user.email
    response = client.put(f"/users/{auth_user.id}", json={"name": "Renamed"}, headers=auth_headers)
    assert response.status_code == 200
    assert response.json() == {**response.json(), "name": "Renamed", "email": email}


@pytest.fixture
def committing_client(engine: Engine, worker_resources: WorkerResources) -> Iterator[TestClient]:
    """Requests use the app's own sessions and commit for real, so two of them can race."""
    email = "race@example.com"
    test_client = TestClient(app)
    try:
        yield test_client
    finally:
        test_client.close()
        with engine.begin() as connection:
            connection.execute(delete(User).where(User.email == email))


def test_duplicate_email_race_gives_one_201_and_one_400(committing_client: TestClient) -> None:
    # Both requests insert at once: the database's unique constraint picks the loser.
    start = threading.Barrier(2)

    def create(name: str) -> int:
        start.wait(timeout=10)
        body = {"name": name, "email": "race@example.com"}
        return committing_client.post("/users", json=body).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        codes = sorted(pool.map(create, ["Racer One", "Racer Two"]))
    assert codes == [201, 400]
