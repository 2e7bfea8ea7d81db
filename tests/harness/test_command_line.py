"""One command line: one parser, every option's help with its default and an example, the old
spellings saying the new one, removed options saying why they went, and the one frozen plan
the scheduler runs."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.__main__ import main
from scripts.command_line import (
    BENCH_RUN,
    COMMANDS,
    OPTIONS,
    PROGRAM,
    build_parser,
    session_arguments,
)
from scripts.matrix import load_matrix
from scripts.paths import MATRIX_FILE, REPO_ROOT
from scripts.plan import RunPlan
from scripts.schedule import run_cells
from tests.harness.test_cli import recorded_runs

SCRIPTS = REPO_ROOT / "scripts"


def test_the_harness_has_exactly_one_argument_parser() -> None:
    found = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sorted(SCRIPTS.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if "ArgumentParser(" in line
    ]
    assert len(found) == 1, found
    assert found[0].startswith("scripts/command_line.py:")


def _every_command() -> list[list[str]]:
    return [[name] for name in COMMANDS] + [["bench", "run"]]


@pytest.mark.parametrize("command", _every_command(), ids=" ".join)
def test_every_command_has_help_naming_each_options_default_and_an_example(
    command: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main([*command, "--help"])
    assert exited.value.code == 0
    shown = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    assert shown.startswith(f"usage: {PROGRAM} {' '.join(command)}")
    parser = _subparser(build_parser(), command)
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
            continue
        name = "/".join(action.option_strings) or str(action.metavar or action.dest)
        assert "Default: " in (action.help or ""), name
        assert f"Example: {PROGRAM} " in (action.help or ""), name


def _subparser(parser: argparse.ArgumentParser, words: list[str]) -> argparse.ArgumentParser:
    for word in words:
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        parser = commands.choices[word]
    return parser


def test_every_declared_option_belongs_to_some_command() -> None:
    used = {name for command in COMMANDS.values() for name in command.options}
    assert set(OPTIONS) == used | set(BENCH_RUN.options)


@pytest.mark.parametrize(
    ("module", "arguments", "instead"),
    [
        ("scripts.report", ["--out", "x"], "use: python -m scripts report --out x"),
        ("scripts.fetch", ["postgres-16"], "use: python -m scripts fetch postgres-16"),
        ("scripts.images", [], "use: python -m scripts images"),
        ("scripts.bench", ["--only", "report"], "use: python -m scripts bench --only report"),
        ("scripts.report.annotate", ["results/x"], "use: python -m scripts annotate results/x"),
    ],
)
def test_an_old_spelling_says_what_to_write_instead(
    module: str, arguments: list[str], instead: str
) -> None:
    done = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-m", module, *arguments],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr.strip(), done.stdout) == (2, instead, "")


COLD_START_REMOVED = (
    "error: --cold-start was removed: every cell's pytest now starts as a new interpreter "
    "(the preloaded pytest saved 5 % of the matrix's wall time); drop the option"
)


@pytest.mark.parametrize(
    "argv",
    [
        ["matrix", "--tag", "quick", "--cold-start", "--no-fetch"],
        ["cell", "sqlite-stdlib", "--cold-start", "--", "-k", "auth"],
        ["bench", "run", "sqlite-stdlib", "--cold-start"],
        ["matrix", "--cold-start", "--cold-servers"],  # why it went comes before where to
    ],
    ids=" ".join,
)
def test_the_removed_cold_start_option_stops_the_run_saying_why_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    captured = capsys.readouterr()
    assert (captured.err.strip(), captured.out, calls) == (COLD_START_REMOVED, "", [])


def test_a_nox_sessions_removed_option_stays_the_harness_s_which_then_refuses_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    arguments = session_arguments("matrix", ["--no-fetch", "--cold-start", "-k", "auth"])
    assert arguments == ["matrix", "--no-fetch", "--cold-start", "--", "-k", "auth"]
    with pytest.raises(SystemExit):
        main(arguments)
    assert capsys.readouterr().err.strip() == COLD_START_REMOVED


def test_the_plan_is_frozen_and_holds_everything_the_scheduler_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = recorded_runs(monkeypatch)
    argv = ["matrix", "--tag", "quick", "--no-fetch", "--no-report", "--jobs", "1"]
    assert main([*argv, "--timeout", "77", "--results", str(tmp_path), "--", "-x"]) == 0
    [plan] = calls
    quick = [cell.id for cell in load_matrix(MATRIX_FILE).cells() if "quick" in cell.tags]
    assert [cell.id for cell in plan.cells] == quick
    assert (plan.results, plan.timeout, plan.pytest_args) == (tmp_path, 77.0, ("-x",))
    assert (plan.fetch, plan.reports, plan.jobs, plan.source) == (False, None, 1, None)
    assert plan.layout is not None
    assert plan.layout.slots >= 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.timeout = 1  # type: ignore[misc]
    # besides the plan, the scheduler takes only the display's callbacks
    loose = [name for name in inspect.signature(run_cells).parameters if name != "plan"]
    assert loose == ["on_result", "on_stage", "on_tick"]


def test_a_plan_without_a_layout_runs_its_workers_per_cell_its_jobs_at_a_time() -> None:
    cells = tuple(load_matrix(MATRIX_FILE).cells()[:2])
    layout = RunPlan(cells, Path("r"), 60, workers=2, jobs=3).chosen_layout()
    assert layout.slots == 6
    assert {layout.workers_for(cell.id) for cell in cells} == {2}


def test_the_command_line_imports_only_the_standard_library_and_light_modules() -> None:
    source = (SCRIPTS / "command_line.py").read_text(encoding="utf-8")
    ours = set(re.findall(r"^from (scripts[\w.]*) import", source, re.M))
    assert ours == {"scripts.paths", "scripts.suite_switches", "scripts.vocabulary"}
    done = subprocess.run(
        [sys.executable, "-S", "-c", "import scripts.command_line"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr  # -S: no site-packages at all
