"""The `image` source: a throwaway container through testcontainers' own modules.

Chosen only when a Docker engine answers. Each server backend names its testcontainers
module (`ServerBackend.image_contract`), which waits for readiness itself; we then read the
server's own version like every other source.
"""

from __future__ import annotations

import importlib
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from scripts.backends import NotAnsweringError, ServerBackend, UnknownBackendError, server_backend
from scripts.matrix import ImageSource, VersionSpec
from scripts.providers.base import ProvisioningError, RunningServer, SourceKind, Unavailable
from scripts.sources.urls import hide_password

PING_TIMEOUT_S = 3
PROBE_TIMEOUT_S = 10.0
NO_ENGINE_HINT = "start Docker or point DOCKER_HOST at an engine"
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
    """Raise `Unavailable` unless a Docker engine answers `/_ping` within `timeout_s`."""
    host = docker_host()
    try:
        if host.startswith("unix://"):
            _ping_unix_socket(host.removeprefix("unix://"), timeout_s)
        else:
            _ping_with_sdk(timeout_s)
    except (OSError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Unavailable(f"no Docker engine answers at {host} ({detail})", NO_ENGINE_HINT) from exc


def _ping_unix_socket(path: str, timeout_s: int) -> None:
    """`GET /_ping` over the engine's socket (the docker SDK leaks the socket when it fails)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(timeout_s)
        connection.connect(path)
        connection.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        status_line = connection.recv(64).split(b"\r\n", 1)[0].decode(errors="replace")
    if " 200 " not in f"{status_line} ":
        raise ValueError(f"/_ping answered {status_line!r}")


def _ping_with_sdk(timeout_s: int) -> None:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
    except DockerException as exc:
        raise ValueError(str(exc)) from exc


def image_backend(backend: str) -> ServerBackend:
    """The server backend whose images we run; `Unavailable` for a library (SQLite)."""
    try:
        return server_backend(backend)
    except UnknownBackendError as exc:
        raise Unavailable(
            f"the image source does not support {backend} ({exc})",
            "use another source in matrix.toml",
        ) from exc


def testcontainers_container(backend: str, image: str) -> tuple[Container, Callable[[], str]]:
    """A testcontainers container for `image` (connects to the engine), and its URL reader."""
    server = image_backend(backend)
    contract = server.image_contract(secrets.token_hex(12))
    container_class = getattr(importlib.import_module(contract.module), contract.class_name)
    container = container_class(image, **contract.keywords)
    return container, lambda: server.container_url(container)


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
        container: Container | None = None
        try:
            try:
                container, read_url = self._make_container(self.spec.backend, self.image)
                container.start()
                url = read_url()
                reported = image_backend(self.spec.backend).server_version(url, PROBE_TIMEOUT_S)
            except NotAnsweringError as exc:
                raise ProvisioningError(
                    f"container {self.image} started but does not answer: {exc}"
                ) from exc
            except (ProvisioningError, Unavailable):
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
            if container is not None:
                container.stop()
