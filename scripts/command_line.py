"""The harness's one command line: `python -m scripts <command> [options] [-- pytest args]`.

Standard library only, and nothing heavy from `scripts` (only `scripts.paths` and
`scripts.suite_switches`): noxfile.py imports it in nox's own interpreter, without the
project's dependencies, to split a session's arguments with the same parser
(`session_arguments`), and `python -m scripts annotate` runs before the project's virtualenv.

Every option is declared once, in `OPTIONS` (its help names its default and gives an example,
the way nox's `_option.py` does); `COMMANDS` says which command takes which. The benchmark's
baseline switches (`--cold-servers`, `--isolation`, `--suite-repeat`) belong to
`bench run` only: given to `cell` or `matrix`, the run stops with the line to write instead.
A removed option (`REMOVED_OPTIONS`) stops the run with one line saying why it went.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from scripts.paths import MATRIX_FILE, REPO_ROOT, REPORTS_DIR, RESULTS_DIR
from scripts.suite_switches import ISOLATIONS
from scripts.vocabulary import STRATEGIES

PROGRAM = "python -m scripts"
SOURCES = ("image", "binaries", "url")
SECTIONS = ("provisioning", "isolation", "matrix", "scaling", "report")
"""The benchmark's sections, in the order they run (`scripts.bench.__main__`)."""
IMAGES_MATRIX_FILE = REPO_ROOT / "matrix-images.toml"


