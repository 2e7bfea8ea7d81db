"""Making and filling one venv: with uv when it is there, with `python -m venv` + pip otherwise.

    builder = choose_builder()                      # UvBuilder (uv's PyPI wheel, or on PATH)
    builder.create(interpreter_path, folder)        # an empty venv
    builder.install(folder, ["-e", ".[test]", "sqlalchemy>=2.0,<2.1"], resolution="highest",
                    upgrade=False, cwd=project)
    builder.installed(folder)                       # {"sqlalchemy": "2.0.44", ...}

uv keeps its cache (`UV_CACHE_DIR`, by default `~/.cache/uv`), so a second venv with the same
packages is linked or copied from it, not downloaded. uv reads no `pip.conf`: an index other
than PyPI is given to it by `UV_INDEX_URL` / `UV_EXTRA_INDEX_URL` or a `uv.toml`. pip has no
`lowest-direct` resolution; asking it for one is `EnvironmentUnavailable`. A failed step raises
`EnvironmentUnavailable` with the tool's own message, trimmed to what explains it.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from scripts.environments.unavailable import EnvironmentUnavailable
from scripts.providers.process import tied_command

STEP_TIMEOUT_S = 1800.0
MESSAGE_LINES = 20
UNWRAPPED_COLUMNS = "1000"
_NOISE = re.compile(
    r"^(Using Python .* environment at|Resolved \d+|Prepared \d+|Installed \d+|Uninstalled \d+"
    r"|Audited \d+|warning: Failed to hardlink|\s+If the cache and target directories"
    r"|\s+If this is intentional)"
)


class Builder(Protocol):
    name: str

    def create(self, interpreter: Path, venv: Path) -> None: ...

    def install(
        self,
        venv: Path,
        requirements: Sequence[str],
        *,
        resolution: str,
        upgrade: bool,
        cwd: Path,
        overrides: Sequence[str] = (),
    ) -> None: ...

    def installed(self, venv: Path) -> dict[str, str]: ...


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def canonical_name(name: str) -> str:
    """PEP 503's normalised distribution name (`SQLAlchemy`, `typing_extensions` ->
    `sqlalchemy`, `typing-extensions`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def uv_program() -> Path | None:
    """uv from its PyPI wheel (the `uv` module's `find_uv_bin`), else `uv` on PATH."""
    try:
        module = importlib.import_module("uv")
        found = Path(module.find_uv_bin())
    except (ImportError, FileNotFoundError, AttributeError):
        on_path = shutil.which("uv")
        return Path(on_path) if on_path else None
    return found


def choose_builder() -> Builder:
    uv = uv_program()
    return UvBuilder(uv) if uv is not None else PipBuilder()


class UvBuilder:
    name = "uv"

    def __init__(self, program: Path) -> None:
        self.program = program

    def _run(self, *args: str, what: str, cwd: Path | None = None) -> str:
        environment = {**os.environ, "NO_COLOR": "1", "UV_PYTHON_DOWNLOADS": "never"}
        environment["COLUMNS"] = UNWRAPPED_COLUMNS  # one line per sentence of its messages
        environment.pop("VIRTUAL_ENV", None)  # `--python` names the venv; nothing else may
        # the machine's certificate store, as pip and the system's tools trust it: a proxy's
        # own CA lives there, not among uv's bundled roots (a user without SSL_CERT_FILE set
        # got "invalid peer certificate: UnknownIssuer")
        environment.setdefault("UV_SYSTEM_CERTS", "1")
        return run_step([str(self.program), "--no-progress", *args], what, cwd, environment)

    def create(self, interpreter: Path, venv: Path) -> None:
        self._run(
            "venv", "--quiet", "--python", str(interpreter), str(venv), what=f"uv venv {venv}"
        )

    def install(
        self,
        venv: Path,
        requirements: Sequence[str],
        *,
        resolution: str,
        upgrade: bool,
        cwd: Path,
        overrides: Sequence[str] = (),
    ) -> None:
        options = ["--python", str(venv_python(venv)), "--resolution", resolution]
        if upgrade:
            options.append("--upgrade")
        if overrides:
            listed = venv.parent / "overrides.txt"
            listed.write_text("".join(f"{line}\n" for line in overrides), encoding="utf-8")
            options += ["--override", str(listed)]
            requirements = [*requirements, *overrides]
        self._run(
            "pip",
            "install",
            *options,
            *requirements,
            what=f"uv pip install {' '.join(requirements)}",
            cwd=cwd,
        )

    def installed(self, venv: Path) -> dict[str, str]:
        listed = self._run(
            "pip",
            "list",
            "--format",
            "json",
            "--python",
            str(venv_python(venv)),
            what="uv pip list",
        )
        return _versions(listed)


