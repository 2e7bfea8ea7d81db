"""The words every layer of the harness shares; this module imports nothing from `scripts`.

    Role           "database" | "cache": the two axes of the matrix
    SourceKind     "image" | "binaries" | "url" | "library": where a server comes from
    Strategy       "axis" | "product" | "pairwise": how the axes are combined into cells
    Program        a server program found on this machine, with its version
    SERVICE_UID    the uid of a server's own account inside the images we build

A cell id names what a cell varies, joined by `+`: server versions (`postgres-16`,
`redis-7.2`, `postgres-16+valkey-8`), stack values (`sqlalchemy-2.0`, or a named one:
`psycopg3`) and an interpreter (`py3.13`). A part is `<name>-<version>` or a bare `<name>`.
`cell_id` builds one and `cell_id_parts` reads one back; nothing else splits or joins cell ids.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

Role = Literal["database", "cache"]
ROLES: tuple[Role, ...] = get_args(Role)

SourceKind = Literal["image", "binaries", "url", "library"]

Strategy = Literal["axis", "product", "pairwise"]
STRATEGIES: tuple[Strategy, ...] = get_args(Strategy)
"""How the axes are combined into cells (matrix.toml's `strategy`, `--strategy`)."""

SERVICE_UID = 999
"""The server's own account (as in the official images) in the images this project builds."""

_VERSION_JOIN = "-"
_CELL_JOIN = "+"
_PYTHON_PREFIX = "py"
_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class Program:
    """A server program found on this machine, with the version its `--version` printed."""

    path: Path
    version: str


class CellIdError(ValueError):
    """Text that does not read as a cell id."""


def version_id(name: str, version: str) -> str:
    """`postgres`, `16` -> `postgres-16`: one version of one backend (or of one stack group),
    a part of a cell id; a bare name when there is no version (`psycopg3`, ``)."""
    return f"{name}{_VERSION_JOIN}{version}" if version else name


def python_id(version: str) -> str:
    """`3.13` -> `py3.13`: an interpreter, a part of a cell id."""
    return f"{_PYTHON_PREFIX}{version}"


def python_version_of(part: str) -> str | None:
    """`py3.13` -> `3.13`; None when the part names no interpreter."""
    version = part.removeprefix(_PYTHON_PREFIX)
    if version == part or not version[:1].isdigit():
        return None
    return version


def cell_id(parts: Iterable[tuple[str, str]]) -> str:
    """The cell id of the (name, version) pairs a cell varies: `postgres-16+valkey-8`."""
    return _CELL_JOIN.join(version_id(name, version) for name, version in parts)


def cell_id_parts(text: str) -> tuple[tuple[str, str], ...]:
    """`postgres-16+psycopg3` -> (("postgres", "16"), ("psycopg3", "")).

    A name holds no `-`; the version is everything after the first one (a bare name has
    none). `CellIdError` when a part is empty, has a `-` with nothing on one side of it, or
    holds a character other than letters, digits, `.`, `_` and `-`.
    """
    parts: list[tuple[str, str]] = []
    for part in text.split(_CELL_JOIN):
        name, dash, version = part.partition(_VERSION_JOIN)
        if not name or (dash and not version) or not _PART.match(part):
            raise CellIdError(
                f"{text!r} is not a cell id: {part!r} is not <name>-<version> or <name>"
            )
        parts.append((name, version))
    return tuple(parts)
