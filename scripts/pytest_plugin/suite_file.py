"""Which `[suite]` table the suite's fixtures follow: the matrix file a cell names
(`COMPAT_MATRIX_FILE`), else `matrix.toml` in pytest's root folder, else the defaults."""

from __future__ import annotations

import os
from pathlib import Path

from scripts.matrix import load_suite
from scripts.suite import DEFAULT_SUITE, MATRIX_FILE_ENV, Suite

MATRIX_FILE_NAME = "matrix.toml"


def matrix_file_of(rootpath: Path) -> Path | None:
    """The matrix file to read, or None when there is none."""
    named = os.environ.get(MATRIX_FILE_ENV)
    if named:
        return Path(named)
    found = rootpath / MATRIX_FILE_NAME
    return found if found.is_file() else None


def suite_of(rootpath: Path) -> Suite:
    """The `[suite]` table in force (`MatrixError` for one that cannot be used)."""
    path = matrix_file_of(rootpath)
    return DEFAULT_SUITE if path is None else load_suite(path)
