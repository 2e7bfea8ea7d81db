"""The benchmark's baseline switches: `--cold-servers`, `--isolation`, `--suite-repeat`, from the
command line to the environment the suite runs in, and the suite's repetition of its tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.__main__ import main
from scripts.command_line import session_arguments
from scripts.paths import REPO_ROOT
from scripts.sources.templates import COLD_SERVERS_ENV, templates_wanted
from scripts.suite_switches import (
    ISOLATION_ENV,
    SUITE_REPEAT_ENV,
    SuiteSwitchError,
    isolation_from,
    suite_repeat_from,
    suite_switches,
)
from tests.harness.test_cli import recorded_runs

SAMPLE = "tests/harness/sample_suite/sample_database.py"


def test_a_run_hands_the_suite_savepoint_isolation_and_one_repetition_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    assert main(["cell", "sqlite-stdlib", "--no-fetch", "--results", str(tmp_path)]) == 0
    assert calls[0]["extra_env"] == {ISOLATION_ENV: "savepoint", SUITE_REPEAT_ENV: "1"}


def test_isolation_and_repetition_options_reach_every_cells_suite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    options = ["--isolation", "recreate", "--suite-repeat", "3"]
    assert main(["matrix", "--no-fetch", "--no-report", "--results", str(tmp_path), *options]) == 0
    assert calls[0]["extra_env"] == {ISOLATION_ENV: "recreate", SUITE_REPEAT_ENV: "3"}


def test_cold_servers_turn_the_templates_off_for_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(COLD_SERVERS_ENV, "0")  # and unset again after the test
    recorded_runs(monkeypatch)
    assert templates_wanted()
    assert main(["cell", "sqlite-stdlib", "--no-fetch", "--results", str(tmp_path)]) == 0
    assert templates_wanted()
    assert main(["cell", "sqlite-stdlib", "--no-fetch", "--cold-servers", "--results", "x"]) == 0
    assert os.environ[COLD_SERVERS_ENV] == "1"
    assert not templates_wanted()


def test_bad_switch_values_are_refused_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in (["--isolation", "truncate"], ["--suite-repeat", "0"]):
        with pytest.raises(SystemExit):
            main(["cell", "sqlite-stdlib", "--no-fetch", *bad])
    assert "invalid choice: 'truncate'" in capsys.readouterr().err


def test_a_nox_sessions_baseline_options_are_the_harness_s_not_pytest_s() -> None:
    posargs = ["--cold-servers", "--isolation", "recreate", "--suite-repeat=2", "-k", "users"]
    assert session_arguments("cell", posargs, cell="postgres-16") == [
        "cell", "postgres-16", "--cold-servers", "--isolation", "recreate", "--suite-repeat=2",
        "--", "-k", "users",
    ]  # fmt: skip


def test_the_suite_reads_its_switches_and_refuses_values_it_does_not_know() -> None:
    assert isolation_from({}) == "savepoint"
    assert isolation_from({ISOLATION_ENV: "recreate"}) == "recreate"
    assert suite_repeat_from({}) == 1
    assert suite_repeat_from({SUITE_REPEAT_ENV: "4"}) == 4
    with pytest.raises(SuiteSwitchError, match="truncate"):
        isolation_from({ISOLATION_ENV: "truncate"})
    for bad in ("0", "x"):
        with pytest.raises(SuiteSwitchError):
            suite_repeat_from({SUITE_REPEAT_ENV: bad})
    with pytest.raises(SuiteSwitchError):
        suite_switches("truncate")  # type: ignore[arg-type]


def collected(repeat: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != SUITE_REPEAT_ENV}
    if repeat is not None:
        env[SUITE_REPEAT_ENV] = repeat
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", SAMPLE],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return [line for line in done.stdout.splitlines() if line.startswith(SAMPLE)]


@pytest.mark.slow
def test_the_suite_collects_every_test_once_per_repetition() -> None:
    once = collected(None)
    assert once
    assert all("[" not in test for test in once)
    thrice = collected("3")
    assert thrice == [f"{test}[round{n}]" for test in once for n in (1, 2, 3)]
