from __future__ import annotations

import pytest

from scripts.providers.versions import program_version, version_matches


@pytest.mark.parametrize(
    ("requested", "reported"),
    [
        ("16", "16.14"),
        ("15", "15.20 (Debian 15.20-0+deb12u1)"),
        ("10.11", "10.11.19-MariaDB-0+deb12u1"),
        ("6.2", "6.2.14"),
        ("8", "8.1.8"),
        ("7.0", "7.0.15"),
    ],
)
def test_requested_version_matches_the_reported_one_it_prefixes(
    requested: str, reported: str
) -> None:
    assert version_matches(requested, reported)


@pytest.mark.parametrize(
    ("requested", "reported"),
    [("16", "160.1"), ("1", "16.14"), ("15", "16.0"), ("10.1", "10.11.19"), ("stdlib", "3.40.1")],
)
def test_other_versions_do_not_match(requested: str, reported: str) -> None:
    assert not version_matches(requested, reported)


@pytest.mark.parametrize(
    ("backend", "output", "version"),
    [
        ("postgres", "postgres (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)", "15.20"),
        (
            "mariadb",
            "/usr/sbin/mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu",
            "10.11.19",
        ),
        ("redis", "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0", "7.0.15"),
        ("valkey", "Valkey server v=8.1.8 sha=00000000:1 malloc=libc bits=64", "8.1.8"),
        ("redis", "redis-check-rdb 7.0.15", None),
    ],
)
def test_program_version_is_read_from_version_output(
    backend: str, output: str, version: str | None
) -> None:
    assert program_version(backend, output) == version
