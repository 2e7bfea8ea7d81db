"""The database-preparing step: its command, and a failure named by step and server message."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from app.schema import current_revision, head_revision
from scripts.prepare_step import (
    DEFAULT_PREPARE_COMMAND,
    PREPARE_COMMAND_ENV,
    MigrationsOutcome,
    PrepareCommandError,
    failed_step,
    prepare_command,
    read_outcome,
    run_prepare_step,
    server_message,
    write_outcome,
)
from tests.harness.broken_migrations import BROKEN_REVISION, broken_migrations
from tests.support.migrations_in_process import upgrade_in_process

SERVER_LINE = (
    "sqlalchemy.exc.OperationalError: (pymysql.err.OperationalError) "
    "(1054, \"Unknown column 'no_such_column' in 'field list'\")"
)
ALEMBIC_FAILURE = """\
INFO  [alembic.runtime.migration] Running upgrade  -> 0001_a, first
INFO  [alembic.runtime.migration] Running upgrade 0001_a -> 0002_b, second
Traceback (most recent call last):
  File "x.py", line 1, in <module>
pymysql.err.OperationalError: (1054, "Unknown column 'no_such_column' in 'field list'")

The above exception was the direct cause of the following exception:

SERVER_LINE
[SQL: UPDATE posts SET updated_at = no_such_column]
(Background on this error at: https://sqlalche.me/e/20/e3q8)
""".replace("SERVER_LINE", SERVER_LINE)


def test_a_failure_names_the_revision_being_applied_and_the_servers_message() -> None:
    assert failed_step(ALEMBIC_FAILURE) == "0002_b"
    assert server_message(ALEMBIC_FAILURE) == SERVER_LINE


def test_output_without_an_exception_line_gives_its_last_line_and_no_step() -> None:
    assert failed_step("oops\ncannot connect\n") is None
    assert server_message("oops\ncannot connect\n") == "cannot connect"


def test_the_default_command_is_alembic_upgrade_head_and_the_setting_replaces_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PREPARE_COMMAND_ENV, raising=False)
    assert Path(prepare_command()[0]).name == "alembic"
    assert prepare_command()[1:] == DEFAULT_PREPARE_COMMAND.split()[1:]
    monkeypatch.setenv(PREPARE_COMMAND_ENV, "./manage.py migrate --noinput")
    assert prepare_command() == ["./manage.py", "migrate", "--noinput"]


@pytest.mark.parametrize("written", ["   ", "alembic 'upgrade"])
def test_a_setting_that_cannot_be_run_says_what_is_wrong(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv(PREPARE_COMMAND_ENV, written)
    with pytest.raises(PrepareCommandError, match=PREPARE_COMMAND_ENV):
        prepare_command()


def test_by_default_the_step_is_the_suites_own_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PREPARE_COMMAND_ENV, raising=False)
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    outcome = run_prepare_step({"DATABASE_URL": database}, partial(upgrade_in_process, database))
    assert (outcome.state, outcome.step, outcome.message) == ("passed", None, None)
    assert outcome.command == DEFAULT_PREPARE_COMMAND
    engine = create_engine(database)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_in_process_a_broken_migration_fails_at_its_step_with_sqlites_message(
    tmp_path: Path,
) -> None:
    broken_migrations(tmp_path)
    outcome = upgrade_in_process(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", migrations=tmp_path / "migrations"
    )
    assert (outcome.state, outcome.step) == ("failed", BROKEN_REVISION)
    assert outcome.message == (
        'sqlalchemy.exc.OperationalError: (sqlite3.OperationalError) near "ALTER": syntax error'
    )


def test_a_suite_with_no_way_of_its_own_runs_the_default_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PREPARE_COMMAND_ENV, raising=False)
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    outcome = run_prepare_step({"DATABASE_URL": database})
    assert (outcome.state, outcome.command) == ("passed", DEFAULT_PREPARE_COMMAND)
    engine = create_engine(database)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_a_broken_migration_run_as_the_command_fails_at_its_step_with_sqlites_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in broken_migrations(tmp_path).items():
        monkeypatch.setenv(name, value)
    database = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    outcome = run_prepare_step({"DATABASE_URL": database}, partial(upgrade_in_process, database))
    assert outcome.state == "failed"
    assert outcome.step == BROKEN_REVISION
    assert outcome.message is not None
    assert 'near "ALTER": syntax error' in outcome.message
    assert outcome.line().startswith(f"failed at {BROKEN_REVISION}: ")


def test_the_outcome_is_written_where_asked_and_read_back(tmp_path: Path) -> None:
    outcome = MigrationsOutcome("failed", "alembic upgrade head", head_revision(), "boom", 1.5)
    write_outcome(outcome, tmp_path / "migrations.json")
    assert read_outcome(tmp_path / "migrations.json") == outcome
    assert read_outcome(tmp_path / "absent.json") is None
