"""Sources: where a version's server comes from, one module per kind.

    provider = choose_provider(spec)            # first source that can serve here
    with provider.start() as server:            # RunningServer: url, reported_version, ...
        ...

Server sources: `image` (a container), `binaries` (local programs as throwaway processes),
`url` (a server that already runs); `library` for SQLite. Where fetched programs come from:
`npm`, `pip` and
`debian` (Debian's archive, any suite). What each backend needs from them lives in
`scripts.backends`.
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
    Unavailable,
)
from scripts.sources.binaries import BinariesProvider
from scripts.sources.image import ImageProvider
from scripts.sources.library import LibraryProvider
from scripts.sources.url import UrlProvider
from scripts.vocabulary import SourceKind

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


def provider_for(spec: VersionSpec, source: Source, *, cold_servers: bool = False) -> Provider:
    """The provider for one source of one version (not checked); `cold_servers`: a local
    server program initialises its data directory at each start (the benchmark's baseline)."""
    if isinstance(source, ImageSource):
        return ImageProvider(spec, source)
    if isinstance(source, BinariesSource):
        return BinariesProvider(spec, source, cold=cold_servers)
    if isinstance(source, UrlSource):
        return UrlProvider(spec, source)
    return LibraryProvider(spec, source)


def choose_provider(
    spec: VersionSpec, only: SourceKind | None = None, *, cold_servers: bool = False
) -> Provider:
    """The first source of `spec` (file order) that can serve here; `only` keeps one kind;
    `cold_servers` as for `provider_for`.

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
        provider = provider_for(spec, source, cold_servers=cold_servers)
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
