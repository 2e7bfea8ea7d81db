"""The harness's command line: `python -m scripts {list,cell,matrix} [options] [-- pytest args]`.

Kept apart from what runs the cells, so that noxfile.py (in nox's own interpreter, without
the project's dependencies) can split a session's arguments with the same parser.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from scripts.paths import MATRIX_FILE, REPORTS_DIR, RESULTS_DIR
from scripts.suite_switches import ISOLATIONS

SOURCES = ("image", "binaries", "url")


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    """The parsed command line; what follows `--` is kept as `pytest_args`."""
    ours, pytest_args = _split_at_double_dash(argv)
    parser = build_parser()
    args = parser.parse_args(ours)
    args.pytest_args = pytest_args
    if pytest_args and args.command == "list":
        parser.error("`list` takes no pytest arguments (nothing after `--`)")
    return args


def _split_at_double_dash(argv: list[str]) -> tuple[list[str], list[str]]:
    if "--" not in argv:
        return argv, []
    at = argv.index("--")
    return argv[:at], argv[at + 1 :]


def session_arguments(
    command: str, posargs: Sequence[str], *, cell: str | None = None
) -> list[str]:
    """The harness's arguments for a nox session: `posargs` starts with the harness's own
    options; the first argument that is not one (or `--`) begins the suite's pytest arguments.

    So `nox -s "cell(postgres-16)" -- --no-fetch -k auth` runs only that cell, with `-k auth`.
    """
    options = _command_options(command)
    ours: list[str] = [command, *([cell] if cell else [])]
    rest = list(posargs)
    while rest and rest[0] != "--":
        name = rest[0].split("=", 1)[0]
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
    """The options `command` takes, by every spelling (`--matrix`, `-h`, ...)."""
    parser = argparse.ArgumentParser()
    _configure(parser, command)
    return {name: action for action in parser._actions for name in action.option_strings}


COMMANDS = {"list": "list the cells", "cell": "run one or more cells", "matrix": "run every cell"}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts", description="Run the compatibility matrix, or part of it."
    )
    parser.add_argument("--matrix", type=Path, default=MATRIX_FILE, help="the matrix file")
    commands = parser.add_subparsers(required=True, metavar="command")
    for name, help_text in COMMANDS.items():
        epilog = None if name == "list" else "Arguments after `--` go to the suite's pytest."
        _configure(commands.add_parser(name, help=help_text, epilog=epilog), name)
    return parser


def _configure(run: argparse.ArgumentParser, name: str) -> None:
    """The arguments of the subcommand `name`."""
    run.set_defaults(command=name)
    _matrix_option(run)
    if name != "cell":
        run.add_argument("--tag", action="append", default=[], help="only cells with this tag")
    if name == "list":
        run.add_argument("--json", action="store_true", help="a GitHub Actions job matrix")
        return
    if name == "cell":
        run.add_argument("cells", nargs="+", metavar="CELL_ID")
    else:
        run.add_argument("--no-report", action="store_true", help="do not render the report")
    run.add_argument("--no-fetch", action="store_true", help="do not fetch missing server programs")
    run.add_argument("--source", choices=SOURCES, help="use only this kind of source")
    run.add_argument(
        "--workers",
        type=_count(minimum=0),
        help="pytest-xdist workers in every cell (0: the suite in one process); default: one "
        "process per cell, the matrix's workers in one cell of each backend family",
    )
    run.add_argument(
        "--jobs", type=_count(minimum=1), help="cells at once (default: cores / workers)"
    )
    run.add_argument("--timeout", type=_seconds, help="seconds a cell may take")
    run.add_argument(
        "--cold-start",
        action="store_true",
        help="start each cell's pytest as a new interpreter instead of forking it from the "
        "suite imported once for the run",
    )
    run.add_argument("--results", type=Path, default=RESULTS_DIR, help="results folder")
    if name == "matrix":
        run.add_argument(
            "--reports", type=Path, default=REPORTS_DIR, help="where the report is written"
        )
    run.add_argument("--strict", action="store_true", help="unavailable cells fail the run")
    _baseline_options(run)


def _baseline_options(run: argparse.ArgumentParser) -> None:
    """What the benchmark compares with and scales by; a normal run needs none of them."""
    run.add_argument(
        "--cold-servers",
        action="store_true",
        help="initialise every server's data directory from scratch instead of copying a "
        "prepared one (slower: the benchmark's baseline)",
    )
    run.add_argument(
        "--isolation",
        choices=ISOLATIONS,
        default="savepoint",
        help="how the suite isolates tests: roll back each test's SAVEPOINT (default), or "
        "drop and create the tables after each test (slower: the benchmark's baseline)",
    )
    run.add_argument(
        "--suite-repeat",
        type=_count(minimum=1),
        default=1,
        metavar="N",
        help="run every test of the suite N times (the benchmark's scaling runs)",
    )


def _matrix_option(parser: argparse.ArgumentParser) -> None:
    """`--matrix` after the subcommand as well as before it."""
    parser.add_argument(
        "--matrix", type=Path, default=argparse.SUPPRESS, help="the matrix file (matrix.toml)"
    )


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


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < value < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value
