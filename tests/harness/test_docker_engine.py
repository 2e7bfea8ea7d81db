"""The private engine's life cycle, with a stand-in `dockerd` that answers `/_ping` on the
socket it is given: started once, joined by later users, stopped by the last one leaving
(a killed user does not keep it alive: its watchdog stops the engine when nobody else holds
it; a killed starter does not take it down from under its other users), and a dockerd that
cannot start named with its log."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import docker_engine
from scripts.docker_engine import EngineError, EngineLayout, answers, private_engine
from scripts.paths import REPO_ROOT
from tests.harness.fault_support import is_gone_within

STAND_IN_DOCKERD = """#!{python}
import os, socket, sys
args = dict(a.lstrip("-").split("=", 1) for a in sys.argv[1:] if "=" in a)
print("stand-in dockerd", " ".join(sys.argv[1:]), flush=True)
if args["storage-driver"] in os.environ.get("FAIL_DRIVERS", "").split(","):
    print(f"error initializing graphdriver: driver not supported: {{args['storage-driver']}}")
    sys.exit(1)
with open(args["pidfile"], "w") as pidfile:
    pidfile.write(str(os.getpid()))
server = socket.socket(socket.AF_UNIX)
server.bind(args["host"].removeprefix("unix://"))
server.listen()
while True:
    connection, _ = server.accept()
    connection.recv(1024)
    connection.sendall(b"HTTP/1.0 200 OK\\r\\n\\r\\nOK")
    connection.close()
"""


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A root folder for the engine, and the stand-in dockerd first on PATH."""
    if docker_engine.cannot_run_here():
        pytest.skip(f"no private engine here: {docker_engine.cannot_run_here()}")
    folder = tmp_path / "bin"
    folder.mkdir()
    program = folder / "dockerd"
    program.write_text(STAND_IN_DOCKERD.format(python=sys.executable))
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")
    monkeypatch.delenv("COMPAT_DOCKER_STORAGE_DRIVER", raising=False)
    return tmp_path / "engine"


def test_the_first_user_starts_it_later_ones_join_and_the_last_one_stops_it(
    stand_in: Path,
) -> None:
    layout = EngineLayout(stand_in)
    with private_engine(stand_in) as first:
        assert first.started_here
        assert first.storage_driver == "overlay2"
        assert answers(first.host)
        with private_engine(stand_in) as second:
            assert not second.started_here
            assert second.host == first.host
        assert answers(first.host)  # the first user still has it
    assert not answers(layout.host)
    assert not layout.pidfile.exists()


def test_a_user_killed_with_kill_9_does_not_keep_it_running(stand_in: Path) -> None:
    layout = EngineLayout(stand_in)
    with private_engine(stand_in):
        dead = subprocess.Popen([sys.executable, "-c", "pass"])
        dead.wait()
        started = docker_engine.process_start_time(os.getpid())
        (layout.users / f"{dead.pid}-{started}-0").touch()
    assert not answers(layout.host)


# A user that starts the engine, says dockerd's pid, and waits to be killed while it holds it.
STARTER = """
import sys, time
from pathlib import Path
from scripts.docker_engine import EngineLayout, private_engine
with private_engine(Path(sys.argv[1])) as engine:
    assert engine.started_here
    print(EngineLayout(Path(sys.argv[1])).pidfile.read_text(), flush=True)
    time.sleep(300)
"""
GONE_LIMIT_S = 15.0  # the watchdog's settling (2 s), a Python started, dockerd stopped


def start_a_user(root: Path) -> tuple[subprocess.Popen[bytes], int]:
    """(the user, the pid of the dockerd it started)."""
    user = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", STARTER, str(root)], cwd=REPO_ROOT, stdout=subprocess.PIPE
    )
    assert user.stdout is not None
    with user.stdout:
        return user, int(user.stdout.readline())


@pytest.fixture
def layout(stand_in: Path) -> Iterator[EngineLayout]:
    """The stand-in engine's layout; whatever a failed test leaves running is stopped after."""
    layout = EngineLayout(stand_in)
    yield layout
    docker_engine.stop(layout)


def kill(user: subprocess.Popen[bytes]) -> None:
    user.kill()
    user.wait()


def test_an_engine_whose_only_user_was_killed_is_stopped_by_that_users_watchdog(
    layout: EngineLayout,
) -> None:
    user, dockerd = start_a_user(layout.root)
    kill(user)
    assert is_gone_within(dockerd, GONE_LIMIT_S), "the engine outlived its only user"
    assert not answers(layout.host)


def test_an_engine_whose_starter_was_killed_runs_on_for_its_other_user_who_stops_it(
    layout: EngineLayout,
) -> None:
    starter, dockerd = start_a_user(layout.root)
    with private_engine(layout.root) as engine:
        assert not engine.started_here
        kill(starter)
        deadline = time.monotonic() + GONE_LIMIT_S
        while len(list(layout.users.iterdir())) > 1:  # its watchdog forgets it
            assert time.monotonic() < deadline, list(layout.users.iterdir())
            time.sleep(0.05)
        assert answers(engine.host)  # not tied to the process that started it
    assert not answers(layout.host)
    assert is_gone_within(dockerd, 5.0)  # stopped, though another process started it


def test_it_falls_back_to_vfs_where_overlay2_cannot_run_and_remembers(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIL_DRIVERS", "overlay2")
    with private_engine(stand_in) as engine:
        assert engine.storage_driver == "vfs"
    assert EngineLayout(stand_in).driver_file.read_text() == "vfs"


def test_a_dockerd_that_cannot_start_is_an_error_quoting_its_log(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAIL_DRIVERS", "overlay2,vfs")
    with pytest.raises(EngineError) as raised, private_engine(stand_in):
        pytest.fail("must not start")
    assert "driver not supported: overlay2" in str(raised.value)
    assert "driver not supported: vfs" in str(raised.value)


def test_no_dockerd_program_says_which_package_brings_it(
    stand_in: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(docker_engine, "DOCKERD_FOLDERS", ())
    with (
        pytest.raises(EngineError, match=r"apt-get install -y docker\.io"),
        private_engine(stand_in),
    ):
        pytest.fail("must not start")


def test_without_cap_sys_admin_no_engine_can_ever_run_here(tmp_path: Path) -> None:
    status = tmp_path / "status"
    status.write_text("Name:\tpython\nCapEff:\t00000000a80425fb\n")  # Docker's default set
    assert not docker_engine.has_capability(docker_engine.CAP_SYS_ADMIN, status)
    status.write_text("Name:\tpython\nCapEff:\t000001ffffffffff\n")
    assert docker_engine.has_capability(docker_engine.CAP_SYS_ADMIN, status)
