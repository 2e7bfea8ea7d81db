"""Sessions: the tests, the compatibility matrix and its report.

    nox -s tests                 the project's own tests
    nox -s matrix                every cell of matrix.toml, then the report
    nox -s "cell(postgres-16)"   one cell;  nox -t postgres  every PostgreSQL cell
    nox -s fetch | images | report | lint | bench
    nox -s floor -- sqlalchemy   the oldest SQLAlchemy the suite passes on (-- kombu --ceiling)
    nox -s fuzz                  schemathesis, races and bursts against a live service
    nox -l --json                the sessions with their tags

`COMPAT_MATRIX=<file>` makes another matrix file the sessions' own: `cell(<id>)` is then one of
its cells, and `cell`, `matrix`, `fetch` and `report` hand it to the harness as `--matrix`
(the reusable workflow, .github/workflows/compat-matrix.yml, runs a caller's matrix file so).

Every session whose dependencies are the same shares one virtualenv (`.nox/shared`): the
project with its `test` and `lint` extras, reinstalled only when pyproject.toml changes, and
built again when another Python builds it: the one nox runs on, or `COMPAT_PYTHON`
(`COMPAT_PYTHON=/usr/bin/python3 nox -s tests`: the tests on that Python).

Why the sessions build no virtualenv of their own (`venv_backend="none"`), and the cells'
stacks and interpreters are no `python=` or parametrized sessions: that venv runs the harness
and the report only. Each cell's suite runs in an environment of its own, which the harness
builds with uv (what `venv_backend="uv"` uses) under `.nox/suite-envs/`, keyed by its
interpreter, pins and resolution and re-resolved once a day (scripts/environments). nox runs
its sessions one after another, so a session per stack and interpreter would run the matrix
one cell at a time, each rebuilding its environment; the harness's scheduler runs cells side
by side on the machine's cores and reuses their environments, and `cell(<id>)` (one session
per cell, tagged) still lets nox pick cells: `nox -t psycopg3`, `nox -t python`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parent
sys.path.insert(0, str(ROOT))

# first: an interpreter too old for the harness stops here with one line (scripts/__init__.py)
from scripts import unsupported_python_message  # noqa: E402 - the harness lives beside this file

# isort: split
import nox  # noqa: E402

from scripts.command_line import session_arguments  # noqa: E402
from scripts.matrix import MatrixError, load_matrix  # noqa: E402
from scripts.paths import bytecode_environment  # noqa: E402
from scripts.system_packages import plan_for_this_machine  # noqa: E402

MATRIX_VARIABLE = "COMPAT_MATRIX"  # another matrix file than matrix.toml, for every session
MATRIX_FILE = ROOT / (os.environ.get(MATRIX_VARIABLE) or "matrix.toml")
try:
    MATRIX = load_matrix(MATRIX_FILE)
except MatrixError as error:  # say what is wrong with the file, not where nox tripped on it
    raise SystemExit(f"error: {error}") from None
SHARED_ENV = ROOT / ".nox" / "shared"
PYTHON_VARIABLE = "COMPAT_PYTHON"  # the Python the shared virtualenv is built with

nox.needs_version = ">=2024.10.9"
nox.options.sessions = ["lint", "tests"]
nox.options.error_on_missing_interpreters = True


def shared_python(session: nox.Session) -> str:
    """The shared virtualenv's interpreter: built with `COMPAT_PYTHON` (default: the Python
    running nox), built again when that interpreter or pyproject.toml changed."""
    base, version = base_python(session)
    python = SHARED_ENV / "bin" / "python"
    stamp = SHARED_ENV / ".installed"
    built_with = SHARED_ENV / ".built-with"  # never a virtualenv made by another interpreter
    with shared_env_lock():  # a second session started meanwhile waits, then reuses it
        if not python.exists() or not built_with.exists() or built_with.read_text() != version:
            session.log(f"building {SHARED_ENV} with Python {version}")
            session.run(base, "-m", "venv", "--clear", str(SHARED_ENV), external=True)
            built_with.write_text(version)
        wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
        if not stamp.exists() or stamp.read_text() != wanted:
            argv = (str(python), "-m", "pip", "install", "-q", "-e", ".[test,lint]")
            session.run(*argv, external=True)
            stamp.write_text(wanted)
    return str(python)


@contextmanager
def shared_env_lock() -> Iterator[None]:
    """Hold `.nox/shared.lock` while the shared virtualenv is checked and built: sessions
    started side by side (CI jobs, two terminals) would otherwise clear each other's build."""
    SHARED_ENV.parent.mkdir(parents=True, exist_ok=True)
    with open(SHARED_ENV.with_name(SHARED_ENV.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield


def base_python(session: nox.Session) -> tuple[str, str]:
    """The interpreter `COMPAT_PYTHON` names (a path or a name on PATH), else nox's own, and
    `3.11.2 /usr/bin/python3`: its version and real path."""
    asked = os.environ.get(PYTHON_VARIABLE) or sys.executable
    found = shutil.which(asked)
    if found is None:
        session.error(f"{PYTHON_VARIABLE}={asked}: no such interpreter (a path or a name on PATH)")
    described = session.run(
        found,
        "-c",
        "import os, platform, sys;"
        "print(platform.python_version(), os.path.realpath(sys.executable))",
        silent=True,
        external=True,
    )
    version = str(described).strip()
    number, _, path = version.partition(" ")
    too_old = unsupported_python_message(tuple(int(part) for part in number.split(".")), path)
    if too_old is not None:
        session.error(f"{PYTHON_VARIABLE}={asked}: {too_old.removeprefix('error: ')}")
    return found, version


def matrix_option() -> list[str]:
    """`--matrix <file>` when `COMPAT_MATRIX` names one: the harness's default is matrix.toml."""
    return ["--matrix", str(MATRIX_FILE)] if os.environ.get(MATRIX_VARIABLE) else []


def harness(session: nox.Session, *args: str) -> None:
    # After Ctrl-C the harness stops its cells and servers and re-renders the report: give it
    # the time (nox would otherwise kill it half a second later)
    session.run(
        shared_python(session),
        "-m",
        "scripts",
        *args,
        external=True,
        env=bytecode_environment(),
        interrupt_timeout=1.0,
        terminate_timeout=120.0,
    )


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """Run the project's tests; arguments after `--` go to pytest.

    Installs redis-server and Chromium first when they are missing (as root, with apt-get).
    """
    install_test_programs(session)
    args = session.posargs or ["-n", "auto", "--dist", "loadgroup"]
    # compiled modules cached outside the checkout: each xdist worker would compile them again
    session.run(
        shared_python(session), "-m", "pytest", *args, external=True, env=bytecode_environment()
    )


def install_test_programs(session: nox.Session) -> None:
    plan = plan_for_this_machine()
    if plan is None:
        return
    if plan.error is not None:
        session.error(plan.error)
    session.log(plan.message())
    for command in plan.commands:
        session.run(*command, external=True, env={"DEBIAN_FRONTEND": "noninteractive"})


@nox.session(venv_backend="none")
def lint(session: nox.Session) -> None:
    """Check style and types: ruff and mypy (strict on app/ and scripts/)."""
    python = shared_python(session)
    session.run(python, "-m", "ruff", "check", ".", external=True)
    session.run(python, "-m", "ruff", "format", "--check", ".", external=True)
    session.run(python, "-m", "mypy", external=True)


@nox.session(venv_backend="none", default=False)
@nox.parametrize(
    "cell",
    [nox.param(cell.id, id=cell.id, tags=list(cell.tags)) for cell in MATRIX.cells()],
)
def cell(session: nox.Session, cell: str) -> None:
    """Run the suite against one cell of matrix.toml (harness options, then pytest's)."""
    harness(session, *matrix_option(), *session_arguments("cell", session.posargs, cell=cell))


@nox.session(venv_backend="none", default=False)
def matrix(session: nox.Session) -> None:
    """Run every cell of matrix.toml, then render the compatibility report."""
    harness(session, *matrix_option(), *session_arguments("matrix", session.posargs))


@nox.session(venv_backend="none", default=False)
def fetch(session: nox.Session) -> None:
    """Fetch the server programs and interpreters matrix.toml names that this machine lacks.

    `-- <cell id>` fetches every server (and the interpreter) of that cell only.
    """
    harness(session, *matrix_option(), "fetch", *session.posargs)


@nox.session(venv_backend="none", default=False)
def floor(session: nox.Session) -> None:
    """Find the oldest release of a library on which the suite still passes, by bisection.

    `-- sqlalchemy` searches [floor.sqlalchemy]'s range on its cell; `-- kombu --ceiling` the
    newest release that still passes on its ceiling cell (docs/floors.md).
    """
    harness(session, *matrix_option(), "floor", *session.posargs)


@nox.session(venv_backend="none", default=False)
def images(session: nox.Session) -> None:
    """Build the server images matrix-images.toml names from Debian's archive (no registry)."""
    harness(session, "images", *session.posargs)


@nox.session(venv_backend="none", default=False)
def report(session: nox.Session) -> None:
    """Render reports/ from the results/ already on disk, without running anything."""
    harness(session, *matrix_option(), "report", *session.posargs)


@nox.session(name="ci-dry-run", venv_backend="none", default=False)
def ci_dry_run(session: nox.Session) -> None:
    """Check the GitHub workflows here: actionlint, then the nightly's jobs replayed locally."""
    test = "tests/harness/test_workflows.py"
    session.run(shared_python(session), "-m", "pytest", test, "-v", *session.posargs, external=True)


@nox.session(venv_backend="none", default=False)
def fuzz(session: nox.Session) -> None:
    """Fuzz a live service with schemathesis, then probe it with races and a login burst.

    It serves matrix.toml's `[suite] app` (`app.main:app`) with uvicorn and runs schemathesis
    with `--checks all` and at least 150 examples per operation; `-- --probes-only` skips
    schemathesis.
    """
    python = shared_python(session)
    # schemathesis from the shared virtualenv, then the PATH nox was started with (servers
    # are started through setpriv, found there)
    env = {"PATH": f"{SHARED_ENV / 'bin'}:{session.env.get('PATH') or os.environ.get('PATH', '')}"}
    session.run(python, "-m", "tests.support.live_fuzz", *session.posargs, external=True, env=env)


@nox.session(venv_backend="none", default=False)
def bench(session: nox.Session) -> None:
    """Print every speed figure beside its target and write reports/bench.json.

    About 10 minutes; `-- --long` runs the whole matrix, `-- --only matrix` one section.
    """
    install_test_programs(session)  # the container figures need the local Docker engine
    harness(session, "bench", *session.posargs)
