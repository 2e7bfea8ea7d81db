"""The system programs `nox -s tests` needs, and how to get the missing ones on Debian/Ubuntu.

    redis-server   the suite's throwaway cache server (when no cache URL is given)
    chromium       the report's browser test (unless COMPAT_ALLOW_NO_BROWSER=1)
    dockerd        (as root) the image source's tests start a private Docker engine

As root with apt-get, the tests session installs what is missing; otherwise it stops with
the one command to run. Kept free of the project's dependencies: noxfile.py imports it.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# command on PATH -> the Debian package that provides it
TEST_PROGRAMS: dict[str, str] = {"redis-server": "redis-server", "chromium": "chromium"}
NO_BROWSER_ENV = "COMPAT_ALLOW_NO_BROWSER"
# only root can start the private engine; elsewhere its tests are skipped, saying why
ROOT_TEST_PROGRAMS: dict[str, str] = {"dockerd": "docker.io"}


@dataclass(frozen=True)
class InstallPlan:
    """What to do about missing packages: run `commands`, or stop with `error`."""

    packages: tuple[str, ...]
    commands: tuple[tuple[str, ...], ...] = ()
    error: str | None = None

    def message(self) -> str:
        return f"installing what the tests need and this machine lacks: {', '.join(self.packages)}"


def missing_packages(
    which: Callable[[str], str | None] = shutil.which,
    environ: Mapping[str, str] = os.environ,
    *,
    is_root: bool = False,
) -> list[str]:
    """The Debian packages of the test programs not found on PATH."""
    wanted = dict(TEST_PROGRAMS) | (ROOT_TEST_PROGRAMS if is_root else {})
    if environ.get(NO_BROWSER_ENV) == "1":
        wanted.pop("chromium")
    return [package for command, package in wanted.items() if which(command) is None]


def install_plan(packages: list[str], *, is_root: bool, has_apt: bool) -> InstallPlan | None:
    """How to install `packages`; None when nothing is missing."""
    if not packages:
        return None
    names = tuple(packages)
    install = ("apt-get", "install", "-y", "-qq", "--no-install-recommends", *names)
    if not has_apt:
        return InstallPlan(
            names,
            error=(
                f"the tests need {', '.join(names)}, which are not on PATH and this machine has"
                " no apt-get: install them with its package manager, then run nox -s tests again"
            ),
        )
    if not is_root:
        return InstallPlan(
            names,
            error=(
                f"the tests need {', '.join(names)}, which are not on PATH: run"
                f" `sudo apt-get update && sudo {' '.join(install)}`, then nox -s tests again"
            ),
        )
    return InstallPlan(names, commands=(("apt-get", "update", "-qq"), install))


def plan_for_this_machine() -> InstallPlan | None:
    """The plan for the programs missing here."""
    is_root = os.geteuid() == 0
    return install_plan(
        missing_packages(is_root=is_root),
        is_root=is_root,
        has_apt=shutil.which("apt-get") is not None,
    )
