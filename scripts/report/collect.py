"""Finding every cell's result under one or more folders, at any depth."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.results import (
    PROGRESS_FILE,
    RESULT_FILE,
    CellResult,
    broken_result,
    is_cell_id,
    read_cell_folder,
)

JUNIT_FILE = "junit.xml"


@dataclass(frozen=True)
class Collected:
    results: list[CellResult]
    warnings: list[str]


def collect(folders: Sequence[Path], order: Sequence[str] = ()) -> Collected:
    """Read every cell folder below `folders`; cells ordered by `order`, then by id.

    A cell folder is one holding `result.json`, or a `junit.xml` or `progress.jsonl` without
    it (a runner that stopped early or was killed: that cell is `error`). A folder that is
    not a cell's (no readable result.json, and a name that is no cell id of servers) is passed
    over with a warning, rather than become a bogus backend; a readable result.json is a
    cell's whatever its folder's name (`sqlalchemy-2.0`, `postgres-18+psycopg3`). A cell found twice
    (two machines ran it) keeps the result that finished last, and says so in the warnings.
    """
    warnings: list[str] = []
    by_cell: dict[str, CellResult] = {}
    for root in folders:
        if not root.is_dir():
            warnings.append(f"results folder {root} does not exist or is not a folder")
            continue
        for folder in _cell_folders(root):
            result, whole = read_cell_folder(folder)
            named = is_cell_id(folder.name) or folder.name in order
            if not whole and result.cell == folder.name and not named:
                warnings.append(
                    f"{folder} is not a cell's folder (its name is no cell id and it holds no"
                    " readable result.json): ignored"
                )
                continue
            seen = by_cell.get(result.cell)
            if seen is not None:
                kept = max(seen, result, key=lambda r: r.finished_at)
                warnings.append(
                    f"cell {result.cell} found more than once; kept the one finished at"
                    f" {kept.finished_at or 'an unknown time'} ({folder})"
                )
                result = kept
            by_cell[result.cell] = result
    if not by_cell:
        tried = ", ".join(str(f) for f in folders)
        warnings.append(f"no cell results (result.json) found under {tried}")
    position = {cell: index for index, cell in enumerate(order)}
    ordered = sorted(by_cell.values(), key=lambda r: (position.get(r.cell, len(position)), r.cell))
    return Collected(ordered, warnings)


def has_results(folders: Sequence[Path]) -> bool:
    """True when at least one cell folder lies below `folders`."""
    return any(next(iter(_cell_folders(root)), None) for root in folders if root.is_dir())


def _cell_folders(root: Path) -> Iterable[Path]:
    seen: set[Path] = set()
    for marker in (RESULT_FILE, JUNIT_FILE, PROGRESS_FILE):
        for path in sorted(root.rglob(marker)):
            if path.parent not in seen and path.is_file():
                seen.add(path.parent)
                yield path.parent


__all__ = ["Collected", "broken_result", "collect", "has_results"]
