"""The migrations of each cell, as the report shows them (cells table; the grid's row).

A cell's `migrations` (scripts.results.cell_migrations) is the database-preparing step and
the migrations test group together: passed, or the failing step with the server's message.
"""

from __future__ import annotations

from scripts.prepare_step import MigrationsOutcome
from scripts.report.symbols import CELL_STATE_SYMBOLS

NOT_RUN = "➖ not run"


def migrations_shown(outcome: MigrationsOutcome | None) -> str:
    """`✅ passed`, `❌ failed at 0002_x: <the server's message>`, or `➖ not run`: a symbol
    GitHub renders, and the state in words beside it."""
    if outcome is None:
        return NOT_RUN
    return f"{CELL_STATE_SYMBOLS[outcome.state]} {outcome.line()}"
