"""Helpers for tests/harness/test_environments.py: a tiny project to build venvs for, stand-in
interpreters for the discovery logic, and a count of the build steps run."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from scripts.environments import builders
from scripts.sources import fetched

HARNESS_VERSION = f"{sys.version_info.major}.{sys.version_info.minor}"


def tiny_project(folder: Path, dependencies: Sequence[str]) -> Path:
    """A project in `folder` whose pyproject.toml asks for `dependencies`, built with hatchling
    (its isolated build starts in under a second; setuptools' takes about three)."""
    folder.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(json.dumps(requirement) for requirement in dependencies)
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n'
        f'[project]\nname = "tiny"\nversion = "0.1"\ndependencies = [{listed}]\n',
        encoding="utf-8",
    )
    (folder / "tiny").mkdir(exist_ok=True)
    (folder / "tiny" / "__init__.py").write_text("", encoding="utf-8")
    return folder


def stand_in_python(path: Path, version: str, missing: Sequence[str] = ()) -> Path:
    """A script at `path` that answers the interpreter probe as a Python `version` would
    (lacking the modules `missing`): enough for the discovery logic, which only runs it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    answer = json.dumps({"version": version, "missing": list(missing)})
    path.write_text(f"#!/bin/sh\necho '{answer}'\n", encoding="utf-8")
    path.chmod(0o755)
    return path


def shim_that_does_not_run(path: Path) -> Path:
    """What pyenv's shim does for a version pyenv has not selected: fail, saying so."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"#!/bin/sh\necho 'pyenv: {path.name}: command not found' >&2\nexit 127\n",
        encoding="utf-8",
    )
    path.chmod(0o755)
    return path


def fetched_package(cache: Path, name: str, program: str, version: str, provenance: str) -> Path:
    """A complete package folder of the fetch cache holding a stand-in `program`."""
    package = cache / "fetched" / name
    stand_in_python(package / "root" / "usr" / "bin" / program, version)
    (package / "bin").symlink_to(Path("root/usr/bin"))
    (package / fetched.PROVENANCE_FILE).write_text(provenance + "\n", encoding="utf-8")
    (package / fetched.COMPLETE_MARKER).touch()
    return package


def count_build_steps(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """Every command the builders run from now on (still run for real), in order."""
    ran: list[list[str]] = []
    real = builders.run_step

    def counted(
        argv: list[str],
        what: str,
        cwd: Path | None = None,
        environment: dict[str, str] | None = None,
    ) -> str:
        ran.append(argv)
        return real(argv, what, cwd, environment)

    monkeypatch.setattr(builders, "run_step", counted)
    return ran
