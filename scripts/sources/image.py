"""The `image` source: a throwaway container through testcontainers' own modules.

Chosen only when a Docker engine answers. Each server backend names its testcontainers
module (`ServerBackend.image_contract`), which waits for readiness itself; we then read the
server's own version like every other source.

Every container carries this run's labels (`container_runs`), publishes its port on
127.0.0.1 only when the engine is local, keeps its data on tmpfs, and is watched while the
suite runs: a container that dies mid-cell makes the cell an `error` with its log tail.
Images under the project's prefix (`fastapi-compat-matrix/...`) are built here by
`nox -s images`; they are never pulled.
"""

from __future__ import annotations

import importlib
import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from scripts.backends import NotAnsweringError, ServerBackend, UnknownBackendError, server_backend
from scripts.docker_engine import ping
from scripts.images.build import SOURCE_LABEL
from scripts.images.recipes import is_local_image
from scripts.matrix import ImageSource, VersionSpec
from scripts.providers.base import ProvisioningError, RunningServer, Unavailable
from scripts.providers.ports import LOOPBACK
from scripts.sources.container_runs import container_run
from scripts.sources.urls import hide_password
from scripts.vocabulary import SourceKind

PING_TIMEOUT_S = 3
PROBE_TIMEOUT_S = 2.0
ANSWER_DEADLINE_S = 30.0
STARTUP_TIMEOUT_S = 90.0
WAIT_POLL_S = 0.1
LOG_TAIL_LINES = 40
NO_ENGINE_HINT = "start Docker or point DOCKER_HOST at an engine"
DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
RUNNING_STATES = frozenset({"created", "running", "restarting"})


class Container(Protocol):
    """A container as the provider drives it."""

    def start(self) -> Any: ...

    def stop(self) -> None: ...

    def url(self) -> str:
        """The suite URL of the started container."""

    def exit_status(self) -> str | None:
        """None while it runs; otherwise how it ended (`exited with code 137`)."""

    def log_tail(self) -> str: ...

    def description(self) -> str:
        """The image, its id and where it was built from, for the provenance."""


ContainerFactory = Callable[[str, str], Container]
"""(backend, image) -> a container not yet started."""


def docker_host() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_DOCKER_HOST


