"""Finding a CPython of one major.minor version, or fetching it from Debian's archive.

    find_interpreter("3.12", None, fetch=False)
    -> Interpreter(path, "3.12.1", "pyenv 3.12.1 (/root/.pyenv/versions/3.12.1/...)")

Places, in order; the first candidate that runs, reports the asked version and imports ssl,
sqlite3 and ctypes (what the suite and uv need) wins:
  1. the interpreter running the harness (its venv's base), when it is the version asked;
  2. `python3.X`, then `python3`, on PATH;
  3. pyenv's versions folder (`$PYENV_ROOT/versions`, else `~/.pyenv/versions`): the newest
     patch release of that minor. pyenv's shims on PATH run only the versions pyenv selects,
     so they are no help; the folders are;
  4. the fetch cache (`<cache>/fetched/*/bin/python3.X`, `scripts.sources.fetched`);
  5. with `fetch=True` and a Debian source (`[python.debian."3.X"]`): the packages and their
     dependency closure fetched from that suite into the fetch cache, exactly as server programs
     are (`scripts.sources.debian.fetch_debian`: extracted, pointed at their suite's loader).

Every candidate is run (its real path: a fetched Python finds its standard library from where
its program file lies, not through the cache's `bin` link). None found raises
`EnvironmentUnavailable` listing every place and what it held, and how to provide one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from scripts.environments.unavailable import EnvironmentUnavailable
from scripts.matrix import DebianPackages
from scripts.sources import fetched
from scripts.sources.debian import fetch_debian, fetched_folder
from scripts.sources.fetched import FetchError

VERSION_PATTERN = re.compile(r"^3\.\d{1,2}$")
PROBE_TIMEOUT_S = 30.0
NEEDED_MODULES = ("ssl", "sqlite3", "ctypes")
_PROBE = f"""
import importlib, json, os, platform, sys
missing = []
for name in {NEEDED_MODULES!r}:
    try:
        importlib.import_module(name)
    except ImportError as error:
        missing.append(f"{{name}} ({{error}})")
print(json.dumps({{"version": platform.python_version(), "missing": missing}}))
"""


@dataclass(frozen=True)
class Interpreter:
    """A CPython to build suite venvs from: its real path, full version, where it came from."""

    path: Path
    version: str  # "3.12.1"
    provenance: str  # "pyenv 3.12.1 (/root/.pyenv/versions/3.12.1/bin/python3.12)"


class _RefusedError(Exception):
    """A candidate that does not run, is another version or lacks a module; str(): why."""


def find_interpreter(version: str, debian: DebianPackages | None, *, fetch: bool) -> Interpreter:
    """A CPython `version` ("3.12") from the places the module docstring lists, in that order."""
    if not VERSION_PATTERN.match(version):
        raise ValueError(f"{version!r} is not a Python version as major.minor, e.g. '3.12'")
    looked: list[str] = []
    places = (
        ("the harness's interpreter", _harness(), "none"),
        ("PATH", _on_path(f"python{version}"), f"no python{version}"),
        ("PATH", _on_path("python3"), "no python3"),
        ("pyenv", _in_pyenv(version), f"no {version}.N folder in {_pyenv_versions()}"),
        (
            "the fetch cache",
            _in_fetch_cache(version, debian),
            f"no package with python{version} in {fetched.fetched_root()}",
        ),
    )
    for place, candidates, nothing in places:
        found = _first_that_runs(version, place, candidates, looked, nothing)
        if found is not None:
            return found
    if debian is not None and fetch:
        found = _fetched_from_debian(version, debian, looked)
        if found is not None:
            return found
    elif debian is not None:
        looked.append(f"{debian}: not fetched (fetching was not asked for)")
    else:
        looked.append(f'Debian: matrix.toml names no [python.debian."{version}"] source')
    raise EnvironmentUnavailable(_not_found(version, looked))


# ------------------------------------------------------------------ the places


def _harness() -> Iterator[tuple[Path, str]]:
    """The harness's own Python (the base interpreter of its venv); the probe checks its version."""
    base = getattr(sys, "_base_executable", "") or sys.executable
    yield Path(base if os.path.isfile(base) else sys.executable), "the harness's interpreter"


def _on_path(name: str) -> Iterator[tuple[Path, str]]:
    found = shutil.which(name)
    if found is not None:
        yield Path(found), f"PATH {name}"


