"""The words every layer of the harness shares; this module imports nothing from `scripts`.

    Role           "database" | "cache": the two axes of the matrix
    SourceKind     "image" | "binaries" | "url" | "library": where a server comes from
    Program        a server program found on this machine, with its version
    SERVICE_UID    the uid of a server's own account inside the images we build

A cell id names the versions a cell varies, joined by `+`: `postgres-16`, `redis-7.2`,
`postgres-16+valkey-8`. `cell_id` builds one and `cell_id_parts` reads one back; nothing
else splits or joins cell ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

Role = Literal["database", "cache"]
ROLES: tuple[Role, ...] = get_args(Role)

SourceKind = Literal["image", "binaries", "url", "library"]

SERVICE_UID = 999
"""The server's own account (as in the official images) in the images this project builds."""

_VERSION_JOIN = "-"
_CELL_JOIN = "+"


@dataclass(frozen=True)
class Program:
    """A server program found on this machine, with the version its `--version` printed."""

    path: Path
    version: str


class CellIdError(ValueError):
    """Text that does not read as a cell id."""


def version_id(backend: str, version: str) -> str:
    """`postgres`, `16` -> `postgres-16`: one version of one backend, a part of a cell id."""
    return f"{backend}{_VERSION_JOIN}{version}"


def cell_id(parts: Iterable[tuple[str, str]]) -> str:
    """The cell id of the (backend, version) pairs a cell varies: `postgres-16+valkey-8`."""
    return _CELL_JOIN.join(version_id(backend, version) for backend, version in parts)


def cell_id_parts(text: str) -> tuple[tuple[str, str], ...]:
    """`postgres-16+valkey-8` -> (("postgres", "16"), ("valkey", "8")).

    A backend name holds no `-`; the version is everything after the first one.
    `CellIdError` when a part has no backend or no version.
    """
    parts: list[tuple[str, str]] = []
    for part in text.split(_CELL_JOIN):
        backend, dash, version = part.partition(_VERSION_JOIN)
        if not (backend and dash and version):
            raise CellIdError(f"{text!r} is not a cell id: {part!r} is not <backend>-<version>")
        parts.append((backend, version))
    return tuple(parts)
