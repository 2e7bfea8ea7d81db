"""scripts/layout.py: how many xdist workers each cell gets and how many cells run at once."""

from __future__ import annotations

import pytest

from scripts.layout import default_layout, isolation_cells, uniform_layout
from scripts.matrix import Cell, load_matrix
from scripts.paths import MATRIX_FILE


def shipped_cells() -> list[Cell]:
    return load_matrix(MATRIX_FILE).cells()


def test_every_backend_family_gets_one_cell_with_several_workers() -> None:
    cells = shipped_cells()
    chosen = isolation_cells(cells)
    backends = {spec.backend for cell in cells if cell.id in chosen for spec in cell.specs}
    assert {"postgres", "sqlite", "redis"} <= backends
    assert backends & {"mysql", "mariadb"}
    assert len(chosen) == 3  # postgres, mysql/mariadb, sqlite (each with the default Redis)


def test_the_default_layout_runs_one_process_per_cell_side_by_side_over_the_cores() -> None:
    cells = shipped_cells()
    layout = default_layout(cells, cores=2, isolation_workers=2)
    assert layout.slots == 2
    proving = {cell for cell, workers in layout.workers.items() if workers == 2}
    assert proving == set(isolation_cells(cells))
    assert all(layout.workers_for(cell.id) == 1 for cell in cells if cell.id not in proving)
    assert all(layout.cost(cell.id) <= layout.slots for cell in cells)


def test_a_single_cell_takes_every_core_as_xdist_workers() -> None:
    [cell] = [c for c in shipped_cells() if c.id == "postgres-16"]
    layout = default_layout([cell], cores=4, isolation_workers=2)
    assert layout.workers_for("postgres-16") == 4


def test_workers_asked_for_give_the_uniform_layout() -> None:
    cells = shipped_cells()
    layout = uniform_layout(cells, cores=4, workers=2, jobs=None)
    assert layout.slots == 4
    assert set(layout.workers.values()) == {2}
    one_process = uniform_layout(cells, cores=2, workers=0, jobs=None)
    assert one_process.slots == 2
    assert one_process.cost(cells[0].id) == 1


def test_a_family_is_proven_by_a_cell_that_can_run_here() -> None:
    cells = shipped_cells()
    image_only = {"mysql-8.0", "mysql-8.4", "mariadb-11.4", "redis-7.4"}
    chosen = isolation_cells(cells, runnable=lambda cell: cell.id not in image_only)
    assert not image_only & set(chosen)
    assert {"mysql", "mariadb"} & {
        spec.backend for cell in cells if cell.id in chosen for spec in cell.specs
    }


@pytest.mark.parametrize(
    ("workers", "cores", "cells"), [(2, 2, 1), (1, 2, 2), (2, 8, 4), (4, 2, 1)]
)
def test_the_uniform_layout_never_oversubscribes_the_cores(
    workers: int, cores: int, cells: int
) -> None:
    layout = uniform_layout(shipped_cells(), cores=cores, workers=workers, jobs=None)
    assert layout.slots // layout.cost(shipped_cells()[0].id) == cells
