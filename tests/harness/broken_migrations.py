"""A temporary copy of app/migrations/ with one more revision that only PostgreSQL accepts."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

from app.schema import MIGRATIONS, head_revision
from scripts.paths import REPO_ROOT
from scripts.prepare_step import PREPARE_COMMAND_ENV

BROKEN_REVISION = "0099_postgres_only_alter"
# PostgreSQL's spelling; SQLite and MySQL/MariaDB refuse it (a syntax error on each)
POSTGRES_ONLY_DDL = "ALTER TABLE posts ALTER COLUMN title TYPE VARCHAR(320)"


def broken_migrations(folder: Path) -> dict[str, str]:
    """Write the copy and its alembic.ini under `folder`; the environment that makes it the
    suite's database-preparing step."""
    copy = folder / "migrations"
    shutil.copytree(MIGRATIONS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "versions" / f"{BROKEN_REVISION}.py").write_text(
        f'''"""A change written for PostgreSQL only."""

from alembic import op

revision = "{BROKEN_REVISION}"
down_revision = "{head_revision()}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("{POSTGRES_ONLY_DDL}")


def downgrade() -> None:
    op.execute("ALTER TABLE posts ALTER COLUMN title TYPE VARCHAR(300)")
''',
        encoding="utf-8",
    )
    ini = (REPO_ROOT / "alembic.ini").read_text(encoding="utf-8")
    config = folder / "alembic.ini"
    config.write_text(ini.replace("%(here)s/app/migrations", str(copy)), encoding="utf-8")
    return {PREPARE_COMMAND_ENV: shlex.join(["alembic", "-c", str(config), "upgrade", "head"])}
