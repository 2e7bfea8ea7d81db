"""The Python-side axes of the matrix: library stacks (`[stack.<group>.<value>]`) and
interpreters (`[python]`), read and checked.

A stack group is one axis (`sqlalchemy`, `driver`, `redispy`, `celery`): its values are named
sets of requirement pins, and its first value is its default. A value with a `dialect` table
(a driver) applies only to cells whose database backend it names, and hands the suite a
database URL of that dialect; the default of such a group is, per backend, the first value
that names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from scripts.backends import BACKENDS, DATABASE_BACKENDS
from scripts.backends import backend as lookup_backend
from scripts.matrix_checks import (
    DebianPackages,
    MatrixError,
    checked_table,
    expect_type,
    only_keys,
    parse_debian,
    string_list,
)
from scripts.vocabulary import python_id, version_id

Resolution = Literal["highest", "lowest-direct"]
RESOLUTIONS: tuple[Resolution, ...] = get_args(Resolution)

_GROUP = re.compile(r"^[a-z][a-z0-9_]*$")
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]*$")
_PYTHON_VERSION = re.compile(r"^3\.\d+$")
_VALUE_KEYS: dict[str, type] = {"pins": list, "dialect": dict, "resolution": str}
_PYTHON_KEYS: dict[str, type] = {"versions": list, "default": str, "debian": dict}


@dataclass(frozen=True)
class StackValue:
    """One value of a stack group: `[stack.sqlalchemy."2.0"]`, `[stack.driver.psycopg3]`."""

    group: str
    name: str
    pins: tuple[str, ...]
    dialect: tuple[tuple[str, str], ...] = ()
    """(database backend, URL scheme) pairs: the backends it applies to, and the scheme the
    suite's database URL takes there (`("postgres", "postgresql+psycopg")`); () applies to all."""
    resolution: Resolution = "highest"

    @property
    def id(self) -> str:
        """Its part of a cell id: a name that starts with a letter is its own (`psycopg3`),
        a version is prefixed by its group (`sqlalchemy-2.0`)."""
        return version_id(*self.part)

    @property
    def part(self) -> tuple[str, str]:
        """Its (name, version) in a cell id: `("psycopg3", "")`, `("sqlalchemy", "2.0")`."""
        return (self.name, "") if self.name[:1].isalpha() else (self.group, self.name)

    def applies_to(self, database_backend: str) -> bool:
        return not self.dialect or any(b == database_backend for b, _ in self.dialect)

    def scheme_for(self, database_backend: str) -> str | None:
        """The URL scheme it gives a database of that backend; None: the backend's own."""
        return next((s for b, s in self.dialect if b == database_backend), None)

    @property
    def distributions(self) -> tuple[str, ...]:
        """The canonical names of the distributions its pins name (`psycopg`, `kombu`)."""
        return distributions_of(self.pins)


@dataclass(frozen=True)
class PythonSpec:
    """One interpreter of the `python` axis: `3.12`, with where to fetch it when this machine
    has none (Debian's archive)."""

    version: str
    debian: DebianPackages | None = None

    @property
    def id(self) -> str:
        return python_id(self.version)


@dataclass(frozen=True)
class Interpreters:
    """The `[python]` table: the axis's versions (file order) and its default."""

    versions: tuple[PythonSpec, ...]
    default: PythonSpec


def parse_stacks(path: Path, value: object) -> tuple[StackValue, ...]:
    """The `[stack]` table: every value of every group, in file order."""
    stacks: list[StackValue] = []
    for group, values in checked_table(path, "stack", value).items():
        where = f"stack.{group}"
        if not _GROUP.match(group):
            raise MatrixError(
                path, where, "a group name is lower-case letters, digits and _ (e.g. redispy)"
            )
        if group in BACKENDS:
            raise MatrixError(
                path,
                where,
                f"{group!r} is a backend's name, and cell ids would read as its versions; "
                f"name the group after the library another way (e.g. {group}py)",
            )
        if group.startswith("py") and group[2:3].isdigit():
            raise MatrixError(path, where, "a group name like py3 reads as an interpreter")
        table = checked_table(path, where, values)
        if not table:
            raise MatrixError(path, where, "no values; declare at least one")
        group_values = [_parse_value(path, group, name, spec) for name, spec in table.items()]
        with_dialect = [v for v in group_values if v.dialect]
        if with_dialect and len(with_dialect) != len(group_values):
            plain = next(v for v in group_values if not v.dialect)
            raise MatrixError(
                path,
                f"{where}.{plain.name}",
                "has no `dialect` while others of its group have one: a driver group names, "
                "for every value, the database backends it serves",
            )
        stacks += group_values
    return tuple(stacks)


