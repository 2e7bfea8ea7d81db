"""How a run spreads its cells over the cores: pytest-xdist workers per cell, cells side by side.

For a suite this size, starting xdist workers costs more than they save, so by default each
cell runs its suite in one process and as many cells run side by side as there are cores.
Per-worker isolation is still proven on every kind of server: one cell of each backend family
runs with the matrix's `workers` xdist workers. `--workers N` (or `--jobs`) asks for the
uniform layout instead: every cell with N workers, cores / N cells at a time.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from scripts.backends import family
from scripts.matrix import Cell


@dataclass(frozen=True)
class Layout:
    slots: int
    """Suite processes at once across all cells (a cell with W xdist workers takes W)."""
    workers: Mapping[str, int]
    """xdist workers per cell id (0 or 1: the suite in one process)."""

    def workers_for(self, cell_id: str) -> int:
        return self.workers.get(cell_id, 1)

    def cost(self, cell_id: str) -> int:
        """The slots a cell takes while it runs."""
        return min(self.slots, max(1, self.workers_for(cell_id)))

    def describe(self) -> str:
        many = [cell for cell, count in self.workers.items() if count > 1]
        if len(many) == len(self.workers):
            counts = sorted(set(self.workers.values()))
            return f"{self.slots} slot(s), {'/'.join(map(str, counts))} xdist worker(s) per cell"
        proof = f"; {len(many)} with xdist workers ({', '.join(many)})" if many else ""
        return f"{self.slots} at a time, one process per cell{proof}"


def machine_cores() -> int:
    """The cores this process may run on (its affinity), not every core of the machine."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _families(cell: Cell) -> set[str]:
    """Servers that speak one protocol form a family: one multi-worker cell proves the family."""
    return {family(spec.backend) for spec in cell.specs}


def isolation_cells(
    cells: Sequence[Cell], runnable: Callable[[Cell], bool] = lambda cell: True
) -> list[str]:
    """The fewest cells (greedily, earlier first) that together hold every backend family,
    chosen among the `runnable` cells first (a cell with no source here proves nothing)."""
    wanted: set[str] = set().union(*(_families(cell) for cell in cells))
    chosen: list[str] = []
    covered: set[str] = set()
    for pool in ([cell for cell in cells if runnable(cell)], list(cells)):
        while pool and (wanted - covered) & set().union(*(_families(cell) for cell in pool)):
            best = max(pool, key=lambda cell: len(_families(cell) & (wanted - covered)))
            chosen.append(best.id)
            covered |= _families(best)
    return chosen


def default_layout(
    cells: Sequence[Cell],
    cores: int,
    isolation_workers: int,
    runnable: Callable[[Cell], bool] = lambda cell: True,
) -> Layout:
    """One process per cell, cells side by side over `cores` (more workers per cell when there
    are fewer cells than cores); `isolation_workers` in one cell of each backend family."""
    spread = max(1, cores // max(1, len(cells)))
    workers = {cell.id: spread for cell in cells}
    if isolation_workers > 1:
        for cell_id in isolation_cells(cells, runnable):
            workers[cell_id] = max(spread, isolation_workers)
    return Layout(slots=max(1, cores), workers=workers)


def uniform_layout(cells: Sequence[Cell], cores: int, workers: int, jobs: int | None) -> Layout:
    """Every cell with `workers` workers; `jobs` cells at once (default: as many as fit)."""
    per_cell = max(1, workers)
    at_once = jobs or max(1, cores // per_cell)
    return Layout(slots=at_once * per_cell, workers={cell.id: workers for cell in cells})
