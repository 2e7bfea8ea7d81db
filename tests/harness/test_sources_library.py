"""The library source (SQLite): the module must import; its SQLite version is reported."""

from __future__ import annotations

import sqlite3

import pytest

from scripts.matrix import LibrarySource
from scripts.providers.base import Unavailable
from scripts.sources.library import LibraryProvider
from tests.harness.providers_support import spec


def library_provider(module: str, pip: str | None = None) -> LibraryProvider:
    source = LibrarySource(module, pip)
    return LibraryProvider(spec("sqlite", module, source), source)


def test_stdlib_module_reports_the_sqlite_library_version_and_names_the_module() -> None:
    with library_provider("sqlite3").start() as server:
        assert server.url == "sqlite://"
        assert server.reported_version == sqlite3.sqlite_version
        assert server.library_module == "sqlite3"
        assert server.source == "library"


def test_pysqlite3_reports_its_own_bundled_sqlite_version() -> None:
    dbapi2 = pytest.importorskip("pysqlite3.dbapi2")
    with library_provider("pysqlite3.dbapi2", "pysqlite3-binary").start() as server:
        assert server.reported_version == dbapi2.sqlite_version
        assert server.library_module == "pysqlite3.dbapi2"


def test_module_that_does_not_import_is_unavailable_with_the_pip_command() -> None:
    with pytest.raises(
        Unavailable, match=r"compat_no_such_sqlite\.dbapi2 cannot be imported"
    ) as raised:
        library_provider("compat_no_such_sqlite.dbapi2", "compat-no-such-sqlite").check()
    assert raised.value.hint == "pip install compat-no-such-sqlite"


def test_module_without_sqlite_version_is_refused() -> None:
    with (
        pytest.raises(Unavailable, match="not an SQLite DB-API module"),
        library_provider("json").start(),
    ):
        pytest.fail("must not yield")
