"""The image source end to end against a real Docker engine (the private `dockerd`), with
images built here from Debian's archive: cells to `passed`, the version refusal, a
container dying mid-cell, and the reaping of a run killed with `kill -9`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from scripts.cell import run_cell
from scripts.matrix import ImageSource, load_matrix
from scripts.paths import REPO_ROOT
from scripts.plan import RunPlan
from scripts.schedule import run_cells
from scripts.sources.image import ImageProvider
from scripts.suite import Suite
from tests.harness.engine_support import (
    build_test_images,
    containers_of_runner,
    engine_for_tests,
    kill_processes_naming,
    write_matrix,
)
from tests.harness.providers_support import as_nobody, as_root

# One xdist worker runs them all (nox -s tests uses --dist loadgroup); the first one may
# build the images from Debian's archive, which takes a few minutes on a cold machine.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("docker-engine"),
    pytest.mark.timeout(900),
]

IMAGES_MATRIX = REPO_ROOT / "matrix-images.toml"
TRIVIAL_SUITE = """
def test_runs():
    assert True
"""
# Stops the cache server of one cell (the cell whose results folder is `redis-8`), then
# lasts until the harness has seen it gone; the other cell's run of it just passes.
STOPPING_SUITE = """
import os
import time

import redis


def test_stops_its_cache_server(request):
    if "/redis-8/" not in request.config.option.xmlpath:
        return
    client = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2)
    client.shutdown(nosave=True)


def test_goes_on_for_a_while(request):
    if "/redis-8/" in request.config.option.xmlpath:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """A Docker client on the private engine, with the test images built (or reused)."""
    import docker

    with engine_for_tests() as started:
        client = docker.DockerClient(base_url=started.host, timeout=600)
        try:
            build_test_images(client)
            yield client
        finally:
            client.close()


# Each server of the image path, as (cell, role); another local user's client over TCP,
# without the password; and a sign it got in.
PSQL = "psql -w -h 127.0.0.1 -p {port} -U postgres -d postgres -Atc \"SELECT 'in' || 'side'\""
MARIADB = "mariadb --no-defaults -h 127.0.0.1 -P {port} -uroot -Ne \"SELECT CONCAT('in','side')\""
REDIS_CLI = "redis-cli -h 127.0.0.1 -p {port} PING"
IMAGE_SERVERS = {
    "postgres:17": ("postgres-17", "database", PSQL, "inside"),
    "mysql:9.7": ("mysql-9.7", "database", MARIADB, "inside"),
    "mariadb:10.11": ("mariadb-10.11", "database", MARIADB, "inside"),
    "redis:8.0": ("sqlite-stdlib", "cache", REDIS_CLI, "PONG"),
    "valkey:8": ("valkey-8", "cache", REDIS_CLI, "PONG"),
}
# what the servers answer a client that brings no password
ASKED_FOR_A_PASSWORD = ("no password supplied", "Access denied", "NOAUTH")


def own_containers(client: Any) -> list[Any]:
    return containers_of_runner(client, os.getpid())


@pytest.mark.parametrize(
    ("cell_id", "database_image"),
    [
        ("postgres-17", "fastapi-compat-matrix/postgres:17"),
        ("mariadb-10.11", "fastapi-compat-matrix/mariadb:10.11"),
    ],
)
def test_a_cell_passes_the_whole_suite_through_containers_and_leaves_none(
    engine: Any, tmp_path: Path, cell_id: str, database_image: str
) -> None:
    cell = load_matrix(IMAGES_MATRIX).cell(cell_id)
    result = run_cell(cell, RunPlan((cell,), tmp_path, timeout=600, workers=2, source="image"))
    assert result.state == "passed", result.reason
    servers = {server.role: server for server in result.servers}
    assert servers["database"].source == "image"
    assert servers["database"].provenance.startswith(database_image)
    assert "built from debian" in servers["database"].provenance
    assert servers["cache"].provenance.startswith("fastapi-compat-matrix/redis:8.0")
    assert servers["cache"].reported.startswith("8.0")
    assert own_containers(engine) == []


def test_an_image_of_another_version_is_refused_naming_what_it_reported(
    engine: Any, tmp_path: Path
) -> None:
    matrix = write_matrix(
        tmp_path / "matrix.toml",
        '[cache.redis."7.4"]\nimage = "fastapi-compat-matrix/redis:8.0"\n',
    )
    cell = load_matrix(matrix).cell("redis-7.4")
    result = run_cell(cell, RunPlan((cell,), tmp_path / "results", timeout=120))
    assert result.state == "error"
    assert "redis-7.4 was requested but the server reports '8.0" in (result.reason or "")
    assert own_containers(engine) == []


