"""The Redis read-through cache of GET /users/{id}."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from app.cache import UserCache, get_user_cache, redis_client_for
from app.main import app
from app.models import User


def test_cache_user_data(redis_client: redis.Redis, client: TestClient) -> None:
    response = client.post("/users", json={"name": "CachedUser", "email": "cached@example.com"})
    user_id = response.json()["id"]

    first = client.get(f"/users/{user_id}")
    assert first.status_code == 200
    assert first.headers.get("X-Cache") == "MISS"
    second = client.get(f"/users/{user_id}")
    assert second.status_code == 200
    assert second.headers.get("X-Cache") == "HIT"
    assert first.json() == second.json()
    assert redis_client.exists(UserCache.key(user_id)) == 1
    assert 0 < int(redis_client.ttl(UserCache.key(user_id))) <= 300


def test_cache_invalidation(
    redis_client: redis.Redis, client: TestClient, auth_user: User, auth_headers: dict[str, str]
) -> None:
    # The seed updated without credentials; updating requires the user's own token.
    client.get(f"/users/{auth_user.id}")
    assert client.get(f"/users/{auth_user.id}").headers["X-Cache"] == "HIT"

    update = client.put(f"/users/{auth_user.id}", json={"name": "Updated"}, headers=auth_headers)
    assert update.status_code == 200

    response = client.get(f"/users/{auth_user.id}")
    assert response.headers.get("X-Cache") == "MISS"
    assert response.json()["name"] == "Updated"


def test_cache_invalidation_on_delete(
    client: TestClient, auth_user: User, auth_headers: dict[str, str]
) -> None:
    client.get(f"/users/{auth_user.id}")
    assert client.delete(f"/users/{auth_user.id}", headers=auth_headers).status_code == 204
    assert client.get(f"/users/{auth_user.id}").status_code == 404


def test_unknown_user_is_not_cached(redis_client: redis.Redis, client: TestClient) -> None:
    assert client.get("/users/424242").status_code == 404
    assert redis_client.exists(UserCache.key(424242)) == 0


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def unreachable_cache() -> Iterator[None]:
    """The app's cache points at a port where no Redis listens."""
    dead = redis_client_for(f"redis://127.0.0.1:{_closed_port()}/0", timeout_seconds=0.2)
    app.dependency_overrides[get_user_cache] = lambda: UserCache(dead, 60)
    try:
        yield
    finally:
        app.dependency_overrides.pop(get_user_cache, None)
        dead.close()


def test_unreachable_redis_serves_from_the_database(
    client: TestClient, auth_user: User, auth_headers: dict[str, str], unreachable_cache: None
) -> None:
    response = client.get(f"/users/{auth_user.id}")
    assert response.status_code == 200
    assert response.headers["X-Cache"] == "BYPASS"
    assert response.json()["email"] == auth_user.email

    update = client.put(f"/users/{auth_user.id}", json={"name": "Still"}, headers=auth_headers)
    assert update.status_code == 200
    assert client.get("/users/999999").status_code == 404
