"""Running one-off setup commands (initdb, mariadb-install-db) with their output in a log."""

from __future__ import annotations

from pathlib import Path

from scripts.files import log_tail
from scripts.providers.accounts import Account
from scripts.providers.base import ProvisioningError
from scripts.providers.process import DeadlinePassedError, run_to_end

SETUP_TIMEOUT_S = 300.0


def run_setup(
    argv: list[str], account: Account | None, log_path: Path, timeout_s: float = SETUP_TIMEOUT_S
) -> None:
    """Run `argv` as `account`; on failure raise `ProvisioningError` with the log's tail."""
    try:
        code = run_to_end(argv, log_path, run_as=account, timeout_s=timeout_s)
    except DeadlinePassedError:
        raise ProvisioningError(
            f"{argv[0]} did not finish within {timeout_s:.0f} s", log_tail(log_path)
        ) from None
    if code != 0:
        raise ProvisioningError(f"{' '.join(argv[:2])} exited with code {code}", log_tail(log_path))
