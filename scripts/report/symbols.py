"""How states and outcomes are shown, the same in Markdown, HTML and badges."""

from __future__ import annotations

from scripts.results import CellState, ServerInfo, TestOutcomeKind

CELL_STATE_SYMBOLS: dict[CellState, str] = {
    "passed": "✅",
    "flaky": "⚠️",
    "failed": "❌",
    "error": "💥",
    "unavailable": "🚫",
}
OUTCOME_SYMBOLS: dict[TestOutcomeKind, str] = {
    "passed": "✅",
    "flaky": "⚠️",
    "failed": "❌",
    "error": "💥",
    "skipped": "⏭️",
    "xfailed": "✖️",
    "xpassed": "❗",
}
# one letter per outcome in the HTML's compact heat-map data
OUTCOME_CODES: dict[TestOutcomeKind, str] = {
    "passed": "p",
    "failed": "f",
    "error": "e",
    "flaky": "k",
    "skipped": "s",
    "xfailed": "x",
    "xpassed": "X",
}
NOT_RUN_CODE = "-"
FAILING_OUTCOMES: frozenset[str] = frozenset({"failed", "error"})
MESSAGE_OUTCOMES: frozenset[str] = frozenset({"failed", "error", "flaky"})


def first_lines(message: str | None, lines: int = 6, width: int = 160) -> str:
    """The first lines of a failure message, each cut to `width` characters."""
    if not message:
        return ""
    kept = [
        line if len(line) <= width else line[: width - 1] + "…"
        for line in message.splitlines()[:lines]
    ]
    more = len(message.splitlines()) - lines
    if more > 0:
        kept.append(f"… ({more} more lines)")
    return "\n".join(kept)


FAILURES_HEADING = "Failures, errors and cells not run"


def missing_server_note(server: ServerInfo | None) -> str:
    """Why a cell shows no server version: it never started, or the result does not say."""
    return "(not started)" if server is not None else "(not recorded)"
