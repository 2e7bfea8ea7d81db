"""A run killed with `kill -9` while its suite runs on shared (`url`) servers leaves its
per-worker databases, its Redis indexes (keys, Celery queues) and their ownership marks there;
the next run reaps them at once, not an hour later, though the watchdog removed the dead run's
folder. One test per database family (PostgreSQL, MySQL/MariaDB), each with a Redis server of
its own as the cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from scripts.backends.janitors.redis_indexes import LOCK_INDEX, OWNED_PREFIX, with_db_index
from scripts.paths import REPO_ROOT, account_markers_folder
from scripts.progress_log import read_progress
from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.redis_server import throwaway_redis_server_or_skip

# The machine's own servers, used as `url` servers: only the suite's own databases (ct_...)
# are created and dropped there.
SHARED_DATABASES = {
    "postgres": ("15", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"),
    "mariadb": ("10.11", "mysql+pymysql://root@127.0.0.1:3306/mysql"),
}
FOLDER_GONE_S = 10.0

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.fixture
def own_redis() -> Iterator[str]:
    with throwaway_redis_server_or_skip() as url:
        yield url


def write_matrix(path: Path, backend: str, redis_url: str) -> str:
    """A matrix of one cell on the shared servers; its id."""
    version, url = SHARED_DATABASES[backend]
    path.write_text(
        "[matrix]\n"
        f'default-database = "{backend}-{version}"\n'
        'default-cache = "redis-7.0"\n'
        "workers = 2\n"
        "timeout = 240\n\n"
        f'[database.{backend}."{version}"]\nurl = "{url}"\n\n'
        f'[cache.redis."7.0"]\nurl = "{redis_url}"\n',
        encoding="utf-8",
    )
    return f"{backend}-{version}"


def harness(matrix: Path, cell: str, results: Path, *pytest_args: str) -> list[str]:
    return [
        *(sys.executable, "-m", "scripts", "--matrix", str(matrix), "cell", cell),
        *("--results", str(results)),
        *(("--", *pytest_args) if pytest_args else ()),
    ]


def environment(scratch: Path) -> dict[str, str]:
    return {**os.environ, "COMPAT_SCRATCH_DIR": str(scratch)}


def killed_mid_suite(command: list[str], scratch: Path, progress: Path) -> None:
    """Run the harness; `kill -9` it once its suite has finished a test on each worker."""
    process = subprocess.Popen(  # noqa: S603
        command,
        cwd=REPO_ROOT,
        env=environment(scratch),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while len(read_progress(progress).finished) < 4:
            assert process.poll() is None, "the harness ended before it could be killed"
            assert time.monotonic() < deadline, "the suite never got going"
            time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    # the watchdog kills the suite and removes the run's folder (this process has its own, for
    # the Redis server it started)
    deadline = time.monotonic() + FOLDER_GONE_S
    while [
        p
        for p in scratch.glob("compat-run-*")
        if not p.name.startswith(f"compat-run-{os.getpid()}-")
    ]:
        assert time.monotonic() < deadline, list(scratch.iterdir())
        time.sleep(0.1)


def suite_claims(redis_url: str) -> dict[int, str]:
    """Redis index → the worker that owns it, by the suite's marks in db 0."""
    locks = redis.Redis.from_url(with_db_index(redis_url, LOCK_INDEX))
    try:
        return {
            int(key.decode().removeprefix(OWNED_PREFIX)): value.decode()
            for key in locks.scan_iter(match=f"{OWNED_PREFIX}*")
            if (value := locks.get(key)) is not None
        }
    finally:
        locks.close()


def plant_keys(redis_url: str, index: int, queue: str) -> None:
    client = redis.Redis.from_url(with_db_index(redis_url, index))
    try:
        client.set("user:3", "cached by a test")
        client.sadd(f"_kombu.binding.{queue}", "a queue's binding")
    finally:
        client.close()


def keys_in(redis_url: str, index: int) -> int:
    client = redis.Redis.from_url(with_db_index(redis_url, index))
    try:
        return int(client.dbsize())
    finally:
        client.close()


@pytest.mark.parametrize("backend", sorted(SHARED_DATABASES))
def test_the_next_run_reaps_a_killed_runs_databases_redis_keys_and_queues_at_once(
    scratch: Path, tmp_path: Path, own_redis: str, backend: str
) -> None:
    cell = write_matrix(tmp_path / "matrix.toml", backend, own_redis)
    results = tmp_path / "results"
    killed_mid_suite(
        harness(tmp_path / "matrix.toml", cell, results),
        scratch,
        results / cell / "progress.jsonl",
    )
    [marker] = account_markers_folder(scratch).glob("ct_*.json")  # it outlived the run's folder
    dead_run = marker.stem
    databases = provisioner_for(SHARED_DATABASES[backend][1])
    left_databases = [name for name in databases.list_databases() if name.startswith(dead_run)]
    left_claims = {i: owner for i, owner in suite_claims(own_redis).items() if dead_run in owner}
    assert left_databases, "the killed run left no database: nothing to prove"
    assert left_claims, "the killed run left no Redis index: nothing to prove"
    for index, owner in left_claims.items():  # what its tests and Celery queues leave there
        plant_keys(own_redis, index, owner)

    again = subprocess.run(  # noqa: S603
        harness(tmp_path / "matrix.toml", cell, results, "-k", "test_create_user_success"),
        cwd=REPO_ROOT,
        env=environment(scratch),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]
    assert [name for name in databases.list_databases() if name.startswith(dead_run)] == []
    assert [i for i, owner in suite_claims(own_redis).items() if dead_run in owner] == []
    assert [index for index in left_claims if keys_in(own_redis, index)] == []
