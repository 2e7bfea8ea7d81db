"""Error answers: what each route documents, and 422s that never echo the input back."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.schemas import ErrorMessage

_MEANINGS = {
    status.HTTP_400_BAD_REQUEST: "The request conflicts with stored data (e.g. the email is taken)",
    status.HTTP_401_UNAUTHORIZED: "No valid access token (or wrong credentials)",
    status.HTTP_403_FORBIDDEN: "The token's user may not do this",
    status.HTTP_404_NOT_FOUND: "No such user or post",
    status.HTTP_408_REQUEST_TIMEOUT: (
        "The request body did not fully arrive within BODY_READ_TIMEOUT_SECONDS"
    ),
    status.HTTP_413_CONTENT_TOO_LARGE: "The request body is larger than MAX_BODY_BYTES",
    status.HTTP_429_TOO_MANY_REQUESTS: (
        "Too many passwords are being checked at once: retry after the Retry-After seconds"
    ),
}


def documented(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` of a route that can answer `codes` (422 FastAPI documents itself)."""
    return {code: {"model": ErrorMessage, "description": _MEANINGS[code]} for code in codes}


def _shown(error: Any) -> dict[str, Any]:
    """Where and what, never the value: no passwords echoed, no megabytes sent back."""
    message = str(error.get("msg", "invalid"))
    context = error.get("ctx") or {}
    if error.get("type") == "json_invalid" and "error" in context:
        message = f"{message}: {context['error']}"
    return {"type": str(error.get("type")), "loc": list(error.get("loc", ())), "msg": message}


async def validation_error(_request: Request, error: Exception) -> JSONResponse:
    """422 listing each problem's location, type and message, without the input."""
    assert isinstance(error, RequestValidationError)
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": [_shown(item) for item in error.errors()]},
    )


def _template_pattern(template: str) -> re.Pattern[str]:
    """`/users/{user_id}` → a regex matching `/users/<one segment>`, as the router does."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    )


async def method_not_allowed(request: Request, error: Exception) -> JSONResponse:
    """405 whose Allow header names every documented method of the path, not only those of
    the first route the router tried (GET /users/{id} and PUT /users/{id} are two routes)."""
    assert isinstance(error, HTTPException)
    allowed: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if _template_pattern(template).fullmatch(request.url.path):
            allowed.update(method.upper() for method in operations)
    if "GET" in allowed:
        allowed.add("HEAD")  # the router answers HEAD wherever it answers GET
    return JSONResponse(
        status_code=status.HTTP_405_METHOD_NOT_ALLOWED,
        content={"detail": str(error.detail)},
        headers={"Allow": ", ".join(sorted(allowed))},
    )
