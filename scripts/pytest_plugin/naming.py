"""Names of per-run and per-worker resources, and whether a leftover one is stale.

A leftover is stale when its run is over an hour old, or at once when its run is provably
dead: each run leaves a marker, `<markers>/<run id>.json` (`scripts.paths.run_markers_dir`: one
folder per account, outside the harness's run folder, which a killed run's watchdog removes),
naming the process that runs it (pid and start time, which no later process can share); a
marker whose process no longer runs marks a killed run.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path

from scripts import paths
from scripts.providers.runs import ProcessIdentity

PREFIX = "ct_"
RUN_ID_ENV = "CT_RUN_ID"
STALE_AFTER_SECONDS = 3600


_NAME = re.compile(rf"^(?P<run>{PREFIX}(?P<epoch>\d{{10}})_[0-9a-f]{{6}})_\w+$")


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
    """True for a resource of this suite whose run is over an hour old or provably dead."""
    match = _NAME.match(name)
    if match is None:
        return False
    now = time.time() if now is None else now
    return now - int(match["epoch"]) > STALE_AFTER_SECONDS or run_is_dead(match["run"])


def markers_folder(scratch: Path) -> Path:
    """This account's markers in `scratch` (see `scripts.paths.account_markers_folder`)."""
    return paths.account_markers_folder(scratch)


def _marker(run_id: str) -> Path:
    return paths.run_markers_dir() / f"{run_id}.json"


def register_run(run_id: str) -> None:
    """Leave the marker that lets a later run reap this one's resources if it is killed."""
    me = ProcessIdentity.of(os.getpid())
    marker = _marker(run_id)
    marker.parent.mkdir(parents=True, exist_ok=True)
    if me is not None:
        me.dump(marker)
    for old in marker.parent.glob(f"{PREFIX}*.json"):
        match = _NAME.match(f"{old.stem}_gw0")
        if match and time.time() - int(match["epoch"]) > 2 * STALE_AFTER_SECONDS:
            old.unlink(missing_ok=True)  # by now its resources go for their age alone


def unregister_run(run_id: str) -> None:
    _marker(run_id).unlink(missing_ok=True)


def owner_is_dead(name: str) -> bool:
    """True when `name` is a resource of this suite (`worker_resource_name`) whose run is
    provably dead; False for a live run, an unknown one, or a name that is not the suite's."""
    match = _NAME.match(name)
    return match is not None and run_is_dead(match["run"])


def run_is_dead(run_id: str) -> bool:
    """True when `run_id`'s marker names a process that no longer runs (no marker: unknown)."""
    owner = ProcessIdentity.load(_marker(run_id))
    return owner is not None and not owner.is_alive()
