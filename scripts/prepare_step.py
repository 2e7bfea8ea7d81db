"""The database-preparing step: the command that gives an empty database the service's schema.

    COMPAT_PREPARE_COMMAND   the command (`[suite] prepare` of the matrix file), run once
                             per cell with the suite's database URL naming its template
                             database; unset, the suite's own way of preparing it in its
                             process when it gives one (the bundled suite migrates in-process:
                             no interpreter to start, seconds less per cell on a loaded
                             machine), else `alembic upgrade head`
    COMPAT_MIGRATIONS_FILE   where the suite writes what the step did (the cell runner sets it
                             to results/<cell>/migrations.json and reads it into the result)

The cell runner sets `COMPAT_PREPARE_COMMAND` from the matrix file's `[suite] prepare`. A
failure is recorded with the step Alembic was running (its "Running
upgrade A -> B" line) and the server's message (the last exception line it printed).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from scripts.files import atomic_write
from scripts.paths import REPO_ROOT

PREPARE_COMMAND_ENV = "COMPAT_PREPARE_COMMAND"
MIGRATIONS_FILE_ENV = "COMPAT_MIGRATIONS_FILE"
DEFAULT_PREPARE_COMMAND = "alembic upgrade head"
MIGRATIONS_FILE = "migrations.json"
MESSAGE_CHARS = 2000

_RUNNING_STEP = re.compile(r"Running (?:upgrade|downgrade) (?P<before>\S*) -> (?P<after>[^,\s]+)")
_EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?[A-Z]\w*(?:Error|Exception|Failure)\b.*")

MigrationsState = Literal["passed", "failed"]


class PrepareCommandError(ValueError):
    """COMPAT_PREPARE_COMMAND cannot be run as written."""


@dataclass(frozen=True)
class MigrationsOutcome:
    """What preparing a cell's database did: passed, or the step that failed and why."""

    state: MigrationsState
    command: str
    step: str | None = None  # the revision being applied when it failed ("0002_posts_...")
    message: str | None = None  # the server's message (the error line the command printed)
    seconds: float = 0.0

    def line(self) -> str:
        """`passed` or `failed at 0002_x: (1054, "Unknown column ...")`."""
        if self.state == "passed":
            return "passed"
        where = f" at {self.step}" if self.step else ""
        return f"failed{where}: {self.message or 'no message'}"

    def to_json(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> MigrationsOutcome:
        if not isinstance(data, dict) or data.get("state") not in ("passed", "failed"):
            raise ValueError(f"not a migrations outcome: {data!r}")
        return cls(
            state=data["state"],
            command=str(data.get("command", "")),
            step=_optional_str(data.get("step")),
            message=_optional_str(data.get("message")),
            seconds=float(data.get("seconds", 0.0)),
        )


def _optional_str(value: object) -> str | None:
    return None if value is None else str(value)


def prepare_command(given: str | None = None) -> list[str]:
    """The command (`given`, else the setting), split like a shell would; the program is
    looked for beside this Python first (the project's virtualenv need not be on PATH)."""
    written = given or os.environ.get(PREPARE_COMMAND_ENV) or DEFAULT_PREPARE_COMMAND
    try:
        command = shlex.split(written)
    except ValueError as error:
        raise PrepareCommandError(f"{PREPARE_COMMAND_ENV}={written!r}: {error}") from None
    if not command:
        raise PrepareCommandError(
            f"{PREPARE_COMMAND_ENV} is set but empty; unset it for `{DEFAULT_PREPARE_COMMAND}`"
        )
    beside = Path(sys.executable).parent / command[0]
    if "/" not in command[0] and beside.is_file():
        command[0] = str(beside)
    return command


def run_prepare_step(
    command_env: Mapping[str, str],
    in_process: Callable[[], MigrationsOutcome] | None = None,
    cwd: Path | None = None,
    command: str | None = None,
) -> MigrationsOutcome:
    """Prepare the suite's template database; never raises for the step's own failure.

    `command_env` is what the command's environment adds: the database's URL under the name
    the service reads it from (and the SQLite module's, if any), as the caller names them.
    `in_process` is the suite's own way of doing what the default command does, taken when no
    command is set (`[suite] prepare` left out). `command` is the one to run (else the
    setting's); it runs in `cwd` (the repository's root by default).
    """
    if not (command or os.environ.get(PREPARE_COMMAND_ENV)) and in_process is not None:
        return in_process()
    argv = prepare_command(command)
    shown = shlex.join([Path(argv[0]).name, *argv[1:]])
    env = {**os.environ, **(command_env or {})}
    started = time.monotonic()
    try:
        done = subprocess.run(  # noqa: S603 - the project's own setting
            argv, cwd=cwd or REPO_ROOT, env=env, capture_output=True, text=True, check=False
        )
    except OSError as error:
        return MigrationsOutcome("failed", shown, None, f"cannot run {shown}: {error}")
    took = round(time.monotonic() - started, 3)
    if done.returncode == 0:
        return MigrationsOutcome("passed", shown, seconds=took)
    output = f"{done.stdout}\n{done.stderr}"
    return MigrationsOutcome("failed", shown, failed_step(output), server_message(output), took)


def error_line(error: BaseException) -> str:
    """`sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) ...`, as Alembic prints it."""
    lines = str(error).strip().splitlines()
    kind = type(error)
    return f"{kind.__module__}.{kind.__qualname__}: {lines[0] if lines else ''}"[:MESSAGE_CHARS]


def failed_step(output: str) -> str | None:
    """The revision Alembic was applying last (its last "Running upgrade A -> B" line)."""
    steps = _RUNNING_STEP.findall(output)
    return steps[-1][1] if steps else None


def server_message(output: str) -> str:
    """The last exception line of the output (the server's error), else its last line."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line for line in lines if _EXCEPTION_LINE.match(line)]
    chosen = errors[-1] if errors else (lines[-1] if lines else "the command printed nothing")
    return chosen[:MESSAGE_CHARS]


def write_outcome(outcome: MigrationsOutcome, path: Path | None = None) -> None:
    """Write the outcome where the cell runner asked (MIGRATIONS_FILE_ENV); else nowhere."""
    target = path or (
        Path(os.environ[MIGRATIONS_FILE_ENV]) if os.environ.get(MIGRATIONS_FILE_ENV) else None
    )
    if target is not None:
        atomic_write(target, json.dumps(outcome.to_json(), indent=2) + "\n")


def read_outcome(path: Path) -> MigrationsOutcome | None:
    """The outcome written at `path`; None when there is none (or it is unreadable)."""
    try:
        return MigrationsOutcome.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
