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
from scripts.suite import DEFAULT_SUITE, NO_PREPARE, Suite, SuiteEnv
from scripts.vocabulary import CellIdError, Role, cell_id, cell_id_parts, version_id

Strategy = Literal["axis", "product", "pairwise"]


@dataclass(frozen=True)
class ImageSource:
    image: str
    kind: Literal["image"] = "image"


@dataclass(frozen=True)
class DebianPackages:
    """Packages of one Debian suite (`sid`, `trixie`, `bookworm`, `bullseye`, ...)."""

    suite: str
    packages: tuple[str, ...]

    def __str__(self) -> str:
        return f"debian {self.suite} {' '.join(self.packages)}"


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
    """One run of the suite: one database version and one cache version."""

    id: str
    database: VersionSpec
    cache: VersionSpec
    tags: tuple[str, ...]

    @property
    def specs(self) -> tuple[VersionSpec, VersionSpec]:
        return (self.database, self.cache)


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

    def version(self, version_id: str) -> VersionSpec:
        for spec in self.versions:
            if spec.id == version_id:
                return spec
        known = ", ".join(spec.id for spec in self.versions)
        raise MatrixError(self.path, version_id, f"no such version; known: {known}")

    def axis(self, role: Role) -> list[VersionSpec]:
        return [spec for spec in self.versions if spec.role == role]

    def cells(self, strategy: Strategy | None = None) -> list[Cell]:
        """Expand into cells; `strategy` overrides the file's."""
        return expand(self, strategy or self.strategy)

    def cell(self, cell_id: str) -> Cell:
        for cell in self.cells():
            if cell.id == cell_id:
                return cell
        return self._cell_from_id(cell_id)

    def _cell_from_id(self, name: str) -> Cell:
        """A cell named by id but outside the expansion (`postgres-16+valkey-8`, `redis-6.2`)."""
        try:
            parts = cell_id_parts(name)
        except CellIdError as error:
            raise MatrixError(self.path, name, str(error)) from None
        if len(parts) > 2:
            raise MatrixError(self.path, name, "a cell id names at most a database and a cache")
        specs = [self.version(version_id(*part)) for part in parts]
        database = next((s for s in specs if s.role == "database"), self.default_database)
        cache = next((s for s in specs if s.role == "cache"), self.default_cache)
        if (
            sum(1 for s in specs if s.role == "database") > 1
            or sum(1 for s in specs if s.role == "cache") > 1
        ):
            raise MatrixError(self.path, name, "a cell takes one database and one cache")
        return make_cell(self, database, cache)


class MatrixError(ValueError):
    """`matrix.toml` says something the harness cannot run; the message says where and why."""

    def __init__(self, path: Path, key: str, problem: str) -> None:
        super().__init__(f"{path}: {key}: {problem}" if key else f"{path}: {problem}")
        self.path = path
        self.key = key
        self.problem = problem


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
_STRATEGIES: tuple[Strategy, ...] = ("axis", "product", "pairwise")
_BINARIES_KEYS: dict[str, type] = {"paths": list, "npm": str, "pip": str, "debian": dict}
_DEBIAN_KEYS: dict[str, type] = {"suite": str, "packages": list}
DEBIAN_SUITE_PATTERN = re.compile(r"^[a-z][a-z0-9-]*$")
DEBIAN_PACKAGE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
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
    _only_keys(path, "", document, {"matrix", "suite", "database", "cache", "floor"})
    settings = _table(path, "matrix", document.get("matrix", {}))
    _only_keys(path, "matrix", settings, set(_MATRIX_KEYS))
    for key, expected in _MATRIX_KEYS.items():
        if key in settings:
            _expect_type(path, f"matrix.{key}", settings[key], expected)

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
    if strategy not in _STRATEGIES:
        raise MatrixError(
            path,
            "matrix.strategy",
            f"unknown strategy {strategy!r}; allowed: {', '.join(_STRATEGIES)}",
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
        include=_strings(path, "matrix.include", settings.get("include", [])),
        exclude=_strings(path, "matrix.exclude", settings.get("exclude", [])),
        quick=_strings(path, "matrix.quick", settings.get("quick", [])),
        versions=tuple(versions),
        known_failures=_reasons(path, "matrix.known-failures", settings.get("known-failures", {})),
        suite=_parse_suite(path, document.get("suite", {})),
    )
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
}
_SUITE_ENV_KEYS = ("database", "cache", "broker", "sqlite-module")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_APP = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def _parse_suite(path: Path, value: object) -> Suite:
    """The `[suite]` table; every key left out keeps its default (the bundled service's)."""
    table = _table(path, "suite", value)
    _only_keys(path, "suite", table, set(_SUITE_KEYS))
    for key, expected in _SUITE_KEYS.items():
        if key in table and key != "migration-tests":  # "" there means: no such tests
            if key == "prepare" and table[key] is False:
                continue  # nothing to prepare: the service's tests make their tables
            _expect_type(path, f"suite.{key}", table[key], expected)
    test_paths = _strings(
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
            path, "suite.migration-tests", f"expected a string, got {_type_name(migration_tests)}"
        )
    return Suite(
        test_paths=test_paths,
        pytest_args=_strings(path, "suite.pytest-args", table.get("pytest-args", [])),
        env=_suite_env(path, table.get("env", {})),
        app=app,
        prepare=prepare,
        migration_tests=migration_tests,
    )


