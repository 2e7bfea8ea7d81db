"""The oldest Python the harness supports: stated once, refused in one line before anything
else runs, and the shared virtualenv never reused from another interpreter."""

from __future__ import annotations

import glob
import shutil
import subprocess
import threading
import tomllib
from pathlib import Path
from typing import Any

import pytest

import noxfile
from scripts import OLDEST_PYTHON, unsupported_python_message

REPOSITORY = Path(__file__).resolve().parents[2]
FLOOR = f"{OLDEST_PYTHON[0]}.{OLDEST_PYTHON[1]}"


def older_pythons() -> list[str]:
    """Interpreters older than the floor on this machine (pyenv's, or on PATH)."""
    found = sorted(glob.glob("/root/.pyenv/versions/3.[789]*/bin/python3"))
    found += sorted(glob.glob("/root/.pyenv/versions/3.10*/bin/python3"))
    for name in ("python3.10", "python3.9", "python3.8"):
        path = shutil.which(name)
        if path is not None and "/shims/" not in path:  # pyenv's shims run the global one
            found.append(path)
    return found


def test_the_floor_is_the_one_pyproject_and_the_readme_state() -> None:
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == f">={FLOOR}"
    assert f"| Python | {FLOOR} or newer" in (REPOSITORY / "README.md").read_text()


@pytest.mark.parametrize(
    ("version", "refused"),
    [((3, 10, 13), True), ((3, 9, 0), True), ((3, 11, 0), False), ((3, 11, 2), False)],
)
def test_only_older_interpreters_are_refused(version: tuple[int, int, int], refused: bool) -> None:
    message = unsupported_python_message(version)
    assert (message is not None) is refused
    if message is not None:
        assert "\n" not in message
        assert f"needs Python {FLOOR} or newer" in message
        assert ".".join(map(str, version)) in message


@pytest.mark.parametrize(
    "argv",
    [["-m", "scripts", "list"], ["-m", "scripts", "fetch"], ["noxfile.py"]],
    ids=["python -m scripts", "python -m scripts fetch", "the noxfile, before importing nox"],
)
def test_an_older_interpreter_is_stopped_in_one_line_not_a_traceback(argv: list[str]) -> None:
    pythons = older_pythons()
    if not pythons:
        pytest.skip(f"no Python older than {FLOOR} on this machine")
    for python in pythons:
        done = subprocess.run(  # noqa: S603 - an interpreter found above
            [python, *argv], cwd=REPOSITORY, capture_output=True, text=True, check=False
        )
        assert done.returncode == 1, (python, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1, (python, done.stderr)
        assert lines[0].startswith(f"error: the harness needs Python {FLOOR} or newer"), python


class RecordingSession:
    """What `shared_python` asks of a nox session, recorded; the interpreter reports `version`."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.ran: list[tuple[str, ...]] = []

    def run(self, *argv: str, **_: Any) -> str:
        self.ran.append(argv)
        if argv[1] == "-c":
            return f"{self.version} /opt/python{self.version}/bin/python3\n"
        if argv[1:3] == ("-m", "venv"):
            python = Path(argv[-1]) / "bin" / "python"
            python.parent.mkdir(parents=True, exist_ok=True)
            python.touch()
        return ""

    def log(self, message: str) -> None:
        pass

    def error(self, message: str) -> None:
        raise AssertionError(message)


@pytest.fixture
def shared_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(noxfile, "SHARED_ENV", tmp_path / "shared")
    monkeypatch.delenv(noxfile.PYTHON_VARIABLE, raising=False)
    return tmp_path / "shared"


def venv_builds(session: RecordingSession) -> int:
    return sum(1 for argv in session.ran if argv[1:3] == ("-m", "venv"))


def test_the_shared_virtualenv_is_built_again_when_another_python_runs_nox(
    shared_env: Path,
) -> None:
    first = RecordingSession("3.11.2")
    noxfile.shared_python(first)  # type: ignore[arg-type]
    again = RecordingSession("3.11.2")
    noxfile.shared_python(again)  # type: ignore[arg-type]
    other = RecordingSession("3.13.0")
    noxfile.shared_python(other)  # type: ignore[arg-type]
    assert (venv_builds(first), venv_builds(again), venv_builds(other)) == (1, 0, 1)
    [rebuilt] = [argv for argv in other.ran if argv[1:3] == ("-m", "venv")]
    assert "--clear" in rebuilt  # nothing of the other interpreter's virtualenv is kept


def test_compat_python_names_the_interpreter_and_an_older_one_is_refused(
    shared_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(noxfile.PYTHON_VARIABLE, "sh")  # any program on PATH: it is probed
    with pytest.raises(AssertionError, match=f"needs Python {FLOOR} or newer, this is 3.10.4"):
        noxfile.shared_python(RecordingSession("3.10.4"))  # type: ignore[arg-type]
    assert not shared_env.exists()
    monkeypatch.setenv(noxfile.PYTHON_VARIABLE, "no-such-python-anywhere")
    with pytest.raises(AssertionError, match="no such interpreter"):
        noxfile.shared_python(RecordingSession("3.13.0"))  # type: ignore[arg-type]


class SlowBuildSession(RecordingSession):
    """A session whose virtualenv build signals `building`, then holds until `go` is set."""

    def __init__(self, version: str, building: threading.Event, go: threading.Event) -> None:
        super().__init__(version)
        self.building, self.go = building, go

    def run(self, *argv: str, **kwargs: Any) -> str:
        if argv[1:3] == ("-m", "venv"):
            self.building.set()
            self.go.wait(timeout=10)
        return super().run(*argv, **kwargs)


def test_two_sessions_started_together_build_the_shared_virtualenv_once(
    shared_env: Path,
) -> None:
    first_building, second_building, go = threading.Event(), threading.Event(), threading.Event()
    first = SlowBuildSession("3.11.2", first_building, go)
    second = SlowBuildSession("3.11.2", second_building, go)
    threads = [
        threading.Thread(target=noxfile.shared_python, args=(session,))
        for session in (first, second)
    ]
    threads[0].start()
    assert first_building.wait(timeout=10)
    threads[1].start()
    # unlocked, the second session would start a build of its own (and clear the first's)
    second_building.wait(timeout=1.0)
    go.set()
    for thread in threads:
        thread.join(timeout=30)
    assert venv_builds(first) + venv_builds(second) == 1
    installs = [argv for s in (first, second) for argv in s.ran if "install" in argv]
    assert len(installs) == 1
