"""PostgreSQL as a throwaway process: `initdb` once into a template, `postgres` per start."""

from __future__ import annotations

import signal
from pathlib import Path

from scripts.providers.accounts import Account, give_to
from scripts.providers.ports import LOOPBACK
from scripts.providers.programs import Program
from scripts.providers.setup_commands import run_setup

# Throwaway data: durability off for speed.
SPEED_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    # Dynamic shared memory as files inside the data directory, removed along with it.
    "dynamic_shared_memory_type=mmap",
)


class PostgresRecipe:
    backend: str = "postgres"
    program_names: tuple[str, ...] = ("postgres",)
    stop_signal: signal.Signals = signal.SIGINT  # "fast" shutdown: do not wait for clients to leave
    needs_template: bool = True

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
