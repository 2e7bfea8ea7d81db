"""A token belongs to one account: never to a later account that gets the same id."""

from __future__ import annotations

from typing import Any

import jwt
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.auth import create_access_token, create_refresh_token
from app.config import get_settings
from app.models import User
from app.timestamps import utc_now


def _register(client: TestClient, email: str) -> tuple[int, dict[str, str]]:
    body = {"name": "Holder", "email": email, "password": "long-enough-pw"}
    user_id = client.post("/auth/register", json=body).json()["id"]
    tokens = client.post("/auth/login", json={"email": email, "password": body["password"]})
    return user_id, tokens.json()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_deleted_accounts_id_is_never_given_to_the_next_account(client: TestClient) -> None:
    first_id, first_tokens = _register(client, "first@example.com")
    deleted = client.delete(f"/users/{first_id}", headers=_bearer(first_tokens["access_token"]))
    assert deleted.status_code == 204

    second_id, _ = _register(client, "second@example.com")
    assert second_id != first_id
    # The deleted account's tokens open nothing, the new account least of all.
    protected = client.get("/api/protected", headers=_bearer(first_tokens["access_token"]))
    assert protected.status_code == 401
    refreshed = client.post("/auth/refresh", json={"refresh_token": first_tokens["refresh_token"]})
    assert refreshed.status_code == 401


def test_tokens_of_an_account_do_not_open_a_later_account_with_the_same_id(
    client: TestClient, db_session: Session
) -> None:
    # What an id reuse would do (a restored backup, a hand-made row): a new account, old id.
    old = User(name="Old", email="old@example.com", created_at=utc_now())
    db_session.add(old)
    db_session.commit()
    old_id, access, refresh = old.id, create_access_token(old), create_refresh_token(old)
    db_session.delete(old)
    db_session.commit()
    db_session.add(User(id=old_id, name="New", email="new@example.com", created_at=utc_now()))
    db_session.commit()

    assert client.get("/api/protected", headers=_bearer(access)).status_code == 401
    assert client.post("/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    assert (
        client.put(f"/users/{old_id}", json={"name": "Taken"}, headers=_bearer(access)).status_code
        == 401
    )


def _token_with(claims: dict[str, Any]) -> str:
    settings = get_settings()
    payload = {"type": "access", "exp": int(utc_now().timestamp()) + 600, **claims}
    return jwt.encode(payload, settings.signing_secret, algorithm=settings.jwt_algorithm)


@pytest.mark.parametrize(
    "subject",
    [
        "abc",
        "\u00b2",
        "\u0661",
        "-1",
        "0",
        "01",
        "1.0",
        " 1",
        "99999999999999999999",
        "2147483648",
        "",
    ],
    ids=[
        "letters",
        "superscript-two",
        "arabic-indic-one",
        "negative",
        "zero",
        "leading-zero",
        "decimal",
        "space",
        "beyond-64-bits",
        "beyond-32-bits",
        "empty",
    ],
)
def test_a_token_whose_subject_is_not_a_user_id_is_401(
    client: TestClient, auth_user: User, subject: str
) -> None:
    token = _token_with({"sub": subject, "acct": auth_user.account_stamp})
    response = client.get("/api/protected", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["detail"].startswith("Invalid token")


def test_a_token_without_the_account_claim_is_401(client: TestClient, auth_user: User) -> None:
    token = _token_with({"sub": str(auth_user.id)})
    assert client.get("/api/protected", headers=_bearer(token)).status_code == 401
