"""Running servers as an unprivileged account: the command line and reaching cached programs."""

from __future__ import annotations

import os

import pytest

from scripts.providers.accounts import (
    Account,
    account_for,
    command_as,
    make_reachable,
    unreachable_folders,
)
from tests.harness.providers_support import fast_folder

NOBODY = Account("nobody", 65534, 65534, frozenset({65534}))


def test_command_runs_through_setpriv_as_the_account() -> None:
    assert command_as(NOBODY, ["redis-server", "--port", "1"]) == [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--init-groups",
        "--",
        "redis-server",
        "--port",
        "1",
    ]
    assert command_as(None, ["redis-server"]) == ["redis-server"]


@pytest.mark.skipif(os.geteuid() != 0, reason="accounts are switched only when root")
def test_postgres_runs_as_the_postgres_account_when_root() -> None:
    account = account_for("postgres")
    assert account is not None
    assert account.name == "postgres"
    assert account.uid != 0


def test_closed_folders_above_a_program_are_opened_for_search_only() -> None:
    with fast_folder("compat-test-accounts-") as open_folder:
        closed = open_folder / "home"
        program = closed / "cache" / "bin" / "server"
        program.parent.mkdir(parents=True)
        program.write_text("")
        closed.chmod(0o700)
        assert unreachable_folders(NOBODY, program) == [closed]
        make_reachable(NOBODY, program)
        assert closed.stat().st_mode & 0o777 == 0o701  # search, not listing
        assert unreachable_folders(NOBODY, program) == []
