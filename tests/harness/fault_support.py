"""Faults on demand: a server program that never answers, and a matrix that runs it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.providers.watchdog import start_ticks
from tests.harness.providers_support import fast_folder, write_script

# A test that SIGKILLs the xdist worker running it, the first time only (a marker file beside it
# remembers): the cell must count it as a crash even though its rerun passes.
KILLS_ITS_WORKER_ONCE = """
import os
import signal
from pathlib import Path

def test_a_pass():
    pass

def test_kills_its_worker_once():
    marker = Path(__file__).with_name("killed-once")
    if not marker.exists():
        marker.write_text("x")
        os.kill(os.getpid(), signal.SIGKILL)

def test_z_pass():
    pass
"""

# A redis-server that says its version, then listens on its port and never says a word.
SILENT_REDIS = """#!/bin/sh
case "$1" in --version) echo "Redis server v=7.0.99"; exit 0;; esac
exec python3 -c '
import socket, sys, time
port = int(sys.argv[sys.argv.index("--port") + 1])
listener = socket.socket()
listener.bind(("127.0.0.1", port))
listener.listen()
time.sleep(300)
' "$@"
"""


@contextmanager
def silent_redis_folder() -> Iterator[Path]:
    """A folder holding a redis-server that listens and never answers."""
    with fast_folder("compat-test-bin-") as folder:
        write_script(folder / "redis-server", SILENT_REDIS.removeprefix("#!/bin/sh\n"))
        yield folder


def silent_redis_matrix(path: Path, bin_dir: Path) -> Path:
    path.write_text(
        f"""
[matrix]
default-database = "sqlite-stdlib"
default-cache = "redis-7.0"
workers = 1
timeout = 600

[database.sqlite.stdlib]
library = {{ module = "sqlite3" }}

[cache.redis."7.0"]
binaries = {{ paths = ["{bin_dir}"] }}
""",
        encoding="utf-8",
    )
    return path


def recorded_processes(scratch: Path) -> list[int]:
    return [int(p.name) for p in scratch.glob("compat-run-*/processes/[0-9]*")]


def is_gone_within(pid: int, limit_s: float) -> bool:
    """Whether the process `pid` ends (or is a zombie) within `limit_s` seconds."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if start_ticks(pid) is None:
            return True
        time.sleep(0.05)
    return False
