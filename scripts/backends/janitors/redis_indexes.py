"""The Redis family's janitor (`RedisCaches`): each worker's own Redis database index on the
run's Redis server, claimed before it is used.

The suite flushes the index it works in, so it must never take one that holds somebody else's
keys, nor one another run is using (two runs, or two matrix cells, may share one server, each
with its own cache URL's index). So every run keeps its locks in one place, db 0, whatever its
URL names, and never works in db 0 itself:

- `ct-suite:db-lock:<n>` names the worker using index n. It expires after `LOCK_TTL_S` unless
  renewed, and a thread renews it while the worker runs, so a killed run's lock goes away.
- `ct-suite:db-owned:<n>` says that index n's keys are the suite's, and names the worker
  holding it. It is set at the claim and removed after the final flush, so a killed run's
  leftovers can be told from somebody else's.

A killed run cannot flush its indexes (its keys, its Celery queues and their kombu bindings):
before claiming, every worker reaps the indexes whose owner's run is provably dead (its
marker, `scripts.pytest_plugin.naming`) or whose lock expired, at once rather than when the
lock expires.

A worker takes the first index whose lock it can set (`SET NX`) and that is empty or the
suite's; an index holding keys without the suite's mark is skipped and left alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from redis.connection import parse_url

from scripts.backends.janitors import CacheUnreachableError, WorkerCaches
from scripts.periodic import every

REDIS_DATABASES = 16
LOCK_INDEX = 0
LOCK_PREFIX = "ct-suite:db-lock:"
OWNED_PREFIX = "ct-suite:db-owned:"
LOCK_TTL_S = 120.0
RENEW_EVERY_S = 20.0
CONNECT_TIMEOUT_S = 2.0
COMMAND_TIMEOUT_S = 5.0

# Compare-and-act on a lock: only its holder renews or releases it.
_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
    return redis.call('DEL', KEYS[1])
end
return 0
"""
# Take a lock that is free or still held by a dead owner (ARGV[1]) for the reaper (ARGV[2]).
_TAKE_FROM_DEAD = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
    return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return false
"""


class RedisUnreachableError(CacheUnreachableError):
    """The suite's cache URL is malformed, or names a server that does not answer or refuses
    the suite."""


class NoFreeRedisDbError(RuntimeError):
    """Every candidate db index is in use or holds keys that are not the suite's."""


def worker_number(worker_id: str) -> int:
    """`gw3` → 3; the controller of a run without xdist (`master`) → 0."""
    return int(worker_id[2:]) if worker_id.startswith("gw") else 0


def with_db_index(url: str, index: int) -> str:
    """The URL with its db index replaced: the path of redis:// and rediss:// URLs, the `db`
    parameter of unix:// ones (a `db` parameter would override the path, so it is dropped)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "db"]
    path = f"/{index}"
    if parts.scheme == "unix":
        path, query = parts.path, [*query, ("db", str(index))]
    encoded = urlencode(query)
    # built by hand: urlunsplit would drop the empty host of unix:///path
    return f"{parts.scheme}://{parts.netloc}{path}" + (f"?{encoded}" if encoded else "")


def shown(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _text(value: bytes | str) -> str:
    """A value read back from Redis (bytes: the clients here do not decode)."""
    return value.decode() if isinstance(value, bytes) else value


def base_index(url: str) -> int:
    return int(parse_url(url).get("db", 0))  # type: ignore[no-untyped-call]


def candidate_indexes(base: int, worker_id: str, databases: int = REDIS_DATABASES) -> list[int]:
    """The worker's preferred index (base + worker number + 1, mod 16) first, then the others
    in order; never the lock index nor the URL's own index."""
    first = base + worker_number(worker_id) + 1
    indexes = [(first + step) % databases for step in range(databases)]
    return [index for index in indexes if index not in (LOCK_INDEX, base)]


def check_redis_url(url: str) -> None:
    """Fail once, before any test runs, when the suite's cache URL is malformed or its server
    does not answer or refuses the suite."""
    try:
        client = _client(url)
    except ValueError as error:
        raise RedisUnreachableError(
            f"the suite's cache URL is not a Redis URL ({error}); expected e.g. redis://127.0.0.1:6379/0"
        ) from None
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as error:
        raise RedisUnreachableError(
            f"no Redis server answers at the suite's cache URL {shown(url)!r}: "
            f"{str(error).rstrip('.')}. Start it, or fix the URL (or, for the bundled suite, "
            "leave its cache URL unset: it starts a throwaway redis-server)."
        ) from None
    except redis.RedisError as error:
        raise RedisUnreachableError(
            f"the Redis server at the suite's cache URL {shown(url)!r} refused the suite: {error}. "
            "Fix the URL (password, db index 0-15)."
        ) from None
    finally:
        client.close()


def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url, socket_connect_timeout=CONNECT_TIMEOUT_S, socket_timeout=COMMAND_TIMEOUT_S
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


