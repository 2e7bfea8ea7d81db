"""Each worker's own part of the cache server at REDIS_URL: the janitor of the cache backend
whose URL scheme it is (`scripts.backends`)."""

from __future__ import annotations

from scripts.backends import CACHE_BACKENDS, UnknownBackendError, backend, backend_for_url
from scripts.backends.janitors import CacheUnreachableError, WorkerCaches

__all__ = ["CacheUnreachableError", "WorkerCaches", "check_cache_url", "worker_caches_for"]


def worker_caches_for(url: str) -> WorkerCaches:
    """The janitor for REDIS_URL; `CacheUnreachableError` for a scheme no cache backend takes."""
    try:
        found = backend_for_url(url, "cache")
    except UnknownBackendError:
        schemes = sorted({s for name in CACHE_BACKENDS for s in backend(name).url_schemes})
        scheme = url.partition(":")[0]  # nothing after it: no password shown
        raise CacheUnreachableError(
            f"REDIS_URL is not a Redis URL (the scheme {scheme!r} is none of "
            f"{', '.join(schemes)}); expected e.g. redis://127.0.0.1:6379/0"
        ) from None
    return found.worker_caches(url)


def check_cache_url(url: str) -> None:
    """Fail once, before any test runs, when REDIS_URL is malformed or its server does not
    answer or refuses the suite."""
    worker_caches_for(url).check()
