"""The one process runner: start a program as a process group tied to this process, wait for
it to answer or to end (bounded, interruptible), stop it, read its log's tail.

    with serving(argv, log_path, Readiness("redis-server", ping, (ConnectionError,))) as server:
        ...  # server.answer is what `ping` returned once it answered

Every program the harness and its tests start goes through `process_group` (`serving` is
`process_group` plus a wait until it answers): the servers and their setup commands, the
suite's pytest, the suite's own Redis, the service `nox -s fuzz` fuzzes, the report's
browser. `process_group`:
- starts it in a session of its own, so a Ctrl-C in the terminal reaches only the harness,
  which then stops the group itself;
- sends its output to a log file, whose last lines (`scripts.files.log_tail`) go with every
  error about it;
- ties it to the harness twice: a parent-death signal (SIGKILL, set by `setpriv
  --pdeathsig` right before exec), which fires when the *thread* that started it ends; and
  the watchdog (`scripts/providers/watchdog.py`), which kills it when the harness process
  ends, however it died (kill -9 of the harness or of its whole process group included);
- records it in the run folder (`scripts.providers.runs`) so that the next run reaps it
  should both ties fail;
- stops the whole group on exit: the stop signal, a bounded wait, then SIGKILL.

One program is started the same way but not tied to the process that started it: the private
Docker engine's `dockerd` (`scripts.docker_engine`), which belongs to every process using it
and is stopped by the last one to leave, whichever started it (`start_detached`,
`stop_detached`); each user's watchdog stops it should that user die last.

Waits check the calling thread's cancel event (`cancelled_by`) every `POLL_S` and raise
`Interrupted` once it is set, so a Ctrl-C in the main thread reaches a worker promptly.
"""

from __future__ import annotations

import ctypes
import os
import select
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, NamedTuple, Protocol, TypeVar

from scripts.files import log_tail
from scripts.providers import runs
from scripts.providers.accounts import Account
from scripts.providers.base import ProvisioningError
from scripts.providers.watchdog import WATCHDOG

T = TypeVar("T")

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


_NEVER_SET = threading.Event()


def pause(seconds: float) -> None:
    """Wait `seconds` between two polls, or less: until this thread's cancel event is set."""
    event: threading.Event = getattr(_this_thread, "cancel", None) or _NEVER_SET
    event.wait(seconds)


# ------------------------------------------------------------------ ties to this process


class GroupLeader(Protocol):
    """A process that leads its own process group: a `subprocess.Popen`, or a process known
    by its pid only (`ProcessById`)."""

    @property
    def pid(self) -> int: ...

    def poll(self) -> int | None: ...

    def wait(self, timeout: float | None = None) -> int: ...


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
                f"setpriv (util-linux) is needed to run servers as {run_as.name} and is not on"
                " PATH; install it, or put its folder on PATH"
            )
        return argv  # the watchdog and the reaper still tie it to us
    identity = []
    if run_as is not None:
        identity = [f"--reuid={run_as.uid}", f"--regid={run_as.gid}", "--init-groups"]
    # setpriv sets the parent-death signal after switching identity (a switch clears it)
    return [setpriv, "--pdeathsig=KILL", *identity, "--", *argv]


class Launch(NamedTuple):
    """How a program is started: as whom, in which folder, with which environment (None: ours)
    and which of our descriptors it inherits."""

    run_as: Account | None = None
    cwd: Path | None = None
    env: dict[str, str] | None = None
    pass_fds: Sequence[int] = ()


