"""`scripts.environments`: interpreters found (or fetched from Debian) and suite venvs built with
uv, reused while their key holds, re-resolved once a day, never left half-built.

The venv tests build real venvs of a tiny project (one dependency, `packaging`, which uv's cache
holds) in a folder of their own; the Debian test downloads CPython 3.13 from trixie.
"""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts import paths
from scripts.environments import (
    EnvironmentUnavailable,
    Interpreter,
    SuiteVenv,
    builders,
    find_interpreter,
    suite_venv,
    venvs,
)
from scripts.environments.builders import PipBuilder, tool_message
from scripts.matrix import DebianPackages
from tests.harness.environments_support import (
    HARNESS_VERSION,
    count_build_steps,
    fetched_package,
    shim_that_does_not_run,
    stand_in_python,
    tiny_project,
)
from tests.harness.providers_support import fast_folder

SLOW = pytest.mark.slow


@pytest.fixture
def folder() -> Iterator[Path]:
    with fast_folder("compat-envs-") as made:
        yield made


@pytest.fixture
def machine(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A machine with nothing on it: an empty pyenv root, an empty fetch cache, and a PATH of
    one empty folder (plus the system's, which holds no python3.97 or 3.98)."""
    (folder / "pyenv" / "versions").mkdir(parents=True)
    (folder / "path").mkdir()
    monkeypatch.setenv("PYENV_ROOT", str(folder / "pyenv"))
    monkeypatch.setenv("COMPAT_CACHE_DIR", str(folder / "cache"))
    monkeypatch.setenv("PATH", f"{folder / 'path'}:/usr/bin:/bin")
    return folder


@pytest.fixture
def harness_python() -> Interpreter:
    return find_interpreter(HARNESS_VERSION, None, fetch=False)


@pytest.fixture
def project(folder: Path) -> Path:
    return tiny_project(folder / "project", ["packaging>=22"])


def build(interpreter: Interpreter, project: Path, **changes: object) -> SuiteVenv:
    asked: dict[str, object] = {
        "install": ["-e", "."],
        "pins": [],
        "resolution": "highest",
        "refresh": False,
        **changes,
    }
    return suite_venv(interpreter=interpreter, project=project, **asked)  # type: ignore[arg-type]


def key_folders(project: Path) -> list[str]:
    root = paths.suite_envs_dir(project)
    return sorted(path.name for path in root.iterdir() if path.is_dir()) if root.is_dir() else []


def venv_folder(venv: SuiteVenv) -> Path:
    return venv.python.parent.parent.parent


# ------------------------------------------------------------------ interpreters


def test_the_harness_interpreter_serves_its_own_version(harness_python: Interpreter) -> None:
    assert harness_python.version.startswith(HARNESS_VERSION + ".")
    assert harness_python.provenance.startswith("the harness's interpreter ")
    assert harness_python.path.is_file()


def test_pyenv_versions_folder_gives_the_newest_patch_release_past_a_shim_that_does_not_run(
    machine: Path,
) -> None:
    shim_that_does_not_run(machine / "path" / "python3.97")
    versions = machine / "pyenv" / "versions"
    stand_in_python(versions / "3.97.9" / "bin" / "python3.97", "3.97.9")
    newest = stand_in_python(versions / "3.97.10" / "bin" / "python3.97", "3.97.10")
    stand_in_python(versions / "3.98.1" / "bin" / "python3.98", "3.98.1")

    found = find_interpreter("3.97", None, fetch=False)

    assert found == Interpreter(newest, "3.97.10", f"pyenv 3.97.10 ({newest})")


def test_a_candidate_of_another_version_or_lacking_ssl_is_passed_over_and_named(
    machine: Path,
) -> None:
    stand_in_python(machine / "path" / "python3.97", "3.96.1")
    versions = machine / "pyenv" / "versions"
    stand_in_python(versions / "3.97.2" / "bin" / "python3.97", "3.97.2", ["ssl (no _ssl)"])
    kept = stand_in_python(versions / "3.97.1" / "bin" / "python3.97", "3.97.1")

    assert find_interpreter("3.97", None, fetch=False).path == kept
    stand_in_python(versions / "3.97.1" / "bin" / "python3.97", "3.97.1", ["sqlite3 (gone)"])
    with pytest.raises(EnvironmentUnavailable) as raised:
        find_interpreter("3.97", None, fetch=False)
    message = str(raised.value)
    assert f"PATH: {machine / 'path' / 'python3.97'} is Python 3.96.1" in message
    assert "3.97.2/bin/python3.97 is Python 3.97.2 without ssl (no _ssl)" in message
    assert "3.97.1/bin/python3.97 is Python 3.97.1 without sqlite3 (gone)" in message


def test_a_complete_package_of_the_fetch_cache_serves_with_its_provenance(machine: Path) -> None:
    cache = machine / "cache"
    fetched_package(cache, "debian-trixie-python3.97", "python3.97", "3.97.4", "debian trixie x 1")
    half = fetched_package(cache, "debian-sid-python3.97", "python3.97", "3.97.5", "debian sid x")
    (half / ".compat-fetch-complete").unlink()  # an interrupted fetch: not used

    found = find_interpreter("3.97", None, fetch=False)

    program = cache / "fetched" / "debian-trixie-python3.97" / "root" / "usr" / "bin" / "python3.97"
    assert found == Interpreter(program, "3.97.4", f"debian trixie x 1 3.97.4 ({program})")


def test_a_missing_interpreter_says_where_it_looked_and_how_to_provide_one(machine: Path) -> None:
    with pytest.raises(EnvironmentUnavailable) as raised:
        find_interpreter("3.98", None, fetch=False)
    message = str(raised.value)
    assert message.startswith("no Python 3.98 interpreter here; looked at:\n")
    for place in (
        "  - the harness's interpreter: ",
        "  - PATH: no python3.98\n",
        f"  - pyenv: no 3.98.N folder in {machine / 'pyenv' / 'versions'}\n",
        f"  - the fetch cache: no package with python3.98 in {machine / 'cache' / 'fetched'}\n",
        '  - Debian: matrix.toml names no [python.debian."3.98"] source\n',
        "`pyenv install 3.98`",
        '[python.debian."3.98"]\n  suite = "trixie"\n  packages = ["python3.98"]',
    ):
        assert place in message


def test_a_debian_source_is_not_fetched_unless_asked(machine: Path) -> None:
    with pytest.raises(EnvironmentUnavailable, match=r"not fetched \(fetching was not asked for\)"):
        find_interpreter("3.98", DebianPackages("sid", ("python3.98",)), fetch=False)
    assert not (machine / "cache" / "fetched").exists()


def test_a_version_that_is_not_major_minor_is_refused() -> None:
    with pytest.raises(ValueError, match=r"'3\.12\.1' is not a Python version as major\.minor"):
        find_interpreter("3.12.1", None, fetch=False)


@SLOW
def test_python_3_13_fetched_from_debian_trixie_runs_imports_ssl_and_makes_a_venv(
    machine: Path, project: Path
) -> None:
    trixie = DebianPackages("trixie", ("python3.13",))
    found = find_interpreter("3.13", trixie, fetch=True)

    assert found.version.startswith("3.13.")
    assert found.path.is_relative_to(machine / "cache" / "fetched" / "debian-trixie-python3.13")
    assert found.provenance.startswith("debian trixie python3.13 3.13.")
    venv = build(found, project)
    checked = subprocess.run(  # noqa: S603 - the venv just built
        [venv.python, "-c", "import ctypes, sqlite3, ssl, packaging; print(ssl.OPENSSL_VERSION)"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("OpenSSL ")
    assert venv.python_version == found.version
    assert find_interpreter("3.13", trixie, fetch=False) == found  # from the cache, no fetch


# ------------------------------------------------------------------ venvs


@SLOW
def test_a_second_call_with_the_same_key_reuses_the_venv_without_running_anything(
    harness_python: Interpreter, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build(harness_python, project)
    stamps = {
        name: (venv_folder(first) / name).stat().st_mtime_ns
        for name in ("installed.json", "resolved-on", "complete")
    }
    steps = count_build_steps(monkeypatch)

    second = build(harness_python, project)

    assert (first.reused, second.reused) == (False, True)
    assert steps == []
    assert second.installed == first.installed
    assert second.installed["packaging"] == first.installed["packaging"]
    assert (second.python, second.key) == (first.python, first.key)
    assert {n: (venv_folder(second) / n).stat().st_mtime_ns for n in stamps} == stamps


@SLOW
def test_a_venv_resolved_on_an_earlier_day_is_upgraded_and_its_versions_read_again(
    harness_python: Interpreter, project: Path
) -> None:
    first = build(harness_python, project)
    newest = first.installed["packaging"]
    assert newest != "22.0"
    yesterdays_resolve(first, packaging="22.0")

    again = build(harness_python, project)

    assert again.reused is False
    assert again.installed["packaging"] == newest
    assert installed_in(again, "packaging") == newest
    assert (venv_folder(again) / "resolved-on").read_text().strip() == str(datetime.date.today())


def yesterdays_resolve(venv: SuiteVenv, packaging: str) -> None:
    """Make `venv` what a resolve on an earlier day left: an older release, recorded so."""
    uv = builders.uv_program()
    assert uv is not None, "uv (the project's test extra) is not installed"
    subprocess.run(  # noqa: S603 - uv installing into the venv just built
        [uv, "pip", "install", "--quiet", "--python", venv.python, f"packaging=={packaging}"],
        check=True,
    )
    folder = venv_folder(venv)
    (folder / "installed.json").write_text(json.dumps({**venv.installed, "packaging": packaging}))
    (folder / "resolved-on").write_text("2000-01-01\n")


def installed_in(venv: SuiteVenv, distribution: str) -> str:
    """The version the venv's own Python sees installed."""
    script = f"from importlib.metadata import version; print(version({distribution!r}))"
    done = subprocess.run(  # noqa: S603 - the venv just built
        [venv.python, "-c", script], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@SLOW
def test_refresh_re_resolves_a_venv_resolved_today_once_per_process(
    harness_python: Interpreter, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(harness_python, project)
    monkeypatch.setattr(venvs, "_RESOLVED_IN_THIS_PROCESS", set())  # as a later run finds it
    steps = count_build_steps(monkeypatch)

    refreshed = build(harness_python, project, refresh=True)
    upgrades = [argv for argv in steps if "--upgrade" in argv]
    shared = build(harness_python, project, refresh=True)  # another cell of the same run

    assert (refreshed.reused, shared.reused) == (False, True)
    assert len(upgrades) == 1
    assert [argv for argv in steps if "--upgrade" in argv] == upgrades


@SLOW
def test_unresolvable_pins_give_the_resolvers_message_and_leave_nothing_built(
    harness_python: Interpreter, project: Path
) -> None:
    with pytest.raises(EnvironmentUnavailable) as raised:
        build(harness_python, project, pins=["packaging<20"])

    message = str(raised.value)
    assert "No solution found when resolving dependencies" in message
    assert "you require packaging<20" in message
    assert "tiny==0.1 depends on packaging>=22" in message
    assert "Using Python" not in message
    assert key_folders(project) == []


@SLOW
def test_lowest_direct_installs_the_lowest_version_the_project_allows(
    harness_python: Interpreter, project: Path
) -> None:
    lowest = build(harness_python, project, resolution="lowest-direct")
    highest = build(harness_python, project)

    assert lowest.installed["packaging"] == "22.0"
    assert highest.installed["packaging"] != "22.0"
    assert lowest.key != highest.key


@SLOW
def test_pins_are_resolved_together_with_the_projects_requirements(
    harness_python: Interpreter, project: Path
) -> None:
    pinned = build(harness_python, project, pins=["packaging<23"])

    assert pinned.installed["packaging"].startswith("22.")
    assert pinned.installed["tiny"] == "0.1"


@SLOW
def test_an_interrupted_build_is_never_reused_but_built_again(
    harness_python: Interpreter, project: Path
) -> None:
    first = build(harness_python, project)
    (venv_folder(first) / "complete").unlink()  # as a build killed before its last step leaves it

    again = build(harness_python, project)

    assert again.reused is False
    assert (venv_folder(again) / "complete").is_file()
    assert again.installed == first.installed


@SLOW
def test_cells_asking_for_one_key_at_once_build_it_once(
    harness_python: Interpreter, project: Path
) -> None:
    start = threading.Barrier(2)
    built: list[SuiteVenv] = []

    def cell() -> None:
        start.wait()
        built.append(build(harness_python, project))

    threads = [threading.Thread(target=cell) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(venv.reused for venv in built) == [False, True]
    assert len(key_folders(project)) == 1


def test_the_key_holds_the_pins_in_any_order_and_changes_with_pyproject(
    harness_python: Interpreter, project: Path
) -> None:
    def key(pins: list[str]) -> str:
        inputs = venvs.key_inputs(harness_python, ["-e", "."], pins, "highest", "uv", project)
        return venvs.venv_key(inputs)

    before = key(["b<2", "a>1"])
    assert key(["a>1", "b<2"]) == before
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace("packaging>=22", "packaging>=23")
    )
    assert key(["a>1", "b<2"]) != before


def test_pip_cannot_install_the_lowest_versions_and_says_to_use_uv(project: Path) -> None:
    with pytest.raises(EnvironmentUnavailable, match=r"needs uv .*`pip install uv`"):
        PipBuilder().install(
            project / "venv", ["-e", "."], resolution="lowest-direct", upgrade=False, cwd=project
        )


def test_a_tools_message_keeps_its_error_and_drops_its_progress_lines() -> None:
    said = (
        "Using Python 3.12.1 environment at: /x/venv\n"
        "Resolved 3 packages in 2ms\n"
        "error: No solution found when resolving dependencies\n"
        "  cause: Because you require a<1 and a>2, we can conclude ... unsatisfiable.\n"
    )
    assert tool_message(said) == (
        "error: No solution found when resolving dependencies\n"
        "  cause: Because you require a<1 and a>2, we can conclude ... unsatisfiable."
    )


@SLOW
def test_the_installed_versions_are_kept_beside_the_venv_by_canonical_name(
    harness_python: Interpreter, project: Path
) -> None:
    venv = build(harness_python, project)
    kept = json.loads((venv_folder(venv) / "installed.json").read_text())
    assert kept == venv.installed
    assert set(kept) == {"packaging", "tiny"}
    assert os.access(venv.python, os.X_OK)
    assert (venv_folder(venv) / "resolved-on").read_text().strip() == str(datetime.date.today())


@SLOW
def test_without_uv_the_venv_is_built_with_venv_and_pip(
    harness_python: Interpreter, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builders, "uv_program", lambda: None)  # a machine without uv
    monkeypatch.setenv("PATH", "/usr/bin:/bin")

    venv = build(harness_python, project)

    assert venv.installed["tiny"] == "0.1"
    assert venv.installed["packaging"] == installed_in(venv, "packaging")
    assert "pip" in venv.installed
    assert json.loads((venv_folder(venv) / "key.json").read_text())["builder"] == "pip"
    with pytest.raises(EnvironmentUnavailable, match="needs uv"):
        build(harness_python, project, resolution="lowest-direct")
    assert key_folders(project) == [venv_folder(venv).name]


def test_uv_trusts_the_machines_certificate_store_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    seen: list[dict[str, str]] = []

    def recorded(
        argv: list[str],
        what: str,
        cwd: Path | None = None,
        environment: dict[str, str] | None = None,
    ) -> str:
        seen.append(dict(environment or {}))
        return ""

    monkeypatch.setattr(builders, "run_step", recorded)
    monkeypatch.delenv("UV_SYSTEM_CERTS", raising=False)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    builders.UvBuilder(Path("/usr/bin/uv")).create(Path("/usr/bin/python3"), tmp_path / "venv")
    monkeypatch.setenv("UV_SYSTEM_CERTS", "0")
    builders.UvBuilder(Path("/usr/bin/uv")).create(Path("/usr/bin/python3"), tmp_path / "venv")
    assert [env["UV_SYSTEM_CERTS"] for env in seen] == ["1", "0"]
