"""Nothing of a throwaway server is open to other local users: password logins only, Unix
sockets in a 0700 folder, listening on 127.0.0.1 only, run as the harness's own account; and
the password appears in no result, log or report."""

from __future__ import annotations

import os
import pwd
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from scripts.cell import run_cell
from scripts.paths import MATRIX_FILE
from scripts.plan import RunPlan
from scripts.providers.accounts import SERVER_ACCOUNT
from scripts.report.build import write_report
from scripts.sources import binaries as binaries_module
from scripts.sources.binaries import BinariesProvider
from scripts.suite import Suite
from tests.harness.matrix_support import harness_environment_cell
from tests.harness.providers_support import as_nobody, as_root, binaries_spec, processes_using

# (backend, version, client over TCP, client over the Unix socket, a sign it got in)
CLIENTS = {
    "postgres": (
        "15",
        "psql -w -h 127.0.0.1 -p {port} -U postgres -d postgres -Atc \"SELECT 'in' || 'side'\"",
        "psql -w -h {run_dir} -p {port} -U postgres -d postgres -Atc \"SELECT 'in' || 'side'\"",
        "inside",
    ),
    "mariadb": (
        "10.11",
        "mariadb --no-defaults -h 127.0.0.1 -P {port} -uroot -Ne \"SELECT CONCAT('in','side')\"",
        "mariadb --no-defaults -S {run_dir}/mysqld.sock -uroot -Ne \"SELECT CONCAT('in','side')\"",
        "inside",
    ),
    "redis": (
        "7.0",
        "redis-cli -h 127.0.0.1 -p {port} PING",
        "redis-cli -s {run_dir}/redis.sock PING",
        "PONG",
    ),
}


def listening_addresses(pids: set[int]) -> list[str]:
    """The TCP addresses the processes `pids` listen on (`ss`, iproute2)."""
    done = subprocess.run(
        ["ss", "-Hltnp"],  # noqa: S607 - iproute2
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    found = []
    for line in done.stdout.splitlines():
        if any(f"pid={pid}," in line for pid in pids):
            found.append(line.split()[3])
    return found


@as_root
@pytest.mark.slow
@pytest.mark.parametrize("backend", sorted(CLIENTS))
def test_another_local_user_without_the_password_cannot_get_in(scratch: Path, backend: str) -> None:
    version, over_tcp, over_socket, got_in = CLIENTS[backend]
    spec = binaries_spec(backend, version)
    with BinariesProvider(spec, spec.sources[0]).start() as server:  # type: ignore[arg-type]
        assert server.log_path is not None
        run_dir = server.log_path.parent
        port = make_url(server.url).port
        fields = {"port": port, "run_dir": run_dir}
        refused = [
            as_nobody("sh", "-c", command.format(**fields)) for command in (over_tcp, over_socket)
        ]
        assert all(got_in not in output for output in refused), refused
        assert "Permission denied" in refused[1] or "(13)" in refused[1], refused[1]
        assert run_dir.stat().st_mode & 0o777 == 0o700
        pids = [line.split(":")[0] for line in processes_using(run_dir)]
        owners = {os.stat(f"/proc/{pid}").st_uid for pid in pids}
        assert owners == {pwd.getpwnam(SERVER_ACCOUNT).pw_uid}
        assert make_url(server.url).host == "127.0.0.1"
        listening = listening_addresses({int(pid) for pid in pids})
        assert listening
        assert all(address.startswith("127.0.0.1:") for address in listening), listening
        assert make_url(server.url).password  # the harness itself gets in with it


SECRET = "Sentinel-password-that-must-not-leak-0123"

FAILING_SUITE = """
import os

def test_fails_after_using_the_servers():
    from sqlalchemy import create_engine, text
    import redis
    engine = create_engine(os.environ["DATABASE_URL"])
    with engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar() == 1
    assert redis.Redis.from_url(os.environ["REDIS_URL"]).ping()
    create_engine(os.environ["DATABASE_URL"].replace("@", "x@", 1)).connect()
"""


@pytest.mark.slow
def test_passwords_appear_in_no_result_log_or_report(
    scratch: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(binaries_module, "new_password", lambda: SECRET)
    suite = tmp_path / "test_failing.py"
    suite.write_text(FAILING_SUITE)
    cell = harness_environment_cell("postgres-15")
    results = tmp_path / "results"
    plan = RunPlan(
        (cell,), results, timeout=120, source="binaries", suite=Suite(test_paths=(str(suite),))
    )
    result = run_cell(cell, plan)
    assert result.state == "failed", result.reason
    written = write_report([results], tmp_path / "reports", matrix_file=MATRIX_FILE, previous=None)
    assert written
    for folder in (results, tmp_path / "reports", scratch):
        for path in folder.rglob("*"):
            if path.is_file():
                assert SECRET not in path.read_text(errors="replace"), path
