"""Comparing a requested version (`16`, `10.11`) with what a program or server reports."""

from __future__ import annotations

import re

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")

# `<program> --version` output, per backend: the first group is the version.
_PROGRAM_VERSION = {
    "postgres": re.compile(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)*)"),
    "mariadb": re.compile(r"\bVer\s+(\d+(?:\.\d+)+)"),
    "mysql": re.compile(r"\bVer\s+(\d+(?:\.\d+)+)"),
    "redis": re.compile(r"\bv=(\d+(?:\.\d+)+)"),
    "valkey": re.compile(r"\bv=(\d+(?:\.\d+)+)"),
}


def version_matches(requested: str, reported: str) -> bool:
    """True when `reported` is the requested version: `16` matches `16.14`, not `160.1`.

    The requested numbers must be the leading numbers of the reported version string
    (`10.11` matches `10.11.19-MariaDB-0+deb12u1`, `8` matches `8.1.8`).
    """
    wanted = _NUMBERS.match(requested.strip())
    found = _NUMBERS.match(reported.strip())
    if wanted is None or found is None or wanted.group() != requested.strip():
        return False
    want_parts = wanted.group().split(".")
    found_parts = found.group().split(".")
    return found_parts[: len(want_parts)] == want_parts


def program_version(backend: str, version_output: str) -> str | None:
    """The version a server program prints for `--version`, or None when it is not there."""
    pattern = _PROGRAM_VERSION.get(backend)
    if pattern is None:
        return None
    found = pattern.search(version_output)
    return found.group(1) if found else None
