"""The README's commands as a new user runs them: an ordinary account (a throwaway one made
with `useradd` when the tests run as root, else the account running them), a clean clone of
this repository, `pip install nox` into a virtualenv of its own, then

    nox -s matrix -- --tag sqlite     the two SQLite cells and the report
    nox -s tests -- <UNPRIVILEGED_TESTS>

Nothing may need root, or what does must say so: `nox -s tests` either runs, or stops with the
`sudo apt-get install` command to run (when redis-server or Chromium is missing). The subset
keeps CI short; each command's output is in the failure message.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness.providers_support import fast_folder

REPOSITORY = Path(__file__).resolve().parents[2]
UNPRIVILEGED_TESTS = ("tests/harness/test_sources_unpack.py", "tests/harness/test_matrix.py")
COMMAND_TIMEOUT_S = 1200.0


@dataclass(frozen=True)
class Account:
    name: str
    uid: int
    gid: int
    home: Path

    def run(self, *argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        """`argv` as this account, with the environment a fresh login has."""
        env = {
            "HOME": str(self.home),
            "USER": self.name,
            "LOGNAME": self.name,
            "PATH": f"{self.home / 'nox-venv' / 'bin'}:/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
        }
        as_other = os.geteuid() != self.uid
        return subprocess.run(  # noqa: S603 - the README's own commands
            argv,
            cwd=cwd,
            env=env,
            user=self.uid if as_other else None,
            group=self.gid if as_other else None,
            extra_groups=[] if as_other else None,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
            check=False,
        )


@pytest.fixture(scope="module")
def ordinary_account() -> Iterator[Account]:
    """The account running the tests when it is not root; as root, a throwaway one, removed
    (with its home) afterwards."""
    if os.geteuid() != 0:  # a fresh home of its own, never the real one
        entry = pwd.getpwuid(os.geteuid())
        with fast_folder("compat-new-user-") as home:
            yield Account(entry.pw_name, entry.pw_uid, entry.pw_gid, home)
        return
    if shutil.which("useradd") is None or shutil.which("userdel") is None:
        pytest.skip("running as root without useradd/userdel: no ordinary account to run as")
    name = f"compat-new-{uuid.uuid4().hex[:6]}"
    made = subprocess.run(  # noqa: S603
        ["useradd", "--create-home", "--shell", "/bin/sh", name],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"useradd {name} failed, no ordinary account to run as: {made.stderr}")
    entry = pwd.getpwnam(name)
    try:
        yield Account(name, entry.pw_uid, entry.pw_gid, Path(entry.pw_dir))
    finally:
        subprocess.run(["userdel", "--remove", name], capture_output=True, check=False)  # noqa: S603, S607


@pytest.fixture(scope="module")
def clone(ordinary_account: Account) -> Path:
    """A clean clone of this repository's commit, owned by the account, with nox installed
    into `~/nox-venv` by the README's `pip install nox` (in a virtualenv: Debian's Python
    refuses to install into itself)."""
    target = ordinary_account.home / "fastapi-compat-matrix"
    subprocess.run(  # noqa: S603
        # (in a CI container the checkout belongs to the runner's account, not to root)
        [
            *("git", "-c", f"safe.directory={REPOSITORY}", "clone", "--quiet", "--no-hardlinks"),
            *(str(REPOSITORY), str(target)),
        ],
        check=True,
    )
    if os.geteuid() == 0:
        shutil.chown(ordinary_account.home, ordinary_account.uid, ordinary_account.gid)
        for path in [target, *target.rglob("*")]:
            os.lchown(path, ordinary_account.uid, ordinary_account.gid)
    home = ordinary_account.home
    for argv in (
        (usable_python(ordinary_account), "-m", "venv", str(home / "nox-venv")),
        (str(home / "nox-venv" / "bin" / "python"), "-m", "pip", "install", "-q", "nox"),
    ):
        done = ordinary_account.run(*argv, cwd=home)
        assert done.returncode == 0, said(done)
    return target


def usable_python(account: Account) -> str:
    """The interpreter running these tests when the account can run it and make virtualenvs
    with it, else the system's (root's own interpreters are often unreadable to others)."""
    candidates = (os.path.realpath(sys.executable), "/usr/bin/python3", "/usr/local/bin/python3")
    for candidate in candidates:
        try:
            probe = account.run(candidate, "-c", "import ensurepip, venv", cwd=account.home)
        except OSError:  # missing, or not the account's to run
            continue
        if probe.returncode == 0:
            return candidate
    pytest.skip(f"{account.name} can run no Python with venv and ensurepip of {candidates}")


def said(done: subprocess.CompletedProcess[str]) -> str:
    return f"{done.args} exited {done.returncode}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"


@pytest.mark.slow
@pytest.mark.timeout(2 * COMMAND_TIMEOUT_S)
def test_a_new_ordinary_user_runs_the_matrix_and_the_tests_from_a_clean_clone(
    ordinary_account: Account, clone: Path
) -> None:
    matrix = ordinary_account.run("nox", "-s", "matrix", "--", "--tag", "sqlite", cwd=clone)
    assert matrix.returncode == 0, said(matrix)
    assert (clone / "reports" / "COMPATIBILITY.md").is_file(), said(matrix)
    for cell in ("sqlite-stdlib", "sqlite-pysqlite3"):
        assert (clone / "results" / cell).is_dir(), said(matrix)
    tests = ordinary_account.run("nox", "-s", "tests", "--", *UNPRIVILEGED_TESTS, cwd=clone)
    output = tests.stdout + tests.stderr
    if tests.returncode != 0:  # only a missing program may stop it, and it says what to run
        assert "sudo apt-get install" in output, said(tests)
    for outcome in (matrix, tests):
        assert "Traceback" not in outcome.stdout + outcome.stderr, said(outcome)
        assert "Permission denied" not in outcome.stdout + outcome.stderr, said(outcome)
