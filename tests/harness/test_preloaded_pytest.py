"""The preloaded pytest: each fork runs the suite as a new interpreter would, in exactly the
environment it was asked for, and dies with whoever asked for it or with the server."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.cell import PROGRESS_PLUGIN, run_cell, suite_base_environment
from scripts.matrix import Cell, load_matrix
from scripts.paths import MATRIX_FILE, REPO_ROOT
from scripts.plan import RunPlan
from scripts.results import CellResult
from scripts.warm.client import (
    ForkedSuite,
    ForkServerGoneError,
    PreloadedPytest,
    preloaded_pytest,
    read_answer,
)
from scripts.warm.server import suite_module_names
from tests.harness.fault_support import KILLS_ITS_WORKER_ONCE

SEES_ITS_ENVIRONMENT = """
import os

def test_sees_what_it_was_asked_for():
    assert os.environ["PROBE"] == "asked"

def test_sees_nothing_of_the_servers_environment():
    assert "ONLY_THE_SERVER_HAS_THIS" not in os.environ

def test_fails_when_told():
    assert os.environ.get("FAIL") != "1"
"""

HANGS = """
import time

def test_hangs():
    time.sleep(120)
"""

PASSES_AND_FAILS = """
def test_passes():
    pass

def test_fails():
    assert 1 == 2
"""


def gone(pid: int, within: float = 15.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def suite_folder(tmp_path: Path) -> Path:
    (tmp_path / "test_environment.py").write_text(SEES_ITS_ENVIRONMENT)
    (tmp_path / "test_hangs.py").write_text(HANGS)
    return tmp_path


@pytest.fixture
def preloaded(suite_folder: Path, scratch: Path) -> Iterator[PreloadedPytest]:
    env = {**suite_base_environment(), "ONLY_THE_SERVER_HAS_THIS": "1"}
    with preloaded_pytest([str(suite_folder), "-p", PROGRESS_PLUGIN], env) as server:
        server.wait_until_ready()
        yield server


def run(preloaded: PreloadedPytest, argv: list[str], log: Path, **env: str) -> int:
    with preloaded.suite(argv, log, cwd=REPO_ROOT, env={**suite_base_environment(), **env}) as s:
        return s.wait(timeout=60)


def test_a_fork_runs_the_suite_in_exactly_the_environment_it_was_asked_for(
    preloaded: PreloadedPytest, suite_folder: Path, tmp_path: Path
) -> None:
    test = str(suite_folder / "test_environment.py")
    log = tmp_path / "pass.log"
    assert run(preloaded, [test, "-q", "-p", "no:cacheprovider"], log, PROBE="asked") == 0
    assert "3 passed" in log.read_text()
    failing = tmp_path / "fail.log"
    code = run(preloaded, [test, "-q", "-p", "no:cacheprovider"], failing, PROBE="asked", FAIL="1")
    assert code == 1
    assert "1 failed, 2 passed" in failing.read_text()


def test_a_fork_whose_asker_hangs_up_is_killed(
    preloaded: PreloadedPytest, suite_folder: Path, tmp_path: Path
) -> None:
    argv = [str(suite_folder / "test_hangs.py"), "-p", "no:cacheprovider"]
    with preloaded.suite(argv, tmp_path / "log", cwd=REPO_ROOT, env=suite_base_environment()) as s:
        s.close()  # as when the harness dies: the server kills the fork's group
        assert gone(s.pid)


def test_forks_die_with_the_server_and_their_wait_returns(
    preloaded: PreloadedPytest, suite_folder: Path, tmp_path: Path
) -> None:
    argv = [str(suite_folder / "test_hangs.py"), "-p", "no:cacheprovider"]
    with preloaded.suite(argv, tmp_path / "log", cwd=REPO_ROOT, env=suite_base_environment()) as s:
        os.kill(preloaded.server.pid, signal.SIGKILL)
        assert s.wait(timeout=15) == -9
        assert gone(s.pid)  # its parent-death signal
    with pytest.raises(ForkServerGoneError):
        run(preloaded, argv, tmp_path / "again.log")


def test_the_integration_suite_preloads_without_assertion_rewrite_warnings(
    scratch: Path, tmp_path: Path
) -> None:
    suite = ["tests/integration", "-p", PROGRESS_PLUGIN]
    with preloaded_pytest(suite, suite_base_environment()) as server:
        server.wait_until_ready()
        log = tmp_path / "collect.log"
        database = f"sqlite:///{tmp_path / 'collect.db'}"
        assert run(server, [*suite, "--co", "-q"], log, DATABASE_URL=database) == 0
        preload_log = server.log.read_text()
    text = log.read_text()
    assert " tests collected" in text
    # pytest warns (and the suite's filterwarnings makes it an error) about any plugin that
    # was imported before its import hook could rewrite it
    assert "cannot be rewritten" not in text
    assert "not preloaded" not in preload_log


@pytest.fixture
def default_cell() -> Cell:
    return load_matrix(MATRIX_FILE).cell("sqlite-stdlib")


def test_a_cell_forked_from_the_preloaded_pytest_gives_what_a_new_interpreter_gives(
    default_cell: Cell, scratch: Path, tmp_path: Path
) -> None:
    path = tmp_path / "test_mixed.py"
    path.write_text(PASSES_AND_FAILS)

    def plan(results: Path) -> RunPlan:
        return RunPlan((default_cell,), results, timeout=120, test_paths=(str(path),))

    cold = run_cell(default_cell, plan(tmp_path / "cold"))
    suite = [str(path), "-p", PROGRESS_PLUGIN]
    with preloaded_pytest(suite, suite_base_environment()) as server:
        warm = run_cell(default_cell, plan(tmp_path / "warm"), preloaded=server)
    assert warm.state == cold.state == "failed"
    assert [(t.id, t.outcome) for t in warm.tests] == [(t.id, t.outcome) for t in cold.tests]
    assert (tmp_path / "warm" / "sqlite-stdlib" / "junit-rerun.xml").exists()  # rerun forked too


def test_a_cell_starts_pytest_afresh_when_the_preloaded_one_is_gone(
    default_cell: Cell, scratch: Path, tmp_path: Path
) -> None:
    path = tmp_path / "test_mixed.py"
    path.write_text(PASSES_AND_FAILS.replace("1 == 2", "1 == 1"))
    with preloaded_pytest([str(path)], suite_base_environment()) as server:
        os.kill(server.server.pid, signal.SIGKILL)
        plan = RunPlan((default_cell,), tmp_path / "results", 120, test_paths=(str(path),))
        result = run_cell(default_cell, plan, preloaded=server)
    assert result.state == "passed"
    assert "starting pytest afresh" in (tmp_path / "results/sqlite-stdlib/pytest.log").read_text()


def test_suite_modules_are_named_as_pytest_imports_them(tmp_path: Path) -> None:
    package = tmp_path / "tests" / "integration"
    package.mkdir(parents=True)
    for folder in (tmp_path / "tests", package):
        (folder / "__init__.py").write_text("")
    (package / "test_users.py").write_text("")
    (package / "helpers.py").write_text("")
    (package / "conftest.py").write_text("")
    names = list(suite_module_names(tmp_path / "tests", ["test_*.py", "*_test.py"]))
    assert names == ["tests.integration.test_users"]
    assert list(suite_module_names(package / "test_users.py", ["test_*.py"])) == [
        "tests.integration.test_users"
    ]


WORKERS_REPORT_THEIR_PARENT = """
import os
from pathlib import Path