def _suite_env(path: Path, value: object) -> SuiteEnv:
    table = _table(path, "suite.env", value)
    _only_keys(path, "suite.env", table, set(_SUITE_ENV_KEYS))
    defaults = SuiteEnv()
    names: dict[str, str] = {}
    for key in _SUITE_ENV_KEYS:
        attribute = key.replace("-", "_")
        name = table.get(key, getattr(defaults, attribute))
        where = f"suite.env.{key}"
        if not isinstance(name, str):
            raise MatrixError(path, where, f"expected a string, got {_type_name(name)}")
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
    axis = _table(path, role, table)
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
        for version, sources in _table(path, f"{role}.{backend}", versions).items():
            key = f"{role}.{backend}.{version}"
            if not _VERSION_PATTERN.match(version):
                raise MatrixError(path, key, "a version is letters, digits, dots and underscores")
            specs.append(
                VersionSpec(role, backend, version, _parse_sources(path, key, backend, sources))
            )
    return specs


def _parse_sources(path: Path, key: str, backend: str, value: object) -> tuple[Source, ...]:
    table = _table(path, key, value)
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
    _only_keys(path, key, table, allowed)
    if not table:
        raise MatrixError(
            path, key, f"no source; give at least one of: {', '.join(sorted(allowed))}"
        )
    sources: list[Source] = []
    for kind, spec in table.items():
        where = f"{key}.{kind}"
        if kind == "image":
            _expect_type(path, where, spec, str)
            sources.append(ImageSource(image=spec))
        elif kind == "url":
            _expect_type(path, where, spec, str)
            _check_url(path, where, backend, spec)
            sources.append(UrlSource(url=spec))
        elif kind == "binaries":
            options = _table(path, where, spec)
            if "apt" in options:
                raise MatrixError(
                    path,
                    f"{where}.apt",
                    "apt installed system packages as root; name the Debian packages instead: "
                    f'debian = {{ suite = "bookworm", packages = ["{options["apt"]}"] }}',
                )
            _only_keys(path, where, options, set(_BINARIES_KEYS))
            for option, expected in _BINARIES_KEYS.items():
                if option in options:
                    _expect_type(path, f"{where}.{option}", options[option], expected)
            sources.append(
                BinariesSource(
                    paths=tuple(
                        Path(p).expanduser()
                        for p in _strings(path, f"{where}.paths", options.get("paths", []))
                    ),
                    npm=options.get("npm"),
                    pip=options.get("pip"),
                    debian=_debian(path, f"{where}.debian", options["debian"])
                    if "debian" in options
                    else None,
                )
            )
        else:  # library
            options = _table(path, where, spec)
            _only_keys(path, where, options, set(_LIBRARY_KEYS))
            if "module" not in options:
                raise MatrixError(
                    path, f"{where}.module", "missing; name the DB-API module, e.g. 'sqlite3'"
                )
            for option, expected in _LIBRARY_KEYS.items():
                if option in options:
                    _expect_type(path, f"{where}.{option}", options[option], expected)
            sources.append(LibrarySource(module=options["module"], pip=options.get("pip")))
    return tuple(sources)


def _debian(path: Path, key: str, value: dict[str, Any]) -> DebianPackages:
    _only_keys(path, key, value, set(_DEBIAN_KEYS))
    for option, expected in _DEBIAN_KEYS.items():
        if option not in value:
            raise MatrixError(
                path, f"{key}.{option}", 'missing; e.g. { suite = "sid", packages = ["..."] }'
            )
        _expect_type(path, f"{key}.{option}", value[option], expected)
    suite = value["suite"]
    if not DEBIAN_SUITE_PATTERN.match(suite):
        raise MatrixError(
            path, f"{key}.suite", f"{suite!r} is not a Debian suite (e.g. bookworm, trixie, sid)"
        )
    packages = _strings(path, f"{key}.packages", value["packages"])
    if not packages:
        raise MatrixError(path, f"{key}.packages", "name at least one package")
    for index, package in enumerate(packages):
        if not DEBIAN_PACKAGE_PATTERN.match(package):
            raise MatrixError(
                path, f"{key}.packages[{index}]", f"{package!r} is not a Debian package name"
            )
    return DebianPackages(suite, packages)


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


