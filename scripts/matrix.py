"""Reading and checking `matrix.toml`, and expanding it into cells."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scripts.results import Role

Strategy = Literal["axis", "product", "pairwise"]

DATABASE_BACKENDS = ("postgres", "mysql", "mariadb", "sqlite")
CACHE_BACKENDS = ("redis", "valkey")


@dataclass(frozen=True)
class ImageSource:
    image: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class BinariesSource:
    paths: tuple[Path, ...] = ()
    npm: str | None = None
    pip: str | None = None
    apt: str | None = None
    kind: Literal["binaries"] = "binaries"


@dataclass(frozen=True)
class UrlSource:
    url: str  # as written; `$VARS` are expanded when the provider is checked
    kind: Literal["url"] = "url"


@dataclass(frozen=True)
class LibrarySource:
    module: str  # DB-API module, e.g. "sqlite3" or "pysqlite3.dbapi2"
    pip: str | None = None
    kind: Literal["library"] = "library"


Source = ImageSource | BinariesSource | UrlSource | LibrarySource


@dataclass(frozen=True)
class VersionSpec:
    """One version of one backend, with its sources in order of preference."""

    role: Role
    backend: str
    version: str
    sources: tuple[Source, ...]

    @property
    def id(self) -> str:
        return f"{self.backend}-{self.version}"
