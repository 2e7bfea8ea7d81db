"""Providers: turn one source of one version into a running server and back.

    provider = choose_provider(spec)            # first source that can serve here
    with provider.start() as server:            # RunningServer: url, reported_version, ...
        ...

URL contract (what the suite connects with):
    postgres        postgresql+psycopg2://postgres@127.0.0.1:PORT/postgres
    mysql, mariadb  mysql+pymysql://root@127.0.0.1:PORT/mysql
    redis, valkey   redis://127.0.0.1:PORT/0
    sqlite          sqlite://   with env SQLITE_MODULE=<DB-API module>
(image sources add the container's password; url sources are used as given.)
"""

from __future__ import annotations

from scripts.matrix import (
    BinariesSource,
    ImageSource,
    Source,
    UrlSource,
    VersionSpec,
)
from scripts.providers.base import (
    Provider,
    ProviderError,
    ProvisioningError,
    RunningServer,
    SourceKind,
    Unavailable,
)
from scripts.providers.binaries import BinariesProvider
from scripts.providers.image import ImageProvider
from scripts.providers.library import LibraryProvider
from scripts.providers.url import UrlProvider

__all__ = [
    "Provider",
    "ProviderError",
    "ProvisioningError",
    "RunningServer",
    "SourceKind",
    "Unavailable",
    "choose_provider",
    "provider_for",
]


def provider_for(spec: VersionSpec, source: Source) -> Provider:
    """The provider for one source of one version (not checked)."""
    if isinstance(source, ImageSource):
        return ImageProvider(spec, source)
    if isinstance(source, BinariesSource):
        return BinariesProvider(spec, source)
    if isinstance(source, UrlSource):
        return UrlProvider(spec, source)
    return LibraryProvider(spec, source)


def choose_provider(spec: VersionSpec, only: SourceKind | None = None) -> Provider:
    """The first source of `spec` (file order) that can serve here; `only` keeps one kind.

    Raises `Unavailable` listing, per source, why it cannot serve and how to fix that.
    """
    sources = [s for s in spec.sources if only is None or s.kind == only]
    if not sources:
        kinds = ", ".join(s.kind for s in spec.sources) or "none"
        raise Unavailable(
            f"{spec.backend} {spec.version} has no {only or 'source'} in matrix.toml "
            f"(its sources: {kinds})",
            "add one to matrix.toml or choose another --source",
        )
    reasons: list[str] = []
    hints: list[str] = []
    for source in sources:
        provider = provider_for(spec, source)
        try:
            provider.check()
        except Unavailable as exc:
            reasons.append(f"{source.kind}: {exc.reason}")
            if exc.hint:
                hints.append(f"{source.kind}: {exc.hint}")
        else:
            return provider
    lead = "" if len(reasons) == 1 else f"no source can serve {spec.backend} {spec.version} here: "
    raise Unavailable(lead + "; ".join(reasons), "; ".join(hints) or None)
