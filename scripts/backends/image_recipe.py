"""What goes into a locally built image of one server version: the Debian suite and packages,
and the contract the official image keeps toward testcontainers' modules.

The suite and the packages are the ones the matrix file names for that version
(`binaries = { debian = {...} }`); the rest (entrypoint, account, environment) is the backend
module's `image_recipe`; `scripts.sources.image_builds` puts the two together and
`scripts.images` builds the image.

Images are tagged `fastapi-compat-matrix/<backend>:<version>`: under the project's own
prefix, so they never pose as the official images they stand in for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

PREFIX = "fastapi-compat-matrix"
BASE_PACKAGES = ("dash", "coreutils")
"""`/bin/sh` for the entrypoint and for testcontainers' readiness commands, and the few
programs the entrypoints call (mkdir, chown, mktemp, sleep)."""
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class ImageRecipe:
    backend: str
    version: str
    suite: str
    """The Debian suite whose archive carries this version."""
    packages: tuple[str, ...]
    """The server's packages (what the image's provenance names)."""
    entrypoint: str
    """File name under `scripts/images/entrypoints/`."""
    port: int
    command: tuple[str, ...]
    account: str
    """The server's own account (uid `SERVICE_UID`), as in the official image."""
    run_as: str = "root"
    """The image's USER: root when the entrypoint or the server drops to `account` itself."""
    owned_dirs: tuple[str, ...] = ()
    """Folders created empty and owned by `account`."""
    env: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, str] = field(default_factory=dict)
    """Files written into the image (path -> text), e.g. the server's configuration."""
    workdir: str = "/"
    helpers: tuple[str, ...] = ()
    """More packages the entrypoint's programs need."""
    links: Mapping[str, str] = field(default_factory=dict)
    """Symbolic links (path -> target) that package scripts would have made."""

    @property
    def tag(self) -> str:
        return image_tag(self.backend, self.version)

    @property
    def all_packages(self) -> tuple[str, ...]:
        return (*BASE_PACKAGES, *self.packages, *self.helpers)


def image_tag(backend: str, version: str) -> str:
    """`fastapi-compat-matrix/postgres:17`: our image of one version of one backend."""
    return f"{PREFIX}/{backend}:{version}"


def server_packages(given: tuple[str, ...], *more: str) -> tuple[str, ...]:
    """The packages the matrix names, then those the image needs besides, each once."""
    return tuple(dict.fromkeys((*given, *more)))
