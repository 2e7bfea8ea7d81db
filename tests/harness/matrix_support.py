"""Cells of the shipped matrix for the tests of the cell runner's mechanics."""

from __future__ import annotations

from dataclasses import replace

from scripts.matrix import Cell, load_matrix
from scripts.paths import MATRIX_FILE


def harness_environment_cell(cell_id: str) -> Cell:
    """The shipped cell without its stack and interpreter: its suite runs on the harness's own
    environment, as in a matrix without them, so a test of how cells run needs no package
    index (tests/harness/test_cell_environments.py proves the cells' own environments)."""
    return replace(load_matrix(MATRIX_FILE).cell(cell_id), stack=(), python=None)
