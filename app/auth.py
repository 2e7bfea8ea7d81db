"""Password hashing (argon2 through passlib) and JWT access/refresh tokens."""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

import jwt
from passlib.context import CryptContext

from app.config import Settings, get_settings
from app.limits import ID_MAX
from app.timestamps import utc_now

if TYPE_CHECKING:
    from app.models import User

TokenType = Literal["access", "refresh"]


_WRONG_TYPE_MESSAGES: dict[TokenType, str] = {
    "access": "Invalid token: not an access token",
    "refresh": "Invalid token: not a refresh token",
}


class TokenError(Exception):
    """A token that must not be accepted; the message is safe to show to the client."""


class TokenExpiredError(TokenError):
    """A well-formed token whose lifetime is over."""


# A subject is a user id: ASCII digits, no sign, no leading zero, within the id column's range.
_SUBJECT = re.compile(r"[1-9][0-9]{0,9}")
ACCOUNT_CLAIM = "acct"


@dataclass(frozen=True)
class TokenClaims:
    """Whose a valid token is: the user id, and the stamp of the account it was issued to."""

    user_id: int
    account_stamp: int

    def matches(self, user: User | None) -> bool:
        """True when `user` is the very account the token was issued to (not a later one)."""
        return user is not None and user.account_stamp == self.account_stamp


@lru_cache(maxsize=4)
def _password_context(time_cost: int, memory_cost_kib: int, parallelism: int) -> CryptContext:
    return CryptContext(
        schemes=["argon2"],
        argon2__time_cost=time_cost,
        argon2__memory_cost=memory_cost_kib,
        argon2__parallelism=parallelism,
    )


def password_context(settings: Settings | None = None) -> CryptContext:
    """The passlib context for the configured argon2 cost."""
    settings = settings or get_settings()
    return _password_context(
        settings.argon2_time_cost, settings.argon2_memory_cost_kib, settings.argon2_parallelism
    )


class HashingBusyError(Exception):
    """Every hashing slot is taken and the queue is full (or the wait ran out): retry later."""

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(f"password hashing is busy; retry after {retry_after_seconds} s")
        self.retry_after_seconds = retry_after_seconds


class HashingPool:
    """Bounds the hashes running at once (`slots`) and the requests waiting for one (`queue`).

    Memory for hashing is at most `slots` times the argon2 memory cost, and at most
    `slots + queue` request threads are busy with passwords; anything beyond gets
    HashingBusyError at once.
    """

    def __init__(self, slots: int, queue: int, wait_seconds: float) -> None:
        self.slots = slots
        self.queue = queue
        self.wait_seconds = wait_seconds
        self._running = threading.BoundedSemaphore(slots)
        self._admitted = 0  # running or waiting
        self._lock = threading.Lock()

    @property
    def retry_after_seconds(self) -> int:
        return max(1, math.ceil(self.wait_seconds))

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one hashing slot for the block; HashingBusyError when none comes in time."""
        with self._lock:
            if self._admitted >= self.slots + self.queue:
                raise HashingBusyError(self.retry_after_seconds)
            self._admitted += 1
        try:
            if not self._running.acquire(timeout=self.wait_seconds):
                raise HashingBusyError(self.retry_after_seconds)
            try:
                yield
            finally:
                self._running.release()
        finally:
            with self._lock:
                self._admitted -= 1


@lru_cache(maxsize=4)
def _hashing_pool(slots: int, queue: int, wait_seconds: float) -> HashingPool:
    return HashingPool(slots, queue, wait_seconds)


def hashing_pool(settings: Settings | None = None) -> HashingPool:
    """The process's hashing pool for the configured PASSWORD_HASHING_* settings."""
    settings = settings or get_settings()
    return _hashing_pool(
        settings.password_hashing_slots,
        settings.password_hashing_queue,
        settings.password_hashing_wait_seconds,
    )


def hash_password(password: str) -> str:
    """An argon2 hash of `password`; HashingBusyError when the hashing pool is full."""
    context = password_context()
    with hashing_pool().slot():
        return str(context.hash(password))


def verify_password(password: str, password_hash: str | None) -> bool:
    """True when `password` matches; spends the same effort when there is no hash to check.
    HashingBusyError when the hashing pool is full."""
    context = password_context()
    with hashing_pool().slot():
        if not password_hash:
            context.dummy_verify()
            return False
        return bool(context.verify(password, password_hash))


def _create_token(
    user: User, token_type: TokenType, lifetime: timedelta, settings: Settings
) -> str:
    now = utc_now()
    payload: dict[str, Any] = {
        "sub": str(user.id),
        ACCOUNT_CLAIM: user.account_stamp,
        "type": token_type,
        "iat": now,
        "exp": now + lifetime,
    }
    return jwt.encode(payload, settings.signing_secret, algorithm=settings.jwt_algorithm)


def create_access_token(user: User, settings: Settings | None = None) -> str:
    """A short-lived token that authenticates requests as `user` (this account only)."""
    settings = settings or get_settings()
    lifetime = timedelta(minutes=settings.access_token_minutes)
    return _create_token(user, "access", lifetime, settings)


def create_refresh_token(user: User, settings: Settings | None = None) -> str:
    """A long-lived token that can only be exchanged for a new access token of `user`."""
    settings = settings or get_settings()
    lifetime = timedelta(days=settings.refresh_token_days)
    return _create_token(user, "refresh", lifetime, settings)


def decode_token(
    token: str, expected_type: TokenType, settings: Settings | None = None
) -> TokenClaims:
    """The claims of a valid token of `expected_type`; raises TokenError otherwise."""
    settings = settings or get_settings()
    try:
        payload = jwt.decode(
            token,
            settings.signing_secret,
            algorithms=[settings.jwt_algorithm],
            options={"require": ["exp", "sub", "type", ACCOUNT_CLAIM]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenExpiredError("Token has expired") from error
    except jwt.InvalidTokenError as error:
        raise TokenError("Invalid token") from error
    if payload.get("type") != expected_type:
        raise TokenError(_WRONG_TYPE_MESSAGES[expected_type])
    subject, stamp = payload["sub"], payload[ACCOUNT_CLAIM]
    if not isinstance(subject, str) or not _SUBJECT.fullmatch(subject):
        raise TokenError("Invalid token: the subject is not a user id")
    user_id = int(subject)
    if user_id > ID_MAX:
        raise TokenError("Invalid token: the subject is not a user id")
    if not isinstance(stamp, int) or isinstance(stamp, bool):
        raise TokenError("Invalid token: no account claim")
    return TokenClaims(user_id, stamp)
