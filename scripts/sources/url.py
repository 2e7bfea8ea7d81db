"""The `url` source: a server that already runs (e.g. a CI service container)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from scripts.backends import NotAnsweringError, server_backend
from scripts.matrix import UrlSource, VersionSpec
from scripts.providers.base import ProvisioningError, RunningServer, Unavailable
from scripts.sources.urls import (
    UnsetVariableError,
    expand,
    hide_password,
    with_suite_driver,
)
from scripts.vocabulary import SourceKind

CONNECT_TIMEOUT_S = 5.0


class UrlProvider:
    def __init__(self, spec: VersionSpec, source: UrlSource) -> None:
        self.spec = spec
        self.url_source = source

    @property
    def source(self) -> SourceKind:
        return "url"

    def url(self) -> str:
        try:
            schemes = server_backend(self.spec.backend).driver_schemes
            return with_suite_driver(expand(self.url_source.url), schemes)
        except UnsetVariableError as exc:
            raise Unavailable(
                f"the url {self.url_source.url!r} needs ${exc.name}, which is not set",
                f"export {exc.name}=<server URL> or use another source",
            ) from exc

    def check(self) -> None:
        """Cheap: only the variables; whether a server answers is found out by `start`."""
        self.url()

    @contextmanager
    def start(self) -> Iterator[RunningServer]:
        url = self.url()
        shown = hide_password(url)
        try:
            reported = server_backend(self.spec.backend).server_version(url, CONNECT_TIMEOUT_S)
        except NotAnsweringError as exc:
            raise ProvisioningError(
                f"cannot use the {self.spec.backend} server at {shown}: {exc}"
            ) from exc
        yield RunningServer(url=url, reported_version=reported, source="url", provenance=shown)
