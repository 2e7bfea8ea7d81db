"""The shared words: a cell id is built and read back in one place."""

from __future__ import annotations

import pytest

from scripts.vocabulary import CellIdError, cell_id, cell_id_parts, version_id


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


@pytest.mark.parametrize("text", ["postgres", "postgres-", "-16", "postgres-16+", "reports"])
def test_text_that_is_no_cell_id_is_refused(text: str) -> None:
    with pytest.raises(CellIdError):
        cell_id_parts(text)