@contextmanager
def process_group(
    argv: list[str],
    log_path: Path,
    *,
    run_as: Account | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    pass_fds: Sequence[int] = (),
    stop_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 10.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` as a tied process group (see the module's docstring), its output appended to
    `log_path`; on exit stop the whole group, Ctrl-C and errors included."""
    process = _spawn(argv, log_path, Launch(run_as, cwd, env, pass_fds), tied=True)
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


@dataclass(frozen=True)
class Readiness(Generic[T]):
    """How to tell that a started program serves: `ask` returns (what it learnt: a version, a
    URL) once it does, and raises one of `retry_on` until then; `ask` bounds its own wait."""

    what: str
    """The program, as an error names it: `redis-server 7.0.15`."""
    ask: Callable[[], T]
    retry_on: tuple[type[BaseException], ...]
    deadline_s: float = 60.0


@dataclass(frozen=True)
class Serving(Generic[T]):
    """A started program that answered."""

    process: subprocess.Popen[bytes]
    answer: T
    log_path: Path


@contextmanager
def serving(
    argv: list[str],
    log_path: Path,
    ready: Readiness[T],
    *,
    run_as: Account | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    stop_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 10.0,
) -> Iterator[Serving[T]]:
    """`process_group`, entered once the program answers (`wait_until_answers`: a
    `ProvisioningError` with its log's tail when it ends first or misses the deadline)."""
    started = process_group(
        argv,
        log_path,
        run_as=run_as,
        cwd=cwd,
        env=env,
        stop_signal=stop_signal,
        stop_timeout=stop_timeout,
    )
    with started as process:
        answer = wait_until_ready(process, ready, log_path)
        yield Serving(process, answer, log_path)


def _spawn(
    argv: list[str],
    log_path: Path,
    how: Launch,
    *,
    tied: bool,
) -> subprocess.Popen[bytes]:
    """`argv` started in a session of its own, its output appended to `log_path`; with the
    parent-death signal when `tied`."""
    run_as, cwd, env, pass_fds = how
    raise_if_cancelled(f"starting {Path(argv[0]).name}")
    with log_path.open("ab") as log:
        try:
            return subprocess.Popen(  # noqa: S603 - argv built from located programs
                tied_command(argv, run_as) if tied else argv,
                cwd=cwd,
                env=env,
                pass_fds=tuple(pass_fds),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            raise ProvisioningError(f"cannot run {argv[0]}: {exc}") from exc


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


# ------------------------------------------------------------------ not tied: shared daemons

_detached_lock = threading.Lock()
_detached: dict[int, subprocess.Popen[bytes]] = {}
"""The detached groups this process started and has not stopped (it reaps them when it does)."""


def start_detached(
    argv: list[str],
    log_path: Path,
    ready: Readiness[T],
    *,
    stop_signal: signal.Signals = signal.SIGTERM,
    stop_timeout: float = 10.0,
) -> tuple[int, T]:
    """Start `argv` like `process_group` (own session, output to `log_path`) but not tied to
    this process: it runs on until some process calls `stop_detached` with its pid. Returns
    that pid and the answer, once it answers; when it does not, it is stopped and the
    `ProvisioningError` (with its log's tail) raised."""
    process = _spawn(argv, log_path, Launch(), tied=False)
    with _detached_lock:
        _detached[process.pid] = process
    try:
        answer = wait_until_ready(process, ready, log_path)
    except BaseException:
        stop_detached(process.pid, stop_signal, stop_timeout)
        raise
    return process.pid, answer


def stop_detached(pid: int, stop_signal: signal.Signals, timeout: float) -> None:
    """Stop the detached group `pid` leads, started by this process or by another one: the
    stop signal, a bounded wait, then SIGKILL (`stop_group`). Nothing when it is gone."""
    with _detached_lock:
        ours = _detached.pop(pid, None)
    if ours is not None:
        stop_group(ours, stop_signal, timeout)
        return
    leader = ProcessById.of(pid)
    if leader is not None:
        with closing(leader):
            stop_group(leader, stop_signal, timeout)


class ProcessById:
    """A process known by its pid only (another process's child), waited for through a pidfd."""

    def __init__(self, pid: int, pidfd: int) -> None:
        self.pid = pid
        self._pidfd = pidfd

    @classmethod
    def of(cls, pid: int) -> ProcessById | None:
        """The process `pid`, or None when there is none."""
        try:
            return cls(pid, os.pidfd_open(pid))
        except ProcessLookupError:
            return None

    def poll(self) -> int | None:
        with suppress(subprocess.TimeoutExpired):
            return self.wait(0)
        return None

    def wait(self, timeout: float | None = None) -> int:
        """0 once the process has ended (its exit code is its parent's to read)."""
        ended, _, _ = select.select([self._pidfd], [], [], timeout)
        if not ended:
            raise subprocess.TimeoutExpired(str(self.pid), timeout or 0.0)
        with suppress(ChildProcessError):  # our own child after all: reap it
            os.waitpid(self.pid, os.WNOHANG)
        return 0

    def close(self) -> None:
        os.close(self._pidfd)


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


def wait_until_ready(process: subprocess.Popen[bytes], ready: Readiness[T], log_path: Path) -> T:
    """`wait_until_answers` as `ready` says."""
    return wait_until_answers(
        process,
        ready.ask,
        ready.retry_on,
        what=ready.what,
        log_path=log_path,
        deadline_s=ready.deadline_s,
    )


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
    interval (5 ms up to 100 ms), spent waiting on this thread's cancel event. When the
    process exits first, raises `ProvisioningError` (or `PortTakenError`) at once, with the
    tail of its log; when the deadline passes, one saying how long it waited and the last
    answer it got; `Interrupted` on Ctrl-C.
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
        pause(interval)
        interval = min(interval * 1.5, 0.1)
