"""Every wait is bounded and interruptible: a listener that never speaks, a server that never
answers, Ctrl-C while a server starts, and a cell thread that does not stop."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from scripts import schedule
from scripts.backends import NotAnsweringError
from scripts.backends.mysql import mysql_protocol_version
from scripts.matrix import Cell
from scripts.paths import REPO_ROOT
from scripts.plan import RunPlan
from scripts.providers.base import ProvisioningError
from scripts.providers.ports import free_port
from scripts.providers.runs import start_ticks
from scripts.sources import binaries as binaries_module
from scripts.sources.binaries import BinariesProvider
from tests.harness.fault_support import recorded_processes, silent_redis_folder, silent_redis_matrix
from tests.harness.matrix_support import harness_environment_cell
from tests.harness.providers_support import binaries_spec
from tests.harness.scratch_support import leftovers


@pytest.fixture
def silent_listener() -> Iterator[int]:
    """A port on which something accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


@pytest.fixture
def silent_redis_bin() -> Iterator[Path]:
    with silent_redis_folder() as folder:
        yield folder


@pytest.mark.timeout(30)
def test_the_mysql_probe_gives_up_on_a_listener_that_never_speaks(silent_listener: int) -> None:
    started = time.monotonic()
    with pytest.raises(NotAnsweringError, match="timed out"):
        mysql_protocol_version(f"mysql+pymysql://root:pw@127.0.0.1:{silent_listener}/mysql", 0.5)
    assert time.monotonic() - started < 10


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_mariadb_starts_elsewhere_when_a_silent_listener_holds_its_port(
    scratch: Path, silent_listener: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    ports = iter([silent_listener])
    monkeypatch.setattr(binaries_module, "free_port", lambda: next(ports, None) or free_port())
    spec = binaries_spec("mariadb", "10.11")
    with BinariesProvider(spec, spec.sources[0]).start() as server:  # type: ignore[arg-type]
        assert make_url(server.url).port != silent_listener
        assert server.reported_version.startswith("10.11")
    assert leftovers(scratch) == []


@pytest.mark.slow
@pytest.mark.timeout(60)
def test_a_server_that_never_answers_is_given_up_at_the_start_limit_with_the_true_reason(
    scratch: Path, silent_redis_bin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binaries_module, "START_DEADLINE_S", 2.0)
    spec = binaries_spec("redis", "7.0", paths=(silent_redis_bin,))
    started = time.monotonic()
    with (
        pytest.raises(ProvisioningError) as raised,
        BinariesProvider(spec, spec.sources[0]).start(),  # type: ignore[arg-type]
    ):
        pytest.fail("a server that never answers must not be reported as running")
    assert time.monotonic() - started < 15
    message = raised.value.message
    # the seconds waited are the wall clock's: on a loaded machine the last probe's read may end
    # past the limit, so the figure may exceed it but never fall short of it
    given_up = re.search(r"given up after (\d+) s \(the start limit is 2 s\)", message)
    assert given_up is not None, message
    assert int(given_up.group(1)) >= 2
    assert "it runs but did not answer" in message
    assert "Timeout" in message  # the last thing the probe saw: a read that timed out
    assert leftovers(scratch) == []


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_ctrl_c_while_a_server_starts_stops_the_run_at_once_and_leaves_nothing(
    scratch: Path, silent_redis_bin: Path, tmp_path: Path
) -> None:
    matrix = silent_redis_matrix(tmp_path / "matrix.toml", silent_redis_bin)
    harness = subprocess.Popen(  # noqa: S603
        [
            *(sys.executable, "-m", "scripts", "--matrix", str(matrix)),
            *("cell", "sqlite-stdlib", "--results", str(tmp_path / "results")),
        ],
        cwd=REPO_ROOT,
        env={**os.environ, "COMPAT_SCRATCH_DIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not recorded_processes(scratch):  # the server has started, and does not answer
        assert harness.poll() is None, harness.communicate()[0]
        assert time.monotonic() < deadline
        time.sleep(0.05)
    [server] = recorded_processes(scratch)
    harness.send_signal(signal.SIGINT)
    interrupted = time.monotonic()
    output, _ = harness.communicate(timeout=30)
    took = time.monotonic() - interrupted
    assert harness.returncode == 130, output
    assert took < 2.0, f"stopped {took:.1f} s after Ctrl-C"
    assert "interrupted: servers stopped" in output
    assert start_ticks(server) is None
    assert list(scratch.iterdir()) == []  # not even the run folder


def test_the_main_thread_does_not_wait_on_a_cell_that_never_stops(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    stuck = threading.Event()
    release = threading.Event()
    killed: list[int] = []

    def cell_that_ignores_ctrl_c(*args: object, **kwargs: object) -> None:
        stuck.set()
        release.wait(30)  # a cell thread stuck where nothing checks the cancel flag

    monkeypatch.setattr(schedule, "run_cell", cell_that_ignores_ctrl_c)
    monkeypatch.setattr(schedule, "kill_all_groups", lambda: killed.append(1) or 0)
    cell: Cell = harness_environment_cell("sqlite-stdlib")
    main = threading.get_ident()

    def press_ctrl_c() -> None:
        stuck.wait(10)
        signal.pthread_kill(main, signal.SIGINT)

    threading.Thread(target=press_ctrl_c, daemon=True).start()
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            schedule.run_cells(RunPlan((cell,), tmp_path, timeout=60))
        took = time.monotonic() - started
    finally:
        release.set()
    assert took < schedule.STOP_GRACE_S + 5
    assert killed == [1]  # what the stuck cell started is killed from the main thread
