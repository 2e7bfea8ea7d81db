"""Names of per-run and per-worker resources, and how old a leftover one is."""

from __future__ import annotations

import os
import re
import time
import uuid

PREFIX = "ct_"
RUN_ID_ENV = "CT_RUN_ID"
STALE_AFTER_SECONDS = 3600

_NAME = re.compile(rf"^{PREFIX}(?P<epoch>\d{{10}})_[0-9a-f]{{6}}_\w+$")


def new_run_id() -> str:
    """`ct_<epoch>_<uid6>`: unique per run, so concurrent runs on one server never collide."""
    return f"{PREFIX}{int(time.time())}_{uuid.uuid4().hex[:6]}"


def current_run_id() -> str:
    """The run id the controller exported; a new one (exported) when there is none."""
    run_id = os.environ.get(RUN_ID_ENV)
    if not run_id:
        run_id = os.environ[RUN_ID_ENV] = new_run_id()
    return run_id


def worker_resource_name(run_id: str, worker_id: str) -> str:
    """`ct_<epoch>_<uid6>_<worker>`, e.g. `ct_1732564800_a1b2c3_gw0`."""
    return f"{run_id}_{worker_id}"


def is_stale(name: str, now: float | None = None) -> bool:
    """True for a resource of this suite that is older than an hour (a crashed run's leftover)."""
    match = _NAME.match(name)
    if match is None:
        return False
    now = time.time() if now is None else now
    return now - int(match["epoch"]) > STALE_AFTER_SECONDS