def _count(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is less than {minimum}")
        return value

    return parse


def _requirement(text: str) -> str:
    """A requirement as pip takes it (`sqlalchemy==2.0.31`), checked here."""
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a requirement: {error}") from None
    return text


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value


@dataclass(frozen=True)
class Option:
    """One option (or positional argument) of the command line, declared once."""

    flags: tuple[str, ...]
    """`("--results",)` for an option; `("cells",)` (its destination) for a positional."""
    help: str
    default: str
    """The default, as the help shows it (what happens when the option is not given)."""
    example: str
    """An example of the option in use, as typed after `python -m scripts `."""
    settings: Mapping[str, Any] = field(default_factory=dict)
    """What `add_argument` takes besides the names and the help (type, default, nargs...)."""

    def add_to(self, parser: argparse.ArgumentParser | Any) -> None:
        text = f"{self.help}. Default: {self.default}. Example: {PROGRAM} {self.example}"
        parser.add_argument(*self.flags, help=text.replace("%", "%%"), **self.settings)


OPTIONS: dict[str, Option] = {
    # what to run
    "matrix": Option(
        ("--matrix",),
        "the matrix file (also accepted before the command)",
        "matrix.toml; matrix-images.toml for `images`",
        "list --matrix my-matrix.toml",
        {"type": Path, "default": argparse.SUPPRESS},
    ),
    "tag": Option(
        ("--tag",),
        "only the cells with this tag (repeatable: a cell with any of them)",
        "every cell",
        "--tag postgres --tag quick",
        {"action": "append", "default": []},
    ),
    "json": Option(
        ("--json",),
        "print the cells as a GitHub Actions job matrix",
        "one line per cell",
        "list --json",
        {"action": "store_true"},
    ),
    "cells": Option(
        ("cells",),
        "the cells to run: a cell id, or a database id (with the default cache)",
        "none (at least one is needed)",
        "cell postgres-16 postgres-16+valkey-8",
        {"nargs": "+", "metavar": "CELL_ID"},
    ),
    "fetch_cells": Option(
        ("cells",),
        "fetch every server of these cells",
        "every version the matrix names",
        "fetch postgres-16 postgres-16+valkey-8",
        {"nargs": "*", "metavar": "CELL_ID"},
    ),
    "bench_cells": Option(
        ("cells",),
        "the cells to run",
        "every cell (or those with --tag)",
        "bench run sqlite-stdlib postgres-16 --cold-servers",
        {"nargs": "*", "metavar": "CELL_ID"},
    ),
    "strategy": Option(
        ("--strategy",),
        "how the axes are combined into cells: each axis alone (the others at their "
        "defaults), every combination, or every pair of values in fewer cells",
        "matrix.toml's `strategy`",
        "matrix --strategy pairwise",
        {"choices": STRATEGIES},
    ),
    # how cells run
    "pin": Option(
        ("--pin",),
        "install this requirement in every cell, in place of the stack's pins and the "
        "project's own requirements of that library (repeatable; needs uv)",
        "the stacks as matrix.toml gives them",
        'cell sqlite-stdlib --pin "sqlalchemy==2.0.31"',
        {"action": "append", "default": [], "type": _requirement, "metavar": "REQUIREMENT"},
    ),
    "refresh": Option(
        ("--refresh",),
        "re-resolve every cell's environment now (floating pins take the newest releases)",
        "at most once a day; reused meanwhile",
        "matrix --refresh",
        {"action": "store_true"},
    ),
    "no_fetch": Option(
        ("--no-fetch",),
        "do not fetch missing server programs first",
        "off: what the cells need and this machine lacks is fetched",
        "cell postgres-16 --no-fetch",
        {"action": "store_true"},
    ),
    "source": Option(
        ("--source",),
        "serve every server from this kind of source only",
        "the first source of each version, in matrix.toml's order, that can serve here",
        "matrix --source image",
        {"choices": SOURCES},
    ),
    "workers": Option(
        ("--workers",),
        "pytest-xdist workers in every cell (0: the suite in one process)",
        "one process per cell, the matrix's workers in one cell of each backend family",
        "matrix --workers 2",
        {"type": _count(minimum=0)},
    ),
    "jobs": Option(
        ("--jobs",),
        "cells at once",
        "cores / workers",
        "matrix --jobs 1",
        {"type": _count(minimum=1)},
    ),
    "timeout": Option(
        ("--timeout",),
        "seconds a cell may take",
        "matrix.toml's `timeout`",
        "cell mysql-8.4 --timeout 900",
        {"type": _seconds},
    ),
    "results": Option(
        ("--results",),
        "the results folder: <results>/<cell id>/ per cell",
        "results/",
        "cell sqlite-stdlib --results /tmp/results",
        {"type": Path, "default": RESULTS_DIR},
    ),
    "reports": Option(
        ("--reports",),
        "where the report is written after the run",
        "reports/",
        "matrix --reports /tmp/reports",
        {"type": Path, "default": REPORTS_DIR},
    ),
    "no_report": Option(
        ("--no-report",),
        "do not render the report after the run",
        "off: the report is rendered",
        "matrix --tag quick --no-report",
        {"action": "store_true"},
    ),
    "strict": Option(
        ("--strict",),
        "unavailable cells, and known failures, fail the run",
        "off: only failed and erroring cells fail it",
        "matrix --strict",
        {"action": "store_true"},
    ),
    # the benchmark's baseline switches: `bench run` only
    "cold_servers": Option(
        ("--cold-servers",),
        "initialise every server's data directory from scratch instead of copying a "
        "prepared one (slower: the benchmark's baseline)",
        "off: a copy of a template prepared once per server program",
        "bench run postgres-16 --cold-servers",
        {"action": "store_true"},
    ),
    "isolation": Option(
        ("--isolation",),
        "how the suite isolates tests: roll back each test's SAVEPOINT, or drop and create "
        "the tables after each test (slower: the benchmark's baseline)",
        "savepoint",
        "bench run postgres-16 --isolation recreate",
        {"choices": ISOLATIONS, "default": "savepoint"},
    ),
    "suite_repeat": Option(
        ("--suite-repeat",),
        "run every test of the suite N times (the benchmark's scaling runs)",
        "1",
        "bench run sqlite-stdlib --suite-repeat 4",
        {"type": _count(minimum=1), "default": 1, "metavar": "N"},
    ),
    # floor
    "library": Option(
        ("library",),
        "the library (a distribution name) whose floor or ceiling is searched",
        "none (it is needed)",
        "floor sqlalchemy",
        {"metavar": "LIBRARY"},
    ),
    "ceiling": Option(
        ("--ceiling",),
        "find the newest release that still passes (on a cell where the newest fails)",
        "off: the floor, the oldest release that passes",
        "floor kombu --ceiling",
        {"action": "store_true"},
    ),
    "floor_cell": Option(
        ("--cell",),
        "the cell every probe runs",
        "[floor.<library>]'s `cell` (the default cell), or `ceiling-cell` with --ceiling",
        "floor kombu --ceiling --cell redis-6.0",
        {"default": None, "metavar": "CELL_ID"},
    ),
    "range": Option(
        ("--range",),
        "the releases searched, as a PEP 440 specifier",
        "[floor.<library>]'s `range`",
        'floor sqlalchemy --range ">=2.0.20,<2.1"',
        {"default": None, "metavar": "SPEC"},
    ),
    "floor_results": Option(
        ("--results",),
        "the results folder: the answer is kept in <results>/floors.json for the report",
        "results/",
        "floor sqlalchemy --results /tmp/results",
        {"type": Path, "default": RESULTS_DIR},
    ),
    # images
    "image_tags": Option(
        ("tags",),
        "the images to build",
        "every image of the project's own that the matrix file names",
        "images compat/postgres:16",
        {"nargs": "*", "metavar": "TAG"},
    ),
    # report
    "report_results": Option(
        ("--results",),
        "folders holding <cell-id>/result.json at any depth",
        "results/",
        "report --results results-a results-b",
        {"nargs": "+", "type": Path, "default": [RESULTS_DIR]},
    ),
    "out": Option(
        ("--out",),
        "the report folder",
        "reports/",
        "report --out /tmp/reports",
        {"type": Path, "default": REPORTS_DIR},
    ),
    "previous": Option(
        ("--previous",),
        "an earlier compat.json to compare with",
        "the compat.json already in --out",
        "report --previous last/compat.json",
        {"type": Path, "default": None},
    ),
    "history": Option(
        ("--history",),
        "the history file this run is added to; a missing or unreadable one starts a new history",
        "<out>/history.json.gz",
        "report --history site/history.json.gz",
        {"type": Path, "default": None},
    ),
    "no_history": Option(
        ("--no-history",),
        "keep no history and show no trends",
        "off: the run is added to the history",
        "report --no-history",
        {"action": "store_true"},
    ),
    "history_runs": Option(
        ("--history-runs",),
        "how many runs the history keeps",
        "the history's own limit (scripts.report.history.DEFAULT_LIMIT)",
        "report --history-runs 30",
        {"type": _count(minimum=1), "default": None, "metavar": "N"},
    ),
    "fail_on_regression": Option(
        ("--fail-on-regression",),
        "exit 1 naming each test or cell that passed before and fails now",
        "off: exit 0 whatever changed",
        "report --fail-on-regression",
        {"action": "store_true"},
    ),
    "site": Option(
        ("--site",),
        "also lay out what is published (page, table, compat.json, history, badges and "
        "their shields.io endpoints) in this folder, replacing it",
        "no site",
        "report --site public",
        {"type": Path, "default": None},
    ),
    "summary_to": Option(
        ("--summary-to",),
        "append the report's Markdown to this file",
        "nowhere",
        'report --summary-to "$GITHUB_STEP_SUMMARY"',
        {"type": Path, "default": None},
    ),
    # annotate
    "cell_folder": Option(
        ("cell_folder",),
        "one cell's results folder",
        "none (it is needed)",
        "annotate results/postgres-16",
        {"type": Path, "metavar": "CELL_FOLDER"},
    ),
    "root": Option(
        ("--root",),
        "the repository the test paths are in",
        "the current folder",
        "annotate results/postgres-16 --root .",
        {"type": Path, "default": Path()},
    ),
    # schema
    "schema_check": Option(
        ("--check",),
        "write nothing; fail when the checked-in file differs from what the classes give",
        "write the file",
        "schema --check",
        {"action": "store_true"},
    ),
    # bench
    "repeat": Option(
        ("--repeat",),
        "repetitions per figure",
        "3",
        "bench --repeat 5",
        {"type": _count(minimum=1), "default": 3},
    ),
    "long": Option(
        ("--long",),
        "run the matrix and scaling sections on every native cell and the whole suite (tens "
        "of minutes)",
        "off: a sample that keeps the benchmark within about 10 minutes",
        "bench --long --only matrix scaling",
        {"action": "store_true"},
    ),
    "only": Option(
        ("--only",),
        "run only these sections",
        f"every section: {' '.join(SECTIONS)}",
        "bench --only provisioning isolation",
        {"nargs": "+", "choices": SECTIONS, "metavar": "SECTION"},
    ),
    "servers": Option(
        ("--servers",),
        "the version ids the provisioning and isolation sections measure",
        "each section's own sample (postgres-17, mysql-9.7, mariadb-10.11, and redis-8.0 "
        "for provisioning)",
        "bench --only provisioning --servers postgres-17",
        {"nargs": "+", "metavar": "VERSION_ID"},
    ),
    "bench_out": Option(
        ("--out",),
        "where the figures are written, with every sample",
        "reports/bench.json",
        "bench --out /tmp/bench.json",
        {"type": Path, "default": REPORTS_DIR / "bench.json"},
    ),
}

RUN_OPTIONS = (
    "pin",
    "refresh",
    "no_fetch",
    "source",
    "workers",
    "jobs",
    "timeout",
    "results",
    "strict",
)
BASELINE_OPTIONS = ("cold_servers", "isolation", "suite_repeat")
REMOVED_OPTIONS: dict[str, str] = {
    "--cold-start": "every cell's pytest now starts as a new interpreter (the preloaded pytest "
    "saved 5 % of the matrix's wall time); drop the option",
}
"""Options that no longer exist, and why: given to any command, the run stops saying so."""


@dataclass(frozen=True)
class Command:
    help: str
    options: tuple[str, ...]
    takes_pytest_args: bool = False


COMMANDS: dict[str, Command] = {
    "list": Command("list the cells", ("matrix", "tag", "strategy", "json")),
    "cell": Command("run one or more cells", ("cells", "matrix", *RUN_OPTIONS), True),
    "matrix": Command(
        "run every cell (or those with --tag), then render the report",
        ("matrix", "tag", "strategy", *RUN_OPTIONS, "reports", "no_report"),
        True,
    ),
    "floor": Command(
        "find the oldest release of a library on which the suite passes (--ceiling: the "
        "newest), bisecting over the index's releases",
        (
            "library",
            "matrix",
            "ceiling",
            "floor_cell",
            "range",
            "floor_results",
            "timeout",
            "no_fetch",
        ),
    ),
    "fetch": Command(
        "fetch the server programs the matrix names and this machine lacks",
        ("fetch_cells", "matrix"),
    ),
    "images": Command(
        "build the server images a matrix file names from Debian's archive",
        ("image_tags", "matrix"),
    ),
    "report": Command(
        "render the report from the results on disk, running nothing",
        (
            "report_results",
            "out",
            "previous",
            "matrix",
            "history",
            "no_history",
            "history_runs",
            "fail_on_regression",
            "site",
            "summary_to",
        ),
    ),
    "annotate": Command(
        "print GitHub annotations for one cell's failing tests (standard library only)",
        ("cell_folder", "root"),
    ),
    "schema": Command(
        "write scripts/report/compat.schema.json from the result and report classes",
        ("schema_check",),
    ),
    "bench": Command(
        "measure every speed figure beside its target (`bench run`: cells with the "
        "benchmark's baseline switches)",
        ("repeat", "long", "only", "servers", "bench_out"),
    ),
}
BENCH_RUN = Command(
    "run cells as `cell` does (every cell when none is named), with the benchmark's "
    "baseline switches; no report",
    ("bench_cells", "matrix", "tag", *RUN_OPTIONS, *BASELINE_OPTIONS),
    True,
)
EXCLUSIVE = (("history", "no_history"),)
"""Options of which at most one may be given."""
PYTEST_EPILOG = "Arguments after `--` go to the suite's pytest in every cell."


def build_parser() -> argparse.ArgumentParser:
    """The one parser of the command line, every command a subcommand of it."""
    parser = argparse.ArgumentParser(
        prog=PROGRAM, description="The compatibility matrix: run it, or part of it, and report."
    )
    OPTIONS["matrix"].add_to(parser)
    commands = parser.add_subparsers(required=True, metavar="command", dest="command")
    for name, command in COMMANDS.items():
        sub = commands.add_parser(name, help=command.help, description=command.help)
        _configure(sub, command)
        if name == "bench":
            runs = sub.add_subparsers(metavar="run", dest="bench_command")
            run = runs.add_parser("run", help=BENCH_RUN.help, description=BENCH_RUN.help)
            _configure(run, BENCH_RUN)
    return parser


def _configure(parser: argparse.ArgumentParser, command: Command) -> None:
    if command.takes_pytest_args:
        parser.epilog = PYTEST_EPILOG
    exclusive = {name: group for group in EXCLUSIVE for name in group}
    groups: dict[tuple[str, ...], Any] = {}
    for name in command.options:
        target: Any = parser
        if name in exclusive:
            key = exclusive[name]
            if key not in groups:
                groups[key] = parser.add_mutually_exclusive_group()
            target = groups[key]
        OPTIONS[name].add_to(target)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    """The parsed command line; what follows `--` is kept as `pytest_args`.

    A benchmark switch given to `cell` or `matrix` stops here with the line to write instead,
    and a removed option with why it went.
    """
    ours, pytest_args = _split_at_double_dash(list(argv))
    _refuse_removed_options(ours)
    _refuse_moved_switches(ours, pytest_args)
    parser = build_parser()
    args = parser.parse_args(ours)
    if args.command == "bench" and args.bench_command == "run":
        args.command = "bench run"
    command = BENCH_RUN if args.command == "bench run" else COMMANDS[args.command]
    if pytest_args and not command.takes_pytest_args:
        parser.error(f"`{args.command}` takes no pytest arguments (nothing after `--`)")
    args.pytest_args = pytest_args
    if not hasattr(args, "matrix"):
        args.matrix = IMAGES_MATRIX_FILE if args.command == "images" else MATRIX_FILE
    return args


def _split_at_double_dash(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def _refuse_removed_options(ours: list[str]) -> None:
    """`matrix --cold-start` (and any removed option): say why it went, exit 2."""
    for argument in ours:
        flag = argument.split("=", 1)[0]
        if flag in REMOVED_OPTIONS:
            print(f"error: {flag} was removed: {REMOVED_OPTIONS[flag]}", file=sys.stderr)
            raise SystemExit(2)


def _moved_switch(argument: str) -> bool:
    flag = argument.split("=", 1)[0]
    return any(flag in OPTIONS[name].flags for name in BASELINE_OPTIONS)


def _refuse_moved_switches(ours: list[str], pytest_args: list[str]) -> None:
    """`cell X --cold-servers` (and the others): print `use: ... bench run X ...`, exit 2."""
    if "bench" in ours or not any(_moved_switch(argument) for argument in ours):
        return
    words = list(ours)
    for at, word in enumerate(words):
        if word in ("cell", "matrix"):
            words[at : at + 1] = ["bench", "run"]
            break
    else:
        return
    rest = ["--", *pytest_args] if pytest_args else []
    moved(" ".join([PROGRAM, *words, *rest]))


def old_spelling(command: str, argv: Sequence[str]) -> NoReturn:
    """`python -m scripts.<command> ARGS` (an old spelling): print the new one, exit 2."""
    moved(" ".join([PROGRAM, command, *argv]))


def moved(instead: str) -> NoReturn:
    """Say what to write instead of an old spelling, and stop (exit 2)."""
    print(f"use: {instead}", file=sys.stderr)
    raise SystemExit(2)


def session_arguments(
    command: str, posargs: Sequence[str], *, cell: str | None = None
) -> list[str]:
    """The harness's arguments for a nox session: `posargs` starts with the harness's own
    options; the first argument that is not one (or `--`) begins the suite's pytest arguments.

    So `nox -s "cell(postgres-16)" -- --no-fetch -k auth` runs only that cell, with `-k auth`.
    A benchmark switch stays on the harness's side, which then says to use `bench run`; so
    does a removed option, which the harness then refuses saying why.
    """
    options = _command_options(command)
    ours: list[str] = [command, *([cell] if cell else [])]
    rest = list(posargs)
    while rest and rest[0] != "--":
        name = rest[0].split("=", 1)[0]
        if name in REMOVED_OPTIONS:
            ours.append(rest.pop(0))
            continue
        action = options.get(name)
        if action is None:
            break
        takes_value = action.nargs != 0 and "=" not in rest[0]
        ours += rest[: 2 if takes_value else 1]
        rest = rest[2 if takes_value else 1 :]
    if rest and rest[0] == "--":
        rest = rest[1:]
    return [*ours, "--", *rest] if rest else ours


def _command_options(command: str) -> dict[str, argparse.Action]:
    """The options `command` takes, by every spelling (`--matrix`, `-h`, ...), and the
    benchmark's switches (refused later, with what to write instead)."""
    commands = _subcommands(build_parser())
    actions = [*commands.choices[command]._actions]
    if command in ("cell", "matrix"):
        run = _subcommands(commands.choices["bench"]).choices["run"]
        baseline = {flag for name in BASELINE_OPTIONS for flag in OPTIONS[name].flags}
        actions += [action for action in run._actions if set(action.option_strings) & baseline]
    return {name: action for action in actions for name in action.option_strings}


def _subcommands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction[Any]:
    return next(
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    )
