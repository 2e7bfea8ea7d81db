"""The fetch cache's package folders: `<cache>/fetched/<kind>-<spec>/`, each with a `bin` link.

A fetcher builds its folder in a work folder beside it, under a file lock (parallel runs may
fetch the same package), then renames it into place and marks it complete; a folder without
the marker is half done and is rebuilt. `scripts.sources.programs` searches every `bin` link.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path

from scripts import paths
from scripts.periodic import every

COMMAND_TIMEOUT_S = 900.0
PROGRESS_EVERY_S = 2.0
_PROGRESS: ContextVar[Callable[[str], None] | None] = ContextVar("fetch_progress", default=None)
COMPLETE_MARKER = ".compat-fetch-complete"
PROVENANCE_FILE = "provenance.txt"


class FetchError(Exception):
    """One fetch step failed; the message says which and why."""


def fetched_root() -> Path:
    return paths.cache_dir() / "fetched"


def safe_name(spec: str) -> str:
    """A folder name for a package spec (`@scope/pkg@1.0` -> `scope_pkg_1.0`)."""
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", spec).strip("_")


@contextmanager
def locked(target: Path) -> Iterator[bool]:
    """Hold `<target>.lock`; yields True when `target` is complete already."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (target.parent / f"{target.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield (target / COMPLETE_MARKER).is_file()


def work_dir(target: Path) -> Path:
    work = target.parent / f".work-{target.name}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    return work


def install(work: Path, target: Path, bin_dir: Path, provenance: str) -> None:
    """Move the finished `work` folder to `target`, link `bin`, say where it came from
    (`debian sid mysql-server-core 9.7.4-2`), mark it complete."""
    (work / PROVENANCE_FILE).write_text(provenance + "\n")
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    (target / "bin").symlink_to(bin_dir)
    (target / COMPLETE_MARKER).touch()


def provenance_of(program: Path) -> str | None:
    """Where a fetched program came from, or None when it is not in the fetch cache."""
    root = fetched_root().resolve()
    resolved = program.resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        return None
    package = root / resolved.relative_to(root).parts[0]
    try:
        return (package / PROVENANCE_FILE).read_text().strip() or None
    except OSError:
        return None


@contextmanager
def reporting_progress_to(listener: Callable[[str], None] | None) -> Iterator[None]:
    """While the block runs, fetch steps report how far they got to `listener`."""
    token = _PROGRESS.set(listener)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def run_tool(
    argv: list[str],
    *,
    what: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    watch: Path | None = None,
) -> str:
    """Run a fetch tool; its standard output, or `FetchError` with the end of what it said.

    While it runs, its elapsed time (and the size of `watch`) goes to the progress listener."""
    try:
        with _reporting(what, watch):
            done = subprocess.run(  # noqa: S603 - fixed tools with specs from matrix.toml
                argv,
                capture_output=True,
                text=True,
                cwd=cwd,
                env=env,
                timeout=COMMAND_TIMEOUT_S,
                check=False,
            )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise FetchError(f"{what} failed: {exc}") from exc
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        raise FetchError(f"{what} exited with code {done.returncode}: {' | '.join(output[-5:])}")
    return done.stdout


@contextmanager
def _reporting(what: str, watch: Path | None) -> Iterator[None]:
    """Every PROGRESS_EVERY_S until the block ends: `<what>: 12.3 MB, 6 s` to the listener."""
    report = _PROGRESS.get()
    if report is None:
        yield
        return
    started = time.monotonic()

    def heartbeat() -> None:
        size = f"{_megabytes(watch):.1f} MB, " if watch is not None else ""
        report(f"{what}: {size}{time.monotonic() - started:.0f} s")

    with every(PROGRESS_EVERY_S, heartbeat, name="fetch-progress"):
        yield


def _megabytes(folder: Path) -> float:
    total = 0
    for root, _, files in os.walk(folder):
        for name in files:
            with suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total / 1e6
