"""The `[floor]` table of matrix.toml (scripts.floor.spec): read, checked, errors naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet

from scripts.floor.spec import load_floor_specs, parse_floor_table
from scripts.matrix import Matrix, MatrixError, load_matrix
from scripts.paths import MATRIX_FILE

AXES = """
[database.sqlite.stdlib]
library = { module = "sqlite3" }
[database.postgres.16]
image = "postgres:16-alpine"
[cache.redis."7.0"]
image = "redis:7.0-alpine"
[cache.redis."6.0"]
image = "redis:6.0-alpine"
"""


def matrix_with(tmp_path: Path, floor: str) -> Matrix:
    path = tmp_path / "matrix.toml"
    path.write_text(AXES + floor, encoding="utf-8")
    return load_matrix(path)


def floor_error(tmp_path: Path, floor: str) -> MatrixError:
    with pytest.raises(MatrixError) as caught:
        load_floor_specs(matrix_with(tmp_path, floor))
    return caught.value


def test_the_shipped_matrix_names_the_sqlalchemy_floor_and_the_kombu_ceiling() -> None:
    specs = load_floor_specs(load_matrix(MATRIX_FILE))
    assert specs["sqlalchemy"].cell == "sqlite-stdlib"
    assert specs["kombu"].ceiling_cell == "redis-6.0+redispy-6+celery-5.6"


def test_a_floor_table_is_read_with_its_range_and_cells(tmp_path: Path) -> None:
    matrix = matrix_with(
        tmp_path,
        '[floor.SQLAlchemy]\nrange = ">=2.0,<2.2"\n'
        '[floor.kombu]\nrange = ">=5.3"\ncell = "postgres-16"\nceiling-cell = "redis-6.0"\n',
    )
    specs = load_floor_specs(matrix)
    assert set(specs) == {"sqlalchemy", "kombu"}
    assert specs["sqlalchemy"].library == "SQLAlchemy"
    assert specs["sqlalchemy"].range == SpecifierSet(">=2.0,<2.2")
    assert specs["sqlalchemy"].cell == "sqlite-stdlib"  # the default cell
    assert specs["sqlalchemy"].ceiling_cell is None
    assert (specs["kombu"].cell, specs["kombu"].ceiling_cell) == ("postgres-16", "redis-6.0")


def test_a_matrix_without_a_floor_table_has_no_floors(tmp_path: Path) -> None:
    assert load_floor_specs(matrix_with(tmp_path, "")) == {}


SQLA = '[floor.sqlalchemy]\nrange = ">=2"\n'
KOMBU = '[floor.kombu]\nrange = ">=5"\n'


@pytest.mark.parametrize(
    ("floor", "key", "problem"),
    [
        ('[floor]\nsqlalchemy = ">=2.0"\n', "floor.sqlalchemy", "expected a table"),
        ("[floor.sqlalchemy]\n", "floor.sqlalchemy.range", "missing"),
        ('[floor.sqlalchemy]\nrange = "2.0"\n', "floor.sqlalchemy.range", "not a PEP 440"),
        ('[floor.sqlalchemy]\nrange = " "\n', "floor.sqlalchemy.range", "must not be empty"),
        ("[floor.sqlalchemy]\nrange = 2\n", "floor.sqlalchemy.range", "expected a string"),
        (SQLA + 'ranges = "x"\n', "floor.sqlalchemy.ranges", "unknown key"),
        (SQLA + 'cell = "postgres-99"\n', "floor.sqlalchemy.cell", "no such version"),
        (KOMBU + 'ceiling-cell = "redis-6.0+redis-7.0"\n', "floor.kombu.ceiling-cell", "one cache"),
        (KOMBU + 'cell = "postgres-16+redis-7.0"\n', "floor.kombu.cell", "write 'postgres-16'"),
        ('[floor."not a name"]\nrange = ">=5"\n', "floor.not a name", "not a distribution name"),
        ('[floor.Kombu]\nrange = "<6"\n' + KOMBU, "floor.kombu", "the same library as floor.Kombu"),
    ],
)
def test_a_wrong_floor_table_is_refused_naming_the_key(
    tmp_path: Path, floor: str, key: str, problem: str
) -> None:
    error = floor_error(tmp_path, floor)
    assert error.key == key
    assert problem in error.problem


def test_a_floor_that_is_no_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MatrixError) as caught:
        parse_floor_table(matrix_with(tmp_path, ""), "sqlalchemy")
    assert (caught.value.key, caught.value.problem) == ("floor", "expected a table, got a string")


def test_the_matrix_file_accepts_a_floor_table_beside_the_others(tmp_path: Path) -> None:
    matrix_with(tmp_path, '[floor.sqlalchemy]\nrange = ">=2"\n')  # no "unknown key" for floor
