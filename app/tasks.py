"""Celery tasks; the broker/backend come from the settings, applied lazily."""

from __future__ import annotations

import logging
from typing import Any

from celery import Celery
from kombu import pools

from app.config import Settings, get_settings
from app.mail import get_email_sender, welcome_email

log = logging.getLogger(__name__)

# Bounded: with the broker down, enqueuing gives up after ~0.3 s instead of hanging.
ENQUEUE_RETRY_POLICY: dict[str, float] = {
    "max_retries": 2,
    "interval_start": 0.0,
    "interval_step": 0.1,
    "interval_max": 0.2,
}


def celery_config(settings: Settings) -> dict[str, Any]:
    """The Celery configuration for `settings`."""
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
        "broker_connection_timeout": 2.0,
        "broker_transport_options": {"socket_connect_timeout": 1.0, "socket_timeout": 2.0},
        "result_backend_transport_options": {"retry_policy": ENQUEUE_RETRY_POLICY},
        "redis_socket_connect_timeout": 1.0,
        "redis_socket_timeout": 2.0,
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
    """Queue the welcome email; never raises, returns False (and logs) when it could not."""
    try:
        send_welcome_email.apply_async(
            args=(email, name), retry=True, retry_policy=ENQUEUE_RETRY_POLICY
        )
    except Exception:
        log.exception("could not enqueue the welcome email for %s", email)
        return False
    return True
