"""A test Celery worker that stops waiting when the worker gave up starting.

Celery's `TestWorkController.ensure_started` waits for "ready" without a limit: a worker that
dies while starting (an unrecoverable broker error, e.g. a command the Redis server does not
have) left the fixture waiting until pytest's timeout. This one fails at once instead.
"""

from __future__ import annotations

from celery.contrib.testing.worker import TestWorkController

POLL_S = 0.05


class WorkerStartError(RuntimeError):
    """The worker stopped before it was ready; its log holds the reason."""


class FailFastWorkController(TestWorkController):
    def ensure_started(self) -> None:
        while not self._on_started.wait(POLL_S):
            if self.exitcode is not None:
                raise WorkerStartError(
                    f"the Celery worker stopped (exit code {self.exitcode}) before it was "
                    "ready; see 'Unrecoverable error' in the captured log for why"
                )
