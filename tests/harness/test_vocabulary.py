"""The shared words: a cell id is built and read back in one place."""

from __future__ import annotations

import pytest

from scripts.results import is_cell_id
from scripts.vocabulary import (
    CellIdError,
    cell_id,
    cell_id_parts,
    python_id,
    python_version_of,
    version_id,
)


@pytest.mark.parametrize(
    "parts",
    [(("postgres", "16"),), (("postgres", "16"), ("valkey", "8")), (("redis", "7.2"),)],
)
def test_a_cell_id_reads_back_as_the_versions_it_was_built_from(
    parts: tuple[tuple[str, str], ...],
) -> None:
    assert cell_id_parts(cell_id(parts)) == parts


def test_a_cell_id_names_its_versions_joined_by_a_plus() -> None:
    assert cell_id([("postgres", "16"), ("valkey", "8")]) == "postgres-16+valkey-8"
    assert version_id("sqlite", "stdlib") == "sqlite-stdlib"


def test_a_version_may_hold_dashes_after_the_first() -> None:
    assert cell_id_parts("sqlite-pysqlite3-x") == (("sqlite", "pysqlite3-x"),)


def test_a_stack_value_or_an_interpreter_is_a_part_of_its_own() -> None:
    parts = (("postgres", "18"), ("psycopg3", ""), ("sqlalchemy", "2.0"), ("py3.13", ""))
    assert cell_id(parts) == "postgres-18+psycopg3+sqlalchemy-2.0+py3.13"
    assert cell_id_parts("postgres-18+psycopg3+sqlalchemy-2.0+py3.13") == parts
    assert python_id("3.13") == "py3.13"
    assert python_version_of("py3.13") == "3.13"
    assert python_version_of("psycopg3") is None


@pytest.mark.parametrize("text", ["postgres-", "-16", "postgres-16+", "", "a b", "../x"])
def test_text_that_is_no_cell_id_is_refused(text: str) -> None:
    with pytest.raises(CellIdError):
        cell_id_parts(text)


@pytest.mark.parametrize(
    ("name", "is_one"),
    [
        ("postgres-16", True),
        ("postgres-18+psycopg3", True),
        ("sqlalchemy-2.0", False),
        ("backup-2026", False),
        ("py3.13", True),
        ("reports", False),
        ("postgres", False),
        ("psycopg3", False),
    ],
)
def test_a_folder_name_reads_as_a_cell_id_only_when_it_names_a_version(
    name: str, is_one: bool
) -> None:
    assert is_cell_id(name) is is_one
