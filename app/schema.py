"""The schema comes from the migrations (app/migrations/): run them, or ask where a database is.

`alembic upgrade head` from the repository's root does the same as `upgrade_to_head`; these
functions run Alembic in this process, on an engine the caller already has.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"


def alembic_config(migrations: Path = MIGRATIONS) -> Config:
    """Alembic's configuration for the migrations in `migrations` (no ini file, no logging)."""
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["configure_logger"] = False
    return config


def head_revision(migrations: Path = MIGRATIONS) -> str:
    """The newest revision; raises when the migrations have more than one head."""
    head = ScriptDirectory.from_config(alembic_config(migrations)).get_current_head()
    if head is None:
        raise LookupError(f"{migrations} holds no migrations")
    return head


def upgrade_to_head(engine: Engine, migrations: Path = MIGRATIONS) -> None:
    """Bring the database of `engine` to the newest revision (nothing to do: a quick check)."""
    config = alembic_config(migrations)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()


def revision_after(current: str | None, migrations: Path = MIGRATIONS) -> str | None:
    """The revision an upgrade applies after `current` (None: the first); None past the head."""
    script = ScriptDirectory.from_config(alembic_config(migrations))
    for revision in script.walk_revisions():
        if revision.down_revision == current:
            return revision.revision
    return None


def current_revision(engine: Engine) -> str | None:
    """The revision the database of `engine` is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
