"""The verdict per backend: which versions are supported, as ranges, and why the others are not."""

from __future__ import annotations

import re
from collections.abc import Sequence

from scripts.backends import BACKENDS
from scripts.report.matrix_info import MatrixInfo
from scripts.report.model import BackendVerdict, VersionState, VersionVerdict
from scripts.report.versions import backend_key, display_name, ordered_versions
from scripts.results import CellResult, CellState
from scripts.vocabulary import CellIdError, cell_id_parts, version_id

# worst first: a version is as good as the worst cell that counts for it
_WORST_FIRST: tuple[CellState, ...] = ("failed", "error", "unavailable", "flaky", "passed")
SYMBOLS: dict[VersionState, str] = {
    "passed": "✅ passed",
    "flaky": "⚠️ flaky",
    "failed": "❌ failed",
    "error": "💥 error",
    "unavailable": "🚫 not run",
    "missing": "➖ not in this run",
}
STATE_WORDS: dict[VersionState, str] = {
    state: symbol.split(" ", 1)[1] for state, symbol in SYMBOLS.items()
}
"""The same without the symbols, for where no emoji font may be: the page and the badges."""
_REASON_CHARS = 90
_PARENTHESISED = re.compile(r"\s*\([^()]*\)")


def counted_axes(cell: CellResult, matrix: MatrixInfo) -> list[tuple[str, str]]:
    """The (backend, version) pairs a cell speaks for.

    A cell counts for the versions its id names (`postgres-16`, `postgres-16+valkey-8`); the
    default cell (default database + default cache) also counts for the default cache, whose
    own axis cell it is. A default version riding along in another cell does not count. A
    cell whose id names a stack value or an interpreter (`sqlalchemy-2.0`,
    `postgres-18+psycopg3`, `py3.13`) counts for no server: it speaks for its library or
    interpreter (`scripts.report.stack`), and a server is judged on the default stack.
    """
    try:
        parts = cell_id_parts(cell.cell)
    except CellIdError:
        parts = ()
    unparsed_variant = parts == () and bool(cell.stack or cell.interpreter)
    if unparsed_variant or any(backend not in BACKENDS for backend, _ in parts):
        return []
    named = {version_id(*part) for part in parts}
    pairs: list[tuple[str, str]] = []
    is_default_cell = servers_of(cell) == default_servers(matrix)
    for axis in cell.axes.values():
        if axis.id in named or is_default_cell:
            pairs.append((axis.backend, axis.version))
    return pairs


def names_servers_only(cell: CellResult) -> bool:
    """True when the cell's id names server versions only (`postgres-16+valkey-8`): it asked
    the default stack and interpreter. False for `sqlalchemy-2.0`, `postgres-18+psycopg3`,
    `py3.13`, and for an id that does not read as one."""
    try:
        parts = cell_id_parts(cell.cell)
    except CellIdError:
        return False
    return all(backend in BACKENDS for backend, _ in parts)


def servers_of(cell: CellResult) -> frozenset[str]:
    """The server versions a cell ran on, as version ids (`{"postgres-16", "redis-7.0"}`)."""
    return frozenset(axis.id for axis in cell.axes.values())


def default_servers(matrix: MatrixInfo) -> frozenset[str]:
    return frozenset(s for s in (matrix.default_database, matrix.default_cache) if s)


def build_verdict(cells: Sequence[CellResult], matrix: MatrixInfo) -> list[BackendVerdict]:
    by_version: dict[tuple[str, str], list[CellResult]] = {}
    roles: dict[str, str] = dict(matrix.roles)
    for cell in cells:
        for backend, version in counted_axes(cell, matrix):
            by_version.setdefault((backend, version), []).append(cell)
        for role, axis in cell.axes.items():
            roles.setdefault(axis.backend, role)
    backends = sorted({b for b, _ in by_version} | set(matrix.versions), key=backend_key)
    verdicts: list[BackendVerdict] = []
    for backend in backends:
        found = [v for b, v in by_version if b == backend]
        versions = [
            _version_verdict(version, by_version.get((backend, version), []))
            for version in ordered_versions(found, matrix.versions.get(backend, []))
        ]
        verdicts.append(
            BackendVerdict(
                backend=backend,
                name=display_name(backend),
                role=roles.get(backend, "database"),
                versions=versions,
                summary=summarise(versions),
                supported=ranges([v.version for v in versions], {"passed"}, versions),
            )
        )
    return verdicts


def _version_verdict(version: str, cells: list[CellResult]) -> VersionVerdict:
    if not cells:
        return VersionVerdict(version, "missing", [], "no result for this version in this run")
    worst = worst_first(cells)[0]
    reason = worst.reason if worst.state != "passed" else None
    return VersionVerdict(version, worst.state, [c.cell for c in cells], one_line(reason))


def worst_first(cells: Sequence[CellResult]) -> list[CellResult]:
    """`cells`, the worst state first (stable: cells in the same state keep their order)."""
    return sorted(cells, key=lambda c: _WORST_FIRST.index(c.state))


def summarise(
    versions: Sequence[VersionVerdict], symbols: dict[VersionState, str] = SYMBOLS
) -> str:
    """`13–16, 18 ✅ passed; 17 ❌ failed; 8.0 🚫 not run: no Docker engine`; with the history's
    dates, `13–16, 18 ✅ passed since 2026-11-20; 17 ❌ failed since 2026-11-24`. With
    `STATE_WORDS`, the same in words only: `13–16, 18 passed; 17 failed`."""
    order = [v.version for v in versions]
    parts: list[str] = []
    for state, symbol in symbols.items():
        group = [v for v in versions if v.state == state]
        if not group:
            continue
        text = f"{ranges(order, {state}, versions)} {symbol}"
        since = [v.since for v in group if v.since]
        if since and state != "missing":
            text += f" since {max(since)}"  # the date from which the whole group holds
        reasons = {v.reason for v in group}
        if state in ("error", "unavailable") and len(reasons) == 1 and None not in reasons:
            text += f": {next(iter(reasons))}"
        parts.append(text)
    return "; ".join(parts) if parts else "no versions"


def ranges(order: Sequence[str], states: set[str], versions: Sequence[VersionVerdict]) -> str:
    """Consecutive versions (in `order`) whose state is in `states`, as `13–16, 18`."""
    state_of = {v.version: v.state for v in versions}
    runs: list[list[str]] = []
    previous_in = False
    for version in order:
        inside = state_of.get(version) in states
        if inside:
            if previous_in:
                runs[-1].append(version)
            else:
                runs.append([version])
        previous_in = inside
    return ", ".join(_span(run) for run in runs)


def _span(run: list[str]) -> str:
    """`13–16` for numbered versions; named ones (`stdlib`, `pysqlite3`) are listed."""
    if len(run) == 1:
        return run[0]
    if run[0][:1].isdigit() and run[-1][:1].isdigit():
        return f"{run[0]}–{run[-1]}"
    return ", ".join(run)


def one_line(reason: str | None) -> str | None:
    """The reason's first line, without a parenthesised detail that would not fit: the cell
    table and the failures section keep the whole reason."""
    if not reason:
        return None
    line = reason.strip().splitlines()[0] if reason.strip() else ""
    if len(line) > _REASON_CHARS:
        line = _PARENTHESISED.sub("", line)
    return line if len(line) <= _REASON_CHARS else line[: _REASON_CHARS - 1] + "…"
