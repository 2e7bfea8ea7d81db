"""The bundled suite's database-preparing step in its own process: what `alembic upgrade
head` does, with no interpreter to start (seconds less per cell on a loaded machine). The
suite's template (scripts/pytest_plugin/template.py) hands it to `scripts.prepare_step`, which takes
it when the matrix file's `[suite]` table names no `prepare` command."""

from __future__ import annotations

import time
from pathlib import Path

from app.database import build_engine
from app.schema import MIGRATIONS, current_revision, revision_after, upgrade_to_head
from scripts.prepare_step import DEFAULT_PREPARE_COMMAND, MigrationsOutcome, error_line


def upgrade_in_process(
    database_url: str, sqlite_module: str | None = None, migrations: Path | None = None
) -> MigrationsOutcome:
    """`alembic upgrade head` in this process (the bundled service's migrations, or
    `migrations`); a failure names the revision after the last one recorded, and the error's
    first line."""
    folder = migrations or MIGRATIONS
    started = time.monotonic()
    engine = build_engine(database_url, sqlite_module)
    try:
        try:
            upgrade_to_head(engine, folder)
        except Exception as error:  # whatever the step raised is its outcome
            try:
                step = revision_after(current_revision(engine), folder)
            except Exception:  # the server went away too: the message says why
                step = None
            took = round(time.monotonic() - started, 3)
            return MigrationsOutcome(
                "failed", DEFAULT_PREPARE_COMMAND, step, error_line(error), took
            )
    finally:
        engine.dispose()
    took = round(time.monotonic() - started, 3)
    return MigrationsOutcome("passed", DEFAULT_PREPARE_COMMAND, seconds=took)
