"""Request bodies: a size limit applied before anything is parsed, and strict JSON.

`json.loads` takes NaN, Infinity and lone surrogates ("\\ud800"), none of which is JSON text
(RFC 8259) and none of which the service could store or send back: they are refused as a JSON
error (422) like any other malformed body. So is a document nested deeper than
MAX_JSON_DEPTH (no body of this API nests more than 2 levels; 1,000 levels would exhaust the
parser's recursion).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import get_settings

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_JSON_DEPTH = 32


class BodyTooLargeError(Exception):
    """The body is over the limit."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class BodySizeLimit:
    """ASGI middleware: a body over MAX_BODY_BYTES gets 413 before the app reads any of it,
    and one that has not fully arrived within BODY_READ_TIMEOUT_SECONDS gets 408.

    A declared Content-Length over the limit is refused at once; a body sent without one
    (chunked) is read up to the limit, then handed on whole. A client that sends less than
    its Content-Length (or stops half-way) is answered 408 and the connection closed.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = get_settings()
        limit = settings.max_body_bytes
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _too_large(limit, send)
            return
        try:
            with anyio.fail_after(settings.body_read_timeout_seconds):
                messages = await _read_within(receive, limit)
        except BodyTooLargeError:
            await _too_large(limit, send)
            return
        except TimeoutError:
            await _refuse(408, _TOO_SLOW.format(settings.body_read_timeout_seconds), send)
            return
        await self.app(scope, _replay(messages, receive), send)


async def _read_within(receive: Receive, limit: int) -> list[Message]:
    """Every body message of the request; raises BodyTooLargeError past `limit` bytes."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages  # the client went away: the app sees that too
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLargeError
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()  # after the body: wait for the disconnect, as usual

    return replayed


_TOO_SLOW = (
    "The request body did not arrive within {} s (BODY_READ_TIMEOUT_SECONDS): send the whole "
    "body that Content-Length announces"
)


async def _too_large(limit: int, send: Send) -> None:
    detail = f"Request body too large: send at most {limit} bytes (MAX_BODY_BYTES)"
    await _refuse(413, detail, send)


async def _refuse(status: int, detail: str, send: Send) -> None:
    """Answer `status` with `detail` and close the connection (the body was not all read)."""
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text[:20]} is too large a number")
    return number


def _check_strings_and_depth(document: Any, text: str) -> None:
    """Raises json.JSONDecodeError for a lone surrogate or nesting beyond MAX_JSON_DEPTH."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                raise json.JSONDecodeError(
                    "a lone surrogate (\\ud800-\\udfff) is not text", text, 0
                )
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise _too_deep(text)
            children = [*item.keys(), *item.values()] if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def _too_deep(text: str) -> json.JSONDecodeError:
    return json.JSONDecodeError(f"nested deeper than {MAX_JSON_DEPTH} arrays or objects", text, 0)


def strict_json(body: bytes) -> Any:
    """UTF-8 JSON text without NaN, Infinity or lone surrogates, nested at most MAX_JSON_DEPTH
    levels; json.JSONDecodeError otherwise."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise json.JSONDecodeError(
            "the body is not UTF-8 (JSON text is)", "", error.start
        ) from None
    try:
        document = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite)
    except ValueError as error:
        if isinstance(error, json.JSONDecodeError):
            raise
        raise json.JSONDecodeError(str(error), text, 0) from None
    except RecursionError:  # deeper than the parser can go: far beyond the limit
        raise _too_deep(text) from None
    _check_strings_and_depth(document, text)
    return document


class StrictJSONRequest(Request):
    """A request whose JSON body is parsed by `strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """The routers' route class: request bodies are strict JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
