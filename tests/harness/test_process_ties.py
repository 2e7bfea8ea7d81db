"""No process the harness starts outlives it: the parent-death signal and the watchdog each
kill it on their own, whether the harness alone or its whole process group is killed; the
watchdog then removes the run's folder. Killing nox stops the harness itself."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.paths import REPO_ROOT
from scripts.providers.process import process_group
from scripts.providers.runs import start_ticks
from tests.harness.fault_support import (
    is_gone_within,
    recorded_processes,
    silent_redis_folder,
    silent_redis_matrix,
)

DEATH_LIMIT_S = 5.0

# A stand-in harness: starts a "server" through the process runner (`process_group`, or
# `serving` when told: the same with a readiness wait), says its pid, waits.
HARNESS = """
import sys, time
from pathlib import Path
from scripts.providers import process
if "no-watchdog" in sys.argv:
    process.WATCHDOG._send = lambda line: None
argv, log = ["/bin/sleep", "300"], Path(sys.argv[1])
if "serving" in sys.argv:
    ready = process.Readiness("sleep", lambda: None, (OSError,))
    with process.serving(argv, log, ready) as served:
        print(served.process.pid, flush=True)
        time.sleep(300)
with process.process_group(argv, log) as server:
    print(server.pid, flush=True)
    time.sleep(300)
"""


def start_harness(
    scratch: Path, *options: str, path: str | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """(harness pid, server pid) of a stand-in harness in a session of its own."""
    env = {**os.environ, "COMPAT_SCRATCH_DIR": str(scratch)}
    if path is not None:
        env["PATH"] = path
    harness = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", HARNESS, str(scratch / "server.log"), *options],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert harness.stdout is not None
    with harness.stdout:
        server = int(harness.stdout.readline())
    return harness, server


def wait_for_exec(pid: int, program: str) -> None:
    deadline = time.monotonic() + DEATH_LIMIT_S
    while os.path.realpath(f"/proc/{pid}/exe") != os.path.realpath(program):
        assert time.monotonic() < deadline, f"{pid} never ran {program}"
        time.sleep(0.01)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kill_group", "options", "path"),
    [
        pytest.param(False, (), None, id="harness-killed-both-ties"),
        pytest.param(True, (), None, id="process-group-killed-both-ties"),
        pytest.param(False, (), "/nonexistent", id="harness-killed-watchdog-only"),
        pytest.param(True, (), "/nonexistent", id="process-group-killed-watchdog-only"),
        pytest.param(False, ("no-watchdog",), None, id="harness-killed-death-signal-only"),
        pytest.param(False, ("serving",), None, id="serving-harness-killed-both-ties"),
        pytest.param(
            False, ("serving", "no-watchdog"), None, id="serving-harness-killed-death-signal-only"
        ),
        pytest.param(
            False, ("serving",), "/nonexistent", id="serving-harness-killed-watchdog-only"
        ),
    ],
)
def test_a_server_dies_within_seconds_of_its_harness_killed_hard(
    scratch: Path, kill_group: bool, options: tuple[str, ...], path: str | None
) -> None:
    harness, server = start_harness(scratch, *options, path=path)
    wait_for_exec(server, "/bin/sleep")  # past setpriv, which sets the parent-death signal
    if kill_group:
        os.killpg(harness.pid, signal.SIGKILL)
    else:
        harness.kill()
    harness.wait()
    assert is_gone_within(server, DEATH_LIMIT_S), f"server {server} outlived its harness"
    if "no-watchdog" not in options:  # the watchdog removes the run's folder too
        assert folder_gone_within(scratch, DEATH_LIMIT_S), list(scratch.iterdir())


def folder_gone_within(scratch: Path, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if not list(scratch.glob("compat-run-*")):
            return True
        time.sleep(0.05)
    return False


def test_a_group_stopped_by_the_harness_is_gone_with_its_record(scratch: Path) -> None:
    with process_group(["/bin/sleep", "300"], scratch / "server.log") as server:
        records = list(scratch.glob("compat-run-*/processes/*"))
        assert [record.name for record in records] == [str(server.pid)]
    assert start_ticks(server.pid) is None
    assert list(scratch.glob("compat-run-*/processes/*")) == []


# A stand-in nox: runs the harness as its child, as `nox -s "cell(...)"` does.
NOX = "import subprocess, sys; subprocess.run(sys.argv[1:])"


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_killing_nox_stops_the_harness_and_its_servers_within_seconds(
    scratch: Path, tmp_path: Path
) -> None:
    with silent_redis_folder() as bin_dir:
        matrix = silent_redis_matrix(tmp_path / "matrix.toml", bin_dir)
        nox = subprocess.Popen(  # noqa: S603
            [
                *(sys.executable, "-c", NOX, sys.executable, "-m", "scripts"),
                *("--matrix", str(matrix), "cell", "sqlite-stdlib"),
                *("--results", str(tmp_path / "results")),
            ],
            cwd=REPO_ROOT,
            env={**os.environ, "COMPAT_SCRATCH_DIR": str(scratch)},
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while not recorded_processes(scratch):  # the cell's server is starting
            assert nox.poll() is None
            assert time.monotonic() < deadline
            time.sleep(0.05)
        [server] = recorded_processes(scratch)
        nox.kill()
        nox.wait()
        assert is_gone_within(server, DEATH_LIMIT_S), f"server {server} outlived nox"
        assert folder_gone_within(scratch, DEATH_LIMIT_S), list(scratch.iterdir())
