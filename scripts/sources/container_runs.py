"""The containers of this run: labelled with the run id, removed at exit, and the ones of
dead runs removed at the next start, with or without testcontainers' Ryuk.

Every container the image source starts carries `fastapi-compat-matrix.run=<run id>` and
`fastapi-compat-matrix.runner=<host>:<pid>:<process start time>`. A run removes its own
containers when each cell ends and once more when it exits (Ctrl-C and SIGTERM included).
A run killed with `kill -9` cannot; so every run, before it starts a container, removes the
containers whose runner process on this host is gone. When the Ryuk image cannot be had
(no registry), testcontainers goes on without it and this module is the only reaper.
"""

from __future__ import annotations

import atexit
import os
import socket
import threading
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from scripts.docker_engine import process_start_time

RUN_LABEL = "fastapi-compat-matrix.run"
RUNNER_LABEL = "fastapi-compat-matrix.runner"
RYUK_PULL_TIMEOUT_S = 30


@dataclass(frozen=True)
class ContainerRun:
    """This process's run on one engine."""

    run_id: str
    labels: dict[str, str]


_runs: dict[str, ContainerRun] = {}
_lock = threading.Lock()


def runner_label(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{process_start_time(pid)}"


def runner_is_alive(label: str) -> bool | None:
    """Whether the runner named by `label` still runs; None when it ran on another host."""
    host, _, rest = label.partition(":")
    pid_text, _, started = rest.partition(":")
    if host != socket.gethostname():
        return None
    if not pid_text.isdigit():
        return False
    return process_start_time(int(pid_text)) == started


def container_run(client: Any, host: str, say: Callable[[str], None] = print) -> ContainerRun:
    """This run on the engine at `host`: set up once per process (reaping, Ryuk, exit sweep)."""
    with _lock:
        run = _runs.get(host)
        if run is not None:
            return run
        run_id = uuid.uuid4().hex[:12]
        run = ContainerRun(run_id, {RUN_LABEL: run_id, RUNNER_LABEL: runner_label()})
        removed = reap_dead_runs(client)
        if removed:
            say(f"docker: removed {len(removed)} container(s) of dead runs: {', '.join(removed)}")
        ryuk_or_not(client, host, run_id, say)
        atexit.register(remove_run_containers, host, run_id)
        _runs[host] = run
        return run


def labelled_containers(client: Any, label: str = RUN_LABEL) -> list[tuple[Any, dict[str, str]]]:
    """The containers carrying `label` (`key` or `key=value`), with their labels.

    Listed sparse: one call, no inspection of each container, which another run may be
    removing at the same moment."""
    found = client.containers.list(all=True, sparse=True, filters={"label": label})
    return [(container, dict(container.attrs.get("Labels") or {})) for container in found]


def reap_dead_runs(client: Any) -> list[str]:
    """Remove the containers whose runner on this host is gone; returns their names."""
    from docker.errors import NotFound

    removed = []
    for container, labels in labelled_containers(client):
        if runner_is_alive(labels.get(RUNNER_LABEL, "")) is False:
            with suppress(NotFound):  # removed by another run meanwhile
                container.remove(force=True, v=True)
            names = container.attrs.get("Names") or [container.short_id]
            removed.append(str(names[0]).lstrip("/"))
    return removed


def remove_this_runs_containers(host: str) -> None:
    """Remove this process's containers from the engine at `host` (before it stops)."""
    run = _runs.get(host)
    if run is not None:
        remove_run_containers(host, run.run_id)


def remove_run_containers(host: str, run_id: str) -> None:
    """Remove every container of the run `run_id` still on the engine at `host`."""
    import docker

    # a sweep at exit: the engine may be gone already, and its containers with it
    with suppress(Exception):
        client = docker.DockerClient(base_url=host, timeout=30)
        try:
            for container, _ in labelled_containers(client, f"{RUN_LABEL}={run_id}"):
                container.remove(force=True, v=True)
        finally:
            client.close()


def ryuk_or_not(client: Any, host: str, run_id: str, say: Callable[[str], None]) -> None:
    """Keep testcontainers' Ryuk when its image can be had; otherwise go on without it."""
    import docker
    from docker.errors import DockerException
    from testcontainers.core.config import testcontainers_config

    if testcontainers_config.ryuk_disabled:
        return
    image = testcontainers_config.ryuk_image
    try:
        client.images.get(image)
        return
    except DockerException:
        pass
    try:
        with docker.APIClient(base_url=host, timeout=RYUK_PULL_TIMEOUT_S) as puller:
            puller.pull(image)
        client.images.get(image)
        return
    except DockerException as error:
        reason = _first_line(str(error))
    testcontainers_config.ryuk_disabled = True
    say(
        f"testcontainers: no Ryuk ({image} cannot be had: {reason}); going on without it, "
        f"the harness removes the containers of run {run_id} itself"
    )


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else "no reason given"
    return line if len(line) <= 160 else line[:157] + "..."
