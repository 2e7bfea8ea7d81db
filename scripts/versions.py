"""The one version-matching rule: a requested version (`16`, `10.11`) against a reported one."""

from __future__ import annotations

import re

_NUMBERS = re.compile(r"\d+(?:\.\d+)*")


def version_matches(requested: str, reported: str) -> bool:
    """True when `reported` is the requested version: `16` matches `16.14`, not `160.1`.

    The requested numbers must be the leading numbers of the reported version string
    (`10.11` matches `10.11.19-MariaDB-0+deb12u1`, `8` matches `8.1.8`). A version named by
    a word (`stdlib`, `pysqlite3`: SQLite builds) says nothing about numbers and matches any.
    """
    wanted = requested.strip()
    if not wanted[:1].isdigit():
        return True
    found = _NUMBERS.match(reported.strip())
    if _NUMBERS.fullmatch(wanted) is None or found is None:
        return False
    want_parts = wanted.split(".")
    return found.group().split(".")[: len(want_parts)] == want_parts
