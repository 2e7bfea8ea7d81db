"""The app as an ASGI callable whose lifespan does nothing, for in-process callers.

The worker's database is already a copy of the migrated template (inside a test's transaction,
the start-up migration would wait for SQLite's write lock), and the app's shutdown would
dispose of the worker's engine.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


def without_lifespan(app: ASGIApp) -> ASGIApp:
    """`app` for HTTP; startup and shutdown are acknowledged without running its lifespan."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped
