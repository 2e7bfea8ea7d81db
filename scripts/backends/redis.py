"""Redis: no data directory to prepare, persistence off; `INFO server` for its version.

Valkey (`scripts.backends.valkey`) is this backend under other names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from scripts.backends.base import ImageContract, NotAnsweringError, ServerBackend
from scripts.backends.image_recipe import SYSTEM_PATH, ImageRecipe, server_packages
from scripts.providers.accounts import Account
from scripts.providers.passwords import write_secret_file
from scripts.providers.ports import LOOPBACK

if TYPE_CHECKING:
    from scripts.backends.janitors import WorkerCaches
from scripts.vocabulary import Program

CONFIG_FILE = "redis.conf"
SOCKET_FILE = "redis.sock"
UNIX_SOCKET_PATH_LIMIT = 108  # sun_path, the terminating zero included


class Redis(ServerBackend):
    name = "redis"
    display_name = "Redis"
    role = "cache"
    family = "redis"
    report_order = 50
    driver_distribution = "redis"
    url_schemes = ("redis", "rediss", "unix", "valkey", "valkeys")
    driver_schemes: ClassVar[Mapping[str, str]] = {"valkey": "redis", "valkeys": "rediss"}
    program_names = ("redis-server",)
    debian_folders = ("/usr/bin",)
    program_version_pattern = re.compile(r"\bv=(\d+(?:\.\d+)+)")
    suite_scheme = "redis"
    suite_path = "/0"
    container_module = "testcontainers.community.redis"
    container_class = "RedisContainer"
    start_secrets = (CONFIG_FILE,)

    def server_version(self, url: str, timeout_s: float) -> str:
        info = _info(url, "server", timeout_s)
        # Valkey reports redis_version 7.2.4 for compatibility; its own version is valkey_version.
        version = info.get("valkey_version") or info.get("redis_version")
        if version is None:
            raise NotAnsweringError(f"INFO server has no version field: {sorted(info)}")
        return str(version)

    def activity(self, url: str, timeout_s: float) -> int:
        """Connections accepted since the server started (counted as they are made)."""
        return int(_info(url, "stats", timeout_s)["total_connections_received"])

    def prepare_run(self, run_dir: Path, password: str, account: Account | None) -> None:
        write_secret_file(run_dir / CONFIG_FILE, f"requirepass {password}\n", account)

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        socket = run_dir / SOCKET_FILE
        # a Unix socket path longer than the kernel's limit stops redis-server; the suite's URL
        # is TCP, so a run folder nested that deep (the suite's own Redis inside a cell) has none
        unix_socket = ["--unixsocket", str(socket), "--unixsocketperm", "700"]
        return [
            str(program.path),
            str(run_dir / CONFIG_FILE),  # the password: read from a file, never the command line
            *(unix_socket if len(bytes(socket)) < UNIX_SOCKET_PATH_LIMIT else []),
            "--port",
            str(port),
            "--bind",
            LOOPBACK,
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(run_dir),
            "--daemonize",
            "no",
        ]

    def worker_caches(self, url: str) -> WorkerCaches:
        """A db index per worker, claimed under a lock in db 0."""
        from scripts.backends.janitors.redis_indexes import RedisCaches

        return RedisCaches(url)

    def url(self, port: int, password: str) -> str:
        return f"redis://:{password}@{LOOPBACK}:{port}/0"

    def image_contract(self, password: str) -> ImageContract:
        # `redis-server --requirepass`: the server rewrites its process title at start, so
        # the password does not stay on a command line other local users can read
        return ImageContract(self.container_module, self.container_class, {"password": password})

    def container_url(self, container: Any) -> str:
        # RedisContainer has no get_connection_url
        host = container.get_container_host_ip()
        port = container.get_exposed_port(container.port)
        return f"redis://:{container.password}@{host}:{port}/0"

    def image_recipe(self, version: str, suite: str, packages: tuple[str, ...]) -> ImageRecipe:
        server = self.program_names[0]  # redis-server, valkey-server
        # as in the official image: the tools package too (`redis-cli`)
        tools = [name.replace("-server", "-tools") for name in packages if name.endswith("-server")]
        return ImageRecipe(
            backend=self.name,
            version=version,
            suite=suite,
            packages=server_packages(packages, *tools),
            entrypoint="redis.sh",
            port=6379,
            command=(server,),
            account=server.removesuffix("-server"),
            owned_dirs=("/data",),
            env={"PATH": SYSTEM_PATH, "COMPAT_SERVER": server},
            workdir="/data",
        )


BACKEND = Redis()


def _info(url: str, section: str, timeout_s: float) -> dict[str, Any]:
    """One section of the server's `INFO`; `NotAnsweringError` while it does not answer."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
    try:
        return dict(client.info(section))
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        # BusyLoadingError (still loading its data) is a ConnectionError too.
        raise NotAnsweringError(str(exc)) from exc
    finally:
        client.close()
