"""The migrations of each cell, as the report shows them (cells table; the grid's row).

A cell's `migrations` (scripts.results.cell_migrations) is the database-preparing step and
the migrations test group together: passed, or the failing step with the server's message.
"""

from __future__ import annotations

from collections.abc import Sequence

from scripts.prepare_step import MigrationsOutcome
from scripts.report.symbols import CELL_STATE_SYMBOLS
from scripts.results import CellResult

NOT_RUN = "➖"


def migrations_by_cell(cells: Sequence[CellResult]) -> dict[str, MigrationsOutcome | None]:
    """Cell id -> its migrations (None: they never ran there), for a "migrations" grid row."""
    return {cell.cell: cell.migrations for cell in cells}


def migrations_symbol(outcome: MigrationsOutcome | None) -> str:
    """✅ / ❌ / ➖ (never ran), as the grid shows a state."""
    if outcome is None:
        return NOT_RUN
    return CELL_STATE_SYMBOLS[outcome.state]


def migrations_shown(outcome: MigrationsOutcome | None) -> str:
    """`✅ passed`, `❌ failed at 0002_x: <the server's message>`, or `➖` (never ran)."""
    if outcome is None:
        return NOT_RUN
    return f"{migrations_symbol(outcome)} {outcome.line()}"
