"""`nox -s tests` on a fresh machine: it installs the programs the tests need, or says how."""

from __future__ import annotations

import re
from pathlib import Path

from scripts.system_packages import install_plan, missing_packages

REPO = Path(__file__).resolve().parents[2]


def test_missing_programs_are_named_by_their_debian_package() -> None:
    on_path = {"redis-server": "/usr/bin/redis-server"}
    assert missing_packages(on_path.get, {}) == ["chromium"]
    assert missing_packages(lambda name: None, {}) == ["redis-server", "chromium"]
    assert missing_packages(on_path.get, {"COMPAT_ALLOW_NO_BROWSER": "1"}) == []


def test_as_root_with_apt_the_missing_packages_are_installed() -> None:
    plan = install_plan(["chromium"], is_root=True, has_apt=True)
    assert plan is not None
    assert plan.error is None
    assert plan.commands == (
        ("apt-get", "update", "-qq"),
        ("apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"),
    )
    assert plan.message() == ("installing what the tests need and this machine lacks: chromium")


def test_without_root_the_error_names_the_command_to_run() -> None:
    plan = install_plan(["redis-server", "chromium"], is_root=False, has_apt=True)
    assert plan is not None
    assert plan.commands == ()
    assert plan.error == (
        "the tests need redis-server, chromium, which are not on PATH: run `sudo apt-get update"
        " && sudo apt-get install -y -qq --no-install-recommends redis-server chromium`,"
        " then nox -s tests again"
    )
    without_apt = install_plan(["chromium"], is_root=True, has_apt=False)
    assert without_apt is not None
    assert "no apt-get" in (without_apt.error or "")


def test_nothing_missing_means_nothing_to_do() -> None:
    assert install_plan([], is_root=False, has_apt=False) is None


def test_ci_runs_exactly_the_readmes_test_command_and_leaves_installing_to_it() -> None:
    readme = (REPO / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", readme, re.S)
    assert block is not None
    test_commands = [line.split("#")[0].strip() for line in block.group(1).splitlines()]
    assert "nox -s tests" in test_commands
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == "nox -s tests"
    commands = [line for line in ci if not line.lstrip().startswith("#")]
    assert not [line for line in commands if "chromium" in line or "redis-server" in line]


def test_as_root_the_tests_also_need_a_docker_engine_program() -> None:
    on_path = {"redis-server": "/usr/bin/redis-server", "chromium": "/usr/bin/chromium"}
    assert missing_packages(on_path.get, {}, is_root=True) == ["docker.io"]
    assert missing_packages(on_path.get, {}, is_root=False) == []
    on_path["dockerd"] = "/usr/sbin/dockerd"
    assert missing_packages(on_path.get, {}, is_root=True) == []
