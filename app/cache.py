"""The Redis read-through cache for users; Redis being down never fails a request.

A write invalidates the user's entry. When Redis cannot be reached at that moment, the key is
remembered as pending: this process deletes every pending key before it reads from or writes
to the cache again, so a change made during an outage is never undone by an entry cached
before it; and a background thread retries the deletion every CACHE_RETRY_INTERVAL_SECONDS,
so other processes on the same Redis stop serving the old entry at most that long (plus a
socket timeout) after Redis answers again, whether this process is used or not.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import StrEnum

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from app.config import Settings, get_settings
from app.schemas import UserRead

log = logging.getLogger(__name__)


class CacheStatus(StrEnum):
    """The X-Cache header value of a cached read."""

    HIT = "HIT"
    MISS = "MISS"
    BYPASS = "BYPASS"  # Redis could not be reached: served from the database


class PendingInvalidations:
    """Keys whose deletion failed, and a count of every invalidation made; thread-safe."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._lock = threading.Lock()
        self.generation = 0  # grows with every invalidation, failed or not
        self._retrier: threading.Thread | None = None
        self._stopped = threading.Event()

    def written(self) -> None:
        """An invalidation happened: a read that began before it must not be cached."""
        with self._lock:
            self.generation += 1

    def add(self, key: str) -> None:
        with self._lock:
            self._keys.add(key)

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._keys)

    def settled(self, keys: list[str]) -> None:
        """`keys` were deleted; forget them (a key added again since stays)."""
        with self._lock:
            self._keys.difference_update(keys)

    def retry_in_background(
        self, delete: Callable[[list[str]], object], interval_seconds: float
    ) -> None:
        """Call `delete(keys)` every `interval_seconds` until it succeeds and nothing is
        pending; one thread at a time, started here when none runs."""
        with self._lock:
            if self._retrier is not None or self._stopped.is_set():
                return
            self._retrier = threading.Thread(
                target=self._retry,
                args=(delete, interval_seconds),
                name="cache-invalidation-retry",
                daemon=True,
            )
            self._retrier.start()

    def _retry(self, delete: Callable[[list[str]], object], interval_seconds: float) -> None:
        while not self._stopped.wait(interval_seconds):
            keys = self.keys()
            if keys:
                try:
                    delete(keys)
                except redis.RedisError:
                    continue  # still down: next interval
                self.settled(keys)
                log.info("deleted %d cache entries whose invalidation had failed", len(keys))
            with self._lock:
                if not self._keys:  # checked with the lock held: an add() starts a new thread
                    self._retrier = None
                    return

    def stop(self) -> None:
        """Stop retrying (the client is being closed)."""
        self._stopped.set()


_clients: dict[str, tuple[redis.Redis, PendingInvalidations]] = {}
_clients_lock = threading.Lock()


def _client_and_pending(settings: Settings) -> tuple[redis.Redis, PendingInvalidations]:
    with _clients_lock:
        entry = _clients.get(settings.redis_url)
        if entry is None:
            client = redis_client_for(settings.redis_url, settings.redis_socket_timeout_seconds)
            entry = _clients[settings.redis_url] = (client, PendingInvalidations())
        return entry


def get_redis(settings: Settings | None = None) -> redis.Redis:
    """The process's Redis client for the configured URL (built on first use)."""
    return _client_and_pending(settings or get_settings())[0]


def redis_client_for(url: str, timeout_seconds: float) -> redis.Redis:
    """A client that gives up fast: short connect and read timeouts, no backoff.

    A refused or dropped connection is retried once (a pooled connection may have gone stale
    while Redis restarted); a timeout is not, so a Redis that accepts connections but never
    answers costs a request `timeout_seconds`, not a multiple of it.
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), retries=1, supported_errors=(redis.ConnectionError,)),
    )


def close_redis_clients() -> None:
    """Close every client built by `get_redis` and forget them (and their pending keys)."""
    with _clients_lock:
        for client, pending in _clients.values():
            pending.stop()
            client.close()
        _clients.clear()


class UserCache:
    """Caches UserRead bodies under `user:<id>` for `ttl_seconds`."""

    def __init__(
        self,
        client: redis.Redis,
        ttl_seconds: int,
        pending: PendingInvalidations | None = None,
        retry_interval_seconds: float = 0.5,
    ) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds
        self._pending = pending if pending is not None else PendingInvalidations()
        self._retry_interval_seconds = retry_interval_seconds
        self._generation_at_read = self._pending.generation

    @staticmethod
    def key(user_id: int) -> str:
        return f"user:{user_id}"

    def _settle(self) -> None:
        """Delete the keys whose invalidation failed; raises redis.RedisError if it cannot."""
        keys = self._pending.keys()
        if keys:
            self._client.delete(*keys)
            self._pending.settled(keys)
            log.info("deleted %d cache entries whose invalidation had failed", len(keys))

    def get(self, user_id: int) -> UserRead | None:
        """The cached user, or None; raises redis.RedisError when Redis is unreachable."""
        self._generation_at_read = self._pending.generation
        self._settle()
        raw = self._client.get(self.key(user_id))
        if raw is None:
            return None
        assert isinstance(raw, bytes)
        return UserRead.model_validate_json(raw)

    def put(self, user: UserRead) -> None:
        """Cache `user` (read after the last `get`); a Redis failure is logged, not raised.

        Skipped when this process invalidated anything since that `get`: the body may be
        older than the write.
        """
        if self._pending.generation != self._generation_at_read:
            return
        try:
            self._settle()
            self._client.set(self.key(user.id), user.model_dump_json(), ex=self._ttl_seconds)
        except redis.RedisError as error:
            log.warning("could not cache user %s: %s", user.id, error)

    def invalidate(self, user_id: int) -> None:
        """Forget `user_id`; when Redis cannot be reached, the key is deleted before the cache
        is used again, and retried in the background until Redis answers."""
        key = self.key(user_id)
        self._pending.written()
        try:
            self._client.delete(key)
        except redis.RedisError as error:
            self._pending.add(key)
            self._pending.retry_in_background(
                lambda keys: self._client.delete(*keys), self._retry_interval_seconds
            )
            log.warning("could not invalidate cached user %s (deleted later): %s", user_id, error)


def get_user_cache() -> UserCache:
    """FastAPI dependency: the user cache for the current settings."""
    settings = get_settings()
    client, pending = _client_and_pending(settings)
    return UserCache(
        client, settings.cache_ttl_seconds, pending, settings.cache_retry_interval_seconds
    )
