"""Data directories prepared once per server program and copied for each start.

`initdb` takes about a second, `mariadb-install-db` half of one; a copy of the result takes
tens of milliseconds. A template is keyed by backend, program version and program path,
built under a file lock (parallel cells and xdist workers may ask at once) in the scratch
folder, then moved into `<cache>/templates/<key>` and marked complete.

The benchmark's `--cold-servers` (`RunPlan.cold_servers`) turns templates off: every start
initialises its data directory from scratch, as a harness without them would. It is the
benchmark's baseline, never faster.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from scripts import paths
from scripts.providers import runs
from scripts.providers.base import ProvisioningError
from scripts.vocabulary import Program

COMPLETE_MARKER = ".compat-template-complete"


TEMPLATE_FORMAT = "2"  # 2: password logins only (templates of 1 let anyone in over TCP)


def template_key(backend: str, program: Program, owner: int | None = None) -> str:
    """Backend, version, and a digest of the program's path, the template format and the
    uid that owns the files (a copy keeps its owner: another account could not use it)."""
    owner = os.geteuid() if owner is None else owner
    identity = f"{program.path}\0{TEMPLATE_FORMAT}\0{owner}"
    digest = hashlib.sha256(identity.encode()).hexdigest()[:12]
    return f"{backend}-{program.version}-{digest}"


def template_root() -> Path:
    return paths.cache_dir() / "templates"


def prepared_template(key: str, build: Callable[[Path], None]) -> Path:
    """The template data directory for `key`, built with `build(target)` when missing.

    `build` receives an empty, not yet existing folder path in the scratch area and must
    leave a complete data directory there (owned by whoever will run the server).
    """
    root = template_root()
    root.mkdir(parents=True, exist_ok=True)
    template = root / key
    if (template / COMPLETE_MARKER).is_file():
        return template
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (template / COMPLETE_MARKER).is_file():
            return template
        work = runs.run_folder() / f"template-{key}-{uuid.uuid4().hex[:8]}"
        try:
            build(work)
            shutil.rmtree(template, ignore_errors=True)
            copy_tree(work, template)
            (template / COMPLETE_MARKER).touch()
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return template


def copy_tree(source: Path, target: Path) -> None:
    """Copy a data directory keeping owners and modes (`cp -a` is ~3x faster than copytree)."""
    done = subprocess.run(  # noqa: S603
        ["cp", "-a", "--", str(source), str(target)],  # noqa: S607 - coreutils
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise ProvisioningError(copy_failure(source, target, done.returncode, done.stderr))


def copy_failure(source: Path, target: Path, exit_code: int, stderr: str) -> str:
    """One line for a failed copy: a full folder is named with the setting that moves it (cp
    prints a line per file it could not write); any other error by cp's first line."""
    lines = stderr.strip().splitlines()
    if any("No space left on device" in line for line in lines):
        setting, folder = _setting_that_moves(target)
        return (
            f"copying {source} to {target} failed: no space left on device in {folder}; "
            f"free some space there or set {setting} to a folder with room"
        )
    first = lines[0] if lines else f"cp exited with code {exit_code}"
    more = f" (and {len(lines) - 1} more line(s) like it)" if len(lines) > 1 else ""
    return f"copying {source} to {target} failed: {first}{more}"


def _setting_that_moves(target: Path) -> tuple[str, Path]:
    """The environment variable that moves the folder `target` lies in, and that folder."""
    cache = paths.cache_dir()
    if target.is_relative_to(cache):
        return "COMPAT_CACHE_DIR", cache
    try:
        scratch = paths.scratch_dir()
    except paths.ScratchFolderError:  # too full even for an empty folder
        scratch = Path(os.environ.get(paths.SCRATCH_ENV) or target.parent)
    return paths.SCRATCH_ENV, scratch if target.is_relative_to(scratch) else target.parent


def copy_template(template: Path, target: Path) -> None:
    """A fresh data directory at `target`, copied from `template` (without its marker)."""
    copy_tree(template, target)
    (target / COMPLETE_MARKER).unlink(missing_ok=True)
