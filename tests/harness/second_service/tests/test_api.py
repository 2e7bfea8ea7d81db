"""The API, started on the worker's database and Redis db."""

from __future__ import annotations

import uuid

import redis
from fastapi.testclient import TestClient
from notesvc.main import count_key


def new_notebook(client: TestClient) -> int:
    created = client.post("/notebooks", json={"title": f"notebook {uuid.uuid4()}"})
    assert created.status_code == 201, created.text
    return int(created.json()["id"])


def test_a_notebooks_count_is_cached_and_a_new_note_clears_it(
    client: TestClient, redis_client: redis.Redis
) -> None:
    notebook = new_notebook(client)
    assert client.post(f"/notebooks/{notebook}/notes", json={"body": "one"}).status_code == 201
    assert client.get(f"/notebooks/{notebook}/count").json() == {"count": 1, "cached": False}
    assert client.get(f"/notebooks/{notebook}/count").json() == {"count": 1, "cached": True}
    assert redis_client.get(count_key(notebook)) == b"1"  # the worker's own Redis db
    assert client.post(f"/notebooks/{notebook}/notes", json={"body": "two"}).status_code == 201
    assert client.get(f"/notebooks/{notebook}/count").json() == {"count": 2, "cached": False}


def test_a_title_is_taken_once(client: TestClient) -> None:
    title = f"notebook {uuid.uuid4()}"
    assert client.post("/notebooks", json={"title": title}).status_code == 201
    again = client.post("/notebooks", json={"title": title})
    assert again.status_code == 409
    assert "already" in again.json()["detail"]


def test_a_note_needs_its_notebook(client: TestClient) -> None:
    assert client.post("/notebooks/999999/notes", json={"body": "lost"}).status_code == 404
