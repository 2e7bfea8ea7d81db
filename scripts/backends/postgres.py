"""PostgreSQL: `initdb` once into a template, `postgres` per start, `SHOW server_version`."""

from __future__ import annotations

import re
import signal
from pathlib import Path
from typing import ClassVar

from scripts.backends.base import ImageContract, NotAnsweringError, Program, ServerBackend
from scripts.images.recipes import SERVICE_UID
from scripts.providers.accounts import Account, give_to
from scripts.providers.ports import LOOPBACK
from scripts.providers.setup_commands import run_setup

# Throwaway data: durability off for speed.
SPEED_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    # Dynamic shared memory as files inside the data directory, removed along with it.
    "dynamic_shared_memory_type=mmap",
)


class Postgres(ServerBackend):
    name = "postgres"
    display_name = "PostgreSQL"
    role = "database"
    program_names = ("postgres",)
    debian_folders = ("/usr/lib/postgresql/*/bin",)
    program_version_pattern = re.compile(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)")
    suite_scheme = "postgresql+psycopg2"
    suite_path = "/postgres"
    # "fast" shutdown: do not wait for clients to leave
    stop_signal: ClassVar[signal.Signals] = signal.SIGINT
    needs_template = True

    def server_version(self, url: str, timeout_s: float) -> str:
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
                cursor.execute("SHOW server_version")
                row = cursor.fetchone()
        finally:
            connection.close()
        assert row is not None
        return str(row[0])

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        target.mkdir(mode=0o700)
        give_to(account, target)
        initdb = program.path.parent / "initdb"
        argv = [str(initdb), "-D", str(target), "-U", "postgres", "-A", "trust"]
        run_setup([*argv, "-E", "UTF8", "--locale=C", "--no-sync"], account, log_path)

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        argv = [str(program.path), "-D", str(data_dir), "-p", str(port)]
        argv += ["-c", f"listen_addresses={LOOPBACK}", "-c", f"unix_socket_directories={run_dir}"]
        for setting in SPEED_SETTINGS:
            argv += ["-c", setting]
        return argv

    def url(self, port: int) -> str:
        return f"postgresql+psycopg2://postgres@{LOOPBACK}:{port}/postgres"

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


BACKEND = Postgres()
