"""The account servers run as: the harness's own, never a system account; programs behind
closed folders are refused, never opened up."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

from scripts import paths
from scripts.providers.accounts import (
    ACCOUNT_IDS,
    SERVER_ACCOUNT,
    Account,
    check_reachable,
    server_account,
    unreachable_folders,
)
from scripts.providers.base import ProvisioningError
from scripts.providers.process import tied_command
from tests.harness.providers_support import fast_folder

NOBODY = Account("nobody", 65534, 65534, frozenset({65534}))
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="accounts are switched only when root")


def test_command_runs_through_setpriv_as_the_account_and_dies_with_its_parent() -> None:
    argv = tied_command(["redis-server", "--port", "1"], NOBODY)
    assert argv[0].endswith("setpriv")
    assert argv[1:] == [
        "--pdeathsig=KILL",
        "--reuid=65534",
        "--regid=65534",
        "--init-groups",
        "--",
        "redis-server",
        "--port",
        "1",
    ]
    assert tied_command(["redis-server"])[1:] == ["--pdeathsig=KILL", "--", "redis-server"]


@as_root
def test_servers_run_as_the_harness_own_account_never_a_system_one() -> None:
    account = server_account()
    assert account is not None
    assert account.name == SERVER_ACCOUNT
    assert account.uid != 0
    system_uids = set()
    for name in ("postgres", "mysql", "redis"):
        try:
            system_uids.add(pwd.getpwnam(name).pw_uid)
        except KeyError:
            continue
    assert account.uid not in system_uids
    entry = pwd.getpwnam(SERVER_ACCOUNT)
    assert entry.pw_shell.endswith("nologin")
    assert account.uid in ACCOUNT_IDS  # not 999 or just below: container images' database users


@as_root
def test_a_missing_account_is_created_without_home_or_login() -> None:
    name = f"compat-t{uuid.uuid4().hex[:8]}"
    try:
        account = server_account(name)
        assert account is not None
        entry = pwd.getpwnam(name)
        assert entry.pw_uid == account.uid
        assert entry.pw_shell.endswith("nologin")
        assert not Path(entry.pw_dir).exists()
    finally:
        subprocess.run(["userdel", name], capture_output=True, check=False)  # noqa: S603, S607


def test_system_accounts_are_refused() -> None:
    if os.geteuid() != 0:
        assert server_account("postgres") is None
        return
    for name in ("postgres", "mysql", "redis", "root"):
        with pytest.raises(ValueError, match="never run as the system account"):
            server_account(name)


def test_a_program_behind_a_closed_folder_is_refused_and_the_folder_left_closed() -> None:
    with fast_folder("compat-test-accounts-") as open_folder:
        closed = open_folder / "home"
        program = closed / "cache" / "bin" / "server"
        program.parent.mkdir(parents=True)
        program.write_text("")
        closed.chmod(0o700)
        assert unreachable_folders(NOBODY, program) == [closed]
        with pytest.raises(ProvisioningError, match=rf"{closed} is closed to it") as raised:
            check_reachable(NOBODY, program)
        assert "COMPAT_CACHE_DIR" in raised.value.message
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700  # nothing opened


def test_the_root_home_folder_keeps_its_permissions_when_root_uses_the_default_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COMPAT_CACHE_DIR", raising=False)
    cache = paths.cache_dir()
    if os.geteuid() == 0:
        assert cache == paths.ROOT_CACHE_DIR
        assert not cache.is_relative_to(Path.home())
    else:
        assert cache.is_relative_to(Path.home())  # the servers run as this same user


def test_reaching_a_program_changes_no_folder_mode() -> None:
    with fast_folder("compat-test-accounts-") as folder:
        program = folder / "bin" / "server"
        program.parent.mkdir()
        program.write_text("")
        before = {p: p.stat().st_mode for p in (folder, program.parent)}
        check_reachable(NOBODY, program)
        assert {p: p.stat().st_mode for p in before} == before
