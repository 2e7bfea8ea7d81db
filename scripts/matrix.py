"""Reading and checking `matrix.toml`, and expanding it into cells."""

from __future__ import annotations

import hashlib
import itertools
import re
import shlex
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scripts.backends import CACHE_BACKENDS, DATABASE_BACKENDS
from scripts.backends import backend as lookup_backend
from scripts.matrix_checks import DEBIAN_PACKAGE_PATTERN as DEBIAN_PACKAGE_PATTERN
from scripts.matrix_checks import DEBIAN_SUITE_PATTERN as DEBIAN_SUITE_PATTERN
from scripts.matrix_checks import DebianPackages as DebianPackages
from scripts.matrix_checks import MatrixError as MatrixError
from scripts.matrix_checks import (
    checked_table,
    expect_type,
    only_keys,
    parse_debian,
    string_list,
    type_name,
)
from scripts.stacks import (
    Interpreters,
    PythonSpec,
    Resolution,
    StackValue,
    parse_python,
    parse_stacks,
)
from scripts.suite import DEFAULT_SUITE, NO_PREPARE, Suite, SuiteEnv
from scripts.vocabulary import (
    STRATEGIES,
    CellIdError,
    Role,
    Strategy,
    cell_id,
    cell_id_parts,
    version_id,
)


@dataclass(frozen=True)
class ImageSource:
    image: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class BinariesSource:
    paths: tuple[Path, ...] = ()
    npm: str | None = None
    pip: str | None = None
    debian: DebianPackages | None = None
    kind: Literal["binaries"] = "binaries"


@dataclass(frozen=True)
class UrlSource:
    url: str  # as written; `$VARS` are expanded when the provider is checked
    kind: Literal["url"] = "url"


@dataclass(frozen=True)
class LibrarySource:
    module: str  # DB-API module, e.g. "sqlite3" or "pysqlite3.dbapi2"
    pip: str | None = None
    kind: Literal["library"] = "library"


Source = ImageSource | BinariesSource | UrlSource | LibrarySource


@dataclass(frozen=True)
class VersionSpec:
    """One version of one backend, with its sources in order of preference."""

    role: Role
    backend: str
    version: str
    sources: tuple[Source, ...]

    @property
    def id(self) -> str:
        return version_id(self.backend, self.version)


@dataclass(frozen=True)
class Cell:
    """One run of the suite: one database version, one cache version, the stack values that
    apply to that database (one per group) and an interpreter."""

    id: str
    database: VersionSpec
    cache: VersionSpec
    tags: tuple[str, ...]
    stack: tuple[StackValue, ...] = ()
    python: PythonSpec | None = None
    """None: the matrix has no `[python]` axis; the suite runs on the harness's interpreter."""

    @property
    def specs(self) -> tuple[VersionSpec, VersionSpec]:
        return (self.database, self.cache)

    @property
    def has_own_environment(self) -> bool:
        """True when the suite runs in an environment built for this cell (its stack and
        interpreter); False: in the harness's own (a matrix with no stack nor python axis)."""
        return bool(self.stack) or self.python is not None

    @property
    def pins(self) -> tuple[str, ...]:
        return tuple(pin for value in self.stack for pin in value.pins)

    @property
    def resolution(self) -> Resolution:
        lowest = any(value.resolution == "lowest-direct" for value in self.stack)
        return "lowest-direct" if lowest else "highest"

    @property
    def database_scheme(self) -> str | None:
        """The URL scheme a driver of its stack gives its database; None: the backend's own."""
        schemes = (value.scheme_for(self.database.backend) for value in self.stack)
        return next((scheme for scheme in schemes if scheme is not None), None)


