"""Each worker's own Redis database index under the run's REDIS_URL, claimed before it is used.

The suite flushes the index it works in, so it must never take one that holds somebody else's
keys, nor one another run is using (two runs, or two matrix cells, may share one server). A
worker claims an index with a lock key in the base index (`SET NX`, which the suite never
flushes) and holds a connection named after itself for as long as it uses the index; a lock
whose holder has no connection any more was left by a run that was killed, and is taken over.
An index that holds keys but no lock is somebody else's: it is skipped, never flushed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import redis
from redis.connection import parse_url

REDIS_DATABASES = 16
LOCK_PREFIX = "ct-suite:db-lock:"
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0

# Replace the lock only if it still names the holder we found dead (compare and set).
_TAKE_OVER = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    redis.call('SET', KEYS[1], ARGV[2])
    return 1
end
return 0
"""


class RedisUnreachableError(RuntimeError):
    """REDIS_URL names a server that does not answer."""


class NoFreeRedisDbError(RuntimeError):
    """Every candidate db index is in use or holds keys that are not the suite's."""


def worker_number(worker_id: str) -> int:
    """`gw3` → 3; the controller of a run without xdist (`master`) → 0."""
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


def with_db_index(base_url: str, index: int) -> str:
    """The base URL with its db index replaced (credentials and query kept)."""
    head, _, query = base_url.partition("?")
    scheme, _, rest = head.partition("://")
    host_part = rest.split("/", 1)[0]
    return f"{scheme}://{host_part}/{index}" + (f"?{query}" if query else "")


def base_index(base_url: str) -> int:
    return int(parse_url(base_url).get("db", 0))


def candidate_indexes(base: int, worker_id: str, databases: int = REDIS_DATABASES) -> list[int]:
    """The worker's preferred index (base + worker number + 1, mod 16) first, then the others
    in order; never the base index itself, which holds the locks."""
    first = base + worker_number(worker_id) + 1
    indexes = [(first + step) % databases for step in range(databases)]
    return [index for index in indexes if index != base]


def check_redis_url(base_url: str) -> None:
    """Fail once, before any test runs, when REDIS_URL is malformed or does not answer."""
    try:
        client = _client(base_url)
    except ValueError as error:
        raise RedisUnreachableError(
            f"REDIS_URL is not a Redis URL ({error}); expected e.g. redis://127.0.0.1:6379/0"
        ) from None
    try:
        client.ping()
    except redis.RedisError as error:
        shown = redis.connection.parse_url(base_url).get("host", "?")
        raise RedisUnreachableError(
            f"no Redis server answers at REDIS_URL (host {shown}): {str(error).rstrip('.')}. "
            "Start it, fix the URL, or unset REDIS_URL to have the suite start a throwaway "
            "redis-server."
        ) from None
    finally:
        client.close()


def _client(url: str, name: str | None = None) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        client_name=name,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        socket_timeout=COMMAND_TIMEOUT_S,
    )


def _flush(url: str) -> None:
    client = _client(url)
    try:
        client.flushdb()
    finally:
        client.close()


def _is_empty(url: str) -> bool:
    client = _client(url)
    try:
        return int(client.dbsize()) == 0
    finally:
        client.close()


def _is_connected(locks: redis.Redis, holder: str) -> bool:
    """Whether the lock's holder still has its named connection; when the server will not
    list its clients (ACLs), the lock counts as held."""
    try:
        clients = locks.client_list()
    except redis.ResponseError:
        return True
    return any(client.get("name") == holder for client in clients)


def _decoded(value: object) -> str | None:
    return value.decode() if isinstance(value, bytes) else None


def _claim(locks: redis.Redis, base_url: str, holder: str, worker_id: str) -> int:
    """Lock the first free index for `holder`, or say why there is none."""
    refused: list[str] = []
    for index in candidate_indexes(base_index(base_url), worker_id):
        key = f"{LOCK_PREFIX}{index}"
        if locks.set(key, holder, nx=True):
            if _is_empty(with_db_index(base_url, index)):
                return index
            locks.delete(key)
            refused.append(f"{index} (holds keys that are not the suite's)")
            continue
        owner = _decoded(locks.get(key))
        if owner is None:
            refused.append(f"{index} (its lock changed hands while looking)")
        elif _is_connected(locks, owner):
            refused.append(f"{index} (in use by {owner})")
        elif locks.eval(_TAKE_OVER, 1, key, owner, holder) == 1:
            return index  # a killed run's leftovers: its keys are flushed before use
        else:
            refused.append(f"{index} (its lock changed hands while looking)")
    raise NoFreeRedisDbError(
        f"no Redis db index free for the suite's worker {worker_id} under {base_url!r}: "
        f"db {', '.join(refused)}. The suite flushes the indexes it claims, so it only takes "
        "empty ones; point REDIS_URL at a server (or a base index) whose other indexes are free."
    )


@contextmanager
def claimed_redis_db(base_url: str, holder: str, worker_id: str) -> Iterator[str]:
    """A db index of the server at `base_url` that is this worker's alone until the block ends:
    empty at the start, flushed and released at the end. `holder` names the worker uniquely
    (a run id and a worker id; no spaces)."""
    locks = _client(with_db_index(base_url, base_index(base_url)), name=holder)
    try:
        index = _claim(locks, base_url, holder, worker_id)
        url = with_db_index(base_url, index)
        lock = f"{LOCK_PREFIX}{index}"
        try:
            _flush(url)
            yield url
        finally:
            if _decoded(locks.get(lock)) == holder:  # else it is somebody else's now
                _flush(url)
                locks.delete(lock)
    finally:
        locks.close()
