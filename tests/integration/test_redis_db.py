"""Each worker's Redis db index: claimed empty, never somebody else's, released at the end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest
import redis

from scripts.backends.janitors import redis_indexes as redis_db
from scripts.backends.janitors.redis_indexes import (
    LOCK_INDEX,
    LOCK_PREFIX,
    OWNED_PREFIX,
    NoFreeRedisDbError,
    RedisUnreachableError,
    base_index,
    candidate_indexes,
    check_redis_url,
    claimed_redis_db,
    reap_dead_claims,
    shown,
    with_db_index,
)
from scripts.pytest_plugin.redis_server import throwaway_redis_server_or_skip

HOLDER_A = "ct_1_000000_gw0-a"
HOLDER_B = "ct_1_000000_gw0-b"


@pytest.mark.parametrize(
    ("base", "worker", "preferred"),
    [(0, "gw0", 1), (0, "gw1", 2), (0, "master", 1), (14, "gw1", 1), (3, "gw15", 4)],
)
def test_each_worker_prefers_its_own_redis_db_and_never_the_lock_or_url_index(
    base: int, worker: str, preferred: int
) -> None:
    candidates = candidate_indexes(base, worker)
    assert candidates[0] == preferred
    assert sorted(candidates) == [index for index in range(16) if index not in (0, base)]


@pytest.mark.parametrize(
    ("url", "index", "expected"),
    [
        ("redis://:pw@cache:6380/2?protocol=2", 3, "redis://:pw@cache:6380/3?protocol=2"),
        ("redis://127.0.0.1:6379", 5, "redis://127.0.0.1:6379/5"),
        ("redis://127.0.0.1:6379/0?db=4", 5, "redis://127.0.0.1:6379/5"),
        ("unix:///run/redis.sock?db=2", 5, "unix:///run/redis.sock?db=5"),
    ],
    ids=["credentials-and-query", "no-index", "db-parameter", "unix-socket"],
)
def test_a_redis_url_names_the_new_index_and_keeps_the_rest(
    url: str, index: int, expected: str
) -> None:
    assert with_db_index(url, index) == expected
    assert base_index(expected) == index


def test_messages_show_a_redis_url_without_its_password() -> None:
    assert shown("redis://user:s3cret@cache:6379/1") == "redis://user:***@cache:6379/1"
    assert shown("redis://cache:6379/1") == "redis://cache:6379/1"


@pytest.fixture(scope="module")
def private_redis_url() -> Iterator[str]:
    """A Redis server of these tests alone: they plant locks that other claimers would act on."""
    with throwaway_redis_server_or_skip() as url:
        yield url


@dataclass
class ClaimedDb:
    """A db index claimed by HOLDER_A, with clients of it and of the lock index."""

    url: str
    index: int
    db: redis.Redis
    locks: redis.Redis

    @property
    def lock(self) -> str:
        return f"{LOCK_PREFIX}{self.index}"

    @property
    def owned(self) -> str:
        return f"{OWNED_PREFIX}{self.index}"

    def claim_preferring_it(self, url: str | None = None) -> AbstractContextManager[str]:
        """HOLDER_B claims, as the worker whose first choice is this index."""
        url = url or self.url
        worker = f"gw{(self.index - base_index(url) - 1) % 16}"
        return claimed_redis_db(url, HOLDER_B, worker)


@contextmanager
def claimed_by_a(url: str, **options: float) -> Iterator[ClaimedDb]:
    with claimed_redis_db(url, HOLDER_A, "gw0", **options) as claimed:
        db = redis.Redis.from_url(claimed)
        locks = redis.Redis.from_url(with_db_index(url, LOCK_INDEX))
        try:
            yield ClaimedDb(url, base_index(claimed), db, locks)
        finally:
            db.close()
            locks.close()


def test_a_redis_db_in_use_by_another_run_is_not_taken(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed, claimed.claim_preferring_it() as second:
        assert base_index(second) != claimed.index


def test_runs_on_different_url_indexes_see_each_others_locks(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        other_run_url = with_db_index(private_redis_url, (claimed.index + 5) % 16 or 7)
        with claimed.claim_preferring_it(other_run_url) as second:
            assert base_index(second) != claimed.index


def test_a_redis_db_holding_foreign_keys_is_skipped_and_left_intact(
    private_redis_url: str,
) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        claimed.db.set("their-data", "precious")
        claimed.locks.delete(claimed.lock, claimed.owned)  # now: keys, and no mark of the suite
        try:
            with claimed.claim_preferring_it() as second:
                assert base_index(second) != claimed.index
            assert claimed.db.get("their-data") == b"precious"
        finally:
            claimed.db.delete("their-data")


def test_a_killed_runs_redis_db_is_taken_over_and_flushed(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        claimed.db.set("left-by-a-killed-run", "1")
        claimed.locks.delete(claimed.lock)  # its lock expired: nobody renews it any more
        with claimed.claim_preferring_it() as second:
            assert base_index(second) == claimed.index
            assert claimed.db.dbsize() == 0
        assert claimed.locks.get(claimed.lock) is None
        assert claimed.locks.get(claimed.owned) is None


@dataclass
class PlantedClaim:
    """A worker's claim as a killed run leaves it: its lock still lasting, its keys, its mark."""

    index: int
    db: redis.Redis
    locks: redis.Redis


