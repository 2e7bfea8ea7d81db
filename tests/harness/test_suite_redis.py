"""The suite's own Redis (`scripts/pytest_plugin/redis_server.py`) is a server like the cells': it
requires its password, and a test run killed outright leaves none behind."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from scripts.cell import suite_folder
from scripts.paths import REPO_ROOT, SCRATCH_ENV
from scripts.providers.base import Unavailable
from scripts.pytest_plugin.redis_server import suite_redis_provider, throwaway_redis_server_or_skip
from tests.harness.fault_support import is_gone_within, recorded_processes

DEATH_LIMIT_S = 5.0

# A stand-in test run: starts the suite's Redis, says its URL, waits.
TEST_RUN = """
import time
from scripts.pytest_plugin.redis_server import throwaway_redis_server
with throwaway_redis_server() as url:
    print(url, flush=True)
    time.sleep(300)
"""


@pytest.fixture
def redis_server_program() -> None:
    try:
        suite_redis_provider().check()
    except Unavailable as error:
        pytest.skip(f"needs a redis-server program: {error}")


def test_the_suites_redis_refuses_a_connection_without_its_password(scratch: Path) -> None:
    with throwaway_redis_server_or_skip() as url:
        parts = urlsplit(url)
        assert parts.password  # the URL the fixtures hand to the suite carries it
        with redis.Redis.from_url(url, socket_timeout=5) as with_password:
            assert with_password.ping()
        address = f"{parts.hostname}:{parts.port}{parts.path}"
        for url_without in (f"redis://{address}", f"redis://:guessed@{address}"):
            with (
                redis.Redis.from_url(url_without, socket_timeout=5) as refused,
                pytest.raises(redis.exceptions.AuthenticationError),
            ):
                refused.ping()


@pytest.mark.slow
@pytest.mark.timeout(60)
@pytest.mark.usefixtures("redis_server_program")
def test_a_test_run_killed_outright_leaves_no_redis_server(scratch: Path) -> None:
    run = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", TEST_RUN],
        cwd=REPO_ROOT,
        env={**os.environ, "COMPAT_SCRATCH_DIR": str(scratch)},
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert run.stdout is not None
    with run.stdout:
        url = run.stdout.readline().decode().strip()
    assert url.startswith("redis://"), url
    [server] = recorded_processes(scratch)
    run.kill()
    run.wait()
    assert is_gone_within(server, DEATH_LIMIT_S), f"redis-server {server} outlived its test run"
    deadline = time.monotonic() + DEATH_LIMIT_S
    while list(scratch.glob("compat-run-*")):  # the watchdog removes its folder too
        assert time.monotonic() < deadline, list(scratch.iterdir())
        time.sleep(0.05)


def test_the_suites_redis_starts_inside_a_cells_suite_folder(
    redis_server_program: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in a cell the suite's scratch folder is the cell's suite folder (scripts.cell): the
    # servers' account must be able to reach a run folder made inside it
    with suite_folder("sqlite-stdlib") as folder:
        monkeypatch.setenv(SCRATCH_ENV, str(folder))
        with throwaway_redis_server_or_skip() as url:
            client = redis.Redis.from_url(url)
            try:
                assert client.ping()
            finally:
                client.close()
