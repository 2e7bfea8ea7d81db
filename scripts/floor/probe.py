"""One release tried: the cell run through the harness as a subprocess, its result read.

`python -m scripts cell <cell> --pin "<library>==<release>" --results <folder>`: the cell's
suite environment gets the release instead of whatever its stack pins for that library (the
environment cache keeps each one for the next search). The probe reads the cell's
result.json: `passed` (or `flaky`: it passed on the rerun) passes; any other state fails, with
the result's reason, so a release that does not install fails with the installer's message.

A cell that leaves no result, or whose result shows another release of the library than the
one asked for, means the harness itself went wrong: `HarnessError` stops the search rather
than count it against the release.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from scripts.files import log_tail
from scripts.floor.bisection import ProbeOutcome
from scripts.paths import REPO_ROOT, bytecode_environment
from scripts.results import RESULT_FILE, CellResult, read_result

HARNESS = (sys.executable, "-m", "scripts")
LOG_NAME = "harness.log"
STOP_GRACE_S = 120.0
"""Seconds the harness gets to stop its cell and servers after Ctrl-C before it is killed."""
PASSING_STATES = ("passed", "flaky")


class HarnessError(Exception):
    """The harness could not say whether a release passes; the message says what happened."""


@dataclass(frozen=True)
class HarnessProbe:
    """Runs one cell with one release of one library pinned, each probe in its own folder."""

    library: str
    cell: str
    matrix_file: Path
    results: Path
    """A folder of the search's own (never the report's results folder)."""
    harness: Sequence[str] = HARNESS
    """The command that runs the harness (a test gives a stand-in)."""
    extra_arguments: Sequence[str] = field(default=())
    """More options for `cell` (`--timeout 300`, `--no-fetch`)."""

    def __call__(self, release: Version, /) -> ProbeOutcome:
        folder = self.results / str(release)
        folder.mkdir(parents=True, exist_ok=True)
        log = folder / LOG_NAME
        command = cell_command(
            self.harness,
            matrix_file=self.matrix_file,
            cell=self.cell,
            pin=f"{self.library}=={release}",
            results=folder,
            extra=self.extra_arguments,
        )
        status = run_to_log(command, log)
        if not (folder / self.cell / RESULT_FILE).is_file():
            raise HarnessError(
                f"`{' '.join(command)}` exited {status} and left no {RESULT_FILE} for"
                f" {self.cell}; its last lines ({log}):\n{log_tail(log, 15)}"
            )
        return outcome_of(read_result(folder / self.cell), self.library, release)


def cell_command(
    harness: Sequence[str],
    *,
    matrix_file: Path,
    cell: str,
    pin: str,
    results: Path,
    extra: Sequence[str] = (),
) -> list[str]:
    """The harness's command line that runs one cell with one more pin."""
    return [
        *harness,
        "--matrix",
        str(matrix_file),
        "cell",
        cell,
        "--pin",
        pin,
        "--results",
        str(results),
        *extra,
    ]


def run_to_log(command: Sequence[str], log: Path) -> int:
    """Run `command` from the repository's root, its output into `log`; its exit status.

    On Ctrl-C (which the harness hears too) the harness is given `STOP_GRACE_S` to stop its
    servers, then killed."""
    env = {**os.environ, **bytecode_environment()}
    with (
        log.open("wb") as output,
        subprocess.Popen(  # noqa: S603 - the harness's own command line
            list(command), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, env=env
        ) as process,
    ):
        try:
            return process.wait()
        except KeyboardInterrupt:
            try:
                process.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                process.kill()
            raise


def outcome_of(result: CellResult, library: str, release: Version) -> ProbeOutcome:
    """Passed or failed, and why, from the cell's result; `HarnessError` when the cell ran
    another release than the one asked for (the pin did not take). A cell whose suite did
    not run (`error`, `unavailable`: the release did not install, say) is not checked."""
    ran = installed_release(result, library)
    suite_ran = result.state in ("passed", "flaky", "failed")
    if suite_ran and ran is not None and ran != release:
        raise HarnessError(
            f"{result.cell} ran {library} {ran}, not {release} as pinned: the harness did not"
            f" put the pin into the cell's environment (does `cell --pin` reach the suite's"
            " environment?)"
        )
    reason = f"{result.state}: {result.reason}" if result.reason else result.state
    if result.state in PASSING_STATES:
        return ProbeOutcome(True, None if result.state == "passed" else reason)
    return ProbeOutcome(False, reason)


def installed_release(result: CellResult, library: str) -> Version | None:
    """The release of `library` the cell's environment records, when it records one."""
    wanted = canonicalize_name(library)
    for name, version in result.environment.items():
        if canonicalize_name(name) == wanted:
            try:
                return Version(version)
            except InvalidVersion:
                return None
    return None
