"""The email-sender interface and its implementations."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    body: str


class EmailSender(Protocol):
    """Anything that can deliver an EmailMessage."""

    def send(self, message: EmailMessage) -> None: ...


class LoggingEmailSender:
    """The default sender: writes the message to the log (no mail server is configured)."""

    def send(self, message: EmailMessage) -> None:
        # The domain only: an address is personal data, and logs are kept and shared
        log.info("email to a recipient at %s: %s", message.to.rpartition("@")[2], message.subject)


class InMemoryOutbox:
    """Records messages in memory; thread-safe, so an in-process worker can write to it."""

    def __init__(self) -> None:
        self._messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    def send(self, message: EmailMessage) -> None:
        with self._lock:
            self._messages.append(message)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return list(self._messages)


_sender: EmailSender = LoggingEmailSender()


def get_email_sender() -> EmailSender:
    """The sender tasks deliver through."""
    return _sender


@contextmanager
def use_email_sender(sender: EmailSender) -> Iterator[EmailSender]:
    """Deliver through `sender` inside the block, then restore the previous sender."""
    global _sender
    previous, _sender = _sender, sender
    try:
        yield sender
    finally:
        _sender = previous


def welcome_email(to: str, name: str) -> EmailMessage:
    """The message a new user receives."""
    return EmailMessage(to=to, subject="Welcome!", body=f"Hello {name}, welcome aboard.")
