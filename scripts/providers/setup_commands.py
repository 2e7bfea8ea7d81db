"""Running one-off setup commands (initdb, mariadb-install-db) with their output in a log."""

from __future__ import annotations

import subprocess
from pathlib import Path

from scripts.providers.accounts import Account, command_as
from scripts.providers.base import ProvisioningError
from scripts.providers.process import log_tail

SETUP_TIMEOUT_S = 300.0


def run_setup(argv: list[str], account: Account | None, log_path: Path) -> None:
    """Run `argv` as `account`; on failure raise `ProvisioningError` with the log's tail."""
    with log_path.open("ab") as log:
        try:
            done = subprocess.run(  # noqa: S603 - located programs
                command_as(account, argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=SETUP_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProvisioningError(f"{argv[0]} failed: {exc}", log_tail(log_path)) from exc
    if done.returncode != 0:
        raise ProvisioningError(
            f"{' '.join(argv[:2])} exited with code {done.returncode}", log_tail(log_path)
        )