@dataclass(frozen=True)
class Matrix:
    """`matrix.toml`, checked."""

    path: Path
    sha256: str
    strategy: Strategy
    default_database: VersionSpec
    default_cache: VersionSpec
    workers: int
    timeout: float
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    quick: tuple[str, ...]
    versions: tuple[VersionSpec, ...]
    known_failures: Mapping[str, str] = field(default_factory=dict)
    """Cell id -> why the service fails there: shown as failed, but not failing the run."""
    suite: Suite = DEFAULT_SUITE
    """The `[suite]` table: what the service under test is."""
    stacks: tuple[StackValue, ...] = ()
    """Every value of every `[stack.<group>]`, in file order (a group's first: its default)."""
    interpreters: Interpreters | None = None
    """The `[python]` axis; None: the suite runs on the harness's own interpreter."""

    def version(self, version_id: str) -> VersionSpec:
        for spec in self.versions:
            if spec.id == version_id:
                return spec
        known = ", ".join(spec.id for spec in self.versions)
        raise MatrixError(self.path, version_id, f"no such version; known: {known}")

    def axis(self, role: Role) -> list[VersionSpec]:
        return [spec for spec in self.versions if spec.role == role]

    @property
    def stack_groups(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(value.group for value in self.stacks))

    @property
    def pythons(self) -> tuple[PythonSpec, ...]:
        return () if self.interpreters is None else self.interpreters.versions

    @property
    def default_python(self) -> PythonSpec | None:
        return None if self.interpreters is None else self.interpreters.default

    def axes_named(self) -> tuple[str, ...]:
        """The axes, by name: `database`, `cache`, each stack group, `python` (when there)."""
        return ("database", "cache", *self.stack_groups, *(["python"] if self.pythons else []))

    def axis_values(self, cell: Cell) -> tuple[str, ...]:
        """The value a cell takes on each axis of `axes_named` ("" for a driver group that
        serves none of its database)."""
        return _row_values(self, _Row(cell.database, cell.cache, cell.stack, cell.python))

    def pairs(self, cells: list[Cell]) -> set[Pair]:
        """Every pair of values of two axes that some cell takes: (axis, value, axis, value)."""
        return {pair for cell in cells for pair in _pairs_of(self.axis_values(cell))}

    def group_values(self, group: str, database_backend: str) -> list[StackValue]:
        """The values of one stack group that apply to a database backend, in file order."""
        return [v for v in self.stacks if v.group == group and v.applies_to(database_backend)]

    def default_stack(self, database_backend: str) -> tuple[StackValue, ...]:
        """Per group, its first value that applies to the backend (a driver group whose no
        value serves it has none)."""
        firsts = (self.group_values(group, database_backend) for group in self.stack_groups)
        return tuple(values[0] for values in firsts if values)

    def database_for(self, value: StackValue) -> VersionSpec | None:
        """The database a cell that varies `value` runs on: the default database when it
        applies there, else the newest version of the first backend its dialect names."""
        if value.applies_to(self.default_database.backend):
            return self.default_database
        for backend, _ in value.dialect:
            versions = [spec for spec in self.axis("database") if spec.backend == backend]
            if versions:
                return versions[-1]
        return None

    def cells(self, strategy: Strategy | None = None) -> list[Cell]:
        """Expand into cells; `strategy` overrides the file's."""
        return expand(self, strategy or self.strategy)

    def cell(self, cell_id: str) -> Cell:
        for cell in self.cells():
            if cell.id == cell_id:
                return cell
        return self._cell_from_id(cell_id)

    def _cell_from_id(self, name: str) -> Cell:
        """A cell named by id but outside the expansion (`postgres-16+valkey-8`, `py3.13`)."""
        try:
            parts = [version_id(*part) for part in cell_id_parts(name)]
        except CellIdError as error:
            raise MatrixError(self.path, name, str(error)) from None
        versions = {spec.id: spec for spec in self.versions}
        values = {value.id: value for value in self.stacks}
        pythons = {spec.id: spec for spec in self.pythons}
        specs: list[VersionSpec] = []
        chosen: list[StackValue] = []
        python: list[PythonSpec] = []
        for part in parts:
            if part in versions:
                specs.append(versions[part])
            elif part in values:
                chosen.append(values[part])
            elif part in pythons:
                python.append(pythons[part])
            elif part.partition("-")[0] in {spec.backend for spec in self.versions}:
                raise MatrixError(self.path, part, f"no such version; known: {', '.join(versions)}")
            else:
                known = ", ".join([*versions, *values, *pythons])
                raise MatrixError(
                    self.path,
                    name,
                    f"no such version, stack value or interpreter: {part!r}; known: {known}",
                )
        databases = [s for s in specs if s.role == "database"]
        caches = [s for s in specs if s.role == "cache"]
        groups = [value.group for value in chosen]
        if len(databases) > 1 or len(caches) > 1 or len(python) > 1:
            raise MatrixError(
                self.path, name, "a cell takes one database, one cache and one interpreter"
            )
        if len(set(groups)) < len(groups):
            raise MatrixError(self.path, name, "a cell takes one value of each stack group")
        database = databases[0] if databases else self.default_database
        if not databases:
            for value in chosen:
                found = self.database_for(value)
                if value.dialect and found is not None:
                    database = found
                    break
        for value in chosen:
            if not value.applies_to(database.backend):
                served = ", ".join(backend for backend, _ in value.dialect)
                raise MatrixError(self.path, name, f"{value.id} serves {served}, not {database.id}")
        by_group = {value.group: value for value in chosen}
        stack = tuple(by_group.get(v.group, v) for v in self.default_stack(database.backend))
        return make_cell(
            self,
            database,
            caches[0] if caches else self.default_cache,
            stack,
            python[0] if python else self.default_python,
        )


