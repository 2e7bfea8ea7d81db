"""Starting a server program as a child process, polling it until it answers, stopping it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

from scripts.providers.base import ProvisioningError

T = TypeVar("T")

LOG_TAIL_LINES = 40
PORT_TAKEN_MARKERS = ("Address already in use", "error: 98", "errno 98")


class PortTakenError(ProvisioningError):
    """The server could not bind its port: another process took it first; retry elsewhere."""


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running_process(
    argv: list[str],
    log_path: Path,
    *,
    stop_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 10.0,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` with its output in `log_path`; stop it on exit: signal, wait, then kill.

    The child gets its own session so a Ctrl-C in the terminal reaches only us; we stop the
    child ourselves in `finally` (KeyboardInterrupt included).
    """
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(  # noqa: S603 - argv built from located programs
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env=env,
            )
        except OSError as exc:
            raise ProvisioningError(f"cannot run {argv[0]}: {exc}") from exc
    try:
        yield process
    finally:
        stop_process(process, stop_signal, stop_timeout)


def stop_process(
    process: subprocess.Popen[bytes], stop_signal: signal.Signals, timeout: float
) -> None:
    """Ask the process group to stop; kill it when it does not within `timeout` seconds."""
    if process.poll() is None:
        _signal_group(process.pid, stop_signal)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # Kill anything left in the group (e.g. backends of a server that was killed).
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def wait_until_answers(
    process: subprocess.Popen[bytes],
    ask: Callable[[], T],
    retry_on: tuple[type[BaseException], ...],
    *,
    what: str,
    log_path: Path,
    deadline_s: float = 60.0,
) -> T:
    """Call `ask` until it returns, while the process lives and the deadline is not passed.

    Polls with a short, growing interval (5 ms up to 100 ms). When the process exits first,
    raises `ProvisioningError` (or `PortTakenError`) at once, with the tail of its log.
    """
    started = time.monotonic()
    interval = 0.005
    last_error: BaseException | None = None
    while True:
        code = process.poll()
        if code is not None:
            tail = log_tail(log_path)
            error_class = (
                PortTakenError if any(m in tail for m in PORT_TAKEN_MARKERS) else ProvisioningError
            )
            raise error_class(f"{what} exited with code {code} before answering", tail)
        try:
            return ask()
        except retry_on as exc:
            last_error = exc
        if time.monotonic() - started > deadline_s:
            raise ProvisioningError(
                f"{what} did not answer within {deadline_s:.0f} s (last error: {last_error})",
                log_tail(log_path),
            )
        time.sleep(interval)  # polling interval, not a wait for readiness
        interval = min(interval * 1.5, 0.1)
