"""The cell runner's own rules: version checks, the suite's environment, forced sources."""

from __future__ import annotations

import pytest

from scripts.cell import forced_source, suite_environment, version_matches
from scripts.matrix import ImageSource, LibrarySource, VersionSpec
from scripts.providers.base import RunningServer


@pytest.mark.parametrize(
    ("requested", "reported"),
    [
        ("16", "16.14"),
        ("16", "16"),
        ("7.0", "7.0.15"),
        ("10.11", "10.11.19-MariaDB-0+deb12u1"),
        ("8", "8.1.1"),
        ("stdlib", "3.40.1"),
    ],
)
def test_a_server_of_the_requested_version_matches(requested: str, reported: str) -> None:
    assert version_matches(requested, reported)


@pytest.mark.parametrize(
    ("requested", "reported"),
    [
        ("16", "15.20"),
        ("1", "16.1"),
        ("7.0", "7.4.1"),
        ("10.11", "11.4.2-MariaDB"),
        ("6.2", "6.20.1"),
    ],
)
def test_a_server_of_another_version_does_not_match(requested: str, reported: str) -> None:
    assert not version_matches(requested, reported)


def test_the_suite_sees_only_this_cells_servers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://elsewhere/0")
    monkeypatch.setenv("SQLITE_MODULE", "pysqlite3.dbapi2")
    database = RunningServer(
        "sqlite://", "3.40.1", "library", "sqlite3", {"SQLITE_MODULE": "sqlite3"}
    )
    cache = RunningServer("redis://127.0.0.1:7001/0", "7.0.15", "binaries", "/usr/bin/redis-server")
    env = suite_environment(database, cache, {"EXTRA": "1"})
    assert env["DATABASE_URL"] == "sqlite://"
    assert env["REDIS_URL"] == "redis://127.0.0.1:7001/0"
    assert env["SQLITE_MODULE"] == "sqlite3"
    assert env["EXTRA"] == "1"
    assert "CELERY_BROKER_URL" not in env  # the suite derives it from REDIS_URL


def test_the_suite_prints_no_colour_codes_even_when_the_run_forces_colour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("PY_COLORS", "1")
    database = RunningServer("sqlite://", "3.40.1", "library", "sqlite3", {})
    cache = RunningServer("redis://127.0.0.1:7001/0", "7.0.15", "binaries", "/usr/bin/redis-server")
    env = suite_environment(database, cache, {})
    assert env["PY_COLORS"] == "0"
    assert "FORCE_COLOR" not in env


def test_a_forced_source_applies_to_servers_but_not_to_sqlite_libraries() -> None:
    postgres = VersionSpec("database", "postgres", "16", (ImageSource("postgres:16"),))
    sqlite = VersionSpec("database", "sqlite", "stdlib", (LibrarySource("sqlite3"),))
    assert forced_source(postgres, "binaries") == "binaries"
    assert forced_source(sqlite, "binaries") is None
    assert forced_source(postgres, None) is None
