"""The cell runner's own rules: version checks, the suite's environment, forced sources."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.cell import forced_source, suite_environment, version_matches
from scripts.matrix import ImageSource, LibrarySource, VersionSpec
from scripts.paths import bytecode_environment
from scripts.providers.base import RunningServer
from scripts.suite import SuiteEnv


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
    database = RunningServer("sqlite://", "3.40.1", "library", "sqlite3", "sqlite3")
    cache = RunningServer("redis://127.0.0.1:7001/0", "7.0.15", "binaries", "/usr/bin/redis-server")
    env = suite_environment(database, cache, {"EXTRA": "1"})
    assert env["DATABASE_URL"] == "sqlite://"
    assert env["REDIS_URL"] == "redis://127.0.0.1:7001/0"
    assert env["CELERY_BROKER_URL"] == "redis://127.0.0.1:7001/0"  # the cache is the broker
    assert env["SQLITE_MODULE"] == "sqlite3"
    assert env["EXTRA"] == "1"


def test_the_suite_gets_its_servers_under_the_names_of_the_suite_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SQLALCHEMY_DATABASE_URI", "postgresql://elsewhere/db")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://elsewhere/0")
    database = RunningServer("postgresql://127.0.0.1:7000/postgres", "16.4", "binaries", "pg")
    cache = RunningServer("redis://127.0.0.1:7001/0", "7.0.15", "binaries", "/usr/bin/redis-server")
    names = SuiteEnv(database="SQLALCHEMY_DATABASE_URI", cache="CACHE_URL", broker="")
    env = suite_environment(database, cache, {}, names)
    assert env["SQLALCHEMY_DATABASE_URI"] == "postgresql://127.0.0.1:7000/postgres"
    assert env["CACHE_URL"] == "redis://127.0.0.1:7001/0"
    assert "DATABASE_URL" not in env
    assert env["CELERY_BROKER_URL"] == "redis://elsewhere/0"  # not one of this suite's names


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


def test_the_suite_caches_its_compiled_modules_in_the_cache_folder_even_when_told_not_to(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # without it every suite process compiles (and assertion-rewrites) each module again
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path))
    database = RunningServer("sqlite://", "3.40.1", "library", "sqlite3", {})
    cache = RunningServer("redis://127.0.0.1:7001/0", "7.0.15", "binaries", "/usr/bin/redis-server")
    env = suite_environment(database, cache, {})
    assert env["PYTHONDONTWRITEBYTECODE"] == ""  # empty: Python writes bytecode again
    assert env["PYTHONPYCACHEPREFIX"] == str(tmp_path / "bytecode")  # outside the checkout


def test_pytest_keeps_its_rewritten_test_modules_under_the_bytecode_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(tmp_path / "cache"))
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_one.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **bytecode_environment()}
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(suite)],
        env=env,
        cwd=suite,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    cached = [path.name for path in (tmp_path / "cache" / "bytecode").rglob("*.pyc")]
    assert any(name.startswith("test_one.") and "pytest" in name for name in cached), cached
    assert not (suite / "__pycache__").exists()  # nothing written into the checkout
