"""Redis and Valkey as throwaway processes: no data directory to prepare, persistence off."""

from __future__ import annotations

import signal
from pathlib import Path

from scripts.providers.accounts import Account
from scripts.providers.ports import LOOPBACK
from scripts.providers.programs import Program


class RedisRecipe:
    stop_signal: signal.Signals = signal.SIGTERM
    needs_template: bool = False

    def __init__(self, backend: str, program_name: str) -> None:
        self.backend = backend
        self.program_names: tuple[str, ...] = (program_name,)

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        """Redis keeps nothing on disk here (persistence off): its template is an empty folder."""
        target.mkdir(parents=True, exist_ok=True)

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        return [
            str(program.path),
            "--port",
            str(port),
            "--bind",
            LOOPBACK,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(run_dir),
            "--daemonize",
            "no",
        ]

    def url(self, port: int) -> str:
        return f"redis://{LOOPBACK}:{port}/0"
