"""Running servers as an unprivileged system account when the harness runs as root.

PostgreSQL refuses to run as root, and a throwaway server has no business running as root
anyway. When the harness is root, each server runs as its backend's system account
(`postgres`, `mysql`, `redis`), switched with `setpriv` (util-linux) right before exec.

Such an account must be able to reach the program it runs. Fetched programs live in the
cache (`scripts.paths.cache_dir()`), by default under `/root/.cache`, and `/root` is mode 700.
`make_reachable` grants only *search* permission (`o+x`, never read) on the folders above
the program that lack it, and prints what it changed: folder contents stay unlistable and
files keep their own modes. Set `COMPAT_CACHE_DIR` to a folder outside `/root` (e.g.
`/var/cache/fastapi-compat-matrix`) to avoid touching `/root` at all.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from scripts.providers.base import ProvisioningError

# Backend -> system accounts to try, in order.
_ACCOUNTS: dict[str, tuple[str, ...]] = {
    "postgres": ("postgres", "nobody"),
    "mariadb": ("mysql", "nobody"),
    "mysql": ("mysql", "nobody"),
    "redis": ("redis", "nobody"),
    "valkey": ("valkey", "redis", "nobody"),
}


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    groups: frozenset[int]


def running_as_root() -> bool:
    return os.geteuid() == 0


def account_for(backend: str) -> Account | None:
    """The account a server of `backend` runs as; None when we are not root (run as ourselves)."""
    if not running_as_root():
        return None
    for name in _ACCOUNTS.get(backend, ("nobody",)):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        groups = {entry.pw_gid} | {g.gr_gid for g in grp.getgrall() if name in g.gr_mem}
        return Account(name, entry.pw_uid, entry.pw_gid, frozenset(groups))
    raise ProvisioningError(
        f"running as root but none of the accounts {_ACCOUNTS.get(backend)} exists to run "
        f"{backend} as; create one (e.g. `adduser --system {backend}`) or run as a normal user"
    )


def command_as(account: Account | None, argv: list[str]) -> list[str]:
    """`argv` run as `account` (unchanged when `account` is None)."""
    if account is None:
        return argv
    return [
        "setpriv",
        f"--reuid={account.uid}",
        f"--regid={account.gid}",
        "--init-groups",
        "--",
        *argv,
    ]


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


def make_reachable(account: Account | None, target: Path) -> None:
    """Let `account` reach `target` by adding search permission where it lacks it."""
    if account is None:
        return
    for folder in unreachable_folders(account, target):
        mode = folder.stat().st_mode
        os.chmod(folder, stat.S_IMODE(mode) | stat.S_IXOTH)
        print(
            f"compat: granted search permission (o+x) on {folder} so the {account.name} "
            f"account can run {target}",
            file=sys.stderr,
        )
