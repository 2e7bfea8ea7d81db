"""A throwaway redis-server for one test run, when no REDIS_URL is given."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from scripts.paths import scratch_dir
from scripts.providers.ports import free_port
from scripts.providers.process import process_group

SEARCH_PATHS = ("/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server")
READY_TIMEOUT_SECONDS = 10.0


class RedisServerMissingError(RuntimeError):
    """No redis-server program could be found."""


class RedisServerStartError(RuntimeError):
    """redis-server was found but did not answer PING."""


def find_redis_server() -> str:
    """The path of a redis-server program; raises with the places searched and the fixes."""
    found = shutil.which("redis-server")
    if found:
        return found
    for candidate in SEARCH_PATHS:
        if Path(candidate).is_file():
            return candidate
    raise RedisServerMissingError(
        "No redis-server found on PATH or in " + ", ".join(SEARCH_PATHS) + ". "
        "Install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) "
        "or point the suite at a running server: `REDIS_URL=redis://127.0.0.1:6379/0 pytest`."
    )


def stop_process(process: subprocess.Popen[bytes], timeout_seconds: float) -> None:
    """Ask `process` to stop (SIGTERM); kill it if it is still running after the timeout."""
    process.terminate()
    try:
        process.wait(timeout=timeout_seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    client = redis.Redis.from_url(url, socket_connect_timeout=0.2, socket_timeout=0.2)
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RedisServerStartError(
                    f"redis-server exited with {process.returncode}: {log_path.read_text()[-2000:]}"
                )
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                pass
        raise RedisServerStartError(f"redis-server did not answer PING at {url} in time")
    finally:
        client.close()


@contextmanager
def throwaway_redis_server() -> Iterator[str]:
    """Start redis-server on a free 127.0.0.1 port without persistence; yield its URL."""
    binary = find_redis_server()
    workdir = Path(tempfile.mkdtemp(prefix="ct_redis_", dir=scratch_dir()))
    log_path = workdir / "redis.log"
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
        "--logfile", str(log_path),
        "--daemonize", "no",
    ]  # fmt: skip
    try:
        # tied to this run: it dies with it, even when the run is killed
        with process_group(command, workdir / "redis.out") as process:
            _wait_until_ready(process, url, log_path)
            yield url
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def throwaway_redis_server_or_skip() -> Iterator[str]:
    """`throwaway_redis_server` for a test: skipped, saying why, where no redis-server is found."""
    try:
        with throwaway_redis_server() as url:
            yield url
    except RedisServerMissingError as error:
        pytest.skip(f"needs a redis-server binary: {error}")
