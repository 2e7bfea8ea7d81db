"""Which Docker engine a run uses, and the leftovers of dead runs on the engines here.

Images built here (`nox -s images`) live in the private engine's data root. A run whose
cells name such images, with no engine answering at `DOCKER_HOST`, starts (or joins) the
private engine and points `DOCKER_HOST` at it until the run ends; its last user stops it.
Every run first removes the containers of dead runs from the engines that answer here,
and a private engine left running by a dead run is stopped once that is done.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack, contextmanager

from scripts import docker_engine
from scripts.images.recipes import is_local_image
from scripts.providers.base import Unavailable
from scripts.sources.container_runs import reap_dead_runs, remove_this_runs_containers
from scripts.sources.image import docker_host, ping_docker


@contextmanager
def engine_for_images(images: Iterable[str], say: Callable[[str], None] = print) -> Iterator[None]:
    """Serve `images` (a run's image sources): see the module's docstring."""
    local = sorted({image for image in images if is_local_image(image)})
    with ExitStack() as stack:
        if local and not _answers(docker_host()) and docker_engine.cannot_run_here() is None:
            try:
                engine = stack.enter_context(docker_engine.private_engine())
            except docker_engine.EngineError as error:
                say(f"docker: the private engine could not start: {error}")
            else:
                stack.callback(_restore_env, "DOCKER_HOST", os.environ.get("DOCKER_HOST"))
                # runs before the engine may stop: nothing of this run stays in its data root
                stack.callback(remove_this_runs_containers, engine.host)
                os.environ["DOCKER_HOST"] = engine.host
                how = "started" if engine.started_here else "joined"
                say(
                    f"docker: {how} the private engine at {engine.host} "
                    f"({engine.storage_driver}) for {', '.join(local)}"
                )
        reap_leftovers(say)
        yield


def reap_leftovers(say: Callable[[str], None] = print) -> None:
    """Remove the containers of dead runs from every engine that answers here."""
    current = docker_host()
    if _answers(current):
        _reap(current, say)
    private = docker_engine.EngineLayout(docker_engine.default_root()).host
    if private != current and docker_engine.answers(private):
        try:
            with docker_engine.private_engine():  # its last user leaving stops it
                _reap(private, say)
        except docker_engine.EngineError as error:
            say(f"docker: could not reap the private engine: {error}")


def _reap(host: str, say: Callable[[str], None]) -> None:
    import docker
    from docker.errors import DockerException

    try:
        client = docker.DockerClient(base_url=host, timeout=30)
        try:
            removed = reap_dead_runs(client)
        finally:
            client.close()
    except DockerException as error:
        say(f"docker: could not reap dead runs' containers at {host}: {error}")
        return
    if removed:
        say(
            f"docker: removed {len(removed)} container(s) of dead runs at {host}: "
            + ", ".join(removed)
        )


def _answers(host: str) -> bool:
    try:
        ping_docker(host)
    except Unavailable:
        return False
    return True


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
