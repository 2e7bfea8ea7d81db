"""The process runner's promises: a program that never answers is given up at its deadline
with its log's tail, and its whole process group is gone after the `with` block, even when
the block raises; a group it did not start itself (a shared daemon) is stopped as surely."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scripts.providers.base import ProvisioningError
from scripts.providers.process import (
    ProcessById,
    Readiness,
    serving,
    start_detached,
    stop_detached,
)
from scripts.providers.watchdog import group_of, start_ticks

GONE_LIMIT_S = 5.0

# A "server" that says something, starts a child of its own, and never answers.
SILENT_SERVER = [
    "/bin/sh",
    "-c",
    "echo pid $$ starting up; echo still no answer; sleep 300 & exec sleep 300",
]


def never_answers() -> None:
    raise ConnectionRefusedError("nothing listens")


def answers_at_once() -> str:
    return "ready"


def live_members(pgid: int) -> list[int]:
    """The processes of group `pgid` that still run (zombies excluded)."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and group_of(int(entry)) == pgid and start_ticks(int(entry)) is not None:
            members.append(int(entry))
    return members


def group_gone_within(pgid: int, limit_s: float) -> bool:
    deadline = time.monotonic() + limit_s
    while live_members(pgid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def wait_for_members(pgid: int, count: int) -> None:
    deadline = time.monotonic() + GONE_LIMIT_S
    while len(live_members(pgid)) < count:
        assert time.monotonic() < deadline, f"group {pgid} never had {count} members"
        time.sleep(0.01)


@pytest.mark.timeout(30)
def test_a_runner_whose_readiness_never_comes_gives_up_at_its_deadline_with_its_log_tail(
    scratch: Path,
) -> None:
    started = time.monotonic()
    log = scratch / "silent.log"
    with (
        pytest.raises(ProvisioningError) as raised,
        serving(SILENT_SERVER, log, Readiness("the silent server", never_answers, (OSError,), 1.0)),
    ):
        pytest.fail("a program that never answers must not be served")
    took = time.monotonic() - started
    assert 1.0 <= took < 5.0, f"gave up after {took:.1f} s, the deadline is 1 s"
    assert "the silent server was given up after 1 s" in raised.value.message
    assert "nothing listens" in raised.value.message  # the last answer it got
    assert "still no answer" in raised.value.log_tail
    assert not list(scratch.glob("compat-run-*/processes/*"))  # and it was stopped


def test_a_program_that_exits_before_answering_is_an_error_at_once_with_its_log_tail(
    scratch: Path,
) -> None:
    started = time.monotonic()
    crashing = ["/bin/sh", "-c", "echo bad configuration line 3; exit 3"]
    ready = Readiness("the crashing server", never_answers, (OSError,), 30.0)
    with pytest.raises(ProvisioningError) as raised, serving(crashing, scratch / "c.log", ready):
        pytest.fail("a program that exited must not be served")
    assert time.monotonic() - started < 10.0  # not the 30 s deadline
    assert "exited with code 3 before answering" in raised.value.message
    assert raised.value.log_tail == "bad configuration line 3"


def serve_and_fail(log: Path, seen: list[int]) -> None:
    """Serve the silent server (with its child) and raise inside the `with` block."""
    ready = Readiness("the server", answers_at_once, (OSError,), 5.0)
    with serving(SILENT_SERVER, log, ready, stop_timeout=1.0) as server:
        assert server.answer == "ready"
        seen.append(server.process.pid)
        wait_for_members(server.process.pid, 2)  # the server and the child it started
        raise RuntimeError("the body failed")


def test_the_runners_process_group_is_gone_after_the_with_block_even_when_the_body_raises(
    scratch: Path,
) -> None:
    seen: list[int] = []
    with pytest.raises(RuntimeError, match="the body failed"):
        serve_and_fail(scratch / "s.log", seen)
    [pgid] = seen
    assert group_gone_within(pgid, GONE_LIMIT_S), live_members(pgid)
    assert not list(scratch.glob("compat-run-*/processes/*"))


# Starts a detached group (a shared daemon) and exits, leaving it running.
START_DETACHED_AND_LEAVE = """
import sys
from pathlib import Path
from scripts.providers.process import Readiness, start_detached
pid, _ = start_detached(
    ["/bin/sh", "-c", "sleep 300 & exec sleep 300"], Path(sys.argv[1]),
    Readiness("the daemon", lambda: None, (OSError,), 5.0),
)
print(pid, flush=True)
"""


def test_a_detached_group_started_by_another_process_is_stopped_whole(tmp_path: Path) -> None:
    starter = subprocess.run(  # noqa: S603
        [sys.executable, "-c", START_DETACHED_AND_LEAVE, str(tmp_path / "daemon.log")],
        cwd=Path(__file__).parents[2],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    pgid = int(starter.stdout)
    wait_for_members(pgid, 2)  # it outlived the process that started it
    started = time.monotonic()
    stop_detached(pgid, signal.SIGTERM, 5.0)
    assert time.monotonic() - started < 5.0
    assert group_gone_within(pgid, GONE_LIMIT_S), live_members(pgid)
    assert ProcessById.of(pgid) is None or start_ticks(pgid) is None


def test_a_detached_program_that_never_answers_is_stopped_with_its_log_tail(
    tmp_path: Path,
) -> None:
    log = tmp_path / "daemon.log"
    with pytest.raises(ProvisioningError) as raised:
        start_detached(SILENT_SERVER, log, Readiness("the daemon", never_answers, (OSError,), 0.5))
    assert "still no answer" in raised.value.log_tail
    pgid = int(log.read_text().split()[1])  # "pid <pid> starting up"
    assert group_gone_within(pgid, GONE_LIMIT_S), live_members(pgid)
