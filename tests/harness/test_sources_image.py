"""The image source without a Docker engine: engine detection, container choice, URLs, and
teardown, with a stand-in container where one would be started."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest

from scripts.backends import server_backend
from scripts.backends.postgres import Postgres
from scripts.matrix import ImageSource
from scripts.providers.base import ProvisioningError, RunningServer, Unavailable
from scripts.sources import image as image_module
from scripts.sources.image import ImageProvider
from tests.harness.providers_support import spec


def test_no_docker_engine_is_unavailable_naming_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = tmp_path / "no-such-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    postgres = spec("postgres", "16", ImageSource("postgres:16-alpine"))
    with pytest.raises(Unavailable) as raised:
        ImageProvider(postgres, ImageSource("postgres:16-alpine")).check()
    assert f"no Docker engine answers at unix://{socket_path}" in raised.value.reason
    assert raised.value.hint is not None
    assert "start Docker" in raised.value.hint


@pytest.mark.parametrize(
    ("backend", "class_name"),
    [
        ("postgres", "PostgresContainer"),
        ("mysql", "MySqlContainer"),
        ("mariadb", "MySqlContainer"),  # its entrypoint reads the MYSQL_* variables too
        ("redis", "RedisContainer"),
        ("valkey", "ValkeyContainer"),
    ],
)
def test_each_backend_uses_testcontainers_own_module_with_keywords_it_accepts(
    backend: str, class_name: str
) -> None:
    contract = server_backend(backend).image_contract("pw")
    container_class = getattr(importlib.import_module(contract.module), contract.class_name)
    assert contract.class_name == class_name
    # Building one needs a Docker engine; binding the arguments checks them without one.
    inspect.signature(container_class).bind("some/image:tag", **contract.keywords)


def test_backend_without_a_container_module_is_unavailable() -> None:
    with pytest.raises(Unavailable, match="does not support sqlite"):
        image_module.image_backend("sqlite")


@pytest.mark.parametrize(
    ("backend", "testcontainers_url", "suite_url"),
    [
        (
            "postgres",
            "postgresql+psycopg2://postgres:pw@localhost:32768/postgres",
            "postgresql+psycopg2://postgres:pw@localhost:32768/postgres",
        ),
        (
            "postgres",
            "postgresql://test:pw@localhost:32768/test",
            "postgresql+psycopg2://test:pw@localhost:32768/postgres",
        ),
        (
            "mariadb",
            "mysql+pymysql://root:pw@localhost:32769/test",
            "mysql+pymysql://root:pw@localhost:32769/mysql",
        ),
        ("valkey", "valkey://localhost:32770", "redis://localhost:32770/0"),
        ("redis", "redis://:secret@localhost:32771", "redis://:secret@localhost:32771/0"),
    ],
)
def test_testcontainers_urls_become_the_suites_driver_urls(
    backend: str, testcontainers_url: str, suite_url: str
) -> None:
    assert server_backend(backend).suite_url(testcontainers_url) == suite_url


class StandInContainer:
    """Records what the provider does with it; `start` fails when told to."""

    def __init__(self, url: str, fail_start: bool = False) -> None:
        self._url = url
        self.fail_start = fail_start
        self.calls: list[str] = []
        self.ended: str | None = None

    def start(self) -> StandInContainer:
        self.calls.append("start")
        if self.fail_start:
            raise RuntimeError("pull access denied for postgres:99")
        return self

    def stop(self) -> None:
        self.calls.append("stop")

    def url(self) -> str:
        return self._url

    def exit_status(self) -> str | None:
        return self.ended

    def log_tail(self) -> str:
        return "FATAL:  terminating connection due to administrator command"

    def description(self) -> str:
        return "postgres:16-alpine"


def provider_with(container: StandInContainer, monkeypatch: pytest.MonkeyPatch) -> ImageProvider:
    monkeypatch.setattr(Postgres, "server_version", lambda self, url, timeout: "16.4")

    def make(backend: str, image: str) -> StandInContainer:
        return container

    source = ImageSource("postgres:16-alpine")
    return ImageProvider(
        spec("postgres", "16", source), source, ping=lambda: None, make_container=make
    )


def test_container_is_started_reported_and_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql+psycopg2://postgres:hunter2@localhost:32768/postgres"
    container = StandInContainer(url)
    with provider_with(container, monkeypatch).start() as server:
        assert container.calls == ["start"]
        assert server == RunningServer(
            url=url,
            reported_version="16.4",
            source="image",
            provenance="postgres:16-alpine (postgresql+psycopg2://postgres:***@localhost:32768/postgres)",
        )
    assert container.calls == ["start", "stop"]


def test_container_that_fails_to_start_is_torn_down_and_reported(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = StandInContainer("unused", fail_start=True)
    with (
        pytest.raises(ProvisioningError, match="pull access denied"),
        provider_with(container, monkeypatch).start(),
    ):
        pytest.fail("must not yield")
    assert container.calls == ["start", "stop"]


def test_a_container_that_ended_is_reported_by_the_running_servers_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = StandInContainer("postgresql+psycopg2://postgres:pw@localhost:1/postgres")
    with provider_with(container, monkeypatch).start() as server:
        assert server.alive is not None
        server.alive()  # still running: nothing to say
        container.ended = "exited with code 137"
        with pytest.raises(ProvisioningError, match="exited with code 137") as raised:
            server.alive()
    assert "administrator command" in raised.value.log_tail


def test_a_server_that_never_answers_in_an_ended_container_fails_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    container = StandInContainer("postgresql+psycopg2://postgres:pw@localhost:1/postgres")
    container.ended = "exited with code 1"
    provider = provider_with(container, monkeypatch)

    def refused(self: Postgres, url: str, timeout: float) -> str:
        raise image_module.NotAnsweringError("connection refused")

    monkeypatch.setattr(Postgres, "server_version", refused)
    with (
        pytest.raises(ProvisioningError, match="it exited with code 1") as raised,
        provider.start(),
    ):
        pytest.fail("must not yield")
    assert "administrator command" in raised.value.log_tail
    assert container.calls == ["start", "stop"]


def test_an_image_of_the_projects_own_that_is_not_built_is_unavailable_with_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = ImageSource("fastapi-compat-matrix/postgres:17")

    def not_built(image: str) -> None:
        raise Unavailable(f"{image} is not built", "run nox -s images")

    provider = ImageProvider(
        spec("postgres", "17", source), source, ping=lambda: None, check_image=not_built
    )
    with pytest.raises(Unavailable, match="fastapi-compat-matrix/postgres:17 is not built"):
        provider.check()
    # an official image is pulled when it starts, not looked for beforehand
    official = ImageSource("postgres:17-alpine")
    ImageProvider(
        spec("postgres", "17", official), official, ping=lambda: None, check_image=not_built
    ).check()
