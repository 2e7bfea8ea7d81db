"""MariaDB: `mariadb-install-db` once into a template, `mariadbd` per start,
`SELECT VERSION()` over the MySQL protocol.
"""

from __future__ import annotations

import hashlib
import shutil
import socket
from pathlib import Path

from scripts.backends.mysql import Mysql, write_init_file
from scripts.providers.accounts import Account, give_to
from scripts.providers.base import ProvisioningError
from scripts.providers.setup_commands import run_setup
from scripts.vocabulary import Program

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


def mysql_native_hash(password: str) -> str:
    """MySQL's and MariaDB's `mysql_native_password` hash: `*` + SHA1(SHA1(password))."""
    twice = hashlib.sha1(hashlib.sha1(password.encode()).digest()).hexdigest()  # noqa: S324 - the protocol's own hash
    return "*" + twice.upper()


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
    report_order = 30
    url_schemes = ("mariadb", "mariadb+pymysql", "mysql", "mysql+pymysql")
    program_names = ("mariadbd", "mysqld")
    speed_options = SPEED_OPTIONS
    image_server = "mariadbd"
    image_client = "mariadb"
    # mariadb-install-db is a shell script that calls sed and awk
    image_helpers = ("sed", "mawk")
    image_links = {"/usr/bin/awk": "mawk"}  # noqa: RUF012 - read only, as the base class's

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        target.mkdir(mode=0o750)
        give_to(account, target)
        argv = [str(find_install_db(program)), "--no-defaults", f"--datadir={target}"]
        if not program.path.is_relative_to("/usr"):
            argv.append(f"--basedir={program.path.parent.parent}")
        argv += [
            # root by password, over TCP too; each start sets its own (`prepare_run`)
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
            LOG_FILE_SIZE,
        ]
        run_setup(argv, account, log_path)

    def base_options(self, program: Program) -> list[str]:
        return ["--no-defaults"]

    def prepare_run(self, run_dir: Path, password: str, account: Account | None) -> None:
        """No anonymous accounts; every root account gets this start's password, as its hash
        (so that not even an error in the server's log can show it)."""
        hashed = mysql_native_hash(password)
        hosts = ("localhost", "127.0.0.1", "::1", socket.gethostname())
        statements = ["DELETE FROM mysql.global_priv WHERE User = ''", "FLUSH PRIVILEGES"]
        statements += [
            f"ALTER USER IF EXISTS 'root'@'{host}' IDENTIFIED BY PASSWORD '{hashed}'"
            for host in hosts
        ]
        write_init_file(run_dir, statements, account)


BACKEND = Mariadb()
