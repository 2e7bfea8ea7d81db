"""The version grid as data: rows (a label and its boxes), each box one version in its state.

The page, grid.svg and COMPATIBILITY.md draw the same rows. A row kind is a function from the
report to rows, listed in `ROW_KINDS`: a new kind (a library, an interpreter, migrations) is
one more such function, nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from scripts.report.cause import cell_cause
from scripts.report.model import (
    BackendVerdict,
    InstalledVersion,
    Report,
    StackVerdict,
    VersionState,
    VersionVerdict,
)
from scripts.results import CellResult


@dataclass(frozen=True)
class GridBox:
    version: str  # what was asked for: "16", "stdlib"
    state: VersionState  # a cell state, or "missing"; states.LOOKS says how it looks
    shown: str  # what the box says: the version the server reported, else `version`
    cell: str | None  # the cell whose details a click opens
    details: tuple[tuple[str, str], ...]  # (label, text) lines of the hover/focus detail

    @property
    def summary(self) -> str:
        """One line for a title or an accessible name: `16 (16.4): passed`."""
        reported = f" ({self.shown})" if self.shown != self.version else ""
        return f"{self.version}{reported}: {self.state}"


@dataclass(frozen=True)
class GridRow:
    label: str  # "PostgreSQL"
    kind: str  # "backend", "library", "interpreter", "migrations"
    boxes: tuple[GridBox, ...]


def backend_rows(report: Report) -> list[GridRow]:
    """One row per backend of the verdict, its versions in the matrix's order."""
    cells = {cell.cell: cell for cell in report.cells}
    return [
        GridRow(verdict.name, "backend", tuple(_box(verdict, v, cells) for v in verdict.versions))
        for verdict in report.verdict
    ]


def migrations_rows(report: Report) -> list[GridRow]:
    """One "Migrations" row: a box per database backend, in the state of the worst of its
    cells' migrations (the preparing step and the migrations group), each cell's line in the
    detail. A backend none of whose cells prepared a database has no box."""
    boxes: list[GridBox] = []
    for verdict in report.verdict:
        cells = [
            cell
            for cell in report.cells
            if cell.migrations is not None and _database_backend(cell) == verdict.backend
        ]
        if not cells:
            continue
        failed = [cell for cell in cells if cell.migrations and cell.migrations.state == "failed"]
        shown = next(iter(failed), cells[0])
        details = tuple(
            (cell.cell, cell.migrations.line() if cell.migrations else "") for cell in cells
        )
        state: VersionState = "failed" if failed else "passed"
        count = f"{len(cells)} cell{'s' if len(cells) > 1 else ''}"
        boxes.append(GridBox(verdict.backend, state, count, shown.cell, details))
    return [GridRow("Migrations", "migrations", tuple(boxes))] if boxes else []


def _database_backend(cell: CellResult) -> str | None:
    """The backend of the database a cell ran on: its axis, or (a cell that varied the cache
    only) the default database's server it reported."""
    axis = cell.axes.get("database")
    if axis is not None:
        return axis.backend
    return next((s.backend for s in cell.servers if s.role == "database"), None)


def stack_rows(report: Report) -> list[GridRow]:
    """A row per library whose version differed between cells, then one for the interpreter:
    a box per version that really ran, in the state of the worst cell that ran it."""
    cells = {cell.cell: cell for cell in report.cells}
    return [
        GridRow(line.name, line.kind, tuple(_installed_box(line, v, cells) for v in line.versions))
        for line in report.stack_verdict
    ]


def _installed_box(
    line: StackVerdict, version: InstalledVersion, cells: dict[str, CellResult]
) -> GridBox:
    """The box of one installed version: it says what was asked (`2.0`, `psycopg3`), or for an
    interpreter the full version that ran; the worst cell's detail behind it."""
    shown = ", ".join(version.installed if line.kind == "interpreter" else version.asked)
    worst = next(
        (cells[name] for name in (*version.failing, *version.cells) if name in cells), None
    )
    details: list[tuple[str, str]] = [
        ("Cell", worst.cell if worst else ""),
        ("State", version.state + (f" since {version.since}" if version.since else "")),
        ("Asked", ", ".join(version.asked)),
        ("Ran", ", ".join(version.installed) or "nothing installed"),
        ("Cells", ", ".join(version.cells)),
    ]
    if version.failing:
        details.append(("Failing", ", ".join(version.failing)))
    cause = cell_cause(worst) if worst else None
    if cause:
        details.append(("Cause", cause))
    cell = worst.cell if worst else None
    if line.kind == "library" and len(line.distributions) != 1 and version.asked:
        # a driver's or a resolution's versions are long (`psycopg 3.3.9`, `FastAPI 0.115.0 +
        # ...`): the box is named by what was asked, the versions under it
        asked = ", ".join(version.asked)
        return GridBox(asked, version.state, version.version, cell, tuple(details))
    return GridBox(version.version, version.state, shown or version.version, cell, tuple(details))


ROW_KINDS: tuple[Callable[[Report], list[GridRow]], ...] = (
    backend_rows,
    stack_rows,
    migrations_rows,
)


def grid_rows(report: Report) -> list[GridRow]:
    return [row for kind in ROW_KINDS for row in kind(report)]


def _box(backend: BackendVerdict, version: VersionVerdict, cells: dict[str, CellResult]) -> GridBox:
    counted = [cells[name] for name in version.cells if name in cells]
    # the cell that gives the version its state (the worst one) is the one to show
    cell = next((c for c in counted if c.state == version.state), counted[0] if counted else None)
    if cell is None:
        return GridBox(
            version.version, version.state, version.version, None, (("Why", version.reason or ""),)
        )
    server = next((s for s in cell.servers if s.backend == backend.backend), None)
    reported = server.reported if server and server.reported else version.version
    c = cell.counts
    details: list[tuple[str, str]] = [
        ("Cell", cell.cell),
        ("State", version.state + (f" since {version.since}" if version.since else "")),
        (
            "Source",
            f"{server.source} {server.provenance or ''}".strip()
            if server and server.source
            else "none could serve",
        ),
        (
            "Tests",
            f"{c['passed']} passed, {c['failed'] + c['error']} failed, {c['skipped']} skipped,"
            f" {c['flaky']} flaky",
        ),
    ]
    if len(counted) > 1:
        details.append(("Cells", ", ".join(x.cell for x in counted)))
    cause = cell_cause(cell)
    if cause:
        details.append(("Cause", cause))
    return GridBox(version.version, version.state, reported, cell.cell, tuple(details))
