"""Did the suite use the cell's servers? A cell whose suite never touched them tested nothing.

A service that reads its database from another variable than the one the cell sets (say
`SQLALCHEMY_DATABASE_URI` while the cell sets another) runs its tests against whatever
it falls back to, and would give a green cell that proved nothing about the server. So the
cell runner reads the database server's activity counter (`ServerBackend.activity`: sessions or
connections) before the suite and after it; a counter that did not move beyond the harness's
own readings means no test used that server, and the cell is an `error` that says which
`[suite] env` name to fix (see `CHECKED_ROLES` for why only the database).

What it cannot tell: which client used the server. Anything that connects counts (the
suite's own fixtures included), and on a shared server (a `url` source) another client's
activity hides a suite that never came: the check errs towards passing, never fails a suite
that used its server. SQLite (a library, no server) is not checked: the suite opens its own
files, and no counter outside the suite's process says whether the service did.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from scripts.backends import backend as lookup_backend
from scripts.backends.base import ServerBackend
from scripts.suite import SuiteEnv
from scripts.vocabulary import Role

PROBE_TIMEOUT_S = 5.0
SETTLE_S = 3.0
"""How long the counter may take to show a session that just ended (PostgreSQL's statistics
reach its view when a session ends, a little after its client has gone)."""
POLL_S = 0.2


@dataclass(frozen=True)
class Watched:
    """One server whose use is checked: where it is, and its counter before the suite."""

    role: Role
    backend: ServerBackend
    version: str
    url: str
    before: int


def watch(role: Role, backend_name: str, version: str, url: str) -> Watched | None:
    """The server's counter before the suite; None when it is no server or cannot be read
    (a server that does not answer fails the suite anyway)."""
    backend = lookup_backend(backend_name)
    if not isinstance(backend, ServerBackend):
        return None
    try:
        before = settled_reading(backend, url)
    except Exception:  # no reading, no check: the suite's own run says what is wrong
        return None
    return Watched(role, backend, version, url, before)


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
    """True when nobody but the harness used the server since `watched.before` was read.

    Each reading adds at most one to the counter, so the readings so far are subtracted; the
    counter is read again until it moves past them or `settle_s` passes."""
    deadline = time.monotonic() + settle_s
    readings = 1  # the reading before the suite
    while True:
        try:
            now = watched.backend.activity(watched.url, PROBE_TIMEOUT_S)
        except Exception:  # the server went away after the suite: nothing to tell
            return False
        if now - watched.before > readings:
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
    variable = names.database if watched.role == "database" else names.cache
    return (
        f"the suite ran {tests_run} test(s) but none used the cell's {name} {watched.version} "
        f"server: does the service read {variable}? name the variable it reads in "
        f"[suite] env.{watched.role} of {matrix_file}"
    )


CHECKED_ROLES: tuple[Role, ...] = ("database",)
"""The servers whose use is checked. The cache is not: the matrix gives every cell a cache
server, also for a service (or a stand-in suite) that uses none."""
