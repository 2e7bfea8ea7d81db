"""The FastAPI application: `uvicorn app.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError

from app.cache import close_redis_clients
from app.config import get_settings
from app.database import dispose_engines, get_db, get_engine
from app.errors import method_not_allowed, validation_error
from app.openapi import install_openapi
from app.request_body import BodySizeLimit
from app.routers import auth, posts, protected, users
from app.schema import upgrade_to_head
from app.tasks import wait_for_publishing

SHUTDOWN_PUBLISH_WAIT_SECONDS = 5.0  # queued welcome emails get this long at shutdown

__all__ = ["app", "create_app", "get_db"]


class StartupError(RuntimeError):
    """The service cannot start; the message says why (no traceback of the library's)."""


def _start_up() -> None:
    """Read the settings and migrate the database to the newest revision, or stop with one
    line saying why."""
    try:
        get_settings()
    except ValidationError as error:
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in error.errors())
        raise StartupError(f"the service cannot start: {reasons}") from None
    try:
        upgrade_to_head(get_engine())
    except OperationalError as error:
        url = get_engine().url.render_as_string(hide_password=True)
        raise StartupError(
            f"the service cannot start: the database at DATABASE_URL {url!r} cannot be used: "
            f"{str(error.orig).strip().splitlines()[0]}"
        ) from None


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Check the settings, migrate the database; at shutdown, publish what is queued (within
    the broker's timeouts), then close connections."""
    _start_up()
    try:
        yield
    finally:
        wait_for_publishing(SHUTDOWN_PUBLISH_WAIT_SECONDS)
        dispose_engines()
        close_redis_clients()


def create_app() -> FastAPI:
    """A new application with every router mounted."""
    application = FastAPI(title="Users and posts", lifespan=lifespan)
    for module in (users, posts, auth, protected):
        application.include_router(module.router)
    application.add_exception_handler(RequestValidationError, validation_error)
    application.add_exception_handler(405, method_not_allowed)
    application.add_middleware(BodySizeLimit)
    install_openapi(application)
    return application


app = create_app()