def _claim(locks: redis.Redis, url: str, holder: str, worker_id: str, ttl_ms: int) -> int:
    """Lock the first free index for `holder`, or say why there is none."""
    refused: list[str] = []
    for index in candidate_indexes(base_index(url), worker_id):
        lock = f"{LOCK_PREFIX}{index}"
        if not locks.set(lock, holder, nx=True, px=ttl_ms):
            owner = locks.get(lock)
            refused.append(f"{index} (in use by {_text(owner) if owner else 'another run'})")
            continue
        if locks.exists(f"{OWNED_PREFIX}{index}") or _is_empty(with_db_index(url, index)):
            locks.set(f"{OWNED_PREFIX}{index}", holder)
            return index  # empty, or a killed run's leftovers: flushed before use
        locks.eval(_RELEASE, 1, lock, holder)
        refused.append(f"{index} (holds keys that are not the suite's)")
    raise NoFreeRedisDbError(
        f"no Redis db index free for the suite's worker {worker_id} on {shown(url)!r}: "
        f"db {', '.join(refused)}. The suite only takes empty indexes (it flushes them) and "
        "keeps its locks in db 0. Free some indexes on that server, point the suite's "
        "cache URL at another server, or run fewer xdist workers if this run's own workers "
        "hold them."
    )


def reap_dead_claims(url: str, reaper: str, owner_is_dead: Callable[[str], bool]) -> list[int]:
    """Flush the indexes a dead worker claimed on the server at `url` and free them; the
    indexes reaped. An index's owner is dead when `owner_is_dead(owner)` says so (its run was
    killed) or its lock expired; one held by a live owner is left alone."""
    locks = _client(with_db_index(url, LOCK_INDEX))
    reaped: list[int] = []
    try:
        for key in locks.scan_iter(match=f"{OWNED_PREFIX}*"):
            index_text = key.decode().removeprefix(OWNED_PREFIX)
            owner = locks.get(key)
            if not index_text.isdigit() or owner is None:
                continue
            index, lock = int(index_text), f"{LOCK_PREFIX}{index_text}"
            if not (owner_is_dead(_text(owner)) or not locks.exists(lock)):
                continue
            ttl_ms = int(LOCK_TTL_S * 1000)
            if not locks.eval(_TAKE_FROM_DEAD, 1, lock, owner, reaper, ttl_ms):
                continue  # taken over by a live worker meanwhile
            try:
                if locks.get(key) == owner:
                    _flush(with_db_index(url, index))
                    locks.delete(key)
                    reaped.append(index)
            finally:
                locks.eval(_RELEASE, 1, lock, reaper)
    finally:
        locks.close()
    return reaped


@contextmanager
def _renewed(url: str, lock: str, holder: str, ttl_ms: int, every_s: float) -> Iterator[None]:
    """Renew the lock every `every_s` seconds from a thread while the block runs."""
    client = _client(url)

    def renew() -> None:
        # the server gone: the tests fail on their own, and say why
        with suppress(redis.RedisError):
            client.eval(_RENEW, 1, lock, holder, ttl_ms)

    try:
        with every(every_s, renew, name=f"renew-{lock}"):
            yield
    finally:
        client.close()


@contextmanager
def claimed_redis_db(
    url: str,
    holder: str,
    worker_id: str,
    *,
    lock_ttl_s: float = LOCK_TTL_S,
    renew_every_s: float = RENEW_EVERY_S,
) -> Iterator[str]:
    """A db index of the server at `url` that is this worker's alone until the block ends:
    empty at the start, flushed and released at the end. `holder` names the worker uniquely
    (a run id and a worker id)."""
    ttl_ms = int(lock_ttl_s * 1000)
    locks_url = with_db_index(url, LOCK_INDEX)
    locks = _client(locks_url)
    try:
        index = _claim(locks, url, holder, worker_id, ttl_ms)
        lock = f"{LOCK_PREFIX}{index}"
        claimed = with_db_index(url, index)
        with _renewed(locks_url, lock, holder, ttl_ms, renew_every_s):
            try:
                _flush(claimed)
                yield claimed
            finally:
                if locks.get(lock) == holder.encode():  # else it is somebody else's now
                    _flush(claimed)
                    locks.delete(f"{OWNED_PREFIX}{index}")
                    locks.eval(_RELEASE, 1, lock, holder)
    finally:
        locks.close()


class RedisCaches(WorkerCaches):
    """A db index per worker on the Redis (or Valkey) server at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url

    def check(self) -> None:
        check_redis_url(self.url)

    def reap_dead(self, reaper: str, owner_is_dead: Callable[[str], bool]) -> None:
        reap_dead_claims(self.url, reaper, owner_is_dead)

    def claimed(self, holder: str, worker_id: str) -> AbstractContextManager[str]:
        return claimed_redis_db(self.url, holder, worker_id)
