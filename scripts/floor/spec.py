"""The `[floor]` table of matrix.toml: which library's floor or ceiling is searched, where.

```toml
[floor.sqlalchemy]
range = ">=2.0.0,<2.2"        # the releases searched (a PEP 440 specifier)
cell = "sqlite-stdlib"        # where the floor is searched (default: the default cell)
[floor.kombu]
range = ">=5.3,<5.8"
ceiling-cell = "redis-6.0"    # where `--ceiling` searches (needed for --ceiling)
```

Every problem raises `MatrixError` naming the key, as `scripts.matrix` does.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from scripts.matrix import Matrix, MatrixError

_KEYS = ("range", "cell", "ceiling-cell")
_DISTRIBUTION_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


@dataclass(frozen=True)
class FloorSpec:
    """One `[floor.<library>]` table, checked."""

    library: str
    """The distribution, as written (`sqlalchemy`, `kombu`)."""
    range: SpecifierSet
    """The releases searched."""
    cell: str
    """The cell a floor is searched on (the matrix's default cell unless named)."""
    ceiling_cell: str | None
    """The cell `--ceiling` searches on; None: --ceiling needs `--cell`."""

    @property
    def name(self) -> str:
        """The canonical distribution name (`sqlalchemy`, `psycopg`): how pins are compared."""
        return canonicalize_name(self.library)


def load_floor_specs(matrix: Matrix) -> dict[str, FloorSpec]:
    """The `[floor]` table of the matrix's file, by canonical library name ({} when none)."""
    try:
        document = tomllib.loads(matrix.path.read_text(encoding="utf-8"))
    except OSError as error:
        problem = f"cannot read the matrix file: {error.strerror}"
        raise MatrixError(matrix.path, "", problem) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MatrixError(matrix.path, "", f"not valid TOML: {error}") from None
    return parse_floor_table(matrix, document.get("floor", {}))


def parse_floor_table(matrix: Matrix, table: object) -> dict[str, FloorSpec]:
    """`[floor]` as TOML gave it, checked against the matrix (its cells must exist)."""
    path = matrix.path
    if not isinstance(table, dict):
        raise MatrixError(path, "floor", f"expected a table, got {_type_name(table)}")
    specs: dict[str, FloorSpec] = {}
    for library, entry in table.items():
        key = f"floor.{library}"
        if not _DISTRIBUTION_NAME.match(library):
            raise MatrixError(path, key, "not a distribution name (letters, digits, '.', '-', '_')")
        name = canonicalize_name(library)
        if name in specs:
            raise MatrixError(path, key, f"the same library as floor.{specs[name].library}")
        specs[name] = _parse_entry(matrix, key, library, entry)
    return specs


def _parse_entry(matrix: Matrix, key: str, library: str, entry: object) -> FloorSpec:
    path = matrix.path
    if not isinstance(entry, dict):
        raise MatrixError(path, key, f"expected a table, got {_type_name(entry)}")
    for name in entry:
        if name not in _KEYS:
            raise MatrixError(path, f"{key}.{name}", f"unknown key; allowed: {', '.join(_KEYS)}")
    if "range" not in entry:
        raise MatrixError(
            path, f"{key}.range", 'missing: the releases to search, e.g. range = ">=2.0,<2.2"'
        )
    return FloorSpec(
        library=library,
        range=parse_range(path, f"{key}.range", entry["range"]),
        cell=_cell(matrix, f"{key}.cell", entry.get("cell")) or default_cell(matrix, key),
        ceiling_cell=_cell(matrix, f"{key}.ceiling-cell", entry.get("ceiling-cell")),
    )


def parse_range(path: Path, key: str, value: object) -> SpecifierSet:
    """A PEP 440 specifier that bounds something (`>=2.0,<2.2`); MatrixError otherwise."""
    if not isinstance(value, str):
        raise MatrixError(path, key, f"expected a string, got {_type_name(value)}")
    if not value.strip():
        raise MatrixError(path, key, 'must not be empty: write a range such as ">=2.0,<2.2"')
    try:
        return SpecifierSet(value)
    except InvalidSpecifier:
        raise MatrixError(
            path, key, f'{value!r} is not a PEP 440 specifier; write e.g. ">=2.0,<2.2"'
        ) from None


def _cell(matrix: Matrix, key: str, value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MatrixError(matrix.path, key, f"expected a cell id, got {_type_name(value)}")
    try:
        cell = matrix.cell(value)
    except MatrixError as error:
        raise MatrixError(matrix.path, key, error.problem) from None
    if cell.id != value:
        raise MatrixError(matrix.path, key, f"{value!r} is the cell {cell.id!r}; write {cell.id!r}")
    return cell.id


def default_cell(matrix: Matrix, key: str) -> str:
    """The matrix's default cell (the one tagged `default`)."""
    for cell in matrix.cells():
        if "default" in cell.tags:
            return cell.id
    raise MatrixError(
        matrix.path, f"{key}.cell", "the matrix has no default cell (excluded?): name a cell here"
    )


def _type_name(value: object) -> str:
    names: dict[type, str] = {str: "a string", int: "an integer", float: "a number"}
    names |= {list: "an array", dict: "a table", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)


__all__ = ["FloorSpec", "MatrixError", "load_floor_specs", "parse_floor_table", "parse_range"]
