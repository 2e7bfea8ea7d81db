"""The one process runner: start a program as a process group tied to this process, wait for
it (bounded, interruptible), stop it, read its log's tail.

Every program the harness starts (servers, their setup commands, the suite's pytest) goes
through `process_group`, which:
- starts it in a session of its own, so a Ctrl-C in the terminal reaches only the harness,
  which then stops the group itself;
- ties it to the harness twice: a parent-death signal (SIGKILL, set by `setpriv
  --pdeathsig` right before exec), which fires when the *thread* that started it ends; and
  the watchdog (`scripts/providers/watchdog.py`), which kills it when the harness process
  ends, however it died (kill -9 of the harness or of its whole process group included);
- records it in the run folder (`scripts.providers.runs`) so that the next run reaps it
  should both ties fail;
- stops the whole group on exit: the stop signal, a bounded wait, then SIGKILL.

Waits check the calling thread's cancel event (`cancelled_by`) every `POLL_S` and raise
`Interrupted` once it is set, so a Ctrl-C in the main thread reaches a worker promptly.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol, TypeVar

from scripts.providers import runs
from scripts.providers.accounts import Account
from scripts.providers.base import ProvisioningError
from scripts.providers.watchdog import WATCHDOG

T = TypeVar("T")

LOG_TAIL_LINES = 40
PORT_TAKEN_MARKERS = ("Address already in use", "error: 98", "errno 98")
POLL_S = 0.1  # how often a wait looks at the cancel event and its deadline
CANCELLED_STOP_S = 0.5  # after Ctrl-C a group gets this long to stop before SIGKILL


class PortTakenError(ProvisioningError):
    """The server could not bind its port: another process took it first; retry elsewhere."""


class Interrupted(Exception):  # noqa: N818 - reads as what happened
    """The run was interrupted (Ctrl-C, SIGTERM) while this thread waited."""


class DeadlinePassedError(Exception):
    """A process ran past the deadline it was given."""


# ------------------------------------------------------------------ cancellation


_this_thread = threading.local()


@contextmanager
def cancelled_by(event: threading.Event) -> Iterator[None]:
    """Within the block, this thread's waits raise `Interrupted` once `event` is set."""
    previous = getattr(_this_thread, "cancel", None)
    _this_thread.cancel = event
    try:
        yield
    finally:
        _this_thread.cancel = previous


def is_cancelled() -> bool:
    event: threading.Event | None = getattr(_this_thread, "cancel", None)
    return event is not None and event.is_set()


def raise_if_cancelled(doing: str) -> None:
    if is_cancelled():
        raise Interrupted(f"interrupted while {doing}")


# ------------------------------------------------------------------ ties to this process


class GroupLeader(Protocol):
    """A process that leads its own process group: a `subprocess.Popen`, or a suite forked
    by the preloaded pytest (`scripts.warm.client.ForkedSuite`)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


L = TypeVar("L", bound=GroupLeader)

_live_lock = threading.Lock()
_live: dict[int, GroupLeader] = {}


PR_SET_PDEATHSIG = 1


def die_with_parent(sig: signal.Signals = signal.SIGTERM) -> None:
    """Have this process sent `sig` when its parent (nox, a shell, a CI runner) dies, so that
    killing nox stops the harness and with it the servers. Linux only; a no-op elsewhere."""
    parent = os.getppid()
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the signal was set
        os.kill(os.getpid(), sig)


def tied_command(argv: list[str], run_as: Account | None = None) -> list[str]:
    """`argv` run through setpriv: parent-death signal SIGKILL, and `run_as`'s identity."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        if run_as is not None:
            raise ProvisioningError(
                f"setpriv (util-linux) is needed to run servers as {run_as.name}; install it"
            )
        return argv  # the watchdog and the reaper still tie it to us
    identity = []
    if run_as is not None:
        identity = [f"--reuid={run_as.uid}", f"--regid={run_as.gid}", "--init-groups"]
    # setpriv sets the parent-death signal after switching identity (a switch clears it)
    return [setpriv, "--pdeathsig=KILL", *identity, "--", *argv]


