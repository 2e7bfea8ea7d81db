"""The harness's pytest plugin serves a service that is not the bundled one.

A notes service, written into a temporary folder: its conftest.py holds only the line that
enables the plugin, its matrix file's `[suite]` table says that it reads its database from
NOTES_DB_URL (and has no cache, no broker, no migrations). Its four tests, run by two xdist
workers (two each), each write a note and see only their own: each worker has its own
database, copied from the run's template, and each test's session is rolled back (a worker's
second test would see its first's note otherwise). The databases are gone after.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from scripts.paths import REPO_ROOT
from scripts.pytest_plugin.databases import provisioner_for

MACHINE_POSTGRES = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
RUN_SECONDS = 300

NOTES_SUITE = {
    "pytest.ini": "[pytest]\n",
    "conftest.py": 'pytest_plugins = ["scripts.pytest_plugin"]\n',
    "matrix.toml": """
[suite]
test-paths = ["."]
prepare = false
env = { database = "NOTES_DB_URL", cache = "", broker = "" }
""",
    "test_notes.py": """
import os
from pathlib import Path

import pytest
from sqlalchemy import String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(100))


@pytest.fixture(scope="session")
def tables(engine):
    Base.metadata.create_all(engine)


@pytest.mark.parametrize("body", ["first", "second", "third", "fourth"])
def test_a_test_sees_only_its_own_note(tables, db_session, worker_servers, body):
    assert os.environ["NOTES_DB_URL"] == worker_servers.database_url
    db_session.add(Note(body=body))
    db_session.commit()  # a SAVEPOINT released: rolled back with the test
    assert db_session.scalars(select(Note.body)).all() == [body]
    (Path(os.environ["NOTES_SEEN"]) / body).write_text(worker_servers.name, encoding="utf-8")
""",
}


def write_notes_suite(folder: Path) -> Path:
    folder.mkdir()
    for name, content in NOTES_SUITE.items():
        (folder / name).write_text(content, encoding="utf-8")
    return folder


def pytest_of_notes(tmp_path: Path, database_url: str) -> subprocess.CompletedProcess[str]:
    """pytest, with two workers, on the notes suite written into `tmp_path`; each test writes
    the name of the worker's database to `tmp_path/seen/<its note>`."""
    suite = write_notes_suite(tmp_path / "notes")
    seen = tmp_path / "seen"
    seen.mkdir()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COMPAT_MATRIX", "CT_"))
    }
    env.update(NOTES_DB_URL=database_url, NOTES_SEEN=str(seen), PYTHONPATH=str(REPO_ROOT))
    return subprocess.run(  # noqa: S603 - this interpreter, the suite just written
        [sys.executable, "-m", "pytest", str(suite), "-n", "2", "-q", "-p", "no:cacheprovider"],
        cwd=suite,
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_SECONDS,
        check=False,
    )


def run_notes_suite(tmp_path: Path, database_url: str) -> tuple[dict[str, str], str]:
    """Run the notes suite: which worker's database each test used (checked to be two, one
    of them used by more than one test), and pytest's output."""
    done = pytest_of_notes(tmp_path, database_url)
    seen = tmp_path / "seen"
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "4 passed" in output
    used = {path.name: path.read_text(encoding="utf-8") for path in seen.iterdir()}
    assert sorted(used) == ["first", "fourth", "second", "third"]
    assert len(set(used.values())) == 2, f"not one database per worker: {used}"
    return used, output


def test_each_worker_has_its_own_sqlite_database_and_each_test_its_rollback(
    tmp_path: Path, scratch: Path
) -> None:
    run_notes_suite(tmp_path, "sqlite://")
    assert not list(scratch.glob("ct_*")), "a worker's database was left behind"


def test_each_worker_has_its_own_postgres_database_and_each_test_its_rollback(
    tmp_path: Path, scratch: Path
) -> None:
    probe = create_engine(MACHINE_POSTGRES)
    try:
        with probe.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        pytest.skip(f"no PostgreSQL at {MACHINE_POSTGRES}: {error}")
    finally:
        probe.dispose()
    used, _ = run_notes_suite(tmp_path, MACHINE_POSTGRES)
    left = set(provisioner_for(MACHINE_POSTGRES).list_databases())
    assert not left & set(used.values()), "a worker's database was left behind"


def test_a_url_the_plugin_cannot_use_is_one_error_naming_the_services_variable(
    tmp_path: Path,
) -> None:
    done = pytest_of_notes(tmp_path, "mongodb://127.0.0.1/notes")
    output = done.stdout + done.stderr
    assert done.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "NOTES_DB_URL 'mongodb://127.0.0.1/notes' uses 'mongodb'" in output
    assert "Traceback" not in output
