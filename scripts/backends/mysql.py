"""MySQL: `mysqld --initialize-insecure` once into a template, `mysqld` per start,
`SELECT VERSION()` over its protocol (pymysql).

MariaDB speaks the same protocol and reuses `mysql_protocol_version` and `mysql_image`.
"""

from __future__ import annotations

import re
import signal
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from scripts.backends.base import ImageContract, NotAnsweringError, ServerBackend
from scripts.backends.image_recipe import SYSTEM_PATH, ImageRecipe, server_packages
from scripts.providers.accounts import Account, give_to
from scripts.providers.passwords import write_secret_file
from scripts.providers.ports import LOOPBACK
from scripts.providers.setup_commands import run_setup
from scripts.vocabulary import Program

if TYPE_CHECKING:
    from scripts.backends.janitors import SuiteNames, WorkerDatabases

# The smallest redo log (the template is copied for every start; the default is 100 MiB).
REDO_LOG = "--innodb-redo-log-capacity=8M"
# `--initialize-insecure` creates root@localhost only; the suite connects over TCP to
# 127.0.0.1, which `--skip-name-resolve` does not call localhost.
ROOT_OVER_TCP = (
    "CREATE USER 'root'@'127.0.0.1' IDENTIFIED BY '';\n"
    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
)
# Throwaway data: durability off for speed; no X protocol listener, no file-import folder.
SPEED_OPTIONS = (
    "--skip-log-bin",
    "--innodb-flush-log-at-trx-commit=0",
    "--innodb-doublewrite=OFF",
    "--skip-name-resolve",
    "--mysqlx=OFF",
    "--secure-file-priv=",
    REDO_LOG,
)
# The configuration file of our own images.
IMAGE_CONFIG = """[mysqld]
user = mysql
datadir = /var/lib/mysql
socket = /run/mysqld/mysqld.sock
pid-file = /run/mysqld/mysqld.pid
secure-file-priv = /var/lib/mysql-files
skip-name-resolve
host-cache-size = 0

[client]
socket = /run/mysqld/mysqld.sock
"""


def mysql_protocol_version(url: str, timeout_s: float) -> str:
    """`SELECT VERSION()` on a MySQL or MariaDB server."""
    return str(mysql_protocol_value(url, timeout_s, "SELECT VERSION()"))


def mysql_protocol_value(url: str, timeout_s: float, query: str) -> object:
    """The last column of the first row `query` gives on a MySQL or MariaDB server."""
    import pymysql
    from sqlalchemy.engine import make_url

    parts = make_url(url)
    try:
        connection = pymysql.connect(
            host=parts.host or "127.0.0.1",
            port=parts.port or 3306,
            user=parts.username or "root",
            password=parts.password or "",
            database=parts.database,
            connect_timeout=timeout_s,
            # a listener that accepts and never speaks must not hold the probe (or the start
            # limit, or Ctrl-C) forever: reads and writes are bounded too
            read_timeout=timeout_s,
            write_timeout=timeout_s,
        )
    except pymysql.err.OperationalError as exc:
        raise NotAnsweringError(str(exc)) from exc
    try:
        with connection.cursor() as cursor:
            cursor.execute(query)
            row = cursor.fetchone()
    except pymysql.err.OperationalError as exc:
        raise NotAnsweringError(str(exc)) from exc
    finally:
        connection.close()
    assert row is not None
    return row[-1]


INIT_FILE = "init.sql"


def init_file_option(run_dir: Path) -> str:
    """The server runs this file's statements before it accepts any connection."""
    return f"--init-file={run_dir / INIT_FILE}"


def write_init_file(run_dir: Path, statements: list[str], account: Account | None) -> None:
    """This start's account statements, in a file only the server can read (see
    `init_file_option`); the binaries source removes it once the server answers."""
    write_secret_file(run_dir / INIT_FILE, "".join(f"{line};\n" for line in statements), account)


def mysql_image(password: str) -> ImageContract:
    """MySqlContainer runs MariaDB images too: both entrypoints read `MYSQL_ROOT_PASSWORD` /
    `MYSQL_DATABASE` and log "ready for connections" twice."""
    return ImageContract(
        "testcontainers.community.mysql",
        "MySqlContainer",
        {"dialect": "pymysql", "username": "root", "password": password},
        data_tmpfs=("/var/lib/mysql", "rw"),
    )


