"""This run's folder in the scratch area, the marker that names its owner, and reaping what
dead runs left behind.

Each harness process gets one folder, `<scratch>/compat-run-<pid>-<start>`, holding
`run.json` (the harness's pid, its start time in clock ticks since boot, and the boot id:
together they name one process, which a live run cannot share even when pids are reused)
and `processes/<pid>`, one file per process group it started. Every server's files live in
a subfolder. A run removes its folder when it ends; the next run reaps the folder of a run
whose harness is provably gone: it kills the recorded process groups that are still the
same processes, then removes the folder.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from scripts import paths
from scripts.providers.watchdog import (
    WATCHDOG,
    kill_group,
    start_ticks,
)

RUN_PREFIX = "compat-run-"
MARKER = "run.json"
PROCESSES = "processes"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class ProcessIdentity:
    """One process for as long as it lives: its pid, start time and the boot it started in."""

    pid: int
    start_ticks: int
    boot_id: str

    @classmethod
    def of(cls, pid: int) -> ProcessIdentity | None:
        """The identity of the live process `pid`; None when there is none."""
        ticks = start_ticks(pid)
        return None if ticks is None else cls(pid, ticks, boot_id())

    @classmethod
    def load(cls, path: Path) -> ProcessIdentity | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(int(data["pid"]), int(data["start_ticks"]), str(data["boot_id"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def is_alive(self) -> bool:
        """True while this very process runs (a reused pid is another process)."""
        return self.boot_id == boot_id() and start_ticks(self.pid) == self.start_ticks

    def dump(self, path: Path) -> None:
        staging = path.with_name(f".{path.name}.tmp")
        staging.write_text(json.dumps(asdict(self)), encoding="utf-8")
        staging.replace(path)


def boot_id() -> str:
    try:
        return BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return "unknown"


class _CurrentRun:
    """This process's run folder in each scratch folder it used, created on first use and
    removed at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._folders: dict[tuple[int, Path], Path] = {}

    def folder(self) -> Path:
        scratch = paths.scratch_dir()
        key = (os.getpid(), scratch)
        with self._lock:
            folder = self._folders.get(key)
            if folder is None or not (folder / MARKER).is_file():
                folder = self._folders[key] = _create_run_folder(scratch)
                atexit.register(_remove_own_folder, folder, os.getpid())
                WATCHDOG.remove_on_death(str(folder))  # should we die without atexit
            return folder

    def remove_all(self) -> None:
        with self._lock:
            for (owner, _scratch), folder in self._folders.items():
                _remove_own_folder(folder, owner)


def _create_run_folder(scratch: Path) -> Path:
    me = ProcessIdentity.of(os.getpid())
    assert me is not None  # we are alive
    folder = scratch / f"{RUN_PREFIX}{me.pid}-{me.start_ticks}"
    # servers run as another account: it may enter the run folder, not list it
    folder.mkdir(mode=0o711, exist_ok=True)
    folder.chmod(0o711)
    (folder / PROCESSES).mkdir(mode=0o700, exist_ok=True)
    me.dump(folder / MARKER)
    return folder


def _remove_own_folder(folder: Path, owner: int) -> None:
    if os.getpid() == owner:  # not in a forked child
        shutil.rmtree(folder, ignore_errors=True)


_CURRENT = _CurrentRun()


def remove_run_folders() -> None:
    """Remove this process's run folders now (for an exit that skips `atexit`)."""
    _CURRENT.remove_all()


def run_folder() -> Path:
    """This run's folder in the scratch area (see the module's docstring)."""
    return _CURRENT.folder()


def record_process(identity: ProcessIdentity) -> Path | None:
    """Note a process group this run started (so that a later run can reap it if we die);
    the record's path, to remove once the group is stopped."""
    record = run_folder() / PROCESSES / str(identity.pid)
    try:
        identity.dump(record)
    except OSError:
        return None
    return record


@dataclass(frozen=True)
class ReapedRun:
    folder: Path
    killed: tuple[int, ...]


def dead_run_folders(scratch: Path) -> Iterator[tuple[Path, ProcessIdentity]]:
    """Run folders whose marker names a harness that no longer runs (others are left alone)."""
    for folder in sorted(scratch.glob(f"{RUN_PREFIX}*")):
        owner = ProcessIdentity.load(folder / MARKER)
        if owner is not None and not owner.is_alive():
            yield folder, owner


def reap_dead_runs(scratch: Path | None = None) -> list[ReapedRun]:
    """Kill what runs whose harness died left running, and remove their folders."""
    reaped: list[ReapedRun] = []
    for folder, _owner in dead_run_folders(scratch or paths.scratch_dir()):
        killed = [
            identity.pid
            for record in sorted((folder / PROCESSES).glob("[0-9]*"))
            if (identity := ProcessIdentity.load(record)) is not None and kill_group_of(identity)
        ]
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(ReapedRun(folder, tuple(killed)))
    return reaped


def kill_group_of(leader: ProcessIdentity) -> bool:
    """SIGKILL what still runs of the process group `leader` started; True when anything did."""
    return leader.boot_id == boot_id() and kill_group(leader.pid, leader.start_ticks)
