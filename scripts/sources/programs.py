"""Finding a server program of the requested version on this machine.

Looked for, in order: the `paths` given in matrix.toml, the folders of `PATH`, the Debian
layout (`/usr/lib/postgresql/<major>/bin`, `/usr/sbin`), and the fetch cache
(`<cache>/fetched/*/bin`, filled by `scripts.fetch`). Every candidate is asked for its
`--version`; the first whose version matches the requested one wins.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts import paths
from scripts.backends import ServerBackend
from scripts.versions import version_matches
from scripts.vocabulary import Program

VERSION_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class Candidate:
    """One program looked at, and what came of it (for the Unavailable reason)."""

    path: Path
    version: str | None
    problem: str | None  # why it does not run, when it does not

    def describe(self) -> str:
        if self.problem is not None:
            return f"{self.path} (does not run: {self.problem})"
        return f"{self.path} (reports {self.version})"


@dataclass(frozen=True)
class Search:
    found: Program | None
    folders: tuple[Path, ...]
    candidates: tuple[Candidate, ...]


def fetched_bin_dirs(cache: Path | None = None) -> list[Path]:
    """The `bin` links `scripts.fetch` leaves in each fetched package folder."""
    fetched = (cache or paths.cache_dir()) / "fetched"
    if not fetched.is_dir():
        return []
    return sorted(p for p in fetched.glob("*/bin") if p.is_dir())


def search_folders(backend: ServerBackend, extra: Sequence[Path] = ()) -> list[Path]:
    folders: list[Path] = list(extra)
    folders += [Path(p) for p in os.environ.get("PATH", "").split(os.pathsep) if p]
    for pattern in backend.debian_folders:
        if "*" in pattern:
            root, _, rest = pattern.partition("*")
            # Newest major first.
            matches = sorted(Path(root).glob("*" + rest), key=_major_key, reverse=True)
            folders += matches
        else:
            folders.append(Path(pattern))
    folders += fetched_bin_dirs()
    unique: list[Path] = []
    for folder in folders:
        if folder not in unique:
            unique.append(folder)
    return unique


def _major_key(path: Path) -> tuple[int, str]:
    name = path.parent.name
    return (int(name), name) if name.isdigit() else (-1, name)


def find_program(backend: ServerBackend, requested: str, extra: Sequence[Path] = ()) -> Search:
    """The first of the backend's programs whose `--version` matches `requested`."""
    folders = tuple(search_folders(backend, extra))
    candidates: list[Candidate] = []
    seen: set[Path] = set()
    for folder in folders:
        for name in backend.program_names:
            path = folder / name
            if not (path.is_file() and os.access(path, os.X_OK)):
                continue
            # Resolve the folder, not the file: some programs act on their own name
            # (Debian's redis-server is a link to redis-check-rdb).
            real = path.parent.resolve() / path.name
            if path.resolve() in seen:
                continue
            seen.add(path.resolve())
            candidate = probe_program(backend, real)
            candidates.append(candidate)
            if candidate.version is not None and version_matches(requested, candidate.version):
                return Search(Program(real, candidate.version), folders, tuple(candidates))
    return Search(None, folders, tuple(candidates))


def probe_program(backend: ServerBackend, path: Path) -> Candidate:
    stat = path.stat()
    return _probe_cached(backend, path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _probe_cached(backend: ServerBackend, path: Path, _mtime: int, _size: int) -> Candidate:
    try:
        done = subprocess.run(  # noqa: S603 - a located program asked for its version
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Candidate(path, None, str(exc))
    output = (done.stdout + done.stderr).strip()
    version = backend.program_version(output)
    if done.returncode != 0 or version is None:
        first_line = output.splitlines()[0] if output else f"exit code {done.returncode}"
        return Candidate(path, None, first_line[:300])
    return Candidate(path, version, None)
