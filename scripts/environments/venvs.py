"""One venv per interpreter, requirements and resolution: built once, reused while its key holds.

    suite_venv(interpreter=found, install=["-e", ".[test]"], pins=["sqlalchemy>=2.0,<2.1"],
               resolution="highest", refresh=False)
    -> SuiteVenv(python=<venv>/bin/python, python_version="3.12.1",
                 installed={"sqlalchemy": "2.0.44", ...}, key="3f2a...", reused=True, took_s=0.01)

The venvs live in the checkout's `.nox/suite-envs/<key>/` (`scripts.paths.suite_envs_dir`),
beside nox's own, rather than in the fetch cache that every checkout shares: `install` is run
from the checkout (`-e .[test]`), so a venv belongs to the checkout it was built from, and
removing `.nox` removes them too. What is shared between checkouts is uv's own cache of
wheels, so another checkout's venvs are quick to build all the same.

The key is the sha256 of the interpreter's real path and full version, the `install`
arguments, the content of the project's `pyproject.toml`, the pins (sorted), the resolution
and the builder (uv or pip). Its folder holds:
  venv/            the venv itself
  key.json         what the key was made of, for a reader
  installed.json   distribution (canonical name) -> version, read from the venv after each resolve
  resolved-on      the date of the last resolve (YYYY-MM-DD)
  complete         written last: a folder without it was interrupted and is built again

A venv resolved today is reused without running anything. One resolved on an earlier day, or
asked with `refresh=True`, is installed again with `--upgrade`, so floating pins move at most
once a day and the versions recorded move with them. `refresh=True` re-resolves a key once per
harness process: the cells of one run that share a venv share its fresh resolve, rather than
each upgrading it again under the suites of the others. One lock file per key
(`<key>.lock`, fcntl) makes cells asking for the same key wait for one build. A failed build
or resolve removes the folder (nothing half-built stays) and raises `EnvironmentUnavailable`
with the resolver's message.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts import paths
from scripts.environments.builders import Builder, choose_builder, venv_python
from scripts.environments.interpreters import Interpreter

RESOLUTIONS = ("highest", "lowest-direct")
VENV_FOLDER = "venv"
KEY_FILE = "key.json"
INSTALLED_FILE = "installed.json"
RESOLVED_ON_FILE = "resolved-on"
COMPLETE_FILE = "complete"
_RESOLVED_IN_THIS_PROCESS: set[Path] = set()
"""Venv folders this process built or re-resolved (read and written under the key's lock)."""
FOLDER_KEY_CHARS = 20
"""The folder is named by the key's first characters: a long path would make the venv's
scripts' `#!` lines longer than Linux reads (127 bytes)."""


@dataclass(frozen=True)
class SuiteVenv:
    """A cell's suite venv: its Python, what is installed in it, whether it was reused."""

    python: Path
    python_version: str
    installed: dict[str, str]  # canonical distribution name -> version
    key: str
    reused: bool  # True: nothing was installed by this call
    took_s: float


def suite_venv(
    *,
    interpreter: Interpreter,
    install: Sequence[str],
    pins: Sequence[str],
    resolution: str,
    refresh: bool,
    overrides: Sequence[str] = (),
    project: Path = paths.REPO_ROOT,
) -> SuiteVenv:
    """The venv of `interpreter` with `install` (pip-style arguments, run from `project`) and
    `pins` installed together, built or re-resolved when needed; see the module docstring.
    `overrides` are requirements that take the place of every requirement of the same
    distribution, the project's own included (uv's `--override`: a floor's probe installs a
    release below what pyproject.toml allows so)."""
    started = time.monotonic()
    if resolution not in RESOLUTIONS:
        raise ValueError(f"resolution {resolution!r} is not one of {', '.join(RESOLUTIONS)}")
    builder = choose_builder()
    inputs = key_inputs(interpreter, install, pins, resolution, builder.name, project)
    if overrides:  # only then: the keys of venvs without overrides stay as they were
        inputs["overrides"] = sorted(overrides)
    key = venv_key(inputs)
    folder = paths.suite_envs_dir(project) / key[:FOLDER_KEY_CHARS]
    with _key_lock(folder):
        complete = (folder / COMPLETE_FILE).is_file()
        fresh = folder in _RESOLVED_IN_THIS_PROCESS if refresh else _resolved_today(folder)
        if complete and fresh:
            installed = json.loads((folder / INSTALLED_FILE).read_text(encoding="utf-8"))
            reused = True
        else:
            request = _Request(
                interpreter.path, (*install, *pins), resolution, project, tuple(overrides)
            )
            installed = _build(folder, inputs, request, builder, upgrade=complete)
            _RESOLVED_IN_THIS_PROCESS.add(folder)
            reused = False
    return SuiteVenv(
        python=venv_python(folder / VENV_FOLDER),
        python_version=interpreter.version,
        installed=installed,
        key=key,
        reused=reused,
        took_s=time.monotonic() - started,
    )


def key_inputs(
    interpreter: Interpreter,
    install: Sequence[str],
    pins: Sequence[str],
    resolution: str,
    builder: str,
    project: Path,
) -> dict[str, object]:
    """What a venv's key is the hash of."""
    pyproject = project / "pyproject.toml"
    content = pyproject.read_bytes() if pyproject.is_file() else b""
    return {
        "interpreter": os.path.realpath(interpreter.path),
        "python_version": interpreter.version,
        "install": list(install),
        "pyproject_sha256": hashlib.sha256(content).hexdigest(),
        "pins": sorted(pins),
        "resolution": resolution,
        "builder": builder,
    }


def venv_key(inputs: dict[str, object]) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def today() -> str:
    return datetime.date.today().isoformat()


def _resolved_today(folder: Path) -> bool:
    try:
        return (folder / RESOLVED_ON_FILE).read_text(encoding="utf-8").strip() >= today()
    except OSError:
        return False


@dataclass(frozen=True)
class _Request:
    """What one build installs, with what, from where."""

    interpreter: Path
    requirements: tuple[str, ...]  # `install` arguments, then pins
    resolution: str
    project: Path
    overrides: tuple[str, ...] = ()


def _build(
    folder: Path,
    inputs: dict[str, object],
    request: _Request,
    builder: Builder,
    *,
    upgrade: bool,
) -> dict[str, str]:
    """Create (or, `upgrade`, re-resolve) the venv in `folder`; installed versions.

    Whatever fails removes `folder`: the next call starts from nothing."""
    venv = folder / VENV_FOLDER
    try:
        if upgrade:
            (folder / COMPLETE_FILE).unlink()
        else:
            shutil.rmtree(folder, ignore_errors=True)  # an interrupted build's leftovers
            folder.mkdir(parents=True)
            (folder / KEY_FILE).write_text(json.dumps(inputs, indent=2) + "\n", encoding="utf-8")
            builder.create(request.interpreter, venv)
        builder.install(
            venv,
            request.requirements,
            resolution=request.resolution,
            upgrade=upgrade,
            cwd=request.project,
            overrides=request.overrides,
        )
        installed = builder.installed(venv)
        (folder / INSTALLED_FILE).write_text(
            json.dumps(installed, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        (folder / RESOLVED_ON_FILE).write_text(today() + "\n", encoding="utf-8")
        (folder / COMPLETE_FILE).write_text(today() + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return installed


@contextmanager
def _key_lock(folder: Path) -> Iterator[None]:
    """Hold `<folder>.lock`: one build per key at a time; the others wait, then reuse it."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    with (folder.parent / f"{folder.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield
