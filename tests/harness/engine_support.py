"""A real Docker engine for the image source's tests: the private `dockerd` (its data root
persists, so images are built once per machine), and the images they run, built from
Debian's archive the way `nox -s images` builds them."""

from __future__ import annotations

import fcntl
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from scripts import docker_engine, paths
from scripts.sources.container_runs import RUNNER_LABEL, labelled_containers
from scripts.sources.debian import download_closure, extract_debs
from scripts.sources.image_builds import ensure_image, recipe_for

# What the tests run: one PostgreSQL, one MariaDB, one Redis (also the cache of the others).
TEST_IMAGES = (
    "fastapi-compat-matrix/postgres:17",
    "fastapi-compat-matrix/mariadb:10.11",
    "fastapi-compat-matrix/redis:8.0",
)


@contextmanager
def engine_for_tests() -> Iterator[docker_engine.Engine]:
    """The private engine with DOCKER_HOST pointing at it; a skip only where none can ever
    run, a failure (with dockerd's own words) where one should have started and did not."""
    reason = docker_engine.cannot_run_here()
    if reason is not None:
        pytest.skip(f"this machine can never run a Docker engine: {reason}")
    try:
        with docker_engine.private_engine() as engine:
            previous = os.environ.get("DOCKER_HOST")
            os.environ["DOCKER_HOST"] = engine.host
            try:
                yield engine
            finally:
                if previous is None:
                    os.environ.pop("DOCKER_HOST", None)
                else:
                    os.environ["DOCKER_HOST"] = previous
    except docker_engine.EngineError as error:
        pytest.fail(f"the Docker engine did not start: {error}")


def build_test_images(client: Any, tags: Sequence[str] = TEST_IMAGES) -> None:
    """Build the images (or reuse them), one process at a time (xdist workers share them)."""
    lock_path = docker_engine.default_root() / "test-images.lock"
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for tag in tags:
            ensure_image(
                client,
                recipe_for(tag),
                download_closure=download_closure,
                extract_debs=extract_debs,
                cache=paths.cache_dir() / "debian",
                scratch=paths.scratch_dir(),
            )


def containers_of_runner(client: Any, pid: int) -> list[Any]:
    """The containers (running or not) that the harness process `pid` started."""
    return [
        container
        for container, labels in labelled_containers(client)
        if labels.get(RUNNER_LABEL, "").split(":")[1:2] == [str(pid)]
    ]


def kill_processes_naming(marker: str) -> None:
    """SIGKILL every process whose command line names `marker` (a killed run's suite)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in text:
            with suppress(ProcessLookupError):
                os.kill(int(cmdline.parent.name), signal.SIGKILL)


def write_matrix(path: Path, body: str) -> Path:
    """A matrix file whose servers are the test images (plus `body`)."""
    path.write_text(
        "[matrix]\n"
        'default-database = "sqlite-stdlib"\n'
        'default-cache = "redis-8.0"\n'
        "workers = 1\n"
        "timeout = 300\n\n"
        '[database.sqlite.stdlib]\nlibrary = { module = "sqlite3" }\n\n'
        '[cache.redis."8.0"]\nimage = "fastapi-compat-matrix/redis:8.0"\n\n' + body
    )
    return path
