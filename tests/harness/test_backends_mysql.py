"""MySQL 9.7 from Debian sid as a throwaway server: the suite's root URL, and a password account
on caching_sha2_password (MySQL's default plugin) through pymysql without TLS."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest
from sqlalchemy.engine import make_url

from scripts.fetch import fetch_missing
from scripts.matrix import DebianPackages
from scripts.providers.base import RunningServer
from scripts.sources.binaries import BinariesProvider
from tests.harness.providers_support import binaries_spec, fast_folder, processes_using
from tests.harness.scratch_support import leftovers

MYSQL_97 = binaries_spec("mysql", "9.7", debian=DebianPackages("sid", ("mysql-server-core",)))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with fast_folder("compat-test-mysql-") as folder:
        yield folder


@pytest.fixture(scope="module")
def mysql(scratch: Path) -> Iterator[RunningServer]:
    """MySQL 9.7, fetched into the machine's cache once (kept there like every fetch)."""
    [outcome] = fetch_missing([MYSQL_97])
    assert outcome.action in ("present", "installed"), outcome.detail
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COMPAT_SCRATCH_DIR", str(scratch))
        provider = BinariesProvider(MYSQL_97, MYSQL_97.sources[0])  # type: ignore[arg-type]
        with provider.start() as server:
            yield server
    assert processes_using(scratch) == []
    assert leftovers(scratch) == []


def connect(url: str, **override: object) -> pymysql.Connection[pymysql.cursors.Cursor]:
    parts = make_url(url)
    options: dict[str, object] = {
        "host": parts.host,
        "port": parts.port,
        "user": parts.username,
        "password": parts.password or "",
        "database": parts.database,
    }
    return pymysql.connect(**(options | override))  # type: ignore[arg-type]


@pytest.mark.slow
def test_mysql_reports_its_version_and_debian_provenance(mysql: RunningServer) -> None:
    assert mysql.reported_version.startswith("9.7.")
    assert mysql.provenance.startswith("debian sid mysql-server-core 9.7.")


@pytest.mark.slow
def test_root_over_tcp_with_the_start_password_is_the_suites_url(mysql: RunningServer) -> None:
    with connect(mysql.url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT CURRENT_USER()")
        assert cursor.fetchone() == ("root@127.0.0.1",)


@pytest.mark.slow
def test_a_password_account_on_caching_sha2_password_connects_without_tls(
    mysql: RunningServer,
) -> None:
    with connect(mysql.url) as connection, connection.cursor() as cursor:
        cursor.execute("CREATE USER 'compat'@'127.0.0.1' IDENTIFIED BY 'run-secret'")
        cursor.execute("SELECT plugin FROM mysql.user WHERE user = 'compat' AND host = '127.0.0.1'")
        assert cursor.fetchone() == ("caching_sha2_password",)
    # the first login takes the full exchange (RSA key from the server: needs `cryptography`)
    for _ in range(2):  # the second one the server's cached fast path
        login = connect(mysql.url, user="compat", password="run-secret", database=None)
        with login as connection, connection.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER()")
            assert cursor.fetchone() == ("compat@127.0.0.1",)
    with pytest.raises(pymysql.err.OperationalError, match="Access denied"):
        connect(mysql.url, user="compat", password="wrong", database=None)


def test_throwaway_mysql_and_mariadb_are_killed_not_shut_down() -> None:
    # a clean shutdown flushes InnoDB for a data directory that is deleted right after: 1.4 s
    # of every MySQL 9.7 cell here, with nothing kept
    from scripts.backends import server_backend

    assert server_backend("mysql").stop_signal == signal.SIGKILL
    assert server_backend("mariadb").stop_signal == signal.SIGKILL
