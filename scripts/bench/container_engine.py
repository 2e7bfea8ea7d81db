"""A Docker engine serving a benchmark's images, every one of them built, or why there is none.

    with engine_with_images(["fastapi-compat-matrix/postgres:17"], say) as why_not:
        if why_not is None:
            ...  # containers can be timed

The engine is the run's own (`scripts.sources.engines.engine_for_images`: the one at
`DOCKER_HOST`, else the private engine, started for the block when this machine can run
it). Images of the project's own that the engine lacks are built first, by `nox -s images`'
own code. When no engine can serve (not root, no `dockerd`, a build failing), the block
gets the reason instead: a benchmark leaves its container figures out and says why, it
never makes them up.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, redirect_stdout

from scripts import docker_engine
from scripts.images.recipes import is_local_image
from scripts.providers.base import Unavailable
from scripts.sources.container_runs import container_run
from scripts.sources.engines import engine_for_images
from scripts.sources.image import check_local_image, docker_host, ping_docker

CLIENT_TIMEOUT_S = 60
ENGINE_LINE = "docker: the private engine could not start: "


@contextmanager
def engine_with_images(images: Sequence[str], say: Callable[[str], None]) -> Iterator[str | None]:
    """Within the block an engine serves `images`, all built: yields None; or yields why not."""
    heard: list[str] = []

    def tell(line: str) -> None:
        heard.append(line)
        say(line)

    with engine_for_images(images, say=tell):
        yield _why_not_ready(images, heard, say)


def _why_not_ready(
    images: Sequence[str], heard: list[str], say: Callable[[str], None]
) -> str | None:
    try:
        ping_docker()
    except Unavailable as exc:
        return why_no_engine(exc.reason, heard, docker_engine.cannot_run_here())
    missing = missing_images(images)
    if missing:
        say(f"docker: building {', '.join(missing)} (as `nox -s images` does)")
        from scripts.sources.image_builds import build_images

        with redirect_stdout(sys.stderr):  # its progress lines; stdout is the caller's
            code = build_images(missing)
        still = missing_images(missing)
        if still:
            return f"{', '.join(still)} could not be built (the image builder exited with {code})"
    join_container_run(say)
    return None


def join_container_run(say: Callable[[str], None]) -> None:
    """This run's once-per-process container set-up (labels, reaping, Ryuk or not), done
    now: a run pays it once, so it belongs in no timed start."""
    import docker

    client = docker.DockerClient(base_url=docker_host(), timeout=CLIENT_TIMEOUT_S)
    try:
        container_run(client, docker_host(), say)
    finally:
        client.close()


def missing_images(images: Sequence[str]) -> list[str]:
    """The project's own images among `images` that the engine at `DOCKER_HOST` lacks."""
    missing = []
    for image in images:
        if not is_local_image(image):
            continue  # pulled by testcontainers itself, as in a run
        try:
            check_local_image(image)
        except Unavailable:
            missing.append(image)
    return missing


def why_no_engine(ping_reason: str, heard: Sequence[str], cannot_run: str | None) -> str:
    """Why no engine serves: this machine can never run one, the private engine said why it
    did not start, or (failing both) what the ping got."""
    if cannot_run is not None:
        return f"{ping_reason}, and no private engine here: {cannot_run}"
    for line in heard:
        if line.startswith(ENGINE_LINE):
            return f"{ping_reason}, and {line.removeprefix('docker: ')}"
    return ping_reason
