"""The fetch cache's package folders: `<cache>/fetched/<kind>-<spec>/`, each with a `bin` link.

A fetcher builds its folder in a work folder beside it, under a file lock (parallel runs may
fetch the same package), then renames it into place and marks it complete; a folder without
the marker is half done and is rebuilt. `scripts.sources.programs` searches every `bin` link.
"""

from __future__ import annotations

import fcntl
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts import paths

COMMAND_TIMEOUT_S = 900.0
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


def run_tool(
    argv: list[str], *, what: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> str:
    """Run a fetch tool; its standard output, or `FetchError` with the end of what it said."""
    try:
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
