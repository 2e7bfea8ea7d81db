"""The backend registry: one module per backend, each complete for its role."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from scripts.backends import (
    BACKENDS,
    CACHE_BACKENDS,
    DATABASE_BACKENDS,
    ServerBackend,
    UnknownBackendError,
    backend,
    backend_for_url,
    display_name,
    family,
    server_backend,
)
from scripts.backends.janitors import SuiteNames, WorkerDatabases
from scripts.paths import REPO_ROOT
from scripts.vocabulary import Program, Role


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
    assert server.url(5555, "pw").endswith(f":pw@127.0.0.1:5555{server.suite_path}")


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


def test_the_registry_finds_the_modules_and_orders_them_as_reports_do() -> None:
    assert list(BACKENDS) == ["postgres", "mysql", "mariadb", "sqlite", "redis", "valkey"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [("mariadb", "mysql"), ("valkey", "redis"), ("sqlite", "sqlite"), ("cockroach", "cockroach")],
)
def test_a_backends_family_is_what_its_module_declares(name: str, expected: str) -> None:
    assert family(name) == expected


@pytest.mark.parametrize(
    ("url", "role", "expected"),
    [
        ("postgresql+psycopg2://u@h/postgres", "database", "postgres"),
        ("postgresql+nosuchdriver://u@h/db", "database", "postgres"),
        ("mariadb+pymysql://root@h/test", "database", "mysql"),
        ("sqlite://", "database", "sqlite"),
        ("redis://:pw@h:6379/0", "cache", "redis"),
        ("unix:///run/redis.sock?db=1", "cache", "redis"),
    ],
)
def test_a_url_finds_the_first_backend_whose_scheme_it_is(
    url: str, role: Role, expected: str
) -> None:
    assert backend_for_url(url, role).name == expected


def test_a_url_no_backend_takes_is_refused() -> None:
    with pytest.raises(UnknownBackendError, match="'oracle'"):
        backend_for_url("oracle://scott@db/orcl", "database")
    with pytest.raises(UnknownBackendError):
        backend_for_url("redis://h:6379/0", "database")


@pytest.mark.parametrize("name", ["postgres", "mysql", "mariadb", "sqlite"])
def test_each_database_backend_gives_the_suite_a_per_worker_janitor(name: str) -> None:
    names = SuiteNames("ct_", lambda _name, _now: False)
    url = "sqlite://" if name == "sqlite" else f"{backend(name).url_schemes[0]}://u@h/db"
    assert isinstance(backend(name).worker_databases(url, names), WorkerDatabases)


def test_redis_opens_its_unix_socket_only_where_the_path_fits() -> None:
    redis_backend = server_backend("redis")
    program = Program(Path("/usr/bin/redis-server"), "7.0.15")
    shallow = redis_backend.command(program, Path("/d"), Path("/srv/run"), 6390)
    deep = redis_backend.command(program, Path("/d"), Path("/srv/" + "x" * 100), 6390)
    assert "--unixsocket" in shallow
    assert "--unixsocket" not in deep
    assert "--port" in deep