class PipBuilder:
    name = "pip"

    def create(self, interpreter: Path, venv: Path) -> None:
        try:
            run_step([str(interpreter), "-m", "venv", str(venv)], f"python -m venv {venv}")
        except EnvironmentUnavailable as error:
            raise EnvironmentUnavailable(
                f"{error}\n(no uv here, and this interpreter cannot make a venv with pip; "
                "install uv, `pip install uv`, which needs no ensurepip)"
            ) from None

    def install(
        self,
        venv: Path,
        requirements: Sequence[str],
        *,
        resolution: str,
        upgrade: bool,
        cwd: Path,
        overrides: Sequence[str] = (),
    ) -> None:
        if overrides:
            raise EnvironmentUnavailable(
                "a requirement in place of the project's own (--pin) needs uv: `pip install uv`"
            )
        if resolution != "highest":
            raise EnvironmentUnavailable(
                f"resolution {resolution!r} needs uv (pip installs only the highest versions); "
                "install uv: `pip install uv`"
            )
        options = ["--upgrade", "--upgrade-strategy", "eager"] if upgrade else []
        argv = [str(venv_python(venv)), "-m", "pip", "install", "--disable-pip-version-check"]
        run_step([*argv, *options, *requirements], f"pip install {' '.join(requirements)}", cwd=cwd)

    def installed(self, venv: Path) -> dict[str, str]:
        argv = [str(venv_python(venv)), "-m", "pip", "list", "--format=json"]
        return _versions(run_step([*argv, "--disable-pip-version-check"], "pip list"))


def _versions(listed: str) -> dict[str, str]:
    try:
        rows = json.loads(listed)
        return {canonical_name(row["name"]): str(row["version"]) for row in rows}
    except (ValueError, KeyError, TypeError) as error:
        raise EnvironmentUnavailable(f"the installed packages' list is not JSON: {error}") from None


def run_step(
    argv: list[str],
    what: str,
    cwd: Path | None = None,
    environment: dict[str, str] | None = None,
) -> str:
    """Run one build step; its standard output, or `EnvironmentUnavailable` with its message."""
    try:
        done = subprocess.run(  # noqa: S603 - uv/pip/venv with the matrix's own requirements
            tied_command(argv),  # a killed harness takes a half-done install down with it
            capture_output=True,
            text=True,
            cwd=cwd,
            env=environment,
            timeout=STEP_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise EnvironmentUnavailable(f"{what} failed: {error}") from error
    if done.returncode != 0:
        said = tool_message(done.stderr or done.stdout)
        raise EnvironmentUnavailable(f"{what} exited with code {done.returncode}:\n{said}")
    return done.stdout


def tool_message(output: str) -> str:
    """What explains a failure in uv's or pip's output: from its first `error:` (or `ERROR:`)
    line on, without progress lines, at most `MESSAGE_LINES` lines."""
    lines = [line.rstrip() for line in output.splitlines() if line.strip()]
    lines = [line for line in lines if not _NOISE.match(line)]
    first = next((i for i, line in enumerate(lines) if line.lower().startswith("error")), 0)
    kept = lines[first : first + MESSAGE_LINES]
    if len(lines) - first > MESSAGE_LINES:
        kept.append(f"... ({len(lines) - first - MESSAGE_LINES} more lines)")
    return "\n".join(kept)
