"""The matrix adopted by another service, the way docs/adopt.md says (keep the two in sync).

The notes service in `second_service/` (package `notesvc`, reading NOTES_DATABASE_URL and
NOTES_CACHE_URL, two models, a count cached in Redis, no Celery) gets a repository of its own
under /dev/shm; the adoption steps, as docs/adopt.md gives them:

1. copy the harness: the folder `scripts/` and `noxfile.py`, unedited (`HARNESS_FILES`);
2. write `matrix.toml` with a `[suite]` table and the versions to prove (the service's own);
3. enable the plugin: `pytest_plugins = ["scripts.pytest_plugin"]` in the tests' conftest.py;
4. give pyproject.toml `test` and `lint` extras holding what the harness runs with (nox
   builds `.nox/shared` from them);
5. `nox -s matrix`.

nox builds its shared virtualenv from the service's pyproject.toml as an adopter's would (a
pip install of some 40 seconds): the test is slow, not faked. It runs SQLite, the machine's
PostgreSQL 15 and its Redis 7.0 to a report of passed cells, and checks afterwards that no
copied file was changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.providers_support import fast_folder

REPOSITORY = Path(__file__).resolve().parents[2]
SERVICE = Path(__file__).resolve().parent / "second_service"
HARNESS_FILES = ("scripts", "noxfile.py")
"""What an adopter copies from this repository (every tracked file under them)."""
NOX = shutil.which("nox") or "/root/nox-venv/bin/nox"
MACHINE_PROGRAMS = (Path("/usr/lib/postgresql/15/bin/postgres"), Path("/usr/bin/redis-server"))
RUN_SECONDS = 900
ADOPT_DOC = REPOSITORY / "docs" / "adopt.md"
ONE_REPOSITORY = pytest.mark.xdist_group("second_service")
"""The runs share one adopter repository (and its .nox/shared): on one xdist worker."""


def copied_harness_files() -> list[str]:
    """The tracked files an adopter copies, relative to the repository's root."""
    listed = subprocess.run(  # noqa: S603 - git, on this repository
        ["git", "ls-files", "--", *HARNESS_FILES],  # noqa: S607
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    return listed.stdout.split()


def digests(root: Path, names: list[str]) -> dict[str, str]:
    return {name: hashlib.sha256((root / name).read_bytes()).hexdigest() for name in names}


@pytest.fixture(scope="module")
def adopter_repository() -> Iterator[Path]:
    """A repository holding the notes service and the copied harness (steps 1 to 4: the
    service's folder brings its matrix.toml, conftest.py and pyproject.toml)."""
    if not Path(NOX).exists():
        pytest.skip("nox is not installed")
    missing = [str(program) for program in MACHINE_PROGRAMS if not program.exists()]
    if missing:
        pytest.skip(f"the machine lacks {', '.join(missing)}")
    with fast_folder("adopter-") as folder:
        root = folder / "notes"
        shutil.copytree(SERVICE, root, ignore=shutil.ignore_patterns("__pycache__"))
        for name in copied_harness_files():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPOSITORY / name, root / name)
        yield root


def nox_in(root: Path, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """nox in the adopter's repository, with a login's environment (nothing of this run's)."""
    env = {
        "HOME": os.environ.get("HOME", "/root"),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        **extra_env,
    }
    return subprocess.run(  # noqa: S603 - nox, on the repository just written
        [NOX, *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def cell_states(root: Path) -> dict[str, tuple[str, str | None]]:
    report = json.loads((root / "reports" / "compat.json").read_text(encoding="utf-8"))
    return {cell["cell"]: (cell["state"], cell["reason"]) for cell in report["cells"]}


def cell_state(root: Path, cell_id: str) -> tuple[str, str | None]:
    """What `nox -s "cell(<id>)"` left in the cell's result (that session writes no report)."""
    path = root / "results" / cell_id / "result.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    return result["state"], result["reason"]


def test_adopt_md_gives_the_number_of_files_copied_and_the_services_matrix_file() -> None:
    doc = ADOPT_DOC.read_text(encoding="utf-8")
    assert f"({len(copied_harness_files())} files today:" in doc
    matrix = (SERVICE / "matrix.toml").read_text(encoding="utf-8")
    body = matrix[matrix.index("[matrix]") :].strip()
    shown = textwrap.indent(body, "   ").replace("\n   \n", "\n\n")
    assert f"   ```toml\n{shown}\n   ```" in doc, "docs/adopt.md's matrix.toml is not the service's"


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 120)
@ONE_REPOSITORY
def test_nox_matrix_proves_the_notes_service_on_sqlite_postgres_15_and_redis_7(
    adopter_repository: Path,
) -> None:
    before = digests(REPOSITORY, copied_harness_files())
    done = nox_in(adopter_repository, "-s", "matrix")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-6000:]
    assert "verdict: 2 cells: 2 passed" in output, output[-6000:]
    assert cell_states(adopter_repository) == {
        "sqlite-stdlib": ("passed", None),
        "postgres-15": ("passed", None),
    }
    assert digests(adopter_repository, list(before)) == before, "a copied file was edited"


DEFAULT_DATABASE_ENV = "# database left at its default (DATABASE_URL)"


@pytest.mark.slow
@pytest.mark.timeout(RUN_SECONDS + 120)
@ONE_REPOSITORY
def test_the_notes_service_left_at_the_default_database_variable_is_an_error_cell(
    adopter_repository: Path,
) -> None:
    matrix = (adopter_repository / "matrix.toml").read_text(encoding="utf-8")
    ignoring = matrix.replace('database = "NOTES_DATABASE_URL"', DEFAULT_DATABASE_ENV)
    assert ignoring != matrix
    (adopter_repository / "matrix-default-env.toml").write_text(ignoring, encoding="utf-8")
    done = nox_in(
        adopter_repository, "-s", "cell(postgres-15)", COMPAT_MATRIX="matrix-default-env.toml"
    )
    output = done.stdout + done.stderr
    state, reason = cell_state(adopter_repository, "postgres-15")
    assert state == "error", output[-6000:]
    assert reason is not None
    assert "none used the cell's PostgreSQL 15 server: does the service read DATABASE_URL?" in (
        reason
    )
