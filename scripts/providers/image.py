"""The `image` source: a throwaway container through testcontainers' own modules.

Chosen only when a Docker engine answers. Postgres, MySQL/MariaDB (MySqlContainer handles the
MariaDB images: both entrypoints read `MYSQL_ROOT_PASSWORD` / `MYSQL_DATABASE` and log
"ready for connections" twice), Redis and Valkey each have a testcontainers module that
waits for readiness itself; we then read the server's own version like every other source.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from scripts.matrix import ImageSource, VersionSpec
from scripts.providers.base import ProvisioningError, RunningServer, SourceKind, Unavailable
from scripts.providers.probes import NotAnsweringError, server_version
from scripts.providers.urls import hide_password, to_suite_url

PING_TIMEOUT_S = 3
PROBE_TIMEOUT_S = 10.0
NO_ENGINE_HINT = "start Docker (or set DOCKER_HOST) or use --source binaries"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"


class Container(Protocol):
    """The part of a testcontainers container we use."""

    def start(self) -> Any: ...

    def stop(self) -> None: ...


ContainerFactory = Callable[[str, str], tuple[Container, Callable[[], str]]]
"""(backend, image) -> (container not yet started, function giving its URL once started)."""


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def ping_docker(timeout_s: int = PING_TIMEOUT_S) -> None:
    """Raise `Unavailable` unless a Docker engine answers within `timeout_s`."""
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, OSError) as exc:
        raise Unavailable(
            f"no Docker engine answers at {docker_host()}: {exc}", NO_ENGINE_HINT
        ) from exc


def testcontainers_container(backend: str, image: str) -> tuple[Container, Callable[[], str]]:
    """A testcontainers container for `image`, and how to read its suite URL once started."""
    password = secrets.token_hex(12)
    if backend == "postgres":
        from testcontainers.community.postgres import PostgresContainer

        pg = PostgresContainer(
            image, username="postgres", password=password, dbname="postgres", driver="psycopg2"
        )
        return pg, lambda: to_suite_url(backend, pg.get_connection_url())
    if backend in ("mysql", "mariadb"):
        from testcontainers.community.mysql import MySqlContainer

        my = MySqlContainer(image, dialect="pymysql", username="root", password=password)
        return my, lambda: to_suite_url(backend, my.get_connection_url())
    if backend == "redis":
        from testcontainers.community.redis import RedisContainer

        rd = RedisContainer(image)
        return rd, lambda: f"redis://{rd.get_container_host_ip()}:{rd.get_exposed_port(rd.port)}/0"
    if backend == "valkey":
        from testcontainers.community.valkey import ValkeyContainer

        vk = ValkeyContainer(image)
        return vk, lambda: to_suite_url(backend, vk.get_connection_url())
    raise Unavailable(
        f"the image source does not support {backend}", "use another source in matrix.toml"
    )


class ImageProvider:
    def __init__(
        self,
        spec: VersionSpec,
        source: ImageSource,
        *,
        ping: Callable[[], None] = ping_docker,
        make_container: ContainerFactory = testcontainers_container,
    ) -> None:
        self.spec = spec
        self.image = source.image
        self._ping = ping
        self._make_container = make_container

    @property
    def source(self) -> SourceKind:
        return "image"

    def check(self) -> None:
        self._ping()

    @contextmanager
    def start(self) -> Iterator[RunningServer]:
        container, read_url = self._make_container(self.spec.backend, self.image)
        try:
            try:
                container.start()
                url = read_url()
                reported = server_version(self.spec.backend, url, PROBE_TIMEOUT_S)
            except NotAnsweringError as exc:
                raise ProvisioningError(
                    f"container {self.image} started but does not answer: {exc}"
                ) from exc
            except ProvisioningError:
                raise
            except Exception as exc:  # docker / testcontainers errors, translated here
                raise ProvisioningError(f"container {self.image} failed to start: {exc}") from exc
            yield RunningServer(
                url=url,
                reported_version=reported,
                source="image",
                provenance=f"{self.image} ({hide_password(url)})",
            )
        finally:
            container.stop()