def _table(path: Path, key: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MatrixError(path, key, f"expected a table, got {_type_name(value)}")
    return value


def _only_keys(path: Path, key: str, table: dict[str, Any], allowed: set[str]) -> None:
    for name in table:
        if name not in allowed:
            where = f"{key}.{name}" if key else name
            raise MatrixError(path, where, f"unknown key; allowed: {', '.join(sorted(allowed))}")


def _expect_type(path: Path, key: str, value: object, expected: type | tuple[type, ...]) -> None:
    # bool is an int in Python but never a number of workers or seconds in this file
    if isinstance(value, bool) or not isinstance(value, expected):
        names = expected if isinstance(expected, tuple) else (expected,)
        wanted = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in names)
        raise MatrixError(path, key, f"expected {wanted}, got {_type_name(value)}")
    if isinstance(value, str) and not value.strip():
        raise MatrixError(path, key, "must not be empty")


def _strings(path: Path, key: str, value: object) -> tuple[str, ...]:
    _expect_type(path, key, value, list)
    assert isinstance(value, list)
    for index, item in enumerate(value):
        _expect_type(path, f"{key}[{index}]", item, str)
    return tuple(value)


def _reasons(path: Path, key: str, value: object) -> dict[str, str]:
    """A table of cell id -> a non-empty reason."""
    _expect_type(path, key, value, dict)
    assert isinstance(value, dict)
    for named, reason in value.items():
        _expect_type(path, f"{key}.{named}", reason, str)
        if not reason.strip():
            raise MatrixError(path, f"{key}.{named}", "empty: say why the service fails there")
    return dict(value)


_TYPE_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "a table",
    bool: "a boolean",
}


def _type_name(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


# ------------------------------------------------------------------ expansion


def expand(matrix: Matrix, strategy: Strategy) -> list[Cell]:
    """The cells a strategy asks for, plus `include`, minus `exclude`, each once, in file order."""
    databases, caches = matrix.axis("database"), matrix.axis("cache")
    pairs: list[tuple[VersionSpec, VersionSpec]]
    if strategy == "axis":
        pairs = [(database, matrix.default_cache) for database in databases]
        pairs += [(matrix.default_database, cache) for cache in caches]
    elif strategy == "product":
        pairs = list(itertools.product(databases, caches))
    else:
        pairs = [(row[0], row[1]) for row in all_pairs([databases, caches])]
    cells = [make_cell(matrix, database, cache) for database, cache in pairs]
    cells += [matrix._cell_from_id(cell_id) for cell_id in matrix.include]
    unique: dict[str, Cell] = {}
    for cell in cells:
        if cell.id not in matrix.exclude:
            unique.setdefault(cell.id, cell)
    return list(unique.values())


def all_pairs(axes: list[list[VersionSpec]]) -> list[tuple[VersionSpec, ...]]:
    """Rows that cover every pair of values of every two axes (greedy; with two axes: all pairs)."""
    uncovered = {
        (i, a.id, j, b.id)
        for i, j in itertools.combinations(range(len(axes)), 2)
        for a in axes[i]
        for b in axes[j]
    }
    rows: list[tuple[VersionSpec, ...]] = []
    while uncovered:
        best = max(
            itertools.product(*axes),
            key=lambda row: sum(
                (i, row[i].id, j, row[j].id) in uncovered
                for i, j in itertools.combinations(range(len(row)), 2)
            ),
        )
        rows.append(best)
        uncovered -= {
            (i, best[i].id, j, best[j].id) for i, j in itertools.combinations(range(len(best)), 2)
        }
    return rows


def make_cell(matrix: Matrix, database: VersionSpec, cache: VersionSpec) -> Cell:
    """Name a cell after what it varies: `postgres-16`, `redis-6.2`, `postgres-16+valkey-8`."""
    varies_database = database != matrix.default_database
    varies_cache = cache != matrix.default_cache
    varied: tuple[VersionSpec, ...]
    if varies_database and varies_cache:
        varied = (database, cache)
    elif varies_cache:
        varied = (cache,)
    else:
        varied = (database,)
    name = cell_id((spec.backend, spec.version) for spec in varied)
    is_default = not (varies_database or varies_cache)
    tags: list[str] = []
    if varies_database or is_default:
        tags += [database.backend, "database"]
    if varies_cache or is_default:
        tags += [cache.backend, "cache"]
    if is_default:
        tags.append("default")
    if name in matrix.quick:
        tags.append("quick")
    return Cell(name, database, cache, tuple(dict.fromkeys(tags)))
