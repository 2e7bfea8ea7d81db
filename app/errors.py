"""Error answers: what each route documents, and 422s that never echo the input back."""

from __future__ import annotations

from typing import Any

from fastapi import Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from app.schemas import ErrorMessage

_MEANINGS = {
    status.HTTP_400_BAD_REQUEST: "The request conflicts with stored data (e.g. the email is taken)",
    status.HTTP_401_UNAUTHORIZED: "No valid access token (or wrong credentials)",
    status.HTTP_403_FORBIDDEN: "The token's user may not do this",
    status.HTTP_404_NOT_FOUND: "No such user or post",
    status.HTTP_413_CONTENT_TOO_LARGE: "The request body is larger than MAX_BODY_BYTES",
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
