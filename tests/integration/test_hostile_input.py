"""What no client may break: non-JSON numbers, lone surrogates, huge or short bodies, huge ids."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from app.config import get_settings
from app.models import User
from tests.support.live_server import live_app_server

SECRET = "do-not-echo-this-password"

# Every body the API takes, with a valid value per field.
BODIES: dict[str, dict[str, str]] = {
    "POST /users": {"name": "Ann", "email": "ann@example.com"},
    "PUT /users/{me}": {"name": "Ann", "email": "ann@example.com"},
    "POST /auth/register": {"name": "Ann", "email": "ann@example.com", "password": SECRET},
    "POST /auth/login": {"email": "ann@example.com", "password": SECRET},
    "POST /auth/refresh": {"refresh_token": "x.y.z"},
    "POST /posts": {"title": "T", "content": "C"},
}
NOT_JSON_TEXT = ["NaN", "Infinity", "-Infinity", '"\\ud800"', '"a\\udfffb"', "1e999"]
FIELDS = [(route, field) for route, body in BODIES.items() for field in body]


def _send(
    client: TestClient, route: str, raw: bytes, user: User, headers: dict[str, str]
) -> httpx.Response:
    method, path = route.split(" ")
    return client.request(
        method,
        path.replace("{me}", str(user.id)),
        content=raw,
        headers={**headers, "Content-Type": "application/json"},
    )


@pytest.mark.parametrize("value", NOT_JSON_TEXT)
@pytest.mark.parametrize(("route", "field"), FIELDS, ids=[f"{r} {f}" for r, f in FIELDS])
def test_nan_infinity_and_lone_surrogates_in_any_field_are_422(
    client: TestClient,
    auth_user: User,
    auth_headers: dict[str, str],
    route: str,
    field: str,
    value: str,
) -> None:
    values = {name: json.dumps(valid) for name, valid in BODIES[route].items()}
    values[field] = value  # raw JSON text: json.dumps would refuse to write it
    raw = ("{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in values.items()) + "}").encode()
    response = _send(client, route, raw, auth_user, auth_headers)
    assert response.status_code == 422, response.text
    assert SECRET not in response.text


def test_validation_errors_say_where_and_what_but_never_echo_the_input(
    client: TestClient,
) -> None:
    response = client.post("/auth/login", json={"email": "not-an-email", "password": SECRET})
    assert response.status_code == 422
    assert SECRET not in response.text
    assert "not-an-email" not in response.text
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", "email"]
    assert set(error) == {"type", "loc", "msg"}


def test_a_rejected_long_value_is_not_sent_back(client: TestClient) -> None:
    response = client.post("/users", json={"name": "N" * 500_000, "email": "n@example.com"})
    assert response.status_code == 422
    assert len(response.content) < 1000


@pytest.fixture
def small_body_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    """MAX_BODY_BYTES set to 2 KiB for the test."""
    monkeypatch.setattr(get_settings(), "max_body_bytes", 2048)
    return 2048


def test_a_body_over_the_limit_is_413_before_it_is_read(client: TestClient) -> None:
    body = b'{"name": "' + b"x" * 10_000_000 + b'", "email": "big@example.com"}'
    response = client.post("/users", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert "MAX_BODY_BYTES" in response.json()["detail"]


def test_the_body_limit_is_a_setting(client: TestClient, small_body_limit: int) -> None:
    name = "x" * 90
    fits = client.post("/users", json={"name": name, "email": "fits@example.com"})
    assert fits.status_code == 201
    over = client.post("/users", json={"name": "x" * small_body_limit, "email": "o@example.com"})
    assert over.status_code == 413


def test_a_chunked_body_over_the_limit_is_413(client: TestClient, small_body_limit: int) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 1024
        yield b'", "email": "chunked@example.com"}'

    response = client.post("/users", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


HUGE_IDS = ["9223372036854775808", "9223372036854775807", "2147483648", "0", "-1", "1" * 40]


@pytest.mark.parametrize("huge", HUGE_IDS)
@pytest.mark.parametrize(
    "route",
    [
        "GET /users/{id}",
        "GET /users/{id}/posts",
        "GET /posts/{id}",
        "PUT /posts/{id}",
        "DELETE /posts/{id}",
        "PUT /users/{id}",
        "DELETE /users/{id}",
    ],
)
def test_out_of_range_ids_are_404_or_422_never_500(
    client: TestClient, auth_headers: dict[str, str], route: str, huge: str
) -> None:
    method, path = route.split(" ")
    body = {"title": "T"} if method == "PUT" else None
    response = client.request(method, path.replace("{id}", huge), json=body, headers=auth_headers)
    assert response.status_code in (404, 422)


def test_a_body_that_is_not_utf8_is_422(client: TestClient) -> None:
    response = client.post(
        "/auth/login", content=b"\xff\xfe{}", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


@pytest.fixture
def short_body_read_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    """BODY_READ_TIMEOUT_SECONDS set to 0.5 s for the test."""
    monkeypatch.setattr(get_settings(), "body_read_timeout_seconds", 0.5)
    return 0.5


def test_a_body_shorter_than_its_content_length_is_408_and_the_connection_closed(
    short_body_read_timeout: float,
) -> None:
    request = (
        b"POST /users HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 100\r\n\r\n" + b'{"name": "Slow"'
    )
    with live_app_server() as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as connection:
            # Before, the server waited for the rest of the body for ever.
            connection.settimeout(10 * short_body_read_timeout)
            started = time.monotonic()
            connection.sendall(request)
            answer = b""
            while chunk := connection.recv(65536):  # until the server closes the connection
                answer += chunk
            waited = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
    assert b"BODY_READ_TIMEOUT_SECONDS" in answer
    assert short_body_read_timeout <= waited < 4 * short_body_read_timeout
