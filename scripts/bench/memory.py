"""The memory a process and all its descendants hold, sampled while it runs.

A process's share is its PSS (`/proc/<pid>/smaps_rollup`: shared pages split among the
processes sharing them, so a tree's sum counts each page once), or its RSS where PSS cannot be
read. Servers run as another account; as root their files are readable, otherwise they are
counted by RSS from `/proc/<pid>/status` or, failing that, not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.periodic import every

PROC = Path("/proc")
SAMPLE_EVERY_S = 0.2


def parent_of(stat_line: str) -> int:
    """The parent pid in a `/proc/<pid>/stat` line (the name in parentheses may hold spaces)."""
    return int(stat_line[stat_line.rindex(")") + 2 :].split()[1])


def parents(proc: Path = PROC) -> dict[int, int]:
    """Every live process's parent, by pid."""
    found: dict[int, int] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            found[int(entry.name)] = parent_of((entry / "stat").read_text())
        except (OSError, ValueError):
            continue  # gone meanwhile
    return found


def descendants(root: int, parent_by_pid: Mapping[int, int]) -> set[int]:
    """`root` and every process below it."""
    children: dict[int, list[int]] = {}
    for pid, parent in parent_by_pid.items():
        children.setdefault(parent, []).append(pid)
    tree = {root}
    todo = [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


def kib_field(text: str, name: str) -> int | None:
    """The `<name>: <n> kB` field of a /proc memory file, in KiB."""
    for line in text.splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    return None


def process_kib(pid: int, proc: Path = PROC) -> int:
    """One process's memory in KiB: PSS, else RSS, else 0 (gone, or not readable)."""
    for file, name in (("smaps_rollup", "Pss"), ("status", "VmRSS")):
        try:
            value = kib_field((proc / str(pid) / file).read_text(), name)
        except OSError:
            continue
        if value is not None:
            return value
    return 0


def tree_kib(root: int, proc: Path = PROC) -> int:
    """The memory of `root` and its descendants now, in KiB."""
    return sum(process_kib(pid, proc) for pid in descendants(root, parents(proc)))


@dataclass
class PeakMemory:
    """The largest tree total seen so far, and how many samples were taken."""

    peak_kib: int = 0
    samples: int = 0

    def add(self, kib: int) -> None:
        self.peak_kib = max(self.peak_kib, kib)
        self.samples += 1

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024


@contextmanager
def peak_memory(root: int, every_s: float = SAMPLE_EVERY_S) -> Iterator[PeakMemory]:
    """Sample the memory of `root`'s tree every `every_s` from a thread while the block runs."""
    peak = PeakMemory()

    def sample() -> None:
        peak.add(tree_kib(root))

    with every(every_s, sample, name=f"memory-of-{root}"):
        yield peak