def _pyenv_versions() -> Path:
    root = os.environ.get("PYENV_ROOT") or str(Path.home() / ".pyenv")
    return Path(root).expanduser() / "versions"


def _in_pyenv(version: str) -> Iterator[tuple[Path, str]]:
    """`<versions>/3.12.N/bin/python3.12`, the newest patch release first."""
    folders = _pyenv_versions()
    releases: list[tuple[int, Path]] = []
    if folders.is_dir():
        pattern = re.compile(rf"^{re.escape(version)}\.(\d+)$")
        for folder in folders.iterdir():
            match = pattern.match(folder.name)
            if match:
                releases.append((int(match[1]), folder))
    for _, folder in sorted(releases, reverse=True):
        yield folder / "bin" / f"python{version}", "pyenv"


def _in_fetch_cache(version: str, debian: DebianPackages | None) -> Iterator[tuple[Path, str]]:
    """Complete fetched packages holding `python3.X`: the matrix's Debian source's first."""
    root = fetched.fetched_root()
    packages = sorted(root.glob(f"*/bin/python{version}")) if root.is_dir() else []
    if debian is not None:
        own = fetched_folder(debian.suite, debian.packages) / "bin" / f"python{version}"
        packages = [own, *(path for path in packages if path != own)] if own.exists() else packages
    for program in packages:
        package = program.parent.parent
        if (package / fetched.COMPLETE_MARKER).is_file():
            described = fetched.provenance_of(program) or f"fetched {package.name}"
            yield program, described


def _fetched_from_debian(
    version: str, debian: DebianPackages, looked: list[str]
) -> Interpreter | None:
    program_name = f"python{version}"
    try:
        fetch_debian(debian.suite, debian.packages, [program_name])
    except FetchError as error:
        looked.append(f"{debian}: the fetch failed: {error}")
        return None
    program = fetched_folder(debian.suite, debian.packages) / "bin" / program_name
    if not program.exists():
        looked.append(f"{debian}: fetched, but it holds no {program_name}")
        return None
    described = fetched.provenance_of(program) or str(debian)
    return _first_that_runs(version, str(debian), iter([(program, described)]), looked)


# ------------------------------------------------------------------ running a candidate


def _first_that_runs(
    version: str,
    place: str,
    candidates: Iterator[tuple[Path, str]],
    looked: list[str],
    nothing: str = "none",
) -> Interpreter | None:
    tried = False
    for path, described in candidates:
        tried = True
        real = path.resolve()
        try:
            full = _probe(real)
        except _RefusedError as why:
            looked.append(f"{place}: {path} {why}")
            continue
        if full.rpartition(".")[0] != version:
            looked.append(f"{place}: {path} is Python {full}")
            continue
        return Interpreter(real, full, f"{described} {full} ({real})")
    if not tried:
        looked.append(f"{place}: {nothing}")
    return None


def _probe(path: Path) -> str:
    """The full version of the Python at `path`, which must import `NEEDED_MODULES`."""
    try:
        done = subprocess.run(  # noqa: S603 - a candidate interpreter, asked its version
            [str(path), "-I", "-c", _PROBE],
            capture_output=True,
            text=True,
            timeout=PROBE_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise _RefusedError(f"does not run: {error}") from error
    if done.returncode != 0:
        said = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise _RefusedError(f"does not run (exit code {done.returncode}): {said}")
    try:
        answer = json.loads(done.stdout.strip().splitlines()[-1])
        full, missing = str(answer["version"]), list(answer["missing"])
    except (ValueError, IndexError, KeyError, TypeError) as error:
        raise _RefusedError(f"answered {done.stdout.strip()!r}, not its version") from error
    if missing:
        raise _RefusedError(f"is Python {full} without {', '.join(missing)}")
    return full


def _not_found(version: str, looked: list[str]) -> str:
    places = "\n".join(f"  - {line}" for line in looked)
    return (
        f"no Python {version} interpreter here; looked at:\n{places}\n"
        f"provide one: install it (a python{version} on PATH), `pyenv install {version}`, "
        "or name a Debian suite that carries it in matrix.toml, e.g.\n"
        f'  [python.debian."{version}"]\n  suite = "trixie"\n  packages = ["python{version}"]\n'
        "(the harness then fetches it from Debian's archive into its cache)"
    )