_MATRIX_KEYS: dict[str, type | tuple[type, ...]] = {
    "strategy": str,
    "default-database": str,
    "default-cache": str,
    "workers": int,
    "timeout": (int, float),
    "include": list,
    "exclude": list,
    "quick": list,
    "known-failures": dict,
}
_BINARIES_KEYS: dict[str, type] = {"paths": list, "npm": str, "pip": str, "debian": dict}
_LIBRARY_KEYS: dict[str, type] = {"module": str, "pip": str}
_VERSION_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._]*$")


def load_matrix(path: Path) -> Matrix:
    """Read and check a matrix file; every problem raises `MatrixError` naming the key."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise MatrixError(path, "", f"cannot read the matrix file: {error.strerror}") from error
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        # tomllib also refuses a version declared twice ("Cannot declare ... twice")
        raise MatrixError(path, "", f"not valid TOML: {error}") from error
    return _parse(path, hashlib.sha256(raw).hexdigest(), document)


def load_suite(path: Path) -> Suite:
    """Only the `[suite]` table of a matrix file, checked as `load_matrix` checks it (the
    suite's fixtures read it; a file that holds nothing else is enough for them)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise MatrixError(path, "", f"cannot read the matrix file: {error.strerror}") from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise MatrixError(path, "", f"not valid TOML: {error}") from error
    return _parse_suite(path, document.get("suite", {}))


def _parse(path: Path, sha256: str, document: dict[str, Any]) -> Matrix:
    only_keys(
        path, "", document, {"matrix", "suite", "database", "cache", "stack", "python", "floor"}
    )
    settings = checked_table(path, "matrix", document.get("matrix", {}))
    only_keys(path, "matrix", settings, set(_MATRIX_KEYS))
    for key, expected in _MATRIX_KEYS.items():
        if key in settings:
            expect_type(path, f"matrix.{key}", settings[key], expected)

    versions = [
        *_parse_axis(path, "database", document.get("database", {}), DATABASE_BACKENDS),
        *_parse_axis(path, "cache", document.get("cache", {}), CACHE_BACKENDS),
    ]
    by_id: dict[str, VersionSpec] = {}
    for spec in versions:
        if spec.id in by_id:
            raise MatrixError(path, spec.id, "declared twice")
        by_id[spec.id] = spec

    strategy = settings.get("strategy", "axis")
    if strategy not in STRATEGIES:
        raise MatrixError(
            path,
            "matrix.strategy",
            f"unknown strategy {strategy!r}; allowed: {', '.join(STRATEGIES)}",
        )
    workers = settings.get("workers", 2)
    if workers < 0:
        raise MatrixError(path, "matrix.workers", "must be 0 (no xdist) or more")
    timeout = float(settings.get("timeout", 900))
    if not 0 < timeout < float("inf"):  # also refuses nan, which would mean no timeout
        raise MatrixError(path, "matrix.timeout", "must be a positive number of seconds")

    def default(key: str, role: Role) -> VersionSpec:
        axis_ids = [spec.id for spec in versions if spec.role == role]
        if not axis_ids:
            raise MatrixError(path, role, f"the {role} axis has no versions; declare at least one")
        chosen = settings.get(key, axis_ids[0])
        if chosen not in axis_ids:
            raise MatrixError(
                path,
                f"matrix.{key}",
                f"{chosen!r} is not a {role} version; known: {', '.join(axis_ids)}",
            )
        return by_id[chosen]

    matrix = Matrix(
        path=path,
        sha256=sha256,
        strategy=strategy,
        default_database=default("default-database", "database"),
        default_cache=default("default-cache", "cache"),
        workers=workers,
        timeout=timeout,
        include=string_list(path, "matrix.include", settings.get("include", [])),
        exclude=string_list(path, "matrix.exclude", settings.get("exclude", [])),
        quick=string_list(path, "matrix.quick", settings.get("quick", [])),
        versions=tuple(versions),
        known_failures=_reasons(path, "matrix.known-failures", settings.get("known-failures", {})),
        suite=_parse_suite(path, document.get("suite", {})),
        stacks=parse_stacks(path, document.get("stack", {})),
        interpreters=parse_python(path, document.get("python")),
    )
    _check_part_ids(matrix)
    for key, ids in (
        ("include", matrix.include),
        ("exclude", matrix.exclude),
        ("quick", matrix.quick),
        ("known-failures", tuple(matrix.known_failures)),
    ):
        for index, named in enumerate(ids):
            where = f"matrix.{key}.{named}" if key == "known-failures" else f"matrix.{key}[{index}]"
            try:
                cell = matrix._cell_from_id(named)
            except MatrixError as error:
                raise MatrixError(path, where, error.problem) from None
            if cell.id != named:
                raise MatrixError(
                    path,
                    where,
                    f"{named!r} is the cell {cell.id!r} ({cell.database.id} + "
                    f"{cell.cache.id}); write {cell.id!r}",
                )
    return matrix


_SUITE_KEYS: dict[str, type] = {
    "test-paths": list,
    "pytest-args": list,
    "env": dict,
    "app": str,
    "prepare": str,
    "migration-tests": str,
    "install": list,
}
_SUITE_ENV_KEYS = ("database", "cache", "broker", "sqlite-module")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _parse_suite(path: Path, value: object) -> Suite:
    """The `[suite]` table; every key left out keeps its default (the bundled service's)."""
    table = checked_table(path, "suite", value)
    only_keys(path, "suite", table, set(_SUITE_KEYS))
    for key, expected in _SUITE_KEYS.items():
        if key in table and key != "migration-tests":  # "" there means: no such tests
            if key == "prepare" and table[key] is False:
                continue  # nothing to prepare: the service's tests make their tables
            expect_type(path, f"suite.{key}", table[key], expected)
    test_paths = string_list(
        path, "suite.test-paths", table.get("test-paths", list(DEFAULT_SUITE.test_paths))
    )
    if not test_paths:
        raise MatrixError(path, "suite.test-paths", "name at least one test path")
    for index, test_path in enumerate(test_paths):
        if not test_path.strip():
            raise MatrixError(path, f"suite.test-paths[{index}]", "must not be empty")
    app = table.get("app", DEFAULT_SUITE.app)
    if not _APP.match(app):
        raise MatrixError(
            path, "suite.app", f"{app!r} is not `module:attribute` (e.g. 'myservice.main:app')"
        )
    prepare = table.get("prepare")
    if prepare is False:
        prepare = NO_PREPARE
    elif prepare is not None:
        try:
            shlex.split(prepare)
        except ValueError as error:
            raise MatrixError(path, "suite.prepare", f"{prepare!r}: {error}") from None
    migration_tests = table.get("migration-tests", DEFAULT_SUITE.migration_tests)
    if not isinstance(migration_tests, str):
        raise MatrixError(
            path, "suite.migration-tests", f"expected a string, got {type_name(migration_tests)}"
        )
    install = string_list(path, "suite.install", table.get("install", list(DEFAULT_SUITE.install)))
    if not install:
        raise MatrixError(path, "suite.install", 'name what to install, e.g. ["-e", ".[test]"]')
    return Suite(
        install=install,
        test_paths=test_paths,
        pytest_args=string_list(path, "suite.pytest-args", table.get("pytest-args", [])),
        env=_suite_env(path, table.get("env", {})),
        app=app,
        prepare=prepare,
        migration_tests=migration_tests,
    )


def _suite_env(path: Path, value: object) -> SuiteEnv:
    table = checked_table(path, "suite.env", value)
    only_keys(path, "suite.env", table, set(_SUITE_ENV_KEYS))
    defaults = SuiteEnv()
    names: dict[str, str] = {}
    for key in _SUITE_ENV_KEYS:
        attribute = key.replace("-", "_")
        name = table.get(key, getattr(defaults, attribute))
        where = f"suite.env.{key}"
        if not isinstance(name, str):
            raise MatrixError(path, where, f"expected a string, got {type_name(name)}")
        if not name and key == "database":
            raise MatrixError(path, where, "the suite must be told its database: name a variable")
        if name and not _ENV_NAME.match(name):
            raise MatrixError(
                path, where, f"{name!r} is not an environment variable name (e.g. DB_URL)"
            )
        if name and name in names.values():
            other = next(k for k, v in names.items() if v == name)
            raise MatrixError(path, where, f"{name!r} is also suite.env.{other}; name another")
        names[key] = name
    return SuiteEnv(
        database=names["database"],
        cache=names["cache"],
        broker=names["broker"],
        sqlite_module=names["sqlite-module"],
    )


def _parse_axis(
    path: Path, role: Role, table: object, backends: tuple[str, ...]
) -> list[VersionSpec]:
    axis = checked_table(path, role, table)
    specs: list[VersionSpec] = []
    for backend, versions in axis.items():
        if backend not in backends:
            other = CACHE_BACKENDS if role == "database" else DATABASE_BACKENDS
            where = (
                f" (it belongs under [{'cache' if role == 'database' else 'database'}])"
                if backend in other
                else ""
            )
            raise MatrixError(
                path,
                f"{role}.{backend}",
                f"unknown {role} backend{where}; allowed: {', '.join(backends)}",
            )
        for version, sources in checked_table(path, f"{role}.{backend}", versions).items():
            key = f"{role}.{backend}.{version}"
            if not _VERSION_PATTERN.match(version):
                raise MatrixError(path, key, "a version is letters, digits, dots and underscores")
            specs.append(
                VersionSpec(role, backend, version, _parse_sources(path, key, backend, sources))
            )
    return specs


def _parse_sources(path: Path, key: str, backend: str, value: object) -> tuple[Source, ...]:
    table = checked_table(path, key, value)
    allowed: set[str] = set(lookup_backend(backend).sources)
    for name, inner in table.items():
        if name not in allowed and isinstance(inner, dict) and name[:1].isdigit():
            # [database.mysql.8.0] is the table "0" inside version "8": TOML splits on the dot
            role_backend, _, version = key.rpartition(".")
            parts = [version, name]
            while isinstance(inner, dict) and len(inner) == 1 and next(iter(inner))[:1].isdigit():
                part = next(iter(inner))
                parts.append(part)
                inner = inner[part]
            dotted = ".".join(parts)
            raise MatrixError(
                path,
                f"{role_backend}.{dotted}",
                f'a version with a dot must be quoted: [{role_backend}."{dotted}"]',
            )
    only_keys(path, key, table, allowed)
    if not table:
        raise MatrixError(
            path, key, f"no source; give at least one of: {', '.join(sorted(allowed))}"
        )
    sources: list[Source] = []
    for kind, spec in table.items():
        where = f"{key}.{kind}"
        if kind == "image":
            expect_type(path, where, spec, str)
            sources.append(ImageSource(image=spec))
        elif kind == "url":
            expect_type(path, where, spec, str)
            _check_url(path, where, backend, spec)
            sources.append(UrlSource(url=spec))
        elif kind == "binaries":
            options = checked_table(path, where, spec)
            if "apt" in options:
                raise MatrixError(
                    path,
                    f"{where}.apt",
                    "apt installed system packages as root; name the Debian packages instead: "
                    f'debian = {{ suite = "bookworm", packages = ["{options["apt"]}"] }}',
                )
            only_keys(path, where, options, set(_BINARIES_KEYS))
            for option, expected in _BINARIES_KEYS.items():
                if option in options:
                    expect_type(path, f"{where}.{option}", options[option], expected)
            sources.append(
                BinariesSource(
                    paths=tuple(
                        Path(p).expanduser()
                        for p in string_list(path, f"{where}.paths", options.get("paths", []))
                    ),
                    npm=options.get("npm"),
                    pip=options.get("pip"),
                    debian=parse_debian(path, f"{where}.debian", options["debian"])
                    if "debian" in options
                    else None,
                )
            )
        else:  # library
            options = checked_table(path, where, spec)
            only_keys(path, where, options, set(_LIBRARY_KEYS))
            if "module" not in options:
                raise MatrixError(
                    path, f"{where}.module", "missing; name the DB-API module, e.g. 'sqlite3'"
                )
            for option, expected in _LIBRARY_KEYS.items():
                if option in options:
                    expect_type(path, f"{where}.{option}", options[option], expected)
            sources.append(LibrarySource(module=options["module"], pip=options.get("pip")))
    return tuple(sources)


_WHOLE_VARIABLE = re.compile(r"^\$(?:\{\w+\}|\w+)$")
_URL = re.compile(r"^(?P<scheme>[^:/?#]*)://\S*$")


def _check_url(path: Path, key: str, backend: str, url: str) -> None:
    """A url source is one `$VARIABLE` (checked when expanded) or a URL of its backend."""
    if _WHOLE_VARIABLE.match(url):
        return
    # the schemes a `url` source may use (bare ones get the suite's driver)
    allowed = lookup_backend(backend).url_schemes
    example = f"{allowed[0]}://127.0.0.1:<port>/…"
    match = _URL.match(url)
    if match is None:
        raise MatrixError(
            path, key, f"{url!r} is not a URL; write one like {example!r} or a $VARIABLE"
        )
    scheme = match.group("scheme")
    if "$" in scheme:
        raise MatrixError(
            path, key, f"{url!r}: the scheme must be written out: one of {', '.join(allowed)}"
        )
    if scheme.lower() not in allowed:
        raise MatrixError(
            path,
            key,
            f"{url!r}: the scheme {scheme!r} is not one of {backend}'s: {', '.join(allowed)}",
        )


def _reasons(path: Path, key: str, value: object) -> dict[str, str]:
    """A table of cell id -> a non-empty reason."""
    expect_type(path, key, value, dict)
    assert isinstance(value, dict)
    for named, reason in value.items():
        expect_type(path, f"{key}.{named}", reason, str)
        if not reason.strip():
            raise MatrixError(path, f"{key}.{named}", "empty: say why the service fails there")
    return dict(value)


# ------------------------------------------------------------------ expansion


@dataclass(frozen=True)
class _Row:
    """One combination of the axes, before it is named."""

    database: VersionSpec
    cache: VersionSpec
    stack: tuple[StackValue, ...]
    python: PythonSpec | None


def expand(matrix: Matrix, strategy: Strategy) -> list[Cell]:
    """The cells a strategy asks for, plus `include`, minus `exclude`, each once, in file order.

    axis      each value of each axis, the others at their defaults
    product   every combination (a driver only with the databases it serves)
    pairwise  every pair of values of any two axes at least once, in fewer cells than product
    """
    if strategy == "axis":
        rows = _axis_rows(matrix)
    elif strategy == "product":
        rows = _product_rows(matrix)
    else:
        rows = _pairwise_rows(matrix)
    cells = [make_cell(matrix, row.database, row.cache, row.stack, row.python) for row in rows]
    cells += [matrix._cell_from_id(cell_id) for cell_id in matrix.include]
    unique: dict[str, Cell] = {}
    for cell in cells:
        if cell.id not in matrix.exclude:
            unique.setdefault(cell.id, cell)
    return list(unique.values())


def _axis_rows(matrix: Matrix) -> list[_Row]:
    def row(
        database: VersionSpec,
        cache: VersionSpec,
        value: StackValue | None = None,
        python: PythonSpec | None = matrix.default_python,
    ) -> _Row:
        stack = matrix.default_stack(database.backend)
        if value is not None:
            stack = tuple(value if v.group == value.group else v for v in stack)
        return _Row(database, cache, stack, python)

    rows = [row(database, matrix.default_cache) for database in matrix.axis("database")]
    rows += [row(matrix.default_database, cache) for cache in matrix.axis("cache")]
    for value in matrix.stacks:
        database = matrix.database_for(value)
        if database is not None and value not in matrix.default_stack(database.backend):
            rows.append(row(database, matrix.default_cache, value))
    rows += [
        row(matrix.default_database, matrix.default_cache, python=python)
        for python in matrix.pythons
        if python != matrix.default_python
    ]
    return rows


def _product_rows(matrix: Matrix) -> list[_Row]:
    pythons: list[PythonSpec | None] = [*matrix.pythons] or [None]
    rows: list[_Row] = []
    for database, cache in itertools.product(matrix.axis("database"), matrix.axis("cache")):
        choices = [matrix.group_values(group, database.backend) for group in matrix.stack_groups]
        for stack in itertools.product(*(values for values in choices if values)):
            rows += [_Row(database, cache, stack, python) for python in pythons]
    return rows


def _pairwise_rows(matrix: Matrix) -> list[_Row]:
    """Rows from allpairspy's all-pairs generator; a driver group offers "none" (`None`) for
    the databases no value of it serves, and the filter keeps every row possible."""
    groups = matrix.stack_groups
    driver_groups = {v.group for v in matrix.stacks if v.dialect}
    parameters: list[list[Any]] = [matrix.axis("database"), matrix.axis("cache")]
    for group in groups:
        values: list[Any] = [v for v in matrix.stacks if v.group == group]
        parameters.append([*values, None] if group in driver_groups else values)
    if matrix.pythons:
        parameters.append(list(matrix.pythons))
    if len(parameters) == 2:  # two axes: every pair is the product
        return _product_rows(matrix)

    def possible(row: list[Any]) -> bool:
        database: VersionSpec = row[0]
        for index, group in enumerate(groups, start=2):
            if index >= len(row):
                break
            value: StackValue | None = row[index]
            if value is None:
                if matrix.group_values(group, database.backend):
                    return False
            elif not value.applies_to(database.backend):
                return False
        return True

    # imported here: the noxfile reads the matrix under nox's own Python, which lacks it
    from allpairspy import AllPairs  # type: ignore[import-untyped]

    rows: list[_Row] = []
    for row in AllPairs(parameters, filter_func=possible):
        stack = tuple(v for v in row[2 : 2 + len(groups)] if v is not None)
        python = row[2 + len(groups)] if matrix.pythons else None
        rows.append(_Row(row[0], row[1], stack, python))
    return rows + _rows_for_missed_pairs(matrix, rows)


def _rows_for_missed_pairs(matrix: Matrix, rows: list[_Row]) -> list[_Row]:
    """allpairspy leaves some pairs uncovered when a filter refuses rows (a driver beside a
    database it does not serve): cover them, greedily, with the rows of `product` that
    cover most of them."""
    covered = {pair for row in rows for pair in _pairs_of(_row_values(matrix, row))}
    candidates = [(row, _pairs_of(_row_values(matrix, row))) for row in _product_rows(matrix)]
    missed = {pair for _, pairs in candidates for pair in pairs} - covered
    added: list[_Row] = []
    while missed:
        row, pairs = max(candidates, key=lambda candidate: len(candidate[1] & missed))
        added.append(row)
        missed -= pairs
    return added


Pair = tuple[int, str, int, str]


def _row_values(matrix: Matrix, row: _Row) -> tuple[str, ...]:
    by_group = {value.group: value.id for value in row.stack}
    chosen = (by_group.get(group, "") for group in matrix.stack_groups)
    python = [row.python.id if row.python else ""] if matrix.pythons else []
    return (row.database.id, row.cache.id, *chosen, *python)


def _pairs_of(values: tuple[str, ...]) -> set[Pair]:
    return {(i, values[i], j, values[j]) for i, j in itertools.combinations(range(len(values)), 2)}


def make_cell(
    matrix: Matrix,
    database: VersionSpec,
    cache: VersionSpec,
    stack: tuple[StackValue, ...] | None = None,
    python: PythonSpec | None = None,
) -> Cell:
    """Name a cell after what it varies: `postgres-16`, `redis-6.2`, `postgres-16+valkey-8`,
    `postgres-18+psycopg3`, `sqlalchemy-2.0`, `py3.13`."""
    default_stack = matrix.default_stack(database.backend)
    stack = default_stack if stack is None else stack
    python = python or matrix.default_python
    varies_database = database != matrix.default_database
    varies_cache = cache != matrix.default_cache
    varied_values = [value for value in stack if value not in default_stack]
    varies_python = python != matrix.default_python
    parts: list[tuple[str, str]] = []
    if varies_database:
        parts.append((database.backend, database.version))
    if varies_cache:
        parts.append((cache.backend, cache.version))
    parts += [value.part for value in varied_values]
    if varies_python and python is not None:
        parts.append((python.id, ""))
    is_default = not parts
    name = cell_id(parts or [(database.backend, database.version)])
    tags: list[str] = []
    if varies_database or is_default:
        tags += [database.backend, "database"]
    if varies_cache or is_default:
        tags += [cache.backend, "cache"]
    for value in varied_values:
        tags += ["stack", value.group, value.id]
    if varies_python and python is not None:
        tags += ["python", python.id]
    if is_default:
        tags.append("default")
    if name in matrix.quick:
        tags.append("quick")
    return Cell(name, database, cache, tuple(dict.fromkeys(tags)), stack, python)


def _check_part_ids(matrix: Matrix) -> None:
    """Every version, stack value and interpreter names itself once in cell ids; a driver
    serves a database the matrix declares."""
    seen: dict[str, str] = {
        spec.id: f"{spec.role}.{spec.backend}.{spec.version}" for spec in matrix.versions
    }
    for value in matrix.stacks:
        where = f"stack.{value.group}.{value.name}"
        if value.id in seen:
            raise MatrixError(
                matrix.path, where, f"its cell-id part {value.id!r} is also {seen[value.id]}'s"
            )
        seen[value.id] = where
        if value.dialect and matrix.database_for(value) is None:
            served = ", ".join(backend for backend, _ in value.dialect)
            raise MatrixError(
                matrix.path,
                f"{where}.dialect",
                f"serves {served}, of which this matrix declares no version; declare one "
                "or remove the value",
            )
