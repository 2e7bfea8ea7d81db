"""Did the suite use the cell's database? A cell whose suite never touched it tested nothing.

A service that reads its database from another variable than the one the `[suite]` table
names (say `SQLALCHEMY_DATABASE_URI` while the table names another) runs its tests
against whatever it falls back to (a SQLite file of its own), and would give a green cell
that proved nothing about the cell's database. So the cell asks whether the service used it,
in one of two ways, and a suite that did not is an `error` that says which `[suite] env` name
to fix (see `CHECKED_ROLES` for why only the database):

1. The suite enables the harness's pytest plugin (scripts/pytest_plugin/), which gives each
   worker a database of its own and names it in the service's variable: then each worker
   writes, before dropping its database, how many connections to the cell's database server
   (that database, or one the service's tests make there; for SQLite, a file beside it) were
   made by anything but the plugin (scripts/pytest_plugin/database_use.py) to the file the
   cell names in `DATABASE_USE_FILE_ENV`. The cell's database was used when any worker
   counted one. The plugin's own connections do not count: its `engine` fixture,
   `db_session` on it and its schema step reach the worker's database whatever variable the
   service reads, so the server's own counters below cannot tell a service that ignored the
   URL. This holds for every database family alike, SQLite included, since it is counted in
   the suite's process. It cannot see a connection made in another process (a server the tests
   start as a subprocess) or without SQLAlchemy: such a suite's cell is an `error`, and the
   fix is to build the service's engine in the test process, or to not use the plugin.
2. Else (a suite without the plugin, or one that ran no worker's database) the server's own
   activity counter (`ServerBackend.activity`: sessions or connections) is read before the
   suite and after it; a counter that did not move beyond the harness's own readings means
   no test used that server. Anything that connects counts, and on a shared server (a `url`
   source) another client's activity hides a suite that never came: this errs towards
   passing. A SQLite cell has no server to ask: it is checked by the plugin's count only.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from scripts.backends import backend as lookup_backend
from scripts.backends.base import Backend, LibraryBackend, ServerBackend
from scripts.suite import SuiteEnv
from scripts.vocabulary import Role

PROBE_TIMEOUT_S = 5.0
SETTLE_S = 3.0
"""How long the counter may take to show a session that just ended (PostgreSQL's statistics
reach its view when a session ends, a little after its client has gone)."""
POLL_S = 0.2

DATABASE_USE_FILE_ENV = "COMPAT_DATABASE_USE_FILE"
"""Where the plugin's workers write the service's connections to their databases."""
DATABASE_USE_FILE = "database-use.jsonl"
"""Its name in the cell's folder: one JSON object a line, one line per worker database:
`{"database": "ct_..._gw0", "service_connections": 3}`."""


def write_database_use(path: Path, database: str, service_connections: int) -> None:
    """Add one worker database's count (each worker appends its own line)."""
    line = json.dumps({"database": database, "service_connections": service_connections})
    with path.open("a", encoding="utf-8") as file:
        file.write(line + "\n")


def read_database_use(path: Path) -> dict[str, int] | None:
    """Worker database -> the service's connections to it; None when no worker wrote one
    (no file: the suite did not use the plugin's worker databases)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    counts: dict[str, int] = {}
    for line in text.splitlines():
        try:
            entry = json.loads(line)
            counts[str(entry["database"])] = int(entry["service_connections"])
        except (ValueError, KeyError, TypeError):  # a half-written line: a worker was killed
            continue
    return counts or None


@dataclass(frozen=True)
class Watched:
    """One database whose use is checked: where it is, the file the plugin's workers write
    their counts to, and the server's counter before the suite."""

    role: Role
    backend: Backend
    version: str
    url: str
    before: int | None
    """The server's counter before the suite; None for no server, or none that was read."""
    use_file: Path | None = None
    """Where the plugin's workers write (`DATABASE_USE_FILE_ENV`); None: not asked."""


def watch(
    role: Role, backend_name: str, version: str, url: str, use_file: Path | None = None
) -> Watched | None:
    """What tells afterwards whether the suite used the database at `url`: the plugin's
    `use_file`, and the server's counter now. None when neither can tell (a server that does
    not answer fails the suite anyway)."""
    backend = lookup_backend(backend_name)
    before = None
    if isinstance(backend, ServerBackend):
        try:
            before = settled_reading(backend, url)
        except Exception:  # no reading, no check by the counter: the run says what is wrong
            before = None
    if before is None and use_file is None:
        return None
    return Watched(role, backend, version, url, before, use_file)


def settled_reading(backend: ServerBackend, url: str) -> int:
    """The counter once what came before (the provider's own check that the server answers)
    has reached it: read until it moves by no more than the previous reading's own one."""
    deadline = time.monotonic() + SETTLE_S
    previous = backend.activity(url, PROBE_TIMEOUT_S)
    while True:
        time.sleep(POLL_S)
        current = backend.activity(url, PROBE_TIMEOUT_S)
        if current - previous <= 1 or time.monotonic() >= deadline:
            return current
        previous = current


def unused(watched: Watched, *, settle_s: float = SETTLE_S) -> bool:
    """True when the service never used the database: no worker of the plugin counted a
    connection of the service's (when the plugin wrote any count), else nobody but the
    harness used the server since `watched.before` was read.

    Each reading adds at most one to the counter, so the readings so far are subtracted; the
    counter is read again until it moves past them or `settle_s` passes."""
    counts = None if watched.use_file is None else read_database_use(watched.use_file)
    if counts is not None:
        return not any(counts.values())
    if watched.before is None:
        return False  # nothing to tell by
    backend, before = cast(ServerBackend, watched.backend), watched.before  # read of a server
    deadline = time.monotonic() + settle_s
    readings = 1  # the reading before the suite
    while True:
        try:
            now = backend.activity(watched.url, PROBE_TIMEOUT_S)
        except Exception:  # the server went away after the suite: nothing to tell
            return False
        if now - before > readings:
            return False
        readings += 1
        if time.monotonic() >= deadline:
            return True
        time.sleep(POLL_S)


def unused_server_reason(
    watched: Watched, tests_run: int, names: SuiteEnv, matrix_file: Path
) -> str:
    """What the cell says when its suite never used one of its servers, and how to fix it."""
    name = watched.backend.display_name
    what = "database" if isinstance(watched.backend, LibraryBackend) else "server"
    variable = names.database if watched.role == "database" else names.cache
    return (
        f"the suite ran {tests_run} test(s) but none used the cell's {name} {watched.version} "
        f"{what}: does the service read {variable}? name the variable it reads in "
        f"[suite] env.{watched.role} of {matrix_file}"
    )


CHECKED_ROLES: tuple[Role, ...] = ("database",)
"""The servers whose use is checked. The cache is not: the matrix gives every cell a cache
server, also for a service (or a stand-in suite) that uses none."""
