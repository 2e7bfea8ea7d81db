"""MariaDB: `mariadb-install-db` once into a template, `mariadbd` per start,
`SELECT VERSION()` over the MySQL protocol.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from scripts.backends.base import Program
from scripts.backends.mysql import Mysql
from scripts.providers.accounts import Account, give_to
from scripts.providers.base import ProvisioningError
from scripts.providers.setup_commands import run_setup

INSTALL_DB_NAMES = ("mariadb-install-db", "mysql_install_db")
# Small redo log: the template is copied for every start.
LOG_FILE_SIZE = "--innodb-log-file-size=8M"
# Throwaway data: durability off for speed.
SPEED_OPTIONS = (
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=0",
    "--sync-frm=0",
    "--skip-name-resolve",
    LOG_FILE_SIZE,
)


def find_install_db(program: Program) -> Path:
    """`mariadb-install-db` beside the server, in `../bin`, `../scripts`, or on PATH."""
    base = program.path.parent
    folders = [base, base.parent / "bin", base.parent / "scripts"]
    for folder in folders:
        for name in INSTALL_DB_NAMES:
            if (folder / name).is_file():
                return folder / name
    for name in INSTALL_DB_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    tried = ", ".join(str(f) for f in folders)
    raise ProvisioningError(f"no mariadb-install-db for {program.path}; looked in {tried}, PATH")


class Mariadb(Mysql):
    """MySQL's protocol, command line and URL; its own programs and data-directory setup."""

    name = "mariadb"
    display_name = "MariaDB"
    program_names = ("mariadbd", "mysqld")
    speed_options = SPEED_OPTIONS

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        target.mkdir(mode=0o750)
        give_to(account, target)
        argv = [str(find_install_db(program)), "--no-defaults", f"--datadir={target}"]
        if not program.path.is_relative_to("/usr"):
            argv.append(f"--basedir={program.path.parent.parent}")
        argv += [
            "--auth-root-authentication-method=normal",  # root without password, over TCP too
            "--skip-test-db",
            "--skip-name-resolve",
            LOG_FILE_SIZE,
        ]
        run_setup(argv, account, log_path)

    def base_options(self, program: Program) -> list[str]:
        return ["--no-defaults"]


BACKEND = Mariadb()