def test_one(worker_id):
    Path(os.environ["PARENTS"], worker_id).write_text(str(os.getppid()))

def test_two(worker_id):
    Path(os.environ["PARENTS"], worker_id).write_text(str(os.getppid()))
"""


def run_forked_cell(cell: Cell, suite: Path, folder: Path, **env: str) -> tuple[CellResult, int]:
    """`cell` with 2 xdist workers on `suite`, forked from a preloaded pytest; its result and
    the preloaded pytest's pid."""
    with preloaded_pytest([str(suite)], suite_base_environment()) as server:
        plan = RunPlan(
            (cell,), folder / "results", 120, workers=2, test_paths=(str(suite),), suite_env=env
        )
        result = run_cell(cell, plan, preloaded=server)
        return result, server.server.pid


def test_xdist_workers_are_forked_by_the_preloaded_pytest_too(
    default_cell: Cell, scratch: Path, tmp_path: Path
) -> None:
    path = tmp_path / "test_parents.py"
    path.write_text(WORKERS_REPORT_THEIR_PARENT)
    parents = tmp_path / "parents"
    parents.mkdir()
    result, server_pid = run_forked_cell(default_cell, path, tmp_path, PARENTS=str(parents))
    assert result.state == "passed", result.reason
    found = {file.name: int(file.read_text()) for file in parents.iterdir()}
    assert found, "no worker ran a test"
    assert set(found) <= {"gw0", "gw1"}
    assert set(found.values()) == {server_pid}


def test_a_forked_xdist_worker_that_is_killed_is_a_crash(
    default_cell: Cell, scratch: Path, tmp_path: Path
) -> None:
    path = tmp_path / "test_crash.py"
    path.write_text(KILLS_ITS_WORKER_ONCE)
    result, _ = run_forked_cell(default_cell, path, tmp_path)
    outcomes = {test.id.rsplit("::", 1)[1]: test.outcome for test in result.tests}
    assert outcomes["test_kills_its_worker_once"] == "error"
    assert result.state == "error"
    assert result.reason is not None
    assert "1 test crashed its pytest-xdist worker: " in result.reason


def test_a_fork_that_ends_at_once_keeps_its_exit_code_when_both_answers_arrive_together() -> None:
    # the server may send {"pid"} and {"exit"} in one write: the second must not be lost
    # (it was read past and dropped, and the suite seemed killed: -9)
    ours, servers = socket.socketpair()
    with ours, servers:
        servers.sendall(b'{"pid": 4242}\n{"exit": 3}\n')
        answer, rest = read_answer(ours)
        suite = ForkedSuite(ours, 4242, ["-q"], rest)
        assert answer == {"pid": 4242}
        assert suite.poll() == 3
