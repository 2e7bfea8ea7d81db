"""The Redis read-through cache for users; Redis being down never fails a request."""

from __future__ import annotations

import logging
import threading
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


_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()


def get_redis(settings: Settings | None = None) -> redis.Redis:
    """The process's Redis client for the configured URL (built on first use)."""
    settings = settings or get_settings()
    with _clients_lock:
        client = _clients.get(settings.redis_url)
        if client is None:
            client = _clients[settings.redis_url] = redis_client_for(
                settings.redis_url, settings.redis_socket_timeout_seconds
            )
        return client


def redis_client_for(url: str, timeout_seconds: float) -> redis.Redis:
    """A client that gives up fast: one retry, no backoff, short timeouts.

    A cache must not slow requests down when Redis is away (redis-py's default retries
    with exponential backoff would take seconds).
    """
    return redis.Redis.from_url(
        url,
        socket_timeout=timeout_seconds,
        socket_connect_timeout=timeout_seconds,
        retry=Retry(NoBackoff(), retries=1),
    )


def close_redis_clients() -> None:
    """Close every client built by `get_redis` and forget them."""
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()


class UserCache:
    """Caches UserRead bodies under `user:<id>` for `ttl_seconds`."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._client = client
        self._ttl_seconds = ttl_seconds

    @staticmethod
    def key(user_id: int) -> str:
        return f"user:{user_id}"

    def get(self, user_id: int) -> UserRead | None:
        """The cached user, or None; raises redis.RedisError when Redis is unreachable."""
        raw = self._client.get(self.key(user_id))
        if raw is None:
            return None
        assert isinstance(raw, bytes)
        return UserRead.model_validate_json(raw)

    def put(self, user: UserRead) -> None:
        """Cache `user`; a Redis failure is logged, not raised."""
        try:
            self._client.set(self.key(user.id), user.model_dump_json(), ex=self._ttl_seconds)
        except redis.RedisError as error:
            log.warning("could not cache user %s: %s", user.id, error)

    def invalidate(self, user_id: int) -> None:
        """Forget `user_id`; a Redis failure is logged (the entry expires after the TTL)."""
        try:
            self._client.delete(self.key(user_id))
        except redis.RedisError as error:
            log.warning("could not invalidate cached user %s: %s", user_id, error)


def get_user_cache() -> UserCache:
    """FastAPI dependency: the user cache for the current settings."""
    settings = get_settings()
    return UserCache(get_redis(settings), settings.cache_ttl_seconds)