@contextmanager
def process_group(
    argv: list[str],
    log_path: Path,
    *,
    run_as: Account | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 10.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` as a tied process group (see the module's docstring), its output appended to
    `log_path`; on exit stop the whole group, Ctrl-C and errors included."""
    raise_if_cancelled(f"starting {Path(argv[0]).name}")
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(  # noqa: S603 - argv built from located programs
                tied_command(argv, run_as),
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ProvisioningError(f"cannot run {argv[0]}: {exc}") from exc
    with tied_group(process, stop_signal=stop_signal, stop_timeout=stop_timeout):
        yield process


@contextmanager
def tied_group(
    process: L, *, stop_signal: signal.Signals = signal.SIGTERM, stop_timeout: float = 10.0
) -> Iterator[L]:
    """Tie the process group `process` leads to this process (the watchdog, the run folder's
    record, `kill_all_groups`) and stop the whole group on exit."""
    record: Path | None = None
    try:
        with _live_lock:
            _live[process.pid] = process
        identity = runs.ProcessIdentity.of(process.pid)
        if identity is not None:
            WATCHDOG.watch_group(identity.pid, identity.start_ticks)
            record = runs.record_process(identity)
        yield process
    finally:
        stop_group(process, stop_signal, CANCELLED_STOP_S if is_cancelled() else stop_timeout)
        WATCHDOG.forget_group(process.pid)
        if record is not None:
            record.unlink(missing_ok=True)
        with _live_lock:
            _live.pop(process.pid, None)


def stop_group(process: GroupLeader, stop_signal: signal.Signals, timeout: float) -> None:
    """Ask the process group to stop; kill it when it does not within `timeout` seconds."""
    if process.poll() is None:
        _signal_group(process.pid, stop_signal)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout)
    # kill anything left in the group (backends of a killed server, xdist workers)
    _signal_group(process.pid, signal.SIGKILL)
    process.wait()


def kill_all_groups() -> int:
    """SIGKILL every process group this process started and has not stopped yet (for when
    the threads that own them do not stop in time); how many there were."""
    with _live_lock:
        live = list(_live)
    for pgid in live:
        _signal_group(pgid, signal.SIGKILL)
    return len(live)


def live_groups() -> int:
    with _live_lock:
        return len(_live)


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.killpg(pgid, sig)


# ------------------------------------------------------------------ waiting


def wait_for_exit(process: GroupLeader, *, deadline: float, doing: str) -> int:
    """The exit code of `process`; `DeadlinePassedError` after `deadline` (monotonic clock),
    `Interrupted` when this thread is cancelled."""
    while True:
        remaining = deadline - time.monotonic()
        try:
            return process.wait(timeout=max(0.0, min(POLL_S, remaining)))
        except subprocess.TimeoutExpired:
            raise_if_cancelled(doing)
            if time.monotonic() >= deadline:
                raise DeadlinePassedError(doing) from None


def run_to_end(argv: list[str], log_path: Path, *, run_as: Account | None, timeout_s: float) -> int:
    """Run a one-off command (tied, bounded, interruptible) and return its exit code."""
    with process_group(argv, log_path, run_as=run_as) as process:
        return wait_for_exit(
            process, deadline=time.monotonic() + timeout_s, doing=f"running {Path(argv[0]).name}"
        )


def log_tail(log_path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


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

    `ask` must bound its own wait (connect and read timeouts). Polls with a short, growing
    interval (5 ms up to 100 ms). When the process exits first, raises `ProvisioningError`
    (or `PortTakenError`) at once, with the tail of its log; when the deadline passes, one
    saying how long it waited and the last answer it got; `Interrupted` on Ctrl-C.
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
        raise_if_cancelled(f"waiting for {what} to answer")
        try:
            return ask()
        except retry_on as exc:
            last_error = exc
        waited = time.monotonic() - started
        if waited > deadline_s:
            raise ProvisioningError(
                f"{what} was given up after {waited:.0f} s (the start limit is "
                f"{deadline_s:.0f} s); it runs but did not answer: {last_error}",
                log_tail(log_path),
            )
        time.sleep(interval)  # polling interval, not a wait for readiness
        interval = min(interval * 1.5, 0.1)
