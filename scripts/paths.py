"""Where the harness reads and writes on disk."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
MATRIX_FILE = REPO_ROOT / "matrix.toml"
RESULTS_DIR = REPO_ROOT / "results"
REPORTS_DIR = REPO_ROOT / "reports"
SCRATCH_ENV = "COMPAT_SCRATCH_DIR"
ROOT_CACHE_DIR = Path("/var/cache/fastapi-compat-matrix")
RUN_MARKERS_ENV = "COMPAT_RUN_MARKERS_DIR"
RUN_MARKERS = "compat-suite-runs"
SHM = Path("/dev/shm")  # noqa: S108 - every run gets its own folder in it (see scripts.providers.runs)


class ScratchFolderError(Exception):
    """The scratch folder cannot hold the servers' throwaway files; the message says the fix."""


def cache_dir() -> Path:
    """The folder fetched server binaries and prepared data directories live in.

    `COMPAT_CACHE_DIR` overrides it. Otherwise, as root, `/var/cache/fastapi-compat-matrix`:
    outside any home folder, so the unprivileged account the servers run as can read the
    programs without the harness touching a home folder's permissions. As anyone else,
    `$XDG_CACHE_HOME/fastapi-compat-matrix` (the servers run as that same user).
    """
    explicit = os.environ.get("COMPAT_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    if os.geteuid() == 0:
        return ROOT_CACHE_DIR
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "fastapi-compat-matrix"


BYTECODE_FOLDER = "bytecode"


def bytecode_environment() -> dict[str, str]:
    """Environment variables that make Python cache compiled modules in `<cache>/bytecode`.

    Without a cache every pytest process compiles each module it imports again and
    assertion-rewrites every plugin package (about 2.5 s per process here). Where
    `PYTHONDONTWRITEBYTECODE` is set, it is overridden for the processes the harness starts:
    the files go to the cache folder (`PYTHONPYCACHEPREFIX`), never into the checkout.
    """
    return {
        "PYTHONDONTWRITEBYTECODE": "",  # empty: Python writes bytecode again
        "PYTHONPYCACHEPREFIX": str(cache_dir() / BYTECODE_FOLDER),
    }


def scratch_dir() -> Path:
    """A fast, writable place for throwaway server files: `COMPAT_SCRATCH_DIR`, else tmpfs
    (`/dev/shm`) when the machine has one, else the temporary folder.

    Raises `ScratchFolderError` naming the folder, why it cannot be used and what to set.
    """
    explicit = os.environ.get(SCRATCH_ENV)
    if explicit:
        folder = Path(explicit).expanduser()
        why = "it is what COMPAT_SCRATCH_DIR names"
    elif SHM.is_dir() and os.access(SHM, os.W_OK):
        folder, why = SHM, "it is the machine's tmpfs"
    else:
        folder, why = Path(tempfile.gettempdir()), "it is the temporary folder"
    check_writable(folder, why)
    return folder


def check_writable(folder: Path, chosen_because: str) -> None:
    """Create and remove a folder inside `folder`: the only proof that servers can write there."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".compat-probe-", dir=folder)
        os.rmdir(probe)
    except OSError as error:
        reason = error.strerror or str(error)
        raise ScratchFolderError(
            f"the scratch folder {folder} ({chosen_because}) is not writable: {reason}; "
            f"set {SCRATCH_ENV} to a writable folder (tmpfs is fastest, e.g. /dev/shm)"
        ) from error


def run_markers_dir() -> Path:
    """Where each run of the suite leaves the marker naming its process
    (`scripts.pytest_plugin.naming`): `COMPAT_RUN_MARKERS_DIR`, else
    `<scratch>/compat-suite-runs-<uid>`. The harness points it at its own scratch folder,
    outside the run folder a killed run's watchdog removes, so that the
    next run can still tell a killed run's databases and Redis keys from a live one's."""
    explicit = os.environ.get(RUN_MARKERS_ENV)
    return Path(explicit).expanduser() if explicit else account_markers_folder(scratch_dir())


def account_markers_folder(scratch: Path) -> Path:
    """This account's run markers in `scratch`: one folder per account, or the first account to
    run the suite on a machine would own the folder and no other could leave its marker."""
    return scratch / f"{RUN_MARKERS}-{os.geteuid()}"


SUITE_ENVS = Path(".nox") / "suite-envs"


def suite_envs_dir(project: Path = REPO_ROOT) -> Path:
    """Where each cell's suite venv is kept (`scripts.environments.venvs`): the checkout's
    `.nox/suite-envs`, since each venv holds the checkout itself (`pip install -e .`)."""
    return project / SUITE_ENVS
