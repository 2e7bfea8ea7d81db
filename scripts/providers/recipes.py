"""What the binaries provider needs to know about one backend's server program."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Protocol

from scripts.providers.accounts import Account
from scripts.providers.programs import Program


class ServerRecipe(Protocol):
    backend: str
    program_names: tuple[str, ...]
    stop_signal: signal.Signals
    needs_template: bool

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        """Leave a fresh data directory at `target` (does not exist yet), owned by `account`."""

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        """The server's command line: loopback only, durability off, files in `run_dir`."""

    def url(self, port: int) -> str:
        """The URL the suite connects with (see the URL contract in `scripts.providers`)."""
