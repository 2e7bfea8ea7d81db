"""The backends the matrix knows, one module each, by name.

    backend("postgres").display_name            # "PostgreSQL"
    server_backend("mysql").command(...)         # what the binaries source runs

Adding a backend is one module holding a `Backend` subclass (a `ServerBackend` when it runs
as a server), listed in `BACKENDS` below, plus its versions in `matrix.toml`.

URL contract (what the suite connects with):
    postgres        postgresql+psycopg2://postgres:PASSWORD@127.0.0.1:PORT/postgres
    mysql, mariadb  mysql+pymysql://root:PASSWORD@127.0.0.1:PORT/mysql
    redis, valkey   redis://:PASSWORD@127.0.0.1:PORT/0
    sqlite          sqlite://   with env SQLITE_MODULE=<DB-API module>
(binaries sources: a new password for every start; image sources: the container's password;
url sources are used as given.)
"""

from __future__ import annotations

from types import MappingProxyType

from scripts.backends import mariadb, mysql, postgres, redis, sqlite, valkey
from scripts.backends.base import (
    Backend,
    ImageContract,
    NotAnsweringError,
    ServerBackend,
)

__all__ = [
    "BACKENDS",
    "CACHE_BACKENDS",
    "DATABASE_BACKENDS",
    "Backend",
    "ImageContract",
    "NotAnsweringError",
    "ServerBackend",
    "UnknownBackendError",
    "backend",
    "display_name",
    "server_backend",
]

BACKENDS: MappingProxyType[str, Backend] = MappingProxyType(
    {
        module.BACKEND.name: module.BACKEND
        for module in (postgres, mysql, mariadb, sqlite, redis, valkey)
    }
)
"""Every backend, in the order reports list them."""
DATABASE_BACKENDS = tuple(name for name, b in BACKENDS.items() if b.role == "database")
CACHE_BACKENDS = tuple(name for name, b in BACKENDS.items() if b.role == "cache")


class UnknownBackendError(LookupError):
    """A backend name no module describes, or a server question asked of a library backend."""


def backend(name: str) -> Backend:
    try:
        return BACKENDS[name]
    except KeyError:
        known = ", ".join(BACKENDS)
        raise UnknownBackendError(f"unknown backend {name!r}; known: {known}") from None


def server_backend(name: str) -> ServerBackend:
    """The backend `name` when it runs as a server; `UnknownBackendError` otherwise."""
    found = backend(name)
    if not isinstance(found, ServerBackend):
        raise UnknownBackendError(f"{found.display_name} is a library, not a server")
    return found


def display_name(name: str) -> str:
    """`PostgreSQL` for `postgres`; an unknown name as it is."""
    known = BACKENDS.get(name)
    return known.display_name if known is not None else name