def test_a_container_dying_mid_cell_makes_that_cell_an_error_with_its_log_and_others_go_on(
    engine: Any, tmp_path: Path
) -> None:
    suite = tmp_path / "test_stopping.py"
    suite.write_text(STOPPING_SUITE)
    matrix = write_matrix(
        tmp_path / "matrix.toml",
        '[cache.redis."8"]\nimage = "fastapi-compat-matrix/redis:8.0"\n',
    )
    loaded = load_matrix(matrix)
    cells = [loaded.cell("redis-8"), loaded.cell("sqlite-stdlib")]
    results = run_cells(
        RunPlan(
            tuple(cells),
            tmp_path / "results",
            timeout=120,
            source="image",
            suite=Suite(test_paths=(str(suite),)),
        )
    )
    states = {result.cell: result for result in results}
    dying = states["redis-8"]
    assert dying.state == "error"
    assert "the cache server stopped while the suite ran" in (dying.reason or "")
    assert "exited with code" in (dying.reason or "")
    assert "ready to exit" in (dying.log_tail or "")  # the container's own last words
    assert states["sqlite-stdlib"].state == "passed", states["sqlite-stdlib"].reason
    assert dying.timings.total_s < 15  # noticed while the suite ran, not after its 20 s
    assert own_containers(engine) == []


def test_the_containers_of_a_run_killed_mid_cell_are_gone_once_the_next_run_has_started(
    engine: Any, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    matrix = write_matrix(
        tmp_path / "matrix.toml",
        '[cache.redis."7.4"]\nimage = "fastapi-compat-matrix/redis:8.0"\n',
    )
    command = [sys.executable, "-m", "scripts", "--matrix", str(matrix)]
    runner = subprocess.Popen(  # noqa: S603 - the harness itself
        [*command, "cell", "sqlite-stdlib", "--source", "image", "--results", str(results)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        left = _wait_for_running_container(engine, runner)
        os.kill(runner.pid, signal.SIGKILL)
        runner.wait()
        left.reload()
        assert left.status == "running"  # nothing else would have removed it
    finally:
        runner.kill()
        runner.wait()
        kill_processes_naming(str(results))  # the dead run's suite, left running

    next_run = subprocess.run(  # noqa: S603 - any run reaps first; this cell is refused fast
        [*command, "cell", "redis-7.4", "--source", "image", "--results", str(results)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "removed 1 container(s) of dead runs" in next_run.stdout, next_run.stdout
    assert containers_of_runner(engine, runner.pid) == []


def test_ctrl_c_mid_cell_removes_the_runs_containers_before_it_exits(
    engine: Any, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    matrix = write_matrix(tmp_path / "matrix.toml", "")
    command = [sys.executable, "-m", "scripts", "--matrix", str(matrix), "cell", "sqlite-stdlib"]
    runner = subprocess.Popen(  # noqa: S603 - the harness itself
        [*command, "--source", "image", "--results", str(results)],
        cwd=REPO_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_running_container(engine, runner)
        runner.send_signal(signal.SIGINT)
        assert runner.wait(timeout=60) != 0
    finally:
        runner.kill()
        runner.wait()
        kill_processes_naming(str(results))
    assert containers_of_runner(engine, runner.pid) == []


def _wait_for_running_container(client: Any, runner: subprocess.Popen[bytes]) -> Any:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert runner.poll() is None, "the run ended before its container started"
        running = [c for c in containers_of_runner(client, runner.pid) if c.status == "running"]
        if running:
            return running[0]
        time.sleep(0.2)  # polling the engine
    pytest.fail("the run started no container within 120 s")


@as_root
@pytest.mark.parametrize("image", sorted(IMAGE_SERVERS))
def test_another_local_user_without_the_password_cannot_get_into_an_image_server(
    engine: Any, image: str
) -> None:
    cell_id, role, client, got_in = IMAGE_SERVERS[image]
    build_test_images(engine, [f"fastapi-compat-matrix/{image}"])
    spec = next(s for s in load_matrix(IMAGES_MATRIX).cell(cell_id).specs if s.role == role)
    [source] = [source for source in spec.sources if isinstance(source, ImageSource)]
    with ImageProvider(spec, source).start() as server:
        url = urlsplit(server.url)
        assert url.hostname == "127.0.0.1"
        assert url.password  # the harness itself gets in with it
        refused = as_nobody("sh", "-c", client.format(port=url.port))
    assert got_in not in refused, refused
    assert any(sign in refused for sign in ASKED_FOR_A_PASSWORD), refused
    assert own_containers(engine) == []
