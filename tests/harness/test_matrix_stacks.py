"""The stack and interpreter axes of matrix.toml: read, checked, expanded and named."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.matrix import Matrix, MatrixError, load_matrix
from scripts.paths import MATRIX_FILE

SMALL = """
[matrix]
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"

[stack.sqlalchemy."2.1"]
pins = ["sqlalchemy>=2.1,<2.2"]
[stack.sqlalchemy."2.0"]
pins = ["sqlalchemy>=2.0,<2.1"]
[stack.driver.psycopg2]
pins = ["psycopg2-binary"]
dialect = { postgres = "postgresql+psycopg2" }
[stack.driver.psycopg3]
pins = ["psycopg[binary]>=3.2"]
dialect = { postgres = "postgresql+psycopg" }
[stack.requirements.newest]
pins = []
[stack.requirements.oldest]
pins = []
resolution = "lowest-direct"

[python]
versions = ["3.11", "3.13"]
[python.debian."3.13"]
suite = "trixie"
packages = ["python3.13"]

[database.sqlite.stdlib]
library = { module = "sqlite3" }
[database.postgres.16]
binaries = {}
[database.postgres.18]
binaries = {}
[cache.redis."7.0"]
binaries = {}
[cache.redis."6.0"]
binaries = {}
"""


def matrix_of(tmp_path: Path, text: str = SMALL) -> Matrix:
    path = tmp_path / "matrix.toml"
    path.write_text(text)
    return load_matrix(path)


def problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(MatrixError) as raised:
        matrix_of(tmp_path, text)
    return str(raised.value)


def test_the_axis_strategy_varies_each_value_alone_and_names_the_cell_after_it(
    tmp_path: Path,
) -> None:
    cells = {cell.id: cell for cell in matrix_of(tmp_path).cells("axis")}
    assert list(cells) == [
        "sqlite-stdlib",
        "postgres-16",
        "postgres-18",
        "redis-6.0",
        "sqlalchemy-2.0",
        "postgres-18+psycopg3",
        "oldest",
        "py3.13",
    ]
    default = cells["sqlite-stdlib"]
    assert [value.id for value in default.stack] == ["sqlalchemy-2.1", "newest"]
    assert default.python is not None
    assert default.python.version == "3.11"
    assert [value.id for value in cells["postgres-16"].stack] == [
        "sqlalchemy-2.1",
        "psycopg2",
        "newest",
    ]


def test_a_driver_runs_on_the_newest_database_it_serves_with_its_dialect(tmp_path: Path) -> None:
    cell = matrix_of(tmp_path).cell("postgres-18+psycopg3")
    assert cell.database.id == "postgres-18"
    assert cell.database_scheme == "postgresql+psycopg"
    assert cell.pins == ("sqlalchemy>=2.1,<2.2", "psycopg[binary]>=3.2")
    assert matrix_of(tmp_path).cell("postgres-16").database_scheme == "postgresql+psycopg2"
    assert matrix_of(tmp_path).cell("sqlite-stdlib").database_scheme is None


def test_a_driver_named_alone_finds_its_database_and_the_id_says_which(tmp_path: Path) -> None:
    matrix = matrix_of(tmp_path)
    assert matrix.cell("psycopg3").id == "postgres-18+psycopg3"
    assert matrix.cell("postgres-16+psycopg3").database.id == "postgres-16"


def test_a_driver_beside_a_database_it_does_not_serve_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="psycopg3 serves postgres, not sqlite-stdlib"):
        matrix_of(tmp_path).cell("sqlite-stdlib+psycopg3")


def test_the_lowest_direct_resolution_is_the_cells_when_one_of_its_values_asks(
    tmp_path: Path,
) -> None:
    matrix = matrix_of(tmp_path)
    assert matrix.cell("oldest").resolution == "lowest-direct"
    assert matrix.cell("sqlalchemy-2.0").resolution == "highest"


def test_an_interpreter_cell_carries_where_to_fetch_it(tmp_path: Path) -> None:
    cell = matrix_of(tmp_path).cell("py3.13")
    assert cell.python is not None
    assert cell.python.debian is not None
    assert cell.python.debian.suite == "trixie"
    assert "python" in cell.tags
    assert "py3.13" in cell.tags


def test_every_cell_id_reads_back_as_the_same_cell(tmp_path: Path) -> None:
    matrix = matrix_of(tmp_path)
    for cell in matrix.cells("product"):
        assert matrix.cell(cell.id) == cell


def test_product_gives_drivers_only_with_the_databases_they_serve(tmp_path: Path) -> None:
    cells = matrix_of(tmp_path).cells("product")
    # sqlite: 2 sqlalchemy x 2 requirements; postgres: x2 drivers; x2 caches x2 pythons
    assert len(cells) == (1 * 4 + 2 * 8) * 2 * 2
    assert all(
        not any(value.group == "driver" for value in cell.stack)
        for cell in cells
        if cell.database.backend == "sqlite"
    )


def test_the_shipped_pairwise_covers_every_pair_in_fewer_cells_than_product() -> None:
    matrix = load_matrix(MATRIX_FILE)
    pairwise, product = matrix.cells("pairwise"), matrix.cells("product")
    assert len(matrix.axes_named()) >= 3
    assert matrix.pairs(pairwise) >= matrix.pairs(product)
    assert len(pairwise) < len(product) / 10


def test_a_matrix_without_stacks_or_interpreters_runs_in_the_harness_environment(
    tmp_path: Path,
) -> None:
    text = SMALL.split("[database.sqlite.stdlib]")[1]
    cell = matrix_of(tmp_path, "[database.sqlite.stdlib]" + text).cell("sqlite-stdlib")
    assert cell.stack == ()
    assert cell.python is None
    assert not cell.has_own_environment


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("[stack.requirements.newest]", "[stack.redis.x1]"),
            "stack.redis: 'redis' is a backend's name",
        ),
        (
            ('pins = ["sqlalchemy>=2.0,<2.1"]', 'pins = ["sqlalchemy>=>2"]'),
            "stack.sqlalchemy.2.0.pins[0]: 'sqlalchemy>=>2' is not a requirement",
        ),
        (
            ('resolution = "lowest-direct"', 'resolution = "lowest"'),
            "stack.requirements.oldest.resolution: 'lowest'; allowed: highest, lowest-direct",
        ),
        (
            ('dialect = { postgres = "postgresql+psycopg" }', 'dialect = { pg = "x" }'),
            "stack.driver.psycopg3.dialect.pg: not a database backend",
        ),
        (
            (
                'dialect = { postgres = "postgresql+psycopg" }',
                'dialect = { postgres = "mysql+pymysql" }',
            ),
            "stack.driver.psycopg3.dialect.postgres: 'mysql+pymysql' is not a URL scheme of "
            "postgres",
        ),
        (
            ('dialect = { postgres = "postgresql+psycopg" }', ""),
            "stack.driver.psycopg3: has no `dialect` while others of its group have one",
        ),
        (
            ('versions = ["3.11", "3.13"]', 'versions = ["3.11", "3"]'),
            "python.versions[1]: '3' is not 3.<minor>",
        ),
        (
            ('versions = ["3.11", "3.13"]', 'versions = ["3.11"]'),
            "python.debian.3.13: '3.13' is not in python.versions",
        ),
        (
            ('versions = ["3.11", "3.13"]', 'versions = ["3.11", "3.13"]\ndefault = "3.9"'),
            "python.default: '3.9' is not in python.versions",
        ),
        (
            ("[stack.requirements.oldest]", "[stack.requirements.psycopg2]"),
            "stack.requirements.psycopg2: its cell-id part 'psycopg2' is also "
            "stack.driver.psycopg2's",
        ),
        (
            ('pins = ["sqlalchemy>=2.1,<2.2"]', 'pin = ["sqlalchemy>=2.1,<2.2"]'),
            "stack.sqlalchemy.2.1.pin: unknown key; allowed: dialect, pins, resolution",
        ),
    ],
)
def test_a_bad_stack_or_python_table_is_refused_naming_the_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in SMALL
    assert expected in problem(tmp_path, SMALL.replace(old, new, 1))


def test_a_driver_whose_databases_the_matrix_lacks_is_refused(tmp_path: Path) -> None:
    text = SMALL.replace("[database.postgres.16]\nbinaries = {}\n", "").replace(
        "[database.postgres.18]\nbinaries = {}\n", ""
    )
    assert (
        "stack.driver.psycopg2.dialect: serves postgres, of which this matrix declares no "
        "version" in problem(tmp_path, text)
    )
