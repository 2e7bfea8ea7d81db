"""Every run reaps what dead runs left (their processes, folders and per-worker databases),
and only that: a run whose harness still runs, a reused pid and folders without a run marker
are left alone."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.providers.accounts import server_account
from scripts.providers.process import tied_command
from scripts.providers.runs import (
    MARKER,
    PROCESSES,
    RUN_PREFIX,
    ProcessIdentity,
    reap_dead_runs,
    run_folder,
    start_ticks,
)
from scripts.providers.watchdog import remove_unused_segments, segments_in_use
from scripts.pytest_plugin.databases import provisioner_for
from scripts.pytest_plugin.naming import (
    is_stale,
    markers_folder,
    new_run_id,
    register_run,
    unregister_run,
    worker_resource_name,
)
from tests.harness.providers_support import fast_folder


@pytest.fixture
def servers() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Stand-in servers (in sessions of their own), killed at the end whatever happened."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for server in started:
        server.kill()
        server.wait()


def start_server(servers: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(["/bin/sleep", "300"], start_new_session=True)
    servers.append(server)
    return server


def dead_identity() -> ProcessIdentity:
    """The identity of a process that ran a moment ago and has ended."""
    gone = subprocess.Popen(["/bin/sleep", "30"])
    identity = ProcessIdentity.of(gone.pid)
    gone.kill()
    gone.wait()
    assert identity is not None
    return identity


def run_folder_of(scratch: Path, owner: ProcessIdentity, *processes: ProcessIdentity) -> Path:
    folder = scratch / f"{RUN_PREFIX}{owner.pid}-{owner.start_ticks}"
    (folder / PROCESSES).mkdir(parents=True)
    owner.dump(folder / MARKER)
    for process in processes:
        process.dump(folder / PROCESSES / str(process.pid))
    (folder / "postgres-16-0123456789" / "data").mkdir(parents=True)  # a server's files
    return folder


def identity(process: subprocess.Popen[bytes]) -> ProcessIdentity:
    found = ProcessIdentity.of(process.pid)
    assert found is not None
    return found


def test_a_dead_run_has_its_servers_killed_and_its_folder_removed(
    scratch: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    server = start_server(servers)
    folder = run_folder_of(scratch, dead_identity(), identity(server))
    [reaped] = reap_dead_runs()
    assert reaped.folder == folder
    assert reaped.killed == (server.pid,)
    assert server.wait(timeout=5) == -9
    assert not folder.exists()


def test_a_live_run_is_left_alone(scratch: Path, servers: list[subprocess.Popen[bytes]]) -> None:
    server = start_server(servers)
    me = ProcessIdentity.of(os.getpid())
    assert me is not None
    folder = run_folder_of(scratch, me, identity(server))
    assert reap_dead_runs() == []
    assert folder.is_dir()
    assert server.poll() is None


def test_a_run_whose_pid_was_reused_by_another_process_is_dead(
    scratch: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    server = start_server(servers)
    me = ProcessIdentity.of(os.getpid())
    assert me is not None
    reused = ProcessIdentity(me.pid, me.start_ticks - 1, me.boot_id)  # same pid, earlier process
    folder = run_folder_of(scratch, reused, identity(server))
    [reaped] = reap_dead_runs()
    assert reaped.folder == folder
    assert server.wait(timeout=5) == -9


def test_a_recorded_pid_now_used_by_another_process_is_not_killed(
    scratch: Path, servers: list[subprocess.Popen[bytes]]
) -> None:
    stranger = start_server(servers)
    earlier = ProcessIdentity(
        stranger.pid, identity(stranger).start_ticks - 1, dead_identity().boot_id
    )
    folder = run_folder_of(scratch, dead_identity(), earlier)
    [reaped] = reap_dead_runs()
    assert reaped.killed == ()
    assert stranger.poll() is None
    assert not folder.exists()


def test_folders_without_a_run_marker_are_not_touched(scratch: Path) -> None:
    unmarked = [scratch / f"{RUN_PREFIX}123-456", scratch / "compat-postgres-16-0123456789"]
    for folder in unmarked:
        folder.mkdir()
    assert reap_dead_runs() == []
    assert all(folder.is_dir() for folder in unmarked)


def test_this_run_folder_names_this_process_and_is_not_reaped(scratch: Path) -> None:
    folder = run_folder()
    owner = ProcessIdentity.load(folder / MARKER)
    assert owner == ProcessIdentity.of(os.getpid())
    assert folder.parent == scratch
    assert folder.stat().st_mode & 0o777 == 0o711  # servers enter their own folder, list nothing
    assert reap_dead_runs() == []
    assert start_ticks(os.getpid()) is not None


def test_per_worker_databases_of_a_killed_run_are_stale_at_once(scratch: Path) -> None:
    killed_run, live_run, unmarked_run = new_run_id(), new_run_id(), new_run_id()
    dead_identity().dump(marker_of(scratch, killed_run))
    register_run(live_run)
    try:
        assert is_stale(worker_resource_name(killed_run, "gw0"))
        assert not is_stale(worker_resource_name(live_run, "gw0"))
        assert not is_stale(worker_resource_name(unmarked_run, "gw0"))  # another run's, unknown
    finally:
        unregister_run(live_run)
    assert not marker_of(scratch, live_run).exists()


def test_sqlite_files_of_a_killed_run_are_reaped_by_the_next(scratch: Path) -> None:
    killed_run = new_run_id()
    dead_identity().dump(marker_of(scratch, killed_run))
    provisioner = provisioner_for("sqlite://")
    assert provisioner.folder == scratch
    leftover = worker_resource_name(killed_run, "gw1")
    provisioner.create(leftover)
    assert provisioner.reap_stale() == [leftover]
    assert provisioner.list_databases() == []


def marker_of(scratch: Path, run_id: str) -> Path:
    folder = markers_folder(scratch)
    folder.mkdir(exist_ok=True)
    return folder / f"{run_id}.json"


@pytest.mark.skipif(os.geteuid() != 0, reason="the servers' own account exists only as root")
def test_shared_memory_a_killed_server_left_is_removed_and_a_used_one_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    account = server_account()
    assert account is not None
    with fast_folder("compat-test-shm-") as shm:
        left, used, foreign = shm / "PostgreSQL.1", shm / "PostgreSQL.2", shm / "PostgreSQL.3"
        for segment in (left, used, foreign):
            segment.write_bytes(b"\0" * 64)
        for segment in (left, used):
            os.chown(segment, account.uid, account.gid)
        holder = subprocess.Popen(  # noqa: S603 - a server of ours holding its segment open
            tied_command(["/bin/sh", "-c", f"exec 3<{used}; exec sleep 30"], account)
        )
        try:
            deadline = time.monotonic() + 5
            while str(used) not in segments_in_use(account.uid, str(shm)):
                assert time.monotonic() < deadline
                time.sleep(0.02)
            assert remove_unused_segments("PostgreSQL.", account.uid, str(shm)) == [str(left)]
        finally:
            holder.kill()
            holder.wait()
        assert not left.exists()
        assert used.exists()
        assert foreign.exists()  # not the servers' account's: never touched
