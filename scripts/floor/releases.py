"""The releases an index lists for a library: final, not yanked, inside a range, oldest first.

The index is read through its JSON simple API (PEP 691; PyPI's `https://pypi.org/simple/`, or
what `PIP_INDEX_URL` names). A release counts when at least one of its files is not yanked
(PEP 592) and its version is final: no pre-release, no development release.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from packaging.specifiers import SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

PYPI_SIMPLE = "https://pypi.org/simple/"
INDEX_VARIABLE = "PIP_INDEX_URL"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
TIMEOUT_S = 30.0
"""Seconds to connect and to wait for each read."""


class IndexReadError(Exception):
    """The index could not be read, or lists nothing to search; the message says which and why."""


def index_url() -> str:
    """`PIP_INDEX_URL` when set, else PyPI's simple API."""
    url = os.environ.get(INDEX_VARIABLE) or PYPI_SIMPLE
    return url if url.endswith("/") else url + "/"


def list_releases(library: str, within: SpecifierSet, index: str | None = None) -> list[Version]:
    """The final, unyanked releases of `library` inside `within`, oldest first."""
    document = fetch_project_page(library, index or index_url())
    return final_releases(document, within)


def fetch_project_page(library: str, index: str) -> Mapping[str, Any]:
    """The index's JSON page of one project (PEP 691)."""
    url = f"{index}{canonicalize_name(library)}/"
    if not url.startswith(("https://", "http://")):
        raise IndexReadError(f"{url}: an index is an http(s) URL; set {INDEX_VARIABLE} to one")
    request = urllib.request.Request(url, headers={"Accept": SIMPLE_JSON})  # noqa: S310 - http(s)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            kind = response.headers.get_content_type()
            body = response.read()
    except urllib.error.HTTPError as error:
        if error.code == 404:
            raise IndexReadError(f"{url}: no such project on the index (404)") from None
        answered = f"{error.code} {error.reason}"
        raise IndexReadError(f"{url}: the index answered {answered}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise IndexReadError(
            f"{url}: the index cannot be reached ({reason}); set {INDEX_VARIABLE} to a reachable"
            " index"
        ) from None
    if kind != SIMPLE_JSON:
        raise IndexReadError(
            f"{url}: the index answered {kind}, not {SIMPLE_JSON}: it does not speak PEP 691's"
            f" JSON; set {INDEX_VARIABLE} to one that does (PyPI: {PYPI_SIMPLE})"
        )
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise IndexReadError(f"{url}: not valid JSON: {error}") from None
    if not isinstance(document, dict) or not isinstance(document.get("files"), list):
        raise IndexReadError(f"{url}: a JSON page without a list of files")
    return document


def final_releases(document: Mapping[str, Any], within: SpecifierSet) -> list[Version]:
    """The versions of a PEP 691 project page that have an unyanked file, are final and lie
    inside `within`, oldest first."""
    installable: set[Version] = set()
    for file in document.get("files", []):
        version = file_version(str(file.get("filename", "")))
        if version is None or file.get("yanked"):  # False, or true / a reason when yanked
            continue
        installable.add(version)
    return sorted(
        version
        for version in installable
        if not version.is_prerelease and within.contains(version, prereleases=False)
    )


def file_version(filename: str) -> Version | None:
    """The version a wheel's or an sdist's file name carries; None for any other file."""
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None


def describe(releases: Sequence[Version]) -> str:
    """`48 releases, 2.0.0 … 2.1.3`."""
    if not releases:
        return "no release"
    if len(releases) == 1:
        return f"1 release, {releases[0]}"
    return f"{len(releases)} releases, {releases[0]} … {releases[-1]}"


_BOUNDS_FIRST = (">=", ">", "~=", "==", "===", "!=", "<=", "<")


def range_text(within: SpecifierSet) -> str:
    """`>=2.0.0,<2.2`: a range with its lower bounds first (`str()` sorts them otherwise)."""
    ordered = sorted(within, key=lambda s: (_BOUNDS_FIRST.index(s.operator), s.version))
    return ",".join(str(specifier) for specifier in ordered) or "any release"
