"""The FastAPI application: `uvicorn app.main:app`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.cache import close_redis_clients
from app.config import get_settings
from app.database import create_tables, dispose_engines, get_db, get_engine
from app.routers import auth, posts, protected, users

__all__ = ["app", "create_app", "get_db"]


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    """Check the settings, create missing tables; close connections at shutdown."""
    get_settings()  # fails fast, with a clear message, on missing JWT_SECRET
    create_tables(get_engine())
    try:
        yield
    finally:
        dispose_engines()
        close_redis_clients()


def create_app() -> FastAPI:
    """A new application with every router mounted."""
    application = FastAPI(title="Users and posts", lifespan=lifespan)
    for module in (users, posts, auth, protected):
        application.include_router(module.router)
    return application


app = create_app()
