"""Calling something every few seconds from a thread while a block runs."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def every(seconds: float, action: Callable[[], None], *, name: str) -> Iterator[None]:
    """Call `action` every `seconds` (first after `seconds`) until the block ends; the thread
    is stopped and joined on the way out, whatever ends the block."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.wait(seconds):
            action()

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
