"""The suite's test worker: a worker that dies while starting fails the fixture at once."""

from __future__ import annotations

import threading

import pytest

from tests.support.celery_worker import FailFastWorkController, WorkerStartError


def controller(ready: bool, exitcode: int | None) -> FailFastWorkController:
    # only the two attributes `ensure_started` reads; building a real one needs a broker
    worker = FailFastWorkController.__new__(FailFastWorkController)
    worker._on_started = threading.Event()
    if ready:
        worker._on_started.set()
    worker.exitcode = exitcode
    return worker


@pytest.mark.timeout(5)
def test_a_worker_that_stopped_while_starting_fails_instead_of_waiting_forever() -> None:
    with pytest.raises(WorkerStartError, match="stopped \\(exit code 1\\) before it was ready"):
        controller(ready=False, exitcode=1).ensure_started()


@pytest.mark.timeout(5)
def test_a_ready_worker_is_used() -> None:
    controller(ready=True, exitcode=None).ensure_started()
