"""What the report needs from matrix.toml: version order, defaults, cell order, its hash."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from scripts.matrix import MatrixError, load_matrix
from scripts.vocabulary import Role


@dataclass(frozen=True)
class MatrixInfo:
    path: str
    sha256: str | None
    versions: dict[str, list[str]] = field(default_factory=dict)  # backend → declared order
    roles: dict[str, Role] = field(default_factory=dict)  # backend → role
    default_database: str | None = None  # version id, "sqlite-stdlib"
    default_cache: str | None = None
    cell_order: list[str] = field(default_factory=list)
    problem: str | None = None  # why the file could not be read, when it could not
    stack_distributions: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    """Stack group → value → the distributions its pins name (`driver` → `psycopg3` →
    [`psycopg`]); a value without pins (a resolution) names none."""


def read_matrix_info(path: Path) -> MatrixInfo:
    """Load the matrix for ordering; a broken or missing file is reported, not raised."""
    try:
        matrix = load_matrix(path)
    except MatrixError as error:
        return MatrixInfo(path=str(path), sha256=None, problem=str(error))
    versions: dict[str, list[str]] = {}
    roles: dict[str, Role] = {}
    for spec in matrix.versions:
        versions.setdefault(spec.backend, []).append(spec.version)
        roles[spec.backend] = spec.role
    # the file's own strategy's order (product's can be thousands of cells: not computed)
    strategies = dict.fromkeys(("axis", matrix.strategy))  # each once: axis is the default
    order = [cell.id for strategy in strategies for cell in matrix.cells(strategy)]
    stack_distributions: dict[str, dict[str, list[str]]] = {}
    for value in matrix.stacks:
        stack_distributions.setdefault(value.group, {})[value.name] = list(value.distributions)
    return MatrixInfo(
        path=str(path),
        sha256=matrix.sha256,
        versions=versions,
        roles=roles,
        default_database=matrix.default_database.id,
        default_cache=matrix.default_cache.id,
        cell_order=list(dict.fromkeys(order)),
        stack_distributions=stack_distributions,
    )
