"""The suite's own provisioning: worker names, Redis db indexes, reaping leftovers."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

import pytest
import redis
from sqlalchemy import create_engine, inspect

from tests.support import redis_db
from tests.support.databases import provisioner_for
from tests.support.naming import is_stale, new_run_id, worker_resource_name
from tests.support.redis_db import (
    LOCK_PREFIX,
    NoFreeRedisDbError,
    base_index,
    candidate_indexes,
    claimed_redis_db,
    with_db_index,
)
from tests.support.redis_server import RedisServerMissingError, throwaway_redis_server
from tests.support.worker import WorkerResources


def test_worker_names_carry_prefix_run_and_worker() -> None:
    run_id = new_run_id()
    name = worker_resource_name(run_id, "gw3")
    assert name.startswith("ct_")
    assert name.endswith("_gw3")
    assert not is_stale(name)
    assert is_stale(name, now=time.time() + 2 * 3600)
    assert not is_stale("production_db", now=time.time() + 10 * 3600)


@pytest.mark.parametrize(
    ("base", "worker", "preferred"),
    [(0, "gw0", 1), (0, "gw1", 2), (0, "master", 1), (14, "gw1", 0), (3, "gw15", 4)],
)
def test_each_worker_prefers_its_own_redis_db_and_never_the_base(
    base: int, worker: str, preferred: int
) -> None:
    candidates = candidate_indexes(base, worker)
    assert candidates[0] == preferred
    assert sorted(candidates) == [index for index in range(16) if index != base]


def test_a_redis_url_keeps_credentials_and_query_when_its_index_changes() -> None:
    url = "redis://:pw@cache:6380/2?protocol=2"
    assert with_db_index(url, 3) == "redis://:pw@cache:6380/3?protocol=2"
    assert with_db_index("redis://127.0.0.1:6379", 5) == "redis://127.0.0.1:6379/5"


@pytest.fixture(scope="module")
def private_redis_url() -> Iterator[str]:
    """A Redis server of these tests alone: they plant locks that other claimers would act on."""
    try:
        with throwaway_redis_server() as url:
            yield url
    except RedisServerMissingError as error:
        pytest.skip(f"needs a redis-server binary: {error}")


HOLDER_A = "ct_1_000000_gw0-a"
HOLDER_B = "ct_1_000000_gw0-b"


@dataclass
class ClaimedDb:
    """A db index claimed by HOLDER_A, with clients of it and of the lock index."""

    base_url: str
    index: int
    db: redis.Redis
    locks: redis.Redis

    @property
    def lock(self) -> str:
        return f"{LOCK_PREFIX}{self.index}"

    def claim_preferring_it(self) -> AbstractContextManager[str]:
        """HOLDER_B claims, as the worker whose first choice is this index."""
        worker = f"gw{(self.index - base_index(self.base_url) - 1) % 16}"
        return claimed_redis_db(self.base_url, HOLDER_B, worker)


@contextmanager
def claimed_by_a(base_url: str) -> Iterator[ClaimedDb]:
    with claimed_redis_db(base_url, HOLDER_A, "gw0") as url:
        db = redis.Redis.from_url(url)
        locks = redis.Redis.from_url(with_db_index(base_url, base_index(base_url)))
        try:
            yield ClaimedDb(base_url, int(url.rsplit("/", 1)[-1]), db, locks)
        finally:
            db.close()
            locks.close()


def _index_of(url: str) -> int:
    return int(url.rsplit("/", 1)[-1])


def test_a_redis_db_in_use_by_another_run_is_not_taken(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed, claimed.claim_preferring_it() as second:
        assert _index_of(second) != claimed.index


def test_a_redis_db_holding_foreign_keys_is_skipped_and_left_intact(
    private_redis_url: str,
) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        claimed.db.set("their-data", "precious")
        claimed.locks.delete(claimed.lock)  # now: keys, and no lock of the suite
        try:
            with claimed.claim_preferring_it() as second:
                assert _index_of(second) != claimed.index
            assert claimed.db.get("their-data") == b"precious"
        finally:
            claimed.db.delete("their-data")


def test_a_killed_runs_redis_db_is_taken_over_and_flushed(private_redis_url: str) -> None:
    with claimed_by_a(private_redis_url) as claimed:
        claimed.db.set("left-by-a-killed-run", "1")
        claimed.locks.set(claimed.lock, "ct_0000000000_dead00_gw9")  # nobody connected as it
        with claimed.claim_preferring_it() as second:
            assert _index_of(second) == claimed.index
            assert claimed.db.dbsize() == 0
        assert claimed.locks.get(claimed.lock) is None


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


def test_worker_database_is_the_apps_database(worker_resources: WorkerResources) -> None:
    assert worker_resources.settings.database_url == worker_resources.database_url
    assert worker_resources.name in worker_resources.database_url
    engine = create_engine(worker_resources.database_url)
    try:
        assert {"users", "posts"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_reaping_drops_only_this_suites_databases_older_than_an_hour(
    worker_resources: WorkerResources,
) -> None:
    provisioner = provisioner_for(worker_resources.server_url)
    suffix = worker_resources.name.rsplit("_", 1)[-1]
    old = f"ct_{int(time.time()) - 2 * 3600}_0ddba1_reap{suffix}"
    provisioner.create(old)
    try:
        provisioner.reap_stale()
        remaining = provisioner.list_databases()
        assert old not in remaining
        assert worker_resources.name in remaining  # this run's database is fresh: kept
    finally:
        provisioner.drop(old)
