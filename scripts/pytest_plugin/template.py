"""The cell's template database: built once by the database-preparing step, copied per worker.

The xdist controller (or the only process, without xdist) creates `<run id>_template`, runs
the preparing step on it (the `[suite]` table's `prepare` command; left out, the service's own
in-process step when its conftest gives one, else `alembic upgrade head`: see
scripts/prepare_step.py), records what the step did, and exports the template's name; each
worker's database is a copy of it (scripts/pytest_plugin/databases.py). The janitor reaps a
killed run's template like its workers' databases: the name is the run's.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from scripts.prepare_step import (
    PREPARE_COMMAND_ENV,
    MigrationsOutcome,
    run_prepare_step,
    write_outcome,
)
from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.naming import worker_resource_name
from scripts.suite import Suite

TEMPLATE_ENV = "CT_TEMPLATE_DATABASE"
TEMPLATE_SUFFIX = "template"

InProcessStep = Callable[[str, str | None], MigrationsOutcome]
"""(database URL, SQLite module or None) -> what preparing that database did."""


class SchemaPreparationError(RuntimeError):
    """The database-preparing step failed on the cell's server; the message says where."""

    def __init__(self, outcome: MigrationsOutcome) -> None:
        super().__init__(f"the database-preparing step `{outcome.command}` {outcome.line()}")
        self.outcome = outcome


@dataclass(frozen=True)
class Preparation:
    """How this suite prepares an empty database: a command, its own step, or nothing."""

    suite: Suite
    in_process: InProcessStep | None = None
    """The service's own step (its conftest's `pytest_compat_prepare_in_process`)."""
    cwd: Path | None = None
    """Where a command runs (pytest's root folder)."""

    def command(self) -> str | None:
        """The command to run: the cell's setting, else the `[suite]` table's; "" for none."""
        written = os.environ.get(PREPARE_COMMAND_ENV)
        return self.suite.prepare if written is None else written

    def run(self, database_url: str) -> MigrationsOutcome | None:
        """Prepare the database at `database_url`; None when the suite prepares nothing."""
        command = self.command()
        if command is not None and not command.strip():
            return None  # `prepare = false`: the service's tests make their own tables
        names = self.suite.env
        sqlite_module = os.environ.get(names.sqlite_module) if names.sqlite_module else None
        command_env = {names.database: database_url}
        if sqlite_module:
            command_env[names.sqlite_module] = sqlite_module
        in_process = self.in_process
        step = None if in_process is None else (lambda: in_process(database_url, sqlite_module))
        return run_prepare_step(command_env, step, cwd=self.cwd, command=command)


def template_name(run_id: str) -> str:
    """`ct_<epoch>_<uid6>_template`: the run's, so the janitor knows whose it is."""
    return worker_resource_name(run_id, TEMPLATE_SUFFIX)


@contextmanager
def cell_template(server_url: str, run_id: str, preparation: Preparation) -> Iterator[str]:
    """Build the template on the server at `server_url`, yield its name, drop it afterwards.

    Raises `SchemaPreparationError` when the preparing step fails (after recording it)."""
    provisioner = provisioner_for(server_url, preparation.suite.env.database)
    name = template_name(run_id)
    url = provisioner.create(name)
    try:
        outcome = preparation.run(url)
        if outcome is not None:
            write_outcome(outcome)
            if outcome.state == "failed":
                raise SchemaPreparationError(outcome)
        yield name
    finally:
        provisioner.drop(name)


def exported_template() -> str:
    """The template the controller exported; an error saying what is missing otherwise."""
    name = os.environ.get(TEMPLATE_ENV)
    if not name:
        raise RuntimeError(
            f"{TEMPLATE_ENV} is not set; the suite's plugin (scripts.pytest_plugin) builds the "
            "template database: enable it in the suite's conftest.py"
        )
    return name
