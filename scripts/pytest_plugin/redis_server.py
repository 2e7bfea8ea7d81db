"""The suite's own Redis for one test run, when it is given no cache URL.

A throwaway redis-server started exactly as the harness starts a cell's Redis: the `binaries`
source (`scripts.sources.binaries`) finds the program where the harness looks for server
programs, gives it a new password, a private run folder and a free loopback port, and runs it
through the process runner (`scripts.providers.process`: tied to this run, polled until it
answers, stopped and removed on exit). Its URL carries the password; a client without it is
refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from scripts.matrix import BinariesSource, VersionSpec
from scripts.providers.base import ProvisioningError, Unavailable
from scripts.sources.binaries import BinariesProvider
from scripts.suite import DEFAULT_CACHE_ENV

ANY_VERSION = "any"  # a version named by a word matches every redis-server


def how_to_get_one(env_name: str) -> str:
    """What to do when no redis-server is found (the suite reads its cache URL from `env_name`)."""
    return (
        "Install it (Debian/Ubuntu: `apt-get install redis-server`, macOS: `brew install redis`) "
        f"or point the suite at a running server: `{env_name}=redis://127.0.0.1:6379/0 pytest`."
    )


class RedisServerMissingError(RuntimeError):
    """No redis-server program could be found."""


class RedisServerStartError(RuntimeError):
    """redis-server was found but did not answer."""


def suite_redis_provider() -> BinariesProvider:
    """The `binaries` source of any redis-server this machine has."""
    source = BinariesSource()
    spec = VersionSpec(role="cache", backend="redis", version=ANY_VERSION, sources=(source,))
    return BinariesProvider(spec, source)


@contextmanager
def throwaway_redis_server(env_name: str = DEFAULT_CACHE_ENV) -> Iterator[str]:
    """Start redis-server (password, free 127.0.0.1 port, no persistence); yield its URL."""
    provider = suite_redis_provider()
    try:
        provider.check()
    except Unavailable as error:
        raise RedisServerMissingError(f"{error.reason}. {how_to_get_one(env_name)}") from None
    with ExitStack() as stack:
        try:
            server = stack.enter_context(provider.start())
        except ProvisioningError as error:
            raise RedisServerStartError(f"{error.message}\n{error.log_tail}".rstrip()) from error
        yield server.url


@contextmanager
def throwaway_redis_server_or_skip() -> Iterator[str]:
    """`throwaway_redis_server` for a test: skipped, saying why, where no redis-server is found."""
    try:
        with throwaway_redis_server() as url:
            yield url
    except RedisServerMissingError as error:
        pytest.skip(f"needs a redis-server binary: {error}")
