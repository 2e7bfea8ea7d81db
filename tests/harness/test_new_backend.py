"""A backend is one module: added to a copy of the tree with its versions in the matrix file,
and nothing else changed, it is listed, nox lists its cells, and its cells pass.

Two new backends, each a real server this machine has under a new name:

- `keyvalue`, a cache: the Redis server in /usr/bin, started by the `binaries` source;
- `pgcompat`, a database with only a `url` source: the machine's PostgreSQL on 5432 (a `url`
  source once crashed `nox -l` on a table of URL schemes per backend name, and the suite's
  per-worker database janitor refused a backend it did not name).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from scripts.paths import REPO_ROOT
from scripts.results import read_result
from tests.harness.providers_support import fast_folder

pytestmark = pytest.mark.slow

COPIED_FOLDERS = ("scripts", "tests", "app")
COPIED_FILES = ("noxfile.py", "pyproject.toml", "alembic.ini", "matrix.toml", "matrix-images.toml")
NOT_COPIED = shutil.ignore_patterns(
    "__pycache__", ".nox", ".venv", "results", "reports", ".*_cache", "*.egg-info"
)
SUBSET = "test_cache"
"""A few tests that use both the database and the cache."""

KEYVALUE_MODULE = '''"""A cache backend under a new name: this machine's Redis server."""

from scripts.backends.redis import Redis


class Keyvalue(Redis):
    name = "keyvalue"
    display_name = "KeyValue"
    report_order = 70


BACKEND = Keyvalue()
'''
PGCOMPAT_MODULE = '''"""A database backend under a new name that speaks PostgreSQL's protocol."""

from scripts.backends.postgres import Postgres


class Pgcompat(Postgres):
    name = "pgcompat"
    display_name = "PG-compatible"
    report_order = 80


BACKEND = Pgcompat()
'''
REDIS_SERVER = Path("/usr/bin/redis-server")
POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def redis_version() -> str | None:
    """`7.0` for this machine's /usr/bin/redis-server 7.0.15; None without one."""
    if not REDIS_SERVER.exists():
        return None
    printed = subprocess.run(  # noqa: S603 - a fixed program
        [str(REDIS_SERVER), "--version"], capture_output=True, text=True, check=False
    ).stdout
    found = re.search(r"\bv=(\d+\.\d+)", printed)
    return found.group(1) if found else None


def postgres_version() -> str | None:
    """`15` for the PostgreSQL 15 answering at `POSTGRES_URL`; None when none answers."""
    import psycopg2

    try:
        connection = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg2.OperationalError:
        return None
    try:
        return str(connection.server_version // 10000)
    finally:
        connection.close()


def matrix_addition(keyvalue: str, pgcompat: str) -> str:
    return f"""
[cache.keyvalue."{keyvalue}"]
binaries = {{ paths = ["{REDIS_SERVER.parent}"] }}

[database.pgcompat."{pgcompat}"]
url = "{POSTGRES_URL}"
"""


@dataclass(frozen=True)
class NewTree:
    root: Path
    keyvalue_cell: str
    pgcompat_cell: str


def _nox() -> str | None:
    beside = Path(sys.executable).parent / "nox"
    return str(beside) if beside.exists() else shutil.which("nox")


def _environment() -> dict[str, str]:
    """This environment without what a suite run around this test set for itself."""
    leave_out = ("DATABASE_URL", "REDIS_URL", "SQLITE_MODULE", "APP_ENV")
    return {
        name: value
        for name, value in os.environ.items()
        if name not in leave_out and not name.startswith(("PYTEST", "CT_"))
    }


@pytest.fixture(scope="module")
def tree() -> Iterator[NewTree]:
    """A copy of the tree with the two backend modules and their versions, nothing else."""
    keyvalue, pgcompat = redis_version(), postgres_version()
    if keyvalue is None or pgcompat is None:
        pytest.skip(f"needs {REDIS_SERVER} and a PostgreSQL answering at {POSTGRES_URL}")
    with fast_folder("compat-new-backend-") as root:
        for folder in COPIED_FOLDERS:
            shutil.copytree(REPO_ROOT / folder, root / folder, ignore=NOT_COPIED)
        for name in COPIED_FILES:
            shutil.copy2(REPO_ROOT / name, root / name)
        (root / "scripts" / "backends" / "keyvalue.py").write_text(KEYVALUE_MODULE)
        (root / "scripts" / "backends" / "pgcompat.py").write_text(PGCOMPAT_MODULE)
        with (root / "matrix.toml").open("a") as matrix:
            matrix.write(matrix_addition(keyvalue, pgcompat))
        yield NewTree(root, f"keyvalue-{keyvalue}", f"pgcompat-{pgcompat}")


def _run(tree: Path, *argv: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the harness and nox, in the copy
        argv,
        cwd=tree,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_the_new_backends_cells_are_listed(tree: NewTree) -> None:
    listed = _run(tree.root, sys.executable, "-m", "scripts", "list", timeout=60)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()}
    assert f"sqlite-stdlib + {tree.keyvalue_cell}" in lines[tree.keyvalue_cell]
    assert f"{tree.pgcompat_cell} + redis-7.0" in lines[tree.pgcompat_cell]


def test_nox_lists_the_new_backends_cells(tree: NewTree) -> None:
    nox = _nox()
    if nox is None:
        pytest.skip("nox is not installed")
    listed = _run(tree.root, nox, "-l", timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert f"cell({tree.keyvalue_cell}) [keyvalue,cache]" in listed.stdout
    assert f"cell({tree.pgcompat_cell}) [pgcompat,database]" in listed.stdout


@pytest.mark.timeout(600)
@pytest.mark.parametrize("backend", ["keyvalue", "pgcompat"])
def test_a_cell_of_the_new_backend_passes(tree: NewTree, backend: str) -> None:
    cell = tree.keyvalue_cell if backend == "keyvalue" else tree.pgcompat_cell
    source = "binaries" if backend == "keyvalue" else "url"
    ran = _run(
        tree.root, sys.executable, "-m", "scripts", "cell", cell, "--", "-k", SUBSET, timeout=540
    )
    assert ran.returncode == 0, ran.stdout[-4000:] + ran.stderr[-4000:]
    result = read_result(tree.root / "results" / cell)
    assert result.state == "passed", result.reason
    ours = [server for server in result.servers if server.backend == backend]
    assert [server.source for server in ours] == [source]
    assert result.counts["passed"] > 0
