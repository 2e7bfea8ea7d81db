"""Each worker's own part of the suite's cache server: the janitor of the cache backend
whose URL scheme it is (`scripts.backends`)."""

from __future__ import annotations

from scripts.backends import CACHE_BACKENDS, UnknownBackendError, backend, backend_for_url
from scripts.backends.janitors import CacheUnreachableError, WorkerCaches
from scripts.suite import DEFAULT_CACHE_ENV

__all__ = ["CacheUnreachableError", "WorkerCaches", "check_cache_url", "worker_caches_for"]


def worker_caches_for(url: str, env_name: str = DEFAULT_CACHE_ENV) -> WorkerCaches:
    """The janitor for the suite's cache URL (read from `env_name`); `CacheUnreachableError`
    for a scheme no cache backend takes."""
    try:
        found = backend_for_url(url, "cache")
    except UnknownBackendError:
        schemes = sorted({s for name in CACHE_BACKENDS for s in backend(name).url_schemes})
        scheme = url.partition(":")[0]  # nothing after it: no password shown
        raise CacheUnreachableError(
            f"{env_name} is not a Redis URL (the scheme {scheme!r} is none of "
            f"{', '.join(schemes)}); expected e.g. redis://127.0.0.1:6379/0"
        ) from None
    return found.worker_caches(url)


def check_cache_url(url: str, env_name: str = DEFAULT_CACHE_ENV) -> None:
    """Fail once, before any test runs, when the cache URL is malformed or its server does
    not answer or refuses the suite."""
    worker_caches_for(url, env_name).check()
