"""The watchdog: kills the process groups a harness started as soon as that harness dies.

Run as `python -I -S watchdog.py` with the read end of a pipe as its standard input, in a
session of its own (so that killing the harness's process group spares it). The harness
alone holds the write end and sends one line per change:

    + <pgid> <start ticks>     a process group it started
    - <pgid>                   a group it stopped itself

End of file means the harness is gone, however it died (kill -9 included): the watchdog
then kills every group still listed whose leader is the same process, or whose members
started after it, and exits. It imports nothing of the harness, so it runs from its path.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys


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


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the harness's to handle
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    groups: dict[int, int] = {}
    for line in sys.stdin:
        parts = line.split()
        if len(parts) == 3 and parts[0] == "+":
            groups[int(parts[1])] = int(parts[2])
        elif len(parts) == 2 and parts[0] == "-":
            groups.pop(int(parts[1]), None)
    for pgid, started in groups.items():
        kill_group(pgid, started)


if __name__ == "__main__":
    main()
