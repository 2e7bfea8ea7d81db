"""The benchmark behind `nox -s bench`: every speed figure beside its target, in one table.

    python -m scripts bench [--repeat 3] [--long] [--only SECTION ...] [--servers ID ...]
                            [--out reports/bench.json]
    python -m scripts bench run [CELL_ID ...] [run options] [--cold-servers]
                                [--isolation recreate] [--suite-repeat N] [-- pytest args]

Sections, in this order:
  provisioning  one server from nothing to "answers": the harness, a fresh data directory
                (pytest-postgresql's executor, mysqld --initialize-insecure, ...), a container
                on the local engine, and the floor (a start on a ready data directory)
  isolation     what undoing one test costs: SAVEPOINT rollback, TRUNCATE, drop + migrations,
                a fresh database from a template
  matrix        the default run against a naive one and the other layout, the floor, the
                parallel efficiency, the peak memory
  scaling       wall time against the number of cells and the size of the suite
  report        rendering the report of 500 cells x 200 tests, without and with a history,
                and the page in headless Chromium
Every figure is the median of `--repeat` repetitions (at least 3 by default) with its range;
contenders of a comparison take turns round by round. `--long` runs the matrix and scaling
sections on every native cell and the whole suite (tens of minutes); without it they use a
sample that keeps the whole benchmark within about 10 minutes (each figure's note says which).
A section that fails is reported with why; the others still run. The table is printed and
written, with every sample, to `--out` (reports/bench.json). `--servers` narrows the
provisioning and isolation sections to those version ids.

`bench run` runs cells the way `cell` does, with the baseline switches the matrix section
compares against (its runs of the harness are `bench run` processes, `scripts.bench.harness_runs`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from scripts.bench.figures import Figure
from scripts.command_line import SECTIONS
from scripts.files import atomic_write
from scripts.layout import machine_cores
from scripts.paths import REPO_ROOT


@dataclass(frozen=True)
class SectionOutcome:
    name: str
    seconds: float
    figures: list[Figure]
    error: str | None = None


def run_section(name: str, args: argparse.Namespace) -> list[Figure]:
    """The figures of one section (imported here: each pulls in what it measures)."""
    if name == "provisioning":
        from scripts.bench.provisioning import provisioning_figures

        if args.servers:
            return provisioning_figures(args.repeat, servers=args.servers)
        return provisioning_figures(args.repeat)
    if name == "isolation":
        from scripts.bench.isolation import isolation_figures

        if args.servers:
            return isolation_figures(args.repeat, servers=args.servers)
        return isolation_figures(args.repeat)
    if name == "matrix":
        from scripts.bench.whole_matrix import ALL_CELLS, LONG_PLANS, matrix_figures

        if args.long:
            return matrix_figures([ALL_CELLS], args.repeat, plans=LONG_PLANS)
        return matrix_figures(None, args.repeat)
    if name == "scaling":
        from scripts.bench.whole_matrix import LONG_SCALING_SIZES, scaling_figures

        if args.long:
            return scaling_figures(args.repeat, sizes=LONG_SCALING_SIZES, pytest_args=())
        return scaling_figures(args.repeat)
    if name == "report":
        from scripts.bench.report_rendering import report_figures

        return report_figures(args.repeat)
    raise ValueError(f"unknown section {name!r}")


def run_sections(
    names: Sequence[str],
    args: argparse.Namespace,
    run: Callable[[str, argparse.Namespace], list[Figure]] = run_section,
) -> list[SectionOutcome]:
    outcomes = []
    for name in names:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            figures, error = run(name, args), None
        except Exception as exc:  # one broken section must not cost the others' figures
            traceback.print_exc()
            figures, error = [], f"{type(exc).__name__}: {exc}"
        took = time.monotonic() - started
        print(f"bench: {name} took {took:.0f} s", file=sys.stderr, flush=True)
        outcomes.append(SectionOutcome(name, took, figures, error))
    return outcomes


def value(number: float) -> str:
    """A number as wide as it needs to be for its size."""
    magnitude = abs(number)
    digits = 3 if magnitude < 1 else 2 if magnitude < 10 else 1 if magnitude < 1000 else 0
    return f"{number:.{digits}f}"


def verdict(figure: Figure) -> str:
    if figure.met is None:
        return ""
    return "met" if figure.met else "MISSED"


def table(outcomes: Sequence[SectionOutcome]) -> str:
    """The figures as one Markdown table, notes beneath, failed sections named with why."""
    lines = [
        "| section | figure | median | min–max | unit | target | |",
        "|---|---|---:|---:|---|---|---|",
    ]
    notes: list[str] = []
    for outcome in outcomes:
        if outcome.error is not None:
            lines.append(f"| {outcome.name} | the section failed: {outcome.error} | | | | | |")
        for figure in outcome.figures:
            target = figure.target.describe() if figure.target else ""
            spread = f"{value(figure.low)}–{value(figure.high)}"
            lines.append(
                f"| {figure.section} | {figure.name} | {value(figure.median)} |"
                f" {spread} | {figure.unit} | {target} | {verdict(figure)} |"
            )
            if figure.note:
                notes.append(f"- {figure.section} · {figure.name}: {figure.note}")
    took = ", ".join(f"{o.name} {o.seconds:.0f} s" for o in outcomes)
    return "\n".join([*lines, "", f"Sections took: {took}.", "", *notes])


def document(outcomes: Sequence[SectionOutcome], args: argparse.Namespace) -> dict[str, object]:
    return {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": {
            "cores": machine_cores(),
            "load_average": list(os.getloadavg()),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "repeat": args.repeat,
        "long": args.long,
        "sections": [
            {
                "name": o.name,
                "seconds": round(o.seconds, 1),
                "error": o.error,
                "figures": [f.as_json() for f in o.figures],
            }
            for o in outcomes
        ],
    }


def _commit() -> str | None:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"],  # noqa: S607 - git from PATH, like a user's shell
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or None


def run_benchmark(args: argparse.Namespace) -> int:
    """`python -m scripts bench`: the sections asked for, their table printed and written."""
    started = time.monotonic()
    outcomes = run_sections(args.only or SECTIONS, args)
    print(table(outcomes))
    print(f"\nbenchmark took {time.monotonic() - started:.0f} s; figures in {args.out}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(args.out, json.dumps(document(outcomes, args), indent=2) + "\n")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    from scripts.command_line import old_spelling

    old_spelling("bench", sys.argv[1:])
