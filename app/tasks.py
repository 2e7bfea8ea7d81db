"""Celery tasks; the broker/backend come from the settings, applied lazily.

Requests never publish to the broker themselves: `queue_welcome_email` hands the message to
one publishing thread per process (a bounded backlog), so a slow or silent broker holds no
request thread. Publishing uses the cache's timeouts (REDIS_SOCKET_TIMEOUT_SECONDS).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery
from kombu import pools

from app.config import Settings, get_settings
from app.mail import get_email_sender, welcome_email

log = logging.getLogger(__name__)

# Bounded: with the broker down or silent, a publish gives up after two attempts of at most
# the socket timeout each, instead of hanging.
ENQUEUE_RETRY_POLICY: dict[str, float] = {
    "max_retries": 1,
    "interval_start": 0.0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
PUBLISH_BACKLOG = 1000  # welcome emails waiting for the publishing thread; more are dropped


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for `settings`: connect and socket timeouts are the cache's."""
    timeout = settings.redis_socket_timeout_seconds
    socket_options = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    return {
        "broker_url": settings.broker_url,
        "result_backend": settings.result_backend,
        "task_default_queue": settings.celery_queue,
        "task_always_eager": settings.celery_task_always_eager,
        "task_eager_propagates": True,
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "result_expires": 3600,
        "broker_connection_retry_on_startup": True,
        "broker_connection_timeout": timeout,
        "broker_transport_options": socket_options,
        "result_backend_transport_options": {"retry_policy": ENQUEUE_RETRY_POLICY},
        "redis_socket_connect_timeout": timeout,
        "redis_socket_timeout": timeout,
    }


celery_app = Celery("app")
# Read when the configuration is first used, not at import: each process can point it elsewhere.
celery_app.add_defaults(lambda: celery_config(get_settings()))


def configure_celery(settings: Settings, **overrides: Any) -> Celery:
    """Point the Celery app at `settings` now (tests and matrix cells call this)."""
    celery_app.conf.update(celery_config(settings), **overrides)
    _forget_connections()
    return celery_app


def _forget_connections() -> None:
    """Drop pooled broker/backend connections so a new URL takes effect.

    The same reset Celery performs after a fork (`Celery._after_fork`), plus the result
    backend, which is otherwise kept for the app's lifetime.
    """
    pools.reset()  # closes and forgets kombu's shared connection and producer pools
    state = vars(celery_app)
    state["_pool"] = None
    state["_backend"] = None
    amqp = state.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@celery_app.task(name="app.tasks.send_welcome_email", ignore_result=True)
def send_welcome_email(email: str, name: str) -> str:
    """Send the welcome email through the configured sender; returns the address."""
    get_email_sender().send(welcome_email(email, name))
    return email


@celery_app.task(name="app.tasks.process_large_file")
def process_large_file(file_id: int) -> dict[str, Any]:
    """Process a stored file (stand-in for long work)."""
    return {"processed": file_id, "status": "complete"}


def enqueue_welcome_email(email: str, name: str) -> bool:
    """Publish the welcome email task now; never raises, returns False (and logs, without
    the address) when it could not."""
    try:
        send_welcome_email.apply_async(
            args=(email, name), retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception as error:
        log.error("could not enqueue a welcome email: %s: %s", type(error).__name__, error)
        return False
    return True


class Publisher:
    """One daemon thread that runs queued publishing jobs in order; the backlog is bounded."""

    def __init__(self, backlog: int = PUBLISH_BACKLOG) -> None:
        self._jobs: queue.Queue[Callable[[], object]] = queue.Queue(maxsize=backlog)
        self._thread = threading.Thread(target=self._run, name="task-publisher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            try:
                job()
            except Exception:  # a job that fails must not stop the thread
                log.exception("a publishing job failed")
            finally:
                self._jobs.task_done()

    def submit(self, job: Callable[[], object]) -> bool:
        """Queue `job`; False (logged) when the backlog is full: the broker is not keeping up."""
        try:
            self._jobs.put_nowait(job)
        except queue.Full:
            log.error(
                "the task backlog is full (%d): a welcome email is dropped", self._jobs.maxsize
            )
            return False
        return True

    def wait_until_idle(self, timeout_seconds: float) -> bool:
        """True once every queued job has run (tests); False after `timeout_seconds`."""
        idle = threading.Event()

        def wait() -> None:
            self._jobs.join()
            idle.set()

        threading.Thread(target=wait, name="task-publisher-idle", daemon=True).start()
        return idle.wait(timeout_seconds)


_publisher: Publisher | None = None
_publisher_lock = threading.Lock()


def get_publisher() -> Publisher:
    """This process's publishing thread, started on first use."""
    global _publisher
    with _publisher_lock:
        if _publisher is None:
            _publisher = Publisher()
        return _publisher


def wait_for_publishing(timeout_seconds: float) -> bool:
    """True once this process's queued publishing jobs have run (or none was ever queued);
    False after `timeout_seconds`. For a shutdown, and for a test worker before it gives up
    its Redis database: a job that ran later would write into a database it no longer owns."""
    with _publisher_lock:
        publisher = _publisher
    return publisher is None or publisher.wait_until_idle(timeout_seconds)


def queue_welcome_email(email: str, name: str) -> bool:
    """Hand the welcome email to the publishing thread; returns at once (False when the
    backlog is full)."""
    return get_publisher().submit(lambda: enqueue_welcome_email(email, name))
