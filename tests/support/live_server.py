"""The app served by a real uvicorn server in a thread, for tests that need true concurrency."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from app.main import app

READY_TIMEOUT_SECONDS = 10.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def live_app_server() -> Iterator[str]:
    """Serve `app.main:app` on a free 127.0.0.1 port; yield its base URL, stop it afterwards.

    The app uses its own sessions on the worker's database (no test transaction: what it
    writes is committed). Lifespan is off: the worker already created the tables, and the
    shutdown must not dispose of the worker's engine.
    """
    config = uvicorn.Config(
        app, host="127.0.0.1", port=free_port(), lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-app-server", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start on port {config.port}")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
