"""The backends the matrix knows, one module each, by name.

    backend("postgres").display_name            # "PostgreSQL"
    server_backend("mysql").command(...)         # what the binaries source runs
    backend_for_url(url, "database")             # whose janitor the suite's fixtures use

Adding a backend is one module in this package holding a `Backend` subclass (a
`ServerBackend` when it runs as a server) as `BACKEND`, plus its versions in `matrix.toml`:
the modules are found here, not listed, and ordered by their `report_order`.

URL contract (what the suite connects with):
    postgres        postgresql+psycopg2://postgres:PASSWORD@127.0.0.1:PORT/postgres
    mysql, mariadb  mysql+pymysql://root:PASSWORD@127.0.0.1:PORT/mysql
    redis, valkey   redis://:PASSWORD@127.0.0.1:PORT/0
    sqlite          sqlite://   and the DB-API module's name ([suite] env.sqlite-module)
(binaries sources: a new password for every start; image sources: the container's password;
url sources are used as given.)
"""

from __future__ import annotations

import importlib
import pkgutil
from types import MappingProxyType

from scripts.backends.base import (
    Backend,
    ImageContract,
    LibraryBackend,
    NotAnsweringError,
    ServerBackend,
)
from scripts.vocabulary import Role

__all__ = [
    "BACKENDS",
    "CACHE_BACKENDS",
    "DATABASE_BACKENDS",
    "Backend",
    "ImageContract",
    "LibraryBackend",
    "NotAnsweringError",
    "ServerBackend",
    "UnknownBackendError",
    "backend",
    "backend_for_url",
    "display_name",
    "family",
    "server_backend",
]


def _discovered() -> list[Backend]:
    """Every module of this package that holds a `BACKEND`, in report order. Subpackages
    (`janitors`, which imports database drivers) are not backends and are not imported."""
    found: list[Backend] = []
    for module_info in pkgutil.iter_modules(__path__):
        if module_info.ispkg:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        described = getattr(module, "BACKEND", None)
        if isinstance(described, Backend):
            found.append(described)
    return sorted(found, key=lambda b: (b.report_order, b.name))


BACKENDS: MappingProxyType[str, Backend] = MappingProxyType(
    {described.name: described for described in _discovered()}
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


def family(name: str) -> str:
    """What `name` shares a protocol (and a per-worker layout) with; an unknown name is its own."""
    known = BACKENDS.get(name)
    return known.family if known is not None else name


def backend_for_url(url: str, role: Role) -> Backend:
    """The first backend of `role` whose URL schemes take `url` (its janitor serves them all)."""
    for candidate in BACKENDS.values():
        if candidate.role == role and candidate.accepts_url(url):
            return candidate
    raise UnknownBackendError(f"no {role} backend takes the URL scheme of {url.split(':')[0]!r}")
