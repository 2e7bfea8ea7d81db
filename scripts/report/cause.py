"""What a reader is told about why a cell is not passing: its reason's first line, ending in
the root error's line (results written before the reason carried it: found in the failing
tests' messages and the log tail)."""

from __future__ import annotations

from scripts.report.symbols import MESSAGE_OUTCOMES
from scripts.results import CellResult
from scripts.root_error import root_error_in_messages


def cell_cause(cell: CellResult) -> str | None:
    """None for a passed cell; else one line saying what went wrong."""
    if cell.state == "passed":
        return None
    reason = (cell.reason or "").strip()
    first = reason.splitlines()[0] if reason else ""
    if cell.state not in ("failed", "flaky"):
        return first or None
    messages = [t.message for t in cell.tests if t.outcome in MESSAGE_OUTCOMES]
    root = root_error_in_messages(messages, cell.log_tail)
    if root is None or root in first:
        return first or root
    return f"{first} — {root}" if first else root
