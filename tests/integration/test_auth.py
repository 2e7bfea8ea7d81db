"""Authentication: passwords, login, refresh, and what /api/protected refuses."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth import create_refresh_token, hash_password, verify_password
from app.config import get_settings
from app.models import User
from app.timestamps import utc_now
from tests.support.fixtures import AUTH_USER_PASSWORD


def _signed(payload: dict[str, Any], secret: str | None = None) -> str:
    settings = get_settings()
    return jwt.encode(payload, secret or settings.signing_secret, algorithm=settings.jwt_algorithm)


@pytest.fixture
def expired_token(auth_user: User) -> str:
    """An access token of a real user that expired an hour ago."""
    past = utc_now() - timedelta(hours=2)
    claims = {"sub": str(auth_user.id), "acct": auth_user.account_stamp, "type": "access"}
    return _signed({**claims, "iat": past, "exp": past + timedelta(hours=1)})


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_protected_endpoint_with_valid_token(
    client: TestClient, auth_token: str, auth_user: User
) -> None:
    # The seed's token named no real user; ours belongs to `auth_user`.
    response = client.get("/api/protected", headers=_bearer(auth_token))
    assert response.status_code == 200
    assert response.json()["subject"] == str(auth_user.id)


def test_protected_endpoint_without_token(client: TestClient) -> None:
    response = client.get("/api/protected")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_protected_endpoint_with_expired_token(client: TestClient, expired_token: str) -> None:
    response = client.get("/api/protected", headers=_bearer(expired_token))
    assert response.status_code == 401
    assert "expired" in response.json()["detail"].lower()


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = str(int(claims["sub"]) + 1)
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def _unsigned(auth_user_id: int) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    exp = int((utc_now() + timedelta(hours=1)).timestamp())
    claims = {"sub": str(auth_user_id), "type": "access", "exp": exp}
    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.mark.parametrize(
    "attack", ["bad-signature", "alg-none", "refresh-as-access", "other-secret", "garbage"]
)
def test_protected_endpoint_refuses_forged_tokens(
    client: TestClient, auth_user: User, auth_token: str, attack: str
) -> None:
    in_an_hour = utc_now() + timedelta(hours=1)
    tokens = {
        "bad-signature": _tampered(auth_token),
        "alg-none": _unsigned(auth_user.id),
        "refresh-as-access": create_refresh_token(auth_user),
        "other-secret": _signed(
            {"sub": str(auth_user.id), "type": "access", "exp": in_an_hour},
            secret="another-secret-that-is-long-enough-for-hs256-0123456789",
        ),
        "garbage": "not.a.jwt",
    }
    response = client.get("/api/protected", headers=_bearer(tokens[attack]))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def test_token_of_a_deleted_user_is_refused(
    client: TestClient, db_session: Session, auth_user: User, auth_token: str
) -> None:
    db_session.delete(auth_user)
    db_session.flush()
    assert client.get("/api/protected", headers=_bearer(auth_token)).status_code == 401


def test_login_flow(client: TestClient, db_session: Session) -> None:
    user = User(
        name="LoginUser", email="login@example.com", password_hash=hash_password("password123")
    )
    db_session.add(user)
    db_session.commit()

    response = client.post(
        "/auth/login", json={"email": "login@example.com", "password": "password123"}
    )
    assert response.status_code == 200
    data = response.json()
    assert data["token_type"] == "bearer"
    assert "refresh_token" in data

    protected = client.get("/api/protected", headers=_bearer(data["access_token"]))
    assert protected.status_code == 200
    assert protected.json()["email"] == "login@example.com"


def test_login_email_is_case_insensitive(client: TestClient, auth_user: User) -> None:
    body = {"email": auth_user.email.upper(), "password": AUTH_USER_PASSWORD}
    assert client.post("/auth/login", json=body).status_code == 200


def test_wrong_password_and_unknown_email_get_the_same_401(
    client: TestClient, auth_user: User
) -> None:
    wrong_password = client.post(
        "/auth/login", json={"email": auth_user.email, "password": "not-the-password"}
    )
    unknown_email = client.post(
        "/auth/login", json={"email": "nobody@example.com", "password": AUTH_USER_PASSWORD}
    )
    assert wrong_password.status_code == unknown_email.status_code == 401
    assert wrong_password.json() == unknown_email.json()


def test_user_without_password_cannot_log_in(client: TestClient) -> None:
    client.post("/users", json={"name": "NoPass", "email": "nopass@example.com"})
    response = client.post("/auth/login", json={"email": "nopass@example.com", "password": "x"})
    assert response.status_code == 401


def test_refresh_gives_a_working_access_token(client: TestClient, auth_user: User) -> None:
    tokens = client.post(
        "/auth/login", json={"email": auth_user.email, "password": AUTH_USER_PASSWORD}
    ).json()
    response = client.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 200
    access = response.json()["access_token"]
    assert client.get("/api/protected", headers=_bearer(access)).status_code == 200


def test_refresh_refuses_an_access_token(client: TestClient, auth_token: str) -> None:
    response = client.post("/auth/refresh", json={"refresh_token": auth_token})
    assert response.status_code == 401


def test_register_never_returns_the_hash(client: TestClient, db_session: Session) -> None:
    body = {"name": "Reg", "email": "reg@example.com", "password": "long-enough-pw"}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 201
    assert set(response.json()) == {"id", "name", "email", "created_at"}
    stored = db_session.get(User, response.json()["id"])
    assert stored is not None
    assert stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2")
    assert verify_password("long-enough-pw", stored.password_hash)


def test_register_rejects_short_passwords(client: TestClient) -> None:
    body = {"name": "Short", "email": "short@example.com", "password": "1234567"}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"][-1] == "password"


def test_register_duplicate_email_is_400(client: TestClient, auth_user: User) -> None:
    body = {"name": "Dup", "email": auth_user.email, "password": "long-enough-pw"}
    response = client.post("/auth/register", json=body)
    assert response.status_code == 400
    assert "already exists" in response.json()["detail"]