def _parse_value(path: Path, group: str, name: str, value: object) -> StackValue:
    where = f"stack.{group}.{name}"
    if not _VALUE.match(name):
        raise MatrixError(path, where, "a value's name is letters, digits, dots and underscores")
    table = checked_table(path, where, value)
    only_keys(path, where, table, set(_VALUE_KEYS))
    for key, expected in _VALUE_KEYS.items():
        if key in table and key != "pins":
            expect_type(path, f"{where}.{key}", table[key], expected)
    if "pins" not in table:
        raise MatrixError(
            path, f"{where}.pins", 'missing; e.g. pins = ["sqlalchemy>=2.0,<2.1"] (or [])'
        )
    pins = string_list(path, f"{where}.pins", table["pins"])
    for index, pin in enumerate(pins):
        try:
            Requirement(pin)
        except InvalidRequirement as error:
            raise MatrixError(
                path, f"{where}.pins[{index}]", f"{pin!r} is not a requirement: {error}"
            ) from None
    resolution = table.get("resolution", "highest")
    if resolution not in RESOLUTIONS:
        raise MatrixError(
            path,
            f"{where}.resolution",
            f"{resolution!r}; allowed: {', '.join(RESOLUTIONS)}",
        )
    return StackValue(
        group,
        name,
        pins,
        _parse_dialect(path, f"{where}.dialect", table.get("dialect", {})),
        resolution,
    )


def _parse_dialect(
    path: Path, where: str, value: Mapping[str, object]
) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for backend, scheme in value.items():
        if backend not in DATABASE_BACKENDS:
            raise MatrixError(
                path,
                f"{where}.{backend}",
                f"not a database backend; allowed: {', '.join(DATABASE_BACKENDS)}",
            )
        expect_type(path, f"{where}.{backend}", scheme, str)
        assert isinstance(scheme, str)
        known = lookup_backend(backend)
        if not known.accepts_url(f"{scheme}://"):
            dialects = ", ".join(sorted({s.partition("+")[0] for s in known.url_schemes}))
            raise MatrixError(
                path,
                f"{where}.{backend}",
                f"{scheme!r} is not a URL scheme of {backend} (its dialects: {dialects}; "
                f"e.g. '{known.url_schemes[-1]}')",
            )
        pairs.append((backend, scheme))
    return tuple(pairs)


def parse_python(path: Path, value: object) -> Interpreters | None:
    """The `[python]` table; None when the file has none (the harness's own interpreter)."""
    if value is None:
        return None
    table = checked_table(path, "python", value)
    only_keys(path, "python", table, set(_PYTHON_KEYS))
    for key, expected in _PYTHON_KEYS.items():
        if key in table:
            expect_type(path, f"python.{key}", table[key], expected)
    if "versions" not in table:
        raise MatrixError(path, "python.versions", 'missing; e.g. versions = ["3.11", "3.12"]')
    versions = string_list(path, "python.versions", table["versions"])
    if not versions:
        raise MatrixError(path, "python.versions", "name at least one version")
    for index, version in enumerate(versions):
        if not _PYTHON_VERSION.match(version):
            raise MatrixError(
                path, f"python.versions[{index}]", f"{version!r} is not 3.<minor> (e.g. '3.12')"
            )
        if version in versions[:index]:
            raise MatrixError(path, f"python.versions[{index}]", f"{version!r} is listed twice")
    fetched = checked_table(path, "python.debian", table.get("debian", {}))
    for version in fetched:
        if version not in versions:
            raise MatrixError(
                path, f"python.debian.{version}", f"{version!r} is not in python.versions"
            )
    specs = tuple(
        PythonSpec(
            version,
            parse_debian(
                path,
                f"python.debian.{version}",
                checked_table(path, f"python.debian.{version}", fetched[version]),
            )
            if version in fetched
            else None,
        )
        for version in versions
    )
    default = table.get("default", versions[0])
    chosen = next((spec for spec in specs if spec.version == default), None)
    if chosen is None:
        raise MatrixError(
            path, "python.default", f"{default!r} is not in python.versions ({', '.join(versions)})"
        )
    return Interpreters(specs, chosen)


def distributions_of(pins: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The canonical names of the distributions some requirements name, each once."""
    return tuple(dict.fromkeys(canonicalize_name(Requirement(pin).name) for pin in pins))


def merged_pins(pins: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """`pins` with `extra` added, each in place of the pins of the same distribution:
    (`sqlalchemy>=2.1,<2.2`,) + (`sqlalchemy==2.0.31`,) -> (`sqlalchemy==2.0.31`,)."""
    replaced = set(distributions_of(extra))
    kept = [pin for pin in pins if distributions_of([pin])[0] not in replaced]
    return (*kept, *extra)
