"""Backend names for humans, and the order versions are shown in."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scripts.backends import BACKENDS, display_name

__all__ = ["backend_key", "display_name", "natural_key", "ordered_versions"]

BACKEND_ORDER = tuple(BACKENDS)


def natural_key(version: str) -> tuple[tuple[int, int | str], ...]:
    """`8.4` < `10.11` < `stdlib`: numbers compare as numbers."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part)
        for part in re.split(r"[.\-_]", version)
        if part
    )


def ordered_versions(found: Sequence[str], declared: Sequence[str]) -> list[str]:
    """Versions in matrix.toml's order, then any others in version order."""
    known = [v for v in declared if v in found or v in declared]
    others = sorted((v for v in set(found) if v not in declared), key=natural_key)
    return [*known, *others]


def backend_key(backend: str) -> tuple[int, str]:
    return (
        BACKEND_ORDER.index(backend) if backend in BACKEND_ORDER else len(BACKEND_ORDER),
        backend,
    )
