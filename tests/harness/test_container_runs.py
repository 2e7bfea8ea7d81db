"""The containers of a run without Ryuk: which runs are dead, what is reaped, and going on
without Ryuk (in one line) when its image cannot be had. A stand-in engine client here; the
real engine's tests kill a run with `kill -9` and watch the next one reap it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from typing import Any

import pytest
from docker.errors import APIError, ImageNotFound

from scripts.sources import container_runs
from scripts.sources.container_runs import (
    RUN_LABEL,
    RUNNER_LABEL,
    reap_dead_runs,
    runner_is_alive,
    runner_label,
)


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


class StandInContainer:
    def __init__(self, name: str, runner: str) -> None:
        self.attrs = {"Labels": {RUN_LABEL: "r1", RUNNER_LABEL: runner}, "Names": [f"/{name}"]}
        self.removed = False

    def remove(self, force: bool, v: bool) -> None:
        self.removed = True


class StandInClient:
    def __init__(self, containers: list[StandInContainer], ryuk_present: bool = False) -> None:
        self.containers = self
        self.images = self
        self.api = self
        self._containers = containers
        self.ryuk_present = ryuk_present

    def list(
        self,
        all: bool,  # the docker SDK's name
        sparse: bool,
        filters: dict[str, str],
    ) -> list[StandInContainer]:
        assert filters == {"label": RUN_LABEL}
        return self._containers

    def get(self, image: str) -> object:
        if not self.ryuk_present:
            raise ImageNotFound(f"No such image: {image}")
        return object()


def test_a_runner_is_alive_only_while_that_very_process_runs() -> None:
    assert runner_is_alive(runner_label()) is True
    host = socket.gethostname()
    assert runner_is_alive(f"{host}:{dead_pid()}:12345") is False
    # a pid reused by another process: its start time differs
    assert runner_is_alive(f"{host}:{os.getpid()}:1") is False
    assert runner_is_alive("another-machine:1:1") is None  # not ours to judge


def test_only_the_containers_of_dead_runs_on_this_host_are_removed() -> None:
    host = socket.gethostname()
    dead = StandInContainer("dead", f"{host}:{dead_pid()}:1")
    live = StandInContainer("live", runner_label())
    elsewhere = StandInContainer("elsewhere", "another-machine:1:1")
    removed = reap_dead_runs(StandInClient([dead, live, elsewhere]))
    assert removed == ["dead"]
    assert (dead.removed, live.removed, elsewhere.removed) == (True, False, False)


def test_without_a_ryuk_image_the_run_goes_on_without_it_and_says_so_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", False)

    class RefusingPuller:
        def __init__(self, base_url: str, timeout: int) -> None:
            pass

        def __enter__(self) -> RefusingPuller:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def pull(self, image: str) -> Any:
            raise APIError("Get https://registry-1.docker.io/v2/: no such host")

    monkeypatch.setattr("docker.APIClient", RefusingPuller)
    said: list[str] = []
    container_runs.ryuk_or_not(StandInClient([]), "unix:///x.sock", "r1", said.append)
    assert testcontainers_config.ryuk_disabled
    assert len(said) == 1
    assert "no Ryuk" in said[0]
    assert "no such host" in said[0]
    assert "run r1" in said[0]


def test_ryuk_is_kept_when_its_image_is_there(monkeypatch: pytest.MonkeyPatch) -> None:
    from testcontainers.core.config import testcontainers_config

    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", False)
    said: list[str] = []
    container_runs.ryuk_or_not(StandInClient([], ryuk_present=True), "unix:///x", "r1", said.append)
    assert not testcontainers_config.ryuk_disabled
    assert said == []
