"""The checks every table of a matrix file goes through, and the error that names the key."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class MatrixError(ValueError):
    """`matrix.toml` says something the harness cannot run; the message says where and why."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class DebianPackages:
    """Packages of one Debian suite (`sid`, `trixie`, `bookworm`, `bullseye`, ...)."""

    suite: str
    packages: tuple[str, ...]

    def __str__(self) -> str:
        return f"debian {self.suite} {' '.join(self.packages)}"


_DEBIAN_KEYS: dict[str, type] = {"suite": str, "packages": list}
DEBIAN_SUITE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
DEBIAN_PACKAGE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")


def parse_debian(path: Path, key: str, value: dict[str, Any]) -> DebianPackages:
    only_keys(path, key, value, set(_DEBIAN_KEYS))
    for option, expected in _DEBIAN_KEYS.items():
        if option not in value:
            raise MatrixError(
                path, f"{key}.{option}", 'missing; e.g. { suite = "sid", packages = ["..."] }'
            )
        expect_type(path, f"{key}.{option}", value[option], expected)
    suite = value["suite"]
    if not DEBIAN_SUITE_PATTERN.match(suite):
        raise MatrixError(
            path, f"{key}.suite", f"{suite!r} is not a Debian suite (e.g. bookworm, trixie, sid)"
        )
    packages = string_list(path, f"{key}.packages", value["packages"])
    if not packages:
        raise MatrixError(path, f"{key}.packages", "name at least one package")
    for index, package in enumerate(packages):
        if not DEBIAN_PACKAGE_PATTERN.match(package):
            raise MatrixError(
                path, f"{key}.packages[{index}]", f"{package!r} is not a Debian package name"
            )
    return DebianPackages(suite, packages)


def checked_table(path: Path, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MatrixError(path, key, f"expected a table, got {type_name(value)}")
    return value


def only_keys(path: Path, key: str, table: dict[str, Any], allowed: set[str]) -> None:
    for name in table:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            raise MatrixError(path, where, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def expect_type(path: Path, key: str, value: object, expected: type | tuple[type, ...]) -> None:
    # bool is an int in Python but never a number of workers or seconds in this file
    if isinstance(value, bool) or not isinstance(value, expected):
        names = expected if isinstance(expected, tuple) else (expected,)
        wanted = " or ".join(TYPE_NAMES.get(t, t.__name__) for t in names)
        raise MatrixError(path, key, f"expected {wanted}, got {type_name(value)}")
    if isinstance(value, str) and not value.strip():
        raise MatrixError(path, key, "must not be empty")


def string_list(path: Path, key: str, value: object) -> tuple[str, ...]:
    expect_type(path, key, value, list)
    assert isinstance(value, list)
    for index, item in enumerate(value):
        expect_type(path, f"{key}[{index}]", item, str)
    return tuple(value)


TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "a table",
    bool: "a boolean",
}


def type_name(value: object) -> str:
    return TYPE_NAMES.get(type(value), type(value).__name__)
