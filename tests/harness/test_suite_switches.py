"""The benchmark's baseline switches: `--cold-servers`, `--isolation`, `--suite-repeat`, from
`bench run` through the plan to the servers and the environment the suite runs in, and the
suite's repetition of its tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.__main__ import main
from scripts.command_line import session_arguments
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE, REPO_ROOT
from scripts.sources import provider_for
from scripts.sources.binaries import BinariesProvider
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
    assert calls[0].suite_variables() == {ISOLATION_ENV: "savepoint", SUITE_REPEAT_ENV: "1"}
    assert calls[0].cold_servers is False


def test_bench_run_puts_the_baseline_switches_in_the_plan_and_the_suites_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    options = ["--cold-servers", "--isolation", "recreate", "--suite-repeat", "3"]
    before = dict(os.environ)
    assert main(["bench", "run", "--no-fetch", "--results", str(tmp_path), *options]) == 0
    assert os.environ == before  # nothing travels through this process's environment
    [plan] = calls
    assert (plan.cold_servers, plan.isolation, plan.suite_repeat) == (True, "recreate", 3)
    assert plan.suite_variables() == {ISOLATION_ENV: "recreate", SUITE_REPEAT_ENV: "3"}
    assert plan.reports is None  # bench run renders no report
    assert len(plan.cells) > 1  # every cell when none is named


def test_cold_servers_reach_the_binaries_provider_through_the_plan() -> None:
    spec = load_matrix(MATRIX_FILE).cell("postgres-16").database
    binaries = next(source for source in spec.sources if source.kind == "binaries")
    assert BinariesProvider(spec, binaries).cold is False  # type: ignore[arg-type]
    assert provider_for(spec, binaries, cold_servers=True).cold is True  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("argv", "instead"),
    [
        (
            ["cell", "sqlite-stdlib", "--cold-servers", "--", "-k", "auth"],
            "use: python -m scripts bench run sqlite-stdlib --cold-servers -- -k auth",
        ),
        (
            ["matrix", "--isolation", "recreate", "--no-fetch"],
            "use: python -m scripts bench run --isolation recreate --no-fetch",
        ),
        (["cell", "x", "--suite-repeat=2"], "use: python -m scripts bench run x --suite-repeat=2"),
    ],
)
def test_a_baseline_switch_given_to_cell_or_matrix_says_to_use_bench_run(
    argv: list[str], instead: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == instead


def test_bad_switch_values_are_refused_on_the_command_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for bad in (["--isolation", "truncate"], ["--suite-repeat", "0"]):
        with pytest.raises(SystemExit):
            main(["bench", "run", "sqlite-stdlib", "--no-fetch", *bad])
    assert "invalid choice: 'truncate'" in capsys.readouterr().err


def test_a_nox_sessions_baseline_options_stay_the_harness_s_which_then_says_where_they_went(
    capsys: pytest.CaptureFixture[str],
) -> None:
    posargs = ["--cold-servers", "--isolation", "recreate", "--suite-repeat=2", "-k", "users"]
    arguments = session_arguments("cell", posargs, cell="postgres-16")
    assert arguments == [
        "cell", "postgres-16", "--cold-servers", "--isolation", "recreate", "--suite-repeat=2",
        "--", "-k", "users",
    ]  # fmt: skip
    with pytest.raises(SystemExit):
        main(arguments)
    assert capsys.readouterr().err.startswith("use: python -m scripts bench run postgres-16 ")


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
