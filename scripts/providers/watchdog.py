"""The watchdog: kills the process groups a harness started as soon as that harness dies.

Run as `python -I -S watchdog.py` with the read end of a pipe as its standard input, in a
session of its own (so that killing the harness's process group spares it). The harness
alone holds the write end and sends one line per change:

    + <pgid> <start ticks>     a process group it started
    - <pgid>                   a group it stopped itself
    @ <folder>                 its run folder
    % <uid> <prefix>           shared memory its killed servers may leave (see below)
    ! <key> <JSON argv>        a command to run should it die (a shared daemon's leave)
    ~ <key>                    that command is no longer needed

End of file means the harness is gone, however it died (kill -9 included): the watchdog
then kills every group still listed whose leader is the same process, or whose members
started after it, waits (briefly) for them to end, removes the run folder and the shared
memory segments the killed programs left, runs the commands still listed (each bounded by
`COMMAND_LIMIT_S`), and exits.
This module imports nothing of the harness, so the watchdog runs from its path; `Watchdog`
is the harness's end of the pipe.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

SETTLE_S = 2.0  # how long killed groups get to end before their folder is removed
COMMAND_LIMIT_S = 60.0  # how long a command run on the harness's death may take
SHM = "/dev/shm"  # noqa: S108 - POSIX shared memory lives there


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def start_ticks(pid: int) -> int | None:
    """Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot;
    None when it is gone or a zombie (dead, waiting to be collected)."""
    fields = _stat_fields(pid)
    return int(fields[19]) if fields and len(fields) > 19 and fields[0] != "Z" else None


def group_of(pid: int) -> int | None:
    fields = _stat_fields(pid)
    return int(fields[2]) if fields and len(fields) > 2 else None


def kill_group(pgid: int, started: int) -> bool:
    """SIGKILL the process group whose leader `pgid` started at `started`; True when any of it
    still ran. While the leader is that same process the whole group is killed; when it is
    gone, only the members that started after it (its children); a pid now used by
    another process means the group is gone."""
    now = start_ticks(pgid)
    if now == started and group_of(pgid) == pgid:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:
            return False
        return True
    if now is not None:
        # the pid is another process's now: the kernel reuses no pid while a group of that
        # id has members, so nothing of the old group is left
        return False
    members = [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit()
        and group_of(int(entry)) == pgid
        and (start_ticks(int(entry)) or -1) >= started
    ]
    for member in members:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    return bool(members)


def remove_unused_segments(prefix: str, uid: int, shm: str = SHM) -> list[str]:
    """Remove the POSIX shared-memory segments (`/dev/shm/<prefix>*`) owned by `uid` that no
    process of `uid` holds open or mapped: left by a program of ours that was killed (initdb's
    bootstrap server keeps its segments there). `uid` is the harness's own servers' account,
    so nothing else's is touched."""
    candidates = []
    for name in sorted(os.listdir(shm)):
        path = os.path.join(shm, name)
        try:
            if name.startswith(prefix) and os.stat(path).st_uid == uid:
                candidates.append(path)
        except OSError:
            continue
    if not candidates:
        return []
    in_use = segments_in_use(uid, shm)
    removed = [path for path in candidates if path not in in_use]
    for path in removed:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
    return removed


def segments_in_use(uid: int, shm: str = SHM) -> set[str]:
    """Every path under `shm` a process of `uid` maps or holds open."""
    used: set[str] = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
            with open(f"/proc/{entry}/maps", encoding="utf-8", errors="replace") as maps:
                used.update(line.split(maxsplit=5)[-1].strip() for line in maps if shm in line)
            for descriptor in os.listdir(f"/proc/{entry}/fd"):
                try:
                    used.add(os.readlink(f"/proc/{entry}/fd/{descriptor}"))
                except OSError:
                    continue
        except OSError:
            continue
    return {path.removesuffix(" (deleted)") for path in used}


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the harness's to handle
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: dict[int, int] = {}
    folders: list[str] = []
    segments: set[tuple[str, int]] = set()
    commands: dict[str, list[str]] = {}
    for line in sys.stdin:
        kind, _, rest = line.rstrip("\n").partition(" ")
        if kind == "+":
            pgid, started = rest.split()
            groups[int(pgid)] = int(started)
        elif kind == "-":
            groups.pop(int(rest), None)
        elif kind == "@":
            folders.append(rest)
        elif kind == "%":
            uid, prefix = rest.split(" ", 1)
            segments.add((prefix, int(uid)))
        elif kind == "!":
            key, argv = rest.split(" ", 1)
            commands[key] = json.loads(argv)
        elif kind == "~":
            commands.pop(rest, None)
    for pgid, started in groups.items():
        kill_group(pgid, started)
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and any(group_alive(pgid) for pgid in groups):
        time.sleep(0.05)
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
    for prefix, uid in segments:
        remove_unused_segments(prefix, uid)
    for argv in commands.values():
        run_bounded(argv)


def run_bounded(argv: list[str]) -> None:
    """Run `argv` quietly; killed should it take longer than `COMMAND_LIMIT_S`."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(  # noqa: S603 - a command the harness gave us
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=COMMAND_LIMIT_S,
            check=False,
        )


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Watchdog:
    """The harness's end: one watchdog per harness process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._write_end: int | None = None
        self._owner: int | None = None

    def watch_group(self, pgid: int, start_ticks: int) -> None:
        self._send(f"+ {pgid} {start_ticks}")

    def forget_group(self, pgid: int) -> None:
        self._send(f"- {pgid}")

    def remove_on_death(self, folder: str) -> None:
        self._send(f"@ {folder}")

    def sweep_segments_on_death(self, prefix: str, uid: int) -> None:
        self._send(f"% {uid} {prefix}")

    def run_on_death(self, key: str, argv: list[str]) -> None:
        """Have `argv` run should this process die before `forget_command(key)`."""
        self._send(f"! {key} {json.dumps(argv)}")

    def forget_command(self, key: str) -> None:
        self._send(f"~ {key}")

    def _pipe(self) -> int:
        if self._write_end is not None and self._owner == os.getpid():
            return self._write_end
        read_end, write_end = os.pipe()  # both close on exec: no child of ours holds them
        try:
            os.posix_spawn(
                sys.executable,
                [sys.executable, "-I", "-S", os.path.abspath(__file__)],
                dict(os.environ),
                file_actions=[(os.POSIX_SPAWN_DUP2, read_end, 0)],
                setsid=True,  # killing the harness's process group spares it
            )
        finally:
            os.close(read_end)
        self._write_end, self._owner = write_end, os.getpid()
        return write_end

    def _send(self, line: str) -> None:
        with self._lock:
            for _ in range(2):  # a watchdog killed by someone else is replaced once
                try:
                    os.write(self._pipe(), line.encode() + b"\n")
                    return
                except BrokenPipeError:
                    if self._write_end is not None:
                        os.close(self._write_end)
                    self._write_end = None


WATCHDOG = Watchdog()


if __name__ == "__main__":
    main()
