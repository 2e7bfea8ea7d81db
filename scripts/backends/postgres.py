"""PostgreSQL: `initdb` once into a template, `postgres` per start, `SHOW server_version`."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from scripts.backends.base import ImageContract, NotAnsweringError, ServerBackend
from scripts.backends.image_recipe import SYSTEM_PATH, ImageRecipe, server_packages
from scripts.providers.accounts import Account, give_to
from scripts.providers.passwords import new_password, write_secret_file
from scripts.providers.ports import LOOPBACK
from scripts.providers.setup_commands import run_setup
from scripts.providers.watchdog import WATCHDOG, remove_unused_segments
from scripts.vocabulary import SERVICE_UID, Program

if TYPE_CHECKING:
    from scripts.backends.janitors import SuiteNames, WorkerDatabases

# Throwaway data: durability off for speed.
SPEED_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    # Dynamic shared memory as files inside the data directory, removed along with it.
    "dynamic_shared_memory_type=mmap",
)

SCRAM_ITERATIONS = 4096  # PostgreSQL's own default


def scram_sha_256_verifier(password: str, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for `password` under scram-sha-256 (RFC 5802/7677); given to
    `ALTER ROLE ... PASSWORD`, it is stored as is, never seen in clear by the server."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


class Postgres(ServerBackend):
    name = "postgres"
    display_name = "PostgreSQL"
    role = "database"
    family = "postgres"
    report_order = 10
    driver_distribution = "psycopg2-binary"
    url_schemes = ("postgres", "postgresql", "postgresql+psycopg2")
    driver_schemes: ClassVar[Mapping[str, str]] = {
        "postgres": "postgresql+psycopg2",
        "postgresql": "postgresql+psycopg2",
    }
    program_names = ("postgres",)
    debian_folders = ("/usr/lib/postgresql/*/bin",)
    program_version_pattern = re.compile(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)")
    suite_scheme = "postgresql+psycopg2"
    suite_path = "/postgres"
    # "fast" shutdown: do not wait for clients to leave
    stop_signal: ClassVar[signal.Signals] = signal.SIGINT
    needs_template = True
    # initdb's bootstrap server keeps its segments there (the servers themselves use mmap)
    shared_memory_prefix = "PostgreSQL."

    def server_version(self, url: str, timeout_s: float) -> str:
        return str(self._one_value(url, timeout_s, "SHOW server_version"))

    def activity(self, url: str, timeout_s: float) -> int:
        """Sessions opened on the database the URL names (PostgreSQL 14 and later), else its
        transactions ended. Only that database: a database dropped meanwhile takes its counts
        out of `pg_stat_database`, so a sum over all of them can fall while the suite runs (its
        own workers' databases, another client's). The suite reaches the server through this
        database (its workers' databases are made from it). The statistics reach the view when
        a session ends, so a reading just after a client left may lag (the caller reads until
        it moves)."""
        value = self._one_value(
            url,
            timeout_s,
            "SELECT CASE WHEN current_setting('server_version_num')::int >= 140000"
            " THEN (SELECT sessions FROM pg_stat_database WHERE datname = current_database())"
            " ELSE (SELECT xact_commit + xact_rollback FROM pg_stat_database"
            " WHERE datname = current_database()) END",
        )
        return int(str(value))

    def _one_value(self, url: str, timeout_s: float, query: str) -> object:
        import psycopg2
        from sqlalchemy.engine import make_url

        parts = make_url(url)
        try:
            connection = psycopg2.connect(
                host=parts.host,
                port=parts.port or 5432,
                user=parts.username,
                password=parts.password,
                dbname=parts.database,
                connect_timeout=max(1, round(timeout_s)),
            )
        except psycopg2.OperationalError as exc:
            raise NotAnsweringError(str(exc).strip()) from exc
        try:
            with connection.cursor() as cursor:
                cursor.execute(query)
                row = cursor.fetchone()
        finally:
            connection.close()
        assert row is not None
        return row[0]

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        target.mkdir(mode=0o700)
        give_to(account, target)
        # TCP logins need a SCRAM password; the Unix socket, in the server's own 0700 folder,
        # is reached by the harness alone. The template's password is thrown away: each
        # start sets its own (`answer`).
        password_file = target.with_name(target.name + ".pw")
        write_secret_file(password_file, new_password(), account)
        if account is not None:  # should we be killed while initdb runs
            WATCHDOG.sweep_segments_on_death(self.shared_memory_prefix, account.uid)
        try:
            argv = [str(program.path.parent / "initdb"), "-D", str(target), "-U", "postgres"]
            argv += ["--auth-local=trust", "--auth-host=scram-sha-256"]
            argv += [f"--pwfile={password_file}", "-E", "UTF8", "--locale=C", "--no-sync"]
            run_setup(argv, account, log_path)
        finally:
            password_file.unlink(missing_ok=True)
            if account is not None:  # an initdb stopped half way leaves its segments
                remove_unused_segments(self.shared_memory_prefix, account.uid)

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        argv = [str(program.path), "-D", str(data_dir), "-p", str(port)]
        argv += ["-c", f"listen_addresses={LOOPBACK}", "-c", f"unix_socket_directories={run_dir}"]
        argv += ["-c", "unix_socket_permissions=0700", "-c", "password_encryption=scram-sha-256"]
        for setting in SPEED_SETTINGS:
            argv += ["-c", setting]
        return argv

    def answer(self, run_dir: Path, url: str, password: str, timeout_s: float) -> str:
        """Over the Unix socket, give `postgres` this start's password (its SCRAM verifier:
        the server never sees it in clear), then read the version over TCP with it."""
        import psycopg2
        from sqlalchemy.engine import make_url

        port = make_url(url).port
        try:
            connection = psycopg2.connect(
                host=str(run_dir),
                port=port,
                user="postgres",
                dbname="postgres",
                connect_timeout=max(1, round(timeout_s)),
            )
        except psycopg2.OperationalError as exc:
            raise NotAnsweringError(str(exc).strip()) from exc
        try:
            connection.autocommit = True
            with connection.cursor() as cursor:
                cursor.execute(
                    "ALTER ROLE postgres PASSWORD %s", (scram_sha_256_verifier(password),)
                )
        finally:
            connection.close()
        return self.server_version(url, timeout_s)

    def worker_databases(self, server_url: str, names: SuiteNames) -> WorkerDatabases:
        """A database per worker: CREATE DATABASE ... TEMPLATE, DROP ... WITH (FORCE)."""
        from sqlalchemy.engine import make_url

        from scripts.backends.janitors.sql_databases import PostgresDatabases

        return PostgresDatabases(make_url(server_url), names)

    def url(self, port: int, password: str) -> str:
        return f"postgresql+psycopg2://postgres:{password}@{LOOPBACK}:{port}/postgres"

    def image_contract(self, password: str) -> ImageContract:
        return ImageContract(
            "testcontainers.community.postgres",
            "PostgresContainer",
            {"username": "postgres", "password": password, "dbname": "postgres"}
            | {"driver": "psycopg2"},
            # owned by the account (uid 999) the server of our own images starts as; the
            # official images start as root and take the folder over themselves
            data_tmpfs=("/var/lib/postgresql", f"rw,uid={SERVICE_UID},gid={SERVICE_UID}"),
        )

    def image_recipe(self, version: str, suite: str, packages: tuple[str, ...]) -> ImageRecipe:
        return ImageRecipe(
            backend=self.name,
            version=version,
            suite=suite,
            packages=server_packages(packages),
            entrypoint="postgres.sh",
            port=5432,
            command=("postgres",),
            account="postgres",
            run_as="postgres",
            owned_dirs=("/var/lib/postgresql", "/run/postgresql"),
            env={
                "PATH": f"/usr/lib/postgresql/{version}/bin:{SYSTEM_PATH}",
                "PGDATA": "/var/lib/postgresql/data",
                "LANG": "C.UTF-8",
            },
        )


BACKEND = Postgres()