def ping_docker(host: str | None = None, timeout_s: int = PING_TIMEOUT_S) -> None:
    """Raise `Unavailable` unless the engine at `host` (`DOCKER_HOST`) answers `/_ping`."""
    host = host or docker_host()
    try:
        if host.startswith("unix://"):
            ping(host, timeout_s)
        else:
            _ping_with_sdk(host, timeout_s)
    except (OSError, ValueError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise Unavailable(f"no Docker engine answers at {host} ({detail})", NO_ENGINE_HINT) from exc


def _ping_with_sdk(host: str, timeout_s: int) -> None:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.from_env(timeout=timeout_s, environment={**os.environ, "DOCKER_HOST": host})
        try:
            client.ping()
        finally:
            client.close()
    except DockerException as exc:
        raise ValueError(str(exc)) from exc


def check_local_image(image: str) -> None:
    """Raise `Unavailable` when an image of this project's own is not built on the engine."""
    import docker
    from docker.errors import DockerException, ImageNotFound

    try:
        client = docker.DockerClient(base_url=docker_host(), timeout=PING_TIMEOUT_S)
        try:
            client.images.get(image)
        finally:
            client.close()
    except ImageNotFound:
        raise Unavailable(
            f"{image} is not built on the engine at {docker_host()}",
            "build it with `nox -s images -- --matrix <this matrix file>`",
        ) from None
    except DockerException as exc:
        raise Unavailable(f"cannot look for {image}: {exc}", NO_ENGINE_HINT) from exc


def image_backend(backend: str) -> ServerBackend:
    """The server backend whose images we run; `Unavailable` for a library (SQLite)."""
    try:
        return server_backend(backend)
    except UnknownBackendError as exc:
        raise Unavailable(
            f"the image source does not support {backend} ({exc})",
            "use another source in matrix.toml",
        ) from exc


def configure_testcontainers(local_engine: bool) -> None:
    """Poll readiness every 0.1 s (not 1 s), give up after STARTUP_TIMEOUT_S, and reach a
    local engine's containers on 127.0.0.1, where their ports are published."""
    from testcontainers.core.config import ConnectionMode, testcontainers_config

    testcontainers_config.sleep_time = WAIT_POLL_S
    testcontainers_config.max_tries = round(STARTUP_TIMEOUT_S / WAIT_POLL_S)
    if local_engine:
        testcontainers_config.tc_host_override = LOOPBACK
        testcontainers_config.connection_mode_override = ConnectionMode.docker_host


class ContainerEndedError(BaseException):
    """The container ended while testcontainers waited for it. A BaseException on purpose:
    testcontainers' exec-based wait catches every Exception and retries until its timeout."""


class TestcontainersContainer:
    """A testcontainers module's container, labelled for this run."""

    __test__ = False  # not a test class, whatever its name

    def __init__(self, backend: str, image: str) -> None:
        import docker

        host = docker_host()
        local = host.startswith("unix://")
        self.backend = backend
        self.image = image
        self._client = docker.DockerClient(base_url=host)
        run = container_run(self._client, host)
        configure_testcontainers(local)
        self._server = image_backend(backend)
        password = secrets.token_hex(12)  # every server of the image path asks for it
        contract = self._server.image_contract(password)
        container_class = getattr(importlib.import_module(contract.module), contract.class_name)
        self._inner = container_class(image, labels=run.labels, **contract.keywords)
        if contract.password_setter is not None:
            getattr(self._inner, contract.password_setter)(password)
        if local:  # published on the loopback only: nobody else on the network reaches it
            for port in list(self._inner.ports):
                self._inner.ports[port] = (LOOPBACK,)
        if contract.data_tmpfs is not None:  # throwaway data, on tmpfs as the binaries' is
            folder, options = contract.data_tmpfs
            self._inner.tmpfs[folder] = options
        for name in ("exec", "get_client"):  # what testcontainers' readiness checks call
            method = getattr(self._inner, name, None)
            if method is not None:
                setattr(self._inner, name, self._while_running(method))

    def _while_running(self, method: Callable[..., Any]) -> Callable[..., Any]:
        """`method`, refusing once the container has ended: testcontainers' exec-based wait
        retries every error until its timeout, so a dead container would cost the full wait."""

        def call(*args: Any, **kwargs: Any) -> Any:
            if self._wrapped() is not None:
                ended = self.exit_status()
                if ended is not None:
                    raise ContainerEndedError(ended)
            return method(*args, **kwargs)

        return call

    def start(self) -> TestcontainersContainer:
        self._inner.start()
        return self

    def stop(self) -> None:
        try:
            self._inner.stop()  # removes it, forced, with its volumes
        finally:
            self._client.close()

    def url(self) -> str:
        return self._server.container_url(self._inner)

    def _wrapped(self) -> Any | None:
        return getattr(self._inner, "_container", None)

    def exit_status(self) -> str | None:
        from docker.errors import DockerException, NotFound

        wrapped = self._wrapped()
        if wrapped is None:
            return "never created"
        try:
            wrapped.reload()
        except NotFound:
            return "removed"
        except DockerException as exc:
            return f"not inspectable ({exc})"
        if wrapped.status in RUNNING_STATES:
            return None
        state = wrapped.attrs.get("State", {})
        oom = " (killed: out of memory)" if state.get("OOMKilled") else ""
        return f"{wrapped.status} with code {state.get('ExitCode')}{oom}"

    def log_tail(self) -> str:
        from docker.errors import DockerException

        wrapped = self._wrapped()
        if wrapped is None:
            return ""
        try:
            logs: bytes = wrapped.logs(tail=LOG_TAIL_LINES)
        except DockerException as exc:
            return f"(no log: {exc})"
        return logs.decode(errors="replace").rstrip()

    def description(self) -> str:
        from docker.errors import DockerException

        wrapped = self._wrapped()
        name = f"container {wrapped.short_id}" if wrapped is not None else "container"
        try:
            built = self._client.images.get(self.image)
        except DockerException:
            return f"{self.image}, {name}"
        source = (built.labels or {}).get(SOURCE_LABEL)
        origin = f", built from {source}" if source else ""
        return f"{self.image} ({built.short_id.removeprefix('sha256:')}{origin}), {name}"


class ImageProvider:
    def __init__(
        self,
        spec: VersionSpec,
        source: ImageSource,
        *,
        ping: Callable[[], None] = ping_docker,
        make_container: ContainerFactory = TestcontainersContainer,
        check_image: Callable[[str], None] = check_local_image,
    ) -> None:
        self.spec = spec
        self.image = source.image
        self._ping = ping
        self._make_container = make_container
        self._check_image = check_image

    @property
    def source(self) -> SourceKind:
        return "image"

    def check(self) -> None:
        self._ping()
        if is_local_image(self.image):
            self._check_image(self.image)

    @contextmanager
    def start(self) -> Iterator[RunningServer]:
        container: Container | None = None
        try:
            try:
                container = self._make_container(self.spec.backend, self.image)
                container.start()
                url = container.url()
                reported = self._reported_version(container, url)
            except (ProvisioningError, Unavailable):
                raise
            except (Exception, ContainerEndedError) as exc:  # docker / testcontainers errors
                tail = container.log_tail() if container is not None else ""
                what = f"it {exc}" if isinstance(exc, ContainerEndedError) else _first_line(exc)
                raise ProvisioningError(
                    f"container {self.image} failed to start: {what}", tail
                ) from exc
            yield RunningServer(
                url=url,
                reported_version=reported,
                source="image",
                provenance=f"{container.description()} ({hide_password(url)})",
                alive=lambda: _still_running(container, self.image),
            )
        finally:
            if container is not None:
                container.stop()

    def _reported_version(self, container: Container, url: str) -> str:
        """Ask the server its version until it answers, the container ends, or time is up."""
        deadline = time.monotonic() + ANSWER_DEADLINE_S
        while True:
            try:
                return image_backend(self.spec.backend).server_version(url, PROBE_TIMEOUT_S)
            except NotAnsweringError as exc:
                ended = container.exit_status()
                if ended is not None or time.monotonic() > deadline:
                    why = f"it {ended}" if ended else f"{ANSWER_DEADLINE_S:.0f} s passed"
                    raise ProvisioningError(
                        f"container {self.image} started but does not answer ({why}): {exc}",
                        container.log_tail(),
                    ) from exc
            time.sleep(WAIT_POLL_S)  # polling the server, not waiting for a fixed time


def _still_running(container: Container, image: str) -> None:
    """Raise `ProvisioningError` with the container's log tail once it no longer runs."""
    ended = container.exit_status()
    if ended is not None:
        raise ProvisioningError(f"container {image} {ended}", container.log_tail())


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]
