"""The OpenAPI document as the running configuration makes it true."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.config import get_settings

# Routes that read a token when one is sent but do not need one, whatever the settings.
_ALWAYS_OPTIONAL = {("/users/{user_id}", "get")}
_OPEN_USER_CREATION = ("/users", "post")


def _optional_auth(operation: dict[str, Any]) -> None:
    """Say that the operation works without credentials too (an empty requirement)."""
    security = operation.setdefault("security", [])
    if {} not in security:
        security.insert(0, {})


def build_openapi(app: FastAPI, private_users: bool) -> dict[str, Any]:
    """The schema of `app`; POST /users needs a token only when `private_users` is on."""
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    optional = set(_ALWAYS_OPTIONAL)
    if not private_users:
        optional.add(_OPEN_USER_CREATION)
    for path, method in optional:
        _optional_auth(document["paths"][path][method])
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve `build_openapi` for the settings of the moment (built once per setting)."""
    built: dict[bool, dict[str, Any]] = {}

    def openapi() -> dict[str, Any]:
        private_users = get_settings().private_users
        if private_users not in built:
            built[private_users] = build_openapi(app, private_users)
        return built[private_users]

    app.openapi = openapi  # type: ignore[method-assign]
