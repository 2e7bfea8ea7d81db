from __future__ import annotations

import pytest

from scripts import cell
from scripts.backends import server_backend
from scripts.sources import programs
from scripts.versions import version_matches


@pytest.mark.parametrize(
    ("requested", "reported"),
    [
        ("16", "16.14"),
        ("15", "15.20 (Debian 15.20-0+deb12u1)"),
        ("10.11", "10.11.19-MariaDB-0+deb12u1"),
        ("6.2", "6.2.14"),
        ("8", "8.1.8"),
        ("7.0", "7.0.15"),
        ("9.7", "9.7.4"),
    ],
)
def test_requested_version_matches_the_reported_one_it_prefixes(
    requested: str, reported: str
) -> None:
    assert version_matches(requested, reported)


@pytest.mark.parametrize(
    ("requested", "reported"),
    [("16", "160.1"), ("1", "16.14"), ("15", "16.0"), ("10.1", "10.11.19"), ("9.7x", "9.7.4")],
)
def test_other_versions_do_not_match(requested: str, reported: str) -> None:
    assert not version_matches(requested, reported)


@pytest.mark.parametrize("reported", ["3.40.1", "3.51.0"])
def test_a_version_named_by_a_word_matches_whatever_the_library_reports(reported: str) -> None:
    assert version_matches("stdlib", reported)
    assert version_matches("pysqlite3", reported)


def test_the_cell_runner_and_the_program_search_use_one_rule() -> None:
    # they disagreed once: the cell accepted `stdlib` for SQLite 3.40.1, the search did not
    assert cell.version_matches is version_matches
    assert programs.version_matches is version_matches


@pytest.mark.parametrize(
    ("backend", "output", "version"),
    [
        ("postgres", "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", "15.20"),
        (
            "mariadb",
            "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu",
            "10.11.19",
        ),
        ("mysql", "/usr/sbin/mysqld  Ver 9.7.4 for Linux on x86_64 (MySQL Community)", "9.7.4"),
        ("redis", "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0", "7.0.15"),
        ("valkey", "Valkey server v=8.1.8 sha=00000000:1 malloc=libc bits=64", "8.1.8"),
        ("redis", "redis-check-rdb 7.0.15", None),
    ],
)
def test_program_version_is_read_from_version_output(
    backend: str, output: str, version: str | None
) -> None:
    assert server_backend(backend).program_version(output) == version
