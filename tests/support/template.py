"""The cell's template database: built once by the database-preparing step, copied per worker.

The xdist controller (or the only process, without xdist) creates `<run id>_template`, runs
the preparing step on it (`alembic upgrade head` by default, see scripts/prepare_step.py),
records what the step did, and exports the template's name; each worker's database is a copy
of it (tests/support/databases.py). The janitor reaps a killed run's template like its
workers' databases: the name is the run's.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from scripts.prepare_step import MigrationsOutcome, run_prepare_step, write_outcome
from tests.support.databases import provisioner_for
from tests.support.migrations_in_process import upgrade_in_process
from tests.support.naming import worker_resource_name

TEMPLATE_ENV = "CT_TEMPLATE_DATABASE"
TEMPLATE_SUFFIX = "template"


class SchemaPreparationError(RuntimeError):
    """The database-preparing step failed on the cell's server; the message says where."""

    def __init__(self, outcome: MigrationsOutcome) -> None:
        super().__init__(f"the database-preparing step `{outcome.command}` {outcome.line()}")
        self.outcome = outcome


def template_name(run_id: str) -> str:
    """`ct_<epoch>_<uid6>_template`: the run's, so the janitor knows whose it is."""
    return worker_resource_name(run_id, TEMPLATE_SUFFIX)


@contextmanager
def cell_template(server_url: str, run_id: str) -> Iterator[str]:
    """Build the template on the server at `server_url`, yield its name, drop it afterwards.

    Raises `SchemaPreparationError` when the preparing step fails (after recording it)."""
    provisioner = provisioner_for(server_url)
    name = template_name(run_id)
    url = provisioner.create(name)
    try:
        sqlite_module = os.environ.get("SQLITE_MODULE")
        command_env = {"DATABASE_URL": url}
        if sqlite_module:
            command_env["SQLITE_MODULE"] = sqlite_module
        outcome = run_prepare_step(command_env, partial(upgrade_in_process, url, sqlite_module))
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
            f"{TEMPLATE_ENV} is not set; the root conftest builds the template database"
        )
    return name
