"""The OpenAPI schema says what the service does: its answers, and the input it takes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.models import User

# (method, path): the error answers each route can give, besides 422.
ERROR_ANSWERS = {
    ("post", "/users"): {400, 413},
    ("get", "/users/{user_id}"): {404},
    ("put", "/users/{user_id}"): {400, 401, 403, 413},
    ("delete", "/users/{user_id}"): {401, 403},
    ("get", "/users/{user_id}/posts"): {404},
    ("post", "/posts"): {401, 413},
    ("get", "/posts/{post_id}"): {404},
    ("put", "/posts/{post_id}"): {401, 403, 404, 413},
    ("delete", "/posts/{post_id}"): {401, 403, 404},
    ("post", "/auth/register"): {400, 413, 429},
    ("post", "/auth/login"): {401, 413, 429},
    ("post", "/auth/refresh"): {401, 413},
    ("get", "/api/protected"): {401},
}


def _schema() -> dict[str, Any]:
    return app.openapi()


@pytest.mark.parametrize(("method", "path"), sorted(ERROR_ANSWERS))
def test_each_route_documents_its_error_answers(method: str, path: str) -> None:
    documented = {int(code) for code in _schema()["paths"][path][method]["responses"]}
    assert ERROR_ANSWERS[(method, path)] <= documented


def _property(model: str, name: str) -> dict[str, Any]:
    schema = _schema()["components"]["schemas"][model]["properties"][name]
    return next((option for option in schema.get("anyOf", [schema]) if "type" in option), schema)


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("name", True),
        ("Ann Lee", True),
        ("  padded  ", True),
        ("Bo\x00b", False),
        ("Bob\nSmith", False),
        ("   ", False),
        ("evil\u202eexe.txt", False),
        ("\u2066x", False),
    ],
)
def test_the_name_pattern_is_what_the_service_enforces(
    client: TestClient, name: str, valid: bool
) -> None:
    pattern = _property("UserCreate", "name")["pattern"]
    assert bool(re.search(pattern, name)) is valid
    response = client.post("/users", json={"name": name, "email": "pattern@example.com"})
    assert response.status_code == (201 if valid else 422)


def test_a_right_to_left_override_in_a_name_is_refused(
    client: TestClient, auth_user: User, auth_headers: dict[str, str]
) -> None:
    spoof = "Admin\u202etxt.exe"
    assert client.post("/users", json={"name": spoof, "email": "s@example.com"}).status_code == 422
    renamed = client.put(f"/users/{auth_user.id}", json={"name": spoof}, headers=auth_headers)
    assert renamed.status_code == 422
    assert "U+202E" in renamed.json()["detail"][0]["msg"]
    post = client.post("/posts", json={"title": spoof, "content": "x"}, headers=auth_headers)
    assert post.status_code == 422


@pytest.mark.parametrize(
    "email", ["someone@example.test", "a@b.example", "x@localhost.localdomain", "dev@corp.internal"]
)
def test_emails_at_special_use_domains_are_accepted_as_the_schema_says(
    client: TestClient, email: str
) -> None:
    assert _property("UserCreate", "email")["format"] == "email"
    response = client.post("/users", json={"name": "Tester", "email": email})
    assert response.status_code == 201, response.text


def test_fullwidth_email_forms_are_the_same_account(client: TestClient) -> None:
    fullwidth = "\uff41\uff4c\uff49\uff43\uff45@example.com"  # "alice" in fullwidth letters
    first = client.post("/users", json={"name": "Alice", "email": fullwidth})
    assert first.status_code == 201
    assert first.json()["email"] == "alice@example.com"
    second = client.post("/users", json={"name": "Alice", "email": "ALICE@example.com"})
    assert second.status_code == 400


def test_login_with_the_fullwidth_form_of_an_email_finds_the_account(
    client: TestClient,
) -> None:
    body = {"name": "Wide", "email": "wide@example.com", "password": "long-enough-pw"}
    assert client.post("/auth/register", json=body).status_code == 201
    login = {"email": "\uff57\uff49\uff44\uff45@example.com", "password": "long-enough-pw"}
    assert client.post("/auth/login", json=login).status_code == 200


def test_ids_are_documented_in_the_range_the_columns_hold() -> None:
    (parameter,) = _schema()["paths"]["/users/{user_id}"]["get"]["parameters"]
    assert parameter["schema"]["minimum"] == 1
    assert parameter["schema"]["maximum"] == 2**31 - 1


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("OPTIONS", "/users/1", "DELETE, GET, HEAD, PUT"),
        ("PATCH", "/posts/1", "DELETE, GET, HEAD, PUT"),
        ("DELETE", "/users", "POST"),
    ],
)
def test_a_405_names_every_method_of_the_path(
    client: TestClient, method: str, path: str, allowed: str
) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.headers["Allow"] == allowed
