"""A private Docker engine: `dockerd` on its own socket, data root and exec root.

    with private_engine() as engine:        # started, or joined when it already runs
        os.environ["DOCKER_HOST"] = engine.host

Used by `nox -s images` (the images it builds stay in the engine's data root, so they are
built once), by a run that names those images, and by the tests against a real engine.
Several processes may use the engine at once: each registers itself under a file lock,
and the last one to leave stops `dockerd`. A user that died (`kill -9`) is forgotten at the
next registration, so a dead user never keeps the engine alive.

`dockerd` is started and stopped by the process runner (`scripts.providers.process`): a
session of its own, its output in `run/dockerd.log` (whose tail an error quotes), polled
until it answers within `START_TIMEOUT_S`; stopped by signalling its process group, a bounded
wait, then SIGKILL. Unlike the servers it is not tied to the process that started it (no
parent-death signal): it belongs to all its users, and the last one stops it, whichever
started it. It is tied to each of its users through their watchdogs
(`scripts/providers/watchdog.py`) instead: a user that dies however it dies (kill -9
included) has its watchdog stop the engine, unless another live user still holds it.

The root defaults to `/var/lib/compat-docker` (`COMPAT_DOCKER_ROOT` moves it). The storage
driver is overlay2 where the kernel and file system allow it, else vfs (every container a
full copy of its image: slower, but works everywhere); `COMPAT_DOCKER_STORAGE_DRIVER`
forces one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from scripts.paths import REPO_ROOT
from scripts.providers.base import ProvisioningError
from scripts.providers.process import Readiness, start_detached, stop_detached
from scripts.providers.watchdog import WATCHDOG

DEFAULT_ROOT = Path("/var/lib/compat-docker")
STORAGE_DRIVERS = ("overlay2", "vfs")
DOCKERD_FOLDERS = (Path("/usr/sbin"), Path("/usr/bin"))  # root's PATH may lack sbin
CAP_SYS_ADMIN = 21
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
PING_TIMEOUT_S = 3.0

# What a user's watchdog runs when that user dies: `stop_if_unused` (argv: repository, root).
LEAVE_ON_DEATH = (
    "import sys; from pathlib import Path; sys.path.insert(0, sys.argv[1]);"
    " from scripts.docker_engine import EngineLayout, stop_if_unused;"
    " stop_if_unused(EngineLayout(Path(sys.argv[2])))"
)


class EngineError(Exception):
    """The private engine could not be started (the message says why and how to fix it)."""


@dataclass(frozen=True)
class EngineLayout:
    """Where one private engine keeps everything."""

    root: Path

    @property
    def socket(self) -> Path:
        return self.root / "run" / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def pidfile(self) -> Path:
        return self.root / "run" / "dockerd.pid"

    @property
    def log(self) -> Path:
        return self.root / "run" / "dockerd.log"

    @property
    def data_root(self) -> Path:
        return self.root / "data"

    @property
    def exec_root(self) -> Path:
        return self.root / "exec"

    @property
    def users(self) -> Path:
        return self.root / "run" / "users"

    @property
    def lock(self) -> Path:
        return self.root / "engine.lock"

    @property
    def driver_file(self) -> Path:
        return self.root / "storage-driver"


@dataclass(frozen=True)
class Engine:
    """A running private engine."""

    host: str
    storage_driver: str
    started_here: bool
    """True when this process started `dockerd`; False when it joined a running one."""


def default_root() -> Path:
    return Path(os.environ.get("COMPAT_DOCKER_ROOT") or DEFAULT_ROOT)


def cannot_run_here() -> str | None:
    """Why this machine can never run a private engine, or None when it can."""
    if os.uname().sysname != "Linux":
        return f"a Docker engine runs on Linux only (this is {os.uname().sysname})"
    if os.geteuid() != 0:
        return "starting dockerd needs root; run as root or point DOCKER_HOST at an engine"
    if not has_capability(CAP_SYS_ADMIN):
        return (
            "this process lacks CAP_SYS_ADMIN (an unprivileged container?), so dockerd cannot"
            " mount its file systems; run privileged or point DOCKER_HOST at an engine"
        )
    return None


def has_capability(bit: int, status: Path = Path("/proc/self/status")) -> bool:
    """Whether this process holds the capability `bit` (its effective set)."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> bit & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def dockerd_program() -> str:
    """The `dockerd` program, or `EngineError` saying how to install it."""
    found = shutil.which("dockerd") or next(
        (str(folder / "dockerd") for folder in DOCKERD_FOLDERS if (folder / "dockerd").is_file()),
        None,
    )
    if found is None:
        raise EngineError(
            "no dockerd program on this machine (to fix: apt-get install -y docker.io)"
        )
    return found


def ping(host: str, timeout_s: float = PING_TIMEOUT_S) -> None:
    """Raise `OSError`/`ValueError` unless the engine at a `unix://` host answers `/_ping`."""
    if not host.startswith("unix://"):
        raise ValueError(f"{host} is not a unix:// socket")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        connection.connect(host.removeprefix("unix://"))
        connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        status_line = connection.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200 " not in f"{status_line} ":
        raise ValueError(f"/_ping answered {status_line!r}")


