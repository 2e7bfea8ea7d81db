"""Input that looks valid to a lenient parser: ids in odd forms, deep JSON, invisible names."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import app
from app.models import User
from app.request_body import MAX_JSON_DEPTH

# Each is read as a number by int(): "+5" as 5, "1_0" as 10, "1.0" as 1, U+0665 (Arabic-Indic) as 5.
ODD_IDS = ["+5", "%205", "5%20", "1_0", "1.0", "05.0", "%D9%A5", "0x5", "5e0"]
ID_ROUTES = [
    "GET /users/{id}",
    "GET /users/{id}/posts",
    "PUT /users/{id}",
    "DELETE /users/{id}",
    "GET /posts/{id}",
    "PUT /posts/{id}",
    "DELETE /posts/{id}",
]


@pytest.mark.parametrize("odd", ODD_IDS)
@pytest.mark.parametrize("route", ID_ROUTES)
def test_an_id_that_is_not_plain_ascii_digits_is_422(
    client: TestClient, auth_headers: dict[str, str], route: str, odd: str
) -> None:
    method, path = route.split(" ")
    body = {"title": "T"} if method == "PUT" else None
    response = client.request(method, path.replace("{id}", odd), json=body, headers=auth_headers)
    assert response.status_code == 422, response.text
    assert "ASCII digits" in response.json()["detail"][0]["msg"]


def test_a_plain_id_still_finds_its_user(client: TestClient, auth_user: User) -> None:
    assert client.get(f"/users/{auth_user.id}").json()["id"] == auth_user.id


def _nested(depth: int) -> bytes:
    return b'{"email": ' + b"[" * depth + b"]" * depth + b', "password": "x"}'


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_deeply_nested_json_is_422_json_invalid(client: TestClient, depth: int) -> None:
    response = client.post(
        "/auth/login", content=_nested(depth), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    (error,) = response.json()["detail"]
    assert error["type"] == "json_invalid"
    assert f"deeper than {MAX_JSON_DEPTH}" in error["msg"]


def test_json_within_the_nesting_limit_is_read(client: TestClient) -> None:
    # The field is the wrong type, but the document was parsed: a field error, not json_invalid
    response = client.post(
        "/auth/login",
        content=_nested(MAX_JSON_DEPTH - 1),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "email"]


def _name_pattern() -> str:
    schema: dict[str, Any] = app.openapi()["components"]["schemas"]["UserCreate"]
    return str(schema["properties"]["name"]["pattern"])


INVISIBLE_OR_LINE_BREAKING = {
    "only a zero-width space": "\u200b",
    "zero-width spaces around spaces": "\u200b \u200b",
    "a zero-width space inside": "Ad\u200bmin",
    "a left-to-right mark": "Ann\u200e",
    "a right-to-left mark": "\u200fAnn",
    "a line separator inside": "Ann\u2028Lee",
    "a paragraph separator inside": "Ann\u2029Lee",
    "a trailing line separator": "Ann\u2028",
    "a byte order mark": "\ufeffAnn",
    "a word joiner": "An\u2060n",
    "a soft hyphen": "An\xadn",
}


@pytest.mark.parametrize(
    "name", INVISIBLE_OR_LINE_BREAKING.values(), ids=INVISIBLE_OR_LINE_BREAKING.keys()
)
def test_format_and_separator_characters_are_refused_in_names(
    client: TestClient, auth_user: User, auth_headers: dict[str, str], name: str
) -> None:
    assert not re.search(_name_pattern(), name)
    created = client.post("/users", json={"name": name, "email": "inv@example.com"})
    assert created.status_code == 422, created.text
    assert re.search(r"U\+[0-9A-F]{4}", created.json()["detail"][0]["msg"])
    renamed = client.put(f"/users/{auth_user.id}", json={"name": name}, headers=auth_headers)
    assert renamed.status_code == 422
    post = client.post("/posts", json={"title": name, "content": "x"}, headers=auth_headers)
    assert post.status_code == 422


JOINED = {
    "a family emoji (zero-width joiners)": "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "Persian with a zero-width non-joiner": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
}


@pytest.mark.parametrize("name", JOINED.values(), ids=JOINED.keys())
def test_joiners_that_scripts_and_emoji_need_are_accepted(client: TestClient, name: str) -> None:
    assert re.search(_name_pattern(), name)
    created = client.post("/users", json={"name": name, "email": "joined@example.com"})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == name
