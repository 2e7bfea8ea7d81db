"""One start of PostgreSQL the way pytest-postgresql's `postgresql_proc` fixture does it, timed.

    python -m scripts.bench.pytest_postgresql_start --pg-ctl PATH --port N --folder DIR
        [--uid UID --gid GID]

Run by `scripts.bench.provisioning` as a child process of its own: PostgreSQL refuses to run
as root, and the executor runs `pg_ctl` as whoever runs it. The child imports everything as
whoever started it (the interpreter may live in a folder the servers' account cannot enter),
then becomes `--uid`/`--gid` and times, with pytest-postgresql's own `PostgreSQLExecutor` and
the fixture's defaults: `pg_ctl initdb` into a fresh data directory, `pg_ctl start -w`,
its port open, then a first `SELECT 1` accepted. The interpreter's own start and the imports
are not in the figure. It prints one JSON line, `{"seconds": ..., "version": ...}`, and stops
the server (`pg_ctl stop -m f`) before it exits, on SIGTERM too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import psycopg2
from pytest_postgresql.executors import PostgreSQLExecutor

from scripts.providers.ports import LOOPBACK
from scripts.providers.process import die_with_parent

# what pytest-postgresql's plugin defaults to (plugin.py: postgresql_user, _startparams, ...)
FIXTURE_USER = "postgres"
FIXTURE_STARTPARAMS = "-w"
FIXTURE_DBNAME = "tests"
CONNECT_TIMEOUT_S = 5


def executor(pg_ctl: Path, port: int, folder: Path) -> PostgreSQLExecutor:
    """The executor `postgresql_proc` builds, its files in `folder` (the fixture's tmpdir)."""
    return PostgreSQLExecutor(
        executable=str(pg_ctl),
        host=LOOPBACK,
        port=port,
        datadir=str(folder / f"data-{port}"),
        unixsocketdir=str(folder),
        logfile=str(folder / f"postgresql.{port}.log"),
        startparams=FIXTURE_STARTPARAMS,
        dbname=FIXTURE_DBNAME,
        user=FIXTURE_USER,
    )


def first_query(port: int) -> str:
    """`SELECT 1` on the new server (trust login, as the fixture's cluster has); its version."""
    connection = psycopg2.connect(
        host=LOOPBACK,
        port=port,
        user=FIXTURE_USER,
        dbname="postgres",
        connect_timeout=CONNECT_TIMEOUT_S,
    )
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.execute("SHOW server_version")
            row = cursor.fetchone()
    finally:
        connection.close()
    return str(row[0]) if row else "?"


def become(uid: int, gid: int) -> None:
    """Drop root for `uid`/`gid`; the parent-death signal (cleared by the switch) set again."""
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    die_with_parent(signal.SIGKILL)


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # unwinds through the `finally` that stops the server


@dataclass(frozen=True)
class ChildArguments:
    pg_ctl: Path
    port: int
    folder: Path
    uid: int | None
    gid: int | None


def child_arguments(argv: Sequence[str]) -> ChildArguments:
    """`--pg-ctl PATH --port N --folder DIR [--uid UID --gid GID]`, as
    `scripts.bench.provisioning.pytest_postgresql_command` writes them (no user types them:
    this is a child process of the benchmark, not a command of the command line)."""
    values = dict(zip(argv[::2], argv[1::2], strict=True))
    unknown = set(values) - {"--pg-ctl", "--port", "--folder", "--uid", "--gid"}
    if unknown or len(argv) % 2:
        raise SystemExit(f"unexpected arguments: {' '.join(argv)}")
    uid, gid = values.get("--uid"), values.get("--gid")
    return ChildArguments(
        Path(values["--pg-ctl"]),
        int(values["--port"]),
        Path(values["--folder"]),
        None if uid is None else int(uid),
        None if gid is None else int(gid),
    )


def main(argv: Sequence[str]) -> int:
    args = child_arguments(argv)
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    if args.uid is not None:
        become(args.uid, args.gid if args.gid is not None else args.uid)
    os.chdir(args.folder)
    server = executor(args.pg_ctl, args.port, args.folder)
    try:
        started = time.perf_counter()
        server.start()
        server.wait_for_postgres()  # what the fixture calls next
        version = first_query(args.port)
        elapsed = time.perf_counter() - started
    finally:
        if server.running():
            server.stop()
    print(json.dumps({"seconds": elapsed, "version": version}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