class Mysql(ServerBackend):
    name = "mysql"
    display_name = "MySQL"
    role = "database"
    family = "mysql"
    report_order = 20
    driver_distribution = "pymysql"
    url_schemes = ("mysql", "mysql+pymysql", "mariadb", "mariadb+pymysql")
    driver_schemes: ClassVar[Mapping[str, str]] = {
        "mysql": "mysql+pymysql",
        "mariadb": "mysql+pymysql",
    }
    program_names: ClassVar[tuple[str, ...]] = ("mysqld",)
    debian_folders = ("/usr/sbin", "/usr/bin")
    program_version_pattern = re.compile(r"\bVer\s+(\d+(?:\.\d+)+)")
    suite_scheme = "mysql+pymysql"
    suite_path = "/mysql"
    needs_template = True
    start_secrets = (INIT_FILE,)
    speed_options: ClassVar[tuple[str, ...]] = SPEED_OPTIONS
    image_server: ClassVar[str] = "mysqld"
    image_client: ClassVar[str] = "mysql"
    image_helpers: ClassVar[tuple[str, ...]] = ()
    """More packages the entrypoint's programs need."""
    image_links: ClassVar[dict[str, str]] = {}
    # a throwaway server's data directory is deleted with it: a clean shutdown (InnoDB's
    # flush, 1.4 s for MySQL 9.7 here) would keep nothing
    stop_signal: ClassVar[signal.Signals] = signal.SIGKILL

    def server_version(self, url: str, timeout_s: float) -> str:
        return mysql_protocol_version(url, timeout_s)

    def activity(self, url: str, timeout_s: float) -> int:
        """Connection attempts since the server started (counted as they are made)."""
        return int(
            str(mysql_protocol_value(url, timeout_s, "SHOW GLOBAL STATUS LIKE 'Connections'"))
        )

    def base_options(self, program: Program) -> list[str]:
        """Where its files are: the server's own tree, never /etc/mysql or the system's."""
        base = program.path.parent.parent
        return [
            "--no-defaults",
            f"--basedir={base}",
            f"--lc-messages-dir={base / 'share' / 'mysql'}",
        ]

    def build_template(
        self, program: Program, target: Path, account: Account | None, log_path: Path
    ) -> None:
        # `--initialize` wants an empty (or absent) data directory it can create
        target.parent.mkdir(parents=True, exist_ok=True)
        target.mkdir(mode=0o750)
        give_to(account, target)
        init_file = target.with_name(target.name + ".init.sql")
        init_file.write_text(ROOT_OVER_TCP)
        init_file.chmod(0o644)
        argv = [str(program.path), *self.base_options(program), f"--datadir={target}"]
        argv += ["--initialize-insecure", f"--init-file={init_file}"]
        try:
            run_setup(
                [*argv, REDO_LOG, "--innodb-doublewrite=OFF", "--mysqlx=OFF"], account, log_path
            )
        finally:
            init_file.unlink(missing_ok=True)

    def command(self, program: Program, data_dir: Path, run_dir: Path, port: int) -> list[str]:
        return [
            str(program.path),
            *self.base_options(program),
            f"--datadir={data_dir}",
            f"--port={port}",
            f"--bind-address={LOOPBACK}",
            f"--socket={run_dir / 'mysqld.sock'}",
            f"--pid-file={run_dir / 'mysqld.pid'}",
            f"--tmpdir={run_dir}",
            init_file_option(run_dir),
            *self.speed_options,
        ]

    def prepare_run(self, run_dir: Path, password: str, account: Account | None) -> None:
        statements = [
            f"CREATE USER IF NOT EXISTS 'root'@'{host}' IDENTIFIED BY '{password}'"
            for host in ("127.0.0.1", "::1")
        ]
        statements += [
            f"ALTER USER 'root'@'{host}' IDENTIFIED BY '{password}'"
            for host in ("localhost", "127.0.0.1", "::1")
        ]
        statements += [
            f"GRANT ALL ON *.* TO 'root'@'{host}' WITH GRANT OPTION"
            for host in ("127.0.0.1", "::1")
        ]
        write_init_file(run_dir, statements, account)

    def worker_databases(self, server_url: str, names: SuiteNames) -> WorkerDatabases:
        """A database per worker; a copy is the template's tables re-created, rows copied."""
        from sqlalchemy.engine import make_url

        from scripts.backends.janitors.sql_databases import MysqlDatabases

        return MysqlDatabases(make_url(server_url), names)

    def url(self, port: int, password: str) -> str:
        return f"mysql+pymysql://root:{password}@{LOOPBACK}:{port}/mysql"

    def image_contract(self, password: str) -> ImageContract:
        return mysql_image(password)

    def image_recipe(self, version: str, suite: str, packages: tuple[str, ...]) -> ImageRecipe:
        # the entrypoint's client (`mysql`, `mariadb`) is in the server's client package
        clients = [name.replace("-server-", "-client-") for name in packages if "-server-" in name]
        return ImageRecipe(
            backend=self.name,
            version=version,
            suite=suite,
            packages=server_packages(packages, *clients),
            helpers=self.image_helpers,
            links=dict(self.image_links),
            entrypoint="mysql.sh",
            port=3306,
            command=(self.image_server,),
            account="mysql",
            owned_dirs=("/var/lib/mysql", "/run/mysqld", "/var/lib/mysql-files"),
            env={
                "PATH": SYSTEM_PATH,
                "COMPAT_SERVER": self.image_server,
                "COMPAT_CLIENT": self.image_client,
                "LANG": "C.UTF-8",
            },
            files={"/etc/mysql/my.cnf": IMAGE_CONFIG},
        )


BACKEND = Mysql()
