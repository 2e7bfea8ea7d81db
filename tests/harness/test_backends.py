"""The backend registry: one module per backend, each complete for its role."""

from __future__ import annotations

import subprocess
import sys

import pytest

from scripts.backends import (
    BACKENDS,
    CACHE_BACKENDS,
    DATABASE_BACKENDS,
    ServerBackend,
    UnknownBackendError,
    backend,
    display_name,
    server_backend,
)
from scripts.paths import REPO_ROOT


def test_every_backend_is_registered_under_its_own_name_with_its_role() -> None:
    assert DATABASE_BACKENDS == ("postgres", "mysql", "mariadb", "sqlite")
    assert CACHE_BACKENDS == ("redis", "valkey")
    for name, found in BACKENDS.items():
        assert found.name == name
        assert backend(name) is found


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("postgres", "PostgreSQL"),
        ("mysql", "MySQL"),
        ("valkey", "Valkey"),
        ("cockroach", "cockroach"),
    ],
)
def test_display_names_come_from_the_backend_modules(name: str, shown: str) -> None:
    assert display_name(name) == shown


@pytest.mark.parametrize("name", ["postgres", "mysql", "mariadb", "redis", "valkey"])
def test_each_server_backend_names_its_programs_and_debian_folders(name: str) -> None:
    server = server_backend(name)
    assert isinstance(server, ServerBackend)
    assert server.program_names
    assert server.debian_folders
    assert server.url(5555).endswith(f"127.0.0.1:5555{server.suite_path}")


def test_an_unknown_backend_is_named_with_the_known_ones() -> None:
    with pytest.raises(UnknownBackendError, match="unknown backend 'cockroach'; known: postgres"):
        backend("cockroach")


def test_sqlite_is_a_library_not_a_server() -> None:
    with pytest.raises(UnknownBackendError, match="SQLite is a library"):
        server_backend("sqlite")


def test_reading_the_matrix_loads_no_database_driver() -> None:
    # the noxfile reads matrix.toml in nox's own interpreter, where no driver is installed
    code = (
        "import sys; import scripts.matrix; "
        "loaded = {'sqlalchemy', 'psycopg2', 'pymysql', 'redis'} & set(sys.modules); "
        "print(' '.join(sorted(loaded)))"
    )
    done = subprocess.run(  # noqa: S603 - this interpreter
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == []
