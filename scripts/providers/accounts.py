"""The unprivileged account throwaway servers run as when the harness runs as root.

PostgreSQL refuses to run as root, and a throwaway server has no business running as root
anyway. Nor may it run as the system's `postgres`, `mysql` or `redis` accounts: those own
the machine's real databases, and a server running as one of them (reached by anyone who
gets in) could write to them. So every server runs as the harness's own account,
`compat-servers`, a system account with no home and no login shell, created when missing.
As anyone but root, servers run as the harness's own user.

The account must be able to read the program it runs. The harness never changes the
permissions of folders it did not create (home folders least of all): as root the cache
defaults to /var/cache/fastapi-compat-matrix (see `scripts.paths.cache_dir`), and a program
behind a closed folder is refused with the folder and the fix.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from scripts.providers.base import ProvisioningError

SERVER_ACCOUNT = "compat-servers"
SYSTEM_ACCOUNTS = frozenset({"root", "postgres", "mysql", "redis", "valkey"})
CREATE_ATTEMPTS = 5
ACCOUNT_IDS = range(949, 899, -1)
_creating = threading.Lock()


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: frozenset[int]


def running_as_root() -> bool:
    return os.geteuid() == 0


def server_account(name: str = SERVER_ACCOUNT) -> Account | None:
    """The account servers run as: None when we are not root (they run as ourselves)."""
    if not running_as_root():
        return None
    if name in SYSTEM_ACCOUNTS:
        raise ValueError(f"servers never run as the system account {name!r}")
    with _creating:
        for _ in range(CREATE_ATTEMPTS):
            found = _lookup(name)
            if found is not None:
                return found
            _create(name)
    raise ProvisioningError(
        f"the account {name!r} the servers run as does not exist and could not be created; "
        f"create it with `useradd --system --user-group --no-create-home "
        f"--shell /usr/sbin/nologin {name}`"
    )


def existing_server_account() -> Account | None:
    """The servers' account when it exists and we are root (nothing is created)."""
    return _lookup(SERVER_ACCOUNT) if running_as_root() else None


def _lookup(name: str) -> Account | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
    return Account(name, entry.pw_uid, entry.pw_gid, frozenset(groups))


def free_system_id() -> int:
    """A system uid that is neither a user's nor a group's here, from `ACCOUNT_IDS` down:
    away from 999 and just below, which container images give their database users (a
    container's uid is the host's)."""
    taken = {entry.pw_uid for entry in pwd.getpwall()} | {g.gr_gid for g in grp.getgrall()}
    for candidate in ACCOUNT_IDS:
        if candidate not in taken:
            return candidate
    raise ProvisioningError(f"no free system uid in {ACCOUNT_IDS} for {SERVER_ACCOUNT}")


def _create(name: str) -> None:
    """`useradd` a system account with no home and no shell (another process may race us)."""
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    nologin = shutil.which("nologin") or "/usr/sbin/nologin"
    number = str(free_system_id())
    argv = [useradd, "--system", "--uid", number, "--user-group", "--no-create-home"]
    argv += ["--home-dir", "/nonexistent", "--shell", nologin]
    argv += ["--comment", "throwaway servers of fastapi-compat-matrix", name]
    subprocess.run(argv, capture_output=True, timeout=30, check=False)  # noqa: S603


def give_to(account: Account | None, path: Path) -> None:
    """Make `account` own `path` and everything under it."""
    if account is None:
        return
    os.chown(path, account.uid, account.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)


def _can_search(account: Account, info: os.stat_result) -> bool:
    if info.st_uid == account.uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in account.groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def unreachable_folders(account: Account, target: Path) -> list[Path]:
    """Folders above `target` (inclusive when it is one) that `account` cannot enter."""
    folders = [target] if target.is_dir() else []
    folders += list(target.parents)
    return [f for f in reversed(folders) if not _can_search(account, f.stat())]


def check_reachable(account: Account | None, target: Path) -> None:
    """Refuse, naming the folder and the fix, a program the account cannot reach.

    Nothing is changed: opening a folder the harness did not create (a home folder, say)
    would open it to every local user.
    """
    if account is None:
        return
    closed = unreachable_folders(account, target)
    if closed:
        raise ProvisioningError(
            f"the {account.name} account the servers run as cannot reach {target}: "
            f"{closed[0]} is closed to it (mode {stat.S_IMODE(closed[0].stat().st_mode):o}); "
            "keep server programs outside home folders, e.g. set COMPAT_CACHE_DIR="
            "/var/cache/fastapi-compat-matrix and run `nox -s fetch` again"
        )
