"""Where the harness reads and writes on disk."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = REPO_ROOT / "matrix.toml"
RESULTS_DIR = REPO_ROOT / "results"
REPORTS_DIR = REPO_ROOT / "reports"


def cache_dir() -> Path:
    """The folder fetched server binaries and prepared data directories live in.

    `COMPAT_CACHE_DIR` overrides it; otherwise `$XDG_CACHE_HOME/fastapi-compat-matrix`.
    """
    explicit = os.environ.get("COMPAT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "fastapi-compat-matrix"


def scratch_dir() -> Path:
    """A fast place for throwaway server data directories: tmpfs when the machine has one."""
    explicit = os.environ.get("COMPAT_SCRATCH_DIR")
    if explicit:
        return Path(explicit)
    shm = Path("/dev/shm")  # noqa: S108 - servers get subfolders with unguessable names
    if shm.is_dir() and os.access(shm, os.W_OK):
        return shm
    import tempfile

    return Path(tempfile.gettempdir())