def answers(host: str) -> bool:
    try:
        ping(host)
    except (OSError, ValueError):
        return False
    return True


@contextmanager
def private_engine(root: Path | None = None) -> Iterator[Engine]:
    """The private engine under `root`, started when it does not run; stopped by its last user."""
    layout = EngineLayout(root or default_root())
    reason = cannot_run_here()
    if reason is not None:
        raise EngineError(reason)
    for folder in (layout.data_root, layout.exec_root, layout.users):
        folder.mkdir(parents=True, exist_ok=True)
    layout.root.chmod(0o700)  # the socket gives root on this machine: nobody else may reach it
    with _locked(layout):
        _forget_dead_users(layout)
        started_here = not answers(layout.host)
        driver = _start(layout) if started_here else _recorded_driver(layout) or "unknown"
        me = _register(layout)
    leave = [sys.executable, "-c", LEAVE_ON_DEATH, str(REPO_ROOT), str(layout.root)]
    WATCHDOG.run_on_death(me.name, leave)
    try:
        yield Engine(host=layout.host, storage_driver=driver, started_here=started_here)
    finally:
        with _locked(layout):
            me.unlink(missing_ok=True)
            _stop_when_unused(layout)
        WATCHDOG.forget_command(me.name)


def stop_if_unused(layout: EngineLayout) -> None:
    """Stop the engine when no live process uses it (a dead user's watchdog calls this)."""
    with _locked(layout):
        _stop_when_unused(layout)


def _stop_when_unused(layout: EngineLayout) -> None:
    _forget_dead_users(layout)
    if not any(layout.users.iterdir()):
        stop(layout)


def stop(layout: EngineLayout) -> None:
    """Stop the engine's `dockerd` (it stops its containers), whichever process started it:
    TERM to its process group, a bounded wait, then KILL (the process runner's stop)."""
    pid = _dockerd_pid(layout)
    if pid is None:
        return
    stop_detached(pid, signal.SIGTERM, STOP_TIMEOUT_S)
    layout.pidfile.unlink(missing_ok=True)


def _start(layout: EngineLayout) -> str:
    program = dockerd_program()
    forced = os.environ.get("COMPAT_DOCKER_STORAGE_DRIVER")
    if forced and forced not in STORAGE_DRIVERS:
        raise EngineError(
            f"COMPAT_DOCKER_STORAGE_DRIVER={forced!r} is not one of {', '.join(STORAGE_DRIVERS)}"
        )
    recorded = _recorded_driver(layout)
    drivers = [forced] if forced else ([recorded] if recorded else list(STORAGE_DRIVERS))
    failures: list[str] = []
    for driver in drivers:
        try:
            _start_with(program, layout, driver)
        except EngineError as error:
            failures.append(f"{driver}: {error}")
            continue
        layout.driver_file.write_text(driver)
        return driver
    raise EngineError("dockerd did not start: " + " | ".join(failures))


def _start_with(program: str, layout: EngineLayout, driver: str) -> None:
    layout.socket.unlink(missing_ok=True)
    stale = _dockerd_pid(layout)
    if stale is not None:  # a dockerd that does not answer: stop it before starting another
        stop(layout)
    argv = [
        program,
        f"--storage-driver={driver}",
        "--iptables=false",
        "--ip6tables=false",
        f"--data-root={layout.data_root}",
        f"--exec-root={layout.exec_root}",
        f"--host={layout.host}",
        f"--pidfile={layout.pidfile}",
    ]
    layout.log.unlink(missing_ok=True)  # one log per start
    try:
        # the process runner, untied: the engine outlives this process until its last user
        # leaves (see the module's docstring)
        start_detached(
            argv,
            layout.log,
            Readiness(
                "dockerd", partial(ping, layout.host), (OSError, ValueError), START_TIMEOUT_S
            ),
            stop_timeout=STOP_TIMEOUT_S,
        )
    except ProvisioningError as error:
        tail = " | ".join(error.log_tail.splitlines()) or "(no log)"
        raise EngineError(f"{error.message}: {tail}") from None


def _recorded_driver(layout: EngineLayout) -> str | None:
    try:
        driver = layout.driver_file.read_text().strip()
    except OSError:
        return None
    return driver if driver in STORAGE_DRIVERS else None


def _dockerd_pid(layout: EngineLayout) -> int | None:
    try:
        pid = int(layout.pidfile.read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def process_start_time(pid: int) -> str | None:
    """The kernel's start time of `pid` (tells a live process from a reused pid)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _register(layout: EngineLayout) -> Path:
    pid = os.getpid()  # one entry per use: a process may hold the engine twice
    entry = layout.users / f"{pid}-{process_start_time(pid)}-{uuid.uuid4().hex[:8]}"
    entry.touch()
    return entry


def _forget_dead_users(layout: EngineLayout) -> None:
    for entry in layout.users.iterdir():
        pid_text, started, *_ = [*entry.name.split("-"), ""]
        pid = int(pid_text) if pid_text.isdigit() else None
        # a zombie is dead too: a killed user's watchdog runs before its parent reaps it
        if pid is None or not _alive(pid) or process_start_time(pid) != started:
            entry.unlink(missing_ok=True)


@contextmanager
def _locked(layout: EngineLayout) -> Iterator[None]:
    with layout.lock.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