@contextmanager
def planted_claim(url: str, owner: str, index: int) -> Iterator[PlantedClaim]:
    db = redis.Redis.from_url(with_db_index(url, index))
    locks = redis.Redis.from_url(with_db_index(url, LOCK_INDEX))
    try:
        locks.set(f"{LOCK_PREFIX}{index}", owner, px=120_000)
        locks.set(f"{OWNED_PREFIX}{index}", owner)
        db.set("user:3", "left by a test")
        db.sadd(f"_kombu.binding.{owner}", "a queue's binding")
        yield PlantedClaim(index, db, locks)
    finally:
        db.flushdb()
        locks.delete(f"{LOCK_PREFIX}{index}", f"{OWNED_PREFIX}{index}")
        db.close()
        locks.close()


def test_a_killed_runs_claims_are_reaped_at_once_though_their_locks_still_last(
    private_redis_url: str,
) -> None:
    dead, live = "ct_1_000000_gw1", "ct_1_000000_gw2"
    with (
        planted_claim(private_redis_url, dead, 11) as killed,
        planted_claim(private_redis_url, live, 12) as running,
    ):
        reaped = reap_dead_claims(private_redis_url, "reaper", lambda owner: owner == dead)
        assert reaped == [11]
        assert killed.db.dbsize() == 0  # its keys and its queues' bindings
        assert killed.locks.get(f"{LOCK_PREFIX}11") is None
        assert killed.locks.get(f"{OWNED_PREFIX}11") is None
        assert running.db.dbsize() == 2  # a live run's index is left alone
        assert running.locks.get(f"{LOCK_PREFIX}12") == live.encode()
        assert running.locks.get(f"{OWNED_PREFIX}12") == live.encode()


def test_a_claim_whose_lock_expired_is_reaped_and_one_taken_over_is_not(
    private_redis_url: str,
) -> None:
    owner = "ct_1_000000_gw3"
    with (
        planted_claim(private_redis_url, owner, 13) as expired,
        planted_claim(private_redis_url, owner, 14) as taken_over,
    ):
        expired.locks.delete(f"{LOCK_PREFIX}13")
        taken_over.locks.set(f"{LOCK_PREFIX}14", "another live worker")
        assert reap_dead_claims(private_redis_url, "reaper", lambda _owner: False) == [13]
        assert expired.db.dbsize() == 0
        assert taken_over.db.dbsize() == 2


def test_a_claim_is_released_and_its_index_flushed_at_the_end(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        claimed.db.set("made-by-a-test", "1")
        index = claimed.index
    locks = redis.Redis.from_url(with_db_index(private_redis_url, LOCK_INDEX))
    db = redis.Redis.from_url(with_db_index(private_redis_url, index))
    try:
        assert locks.get(f"{LOCK_PREFIX}{index}") is None
        assert locks.get(f"{OWNED_PREFIX}{index}") is None
        assert db.dbsize() == 0
    finally:
        locks.close()
        db.close()


def test_a_held_lock_is_renewed_before_it_expires(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url, lock_ttl_s=1.0, renew_every_s=0.05) as claimed:
        previous = int(claimed.locks.pttl(claimed.lock))
        renewed = False
        deadline = time.monotonic() + 5
        while not renewed and time.monotonic() < deadline:  # poll: until the TTL goes back up
            remaining = int(claimed.locks.pttl(claimed.lock))
            renewed, previous = remaining > previous, remaining
        assert renewed, f"the lock was never renewed (time to live now {previous} ms)"
        assert claimed.locks.get(claimed.lock) == HOLDER_A.encode()


def test_no_free_redis_db_is_a_clear_error_naming_why(
    private_redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        monkeypatch.setattr(redis_db, "candidate_indexes", lambda *_: [claimed.index])
        with (
            pytest.raises(NoFreeRedisDbError, match=rf"db {claimed.index} \(in use by .*-a\)"),
            claimed_redis_db(private_redis_url, HOLDER_B, "gw0"),
        ):
            pass


def test_a_redis_server_that_refuses_the_url_is_told_apart_from_one_that_is_down(
    private_redis_url: str,
) -> None:
    with pytest.raises(RedisUnreachableError, match="refused the suite"):
        check_redis_url(with_db_index(private_redis_url, 99))
