"""What goes into each locally built image: the Debian suite and packages of one server
version, and the contract the official image keeps toward testcontainers' modules.

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
    """The server's own account (uid 999), as in the official image."""
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
        return f"{PREFIX}/{self.backend}:{self.version}"

    @property
    def all_packages(self) -> tuple[str, ...]:
        return (*BASE_PACKAGES, *self.packages, *self.helpers)


def _postgres(version: str, suite: str) -> ImageRecipe:
    return ImageRecipe(
        backend="postgres",
        version=version,
        suite=suite,
        packages=(f"postgresql-{version}",),
        entrypoint="postgres.sh",
        port=5432,
        command=("postgres",),
        account="postgres",
        run_as="postgres",
        owned_dirs=("/var/lib/postgresql", "/run/postgresql"),
        env={
            "PATH": f"/usr/lib/postgresql/{version}/bin:{SYSTEM_PATH}",
            "PGDATA": "/var/lib/postgresql/data",
            "LANG": "C.UTF-8",
        },
    )


MYSQL_CONFIG = """[mysqld]
user = mysql
datadir = /var/lib/mysql
socket = /run/mysqld/mysqld.sock
pid-file = /run/mysqld/mysqld.pid
secure-file-priv = /var/lib/mysql-files
skip-name-resolve
host-cache-size = 0

[client]
socket = /run/mysqld/mysqld.sock
"""


def _mysql(backend: str, version: str, suite: str) -> ImageRecipe:
    mariadb = backend == "mariadb"
    server = "mariadbd" if mariadb else "mysqld"
    prefix = "mariadb" if mariadb else "mysql"
    return ImageRecipe(
        backend=backend,
        version=version,
        suite=suite,
        packages=(f"{prefix}-server-core", f"{prefix}-client-core"),
        # mariadb-install-db is a shell script that calls sed and awk
        helpers=("sed", "mawk") if mariadb else (),
        links={"/usr/bin/awk": "mawk"} if mariadb else {},
        entrypoint="mysql.sh",
        port=3306,
        command=(server,),
        account="mysql",
        owned_dirs=("/var/lib/mysql", "/run/mysqld", "/var/lib/mysql-files"),
        env={
            "PATH": SYSTEM_PATH,
            "COMPAT_SERVER": server,
            "COMPAT_CLIENT": "mariadb" if mariadb else "mysql",
            "LANG": "C.UTF-8",
        },
        files={"/etc/mysql/my.cnf": MYSQL_CONFIG},
    )


def _redis(backend: str, version: str, suite: str) -> ImageRecipe:
    return ImageRecipe(
        backend=backend,
        version=version,
        suite=suite,
        packages=(f"{backend}-server", f"{backend}-tools"),
        entrypoint="redis.sh",
        port=6379,
        command=(f"{backend}-server",),
        account=backend,
        owned_dirs=("/data",),
        env={"PATH": SYSTEM_PATH, "COMPAT_SERVER": f"{backend}-server"},
        workdir="/data",
    )


RECIPES: tuple[ImageRecipe, ...] = (
    _postgres("15", "bookworm"),
    _postgres("17", "trixie"),
    _postgres("18", "sid"),
    _mysql("mysql", "9.7", "sid"),
    _mysql("mariadb", "10.11", "bookworm"),
    _mysql("mariadb", "11.8", "trixie"),
    _redis("redis", "7.0", "bookworm"),
    _redis("redis", "8.0", "trixie"),
    _redis("valkey", "8", "trixie"),
    _redis("valkey", "9", "sid"),
)


class UnknownImageError(LookupError):
    """No recipe builds this image; the message lists the ones that exist."""


def recipe_for(tag: str) -> ImageRecipe:
    for recipe in RECIPES:
        if recipe.tag == tag:
            return recipe
    known = ", ".join(recipe.tag for recipe in RECIPES)
    raise UnknownImageError(f"no recipe builds {tag}; these can be built here: {known}")


def is_local_image(tag: str) -> bool:
    """True for images this project builds itself (under its own prefix)."""
    return tag.startswith(f"{PREFIX}/")
